//! One Engine.IO session: the handshake over the chosen transport, the
//! upgrade, and a driver task that answers pings, watches the heartbeat,
//! records every packet and hands Socket.IO packets to the script.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::ClientError;
use super::connector::{Connector, Stream};
use super::http::HttpConnection;
use crate::codec::{
    BinaryAssembler, EioPacket, Handshake, ProtocolViolation, SioPacket, SioPacketKind,
    decode_polling_payload, encode_polling_payload,
};
use crate::scenario::Transport;
use crate::trace::{EventKind, Recorder, binary_text};

/// Where the server is and how its Socket.IO endpoint is mounted.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub connector: Connector,
    /// The Socket.IO path, `/socket.io` by default.
    pub path: String,
    pub limits: SessionLimits,
}

/// Bounds that keep a hostile or silent server from hanging or flooding us.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Longest wait for a handshake answer or an upgrade step.
    pub handshake_timeout: Duration,
    /// Largest WebSocket message or polling body accepted.
    pub max_message_bytes: usize,
    /// Unconsumed Socket.IO packets kept for the script; the oldest goes first.
    pub inbox_capacity: usize,
    /// Wire bytes of unconsumed packets kept; past it the oldest goes first,
    /// so a server flooding large events cannot fill memory.
    pub inbox_bytes: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            max_message_bytes: 4 << 20,
            inbox_capacity: 4096,
            inbox_bytes: 64 << 20,
        }
    }
}

/// What a transport reader hands the driver.
#[derive(Debug)]
enum WireEvent {
    Packet(EioPacket),
    Violation(ProtocolViolation),
    Closed(String),
}

/// What the script asks the driver to do.
#[derive(Debug)]
enum Command {
    Send(EioPacket),
    Close,
    Abort,
    /// Stop (false) or resume (true) reading the transport.
    Read(bool),
}

/// The state the driver and the script share. Single-threaded by design.
#[derive(Debug)]
struct Shared {
    actor: String,
    recorder: Recorder,
    origin: Instant,
    inbox: RefCell<VecDeque<Queued>>,
    inbox_capacity: usize,
    inbox_bytes_limit: usize,
    /// Wire bytes of the packets in `inbox`.
    inbox_bytes: Cell<usize>,
    /// Packets dropped from a full inbox so far.
    inbox_dropped: Cell<u64>,
    closed: RefCell<Option<String>>,
    violations: RefCell<Vec<ProtocolViolation>>,
    changed: Notify,
    answer_pings: Cell<bool>,
}

impl Shared {
    fn now(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_else(|| self.origin.elapsed())
    }

    fn record(&self, kind: EventKind, text: impl Into<String>) {
        self.recorder.record(self.now(), &self.actor, kind, text);
    }

    fn violation(&self, mut violation: ProtocolViolation) {
        let mut violations = self.violations.borrow_mut();
        if violations.len() >= MAX_VIOLATIONS_KEPT {
            return;
        }
        self.record(EventKind::Violation, violation.to_string());
        violation.bytes.truncate(MAX_VIOLATION_BYTES_KEPT);
        violations.push(violation);
        if violations.len() == MAX_VIOLATIONS_KEPT {
            self.record(
                EventKind::Violation,
                format!("{MAX_VIOLATIONS_KEPT} violations: later ones are not kept"),
            );
        }
    }

    fn close(&self, reason: String) {
        if self.closed.borrow().is_none() {
            self.record(EventKind::Session, format!("closed: {reason}"));
            *self.closed.borrow_mut() = Some(reason);
            self.changed.notify_waiters();
        }
    }

    fn deliver(&self, packet: SioPacket, wire_bytes: usize) {
        let mut inbox = self.inbox.borrow_mut();
        while !inbox.is_empty()
            && (inbox.len() >= self.inbox_capacity
                || self.inbox_bytes.get() + wire_bytes > self.inbox_bytes_limit)
        {
            if let Some(oldest) = inbox.pop_front() {
                self.inbox_bytes
                    .set(self.inbox_bytes.get() - oldest.wire_bytes);
            }
            drop(inbox);
            let dropped = self.inbox_dropped.get() + 1;
            self.inbox_dropped.set(dropped);
            // A flood drops a packet per packet: say so at 1, 2, 4, 8, …
            if dropped.is_power_of_two() {
                self.record(
                    EventKind::Fail,
                    format!(
                        "inbox full ({} packets or {} bytes): {dropped} oldest unconsumed packet(s) dropped so far",
                        self.inbox_capacity, self.inbox_bytes_limit
                    ),
                );
            }
            inbox = self.inbox.borrow_mut();
        }
        self.inbox_bytes.set(self.inbox_bytes.get() + wire_bytes);
        inbox.push_back(Queued { packet, wire_bytes });
        drop(inbox);
        self.changed.notify_waiters();
    }

