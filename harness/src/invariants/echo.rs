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

use serde_json::Value;

use super::history::{History, SessionLog, Way};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;

pub const ONCE_TO_THE_SENDER: &str = "echo.once-to-the-sender";
pub const ARRIVES: &str = "echo.arrives";

/// How long a healthy session may wait for a reply.
pub const ECHO_WINDOW_US: u64 = 3_000_000;

/// The echo checks, for an event and its reply.
#[derive(Debug, Clone)]
pub struct Echo {
    request: String,
    reply: String,
}

impl Echo {
    pub fn new(request: impl Into<String>, reply: impl Into<String>) -> Self {
        Self {
            request: request.into(),
            reply: reply.into(),
        }
    }
}

impl Invariant for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        history
            .sessions
            .values()
            .find_map(|session| self.check_session(history, session))
            .into_iter()
            .collect()
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
