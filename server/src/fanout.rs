//! Emitting one event to a set of sockets, synchronously.
//!
//! Two ways, both callable under a plain mutex held across "change state,
//! tell everyone", so every socket sees the state's changes in the order they
//! happened:
//!
//! * [`broadcast`] hands the event to socketioxide's broadcast, which encodes
//!   the packet once and queues the same bytes for every recipient. A large
//!   chat message to many idle clients then costs one copy, not one per
//!   recipient (200 recipients of a 900 KB message had cost 180 MB).
//! * [`emit`] emits to each socket of a list the server picked itself, for a
//!   recipient set no room describes (greeted sockets); it encodes per socket,
//!   so it is kept for small payloads.

use futures_util::FutureExt as _;
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use tracing::debug;

/// The namespace every seed-app socket lives in.
pub(crate) const NAMESPACE: &str = "/";

/// Every socket connected to the seed app's namespace, sender included.
pub(crate) fn everyone(io: &SocketIo) -> Option<BroadcastOperators> {
    io.of(NAMESPACE)
}

/// Every socket connected to the seed app's namespace, in socket-id order.
pub(crate) fn everyone_listed(io: &SocketIo) -> Vec<SocketRef> {
    let mut sockets = io.of(NAMESPACE).map(|ns| ns.sockets()).unwrap_or_default();
    // socketioxide keeps sockets in a `HashMap`; a fixed order keeps the
    // emits' order the same whatever its hash keys.
    sockets.sort_by_key(|socket| socket.id);
    sockets
}

/// Emits `event` with one argument `data` to every socket `recipients`
/// selects, encoding it once. A socket that has just gone, or whose outgoing
/// buffer is full, misses the event.
pub(crate) fn broadcast<T: serde::Serialize + ?Sized>(
    recipients: Option<BroadcastOperators>,
    event: &str,
    data: &T,
) {
    let Some(recipients) = recipients else {
        return;
    };
    // The local adapter's broadcast is done when its future is first polled
    // (socketioxide-core's `CoreAdapter::broadcast` returns a ready future),
    // so it completes here, inside the caller's lock.
    match recipients.emit(event, data).now_or_never() {
        Some(Ok(())) => {}
        Some(Err(err)) => debug!(event, %err, "broadcast not delivered to every socket"),
        None => debug!(event, "broadcast pending: not the local adapter"),
    }
}

/// Emits `event` with one argument `data` to each of `sockets`, in order.
/// A socket that has just gone, or whose outgoing buffer is full, misses the
/// event, exactly as with socketioxide's own broadcast.
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
