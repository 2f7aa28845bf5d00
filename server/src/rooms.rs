//! Rooms: `join` / `leave` a named room, `room message` to its members only.

use serde_json::Value;
use socketioxide::extract::SocketRef;

use crate::fanout;
use crate::inline_handler::{Event, Inline};
use crate::reply;

/// Joins the room named by the string argument; acks when done.
pub(crate) const JOIN: &str = "join";
/// Leaves the room named by the string argument; acks when done. Leaving a
/// room one is not in is not an error: the end state is the one asked for.
pub(crate) const LEAVE: &str = "leave";
/// `{room, msg}` in, relayed as the same object to the room's members.
pub(crate) const ROOM_MESSAGE: &str = "room message";

/// Longest room name accepted, in characters. Room names end up in every
/// member's messages and in the server's room table, so they are kept short.
pub const MAX_ROOM_NAME_CHARS: usize = 64;

/// Registers the room events on `socket`.
pub(crate) fn register(socket: &SocketRef) {
    socket.on(JOIN, Inline(join));
    socket.on(LEAVE, Inline(leave));
    socket.on(ROOM_MESSAGE, Inline(post));
}

fn join(event: Event) {
    let body = match room_name(event.data.as_ref()) {
        Ok(room) => {
            event.socket.join(room.to_owned());
            reply::ok()
        }
        Err(why) => reply::error(why),
    };
    reply::send(event.ack, &body);
}

fn leave(event: Event) {
    let body = match room_name(event.data.as_ref()) {
        Ok(room) => {
            event.socket.leave(room.to_owned());
            reply::ok()
        }
        Err(why) => reply::error(why),
    };
    reply::send(event.ack, &body);
}

/// Relays `{room, msg}` to the room's members, sender included. Only a
/// member may post: otherwise anyone could write into any room by name.
fn post(event: Event) {
    let body = match room_post(event.data.as_ref()) {
        Ok((room, msg)) if is_member(&event.socket, room) => {
            fanout::broadcast(
                Some(event.socket.within(room.to_owned())),
                ROOM_MESSAGE,
                &serde_json::json!({ "room": room, "msg": msg }),
            );
            reply::ok()
        }
        Ok((room, _)) => reply::error(format!("not a member of room {room:?}")),
        Err(why) => reply::error(why),
    };
    reply::send(event.ack, &body);
}

pub(crate) fn is_member<A: socketioxide::adapter::Adapter>(
    socket: &SocketRef<A>,
    room: &str,
) -> bool {
    socket.rooms().iter().any(|joined| joined == room)
}

/// Validates a room name argument.
pub(crate) fn room_name(data: Option<&Value>) -> Result<&str, String> {
    match data {
        Some(Value::String(name)) => valid_room_name(name),
        _ => Err("expected a room name (string)".to_owned()),
    }
}

fn valid_room_name(name: &str) -> Result<&str, String> {
    if name.is_empty() {
        Err("room name must not be empty".to_owned())
    } else if name.chars().count() > MAX_ROOM_NAME_CHARS {
        Err(format!(
            "room name must be at most {MAX_ROOM_NAME_CHARS} characters"
        ))
    } else {
        Ok(name)
    }
}

/// Validates a `{room, msg}` argument.
pub(crate) fn room_post(data: Option<&Value>) -> Result<(&str, &str), String> {
    let Some(Value::Object(post)) = data else {
        return Err("expected {room, msg}".to_owned());
    };
    let room = match post.get("room") {
        Some(Value::String(room)) => valid_room_name(room)?,
        _ => return Err("room must be a string".to_owned()),
    };
    match post.get("msg") {
        Some(Value::String(msg)) => Ok((room, msg)),
        _ => Err("msg must be a string".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn room_names_are_bounded() {
        assert!(room_name(Some(&json!("lobby"))).is_ok());
        assert!(room_name(Some(&json!(""))).is_err());
        assert!(room_name(Some(&json!("é".repeat(MAX_ROOM_NAME_CHARS)))).is_ok());
        assert!(room_name(Some(&json!("x".repeat(MAX_ROOM_NAME_CHARS + 1)))).is_err());
        assert!(room_name(Some(&json!(7))).is_err());
        assert!(room_name(None).is_err());
    }

    #[test]
    fn posts_need_room_and_string_msg() {
        assert_eq!(
            room_post(Some(&json!({"room": "r", "msg": "m"}))),
            Ok(("r", "m"))
        );
        assert!(room_post(Some(&json!({"room": "r"}))).is_err());
        assert!(room_post(Some(&json!({"room": "r", "msg": 1}))).is_err());
        assert!(room_post(Some(&json!({"room": "", "msg": "m"}))).is_err());
        assert!(room_post(Some(&json!(["r", "m"]))).is_err());
    }
}
