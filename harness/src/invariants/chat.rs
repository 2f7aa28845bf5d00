//! The chat: `chat message` (io.emit, sender included) and `chat broadcast`
//! (everyone else). Only messages sent exactly once in the run are judged,
//! so that each received copy names its sender.
//!
//! - [`FIFO_PER_SENDER`]: a socket receives one sender's chat in the order
//!   it was sent.
//! - [`TOTAL_ORDER`]: any two sockets receive the `chat message`s they both
//!   got in the same order.
//! - [`ECHO_BEFORE_ACK`]: a relay that includes the sender (`chat message`,
//!   `room message`) reaches it before the event's ack: the server queues
//!   everything an event makes it send before the ack.
//! - [`BROADCAST_SKIPS_SENDER`]: a socket never receives its own `chat broadcast`.

use std::collections::BTreeMap;

use super::Violation;
use super::history::{History, RelayKey, SessionLog, Way};

pub const FIFO_PER_SENDER: &str = "chat.fifo-per-sender";
pub const TOTAL_ORDER: &str = "chat.total-order";
pub const ECHO_BEFORE_ACK: &str = "chat.echo-before-ack";
pub const BROADCAST_SKIPS_SENDER: &str = "chat.broadcast-skips-sender";

const CHAT_MESSAGE: &str = "chat message";
const CHAT_BROADCAST: &str = "chat broadcast";
const ROOM_MESSAGE: &str = "room message";

pub fn check(history: &History<'_>) -> Vec<Violation> {
    let mut violations = Vec::new();
    violations.extend(fifo_per_sender(history));
    violations.extend(total_order(history));
    violations.extend(echo_before_ack(history));
    violations.extend(broadcast_skips_sender(history));
    violations
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

fn fifo_per_sender(history: &History<'_>) -> Option<Violation> {
    for session in history.sessions.values() {
        let mut last_from: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for copy in copies(history, session, &[CHAT_MESSAGE, CHAT_BROADCAST]) {
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

fn total_order(history: &History<'_>) -> Option<Violation> {
    let orders: Vec<(&str, Vec<Copy<'_>>)> = history
        .sessions
        .values()
        .map(|s| (s.alias.as_str(), copies(history, s, &[CHAT_MESSAGE])))
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

fn echo_before_ack(history: &History<'_>) -> Option<Violation> {
    for session in history.sessions.values() {
        for (index, send) in session.packets.iter().enumerate() {
            let (Way::Sent, Some(id), Some(key)) = (send.way, send.sio.ack_id, send.event_key())
            else {
                continue;
            };
            if !matches!(key.0.as_str(), CHAT_MESSAGE | ROOM_MESSAGE)
                || history.unique_sender(&key).is_none()
            {
                continue;
            }
            let later = &session.packets[index + 1..];
            let Some(ack) = later
                .iter()
                .find(|p| p.way == Way::Received && p.is_ack() && p.sio.ack_id == Some(id))
            else {
                continue;
            };
            if !is_ok(&ack.sio.args()) {
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

/// `[{"ok": true}]`, the ack of a relayed event.
fn is_ok(args: &[serde_json::Value]) -> bool {
    matches!(args, [serde_json::Value::Object(o)] if o.get("ok") == Some(&serde_json::Value::Bool(true)))
}

fn broadcast_skips_sender(history: &History<'_>) -> Option<Violation> {
    history.sessions.values().find_map(|session| {
        let copy = copies(history, session, &[CHAT_BROADCAST])
            .into_iter()
            .find(|copy| copy.sender == session.alias)?;
        Some(Violation::new(
            BROADCAST_SKIPS_SENDER,
            format!("{} received its own chat broadcast", session.alias),
            history.witnesses(&[copy.sent, copy.received]),
        ))
    })
}
