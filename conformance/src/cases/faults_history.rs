//! A fault scenario's trace read as a history: which events each session
//! sent and received, in order, the acks it got, how the server logged its
//! disconnect and how the session ended. The `faults::*` judgments are
//! written against this, and quote the trace lines that witness a breach.

use serde_json::Value;
use siosim_harness::codec::{EioPacket, SioDecoded, SioPacket, SioPacketKind};
use siosim_harness::{EventKind, Trace, TraceEvent};

/// The namespace every seed-app event lives in.
const NAMESPACE: &str = "/";

/// One Socket.IO event or ack a session sent or received, with its line.
#[derive(Debug, Clone)]
pub(super) struct Packet<'t> {
    pub kind: SioPacketKind,
    /// The event name (empty for acks and other kinds).
    pub event: String,
    pub args: Vec<Value>,
    pub ack_id: Option<u64>,
    pub line: &'t TraceEvent,
}

impl Packet<'_> {
    /// The first argument of an event, or `Null`.
    pub fn first_arg(&self) -> &Value {
        self.args.first().unwrap_or(&Value::Null)
    }
}

/// How the server logged a socket's disconnect.
#[derive(Debug, Clone)]
pub(super) struct ServerDisconnect<'t> {
    /// The reason in socket.io's words (`ping timeout`, `transport close`…),
    /// or as logged when it is none of the known ones.
    pub reason: String,
    pub line: &'t TraceEvent,
}

/// The trace of one run, read per session (`alice#1`, `alice#2`, …).
#[derive(Debug, Clone, Copy)]
pub(super) struct History<'t> {
    events: &'t [TraceEvent],
}

impl<'t> History<'t> {
    pub fn new(trace: &'t Trace) -> Self {
        Self {
            events: &trace.events,
        }
    }

    /// Every client session that appears in the trace, in first-seen order.
    pub fn sessions(&self) -> Vec<&'t str> {
        let mut sessions: Vec<&'t str> = Vec::new();
        for event in self.events {
            if is_session(&event.actor) && !sessions.contains(&event.actor.as_str()) {
                sessions.push(&event.actor);
            }
        }
        sessions
    }

    /// What `session` received, in arrival order: events and acks of `/`.
    pub fn received(&self, session: &str) -> Vec<Packet<'t>> {
        self.packets(session, EventKind::Recv)
    }

    /// What `session` sent, in order: events and acks of `/`.
    pub fn sent(&self, session: &str) -> Vec<Packet<'t>> {
        self.packets(session, EventKind::Send)
    }

    /// The `event`s `session` received, in arrival order.
    pub fn received_events(&self, session: &str, event: &str) -> Vec<Packet<'t>> {
        self.received(session)
            .into_iter()
            .filter(|p| p.event == event)
            .collect()
    }

    /// Every `event` any session sent, in time order.
    pub fn all_sent_events(&self, event: &str) -> Vec<(&'t str, Packet<'t>)> {
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Send && is_session(&e.actor))
            .filter_map(|e| Some((e.actor.as_str(), decode(e)?)))
            .filter(|(_, p)| p.event == event)
            .collect()
    }

    /// The ack `session` received for its emit with `ack_id`.
    pub fn ack(&self, session: &str, ack_id: u64) -> Option<Packet<'t>> {
        self.received(session)
            .into_iter()
            .find(|p| p.kind == SioPacketKind::Ack && p.ack_id == Some(ack_id))
    }

    /// The first line `session` recorded whose text is `text` and kind `kind`.
    pub fn line(&self, session: &str, kind: EventKind, text: &str) -> Option<&'t TraceEvent> {
        self.line_after(session, kind, text, 0)
    }

    /// [`History::line`], among the lines from `after_us` on.
    pub fn line_after(
        &self,
        session: &str,
        kind: EventKind,
        text: &str,
        after_us: u64,
    ) -> Option<&'t TraceEvent> {
        self.events
            .iter()
            .find(|e| e.at_us >= after_us && e.actor == session && e.kind == kind && e.text == text)
    }

    /// The first fault line that starts with `text` (`partition carol`).
    pub fn fault(&self, text: &str) -> Option<&'t TraceEvent> {
        self.events
            .iter()
            .find(|e| e.kind == EventKind::Fault && e.actor == "sim" && e.text.starts_with(text))
    }

    /// The server's `disconnect` log line for `session`'s socket, if any.
    pub fn server_disconnect(&self, session: &str) -> Option<ServerDisconnect<'t>> {
        let sid = format!("sid={session}");
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Log)
            .find(|e| {
                e.text.contains("disconnect") && e.text.split_whitespace().any(|word| word == sid)
            })
            .map(|line| ServerDisconnect {
                reason: logged_reason(&line.text)
                    .map(socketio_reason)
                    .unwrap_or_default(),
                line,
            })
    }

    /// How `session` ended as its client saw it (`closed: <cause>`).
    pub fn session_end(&self, session: &str) -> Option<(&'t str, &'t TraceEvent)> {
        self.events.iter().find_map(|e| {
            let cause = e.text.strip_prefix("closed: ")?;
            (e.actor == session && e.kind == EventKind::Session).then_some((cause, e))
        })
    }

    fn packets(&self, session: &str, kind: EventKind) -> Vec<Packet<'t>> {
        self.events
            .iter()
            .filter(|e| e.actor == session && e.kind == kind)
            .filter_map(decode)
            .collect()
    }
}

