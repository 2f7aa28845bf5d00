//! socketioxide-redis's [`Driver`], speaking Redis's wire protocol (RESP2) to
//! the simulated [bus](crate::bus) over the simulated network. With it, a
//! node of a simulated cluster runs socketioxide-redis's own adapter
//! (`CustomRedisAdapter<_, BusDriver>`), the code a deployed cluster runs
//! with `RedisAdapter`; only the client library under it differs.
//!
//! Like a Redis client with health checks, the driver notices a connection
//! that stopped answering (a partition wedges simulated TCP, which never
//! retransmits) and connects anew, subscribing again to every channel.
//! Messages published meanwhile are lost to this node, as with Redis.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use redis_protocol::codec::Resp2;
use redis_protocol::resp2::types::BytesFrame as Frame;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Framed;
use turmoil::net::TcpStream;

use crate::bus::{BUS_HOST, BUS_PORT};

/// How long a connect or a command may take before the bus counts as gone.
const ANSWER_DEADLINE: Duration = Duration::from_secs(1);
/// How often the subscriber connection is checked with a `PING`; a check
/// unanswered by the next one ends the connection.
/// Short, so that a connection wedged by a partition is replaced while the
/// partition lasts, not long after it healed.
const HEALTH_CHECK_EVERY: Duration = Duration::from_millis(250);
/// How long to wait before connecting again after a failed connect.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);
/// Subscription requests waiting for the subscriber task.
const CONTROL_QUEUE: usize = 64;

type Connection = Framed<TcpStream, Resp2>;
type Channels = Arc<Mutex<BTreeMap<String, mpsc::Sender<ChanItem>>>>;

/// A cluster node's connection to the simulated bus: socketioxide-redis's
/// [`Driver`], and a shared counter ([`incr`](Self::incr), [`get`](Self::get)).
///
/// Build it inside a node's app factory (see
/// [`Simulation::cluster`](crate::Simulation::cluster)); it connects when
/// first used. Clones share its connections.
#[derive(Clone)]
pub struct BusDriver {
    inner: Arc<Inner>,
}

struct Inner {
    /// `PUBLISH`, `PUBSUB NUMSUB`, `INCR`, `GET`: one request at a time.
    commands: tokio::sync::Mutex<Option<Connection>>,
    /// The subscriber task's inbox, started with the first subscription.
    control: OnceLock<mpsc::Sender<Control>>,
    /// Every channel subscribed to, and where its messages go.
    channels: Channels,
    /// Whether a new subscriber connection subscribes to every channel
    /// again (see [`BusDriver::forgetting_subscriptions`]).
    resubscribes: bool,
}

impl std::fmt::Debug for BusDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channels: Vec<String> = lock(&self.inner.channels).keys().cloned().collect();
        f.debug_struct("BusDriver")
            .field("channels", &channels)
            .finish_non_exhaustive()
    }
}

/// Why the bus could not serve a request.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus is unreachable: {0}")]
    Unreachable(#[from] std::io::Error),
    #[error("the bus did not answer within {} ms", ANSWER_DEADLINE.as_millis())]
    NoAnswer,
    #[error("the bus refused the command: {0}")]
    Refused(String),
    #[error("the bus answered {0:?}, which this driver does not expect")]
    Unexpected(String),
    #[error("the bus's wire protocol was broken: {0}")]
    Protocol(String),
    #[error("the node's subscriber task has stopped")]
    Stopped,
}

impl From<redis_protocol::error::RedisProtocolError> for BusError {
    fn from(error: redis_protocol::error::RedisProtocolError) -> Self {
        BusError::Protocol(error.to_string())
    }
}

enum Control {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String),
}

impl Default for BusDriver {
    fn default() -> Self {
        Self::new()
    }
}

impl BusDriver {
    /// A driver for the simulated bus; it connects when first used.
    pub fn new() -> Self {
        Self::resubscribing(true)
    }

    /// A broken driver, for proving that a check catches it: once its
    /// subscriber connection is lost (the bus restarted, say), it connects
    /// again but subscribes to nothing, so its node no longer hears the
    /// other nodes, as a Redis client that does not restore its
    /// subscriptions.
    pub fn forgetting_subscriptions() -> Self {
        Self::resubscribing(false)
    }

