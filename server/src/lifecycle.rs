//! A socket's arrival in and departure from the seed app's namespace: wires
//! the per-socket event handlers, greets with the count and then the auth
//! echo, logs both ends.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::SocketRef;
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::{DisconnectReason, Socket};
use tracing::info;

use crate::chat::Chat;
use crate::counter::Counter;
use crate::echo;
use crate::inline_handler::InlineDisconnect;
use crate::{kick, poll, rooms};

/// The namespace's connect handler.
///
/// socketioxide sends the client its CONNECT packet *before* it runs (and
/// `tokio::spawn`s) an ordinary async connect handler, so a client that
/// emits as soon as it is connected could beat the handler's `socket.on`
/// calls and see its first events silently dropped. The event handlers are
/// therefore registered in `call_middleware`, which socketioxide awaits
/// before it sends CONNECT; `call` then runs synchronously right after
/// CONNECT is queued, so `get count` is always the first event a client sees,
/// and the echo contract's `auth` the second.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    pub counter: Arc<Counter>,
    pub chat: Arc<Chat>,
    pub rewire: Rewire,
}

/// Runs after a new socket's reference handlers are registered. The
/// reference app's is [`keep_reference`]; a racy variant swaps one handler
/// here (`socket.on` replaces the handler of the same name).
pub(crate) type Rewire = fn(&Arc<Counter>, &SocketRef);

/// The reference app's [`Rewire`]: changes nothing.
pub(crate) fn keep_reference(_counter: &Arc<Counter>, _socket: &SocketRef) {}

/// Type marker for `Lifecycle`'s `ConnectHandler` impl.
#[derive(Debug)]
pub(crate) enum LifecycleMarker {}

/// What socketioxide expects `call_middleware` to return.
type MiddlewareFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), Box<dyn Display + Send>>> + Send + 'a>>;

impl ConnectHandler<LocalAdapter, LifecycleMarker> for Lifecycle {
    fn call_middleware<'a>(
        &'a self,
        s: Arc<Socket<LocalAdapter>>,
        _auth: &'a Option<socketioxide_core::Value>,
    ) -> MiddlewareFuture<'a> {
        let socket = SocketRef::from(s);
        self.counter.register(&socket);
        self.chat.register(&socket);
        rooms::register(&socket);
        poll::register(&socket);
        kick::register(&socket);
        echo::register(&socket);
        socket.on_disconnect(InlineDisconnect(log_disconnect));
        (self.rewire)(&self.counter, &socket);
        Box::pin(std::future::ready(Ok(())))
    }

    fn call(&self, s: Arc<Socket<LocalAdapter>>, auth: Option<socketioxide_core::Value>) {
        let socket = SocketRef::from(s.clone());
        info!(sid = %socket.id, "connect");
        self.counter.greet(&socket);
        echo::greet(&s, &auth);
    }
}

/// The disconnect log line every socket's departure leaves.
pub(crate) fn log_disconnect(socket: &SocketRef, reason: DisconnectReason) {
    info!(sid = %socket.id, reason = ?reason, "disconnect");
}
