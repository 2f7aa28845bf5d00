//! `lost-update`: `increase count` reads the count, awaits the store, then
//! writes back what it read plus one. Two increments whose handlers overlap
//! in that await both write the same value: one increment is lost, and every
//! socket is told the same count twice.

use std::sync::Arc;
use std::time::Duration;

use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef};

use crate::counter::{Counter, GET_COUNT, INCREASE_COUNT};
use crate::{fanout, reply};

/// How long the store takes to answer the read.
const STORE_LATENCY: Duration = Duration::from_millis(3);

/// Swaps the reference's `increase count` (which holds one lock from read
/// to emit) for a spawned read-await-write.
pub(super) fn rewire(counter: &Arc<Counter>, socket: &SocketRef) {
    let counter = counter.clone();
    socket.on(INCREASE_COUNT, move |io: SocketIo, ack: AckSender| {
        let counter = counter.clone();
        async move {
            let read = counter.value();
            super::store_round_trip(STORE_LATENCY).await;
            let count = read.saturating_add(1);
            counter.set(count);
            fanout::emit(fanout::everyone_listed(&io), GET_COUNT, &count);
            reply::send(ack, &count);
        }
    });
}
