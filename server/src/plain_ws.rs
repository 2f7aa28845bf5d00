//! `/ws`: a plain WebSocket endpoint (no Socket.IO framing) that greets and
//! echoes, for clients and checks that speak raw WebSocket.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::watch;
use tracing::debug;

/// Path of the endpoint.
pub const PATH: &str = "/ws";
/// First text frame sent on every connection.
pub const GREETING: &str = "Hello! I am a server.";
/// Prefix of the reply to each text frame.
pub const ECHO_PREFIX: &str = "You said: ";
/// Largest message accepted, in bytes: this is an echo toy, not a transfer
/// channel, and the default (64 MiB) would let one client pin that much memory.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The `/ws` route. Connections close with a Close frame once `shutdown`
/// turns true; a dropped sender means "never".
pub(crate) fn routes(shutdown: watch::Receiver<bool>) -> Router {
    Router::new().route(PATH, get(upgrade)).with_state(shutdown)
}

async fn upgrade(State(shutdown): State<watch::Receiver<bool>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| converse(socket, shutdown))
}

/// Greets, then answers every text frame until the client leaves, the
/// connection breaks, or the server shuts down.
async fn converse(mut socket: WebSocket, mut shutdown: watch::Receiver<bool>) {
    if socket.send(Message::text(GREETING)).await.is_err() {
        return;
    }
    loop {
        let incoming = tokio::select! {
            incoming = socket.recv() => incoming,
            () = shutdown_requested(&mut shutdown) => {
                // Best effort: the client may already be gone.
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        };
        let reply = match incoming {
            Some(Ok(Message::Text(text))) => {
                Message::text(format!("{ECHO_PREFIX}{}", text.as_str()))
            }
            // Binary frames come back unchanged: there is no text to quote.
            Some(Ok(Message::Binary(bytes))) => Message::Binary(bytes),
            // Pings are answered by the WebSocket layer itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            // Keep reading after a Close: the next read flushes the
            // automatic Close reply and then ends the stream cleanly.
            Some(Ok(Message::Close(_))) => continue,
            None => return,
            Some(Err(err)) => {
                debug!(%err, "plain websocket closed by error");
                return;
            }
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}

/// Resolves when shutdown is requested; never, if the sender is gone
/// without requesting it (the app was built without `serve`).
async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|requested| *requested).await.is_err() {
        std::future::pending::<()>().await;
    }
}
