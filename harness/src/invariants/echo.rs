//! An echo: an event the server answers by sending its arguments back to
//! the sender alone, under another name (the official Socket.IO test
//! server's `message` → `message-back`); you name both in [`Echo::new`].
//!
//! - [`ONCE_TO_THE_SENDER`]: a session receives a reply only with the
//!   arguments of an event it sent itself, once per send, and none for an
//!   event sent before it left the namespace once the server has let it
//!   back in (a new socket: one connection carries both in order).
//! - [`ARRIVES`]: on a healthy session, every event sent gets its reply
//!   within [`ECHO_WINDOW_US`], while the session stays responsive.
//! - [`ACK_ECHOES`] (with [`Echo::acked`], the test server's
//!   `message-with-ack`): the ack of that event carries its arguments, so
//!   an ack meant for another request, or another session, shows.

use serde_json::Value;

use super::history::{History, SessionLog, Way};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;

pub const ONCE_TO_THE_SENDER: &str = "echo.once-to-the-sender";
pub const ARRIVES: &str = "echo.arrives";
pub const ACK_ECHOES: &str = "echo.ack-echoes";

/// How long a healthy session may wait for a reply.
pub const ECHO_WINDOW_US: u64 = 3_000_000;

/// The echo checks, for an event and its reply.
#[derive(Debug, Clone)]
pub struct Echo {
    request: String,
    reply: String,
    /// An event whose ack carries its arguments back.
    acked: Option<String>,
}

impl Echo {
    pub fn new(request: impl Into<String>, reply: impl Into<String>) -> Self {
        Self {
            request: request.into(),
            reply: reply.into(),
            acked: None,
        }
    }

    /// Also judge [`ACK_ECHOES`]: `event`'s ack carries its arguments.
    pub fn acked(mut self, event: impl Into<String>) -> Self {
        self.acked = Some(event.into());
        self
    }
}

impl Invariant for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let sessions = || history.sessions.values();
        let mut violations: Vec<Violation> = sessions()
            .find_map(|session| self.check_session(history, session))
            .into_iter()
            .collect();
        if let Some(acked) = &self.acked {
            violations.extend(sessions().find_map(|s| acks_echo(history, s, acked)));
        }
        violations
    }
}

impl Echo {
    fn check_session(&self, history: &History<'_>, session: &SessionLog) -> Option<Violation> {
        // Sends still owed a reply: (arguments, send index).
        let mut owed: Vec<(Vec<Value>, usize)> = Vec::new();
        let mut left = false;
        for packet in &session.packets {
            match packet.way {
                Way::Sent if packet.is_event(&self.request) => {
                    owed.push((packet.args(), packet.event));
                }
                Way::Sent if packet.sio.kind == SioPacketKind::Disconnect => left = true,
                Way::Received if left && packet.sio.kind == SioPacketKind::Connect => {
                    left = false;
                    owed.clear();
                }
                Way::Received if packet.is_event(&self.reply) => {
                    let args = packet.args();
                    let Some(at) = owed.iter().position(|(sent, _)| *sent == args) else {
                        return Some(Violation::new(
                            ONCE_TO_THE_SENDER,
                            format!(
                                "{} received {:?} {} for no {:?} it was owed",
                                session.alias,
                                self.reply,
                                Value::Array(args),
                                self.request
                            ),
                            history.witnesses(&[packet.event]),
                        ));
                    };
                    owed.remove(at);
                }
                _ => {}
            }
        }
        self.unanswered(history, session, &owed)
    }

    fn unanswered(
        &self,
        history: &History<'_>,
        session: &SessionLog,
        owed: &[(Vec<Value>, usize)],
    ) -> Option<Violation> {
        if !history.is_healthy(session) {
            return None;
        }
        let until = history.responsive_until(session);
        let (args, sent) = owed
            .iter()
            .find(|(_, sent)| history.at_us(*sent).saturating_add(ECHO_WINDOW_US) <= until)?;
        Some(Violation::new(
            ARRIVES,
            format!(
                "{} never got {:?} for its {:?} {}, though it stayed {} ms",
                session.alias,
                self.reply,
                self.request,
                Value::Array(args.clone()),
                (until - history.at_us(*sent)) / 1000
            ),
            history.witnesses(&[*sent]),
        ))
    }
}

/// The first ack of an `acked` event of `session` that does not carry the
/// event's arguments.
fn acks_echo(history: &History<'_>, session: &SessionLog, acked: &str) -> Option<Violation> {
    session
        .packets(Way::Sent)
        .filter(|sent| sent.is_event(acked))
        .find_map(|sent| {
            let ack = session.ack_of(sent)?;
            (ack.args() != sent.args()).then(|| {
                Violation::new(
                    ACK_ECHOES,
                    format!(
                        "{} got the ack of {acked:?} {} carrying {}",
                        session.alias,
                        Value::Array(sent.args()),
                        Value::Array(ack.args())
                    ),
                    history.witnesses(&[sent.event, ack.event]),
                )
            })
        })
}