    /// Removes the first inbox packet `matches` accepts.
    fn take_first(&self, mut matches: impl FnMut(&SioPacket) -> bool) -> Option<SioPacket> {
        let mut inbox = self.inbox.borrow_mut();
        let index = inbox.iter().position(|q| matches(&q.packet))?;
        let queued = inbox.remove(index)?;
        self.inbox_bytes
            .set(self.inbox_bytes.get() - queued.wire_bytes);
        Some(queued.packet)
    }
}

/// An unconsumed packet and the wire bytes it arrived in.
#[derive(Debug)]
struct Queued {
    packet: SioPacket,
    wire_bytes: usize,
}

/// Violations kept per session: a server repeating one forever must not
/// fill memory.
const MAX_VIOLATIONS_KEPT: usize = 256;

/// The offending bytes kept per violation.
const MAX_VIOLATION_BYTES_KEPT: usize = 4096;

/// Characters of a packet shown in a trace line: a server's 1 MiB messages
/// would otherwise make a trace of hundreds of MB.
const MAX_TRACE_TEXT: usize = 2000;

/// An open Engine.IO session, as the script sees it.
#[derive(Debug)]
pub struct Session {
    alias: String,
    handshake: Handshake,
    shared: Rc<Shared>,
    commands: mpsc::Sender<Command>,
    driver: JoinHandle<()>,
}

fn describe(packet: &EioPacket) -> String {
    match packet {
        EioPacket::Binary(bytes) => binary_text(bytes),
        other => cut_for_trace(other.encode_text().unwrap_or_default()),
    }
}

/// `text`, or its first [`MAX_TRACE_TEXT`] characters and how long it was.
fn cut_for_trace(text: String) -> String {
    cut_to(text, MAX_TRACE_TEXT)
}

/// `text`, or its first `max` characters and how long it was.
fn cut_to(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}… ({} bytes in all)", &text[..end], text.len()),
        None => text,
    }
}

fn engine_query(path: &str, transport: &str, sid: Option<&str>) -> String {
    let path = path.trim_end_matches('/');
    match sid {
        Some(sid) => format!("{path}/?EIO=4&transport={transport}&sid={sid}"),
        None => format!("{path}/?EIO=4&transport={transport}"),
    }
}

