//! The echo contract of the official Socket.IO protocol test suite
//! (socketio/socket.io-protocol, "Test suite"), served next to the seed app:
//!
//! * every socket, in `/` and in `/custom`, is sent `auth` with the auth
//!   payload it connected with (`{}` when it sent none);
//! * in `/`, `message` is sent back as `message-back` with the same
//!   arguments, and `message-with-ack` is acked with its own arguments.
//!
//! Arguments go back exactly as they came, binary attachments included, so
//! any client can check the server's codec against its own.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::{FromConnectParts, FromMessageParts, MessageHandler};
use socketioxide::socket::Socket;
use tracing::debug;

use crate::fanout;

/// The second namespace of the official test server, which only says `auth`.
pub(crate) const CUSTOM_NAMESPACE: &str = "/custom";
/// Sent to every new socket with the auth payload of its CONNECT packet.
pub(crate) const AUTH: &str = "auth";
/// Sent back as [`MESSAGE_BACK`].
pub(crate) const MESSAGE: &str = "message";
/// The reply to [`MESSAGE`], with the same arguments.
pub(crate) const MESSAGE_BACK: &str = "message-back";
/// Acked with its own arguments.
pub(crate) const MESSAGE_WITH_ACK: &str = "message-with-ack";

/// Registers `message` and `message-with-ack` on `socket`.
pub(crate) fn register(socket: &SocketRef) {
    socket.on(MESSAGE, Echo::SendBack);
    socket.on(MESSAGE_WITH_ACK, Echo::Ack);
}

/// Sends `socket` the auth payload it connected with.
pub(crate) fn greet(socket: &Arc<Socket<LocalAdapter>>, auth: &Option<socketioxide_core::Value>) {
    // `TryData`'s connect extractor reads a missing payload as `{}`, which
    // is what the official server's `socket.handshake.auth` holds then.
    let Ok(auth) = TryData::<serde_json::Value>::from_connect_parts(socket, auth);
    send_auth(&SocketRef::from(socket.clone()), auth);
}

/// The connect handler of [`CUSTOM_NAMESPACE`].
pub(crate) async fn greet_custom(socket: SocketRef, auth: TryData<serde_json::Value>) {
    send_auth(&socket, auth);
}

fn send_auth(socket: &SocketRef, TryData(auth): TryData<serde_json::Value>) {
    match auth {
        Ok(auth) => fanout::emit_one(socket, AUTH, &auth),
        Err(err) => debug!(sid = %socket.id, %err, "auth payload not JSON; not echoed"),
    }
}

/// The two echo handlers. Like the seed app's (see `inline_handler`), they
/// run synchronously where the packet is received, so a client's echoes
/// come back in the order it sent them.
#[derive(Debug, Clone, Copy)]
enum Echo {
    /// Emits `message-back` with the event's arguments.
    SendBack,
    /// Acks with the event's arguments; does nothing if no ack was asked for.
    Ack,
}

/// Type marker for `Echo`'s `MessageHandler` impl.
#[derive(Debug)]
enum EchoMarker {}

impl MessageHandler<LocalAdapter, EchoMarker> for Echo {
    fn call(
        &self,
        s: Arc<Socket<LocalAdapter>>,
        mut v: socketioxide_core::Value,
        ack_id: Option<i64>,
    ) {
        // Both extractors are infallible (their error type is `Infallible`).
        let Ok(TryData(args)) = TryData::<Args>::from_message_parts(&s, &mut v, &ack_id);
        let Ok(ack) = AckSender::from_message_parts(&s, &mut v, &ack_id);
        let socket = SocketRef::from(s);
        let args = match args {
            Ok(args) => args,
            Err(err) => {
                debug!(sid = %socket.id, %err, "echo arguments unreadable; ignored");
                return;
            }
        };
        match self {
            Echo::SendBack => fanout::emit_one(&socket, MESSAGE_BACK, &args),
            Echo::Ack => {
                if let Err(err) = ack.send(&args) {
                    debug!(sid = %socket.id, %err, "echo ack not delivered");
                }
            }
        }
    }
}

/// All the arguments of one event, in order. Serialized as a tuple, which
/// socketioxide spreads into separate arguments (and reads back the same
/// way), instead of one array argument.
#[derive(Debug, Clone, PartialEq)]
struct Args(Vec<Arg>);

/// One argument: JSON, except that binary stays binary. `serde_json::Value`
/// would turn an attachment into an array of numbers.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
    Binary(Vec<u8>),
    List(Vec<Arg>),
    /// Keys in the order received, so the echo is byte-identical.
    Object(Vec<(String, Arg)>),
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A tuple of unknown length: socketioxide checks for `deserialize_tuple`
        // to hand over every argument rather than only the first.
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

struct ArgsVisitor;

impl<'de> Visitor<'de> for ArgsVisitor {
    type Value = Args;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of event arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Args, A::Error> {
        collect(seq).map(Args)
    }
}

/// Every element of a sequence, in order.
fn collect<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<Arg>, A::Error> {
    let mut items = Vec::new();
    while let Some(item) = seq.next_element()? {
        items.push(item);
    }
    Ok(items)
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Null => serializer.serialize_unit(),
            Arg::Bool(b) => serializer.serialize_bool(*b),
            Arg::Number(n) => n.serialize(serializer),
            Arg::Text(s) => serializer.serialize_str(s),
            // socketioxide's serializer turns bytes into an attachment.
            Arg::Binary(bytes) => serializer.serialize_bytes(bytes),
            Arg::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Arg::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // socketioxide's deserializer answers `deserialize_any` on an
        // attachment placeholder with `visit_byte_buf`.
        deserializer.deserialize_any(ArgVisitor)
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value or binary data")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        serde_json::Number::from_f64(v)
            .map(Arg::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Text(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Binary(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Arg, E> {
        Ok(Arg::Binary(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Arg, A::Error> {
        collect(seq).map(Arg::List)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut fields = Vec::new();
        while let Some(field) = map.next_entry()? {
            fields.push(field);
        }
        Ok(Arg::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arguments_keep_their_order_and_shape() {
        let raw = r#"[1,-2,3.5,"x",null,true,[{"b":1,"a":[]}]]"#;
        let args: Args = serde_json::from_str(raw).expect("valid JSON");
        assert_eq!(serde_json::to_string(&args).expect("serializes"), raw);
    }
}
