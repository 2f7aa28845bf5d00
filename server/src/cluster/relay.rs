//! The chat, the rooms, `room poll` and `kick` across a cluster: the same
//! events and checks as the single-server app's (`chat.rs`, `rooms.rs`,
//! `poll.rs`, `kick.rs`), relayed through the adapter, which reaches every
//! node's sockets.

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use socketioxide::socket::Sid;
use tracing::warn;

use super::inbox::Inbox;
use crate::chat::{CHAT_BROADCAST, CHAT_MESSAGE, text_of};
use crate::inline_handler::Event;
use crate::kick::{self, KICK};
use crate::poll::{self, ROOM_POLL};
use crate::reply;
use crate::rooms::{self, JOIN, LEAVE, ROOM_MESSAGE};

/// Registers the chat and room events on `socket`.
pub(crate) fn register<A: Adapter>(socket: &SocketRef<A>, inbox: &Inbox) {
    inbox.on(socket, CHAT_MESSAGE, async |event: Event<A>| {
        let body = match text_of(event.data.as_ref(), CHAT_MESSAGE) {
            Ok(text) => outcome(event.io.emit(CHAT_MESSAGE, text).await),
            Err(refusal) => refusal,
        };
        ack_if_still_there(&event.socket, event.ack, &body);
    });
    inbox.on(socket, CHAT_BROADCAST, async |event: Event<A>| {
        let body = match text_of(event.data.as_ref(), CHAT_BROADCAST) {
            Ok(text) => outcome(event.socket.broadcast().emit(CHAT_BROADCAST, text).await),
            Err(refusal) => refusal,
        };
        reply::send(event.ack, &body);
    });
    inbox.on(socket, JOIN, async |event: Event<A>| {
        membership(event, |socket, room| socket.join(room));
    });
    inbox.on(socket, LEAVE, async |event: Event<A>| {
        membership(event, |socket, room| socket.leave(room));
    });
    inbox.on(socket, ROOM_MESSAGE, async |event: Event<A>| {
        let socket = &event.socket;
        let body = match rooms::room_post(event.data.as_ref()) {
            Ok((room, msg)) if rooms::is_member(socket, room) => {
                let post = json!({ "room": room, "msg": msg });
                outcome(
                    socket
                        .within(room.to_owned())
                        .emit(ROOM_MESSAGE, &post)
                        .await,
                )
            }
            Ok((room, _)) => reply::error(format!("not a member of room {room:?}")),
            Err(why) => reply::error(why),
        };
        ack_if_still_there(socket, event.ack, &body);
    });
    inbox.on(socket, ROOM_POLL, async |event: Event<A>| {
        // Asked in turn with the socket's other events; the answers are
        // awaited apart, so that its next events need not wait for them.
        match poll::ask(&event.socket, event.data.as_ref()).await {
            Ok(asked) => drop(tokio::spawn(poll::gather(asked, event.ack))),
            Err(refusal) => reply::send(event.ack, &refusal),
        }
    });
    inbox.on(socket, KICK, async |event: Event<A>| {
        match kick::target(event.data.as_ref()) {
            Ok(id) => {
                reply::send(event.ack, &reply::ok());
                // Every socket is in the room of its own id (see
                // `on_connect`); a string that is no socket id names a room
                // of members, and kicks nobody.
                let Ok(sid) = id.parse::<Sid>() else { return };
                if let Err(error) = event.io.to(sid).disconnect().await {
                    warn!(%id, %error, "the kick did not reach every node");
                }
            }
            Err(why) => reply::send(event.ack, &reply::error(why)),
        }
    });
}

/// `join` or `leave` (`change`) of the room named by the event, acked.
fn membership<A: Adapter>(event: Event<A>, change: impl FnOnce(&SocketRef<A>, String)) {
    let body = match rooms::room_name(event.data.as_ref()) {
        Ok(room) => {
            change(&event.socket, room.to_owned());
            reply::ok()
        }
        Err(why) => reply::error(why),
    };
    reply::send(event.ack, &body);
}

/// Acks a relay that includes its sender, unless the sender left the
/// namespace while the adapter published it: the relay then missed it (a
/// node delivers its own broadcast once Redis has it), and an ack would
/// claim an echo that never came.
fn ack_if_still_there<A: Adapter>(socket: &SocketRef<A>, ack: AckSender<A>, body: &Value) {
    if socket.connected() {
        reply::send(ack, body);
    }
}

/// The ack for a relay: `ok`, or why the cluster may not have it.
fn outcome<E: std::fmt::Display>(sent: Result<(), E>) -> Value {
    match sent {
        Ok(()) => reply::ok(),
        Err(error) => reply::error(format!("not relayed to every node: {error}")),
    }
}
