//! A trace, parsed once into what the checkers ask about: sessions and the
//! Socket.IO packets each sent and received, server restarts, the heal time,
//! and the server's disconnect log lines. The built-in checkers and your own
//! [`Invariant`](super::Invariant)s read the same [`History`].

use std::collections::BTreeMap;

use serde_json::Value;

use crate::codec::{SioDecoded, SioPacket, SioPacketKind};
use crate::scenario::{Fault, Scenario};
use crate::trace::{EventKind, Trace, TraceEvent};

/// Which way a packet went, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Way {
    /// From the client to the server.
    Sent,
    /// From the server to the client.
    Received,
}

/// One Socket.IO packet of a session, and the trace event that carried it.
#[derive(Debug, Clone)]
pub struct Packet {
    /// Index of its event in the trace.
    pub event: usize,
    pub way: Way,
    pub sio: SioPacket,
}

impl Packet {
    /// `(event name, args as JSON)` for an EVENT packet.
    pub fn event_key(&self) -> Option<RelayKey> {
        let name = self.sio.event_name()?;
        Some((name.to_owned(), Value::Array(self.sio.args()).to_string()))
    }

    /// The first argument as an integer (`get count`, counter acks).
    pub fn first_u64(&self) -> Option<u64> {
        self.sio.args().first()?.as_u64()
    }

    /// The event's name, for an EVENT packet.
    pub fn name(&self) -> Option<&str> {
        self.sio.event_name()
    }

    /// The event's (or ack's) arguments.
    pub fn args(&self) -> Vec<Value> {
        self.sio.args()
    }

    pub fn is_event(&self, name: &str) -> bool {
        self.sio.event_name() == Some(name)
    }

    pub fn is_ack(&self) -> bool {
        matches!(self.sio.kind, SioPacketKind::Ack | SioPacketKind::BinaryAck)
    }
}

/// An event name and its arguments rendered as JSON: identifies a relayed message.
pub type RelayKey = (String, String);

/// One Engine.IO session of a client (`alice#2`), as its trace lines tell it.
#[derive(Debug, Clone)]
pub struct SessionLog {
    pub alias: String,
    pub client: String,
    /// Index of its `sess open` event.
    pub opened: usize,
    /// Index of its `sess closed` event, if it closed.
    pub closed: Option<usize>,
    /// Its Socket.IO packets (default namespace or not), in trace order.
    pub packets: Vec<Packet>,
    /// `send` events whose text is not a well-formed Socket.IO packet.
    pub malformed_sends: Vec<usize>,
    /// The first `sess stops answering pings` or `sess stops reading`
    /// event (a client that stops reading answers no ping either), if any.
    pub stopped_pings: Option<usize>,
}

impl SessionLog {
    /// Its packets that went `way`, in trace order.
    pub fn packets(&self, way: Way) -> impl Iterator<Item = &Packet> {
        self.packets.iter().filter(move |p| p.way == way)
    }

    /// Its EVENT packets named `name` that went `way`, in trace order.
    pub fn events<'s>(&'s self, way: Way, name: &'s str) -> impl Iterator<Item = &'s Packet> {
        self.packets(way).filter(move |p| p.is_event(name))
    }

    /// The acks it received, in trace order.
    pub fn acks(&self) -> impl Iterator<Item = &Packet> {
        self.packets(Way::Received).filter(|p| p.is_ack())
    }

    /// Whether a CONNECT answer in `/` (a new socket, after the client left
    /// the namespace on this session) arrived between two trace indexes.
    pub fn reconnected_between(&self, from: usize, to: usize) -> bool {
        self.packets(Way::Received).any(|p| {
            p.event > from
                && p.event < to
                && p.sio.kind == SioPacketKind::Connect
                && p.sio.namespace == "/"
        })
    }

    /// The ack it received for the event packet `sent`, if any.
    pub fn ack_of(&self, sent: &Packet) -> Option<&Packet> {
        let id = sent.sio.ack_id?;
        self.acks()
            .find(|ack| ack.event > sent.event && ack.sio.ack_id == Some(id))
    }
}

/// A server log line `disconnect sid=<alias> reason=<Reason>`.
#[derive(Debug, Clone)]
pub struct ServerDisconnect {
    pub event: usize,
    pub alias: String,
    pub reason: String,
}

/// The parsed trace. Built once per check.
#[derive(Debug)]
pub struct History<'a> {
    pub trace: &'a Trace,
    pub scenario: &'a Scenario,
    /// By alias (`alice#1`), in alias order.
    pub sessions: BTreeMap<String, SessionLog>,
    /// When the server host crashed or restarted, ascending (µs).
    pub restarts_us: Vec<u64>,
    /// The time of the last fault line, after which the network is healthy;
    /// `u64::MAX` if a fault was still in force at the end.
    pub healed_us: u64,
    /// The time of the last event.
    pub end_us: u64,
    pub server_disconnects: Vec<ServerDisconnect>,
    /// Every event a client sent: key -> (alias, trace index), in order.
    pub sends: BTreeMap<RelayKey, Vec<(String, usize)>>,
}