impl Session {
    /// Opens a session: handshake over `transport` (and the upgrade, for
    /// [`Transport::Upgrade`]). `alias` names it in the trace (`alice#1`).
    pub async fn open(
        endpoint: &Endpoint,
        transport: Transport,
        alias: &str,
        recorder: &Recorder,
        origin: Instant,
    ) -> Result<Session, ClientError> {
        let shared = Rc::new(Shared {
            actor: alias.to_owned(),
            recorder: recorder.clone(),
            origin,
            inbox: RefCell::new(VecDeque::new()),
            inbox_capacity: endpoint.limits.inbox_capacity,
            inbox_bytes_limit: endpoint.limits.inbox_bytes,
            inbox_bytes: Cell::new(0),
            inbox_dropped: Cell::new(0),
            closed: RefCell::new(None),
            violations: RefCell::new(Vec::new()),
            changed: Notify::new(),
            answer_pings: Cell::new(true),
        });
        shared.record(EventKind::Session, format!("open {}", transport.name()));
        let limit = endpoint.limits.handshake_timeout;
        let opened = tokio::time::timeout(limit, handshake(endpoint, transport, &shared)).await;
        let (handshake, wire, incoming, readers) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(error)) => {
                shared.close(error.to_string());
                return Err(error);
            }
            Err(_) => {
                let error = ClientError::Timeout(limit.as_millis() as u64, "handshake".into());
                shared.close(error.to_string());
                return Err(error);
            }
        };
        recorder.alias(shared.now(), &handshake.sid, &format!("{alias}.eio"));
        let (commands, command_rx) = mpsc::channel(256);
        let driver = tokio::task::spawn_local(drive(
            shared.clone(),
            handshake.clone(),
            wire,
            incoming,
            readers,
            command_rx,
        ));
        Ok(Session {
            alias: alias.to_owned(),
            handshake,
            shared,
            commands,
            driver,
        })
    }

    pub fn alias(&self) -> &str {
        &self.alias
    }

    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// How long the server may stay silent on this session: the ping
    /// interval plus the ping timeout its handshake announced (at most a day).
    pub fn heartbeat(&self) -> Duration {
        heartbeat(&self.handshake)
    }

    /// Why the session ended, once it has.
    pub fn closed_reason(&self) -> Option<String> {
        self.shared.closed.borrow().clone()
    }

    /// Protocol violations the server committed on this session so far.
    pub fn violations(&self) -> Vec<ProtocolViolation> {
        self.shared.violations.borrow().clone()
    }

    pub fn set_answer_pings(&self, answer: bool) {
        self.shared.answer_pings.set(answer);
    }

    pub fn record(&self, kind: EventKind, text: impl Into<String>) {
        self.shared.record(kind, text);
    }

    /// Sends a Socket.IO packet (and its binary attachments).
    pub async fn send_sio(&self, packet: &SioPacket) -> Result<(), ClientError> {
        let (text, attachments) = packet.encode();
        self.send(EioPacket::Message(text)).await?;
        for attachment in attachments {
            self.send(EioPacket::Binary(attachment)).await?;
        }
        Ok(())
    }

    pub async fn send(&self, packet: EioPacket) -> Result<(), ClientError> {
        self.commands
            .send(Command::Send(packet))
            .await
            .map_err(|_| {
                ClientError::Closed(self.closed_reason().unwrap_or_else(|| "driver gone".into()))
            })
    }

    /// Closes cleanly with an Engine.IO close packet.
    pub async fn close(&self) {
        let _ = self.commands.send(Command::Close).await;
    }

    /// Drops the transport with no close packet.
    pub async fn abort(&self) {
        let _ = self.commands.send(Command::Abort).await;
    }

    /// Stops (`false`) or resumes (`true`) reading the transport, as a hung
    /// client would: what the server sends waits in the socket buffers and
    /// the transport readers' bounded queue, then backs up on the server.
    /// Pings go unanswered (they are not read) and the client's own
    /// heartbeat watchdog is off until reading resumes.
    pub async fn set_reading(&self, reading: bool) {
        let _ = self.commands.send(Command::Read(reading)).await;
    }

    /// Removes and returns the first inbox packet `matches` accepts, waiting
    /// up to `within` for one to arrive. `Err` carries why it gave up.
    pub async fn take(
        &self,
        within: Duration,
        mut matches: impl FnMut(&SioPacket) -> bool,
    ) -> Result<SioPacket, String> {
        let deadline = deadline_after(within);
        loop {
            let changed = self.shared.changed.notified();
            if let Some(packet) = self.shared.take_first(&mut matches) {
                return Ok(packet);
            }
            if let Some(reason) = self.closed_reason() {
                return Err(format!("session closed ({reason})"));
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(format!("nothing within {} ms", within.as_millis()));
            }
        }
    }

    /// Whether an unconsumed inbox packet matches, without taking it.
    pub fn peek(&self, mut matches: impl FnMut(&SioPacket) -> bool) -> Option<SioPacket> {
        self.shared
            .inbox
            .borrow()
            .iter()
            .map(|q| &q.packet)
            .find(|p| matches(p))
            .cloned()
    }

    /// A short listing of the unconsumed inbox, for failure messages.
    pub fn inbox_summary(&self, max: usize) -> String {
        let inbox = self.shared.inbox.borrow();
        // Each packet cut short: a flood of 1 MiB events must not make a
        // failure message of megabytes.
        let mut shown: Vec<String> = inbox
            .iter()
            .take(max)
            .map(|q| cut_to(q.packet.encode().0, 120))
            .collect();
        if inbox.len() > max {
            shown.push(format!("… {} more", inbox.len() - max));
        }
        format!("[{}]", shown.join(", "))
    }

    /// Waits up to `within` for the server to end `namespace` (a DISCONNECT
    /// packet) or the whole session; returns how it ended.
    pub async fn wait_disconnected(&self, namespace: &str, within: Duration) -> Option<String> {
        let deadline = deadline_after(within);
        loop {
            let changed = self.shared.changed.notified();
            let disconnect = self
                .shared
                .take_first(|p| p.kind == SioPacketKind::Disconnect && p.namespace == namespace);
            if disconnect.is_some() {
                return Some(format!("the server disconnected {namespace}"));
            }
            if let Some(reason) = self.closed_reason() {
                return Some(reason);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }

    /// Waits up to `within` for the session to end.
    pub async fn wait_closed(&self, within: Duration) -> Option<String> {
        let deadline = deadline_after(within);
        loop {
            let changed = self.shared.changed.notified();
            if let Some(reason) = self.closed_reason() {
                return Some(reason);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The writing half of whichever transport carries the session now.
enum Wire {
    WebSocket(futures_util::stream::SplitSink<WebSocketStream<Stream>, Message>),
    Polling {
        connection: HttpConnection,
        uri: String,
        body_limit: usize,
        /// A POST over a wedged link never completes: bound it by the
        /// heartbeat, like everything else the driver waits on.
        answer_timeout: Duration,
    },
}

impl Wire {
    async fn send(&mut self, packet: &EioPacket) -> Result<(), ClientError> {
        match self {
            Wire::WebSocket(sink) => {
                let message = match packet {
                    EioPacket::Binary(bytes) => Message::Binary(bytes.clone()),
                    other => Message::Text(other.encode_text().unwrap_or_default().into()),
                };
                sink.send(message)
                    .await
                    .map_err(|e| ClientError::WebSocket(e.to_string()))
            }
            Wire::Polling {
                connection,
                uri,
                body_limit,
                answer_timeout,
            } => {
                let body = encode_polling_payload(std::slice::from_ref(packet));
                let post = connection.request(
                    "POST",
                    uri,
                    Some("text/plain;charset=UTF-8"),
                    Bytes::from(body),
                    *body_limit,
                );
                let response =
                    tokio::time::timeout(*answer_timeout, post)
                        .await
                        .map_err(|_| {
                            ClientError::Timeout(answer_timeout.as_millis() as u64, "POST".into())
                        })??;
                if response.status == 200 {
                    Ok(())
                } else {
                    Err(ClientError::Http(format!(
                        "POST answered {}: {}",
                        response.status,
                        response.body_text()
                    )))
                }
            }
        }
    }

    async fn shutdown(&mut self) {
        if let Wire::WebSocket(sink) = self {
            let _ = sink.close().await;
        }
    }
}

type Opened = (
    Handshake,
    Wire,
    mpsc::Receiver<WireEvent>,
    Vec<JoinHandle<()>>,
);

async fn handshake(
    endpoint: &Endpoint,
    transport: Transport,
    shared: &Rc<Shared>,
) -> Result<Opened, ClientError> {
    let (events, incoming) = mpsc::channel(256);
    match transport {
        Transport::Websocket => {
            let mut ws = open_websocket(endpoint, None).await?;
            let handshake = read_open_over_websocket(&mut ws, shared).await?;
            let (sink, stream) = ws.split();
            let reader = tokio::task::spawn_local(read_websocket(stream, events, shared.clone()));
            Ok((handshake, Wire::WebSocket(sink), incoming, vec![reader]))
        }
        Transport::Polling | Transport::Upgrade => {
            let limit = endpoint.limits.max_message_bytes;
            let mut poll_connection = HttpConnection::open(&endpoint.connector).await?;
            let open_uri = engine_query(&endpoint.path, "polling", None);
            let response = poll_connection
                .request("GET", &open_uri, None, Bytes::new(), limit)
                .await?;
            if response.status != 200 {
                return Err(ClientError::Http(format!(
                    "handshake answered {}: {}",
                    response.status,
                    response.body_text()
                )));
            }
            let mut packets = decode_polling_payload(&response.body_text())?.into_iter();
            let handshake = expect_open(packets.next(), shared, &response.body)?;
            for packet in packets {
                shared.record(EventKind::Recv, describe(&packet));
                events.send(WireEvent::Packet(packet)).await.ok();
            }
            let uri = engine_query(&endpoint.path, "polling", Some(&handshake.sid));
            let upgrading = Rc::new(Cell::new(false));
            let poller = tokio::task::spawn_local(poll(
                poll_connection,
                uri.clone(),
                limit,
                events.clone(),
                upgrading.clone(),
                shared.clone(),
            ));
            let post_connection = HttpConnection::open(&endpoint.connector).await?;
            let answer_timeout = heartbeat(&handshake);
            let wire = Wire::Polling {
                connection: post_connection,
                uri,
                body_limit: limit,
                answer_timeout,
            };
            if transport == Transport::Polling {
                return Ok((handshake, wire, incoming, vec![poller]));
            }
            let (wire, reader) =
                upgrade(endpoint, &handshake, shared, poller, upgrading, events).await?;
            Ok((handshake, wire, incoming, vec![reader]))
        }
    }
}

async fn open_websocket(
    endpoint: &Endpoint,
    sid: Option<&str>,
) -> Result<WebSocketStream<Stream>, ClientError> {
    let stream = endpoint
        .connector
        .connect()
        .await
        .map_err(|e| ClientError::Connect(e.to_string()))?;
    let url = format!(
        "ws://{}{}",
        endpoint.connector.authority(),
        engine_query(&endpoint.path, "websocket", sid)
    );
    // A 4 KiB read buffer instead of tungstenite's 128 KiB default: the
    // default is zeroed on every read and cost a third of a simulation's time.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(endpoint.limits.max_message_bytes))
        .max_frame_size(Some(endpoint.limits.max_message_bytes));
    let request = endpoint
        .connector
        .websocket_request(&url)
        .map_err(ClientError::WebSocket)?;
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| ClientError::WebSocket(e.to_string()))?;
    Ok(ws)
}

fn expect_open(
    first: Option<EioPacket>,
    shared: &Shared,
    raw: &[u8],
) -> Result<Handshake, ClientError> {
    match first {
        Some(EioPacket::Open(handshake)) => {
            shared.record(
                EventKind::Recv,
                describe(&EioPacket::Open(handshake.clone())),
            );
            Ok(handshake)
        }
        _ => {
            let violation = ProtocolViolation {
                bytes: raw.to_vec(),
                reason: "the first packet is not an open packet".into(),
            };
            shared.violation(violation.clone());
            Err(ClientError::Violation(violation))
        }
    }
}

async fn read_open_over_websocket(
    ws: &mut WebSocketStream<Stream>,
    shared: &Shared,
) -> Result<Handshake, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let packet = EioPacket::decode_text(&text);
                return match packet {
                    Ok(packet) => expect_open(Some(packet), shared, text.as_bytes()),
                    Err(violation) => {
                        shared.violation(violation.clone());
                        Err(ClientError::Violation(violation))
                    }
                };
            }
            Some(Ok(Message::Binary(bytes))) => return expect_open(None, shared, &bytes),
            Some(Ok(Message::Close(frame))) => {
                return Err(ClientError::Closed(format!(
                    "websocket closed in handshake: {frame:?}"
                )));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ClientError::WebSocket(e.to_string())),
            None => return Err(ClientError::Closed("connection closed in handshake".into())),
        }
    }
}

