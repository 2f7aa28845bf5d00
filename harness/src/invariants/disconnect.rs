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

use super::history::{History, ServerDisconnect, SessionLog, Way};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;

pub const REASON_MATCHES_FAULT: &str = "disconnect.reason-matches-fault";

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
        let allowed = match disconnect.reason.as_str() {
            "ClientNSDisconnect" => cause.left_namespace,
            "PacketParsingError" => cause.malformed.is_some(),
            "HeartbeatTimeout" => cause.stopped_pings.is_some() || cause.faulted || cause.let_go,
            "TransportClose" | "TransportError" | "MultipleHttpPollingError" => {
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
