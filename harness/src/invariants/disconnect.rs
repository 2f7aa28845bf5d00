//! Disconnect reasons: the reason a server gives for ending a socket must
//! match what the client or the network did to it.
//!
//! Read from the server's log lines `… disconnect sid=<sid> reason=<Reason>`
//! (socketioxide's `DisconnectReason` names; the reference server writes
//! them). A server that logs no such line is not judged.
//!
//! - [`REASON_MATCHES_FAULT`]:
//!   - `ClientNSDisconnect` only after the client sent a namespace DISCONNECT;
//!   - `PacketParsingError` only after it sent a malformed packet;
//!   - `HeartbeatTimeout` only if it stopped answering pings, its link was
//!     faulted, or it let the session go (dropped, closed or abandoned it);
//!   - `TransportClose`/`TransportError` only if its link was faulted or it
//!     let the session go;
//!   - no other reason (nothing in a run closes the server or namespace).
//! - [`EXPECTED_REASON`] ([`ExpectedReason`], for a scenario built to end
//!   one session one way): the server logged that session's disconnect with
//!   one of the reasons expected, and the client saw its session end as
//!   expected ([`Ending`]).
//!
//! Reasons are compared in socket.io's words ([`socketio_reason`]), whether
//! the server logs socketioxide's variant names, their descriptions or
//! socket.io's strings.

use super::history::{History, ServerDisconnect, SessionLog, Way};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;
use crate::trace::{EventKind, TraceEvent};

pub const REASON_MATCHES_FAULT: &str = "disconnect.reason-matches-fault";
pub const EXPECTED_REASON: &str = "disconnect.expected-reason";

/// The disconnect-reason check.
#[derive(Debug, Clone, Copy, Default)]
pub struct DisconnectReasons;

impl Invariant for DisconnectReasons {
    fn name(&self) -> &str {
        "disconnect"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        check(history).into_iter().collect()
    }
}

fn check(history: &History<'_>) -> Option<Violation> {
    history.server_disconnects.iter().find_map(|disconnect| {
        let session = history.sessions.get(&disconnect.alias)?;
        let cause = Cause::of(history, session, disconnect);
        let allowed = match socketio_reason(&disconnect.reason) {
            "client namespace disconnect" => cause.left_namespace,
            "parse error" => cause.malformed.is_some(),
            "ping timeout" => cause.stopped_pings.is_some() || cause.faulted || cause.let_go,
            "transport close" | "transport error" | "multiple polling requests" => {
                cause.faulted || cause.let_go || cause.left_namespace
            }
            _ => false,
        };
        if allowed {
            return None;
        }
        let mut witnesses = vec![session.opened, disconnect.event];
        witnesses.extend(session.closed);
        Some(Violation::new(
            REASON_MATCHES_FAULT,
            format!(
                "the server ended {} with reason {}, but {}",
                session.alias,
                disconnect.reason,
                cause.describe()
            ),
            history.witnesses(&witnesses),
        ))
    })
}

/// What happened to a session before the server logged its disconnect.
struct Cause {
    left_namespace: bool,
    malformed: Option<usize>,
    stopped_pings: Option<usize>,
    faulted: bool,
    /// The client closed, dropped or abandoned the session.
    let_go: bool,
}

impl Cause {
    fn of(history: &History<'_>, session: &SessionLog, disconnect: &ServerDisconnect) -> Self {
        let before = |index: &usize| *index < disconnect.event;
        let left_namespace = session.packets.iter().any(|p| {
            p.way == Way::Sent && p.sio.kind == SioPacketKind::Disconnect && before(&p.event)
        });
        let closed_by_client = session.closed.is_some_and(|index| {
            let text = &history.event(index).text;
            text.contains("by the client")
        });
        // A session that never recorded its close was abandoned: its client
        // reconnected or finished its script, which drops the transport.
        let abandoned = session.closed.is_none()
            || history.sessions.values().any(|other| {
                other.client == session.client
                    && other.opened > session.opened
                    && other.opened < disconnect.event
            });
        Cause {
            left_namespace,
            malformed: session.malformed_sends.iter().copied().find(before),
            stopped_pings: session.stopped_pings.filter(before),
            faulted: history.client_faulted_between(
                &session.client,
                history.at_us(session.opened),
                history.at_us(disconnect.event),
            ),
            let_go: closed_by_client || abandoned,
        }
    }

    fn describe(&self) -> &'static str {
        if self.left_namespace {
            "the client had left the namespace"
        } else if self.malformed.is_some() {
            "the client had sent a malformed packet"
        } else {
            "its link was healthy and the client kept it open"
        }
    }
}