/// Forwards what arrives on the WebSocket, recording each packet as it
/// arrives (so the trace keeps the wire's order across transports).
async fn read_websocket(
    mut stream: futures_util::stream::SplitStream<WebSocketStream<Stream>>,
    events: mpsc::Sender<WireEvent>,
    shared: Rc<Shared>,
) {
    loop {
        let event = match stream.next().await {
            Some(Ok(Message::Text(text))) => match EioPacket::decode_text(&text) {
                Ok(packet) => WireEvent::Packet(packet),
                Err(violation) => WireEvent::Violation(violation),
            },
            Some(Ok(Message::Binary(bytes))) => {
                WireEvent::Packet(EioPacket::decode_binary_frame(&bytes))
            }
            Some(Ok(Message::Close(frame))) => {
                let reason = frame.map_or_else(
                    || "websocket close frame".into(),
                    |f| format!("websocket close frame {} {}", f.code, f.reason),
                );
                let _ = events.send(WireEvent::Closed(reason)).await;
                return;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                let _ = events
                    .send(WireEvent::Closed(format!("websocket error: {e}")))
                    .await;
                return;
            }
            None => {
                let _ = events
                    .send(WireEvent::Closed("transport closed by the server".into()))
                    .await;
                return;
            }
        };
        if let WireEvent::Packet(packet) = &event {
            shared.record(EventKind::Recv, describe(packet));
        }
        if events.send(event).await.is_err() {
            return;
        }
    }
}

