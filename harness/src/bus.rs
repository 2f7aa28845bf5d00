//! The Redis a simulated cluster's nodes share, on its own simulated host:
//! enough of Redis's wire protocol (RESP2) for pub/sub (`SUBSCRIBE`,
//! `UNSUBSCRIBE`, `PUBLISH`, `PUBSUB NUMSUB`, `PING`) and for a shared
//! counter (`INCR`, `GET`, `SET`). Every byte between a node and the bus
//! crosses the simulated network, so a partition, a hold or latency between
//! them strikes the cluster's own traffic.
//!
//! Pub/sub is at most once, as in Redis: a message reaches the subscribers
//! connected when it is published, and a subscriber that falls
//! [`SUBSCRIBER_QUEUE`] messages behind is disconnected (Redis's
//! `client-output-buffer-limit pubsub`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use redis_protocol::codec::Resp2;
use redis_protocol::resp2::types::BytesFrame as Frame;
use tokio::sync::{Notify, mpsc};
use tokio_util::codec::Framed;

/// The simulated host the bus runs on.
pub const BUS_HOST: &str = "bus";
/// The port it listens on (Redis's).
pub const BUS_PORT: u16 = 6379;
/// Frames queued for one connection before the bus drops it.
const SUBSCRIBER_QUEUE: usize = 1024;
/// Keys the bus holds at most; `INCR` or `SET` of one more is refused.
const MAX_KEYS: usize = 10_000;
/// Channels one connection may subscribe to at most.
const MAX_SUBSCRIPTIONS: usize = 1024;

/// Serves the bus on this simulated host until its runtime stops.
pub(crate) async fn serve() -> std::io::Result<()> {
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", BUS_PORT)).await?;
    let bus = Rc::new(RefCell::new(Bus::default()));
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        next_id += 1;
        tokio::task::spawn_local(serve_connection(stream, next_id, bus.clone()));
    }
}

/// The bus's state: who listens to what, and the keys.
#[derive(Default)]
struct Bus {
    /// Channel → the connections subscribed to it.
    subscribers: BTreeMap<Bytes, BTreeSet<u64>>,
    connections: BTreeMap<u64, Rc<Connection>>,
    keys: BTreeMap<Bytes, Bytes>,
}

/// One client connection's outbound queue.
struct Connection {
    outbox: mpsc::Sender<Frame>,
    /// Told when the bus drops the connection.
    dropped: Notify,
    channels: RefCell<BTreeSet<Bytes>>,
}

impl Connection {
    /// Queues `frame`; a connection too far behind is dropped.
    fn send(&self, frame: Frame) -> bool {
        let sent = self.outbox.try_send(frame).is_ok();
        if !sent {
            self.dropped.notify_one();
        }
        sent
    }
}