impl<'a> History<'a> {
    pub fn new(trace: &'a Trace, scenario: &'a Scenario) -> Self {
        let mut history = History {
            trace,
            scenario,
            sessions: BTreeMap::new(),
            restarts_us: Vec::new(),
            healed_us: 0,
            end_us: trace.events.last().map_or(0, |e| e.at_us),
            server_disconnects: Vec::new(),
            sends: BTreeMap::new(),
        };
        for (index, event) in trace.events.iter().enumerate() {
            history.take(index, event);
        }
        history
    }

    fn take(&mut self, index: usize, event: &TraceEvent) {
        match event.kind {
            EventKind::Fault if event.actor == "sim" => self.take_fault(event),
            EventKind::Log => self.take_log(index, event),
            EventKind::Session => self.take_session_line(index, event),
            EventKind::Send | EventKind::Recv => self.take_packet(index, event),
            _ => {}
        }
    }

    fn take_fault(&mut self, event: &TraceEvent) {
        if event.text.contains("still in force") {
            self.healed_us = u64::MAX;
            return;
        }
        if event.text.starts_with("crash server") || event.text.starts_with("bounce server") {
            self.restarts_us.push(event.at_us);
        }
        if self.healed_us != u64::MAX {
            self.healed_us = self.healed_us.max(event.at_us);
        }
    }

    fn take_log(&mut self, index: usize, event: &TraceEvent) {
        let Some(rest) = event.text.split_once(" disconnect sid=").map(|(_, r)| r) else {
            return;
        };
        let alias = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let reason = logged_reason(rest).unwrap_or_default().to_owned();
        self.server_disconnects.push(ServerDisconnect {
            event: index,
            alias,
            reason,
        });
    }

    fn session_mut(&mut self, index: usize, alias: &str) -> Option<&mut SessionLog> {
        let (client, _) = alias.split_once('#')?;
        let session = self
            .sessions
            .entry(alias.to_owned())
            .or_insert_with(|| SessionLog {
                alias: alias.to_owned(),
                client: client.to_owned(),
                opened: index,
                closed: None,
                packets: Vec::new(),
                malformed_sends: Vec::new(),
                stopped_pings: None,
            });
        Some(session)
    }

    fn take_session_line(&mut self, index: usize, event: &TraceEvent) {
        let text = event.text.clone();
        let Some(session) = self.session_mut(index, &event.actor) else {
            return;
        };
        if text.starts_with("closed") && session.closed.is_none() {
            session.closed = Some(index);
        } else if text == "stops answering pings" || text == "stops reading" {
            session.stopped_pings.get_or_insert(index);
        }
    }

    fn take_packet(&mut self, index: usize, event: &TraceEvent) {
        let Some(sio_text) = event.text.strip_prefix('4') else {
            return;
        };
        let decoded = SioPacket::decode(sio_text);
        let way = if event.kind == EventKind::Send {
            Way::Sent
        } else {
            Way::Received
        };
        let alias = event.actor.clone();
        let Some(session) = self.session_mut(index, &alias) else {
            return;
        };
        let sio = match decoded {
            Ok(SioDecoded::Complete(sio)) => sio,
            Ok(SioDecoded::NeedsAttachments { .. }) => return,
            Err(_) => {
                if way == Way::Sent {
                    session.malformed_sends.push(index);
                }
                return;
            }
        };
        let packet = Packet {
            event: index,
            way,
            sio,
        };
        let sent_key = packet.event_key().filter(|_| way == Way::Sent);
        session.packets.push(packet);
        if let Some(key) = sent_key {
            self.sends.entry(key).or_default().push((alias, index));
        }
    }