/// The long-polling GET loop. During an upgrade the server ends the pending
/// GET with a noop; that is this loop's cue to stop.
async fn poll(
    mut connection: HttpConnection,
    uri: String,
    body_limit: usize,
    events: mpsc::Sender<WireEvent>,
    upgrading: Rc<Cell<bool>>,
    shared: Rc<Shared>,
) {
    loop {
        let response = match connection
            .request("GET", &uri, None, Bytes::new(), body_limit)
            .await
        {
            Ok(response) => response,
            Err(error) => {
                let _ = events
                    .send(WireEvent::Closed(format!("poll failed: {error}")))
                    .await;
                return;
            }
        };
        if response.status != 200 {
            let reason = format!(
                "poll answered {}: {}",
                response.status,
                response.body_text()
            );
            let _ = events.send(WireEvent::Closed(reason)).await;
            return;
        }
        let packets = match decode_polling_payload(&response.body_text()) {
            Ok(packets) => packets,
            Err(violation) => {
                let _ = events.send(WireEvent::Violation(violation)).await;
                let _ = events
                    .send(WireEvent::Closed("undecodable polling payload".into()))
                    .await;
                return;
            }
        };
        let mut saw_noop = false;
        for packet in packets {
            saw_noop |= packet == EioPacket::Noop;
            let is_close = packet == EioPacket::Close;
            shared.record(EventKind::Recv, describe(&packet));
            if events.send(WireEvent::Packet(packet)).await.is_err() || is_close {
                return;
            }
        }
        if saw_noop && upgrading.get() {
            return;
        }
    }
}

