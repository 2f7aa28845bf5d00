//! The chat: `chat message` to everyone, `chat broadcast` to everyone else.

use std::sync::{Arc, Mutex, PoisonError};

use crate::fanout;
use crate::inline_handler::{Event, Inline};
use crate::reply;
use socketioxide::extract::SocketRef;

/// Relayed to every socket, sender included.
pub(crate) const CHAT_MESSAGE: &str = "chat message";
/// Relayed to every socket except the sender.
pub(crate) const CHAT_BROADCAST: &str = "chat broadcast";

/// The order of one server's chat: relays hold its lock while they fan
/// out, so that two messages sent at once on a multi-threaded runtime reach
/// every socket in the same order (one total order, as a single-threaded
/// server gives for free).
#[derive(Debug, Default)]
pub(crate) struct Chat {
    order: Mutex<()>,
}

impl Chat {
    /// Registers both chat events on `socket`.
    pub(crate) fn register(self: &Arc<Self>, socket: &SocketRef) {
        let chat = self.clone();
        socket.on(
            CHAT_MESSAGE,
            Inline(move |event: Event| chat.relay(event, CHAT_MESSAGE, true)),
        );
        let chat = self.clone();
        socket.on(
            CHAT_BROADCAST,
            Inline(move |event: Event| chat.relay(event, CHAT_BROADCAST, false)),
        );
    }

    fn relay(&self, event: Event, name: &'static str, include_sender: bool) {
        let _in_order = self.order.lock().unwrap_or_else(PoisonError::into_inner);
        relay(event, name, include_sender);
    }
}

/// Relays a string message under the same event name. Anything but a string
/// is refused with an error ack and relayed to nobody, so a buggy or hostile
/// client cannot push arbitrary JSON into other users' chat.
fn relay(event: Event, name: &'static str, include_sender: bool) {
    let text = match text_of(event.data.as_ref(), name) {
        Ok(text) => text,
        Err(refusal) => {
            reply::send(event.ack, &refusal);
            return;
        }
    };
    let recipients = match include_sender {
        true => fanout::everyone(&event.io),
        false => Some(event.socket.broadcast()),
    };
    fanout::broadcast(recipients, name, text);
    reply::send(event.ack, &reply::ok());
}

/// The message's text, or the error ack that refuses anything but one string.
pub(crate) fn text_of<'a>(
    data: Option<&'a serde_json::Value>,
    name: &str,
) -> Result<&'a str, serde_json::Value> {
    match data {
        Some(serde_json::Value::String(text)) => Ok(text),
        _ => Err(reply::error(format!("{name} takes one string argument"))),
    }
}
