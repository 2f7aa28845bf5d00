//! `spawned-chat`: `chat message` acks at once and relays from a spawned
//! task, which first has any link in the message checked by a (simulated)
//! URL-safety service. A plain message sent while the sender's previous
//! message, one with a link, is still being checked overtakes it: everyone
//! sees that sender's messages out of order.

use std::sync::Arc;
use std::time::Duration;

use socketioxide::extract::SocketRef;

use crate::chat::{self, CHAT_MESSAGE};
use crate::counter::Counter;
use crate::inline_handler::{Event, Inline};
use crate::{fanout, reply};

/// How long the URL-safety service takes to answer.
const LINK_CHECK_LATENCY: Duration = Duration::from_millis(10);

/// Swaps the reference's inline `chat message` relay for a spawned one.
pub(super) fn rewire(_counter: &Arc<Counter>, socket: &SocketRef) {
    socket.on(CHAT_MESSAGE, Inline(relay_later));
}

fn relay_later(event: Event) {
    let text = match chat::text_of(event.data.as_ref(), CHAT_MESSAGE) {
        Ok(text) => text.to_owned(),
        Err(refusal) => return reply::send(event.ack, &refusal),
    };
    reply::send(event.ack, &reply::ok());
    let io = event.io;
    tokio::spawn(async move {
        if has_link(&text) {
            super::store_round_trip(LINK_CHECK_LATENCY).await;
        }
        fanout::emit(fanout::everyone(&io), CHAT_MESSAGE, &text);
    });
}

fn has_link(text: &str) -> bool {
    text.contains("http://") || text.contains("https://")
}
