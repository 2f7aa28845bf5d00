//! A socket's events, handled one after another in the order they came.
//!
//! A cluster node's handlers await the bus, and socketioxide runs each
//! event's handler as its own task: a `leave` sent after a `room message`
//! could then be handled while the message is still being published, and
//! its sender, already gone from the room, would miss its own echo. Each
//! event is queued instead ([`Inline`], in the receive path, in order) and
//! one task per socket handles the queue.

use std::future::Future;
use std::pin::Pin;

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use tokio::sync::mpsc;
use tracing::warn;

use crate::inline_handler::{Event, Inline};

/// Events one socket may have waiting; more are dropped, with a warning.
const INBOX_CAPACITY: usize = 256;

type Handling = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One socket's queue of events to handle.
pub(crate) struct Inbox(mpsc::Sender<Handling>);

impl Inbox {
    /// A queue and the task that handles it; the task ends once the socket's
    /// handlers (which hold the queue) are gone.
    pub(crate) fn open() -> Self {
        let (queue, mut waiting) = mpsc::channel::<Handling>(INBOX_CAPACITY);
        tokio::spawn(async move {
            while let Some(handling) = waiting.recv().await {
                handling.await;
            }
        });
        Self(queue)
    }

    /// Handles the socket's `event`s with `handle`, in turn with its others.
    pub(crate) fn on<A, F, Fut>(&self, socket: &SocketRef<A>, event: &'static str, handle: F)
    where
        A: Adapter,
        F: Fn(Event<A>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let queue = self.0.clone();
        socket.on(
            event,
            Inline(move |arrived: Event<A>| {
                let sid = arrived.socket.id;
                if queue.try_send(Box::pin(handle(arrived))).is_err() {
                    warn!(%sid, event, "an event was dropped: the socket's inbox is full");
                }
            }),
        );
    }
}
