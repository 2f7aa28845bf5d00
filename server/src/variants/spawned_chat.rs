//! `spawned-chat`: `chat message` gets an async handler, which socketioxide
//! runs as a task of its own, and which saves the message to the history
//! store before relaying it (then acks, so the sender still sees its echo
//! first). The sender's next events are still handled inline as they arrive:
//! a `chat broadcast` (ephemeral, never stored) sent while the message before
//! it is being saved overtakes it, and everyone sees that sender's chat out
//! of order.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef, TryData};

use crate::chat::{self, CHAT_MESSAGE};
use crate::counter::Counter;
use crate::{fanout, reply};

/// How long the history store takes to save a message.
const STORE_LATENCY: Duration = Duration::from_millis(10);

/// Swaps the reference's inline `chat message` relay for a spawned one.
pub(super) fn rewire(_counter: &Arc<Counter>, socket: &SocketRef) {
    socket.on(
        CHAT_MESSAGE,
        async |io: SocketIo, TryData(data): TryData<Value>, ack: AckSender| {
            let data = data.ok();
            let text = match chat::text_of(data.as_ref(), CHAT_MESSAGE) {
                Ok(text) => text.to_owned(),
                Err(refusal) => return reply::send(ack, &refusal),
            };
            super::store_round_trip(STORE_LATENCY).await;
            fanout::broadcast(fanout::everyone(&io), CHAT_MESSAGE, &text);
            reply::send(ack, &reply::ok());
        },
    );
}
