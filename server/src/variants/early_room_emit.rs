//! `early-room-emit`: `join` acks at once and puts the socket in the room
//! only once the store has recorded the membership. A room message emitted
//! in between, even one caused by the acked joiner itself, misses the new
//! member, and the joiner's own post is refused as a non-member's.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use socketioxide::extract::{AckSender, SocketRef, TryData};

use crate::counter::Counter;
use crate::{reply, rooms};

/// How long the store takes to record a membership.
const STORE_LATENCY: Duration = Duration::from_millis(10);

/// Swaps the reference's `join` (joined before the ack) for an optimistic
/// one (acked before joined).
pub(super) fn rewire(_counter: &Arc<Counter>, socket: &SocketRef) {
    socket.on(
        rooms::JOIN,
        async |socket: SocketRef, TryData(data): TryData<Value>, ack: AckSender| {
            let room = match rooms::room_name(data.ok().as_ref()) {
                Ok(room) => room.to_owned(),
                Err(why) => return reply::send(ack, &reply::error(why)),
            };
            reply::send(ack, &reply::ok());
            super::store_round_trip(STORE_LATENCY).await;
            socket.join(room);
        },
    );
}