/// `alice#1` is a session; `alice`, `server`, `sim` and `probe` are not.
fn is_session(actor: &str) -> bool {
    actor
        .split_once('#')
        .is_some_and(|(client, number)| !client.is_empty() && number.parse::<u32>().is_ok())
}

/// A `send`/`recv` line's text as a Socket.IO event or ack of `/`.
fn decode(line: &TraceEvent) -> Option<Packet<'_>> {
    let Ok(EioPacket::Message(text)) = EioPacket::decode_text(&line.text) else {
        return None;
    };
    let packet: SioPacket = match SioPacket::decode(&text).ok()? {
        SioDecoded::Complete(packet) => packet,
        SioDecoded::NeedsAttachments { packet, .. } => packet,
    };
    if packet.namespace != NAMESPACE {
        return None;
    }
    match packet.kind {
        SioPacketKind::Event | SioPacketKind::BinaryEvent => Some(Packet {
            kind: SioPacketKind::Event,
            event: packet.event_name().unwrap_or_default().to_owned(),
            args: packet.args(),
            ack_id: packet.ack_id,
            line,
        }),
        SioPacketKind::Ack | SioPacketKind::BinaryAck => Some(Packet {
            kind: SioPacketKind::Ack,
            event: String::new(),
            args: packet.args(),
            ack_id: packet.ack_id,
            line,
        }),
        _ => None,
    }
}

/// The `reason=…` field of a log line, unquoted.
fn logged_reason(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("reason=")?;
    let rest = rest.trim_start();
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => rest.split_whitespace().next(),
    }
}

/// A disconnect reason in socket.io's own words, whether the server logged
/// socketioxide's variant name, its description, or socket.io's string.
pub(super) fn socketio_reason(logged: &str) -> String {
    const NAMES: &[(&str, &[&str])] = &[
        (
            "client namespace disconnect",
            &[
                "ClientNSDisconnect",
                "client has manually disconnected the socket from the namespace",
            ],
        ),
        (
            "server namespace disconnect",
            &[
                "ServerNSDisconnect",
                "socket was forcefully disconnected from the namespace",
            ],
        ),
        (
            "transport close",
            &["TransportClose", "client gracefully closed the connection"],
        ),
        (
            "transport error",
            &["TransportError", "The connection was abruptly closed"],
        ),
        (
            "ping timeout",
            &[
                "HeartbeatTimeout",
                "client did not send a PONG packet in time",
            ],
        ),
        (
            "parse error",
            &[
                "PacketParsingError",
                "client sent a bad request / the packet could not be parsed",
            ],
        ),
        (
            "server shutting down",
            &["ClosingServer", "server is being closed"],
        ),
        (
            "multiple polling requests",
            &[
                "MultipleHttpPollingError",
                "client sent multiple polling requests at the same time",
            ],
        ),
    ];
    NAMES
        .iter()
        .find(|(canonical, aliases)| *canonical == logged || aliases.contains(&logged))
        .map_or_else(
            || logged.to_owned(),
            |(canonical, _)| (*canonical).to_owned(),
        )
}

