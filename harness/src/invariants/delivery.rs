//! Delivery: what reaches a socket, how often, and only while it should,
//! for the relayed events and room requests a [`Relays`] names.
//!
//! - [`AT_MOST_ONCE`]: a socket receives a relayed message no more times
//!   than it was sent (never, if nobody sent it), and each emission of an
//!   event named by [`Relays::once`] (a counter's value) once at most.
//! - [`NOTHING_AFTER_DISCONNECT`]: a socket receives no relayed message sent
//!   after the server logged its disconnect.
//! - [`NO_ROOM_LEAK`]: a socket receives a room relay of a room only
//!   after it asked to join, and never after its leave was acked; when the
//!   app refuses non-members' posts ([`Rooms::refusal`]), it never receives
//!   one whose sender had not asked to join (or had asked to leave) before
//!   posting.
//! - [`JOIN_ACK_MEANS_MEMBER`]: once a join is acked, posting to the room is
//!   not refused for want of membership (until the socket asks to leave).
//! - [`ACK_EXACTLY_ONCE`]: an ack answers an id the socket asked for, at
//!   most once; on a healthy session it arrives within [`ACK_WINDOW_US`].
//! - [`JOINED_NAMESPACES_ONLY`]: a session receives events and acks of a
//!   namespace only while the server has it joined there: after the
//!   server's CONNECT answer, and not after the server's own DISCONNECT or
//!   CONNECT_ERROR of that namespace (one connection carries them in order).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::history::{History, Packet, SessionLog, Way};
use super::relays::{Audience, Relays, Rooms};
use super::{Invariant, Violation};
use crate::codec::SioPacketKind;

pub const AT_MOST_ONCE: &str = "delivery.at-most-once";
pub const NOTHING_AFTER_DISCONNECT: &str = "delivery.nothing-after-disconnect";
pub const NO_ROOM_LEAK: &str = "delivery.no-room-leak";
pub const JOIN_ACK_MEANS_MEMBER: &str = "delivery.join-ack-means-member";
pub const ACK_EXACTLY_ONCE: &str = "delivery.ack-exactly-once";
pub const JOINED_NAMESPACES_ONLY: &str = "delivery.joined-namespaces-only";

/// How long a healthy session may wait for an ack.
pub const ACK_WINDOW_US: u64 = 3_000_000;

/// The delivery checks, for the events `relays` names.
#[derive(Debug, Clone)]
pub struct Delivery {
    relays: Relays,
}

impl Delivery {
    pub fn new(relays: Relays) -> Self {
        Self { relays }
    }
}

impl Invariant for Delivery {
    fn name(&self) -> &str {
        "delivery"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let relays = &self.relays;
        let mut violations = Vec::new();
        violations.extend(at_most_once(history, relays));
        violations.extend(nothing_after_disconnect(history, relays));
        if let Some(rooms) = &relays.rooms {
            let room_relays = relays.named(|to| to == Audience::Room);
            violations.extend(
                history
                    .sessions
                    .values()
                    .find_map(|s| room_membership(history, s, rooms, &room_relays, relays)),
            );
        }
        violations.extend(history.sessions.values().find_map(|s| acks(history, s)));
        violations.extend(
            history
                .sessions
                .values()
                .find_map(|s| joined_namespaces_only(history, s)),
        );
        violations
    }
}

/// The first event or ack `session` received in a namespace the server
/// did not have it joined to at that point.
fn joined_namespaces_only(history: &History<'_>, session: &SessionLog) -> Option<Violation> {
    let mut joined: BTreeSet<&str> = BTreeSet::new();
    for packet in session.packets(Way::Received) {
        let namespace = packet.sio.namespace.as_str();
        match packet.sio.kind {
            SioPacketKind::Connect => {
                joined.insert(namespace);
            }
            SioPacketKind::Disconnect | SioPacketKind::ConnectError => {
                joined.remove(namespace);
            }
            _ if joined.contains(namespace) => {}
            _ => {
                return Some(Violation::new(
                    JOINED_NAMESPACES_ONLY,
                    format!(
                        "{} received a packet of namespace {namespace} it was not connected to",
                        session.alias
                    ),
                    history.witnesses(&[packet.event]),
                ));
            }
        }
    }
    None
}

