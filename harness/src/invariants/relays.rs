//! What an app relays: the configuration of the built-in [`chat`](super::chat)
//! and [`delivery`](super::delivery) checkers. The harness knows no app's
//! events; you name yours.
//!
//! ```
//! use siosim_harness::invariants::{Audience, Relays, Rooms};
//!
//! let relays = Relays::new()
//!     .relay("chat message", Audience::Everyone)
//!     .relay("typing", Audience::OthersOnly)
//!     .relay("room message", Audience::Room)
//!     .rooms(Rooms::new("join", "leave"));
//! assert_eq!(relays.named(|to| to == Audience::Room), ["room message"]);
//! ```

use serde_json::Value;

/// Who receives a relayed event besides, or instead of, its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every socket, the sender included (`io.emit`).
    Everyone,
    /// Every socket but the sender (`socket.broadcast.emit`).
    OthersOnly,
    /// The members of the room named by the event's first argument (a
    /// string, or an object's `room` field), the sender included.
    Room,
}

/// An event the server relays with its arguments unchanged, so that a
/// received copy can be traced back to its send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub event: String,
    pub to: Audience,
}

/// The app's room requests: events whose first argument names the room
/// (a string, or an object's `room` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rooms {
    pub join: String,
    pub leave: String,
    /// Text in the `error` field of an ack that refuses a room relay to a
    /// non-member (for `delivery.join-ack-means-member`); `None`: not judged.
    /// Set, it also says a non-member's post is relayed to nobody, which
    /// `delivery.no-room-leak` then judges.
    pub refusal: Option<String>,
}

impl Rooms {
    pub fn new(join: impl Into<String>, leave: impl Into<String>) -> Self {
        Self {
            join: join.into(),
            leave: leave.into(),
            refusal: None,
        }
    }

    /// An ack whose first argument's `error` contains `text` refuses a
    /// non-member.
    pub fn refusal(mut self, text: impl Into<String>) -> Self {
        self.refusal = Some(text.into());
        self
    }
}

/// An app's relayed events and room requests.
#[derive(Debug, Clone)]
pub struct Relays {
    pub relays: Vec<Relay>,
    /// Events the server emits with new arguments each time (a counter's
    /// value): a socket receives each copy at most once.
    pub once: Vec<String>,
    pub rooms: Option<Rooms>,
    /// Whether an ack's arguments say the request succeeded (default: its
    /// first argument carries no `error` field).
    pub accepted: fn(&[Value]) -> bool,
}

impl Default for Relays {
    fn default() -> Self {
        Self::new()
    }
}

impl Relays {
    pub fn new() -> Self {
        Self {
            relays: Vec::new(),
            once: Vec::new(),
            rooms: None,
            accepted: no_error,
        }
    }

    pub fn relay(mut self, event: impl Into<String>, to: Audience) -> Self {
        self.relays.push(Relay {
            event: event.into(),
            to,
        });
        self
    }

    /// `event` is the server's own, never relayed, and each emission carries
    /// arguments of its own (e.g. a counter's new value): judged by
    /// `delivery.at-most-once` as received at most once per socket.
    pub fn once(mut self, event: impl Into<String>) -> Self {
        self.once.push(event.into());
        self
    }

    pub fn rooms(mut self, rooms: Rooms) -> Self {
        self.rooms = Some(rooms);
        self
    }

    pub fn accepted(mut self, accepted: fn(&[Value]) -> bool) -> Self {
        self.accepted = accepted;
        self
    }

    /// The relayed events whose audience satisfies `keep`, in order.
    pub fn named(&self, keep: impl Fn(Audience) -> bool) -> Vec<&str> {
        self.relays
            .iter()
            .filter(|r| keep(r.to))
            .map(|r| r.event.as_str())
            .collect()
    }

    /// Whether `event` is relayed at all.
    pub fn relays(&self, event: &str) -> bool {
        self.relays.iter().any(|r| r.event == event)
    }

    /// Whether `event` is one the server emits at most once per socket.
    pub fn is_once(&self, event: &str) -> bool {
        self.once.iter().any(|name| name == event)
    }
}

fn no_error(args: &[Value]) -> bool {
    args.first().and_then(|a| a.get("error")).is_none()
}
