//! `kick`: a client has the server disconnect a socket by its id, on
//! whichever node it is: the server-side namespace disconnect a moderator
//! tool would send, and in a cluster a request every node must carry out.

use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::Sid;
use tracing::debug;

use crate::inline_handler::{Event, Inline};
use crate::reply;

/// A socket id in; that socket gets a DISCONNECT for `/`.
pub(crate) const KICK: &str = "kick";

/// Validates the socket id argument. Any string is one: an id no socket has
/// kicks nobody.
pub(crate) fn target(data: Option<&Value>) -> Result<&str, String> {
    match data {
        Some(Value::String(id)) => Ok(id),
        _ => Err("expected a socket id (string)".to_owned()),
    }
}

/// Registers `kick` on a socket of the single-server app.
pub(crate) fn register(socket: &SocketRef<LocalAdapter>) {
    socket.on(KICK, Inline(kick));
}

/// Acks, then disconnects the socket named (the ack first, so that a socket
/// kicking itself still gets it).
fn kick(event: Event) {
    match target(event.data.as_ref()) {
        Ok(id) => {
            reply::send(event.ack, &reply::ok());
            let kicked = id
                .parse::<Sid>()
                .ok()
                .and_then(|sid| event.io.get_socket(sid));
            if let Some(kicked) = kicked
                && let Err(error) = kicked.disconnect()
            {
                debug!(%id, %error, "the kicked socket could not be told");
            }
        }
        Err(why) => reply::send(event.ack, &reply::error(why)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_target_is_any_string() {
        assert_eq!(target(Some(&json!("abc"))), Ok("abc"));
        assert_eq!(target(Some(&json!(""))), Ok(""));
        assert!(target(Some(&json!(7))).is_err());
        assert!(target(Some(&json!(["abc"]))).is_err());
        assert!(target(None).is_err());
    }
}