fn at_most_once(history: &History<'_>, relays: &Relays) -> Option<Violation> {
    for session in history.sessions.values() {
        let mut received: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for packet in session.packets.iter().filter(|p| p.way == Way::Received) {
            let judged = |name: &str| relays.relays(name) || relays.is_once(name);
            if let Some(key) = packet.event_key().filter(|(name, _)| judged(name)) {
                received.entry(key).or_default().push(packet.event);
            }
        }
        for (key, copies) in received {
            let sends: Vec<usize> = history
                .sends
                .get(&key)
                .map(|s| s.iter().map(|&(_, at)| at).collect())
                .unwrap_or_default();
            let allowed = if relays.is_once(&key.0) {
                1
            } else {
                sends.len()
            };
            if copies.len() > allowed {
                let mut witnesses = sends.clone();
                witnesses.extend(&copies);
                return Some(Violation::new(
                    AT_MOST_ONCE,
                    format!(
                        "{} received {} {} {} times; it was sent {allowed} times",
                        session.alias,
                        key.0,
                        key.1,
                        copies.len(),
                    ),
                    history.witnesses(&witnesses),
                ));
            }
        }
    }
    None
}

fn nothing_after_disconnect(history: &History<'_>, relays: &Relays) -> Option<Violation> {
    for disconnect in &history.server_disconnects {
        let Some(session) = history.sessions.get(&disconnect.alias) else {
            continue;
        };
        let logged_at = history.at_us(disconnect.event);
        for packet in session.packets.iter().filter(|p| p.way == Way::Received) {
            let Some((_, sent)) = packet
                .event_key()
                .filter(|(name, _)| relays.relays(name))
                .and_then(|k| history.unique_sender(&k))
            else {
                continue;
            };
            if history.at_us(*sent) > logged_at {
                return Some(Violation::new(
                    NOTHING_AFTER_DISCONNECT,
                    format!(
                        "{} received a message sent after the server disconnected it",
                        session.alias
                    ),
                    history.witnesses(&[disconnect.event, *sent, packet.event]),
                ));
            }
        }
    }
    None
}

/// What a session asked of one room, as far as it knows.
#[derive(Debug, Default, Clone, Copy)]
struct Membership {
    /// It asked to join, and no acked leave came after.
    may_be_member: bool,
    /// A join was acked and no leave was asked since.
    surely_member: bool,
}

