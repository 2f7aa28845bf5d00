//! The seed app: the counter + chat + rooms + realtime-REST Socket.IO server
//! that siosim uses as its reference. It is a plain application: it knows
//! nothing of any test harness, reads no clock and no randomness of its own,
//! and starts no background task that outlives its connections, so it runs
//! unchanged on real sockets and in simulated time.
//!
//! * [`app`] builds the whole HTTP application as an [`axum::Router`].
//! * [`serve`] runs it on any [`axum::serve::Listener`] until shut down,
//!   with the limits of a server facing the internet (header and body
//!   deadlines, a head size, a write-stall bound, a connection limit).
//! * [`Server`] is a built app with its shutdown handles, so a racy variant
//!   (feature `racy`) is served with the same graceful shutdown.
//!
//! It also answers the official Socket.IO protocol test suite's echo
//! contract (`auth`, `message`, `message-with-ack`, namespace `/custom`).
//!
//! The wire contract (events, payloads, recipients, REST routes) is in
//! README.md, under "The seed-app contract".

mod chat;
pub mod cluster;
mod config;
mod counter;
mod echo;
mod engine_request;
mod fanout;
mod http_server;
mod inline_handler;
mod kick;
mod lifecycle;
mod page;
mod plain_ws;
mod poll;
mod reply;
mod rooms;
mod session_alias;
mod session_guard;
mod things;
#[cfg(feature = "racy")]
pub mod variants;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use socketioxide::SocketIo;
use tokio::sync::watch;

pub use config::Config;
pub use page::CLIENT_SCRIPT_PATH;
pub use plain_ws::{ECHO_PREFIX, GREETING, PATH as PLAIN_WS_PATH};
pub use poll::ROOM_POLL_DEADLINE;
pub use rooms::MAX_ROOM_NAME_CHARS;
pub use things::{MAX_THING_BODY_BYTES, MAX_THING_NAME_CHARS, MAX_THINGS};

/// A fresh seed app: new counter, no things, no sockets. Each call is an
/// independent server, so rebuilding it models a restarted host.
pub fn app(config: &Config) -> Router {
    Server::reference(config).into_router()
}

/// Serves a fresh seed app on `listener` until `shutdown` resolves; see
/// [`Server::serve`].
pub async fn serve<L>(
    listener: L,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: Debug,
{
    Server::reference(config).serve(listener, shutdown).await
}

/// A built app and the handles that shut it down gracefully.
pub struct Server {
    router: Router,
    io: SocketIo,
    plain_ws_shutdown: watch::Sender<bool>,
    limits: http_server::Limits,
}

impl Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// A fresh reference seed app.
    pub fn reference(config: &Config) -> Self {
        build(config, lifecycle::keep_reference)
    }

    /// The app alone. Dropping the shutdown handle means plain WebSocket
    /// connections are closed only by their clients, which is all a bare
    /// Router can promise.
    pub fn into_router(self) -> Router {
        self.router
    }

    /// Serves the app on `listener` until `shutdown` resolves, then stops
    /// accepting, closes every Socket.IO client's transport (the official
    /// client reports "transport close", or "transport error" for a
    /// long-polling client with no request pending, and by default tries to
    /// reconnect, as it would after a restarted host), closes the plain
    /// WebSockets and waits for in-flight HTTP requests to finish (at most
    /// 10 s).
    pub async fn serve<L>(
        self,
        listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()>
    where
        L: axum::serve::Listener,
        L::Addr: Debug,
    {
        self.serve_with(listener, shutdown).await
    }

    /// [`serve`](Self::serve) on real TCP, with Nagle's algorithm off on
    /// every connection: a Socket.IO server writes many small frames (an ack,
    /// then a broadcast), and with Nagle on each second frame waits for the
    /// client's delayed ACK, 40 ms on Linux. Node's http server does the same
    /// (`noDelay` is its default).
    pub async fn serve_tcp(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::serve::ListenerExt as _;
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "could not turn Nagle's algorithm off");
            }
        });
        self.serve_with(listener, shutdown).await
    }

    async fn serve_with<L>(
        self,
        listener: L,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()>
    where
        L: axum::serve::Listener,
        L::Addr: Debug,
    {
        let Self {
            router,
            io,
            plain_ws_shutdown,
            limits,
        } = self;
        let shutdown = async move {
            shutdown.await;
            // Upgraded connections are no longer tracked by the graceful
            // shutdown; without these they would outlive `serve`.
            plain_ws_shutdown.send_replace(true);
            io.close().await;
        };
        http_server::serve(listener, router, limits, shutdown).await
    }
}

/// Builds the app; `rewire` swaps handlers for a racy variant.
fn build(config: &Config, rewire: lifecycle::Rewire) -> Server {
    let (layer, io) = config.socketio_builder().build_layer();
    io.ns(
        fanout::NAMESPACE,
        lifecycle::Lifecycle {
            counter: Arc::default(),
            chat: Arc::default(),
            rewire,
        },
    );
    io.ns(echo::CUSTOM_NAMESPACE, echo::greet_custom);
    let (plain_ws_shutdown, plain_ws_shutdown_rx) = watch::channel(false);
    let router = Router::new()
        .merge(page::routes(&config.socketio_path))
        .merge(things::routes(io.clone()))
        .merge(plain_ws::routes(plain_ws_shutdown_rx))
        .layer(layer)
        .layer(session_guard::SessionGuardLayer::new(&config.socketio_path))
        .layer(session_alias::SessionAliasLayer::new(&config.socketio_path));
    Server {
        router,
        io,
        plain_ws_shutdown,
        limits: config.http_limits(),
    }
}