/// A trace line as quoted in a verdict's reason: `[1203ms bob#1 recv 42[…]]`.
pub(super) fn cite(line: &TraceEvent) -> String {
    let text = line.to_string();
    format!(
        "[{}]",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at_ms: u64, actor: &str, kind: EventKind, text: &str) -> TraceEvent {
        TraceEvent {
            at_us: at_ms * 1000,
            actor: actor.into(),
            kind,
            text: text.into(),
        }
    }

    fn trace(events: Vec<TraceEvent>) -> Trace {
        Trace { version: 1, events }
    }

    #[test]
    fn reads_events_acks_and_sessions_per_client() {
        let trace = trace(vec![
            line(1, "alice#1", EventKind::Session, "open websocket"),
            line(2, "alice#1", EventKind::Send, r#"420["join","lobby"]"#),
            line(3, "alice#1", EventKind::Recv, r#"430[{"ok":true}]"#),
            line(4, "alice#1", EventKind::Recv, r#"42["get count",3]"#),
            line(4, "alice#1", EventKind::Recv, r#"42/chat,["get count",9]"#),
            line(5, "server", EventKind::Log, "INFO x: connect sid=alice#2"),
            line(6, "alice#2", EventKind::Recv, "2"),
        ]);
        let history = History::new(&trace);
        assert_eq!(history.sessions(), vec!["alice#1", "alice#2"]);
        let counts = history.received_events("alice#1", "get count");
        assert_eq!(counts.len(), 1, "other namespaces are not the app's");
        assert_eq!(counts[0].first_arg(), &Value::from(3));
        assert_eq!(
            history.ack("alice#1", 0).unwrap().args,
            vec![serde_json::json!({"ok": true})]
        );
        assert_eq!(history.sent("alice#1")[0].event, "join");
        assert_eq!(history.all_sent_events("join").len(), 1);
    }

    #[test]
    fn server_disconnect_reasons_read_in_socketio_words() {
        let trace = trace(vec![
            line(
                1,
                "server",
                EventKind::Log,
                "INFO s: disconnect sid=bob#10 reason=TransportError",
            ),
            line(
                2,
                "server",
                EventKind::Log,
                "INFO s: disconnect sid=bob#1 reason=HeartbeatTimeout",
            ),
            line(
                3,
                "server",
                EventKind::Log,
                r#"INFO s: disconnect sid=carol#1 reason="transport close""#,
            ),
            line(
                4,
                "carol#1",
                EventKind::Session,
                "closed: closed by the server",
            ),
        ]);
        let history = History::new(&trace);
        assert_eq!(
            history.server_disconnect("bob#1").unwrap().reason,
            "ping timeout"
        );
        assert_eq!(
            history.server_disconnect("carol#1").unwrap().reason,
            "transport close"
        );
        assert!(history.server_disconnect("alice#1").is_none());
        assert_eq!(
            history.session_end("carol#1").unwrap().0,
            "closed by the server"
        );
        assert_eq!(socketio_reason("SomethingElse"), "SomethingElse");
    }

    #[test]
    fn cites_a_line_on_one_line() {
        let event = line(1203, "bob#1", EventKind::Recv, r#"42["get count",4]"#);
        assert_eq!(cite(&event), r#"[1203ms bob#1 recv 42["get count",4]]"#);
    }
}
