//! The chat: `chat message` to everyone, `chat broadcast` to everyone else.

use crate::fanout;
use crate::inline_handler::{Event, Inline};
use crate::reply;
use socketioxide::extract::SocketRef;

/// Relayed to every socket, sender included.
pub(crate) const CHAT_MESSAGE: &str = "chat message";
/// Relayed to every socket except the sender.
pub(crate) const CHAT_BROADCAST: &str = "chat broadcast";

/// Registers both chat events on `socket`.
pub(crate) fn register(socket: &SocketRef) {
    socket.on(
        CHAT_MESSAGE,
        Inline(|event: Event| relay(event, CHAT_MESSAGE, true)),
    );
    socket.on(
        CHAT_BROADCAST,
        Inline(|event: Event| relay(event, CHAT_BROADCAST, false)),
    );
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
    let sender = event.socket.id;
    let recipients = fanout::everyone(&event.io)
        .into_iter()
        .filter(|socket| include_sender || socket.id != sender);
    fanout::emit(recipients, name, text);
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
