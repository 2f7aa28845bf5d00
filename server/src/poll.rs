//! `room poll`: a question put to a room's members, each asked for an ack;
//! the sender's ack gathers their answers. The one seed-app event that
//! broadcasts *with* acks, so that a cluster's acks from other nodes are
//! checked too (each answer exactly once).

use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use serde_json::{Value, json};
use socketioxide::AckError;
use socketioxide::ack::AckStream;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, SocketRef};

use crate::inline_handler::{Event, Inline};
use crate::reply;
use crate::rooms;

/// `{room, question}` in; `question` to each member, `{answers}` back.
pub(crate) const ROOM_POLL: &str = "room poll";

/// How long the members have to answer. A member still silent then is left
/// out of the answers, so one gone client cannot hold the sender's ack
/// forever.
pub const ROOM_POLL_DEADLINE: Duration = Duration::from_secs(5);

/// Registers `room poll` on a socket of the single-server app.
pub(crate) fn register(socket: &SocketRef<LocalAdapter>) {
    socket.on(ROOM_POLL, Inline(poll));
}

/// Puts the question to the members in the receive path, in order with the
/// sender's other events (the local adapter's broadcast is done when first
/// polled, as in `fanout::broadcast`); only the wait for the answers is a
/// task of its own.
fn poll(event: Event) {
    match ask(&event.socket, event.data.as_ref()).now_or_never() {
        Some(Ok(asked)) => {
            tokio::spawn(gather(asked, event.ack));
        }
        Some(Err(refusal)) => reply::send(event.ack, &refusal),
        None => reply::send(event.ack, &reply::error("the poll is still pending")),
    }
}

/// Validates a `{room, question}` argument.
pub(crate) fn poll_request(data: Option<&Value>) -> Result<(&str, &Value), String> {
    let Some(Value::Object(poll)) = data else {
        return Err("expected {room, question}".to_owned());
    };
    let room = rooms::room_name(poll.get("room"))?;
    match poll.get("question") {
        Some(question) => Ok((room, question)),
        None => Err("question is missing".to_owned()),
    }
}

/// Waits for every answer `asked` brings (each member's, until
/// [`ROOM_POLL_DEADLINE`]) and acks the sender `{"answers": [...]}`: the
/// first argument of each answer, `null` for an empty one.
pub(crate) async fn gather<A: Adapter>(asked: AckStream<Value, A>, ack: AckSender<A>) {
    let answers: Vec<Value> = asked
        .filter_map(
            async |(_, answer): (_, Result<Value, AckError>)| match answer {
                // socketioxide decodes the first argument; an empty ack has none.
                Ok(first) => Some(first),
                Err(AckError::Decode(_)) => Some(Value::Null),
                Err(_) => None,
            },
        )
        .collect()
        .await;
    reply::send(ack, &json!({ "answers": answers }));
}

/// Puts the poll to `room`'s members through `socket`'s adapter (every
/// node's), or says why not: the sender must be a member, as for `room
/// message`.
pub(crate) async fn ask<A: Adapter>(
    socket: &SocketRef<A>,
    data: Option<&Value>,
) -> Result<AckStream<Value, A>, Value> {
    let (room, question) = poll_request(data).map_err(reply::error)?;
    if !rooms::is_member(socket, room) {
        return Err(reply::error(format!("not a member of room {room:?}")));
    }
    socket
        .within(room.to_owned())
        .timeout(ROOM_POLL_DEADLINE)
        .emit_with_ack::<_, Value>(ROOM_POLL, question)
        .await
        .map_err(|error| reply::error(format!("the poll was not sent: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_need_a_valid_room_and_a_question() {
        let question = json!({"any": ["json"]});
        assert_eq!(
            poll_request(Some(&json!({"room": "r", "question": question}))),
            Ok(("r", &question))
        );
        assert_eq!(
            poll_request(Some(&json!({"room": "r", "question": null}))),
            Ok(("r", &Value::Null))
        );
        assert!(poll_request(Some(&json!({"room": "r"}))).is_err());
        assert!(poll_request(Some(&json!({"room": "", "question": 1}))).is_err());
        assert!(poll_request(Some(&json!({"room": 7, "question": 1}))).is_err());
        assert!(poll_request(Some(&json!(["r", 1]))).is_err());
        assert!(poll_request(None).is_err());
    }
}
