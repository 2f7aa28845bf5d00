//! A tiny socketioxide app the harness tests run against: the harness never
//! depends on siosim's reference server.

use std::time::Duration;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

pub const PING_INTERVAL: Duration = Duration::from_millis(1_000);
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// `echo` acks its argument; `shout` reaches every other socket; `kick`
/// makes the server end the session.
pub fn echo_app() -> axum::Router {
    let (layer, io) = SocketIo::builder()
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .build_layer();
    io.ns("/", async |socket: SocketRef| {
        tracing::info!(sid = %socket.id, "connect");
        socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
            let _ = ack.send(&data);
        });
        socket.on("shout", async |socket: SocketRef, Data::<Value>(data)| {
            let _ = socket.broadcast().emit("shout", &data).await;
        });
        socket.on("kick", async |socket: SocketRef| {
            socket.disconnect().ok();
        });
        socket.on_disconnect(
            async |socket: SocketRef, reason: socketioxide::socket::DisconnectReason| {
                tracing::info!(sid = %socket.id, ?reason, "disconnect");
            },
        );
    });
    axum::Router::new().layer(layer)
}
