//! The shared click counter: `get count` on connect, `increase count` to add one.

use std::sync::{Mutex, PoisonError};

use socketioxide::extract::SocketRef;

use crate::fanout;
use crate::inline_handler::{Event, Inline};
use crate::reply;

/// Event the server sends with the current count.
pub(crate) const GET_COUNT: &str = "get count";
/// Event a client sends to add one.
pub(crate) const INCREASE_COUNT: &str = "increase count";

/// The count, shared by every socket of one server instance.
///
/// The lock is held while the new value is emitted, not only while it is
/// incremented: that way no increment is lost and every socket receives the
/// values in increasing order.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    count: Mutex<u64>,
}

/// Marks a socket that has been told the count. A socket is in the
/// namespace before its greeting, so an increment in between would reach it
/// and then the greeting would repeat the same value; changes go only to
/// greeted sockets, and greeting and marking happen under the count's lock.
#[derive(Debug, Clone, Copy)]
struct Greeted;

impl Counter {
    /// Tells a newly connected socket, and only it, the current count.
    pub(crate) fn greet(&self, socket: &SocketRef) {
        let count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        socket.extensions.insert(Greeted);
        fanout::emit_one(socket, GET_COUNT, &*count);
    }

    /// Registers `increase count` on `socket`.
    pub(crate) fn register(self: &std::sync::Arc<Self>, socket: &SocketRef) {
        let counter = self.clone();
        socket.on(
            INCREASE_COUNT,
            Inline(move |event: Event| counter.increase(event)),
        );
    }

    /// The count now. With [`Counter::set`], a seam for a racy variant:
    /// the reference never splits the read from the write.
    #[cfg(feature = "racy")]
    pub(crate) fn value(&self) -> u64 {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Overwrites the count (see [`Counter::value`]).
    #[cfg(feature = "racy")]
    pub(crate) fn set(&self, value: u64) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }

    /// Adds one, tells every socket the new count, and acks it. Any
    /// argument the client sent is ignored: the event carries no payload.
    fn increase(&self, event: Event) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_add(1);
        let greeted = fanout::everyone_listed(&event.io)
            .into_iter()
            .filter(|socket| socket.extensions.get::<Greeted>().is_some());
        fanout::emit(greeted, GET_COUNT, &*count);
        reply::send(event.ack, &*count);
    }
}
