//! Ordering of relayed events (configured by a [`Relays`]): events sent to
//! [`Audience::Everyone`] (`io.emit`, sender included) and to
//! [`Audience::OthersOnly`] (`socket.broadcast.emit`). Only messages sent
//! exactly once in the run are judged, so that each received copy names its
//! sender.
//!
//! - [`FIFO_PER_SENDER`]: a socket receives one sender's relays to everyone
//!   and to the others in the order they were sent.
//! - [`TOTAL_ORDER`]: any two sockets receive the relays to everyone they
//!   both got in the same order.
//! - [`ECHO_BEFORE_ACK`]: a relay that includes the sender (to everyone, or
//!   to a room) reaches it before the event's accepting ack: the server
//!   queues everything an event makes it send before the ack.
//! - [`BROADCAST_SKIPS_SENDER`]: a socket never receives its own relay to
//!   the others.

use std::collections::BTreeMap;

use super::history::{History, RelayKey, SessionLog, Way};
use super::relays::{Audience, Relays};
use super::{Invariant, Violation};

pub const FIFO_PER_SENDER: &str = "chat.fifo-per-sender";
pub const TOTAL_ORDER: &str = "chat.total-order";
pub const ECHO_BEFORE_ACK: &str = "chat.echo-before-ack";
pub const BROADCAST_SKIPS_SENDER: &str = "chat.broadcast-skips-sender";

/// The ordering checks, for the events `relays` names.
#[derive(Debug, Clone)]
pub struct Chat {
    relays: Relays,
    /// Whether [`TOTAL_ORDER`] is judged.
    total_order: bool,
}

impl Chat {
    pub fn new(relays: Relays) -> Self {
        Self {
            relays,
            total_order: true,
        }
    }

    /// [`TOTAL_ORDER`] is not judged: for a cluster whose adapter gives no
    /// total order (socketioxide-redis delivers a node's own broadcast once
    /// Redis has accepted it and another node's when it arrives, so two
    /// nodes' sockets may see two messages in opposite orders).
    pub fn without_total_order(mut self) -> Self {
        self.total_order = false;
        self
    }
}

impl Invariant for Chat {
    fn name(&self) -> &str {
        "chat"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let relays = &self.relays;
        let to_all_or_others =
            relays.named(|to| matches!(to, Audience::Everyone | Audience::OthersOnly));
        let to_all = relays.named(|to| to == Audience::Everyone);
        let echoed = relays.named(|to| matches!(to, Audience::Everyone | Audience::Room));
        let to_others = relays.named(|to| to == Audience::OthersOnly);
        let mut violations = Vec::new();
        violations.extend(fifo_per_sender(history, &to_all_or_others));
        if self.total_order {
            violations.extend(total_order(history, &to_all));
        }
        violations.extend(echo_before_ack(history, &echoed, relays.accepted));
        violations.extend(broadcast_skips_sender(history, &to_others));
        violations
    }
}

/// A received chat copy whose one send is known: (receive, send, sender alias).
struct Copy<'h> {
    received: usize,
    sent: usize,
    sender: &'h str,
    key: RelayKey,
}

/// The uniquely attributable copies of `events` a session received, in order.
fn copies<'h>(history: &'h History<'_>, session: &SessionLog, events: &[&str]) -> Vec<Copy<'h>> {
    session
        .packets
        .iter()
        .filter(|p| p.way == Way::Received)
        .filter_map(|p| {
            let key = p.event_key()?;
            if !events.contains(&key.0.as_str()) {
                return None;
            }
            let (sender, sent) = history.unique_sender(&key)?;
            Some(Copy {
                received: p.event,
                sent: *sent,
                sender,
                key,
            })
        })
        .collect()
}

fn fifo_per_sender(history: &History<'_>, events: &[&str]) -> Option<Violation> {
    for session in history.sessions.values() {
        let mut last_from: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for copy in copies(history, session, events) {
            if let Some(&(sent, received)) = last_from.get(copy.sender)
                && copy.sent < sent
            {
                return Some(Violation::new(
                    FIFO_PER_SENDER,
                    format!(
                        "{} received {}'s chat out of the order it was sent",
                        session.alias, copy.sender
                    ),
                    history.witnesses(&[copy.sent, sent, received, copy.received]),
                ));
            }
            last_from.insert(copy.sender, (copy.sent, copy.received));
        }
    }
    None
}

fn total_order(history: &History<'_>, events: &[&str]) -> Option<Violation> {
    let orders: Vec<(&str, Vec<Copy<'_>>)> = history
        .sessions
        .values()
        .map(|s| (s.alias.as_str(), copies(history, s, events)))
        .filter(|(_, copies)| copies.len() >= 2)
        .collect();
    for (i, (first, first_copies)) in orders.iter().enumerate() {
        let position: BTreeMap<&RelayKey, usize> = first_copies
            .iter()
            .enumerate()
            .map(|(at, copy)| (&copy.key, at))
            .collect();
        for (second, second_copies) in &orders[i + 1..] {
            let mut previous: Option<(usize, &Copy<'_>)> = None;
            for copy in second_copies {
                let Some(&at) = position.get(&copy.key) else {
                    continue;
                };
                if let Some((before, earlier)) = previous
                    && at < before
                {
                    return Some(Violation::new(
                        TOTAL_ORDER,
                        format!(
                            "{first} and {second} received two chat messages in opposite orders"
                        ),
                        history.witnesses(&[
                            first_copies[at].received,
                            first_copies[before].received,
                            earlier.received,
                            copy.received,
                        ]),
                    ));
                }
                previous = Some((at, copy));
            }
        }
    }
    None
}

fn echo_before_ack(
    history: &History<'_>,
    events: &[&str],
    accepted: fn(&[serde_json::Value]) -> bool,
) -> Option<Violation> {
    for session in history.sessions.values() {
        for (index, send) in session.packets.iter().enumerate() {
            let (Way::Sent, Some(id), Some(key)) = (send.way, send.sio.ack_id, send.event_key())
            else {
                continue;
            };
            if !events.contains(&key.0.as_str()) || history.unique_sender(&key).is_none() {
                continue;
            }
            let later = &session.packets[index + 1..];
            let Some(ack) = later
                .iter()
                .find(|p| p.way == Way::Received && p.is_ack() && p.sio.ack_id == Some(id))
            else {
                continue;
            };
            if !accepted(&ack.sio.args()) {
                continue;
            }
            let echoed = later.iter().any(|p| {
                p.way == Way::Received
                    && p.event < ack.event
                    && p.event_key().as_ref() == Some(&key)
            });
            if !echoed {
                return Some(Violation::new(
                    ECHO_BEFORE_ACK,
                    format!(
                        "{} got the ack of its {:?} before the message itself",
                        session.alias, key.0
                    ),
                    history.witnesses(&[send.event, ack.event]),
                ));
            }
        }
    }
    None
}

fn broadcast_skips_sender(history: &History<'_>, events: &[&str]) -> Option<Violation> {
    history.sessions.values().find_map(|session| {
        let copy = copies(history, session, events)
            .into_iter()
            .find(|copy| copy.sender == session.alias)?;
        Some(Violation::new(
            BROADCAST_SKIPS_SENDER,
            format!("{} received its own chat broadcast", session.alias),
            history.witnesses(&[copy.sent, copy.received]),
        ))
    })
}