/// Polling to WebSocket: probe, let the server end the pending poll, then
/// commit with the upgrade packet. Nothing may be lost or reordered.
async fn upgrade(
    endpoint: &Endpoint,
    handshake: &Handshake,
    shared: &Rc<Shared>,
    poller: JoinHandle<()>,
    upgrading: Rc<Cell<bool>>,
    events: mpsc::Sender<WireEvent>,
) -> Result<(Wire, JoinHandle<()>), ClientError> {
    if !handshake.upgrades.iter().any(|u| u == "websocket") {
        return Err(ClientError::Closed(format!(
            "server offers no websocket upgrade: {:?}",
            handshake.upgrades
        )));
    }
    upgrading.set(true);
    let ws = open_websocket(endpoint, Some(&handshake.sid)).await?;
    let (mut sink, mut stream) = ws.split();
    shared.record(EventKind::Send, "2probe");
    sink.send(Message::Text("2probe".into()))
        .await
        .map_err(|e| ClientError::WebSocket(e.to_string()))?;
    match stream.next().await {
        Some(Ok(Message::Text(text))) if text.as_str() == "3probe" => {
            shared.record(EventKind::Recv, "3probe")
        }
        other => {
            let violation = ProtocolViolation {
                bytes: format!("{other:?}").into_bytes(),
                reason: "expected 3probe in answer to 2probe".into(),
            };
            shared.violation(violation.clone());
            return Err(ClientError::Violation(violation));
        }
    }
    // The server must end the pending poll with a noop; give it the handshake
    // bound, then proceed without it (and say so).
    let mut poller = poller;
    if tokio::time::timeout(endpoint.limits.handshake_timeout, &mut poller)
        .await
        .is_err()
    {
        poller.abort();
        shared.violation(ProtocolViolation {
            bytes: Vec::new(),
            reason: "the pending poll was not ended with a noop during the upgrade".into(),
        });
    }
    shared.record(EventKind::Send, "5");
    sink.send(Message::Text("5".into()))
        .await
        .map_err(|e| ClientError::WebSocket(e.to_string()))?;
    shared.record(EventKind::Session, "upgraded to websocket");
    let reader = tokio::task::spawn_local(read_websocket(stream, events, shared.clone()));
    Ok((Wire::WebSocket(sink), reader))
}

/// `within` from now; a `within` too long for the clock (a hostile server's
/// timings added to a wait) is the far future instead of a panic.
pub fn deadline_after(within: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(within)
        .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 24 * 60 * 60))
}

/// The longest heartbeat honoured: a server may announce timings up to
/// u64::MAX ms, which no deadline can be built on.
const MAX_HEARTBEAT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the server may stay silent: its ping interval plus its ping
/// timeout, at most [`MAX_HEARTBEAT`].
fn heartbeat(handshake: &Handshake) -> Duration {
    let millis = handshake
        .ping_interval_ms
        .saturating_add(handshake.ping_timeout_ms);
    Duration::from_millis(millis).min(MAX_HEARTBEAT)
}