fn room_arg(args: &[Value]) -> Option<String> {
    match args.first()? {
        Value::String(room) => Some(room.clone()),
        Value::Object(post) => post.get("room")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn room_membership(
    history: &History<'_>,
    session: &SessionLog,
    requests: &Rooms,
    room_relays: &[&str],
    relays: &Relays,
) -> Option<Violation> {
    let mut rooms: BTreeMap<String, Membership> = BTreeMap::new();
    // Ack id -> (what was asked, room, the send's index).
    let mut asked: BTreeMap<u64, (String, String, usize)> = BTreeMap::new();
    let mut left_namespace = false;
    for packet in &session.packets {
        let args = packet.sio.args();
        match packet.way {
            Way::Sent if packet.sio.kind == SioPacketKind::Disconnect => {
                // Leaving the namespace leaves every room; messages already
                // on their way may still arrive.
                left_namespace = true;
                rooms
                    .values_mut()
                    .for_each(|state| state.surely_member = false);
            }
            Way::Received
                if left_namespace
                    && packet.sio.kind == SioPacketKind::Connect
                    && packet.sio.namespace == "/" =>
            {
                // Back in the namespace as a new socket: the server handled
                // the leave first (one connection, in order), and what it
                // sent the old socket came before this answer. The new
                // socket is in no room until it asks.
                left_namespace = false;
                rooms.clear();
            }
            Way::Sent => {
                let (Some(name), Some(room)) = (packet.sio.event_name(), room_arg(&args)) else {
                    continue;
                };
                let state = rooms.entry(room.clone()).or_default();
                if name == requests.join {
                    state.may_be_member = true;
                } else if name == requests.leave {
                    state.surely_member = false;
                }
                if let Some(id) = packet.sio.ack_id {
                    asked.insert(id, (name.to_owned(), room, packet.event));
                }
            }
            Way::Received if packet.is_ack() => {
                let Some((name, room, sent)) = packet.sio.ack_id.and_then(|id| asked.remove(&id))
                else {
                    continue;
                };
                let refused_membership = requests.refusal.as_deref().is_some_and(|refusal| {
                    args.first()
                        .and_then(|a| a.get("error"))
                        .and_then(Value::as_str)
                        .is_some_and(|why| why.contains(refusal))
                });
                let state = rooms.entry(room.clone()).or_default();
                let ok = (relays.accepted)(&args);
                let since =
                    |other: &str| session_sent_since(session, other, &room, sent, packet.event);
                if name == requests.join {
                    if ok && !since(&requests.leave) {
                        state.surely_member = true;
                    }
                } else if name == requests.leave {
                    if ok && !since(&requests.join) {
                        state.may_be_member = false;
                    }
                } else if room_relays.contains(&name.as_str())
                    && refused_membership
                    && state.surely_member
                {
                    return Some(Violation::new(
                        JOIN_ACK_MEANS_MEMBER,
                        format!(
                            "{} was refused as a non-member of {room:?} after its join was acked",
                            session.alias
                        ),
                        history.witnesses(&[sent, packet.event]),
                    ));
                }
            }
            Way::Received if room_relays.iter().any(|name| packet.is_event(name)) => {
                let Some(room) = room_arg(&args) else {
                    continue;
                };
                if !rooms.get(&room).is_some_and(|s| s.may_be_member) {
                    return Some(Violation::new(
                        NO_ROOM_LEAK,
                        format!(
                            "{} received a message of room {room:?} as a non-member",
                            session.alias
                        ),
                        history.witnesses(&[packet.event]),
                    ));
                }
                if requests.refusal.is_some()
                    && let Some(violation) =
                        posted_by_non_member(history, session, packet, &room, requests, relays)
                {
                    return Some(violation);
                }
            }
            Way::Received => {}
        }
    }
    None
}

/// A room relay `session` received whose one sender had not asked to join
/// `room` before posting, or had asked to leave (or left the namespace):
/// its own requests travel ahead of its post on one connection.
fn posted_by_non_member(
    history: &History<'_>,
    session: &SessionLog,
    copy: &Packet,
    room: &str,
    requests: &Rooms,
    relays: &Relays,
) -> Option<Violation> {
    let (sender, sent) = history.unique_sender(&copy.event_key()?)?;
    let poster = history.session(sender)?;
    let mut member = false;
    for request in poster.packets(Way::Sent).filter(|p| p.event < *sent) {
        if request.sio.kind == SioPacketKind::Disconnect && request.sio.namespace == "/" {
            member = false;
            continue;
        }
        let (Some(name), Some(asked)) = (request.name(), room_arg(&request.args())) else {
            continue;
        };
        let refused = poster
            .ack_of(request)
            .is_some_and(|ack| !(relays.accepted)(&ack.args()));
        if asked != room || refused {
            continue;
        }
        if name == requests.join {
            member = true;
        } else if name == requests.leave {
            member = false;
        }
    }
    (!member).then(|| {
        Violation::new(
            NO_ROOM_LEAK,
            format!(
                "{} received a post to room {room:?} by {sender}, who was not a member",
                session.alias
            ),
            history.witnesses(&[*sent, copy.event]),
        )
    })
}

/// Whether the session sent `name` for `room` between trace indexes `after` and `before`.
fn session_sent_since(
    session: &SessionLog,
    name: &str,
    room: &str,
    after: usize,
    before: usize,
) -> bool {
    session.packets.iter().any(|p| {
        p.way == Way::Sent
            && p.event > after
            && p.event < before
            && p.is_event(name)
            && room_arg(&p.sio.args()).as_deref() == Some(room)
    })
}

fn acks(history: &History<'_>, session: &SessionLog) -> Option<Violation> {
    let mut asked: BTreeMap<u64, usize> = BTreeMap::new();
    let mut answered: BTreeMap<u64, usize> = BTreeMap::new();
    for packet in &session.packets {
        match (packet.way, packet.sio.ack_id) {
            (Way::Sent, Some(id)) if packet.sio.event_name().is_some() => {
                asked.insert(id, packet.event);
            }
            (Way::Received, Some(id)) if packet.is_ack() => {
                let Some(&sent) = asked.get(&id) else {
                    return Some(Violation::new(
                        ACK_EXACTLY_ONCE,
                        format!(
                            "{} received an ack for id {id}, which it never asked for",
                            session.alias
                        ),
                        history.witnesses(&[packet.event]),
                    ));
                };
                if let Some(&first) = answered.get(&id) {
                    return Some(Violation::new(
                        ACK_EXACTLY_ONCE,
                        format!("{} received the ack of id {id} twice", session.alias),
                        history.witnesses(&[sent, first, packet.event]),
                    ));
                }
                answered.insert(id, packet.event);
            }
            _ => {}
        }
    }
    if !history.is_healthy(session) {
        return None;
    }
    let end = history.responsive_until(session);
    let unanswered: BTreeSet<usize> = asked
        .iter()
        .filter(|(id, _)| !answered.contains_key(id))
        .map(|(_, &sent)| sent)
        .filter(|&sent| history.at_us(sent).saturating_add(ACK_WINDOW_US) <= end)
        .collect();
    let &sent = unanswered.first()?;
    let mut witnesses = vec![sent];
    witnesses.extend(session.closed);
    Some(Violation::new(
        ACK_EXACTLY_ONCE,
        format!(
            "{} never got an ack on a healthy session, though it stayed {} ms",
            session.alias,
            (end - history.at_us(sent)) / 1000
        ),
        history.witnesses(&witnesses),
    ))
}
