//! `slow-disconnect`: the disconnect handler awaits a "last seen" write to
//! the store, and room messages go out through socketioxide's own room
//! broadcast. socketioxide takes a socket out of its rooms only after the
//! disconnect handler has returned, and its broadcast does not skip sockets
//! that are already disconnected: a room message posted during that await
//! still goes down the departed socket's connection. A client that left the
//! namespace but kept its connection (the official client's
//! `socket.disconnect()` on a shared Manager, then `socket.connect()`) gets
//! a message after its disconnect, from a room its new socket never joined.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use serde_json::json;
use socketioxide::BroadcastError;
use socketioxide::extract::SocketRef;
use socketioxide::socket::DisconnectReason;
use tracing::debug;

use crate::counter::Counter;
use crate::inline_handler::{Event, Inline};
use crate::{lifecycle, reply, rooms};

/// How long the store takes to record when a socket was last seen.
const STORE_LATENCY: Duration = Duration::from_millis(40);

/// Swaps the reference's disconnect handler for one that awaits the store,
/// and its per-socket room fan-out for socketioxide's room broadcast.
pub(super) fn rewire(_counter: &Arc<Counter>, socket: &SocketRef) {
    socket.on(rooms::ROOM_MESSAGE, Inline(post));
    socket.on_disconnect(async |socket: SocketRef, reason: DisconnectReason| {
        lifecycle::log_disconnect(&socket, reason);
        super::store_round_trip(STORE_LATENCY).await;
    });
}

/// The reference's `room message`, but relayed with `within(room).emit`.
fn post(event: Event) {
    let body = match rooms::room_post(event.data.as_ref()) {
        Ok((room, msg)) if rooms::is_member(&event.socket, room) => {
            let post = json!({ "room": room, "msg": msg });
            broadcast_now(
                event
                    .socket
                    .within(room.to_owned())
                    .emit(rooms::ROOM_MESSAGE, &post),
            );
            reply::ok()
        }
        Ok((room, _)) => reply::error(format!("not a member of room {room:?}")),
        Err(why) => reply::error(why),
    };
    reply::send(event.ack, &body);
}

/// socketioxide's local adapter broadcasts synchronously: the future its
/// `emit` returns is ready on the first poll. Polling it here keeps the
/// handler inline, in order with the sender's other events, as in the
/// reference, so that this variant has no second race.
fn broadcast_now(emit: impl Future<Output = Result<(), BroadcastError>>) {
    let mut emit = std::pin::pin!(emit);
    match emit.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(err)) => debug!(%err, "room broadcast not delivered"),
        Poll::Pending => debug!("room broadcast did not complete at once: dropped"),
    }
}