    /// Every session, in alias order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionLog> {
        self.sessions.values()
    }

    /// The session `alias` (`alice#1`), if it exists.
    pub fn session(&self, alias: &str) -> Option<&SessionLog> {
        self.sessions.get(alias)
    }

    /// Every packet of every session that satisfies `keep`, with its
    /// session, in trace order.
    pub fn packets_where(
        &self,
        mut keep: impl FnMut(&SessionLog, &Packet) -> bool,
    ) -> Vec<(&SessionLog, &Packet)> {
        let mut found: Vec<_> = self
            .sessions
            .values()
            .flat_map(|s| s.packets.iter().map(move |p| (s, p)))
            .filter(|(s, p)| keep(s, p))
            .collect();
        found.sort_by_key(|(_, p)| p.event);
        found
    }

    /// Every EVENT packet named `name` that went `way`, with its session,
    /// in trace order.
    pub fn events(&self, way: Way, name: &str) -> Vec<(&SessionLog, &Packet)> {
        self.packets_where(|_, p| p.way == way && p.is_event(name))
    }

    /// The server's disconnect log lines, with their reasons, in trace order.
    pub fn disconnects(&self) -> &[ServerDisconnect] {
        &self.server_disconnects
    }

    /// The trace event at `index`.
    pub fn event(&self, index: usize) -> &TraceEvent {
        &self.trace.events[index]
    }

    /// Clones of the events at `indexes`, in trace order, each once.
    pub fn witnesses(&self, indexes: &[usize]) -> Vec<TraceEvent> {
        let mut indexes = indexes.to_vec();
        indexes.sort_unstable();
        indexes.dedup();
        indexes.iter().map(|&i| self.event(i).clone()).collect()
    }

    pub fn at_us(&self, index: usize) -> u64 {
        self.event(index).at_us
    }

    /// Which server lifetime `at_us` falls in: 0 before the first restart.
    pub fn epoch_at(&self, at_us: u64) -> usize {
        self.restarts_us.iter().filter(|&&r| r <= at_us).count()
    }

    /// The server lifetime a session belongs to: the one it opened in.
    pub fn epoch_of(&self, session: &SessionLog) -> usize {
        self.epoch_at(self.at_us(session.opened))
    }

    /// When a session's socket ended: its namespace DISCONNECT or its
    /// close; else when its client opened its next session (a reconnect
    /// drops the old one without a close line); else the end of the trace.
    pub fn end_of(&self, session: &SessionLog) -> u64 {
        // Leaving the namespace ends the socket, even if the session stays.
        let left = session.packets.iter().find(|p| {
            p.way == Way::Sent && p.sio.kind == SioPacketKind::Disconnect && p.sio.namespace == "/"
        });
        if let Some(index) = left.map(|p| p.event).or(session.closed) {
            return self.at_us(index);
        }
        self.sessions
            .values()
            .filter(|other| other.client == session.client && other.opened > session.opened)
            .map(|other| self.at_us(other.opened))
            .min()
            .unwrap_or(self.end_us)
    }

    /// Until when the session could take part in liveness: [`Self::end_of`],
    /// or earlier, when its client stopped answering pings or reading (what
    /// the server sent after that may arrive late or never).
    pub fn responsive_until(&self, session: &SessionLog) -> u64 {
        let end = self.end_of(session);
        session
            .stopped_pings
            .map_or(end, |stopped| end.min(self.at_us(stopped)))
    }

    /// Whether the session opened in the healed phase, after every fault.
    pub fn is_healthy(&self, session: &SessionLog) -> bool {
        self.healed_us != u64::MAX && self.at_us(session.opened) >= self.healed_us
    }

    /// A message sent exactly once in the whole run: its copies can be
    /// traced back to one sender. Returns the sender and the send.
    pub fn unique_sender(&self, key: &RelayKey) -> Option<&(String, usize)> {
        match self.sends.get(key).map(Vec::as_slice) {
            Some([only]) => Some(only),
            _ => None,
        }
    }

    /// Whether a fault aimed at `client` (a partition or a hold), or at every
    /// link, was in force at some point of `[from_us, to_us]`.
    pub fn client_faulted_between(&self, client: &str, from_us: u64, to_us: u64) -> bool {
        fault_windows(self.scenario, client)
            .iter()
            .any(|&(start, end)| start <= to_us && end >= from_us)
    }
}

/// The `reason=…` field of a log line, unquoted (`reason="transport close"`
/// is one reason).
fn logged_reason(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("reason=")?;
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => rest.split_whitespace().next(),
    }
}

/// The `[start, end]` windows (µs) of the faults that hit `client`'s link:
/// its partitions and holds, and fail rates and big latency spikes on every link.
fn fault_windows(scenario: &Scenario, client: &str) -> Vec<(u64, u64)> {
    let mut faults: Vec<_> = scenario.faults.iter().collect();
    faults.sort_by_key(|f| f.at_ms);
    let mut windows = Vec::new();
    let mut open: BTreeMap<&'static str, u64> = BTreeMap::new();
    let ms = |at_ms: u64| at_ms.saturating_mul(1000);
    for scheduled in faults {
        let at = ms(scheduled.at_ms);
        let (kind, starts) = match &scheduled.fault {
            Fault::Partition { client: c, .. } if c == client => ("partition", true),
            Fault::Repair { client: c, .. } if c == client => ("partition", false),
            Fault::Hold { client: c } if c == client => ("hold", true),
            Fault::Release { client: c } if c == client => ("hold", false),
            Fault::FailRate { rate } => ("fail rate", *rate > 0.0),
            // Past a few seconds a latency spike can starve a heartbeat.
            Fault::Latency { max_ms } => ("latency", *max_ms >= 5_000),
            // A restart ends every session; it is judged on its own.
            _ => continue,
        };
        if starts {
            open.entry(kind).or_insert(at);
        } else if let Some(start) = open.remove(kind) {
            windows.push((start, at));
        }
    }
    windows.extend(open.into_values().map(|start| (start, u64::MAX)));
    windows
}