/// The session's life after the handshake.
async fn drive(
    shared: Rc<Shared>,
    handshake: Handshake,
    mut wire: Wire,
    mut incoming: mpsc::Receiver<WireEvent>,
    readers: Vec<JoinHandle<()>>,
    mut commands: mpsc::Receiver<Command>,
) {
    // The server pings every interval and expects a pong within the timeout;
    // silence for both together means the connection is gone. turmoil's TCP
    // never retransmits, so without this watchdog a wedged link hangs forever.
    // Dropping the session cancels this future: the readers must go with it,
    // or one parked on a silent socket keeps the session's inbox forever.
    let readers = AbortOnDrop(readers);
    let heartbeat = heartbeat(&handshake);
    let mut last_heard = Instant::now();
    let mut reading = true;
    let mut assembler = BinaryAssembler::new();
    // Wire bytes of the packet being assembled (its text and attachments).
    let mut assembling_bytes = 0usize;
    let reason = loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Command::Send(packet)) => {
                    shared.record(EventKind::Send, describe(&packet));
                    if let Err(error) = wire.send(&packet).await {
                        break format!("send failed: {error}");
                    }
                }
                Some(Command::Close) => {
                    let close = EioPacket::Close;
                    shared.record(EventKind::Send, describe(&close));
                    let _ = wire.send(&close).await;
                    wire.shutdown().await;
                    break "closed by the client".to_owned();
                }
                Some(Command::Abort) | None => break "dropped by the client".to_owned(),
                Some(Command::Read(resume)) => {
                    reading = resume;
                    last_heard = Instant::now();
                    shared.record(EventKind::Session, if resume { "reads again" } else { "stops reading" });
                }
            },
            event = incoming.recv(), if reading => match event {
                Some(WireEvent::Packet(packet)) => {
                    last_heard = Instant::now();
                    if let Some(reason) = handle_packet(&shared, &mut wire, &mut assembler, &mut assembling_bytes, packet).await {
                        break reason;
                    }
                }
                Some(WireEvent::Violation(violation)) => shared.violation(violation),
                Some(WireEvent::Closed(reason)) => break reason,
                None => break "transport readers gone".to_owned(),
            },
            _ = tokio::time::sleep_until(last_heard + heartbeat), if reading => {
                break format!("ping timeout: nothing heard for {} ms", heartbeat.as_millis());
            }
        }
    };
    drop(readers);
    shared.close(reason);
}

/// Tasks aborted when this is dropped, however the owner ends.
struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Reacts to one packet from the server; `Some(reason)` ends the session.
async fn handle_packet(
    shared: &Shared,
    wire: &mut Wire,
    assembler: &mut BinaryAssembler,
    assembling_bytes: &mut usize,
    packet: EioPacket,
) -> Option<String> {
    let assembled = match packet {
        EioPacket::Ping { probe: false } => {
            if shared.answer_pings.get() {
                let pong = EioPacket::Pong { probe: false };
                shared.record(EventKind::Send, describe(&pong));
                if let Err(error) = wire.send(&pong).await {
                    return Some(format!("send failed: {error}"));
                }
            }
            return None;
        }
        EioPacket::Noop => return None,
        EioPacket::Close => return Some("closed by the server".into()),
        EioPacket::Message(text) => {
            *assembling_bytes += text.len();
            assembler.push_text(&text)
        }
        EioPacket::Binary(bytes) => {
            *assembling_bytes += bytes.len();
            assembler.push_binary(bytes)
        }
        unexpected @ (EioPacket::Open(_)
        | EioPacket::Ping { probe: true }
        | EioPacket::Pong { .. }
        | EioPacket::Upgrade) => {
            shared.violation(ProtocolViolation {
                bytes: describe(&unexpected).into_bytes(),
                reason: "packet not expected from a server in an open session".into(),
            });
            return None;
        }
    };
    match assembled {
        Ok(Some(packet)) => {
            if packet.kind == SioPacketKind::Connect
                && let Some(sid) = packet
                    .data
                    .as_ref()
                    .and_then(|d| d.get("sid"))
                    .and_then(|s| s.as_str())
            {
                let alias = if packet.namespace == "/" {
                    shared.actor.clone()
                } else {
                    format!("{}{}", shared.actor, packet.namespace)
                };
                shared.recorder.alias(shared.now(), sid, &alias);
            }
            shared.deliver(packet, std::mem::take(assembling_bytes));
        }
        Ok(None) => {}
        Err(violation) => {
            *assembling_bytes = 0;
            shared.violation(violation);
        }
    }
    None
}
