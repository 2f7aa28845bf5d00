//! Emitting one event to a set of sockets, synchronously.
//!
//! socketioxide's `BroadcastOperators::emit` is async; emitting to each
//! socket with the synchronous `SocketRef::emit` instead lets a caller hold a
//! plain mutex across "change state, tell everyone", so every socket sees the
//! state's changes in the order they happened.

use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use tracing::debug;

/// The namespace every seed-app socket lives in.
pub(crate) const NAMESPACE: &str = "/";

/// Every socket connected to the seed app's namespace, sender included.
pub(crate) fn everyone(io: &SocketIo) -> Vec<SocketRef> {
    in_stable_order(io.of(NAMESPACE).map(|ns| ns.sockets()))
}

/// Every socket of the seed app's namespace that has joined `room`.
pub(crate) fn members(io: &SocketIo, room: &str) -> Vec<SocketRef> {
    in_stable_order(
        io.of(NAMESPACE)
            .map(|ns| ns.within(room.to_owned()).sockets()),
    )
}

/// socketioxide keeps sockets in a `HashMap`, whose iteration order changes
/// from run to run; emitting in socket-id order instead keeps a simulated
/// run replayable.
fn in_stable_order(sockets: Option<Vec<SocketRef>>) -> Vec<SocketRef> {
    let mut sockets = sockets.unwrap_or_default();
    sockets.sort_by_key(|socket| socket.id);
    sockets
}

/// Emits `event` with one argument `data` to each of `sockets`. A socket
/// that has just gone, or whose outgoing buffer is full, misses the event,
/// exactly as with socketioxide's own broadcast.
pub(crate) fn emit<T: serde::Serialize + ?Sized>(
    sockets: impl IntoIterator<Item = SocketRef>,
    event: &str,
    data: &T,
) {
    for socket in sockets {
        emit_one(&socket, event, data);
    }
}

/// Emits `event` with one argument `data` to `socket` alone.
pub(crate) fn emit_one<T: serde::Serialize + ?Sized>(socket: &SocketRef, event: &str, data: &T) {
    if let Err(err) = socket.emit(event, data) {
        debug!(sid = %socket.id, event, %err, "emit not delivered");
    }
}
