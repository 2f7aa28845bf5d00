//! Socket.IO event handlers that run where the packet is received.
//!
//! socketioxide's closure handlers are each `tokio::spawn`ed, one task per
//! incoming packet. Two events from the same client can then be handled in
//! either order, and a relay can overtake the ack of the event before it.
//! The seed app is the reference the simulation compares against, so it must
//! keep Socket.IO's usual guarantee instead: a client's events are handled
//! in the order they were sent, and whatever a handler emits is queued before
//! its ack. `Inline` implements socketioxide's public `MessageHandler` trait
//! with a synchronous body, so the work happens inside the engine's receive
//! path, in order, with no extra task.
//!
//! `InlineDisconnect` does the same for the disconnect handler. socketioxide
//! removes a socket from its namespace only once its disconnect handler's
//! spawned task has run, and until then ignores a CONNECT for that
//! namespace from the same session: a client that sends DISCONNECT and then
//! CONNECT could see its CONNECT dropped, never answered, whenever the
//! spawned task ran late.

use std::sync::Arc;

use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::{DisconnectHandler, FromMessageParts, MessageHandler};
use socketioxide::socket::{DisconnectReason, Socket};

/// What an inline handler is given for one incoming event.
pub(crate) struct Event<A: Adapter = LocalAdapter> {
    /// The sender.
    pub socket: SocketRef<A>,
    /// The server, to reach the sender's whole namespace.
    pub io: SocketIo<A>,
    /// The event's first argument; `None` when the client sent no argument
    /// (or one that is not JSON, e.g. binary), which every handler treats as
    /// a malformed payload.
    pub data: Option<serde_json::Value>,
    /// Answers the client's ack callback; does nothing if it asked for none.
    pub ack: AckSender<A>,
}

/// A synchronous handler, registered with `socket.on(name, Inline(f))`.
#[derive(Debug, Clone)]
pub(crate) struct Inline<F>(pub F);

/// Type marker so `Inline` does not overlap socketioxide's closure impls.
#[derive(Debug)]
pub(crate) enum InlineMarker {}

impl<A: Adapter, F> MessageHandler<A, InlineMarker> for Inline<F>
where
    F: Fn(Event<A>) + Send + Sync + 'static,
{
    fn call(&self, s: Arc<Socket<A>>, mut v: socketioxide_core::Value, ack_id: Option<i64>) {
        // All three extractors are infallible (their error type is `Infallible`).
        let Ok(TryData(data)) =
            TryData::<serde_json::Value>::from_message_parts(&s, &mut v, &ack_id);
        let Ok(ack) = AckSender::<A>::from_message_parts(&s, &mut v, &ack_id);
        let Ok(io) = SocketIo::<A>::from_message_parts(&s, &mut v, &ack_id);
        (self.0)(Event {
            socket: SocketRef::from(s),
            io,
            data: data.ok(),
            ack,
        });
    }
}

/// A synchronous disconnect handler, registered with
/// `socket.on_disconnect(InlineDisconnect(f))`: `f` runs, then the socket
/// leaves its namespace, both before the packet that ended it is done with.
#[derive(Debug, Clone)]
pub(crate) struct InlineDisconnect<F>(pub F);

impl<F> DisconnectHandler<LocalAdapter, InlineMarker> for InlineDisconnect<F>
where
    F: Fn(&SocketRef, DisconnectReason) + Send + Sync + 'static,
{
    fn call_with_defer(
        &self,
        s: Arc<Socket<LocalAdapter>>,
        reason: DisconnectReason,
        defer: fn(Arc<Socket<LocalAdapter>>),
    ) {
        (self.0)(&SocketRef::from(s.clone()), reason);
        defer(s);
    }
}