    fn resubscribing(resubscribes: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                commands: tokio::sync::Mutex::new(None),
                control: OnceLock::new(),
                channels: Arc::default(),
                resubscribes,
            }),
        }
    }

    /// Redis `INCR key`: the value after adding one, the same for every node.
    pub async fn incr(&self, key: &str) -> Result<i64, BusError> {
        match self.request(&["INCR", key]).await? {
            Frame::Integer(value) => Ok(value),
            other => Err(unexpected(&other)),
        }
    }

    /// Redis `GET key`, read as an integer (0 if unset).
    pub async fn get(&self, key: &str) -> Result<i64, BusError> {
        match self.request(&["GET", key]).await? {
            Frame::Null => Ok(0),
            Frame::BulkString(value) => std::str::from_utf8(&value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| BusError::Unexpected(String::from_utf8_lossy(&value).into_owned())),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends one command on the command connection and reads its reply. A
    /// connection that failed or did not answer in time is dropped, so that a
    /// late reply can never be taken for the next command's.
    async fn request(&self, words: &[&str]) -> Result<Frame, BusError> {
        let words: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        self.request_words(words).await
    }

    async fn request_words(&self, words: Vec<Bytes>) -> Result<Frame, BusError> {
        let mut slot = self.inner.commands.lock().await;
        let exchange = async {
            if slot.is_none() {
                *slot = Some(connect().await?);
            }
            let connection = slot.as_mut().expect("connected above");
            connection.send(command(words)).await?;
            match connection.next().await {
                Some(Ok(Frame::Error(refused))) => Err(BusError::Refused(refused.to_string())),
                Some(Ok(reply)) => Ok(reply),
                Some(Err(error)) => Err(error.into()),
                None => Err(BusError::Unreachable(
                    std::io::ErrorKind::UnexpectedEof.into(),
                )),
            }
        };
        let result = tokio::time::timeout(ANSWER_DEADLINE, exchange)
            .await
            .unwrap_or(Err(BusError::NoAnswer));
        if result.is_err() && !matches!(result, Err(BusError::Refused(_))) {
            *slot = None;
        }
        result
    }

    fn control(&self) -> &mpsc::Sender<Control> {
        self.inner.control.get_or_init(|| {
            let (sender, inbox) = mpsc::channel(CONTROL_QUEUE);
            tokio::spawn(keep_subscribed(
                inbox,
                self.inner.channels.clone(),
                self.inner.resubscribes,
            ));
            sender
        })
    }
}

impl Driver for BusDriver {
    type Error = BusError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), BusError> {
        let words = vec![
            Bytes::from_static(b"PUBLISH"),
            Bytes::from(chan),
            Bytes::from(val),
        ];
        match self.request_words(words).await? {
            Frame::Integer(_) => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, BusError> {
        let (sender, receiver) = mpsc::channel(size.max(1));
        lock(&self.inner.channels).insert(chan.clone(), sender);
        let (confirmed, confirmation) = oneshot::channel();
        self.control()
            .send(Control::Subscribe(chan, confirmed))
            .await
            .map_err(|_| BusError::Stopped)?;
        match tokio::time::timeout(ANSWER_DEADLINE, confirmation).await {
            Ok(Ok(())) => Ok(MessageStream::new(receiver)),
            Ok(Err(_)) => Err(BusError::Stopped),
            Err(_) => Err(BusError::NoAnswer),
        }
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), BusError> {
        lock(&self.inner.channels).remove(&chan);
        self.control()
            .send(Control::Unsubscribe(chan))
            .await
            .map_err(|_| BusError::Stopped)
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, BusError> {
        match self.request(&["PUBSUB", "NUMSUB", chan]).await? {
            Frame::Array(reply) => match reply.as_slice() {
                [_, Frame::Integer(count)] => Ok(u16::try_from(*count).unwrap_or(u16::MAX)),
                _ => Err(BusError::Unexpected(format!("{reply:?}"))),
            },
            other => Err(unexpected(&other)),
        }
    }
}

/// The subscriber connection's life: connect, subscribe to every channel
/// known, route messages, check health; on any failure, again. Ends when
/// every driver clone is gone (or with the node's runtime).
async fn keep_subscribed(
    mut inbox: mpsc::Receiver<Control>,
    channels: Channels,
    resubscribes: bool,
) {
    let mut waiting: BTreeMap<String, Vec<oneshot::Sender<()>>> = BTreeMap::new();
    let mut lost_before = false;
    loop {
        let mut connection = match connect().await {
            Ok(connection) if lost_before => {
                tracing::info!("reached the bus again; subscribing anew");
                connection
            }
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(%error, "cannot reach the bus; trying again");
                tokio::time::sleep(RECONNECT_AFTER).await;
                continue;
            }
        };
        let known: Vec<Bytes> = lock(&channels)
            .keys()
            .map(|c| Bytes::from(c.clone()))
            .collect();
        if !known.is_empty() && (resubscribes || !lost_before) {
            let mut words = vec![Bytes::from_static(b"SUBSCRIBE")];
            words.extend(known);
            if connection.send(command(words)).await.is_err() {
                continue;
            }
        }
        match serve_subscriptions(&mut connection, &mut inbox, &channels, &mut waiting).await {
            Lost::Connection(why) => {
                tracing::warn!("lost the bus: {why}; connecting again");
                lost_before = true;
            }
            Lost::Everything => return,
        }
    }
}

/// How a subscriber connection ended.
enum Lost {
    Connection(&'static str),
    /// Every driver is gone: nothing to subscribe for.
    Everything,
}

async fn serve_subscriptions(
    connection: &mut Connection,
    inbox: &mut mpsc::Receiver<Control>,
    channels: &Channels,
    waiting: &mut BTreeMap<String, Vec<oneshot::Sender<()>>>,
) -> Lost {
    let mut health = tokio::time::interval(HEALTH_CHECK_EVERY);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    health.tick().await;
    let mut awaiting_pong = false;
    loop {
        tokio::select! {
            control = inbox.recv() => {
                let words = match control {
                    None => return Lost::Everything,
                    Some(Control::Subscribe(channel, confirmed)) => {
                        waiting.entry(channel.clone()).or_default().push(confirmed);
                        [Bytes::from_static(b"SUBSCRIBE"), Bytes::from(channel)]
                    }
                    Some(Control::Unsubscribe(channel)) => {
                        [Bytes::from_static(b"UNSUBSCRIBE"), Bytes::from(channel)]
                    }
                };
                if connection.send(command(words.into())).await.is_err() {
                    return Lost::Connection("a write failed");
                }
            }
            frame = connection.next() => match frame {
                Some(Ok(frame)) => {
                    if is_pong(&frame) {
                        awaiting_pong = false;
                    } else {
                        route(frame, channels, waiting);
                    }
                }
                Some(Err(_)) => return Lost::Connection("its protocol broke"),
                None => return Lost::Connection("it closed the connection"),
            },
            _ = health.tick() => {
                if awaiting_pong {
                    return Lost::Connection("a PING went unanswered");
                }
                awaiting_pong = true;
                if connection.send(command(vec![Bytes::from_static(b"PING")])).await.is_err() {
                    return Lost::Connection("a write failed");
                }
            }
        }
    }
}

/// Delivers a `message` push to its channel's stream, or completes the
/// subscriptions a `subscribe` reply confirms.
fn route(
    frame: Frame,
    channels: &Channels,
    waiting: &mut BTreeMap<String, Vec<oneshot::Sender<()>>>,
) {
    let Frame::Array(parts) = frame else {
        return;
    };
    match parts.as_slice() {
        [
            Frame::BulkString(kind),
            Frame::BulkString(channel),
            Frame::BulkString(payload),
        ] if kind.as_ref() == b"message" => {
            let channel = String::from_utf8_lossy(channel).into_owned();
            if let Some(stream) = lock(channels).get(&channel)
                && stream
                    .try_send((channel.clone(), payload.to_vec()))
                    .is_err()
            {
                tracing::warn!(channel, "a bus message was dropped: the adapter is behind");
            }
        }
        [Frame::BulkString(kind), Frame::BulkString(channel), _]
            if kind.as_ref() == b"subscribe" =>
        {
            let channel = String::from_utf8_lossy(channel);
            for confirmed in waiting.remove(channel.as_ref()).unwrap_or_default() {
                let _ = confirmed.send(());
            }
        }
        _ => {}
    }
}

fn is_pong(frame: &Frame) -> bool {
    match frame {
        Frame::SimpleString(text) => text.as_ref() == b"PONG",
        Frame::Array(parts) => {
            matches!(parts.first(), Some(Frame::BulkString(kind)) if kind.as_ref() == b"pong")
        }
        _ => false,
    }
}

async fn connect() -> Result<Connection, BusError> {
    match tokio::time::timeout(ANSWER_DEADLINE, TcpStream::connect((BUS_HOST, BUS_PORT))).await {
        Ok(Ok(stream)) => Ok(Framed::new(stream, Resp2::default())),
        Ok(Err(error)) => Err(error.into()),
        Err(_) => Err(BusError::NoAnswer),
    }
}

fn command(words: Vec<Bytes>) -> Frame {
    Frame::Array(words.into_iter().map(Frame::BulkString).collect())
}

fn unexpected(frame: &Frame) -> BusError {
    BusError::Unexpected(format!("{frame:?}"))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