/// How a session ended, as its client saw it (the harness client's
/// `closed: <cause>` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client closed or dropped it.
    ByClient,
    /// The server closed it: a close packet, a close frame, a refused poll.
    ByServer,
    /// Nothing more got through: the client's heartbeat watchdog or a
    /// failed send gave up.
    Lost,
}

impl Ending {
    /// Reads the harness client's close causes (`closed by the client`,
    /// `ping timeout: …`, `websocket close frame …`).
    pub fn of(cause: &str) -> Self {
        const LOST: [&str; 4] = [
            "ping timeout",
            "send failed",
            "poll failed",
            "websocket error",
        ];
        if cause.ends_with("by the client") {
            Ending::ByClient
        } else if LOST.iter().any(|prefix| cause.starts_with(prefix)) {
            Ending::Lost
        } else {
            Ending::ByServer
        }
    }
}

/// How `session` ended as its client saw it: the cause after `closed: `
/// and its trace index.
pub fn session_end<'h>(history: &'h History<'_>, session: &SessionLog) -> Option<(&'h str, usize)> {
    let index = session.closed?;
    let cause = history.event(index).text.strip_prefix("closed: ")?;
    Some((cause, index))
}

/// One session's disconnect, as a scenario built to end it one way expects it.
#[derive(Debug, Clone)]
pub struct ExpectedReason {
    session: String,
    reasons: Vec<&'static str>,
    endings: Vec<Ending>,
}

impl ExpectedReason {
    /// `session` (`alice#1`) must be logged as disconnected with one of
    /// `reasons` (socket.io's words: `ping timeout`, `transport close`…)
    /// and see its session end one of the ways `endings` says.
    pub fn new(session: impl Into<String>, reasons: &[&'static str], endings: &[Ending]) -> Self {
        Self {
            session: session.into(),
            reasons: reasons.to_vec(),
            endings: endings.to_vec(),
        }
    }

    fn violation(&self, summary: String, witnesses: Vec<TraceEvent>) -> Vec<Violation> {
        vec![Violation::new(EXPECTED_REASON, summary, witnesses)]
    }
}

impl Invariant for ExpectedReason {
    fn name(&self) -> &str {
        EXPECTED_REASON
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let alias = &self.session;
        let Some(session) = history.session(alias) else {
            return self.violation(format!("{alias} never opened a session"), Vec::new());
        };
        let logged = history.disconnects().iter().find(|d| d.alias == *alias);
        let Some(logged) = logged else {
            let logs: Vec<TraceEvent> = history
                .trace
                .of_kind(EventKind::Log)
                .take(4)
                .cloned()
                .collect();
            return self.violation(
                format!("the server logged no disconnect for {alias}; its log follows"),
                logs,
            );
        };
        let reason = socketio_reason(&logged.reason);
        if !self.reasons.contains(&reason) {
            return self.violation(
                format!(
                    "the server gave {alias}'s disconnect reason {reason:?}, not {}",
                    self.reasons.join(" or ")
                ),
                history.witnesses(&[logged.event]),
            );
        }
        let Some((cause, closed)) = session_end(history, session) else {
            return self.violation(
                format!("{alias} never saw its session end"),
                history.witnesses(&[session.opened, logged.event]),
            );
        };
        let ending = Ending::of(cause);
        if self.endings.contains(&ending) {
            return Vec::new();
        }
        self.violation(
            format!(
                "the server logged {reason:?} but {alias} saw its session end otherwise ({ending:?}, expected {:?})",
                self.endings
            ),
            history.witnesses(&[logged.event, closed]),
        )
    }
}

/// A disconnect reason in socket.io's own words, whether the server logged
/// socketioxide's variant name, its description, or socket.io's string; any
/// other text as it is.
pub fn socketio_reason(logged: &str) -> &str {
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
        .map_or(logged, |(canonical, _)| canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_in_socketio_words() {
        assert_eq!(socketio_reason("HeartbeatTimeout"), "ping timeout");
        assert_eq!(socketio_reason("transport close"), "transport close");
        assert_eq!(
            socketio_reason("client did not send a PONG packet in time"),
            "ping timeout"
        );
        assert_eq!(socketio_reason("SomethingElse"), "SomethingElse");
    }

    #[test]
    fn session_endings_read_from_the_clients_causes() {
        assert_eq!(Ending::of("closed by the client"), Ending::ByClient);
        assert_eq!(Ending::of("dropped by the client"), Ending::ByClient);
        assert_eq!(Ending::of("closed by the server"), Ending::ByServer);
        assert_eq!(Ending::of("websocket close frame 1000 "), Ending::ByServer);
        assert_eq!(Ending::of("poll answered 400: {}"), Ending::ByServer);
        assert_eq!(
            Ending::of("ping timeout: nothing heard for 500 ms"),
            Ending::Lost
        );
        assert_eq!(Ending::of("send failed: timed out"), Ending::Lost);
    }
}