async fn serve_connection(stream: turmoil::net::TcpStream, id: u64, bus: Rc<RefCell<Bus>>) {
    let (mut sink, mut frames) = Framed::new(stream, Resp2::default()).split();
    let (outbox, mut queued) = mpsc::channel(SUBSCRIBER_QUEUE);
    let connection = Rc::new(Connection {
        outbox,
        dropped: Notify::new(),
        channels: RefCell::default(),
    });
    bus.borrow_mut().connections.insert(id, connection.clone());
    let writer = async {
        while let Some(frame) = queued.recv().await {
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    };
    let reader = async {
        while let Some(Ok(frame)) = frames.next().await {
            let reply = bus.borrow_mut().execute(id, &connection, frame);
            for frame in reply {
                if !connection.send(frame) {
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
        () = connection.dropped.notified() => {}
    }
    bus.borrow_mut().forget(id, &connection);
}

impl Bus {
    /// Runs one command; its replies, in order.
    fn execute(&mut self, id: u64, connection: &Connection, frame: Frame) -> Vec<Frame> {
        let Some(words) = command_words(frame) else {
            return vec![error("Protocol error: expected an array of bulk strings")];
        };
        let Some((name, args)) = words.split_first() else {
            return vec![error("empty command")];
        };
        let name = String::from_utf8_lossy(name).to_ascii_uppercase();
        let subscribed = !connection.channels.borrow().is_empty();
        match (name.as_str(), args) {
            ("PING", _) if subscribed => vec![array([bulk("pong"), bulk_of(args.first())])],
            ("PING", []) => vec![Frame::SimpleString(Bytes::from_static(b"PONG"))],
            ("PING", [message]) => vec![Frame::BulkString(message.clone())],
            ("SUBSCRIBE", [_, ..]) => self.subscribe(id, connection, args),
            ("UNSUBSCRIBE", _) => self.unsubscribe(id, connection, args),
            (_, _) if subscribed => vec![error(&format!(
                "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                name.to_ascii_lowercase()
            ))],
            ("PUBLISH", [channel, message]) => vec![self.publish(channel, message)],
            ("PUBSUB", [sub, channels @ ..]) if sub.eq_ignore_ascii_case(b"NUMSUB") => {
                vec![self.numsub(channels)]
            }
            ("INCR", [key]) => vec![self.incr(key)],
            ("GET", [key]) => vec![
                self.keys
                    .get(key)
                    .cloned()
                    .map_or(Frame::Null, Frame::BulkString),
            ],
            ("SET", [key, value]) => vec![self.set(key, value.clone())],
            _ => vec![error(&format!(
                "unknown command or wrong number of arguments for '{}'",
                name.to_ascii_lowercase()
            ))],
        }
    }

    fn subscribe(&mut self, id: u64, connection: &Connection, channels: &[Bytes]) -> Vec<Frame> {
        let mut replies = Vec::with_capacity(channels.len());
        for channel in channels {
            let mut mine = connection.channels.borrow_mut();
            if mine.len() >= MAX_SUBSCRIPTIONS && !mine.contains(channel) {
                replies.push(error("too many subscriptions on one connection"));
                continue;
            }
            mine.insert(channel.clone());
            self.subscribers
                .entry(channel.clone())
                .or_default()
                .insert(id);
            replies.push(array([
                bulk("subscribe"),
                Frame::BulkString(channel.clone()),
                count(mine.len()),
            ]));
        }
        replies
    }

    fn unsubscribe(&mut self, id: u64, connection: &Connection, channels: &[Bytes]) -> Vec<Frame> {
        let channels: Vec<Bytes> = if channels.is_empty() {
            connection.channels.borrow().iter().cloned().collect()
        } else {
            channels.to_vec()
        };
        if channels.is_empty() {
            return vec![array([bulk("unsubscribe"), Frame::Null, count(0)])];
        }
        let mut replies = Vec::with_capacity(channels.len());
        for channel in channels {
            connection.channels.borrow_mut().remove(&channel);
            self.leave(id, &channel);
            replies.push(array([
                bulk("unsubscribe"),
                Frame::BulkString(channel),
                count(connection.channels.borrow().len()),
            ]));
        }
        replies
    }

    /// Sends `message` to the channel's subscribers; how many got it.
    fn publish(&mut self, channel: &Bytes, message: &Bytes) -> Frame {
        let ids: Vec<u64> = self
            .subscribers
            .get(channel)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default();
        let mut reached = 0;
        for id in ids {
            let Some(subscriber) = self.connections.get(&id) else {
                continue;
            };
            let pushed = array([
                bulk("message"),
                Frame::BulkString(channel.clone()),
                Frame::BulkString(message.clone()),
            ]);
            if subscriber.send(pushed) {
                reached += 1;
            }
        }
        count(reached)
    }

    fn numsub(&self, channels: &[Bytes]) -> Frame {
        let mut reply = Vec::with_capacity(channels.len() * 2);
        for channel in channels {
            let listening = self.subscribers.get(channel).map_or(0, BTreeSet::len);
            reply.push(Frame::BulkString(channel.clone()));
            reply.push(count(listening));
        }
        Frame::Array(reply)
    }

    fn incr(&mut self, key: &Bytes) -> Frame {
        let current = match self.keys.get(key) {
            None => 0,
            Some(value) => match std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
            {
                Some(number) => number,
                None => return error("value is not an integer or out of range"),
            },
        };
        let Some(next) = current.checked_add(1) else {
            return error("increment or decrement would overflow");
        };
        match self.set(key, Bytes::from(next.to_string())) {
            Frame::Error(refused) => Frame::Error(refused),
            _ => Frame::Integer(next),
        }
    }

    fn set(&mut self, key: &Bytes, value: Bytes) -> Frame {
        if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(key) {
            return error_frame("OOM the bus holds at most 10000 keys");
        }
        self.keys.insert(key.clone(), value);
        Frame::SimpleString(Bytes::from_static(b"OK"))
    }

    /// Forgets a closed connection and its subscriptions.
    fn forget(&mut self, id: u64, connection: &Connection) {
        let channels = std::mem::take(&mut *connection.channels.borrow_mut());
        for channel in channels {
            self.leave(id, &channel);
        }
        self.connections.remove(&id);
    }

    fn leave(&mut self, id: u64, channel: &Bytes) {
        if let Some(ids) = self.subscribers.get_mut(channel) {
            ids.remove(&id);
            if ids.is_empty() {
                self.subscribers.remove(channel);
            }
        }
    }
}

/// A command's words, if `frame` is an array of bulk strings.
fn command_words(frame: Frame) -> Option<Vec<Bytes>> {
    let Frame::Array(frames) = frame else {
        return None;
    };
    frames
        .into_iter()
        .map(|frame| match frame {
            Frame::BulkString(word) => Some(word),
            _ => None,
        })
        .collect()
}

fn array<const N: usize>(frames: [Frame; N]) -> Frame {
    Frame::Array(frames.into())
}

fn bulk(text: &'static str) -> Frame {
    Frame::BulkString(Bytes::from_static(text.as_bytes()))
}

fn bulk_of(word: Option<&Bytes>) -> Frame {
    Frame::BulkString(word.cloned().unwrap_or_default())
}

fn count(n: usize) -> Frame {
    Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn error(message: &str) -> Frame {
    error_frame(&format!("ERR {message}"))
}

fn error_frame(message: &str) -> Frame {
    Frame::Error(message.into())
}
