//! Socket.IO v5 packets, carried inside Engine.IO messages:
//!
//! ```text
//! <type digit>[<attachment count>-][<namespace>,][<ack id>][<JSON payload>]
//! ```
//!
//! followed, for BINARY_EVENT / BINARY_ACK, by the attachments as separate
//! Engine.IO binary packets.
//!
//! # How binary attachments appear in `serde_json::Value`
//!
//! `SioPacket::data` is the JSON payload exactly as on the wire, so binary
//! attachments stay as the placeholders `{"_placeholder":true,"num":N}` and
//! `attachments[N]` holds their bytes. This keeps traces faithful to the wire.
//! [`SioPacket::args`] is the readable view: it replaces each placeholder with
//! `{"$binary":"<standard base64>"}` (see [`SioPacket::binary_marker`]).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::ProtocolViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SioPacketKind {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

impl SioPacketKind {
    /// The digit that starts the packet on the wire.
    pub fn type_digit(self) -> char {
        match self {
            SioPacketKind::Connect => '0',
            SioPacketKind::Disconnect => '1',
            SioPacketKind::Event => '2',
            SioPacketKind::Ack => '3',
            SioPacketKind::ConnectError => '4',
            SioPacketKind::BinaryEvent => '5',
            SioPacketKind::BinaryAck => '6',
        }
    }

    fn from_type_byte(byte: u8) -> Option<SioPacketKind> {
        let kind = match byte {
            b'0' => SioPacketKind::Connect,
            b'1' => SioPacketKind::Disconnect,
            b'2' => SioPacketKind::Event,
            b'3' => SioPacketKind::Ack,
            b'4' => SioPacketKind::ConnectError,
            b'5' => SioPacketKind::BinaryEvent,
            b'6' => SioPacketKind::BinaryAck,
            _ => return None,
        };
        Some(kind)
    }

    pub fn is_binary(self) -> bool {
        matches!(self, SioPacketKind::BinaryEvent | SioPacketKind::BinaryAck)
    }

    /// The spec's name, used in violation reasons.
    fn spec_name(self) -> &'static str {
        match self {
            SioPacketKind::Connect => "CONNECT",
            SioPacketKind::Disconnect => "DISCONNECT",
            SioPacketKind::Event => "EVENT",
            SioPacketKind::Ack => "ACK",
            SioPacketKind::ConnectError => "CONNECT_ERROR",
            SioPacketKind::BinaryEvent => "BINARY_EVENT",
            SioPacketKind::BinaryAck => "BINARY_ACK",
        }
    }
}

pub const DEFAULT_NAMESPACE: &str = "/";

/// More attachments than this in one packet is treated as a violation: real
/// payloads carry a handful, and the bound keeps a hostile count from making
/// the client wait for (and buffer) an unbounded number of frames.
pub const MAX_ATTACHMENTS: usize = 64;

/// Event names the reference parser (socket.io-parser `isPayloadValid`) refuses,
/// because they collide with the client's own lifecycle events.
pub const RESERVED_EVENT_NAMES: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

const PLACEHOLDER_KEY: &str = "_placeholder";
const PLACEHOLDER_NUM_KEY: &str = "num";
const BINARY_MARKER_KEY: &str = "$binary";

/// One Socket.IO packet. See the module docs for how binary attachments are
/// represented.
#[derive(Debug, Clone, PartialEq)]
pub struct SioPacket {
    pub kind: SioPacketKind,
    /// Starts with '/'; `"/"` is the default namespace and is omitted on the wire.
    pub namespace: String,
    pub ack_id: Option<u64>,
    /// The JSON payload as on the wire: the whole `[name, ...args]` array for
    /// events, the args array for acks, the object for CONNECT / CONNECT_ERROR,
    /// `None` when the packet has no payload.
    pub data: Option<Value>,
    pub attachments: Vec<Bytes>,
}

/// The outcome of decoding the text part of a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum SioDecoded {
    Complete(SioPacket),
    /// A BINARY_* header: `packet.attachments` is empty and `expected` binary
    /// Engine.IO packets must follow (see `BinaryAssembler`).
    NeedsAttachments {
        packet: SioPacket,
        expected: usize,
    },
}

impl SioPacket {
    fn new(
        kind: SioPacketKind,
        namespace: &str,
        ack_id: Option<u64>,
        data: Option<Value>,
    ) -> SioPacket {
        SioPacket {
            kind,
            namespace: namespace.to_owned(),
            ack_id,
            data,
            attachments: Vec::new(),
        }
    }

    /// `EVENT` with payload `[event, ...args]`.
    pub fn event(namespace: &str, event: &str, args: Vec<Value>, ack_id: Option<u64>) -> SioPacket {
        SioPacket::new(
            SioPacketKind::Event,
            namespace,
            ack_id,
            Some(event_payload(event, args)),
        )
    }

    /// `BINARY_EVENT`: `args` reference `attachments` through
    /// [`SioPacket::placeholder`]s. Nothing is checked, so a test can build a
    /// deliberately inconsistent packet.
    pub fn binary_event(
        namespace: &str,
        event: &str,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        ack_id: Option<u64>,
    ) -> SioPacket {
        SioPacket {
            attachments,
            ..SioPacket::new(
                SioPacketKind::BinaryEvent,
                namespace,
                ack_id,
                Some(event_payload(event, args)),
            )
        }
    }

    pub fn ack(namespace: &str, ack_id: u64, args: Vec<Value>) -> SioPacket {
        SioPacket::new(
            SioPacketKind::Ack,
            namespace,
            Some(ack_id),
            Some(Value::Array(args)),
        )
    }

    /// `BINARY_ACK`, with placeholders in `args` as for [`SioPacket::binary_event`].
    pub fn binary_ack(
        namespace: &str,
        ack_id: u64,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
    ) -> SioPacket {
        SioPacket {
            attachments,
            ..SioPacket::new(
                SioPacketKind::BinaryAck,
                namespace,
                Some(ack_id),
                Some(Value::Array(args)),
            )
        }
    }

    /// `CONNECT`; from a client `auth` is the optional auth object, from a
    /// server the payload is `{"sid": …}`.
    pub fn connect(namespace: &str, auth: Option<Value>) -> SioPacket {
        SioPacket::new(SioPacketKind::Connect, namespace, None, auth)
    }

    /// `CONNECT_ERROR` with the v5 payload `{"message": …}`.
    pub fn connect_error(namespace: &str, message: &str) -> SioPacket {
        SioPacket::new(
            SioPacketKind::ConnectError,
            namespace,
            None,
            Some(json!({ "message": message })),
        )
    }

    pub fn disconnect(namespace: &str) -> SioPacket {
        SioPacket::new(SioPacketKind::Disconnect, namespace, None, None)
    }

    /// The wire placeholder `{"_placeholder":true,"num":num}` for `attachments[num]`.
    pub fn placeholder(num: usize) -> Value {
        json!({ PLACEHOLDER_KEY: true, PLACEHOLDER_NUM_KEY: num })
    }

    /// How [`SioPacket::args`] shows an attachment: `{"$binary":"<standard base64>"}`.
    pub fn binary_marker(bytes: &[u8]) -> Value {
        json!({ BINARY_MARKER_KEY: BASE64.encode(bytes) })
    }

    /// Client-to-server encoding: the text part (e.g. `2/chat,12["msg","hi"]`,
    /// `51-["up",{"_placeholder":true,"num":0}]`) and the attachments that must
    /// follow it as separate Engine.IO binary packets. Fields are written as
    /// they are (a namespace without '/' or with ',' included), so tests can
    /// produce broken packets on purpose.
    pub fn encode(&self) -> (String, Vec<Bytes>) {
        let mut text = String::new();
        text.push(self.kind.type_digit());
        if self.kind.is_binary() {
            let _ = write!(text, "{}-", self.attachments.len());
        }
        if !self.namespace.is_empty() && self.namespace != DEFAULT_NAMESPACE {
            text.push_str(&self.namespace);
            text.push(',');
        }
        if let Some(ack_id) = self.ack_id {
            let _ = write!(text, "{ack_id}");
        }
        if let Some(data) = &self.data {
            text.push_str(&data.to_string());
        }
        (text, self.attachments.clone())
    }

    /// Strictly decodes the text part of a packet sent by a server.
    ///
    /// Server-to-client rules (Socket.IO v5, plus the reference parser's
    /// payload checks): CONNECT carries an object with a non-empty string `sid`;
    /// CONNECT_ERROR an object with a string `message`; EVENT a non-empty array
    /// whose first element is a non-reserved string; ACK an ack id and an array;
    /// DISCONNECT nothing. BINARY_* start with an attachment count `N-`,
    /// 1 <= N <= [`MAX_ATTACHMENTS`], and every attachment is referenced by
    /// exactly one well-formed placeholder. A namespace is `/…` terminated by
    /// ',' and the default one is omitted. Numbers have no leading zeros and
    /// must fit in u64.
    pub fn decode(text: &str) -> Result<SioDecoded, ProtocolViolation> {
        decode_text_part(text).map_err(|reason| ProtocolViolation::new(text, reason))
    }

    /// The event name of an EVENT / BINARY_EVENT.
    pub fn event_name(&self) -> Option<&str> {
        match self.kind {
            SioPacketKind::Event | SioPacketKind::BinaryEvent => {
                self.data.as_ref()?.as_array()?.first()?.as_str()
            }
            _ => None,
        }
    }

    /// The arguments of an event (after its name) or of an ack, with each
    /// attachment placeholder replaced by `{"$binary":"<base64>"}`. Empty for
    /// other kinds. A placeholder pointing at a missing attachment is left as is.
    pub fn args(&self) -> Vec<Value> {
        let Some(Value::Array(items)) = &self.data else {
            return Vec::new();
        };
        let args = match self.kind {
            SioPacketKind::Event | SioPacketKind::BinaryEvent => items.get(1..).unwrap_or_default(),
            SioPacketKind::Ack | SioPacketKind::BinaryAck => items.as_slice(),
            _ => return Vec::new(),
        };
        if self.kind.is_binary() {
            args.iter()
                .map(|arg| inline_attachments(arg, &self.attachments))
                .collect()
        } else {
            args.to_vec()
        }
    }
}

fn event_payload(event: &str, args: Vec<Value>) -> Value {
    let mut items = Vec::with_capacity(args.len() + 1);
    items.push(Value::String(event.to_owned()));
    items.extend(args);
    Value::Array(items)
}

/// Like the reference parser, any object with `"_placeholder": true` is a
/// placeholder (whatever else it holds).
fn is_placeholder(object: &Map<String, Value>) -> bool {
    object.get(PLACEHOLDER_KEY) == Some(&Value::Bool(true))
}

fn inline_attachments(value: &Value, attachments: &[Bytes]) -> Value {
    match value {
        Value::Object(object) if is_placeholder(object) => {
            let attachment = object
                .get(PLACEHOLDER_NUM_KEY)
                .and_then(Value::as_u64)
                .and_then(|num| attachments.get(usize::try_from(num).ok()?));
            match attachment {
                Some(bytes) => SioPacket::binary_marker(bytes),
                None => value.clone(),
            }
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, item)| (key.clone(), inline_attachments(item, attachments)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| inline_attachments(item, attachments))
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

/// The decoder proper; the caller wraps the reason with the packet's bytes.
fn decode_text_part(text: &str) -> Result<SioDecoded, String> {
    let Some(&type_byte) = text.as_bytes().first() else {
        return Err("empty Socket.IO packet".to_owned());
    };
    let Some(kind) = SioPacketKind::from_type_byte(type_byte) else {
        let first_char = text.chars().next().unwrap_or_default();
        return Err(format!("unknown Socket.IO packet type {first_char:?}"));
    };
    // The type is one ASCII byte, so index 1 is a char boundary; every later
    // split is at an ASCII separator or digit, so slicing never panics.
    let mut rest = &text[1..];
    let expected_attachments = if kind.is_binary() {
        Some(take_attachment_count(kind, &mut rest)?)
    } else {
        None
    };
    let namespace = take_namespace(&mut rest)?;
    let ack_id = take_ack_id(&mut rest)?;
    let data = if rest.is_empty() {
        None
    } else {
        let payload = serde_json::from_str::<Value>(rest)
            .map_err(|error| format!("{} payload is not valid JSON: {error}", kind.spec_name()))?;
        Some(payload)
    };
    check_payload(kind, ack_id, data.as_ref())?;
    let packet = SioPacket {
        kind,
        namespace,
        ack_id,
        data,
        attachments: Vec::new(),
    };
    match expected_attachments {
        None => Ok(SioDecoded::Complete(packet)),
        Some(expected) => {
            check_placeholders(kind, packet.data.as_ref(), expected)?;
            Ok(SioDecoded::NeedsAttachments { packet, expected })
        }
    }
}

fn take_leading_digits<'a>(rest: &mut &'a str) -> &'a str {
    let digit_count = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, tail) = rest.split_at(digit_count);
    *rest = tail;
    digits
}

/// Parses a non-empty run of ASCII digits as the reference encoders write
/// numbers: no leading zero, and (for us) within u64.
fn parse_canonical_number(digits: &str, what: &str) -> Result<u64, String> {
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("{what} has a leading zero"));
    }
    digits
        .parse()
        .map_err(|_| format!("{what} overflows u64 ({} digits)", digits.len()))
}

fn take_attachment_count(kind: SioPacketKind, rest: &mut &str) -> Result<usize, String> {
    let digits = take_leading_digits(rest);
    if digits.is_empty() {
        return Err(format!(
            "{} lacks its attachment count `N-`",
            kind.spec_name()
        ));
    }
    *rest = rest
        .strip_prefix('-')
        .ok_or_else(|| "attachment count is not terminated by '-'".to_owned())?;
    let count = parse_canonical_number(digits, "attachment count")?;
    if count == 0 {
        return Err(format!("{} announces 0 attachments", kind.spec_name()));
    }
    match usize::try_from(count) {
        Ok(count) if count <= MAX_ATTACHMENTS => Ok(count),
        _ => Err(format!(
            "attachment count {count} exceeds the limit of {MAX_ATTACHMENTS}"
        )),
    }
}

fn take_namespace(rest: &mut &str) -> Result<String, String> {
    if !rest.starts_with('/') {
        return Ok(DEFAULT_NAMESPACE.to_owned());
    }
    let (namespace, tail) = rest
        .split_once(',')
        .ok_or_else(|| "namespace is not terminated by ','".to_owned())?;
    if namespace == DEFAULT_NAMESPACE {
        return Err("the default namespace must be omitted, not written as \"/,\"".to_owned());
    }
    *rest = tail;
    Ok(namespace.to_owned())
}

fn take_ack_id(rest: &mut &str) -> Result<Option<u64>, String> {
    // Without this check "-1" would be reported as an unparsable payload.
    if rest
        .strip_prefix('-')
        .is_some_and(|tail| tail.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err("ack id must be a non-negative integer".to_owned());
    }
    let digits = take_leading_digits(rest);
    if digits.is_empty() {
        return Ok(None);
    }
    parse_canonical_number(digits, "ack id").map(Some)
}

fn check_payload(
    kind: SioPacketKind,
    ack_id: Option<u64>,
    data: Option<&Value>,
) -> Result<(), String> {
    let name = kind.spec_name();
    let takes_ack_id = matches!(
        kind,
        SioPacketKind::Event
            | SioPacketKind::BinaryEvent
            | SioPacketKind::Ack
            | SioPacketKind::BinaryAck
    );
    if ack_id.is_some() && !takes_ack_id {
        return Err(format!("{name} must not carry an ack id"));
    }
    match kind {
        SioPacketKind::Connect => {
            let object = data.and_then(Value::as_object).ok_or_else(|| {
                format!("{name} from a server must carry an object payload {{\"sid\":…}} (v5)")
            })?;
            match object.get("sid") {
                Some(Value::String(sid)) if !sid.is_empty() => {}
                Some(_) => return Err(format!("{name} payload `sid` must be a non-empty string")),
                None => return Err(format!("{name} payload lacks `sid`")),
            }
            // `pid` is the connection-state-recovery session id, when enabled.
            if object.get("pid").is_some_and(|pid| !pid.is_string()) {
                return Err(format!("{name} payload `pid` must be a string"));
            }
        }
        SioPacketKind::ConnectError => {
            let object = data.and_then(Value::as_object).ok_or_else(|| {
                format!("{name} must carry an object payload {{\"message\":…}} (v5)")
            })?;
            if !object.get("message").is_some_and(Value::is_string) {
                return Err(format!("{name} payload `message` must be a string"));
            }
        }
        SioPacketKind::Disconnect => {
            if data.is_some() {
                return Err(format!("{name} must not carry a payload"));
            }
        }
        SioPacketKind::Event | SioPacketKind::BinaryEvent => {
            let items = data
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{name} payload must be an array"))?;
            let first = items.first().ok_or_else(|| {
                format!("{name} payload is an empty array: the event name is missing")
            })?;
            let event = first
                .as_str()
                .ok_or_else(|| format!("{name} name (first array element) must be a string"))?;
            if RESERVED_EVENT_NAMES.contains(&event) {
                return Err(format!("{name} name {event:?} is reserved"));
            }
        }
        SioPacketKind::Ack | SioPacketKind::BinaryAck => {
            if ack_id.is_none() {
                return Err(format!("{name} lacks its ack id"));
            }
            if !data.is_some_and(Value::is_array) {
                return Err(format!("{name} payload must be an array"));
            }
        }
    }
    Ok(())
}

/// Every announced attachment must be referenced by exactly one well-formed
/// placeholder, so that no attachment is silently lost or duplicated.
fn check_placeholders(
    kind: SioPacketKind,
    data: Option<&Value>,
    expected: usize,
) -> Result<(), String> {
    let mut referenced = vec![false; expected];
    if let Some(data) = data {
        mark_placeholders(data, &mut referenced)?;
    }
    match referenced.iter().position(|is_referenced| !is_referenced) {
        Some(unreferenced) => Err(format!(
            "{} announces {expected} attachments but no placeholder references attachment #{unreferenced}",
            kind.spec_name()
        )),
        None => Ok(()),
    }
}

/// Recursion depth is bounded by serde_json's nesting limit (128) on decoded input.
fn mark_placeholders(value: &Value, referenced: &mut [bool]) -> Result<(), String> {
    match value {
        Value::Object(object) if is_placeholder(object) => {
            if object.len() != 2 {
                return Err("a placeholder must hold exactly `_placeholder` and `num`".to_owned());
            }
            let num = object
                .get(PLACEHOLDER_NUM_KEY)
                .and_then(Value::as_u64)
                .ok_or_else(|| "placeholder `num` must be a non-negative integer".to_owned())?;
            let attachment_count = referenced.len();
            let slot = usize::try_from(num)
                .ok()
                .and_then(|index| referenced.get_mut(index))
                .ok_or_else(|| {
                    format!(
                        "placeholder num {num} is out of range for {attachment_count} attachments"
                    )
                })?;
            if *slot {
                return Err(format!(
                    "attachment #{num} is referenced by more than one placeholder"
                ));
            }
            *slot = true;
            Ok(())
        }
        Value::Object(object) => object
            .values()
            .try_for_each(|item| mark_placeholders(item, referenced)),
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| mark_placeholders(item, referenced)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(text: &str) -> SioPacket {
        match SioPacket::decode(text) {
            Ok(SioDecoded::Complete(packet)) => packet,
            other => panic!("{text}: expected a complete packet, got {other:?}"),
        }
    }

    #[test]
    fn encodes_client_packets_exactly() {
        let cases = [
            (SioPacket::connect("/", None), "0"),
            (
                SioPacket::connect("/admin", Some(json!({ "token": "abc" }))),
                r#"0/admin,{"token":"abc"}"#,
            ),
            (SioPacket::disconnect("/"), "1"),
            (SioPacket::disconnect("/admin™"), "1/admin™,"),
            (
                SioPacket::event("/chat", "msg", vec![json!("hi")], Some(12)),
                r#"2/chat,12["msg","hi"]"#,
            ),
            (SioPacket::event("/", "ping", vec![], None), r#"2["ping"]"#),
            (
                SioPacket::ack("/", 0, vec![json!({ "ok": true })]),
                r#"30[{"ok":true}]"#,
            ),
            (SioPacket::ack("/a", 7, vec![]), "3/a,7[]"),
            (
                SioPacket::connect_error("/", "Not authorized"),
                r#"4{"message":"Not authorized"}"#,
            ),
        ];
        for (packet, wire) in cases {
            assert_eq!(packet.encode(), (wire.to_owned(), vec![]), "{packet:?}");
        }
    }

    #[test]
    fn encodes_binary_packets_with_count_and_attachments() {
        let bytes = Bytes::from_static(&[1, 2, 3]);
        let event = SioPacket::binary_event(
            "/",
            "up",
            vec![SioPacket::placeholder(0)],
            vec![bytes.clone()],
            None,
        );
        assert_eq!(
            event.encode(),
            (
                r#"51-["up",{"_placeholder":true,"num":0}]"#.to_owned(),
                vec![bytes.clone()]
            )
        );
        let event = SioPacket::binary_event(
            "/files",
            "up",
            vec![SioPacket::placeholder(0)],
            vec![bytes.clone()],
            Some(4),
        );
        assert_eq!(
            event.encode().0,
            r#"51-/files,4["up",{"_placeholder":true,"num":0}]"#
        );
        let ack = SioPacket::binary_ack("/", 9, vec![SioPacket::placeholder(0)], vec![bytes]);
        assert_eq!(ack.encode().0, r#"61-9[{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn decodes_server_packets_exactly() {
        assert_eq!(
            complete(r#"2/chat,12["msg","hi"]"#),
            SioPacket::event("/chat", "msg", vec![json!("hi")], Some(12))
        );
        assert_eq!(
            complete(r#"2["é \"quoted\"",{"a":[1,null]}]"#).event_name(),
            Some("é \"quoted\"")
        );
        assert_eq!(
            complete(r#"354["data"]"#),
            SioPacket::ack("/", 54, vec![json!("data")])
        );
        assert_eq!(
            complete("3/admin™,0[]"),
            SioPacket::ack("/admin™", 0, vec![])
        );
        assert_eq!(
            complete(r#"0{"sid":"oSO0OpakMV_3jnilAAAA"}"#),
            SioPacket::connect("/", Some(json!({ "sid": "oSO0OpakMV_3jnilAAAA" })))
        );
        assert_eq!(
            complete(r#"0/admin,{"sid":"x","pid":"y"}"#),
            SioPacket::connect("/admin", Some(json!({ "sid": "x", "pid": "y" })))
        );
        assert_eq!(
            complete(r#"4/admin,{"message":"nope","data":{"code":1}}"#).data,
            Some(json!({ "message": "nope", "data": { "code": 1 } }))
        );
        assert_eq!(complete("1/admin,"), SioPacket::disconnect("/admin"));
        assert_eq!(complete("1"), SioPacket::disconnect("/"));
    }

    #[test]
    fn decodes_a_binary_header_and_says_how_many_attachments_follow() {
        let decoded = SioPacket::decode(r#"51-["up",{"_placeholder":true,"num":0}]"#).unwrap();
        let expected_packet =
            SioPacket::binary_event("/", "up", vec![SioPacket::placeholder(0)], vec![], None);
        assert_eq!(
            decoded,
            SioDecoded::NeedsAttachments {
                packet: expected_packet,
                expected: 1
            }
        );
        let decoded = SioPacket::decode(
            r#"62-/a,3[{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]"#,
        );
        assert!(matches!(
            decoded,
            Ok(SioDecoded::NeedsAttachments { expected: 2, .. })
        ));
    }

    #[test]
    fn args_inline_attachments_as_base64_markers() {
        let packet = SioPacket::binary_event(
            "/",
            "up",
            vec![json!("name"), json!({ "file": SioPacket::placeholder(0) })],
            vec![Bytes::from_static(&[1, 2, 3])],
            None,
        );
        assert_eq!(packet.event_name(), Some("up"));
        assert_eq!(
            packet.args(),
            vec![json!("name"), json!({ "file": { "$binary": "AQID" } })]
        );
        // The wire form stays untouched in `data`.
        assert_eq!(
            packet.data.as_ref().unwrap()[2]["file"],
            SioPacket::placeholder(0)
        );
    }

    #[test]
    fn args_of_acks_and_of_packets_without_args() {
        assert_eq!(
            SioPacket::ack("/", 1, vec![json!(1), json!(2)]).args(),
            vec![json!(1), json!(2)]
        );
        assert_eq!(
            SioPacket::event("/", "e", vec![], None).args(),
            Vec::<Value>::new()
        );
        assert_eq!(
            SioPacket::connect("/", Some(json!({}))).args(),
            Vec::<Value>::new()
        );
        assert_eq!(SioPacket::connect("/", None).event_name(), None);
    }

    #[test]
    fn rejects_broken_packets_with_a_reason() {
        let too_many = format!("5{}-[\"e\"]", MAX_ATTACHMENTS + 1);
        let cases: Vec<(&str, &str)> = vec![
            ("", "empty Socket.IO packet"),
            ("7[\"e\"]", "unknown Socket.IO packet type '7'"),
            ("x", "unknown Socket.IO packet type 'x'"),
            ("é", "unknown Socket.IO packet type 'é'"),
            ("2", "EVENT payload must be an array"),
            ("2not json", "EVENT payload is not valid JSON"),
            ("2[\"e\"", "EVENT payload is not valid JSON"),
            (
                "2[\"e\"]x",
                "EVENT payload is not valid JSON: trailing characters",
            ),
            ("2{\"e\":1}", "EVENT payload must be an array"),
            (
                "2[]",
                "EVENT payload is an empty array: the event name is missing",
            ),
            (
                "2[1,\"a\"]",
                "EVENT name (first array element) must be a string",
            ),
            (
                "2[null]",
                "EVENT name (first array element) must be a string",
            ),
            ("2[\"disconnect\"]", "EVENT name \"disconnect\" is reserved"),
            (
                "2[\"connect_error\",{}]",
                "EVENT name \"connect_error\" is reserved",
            ),
            ("2-1[\"e\"]", "ack id must be a non-negative integer"),
            (
                "218446744073709551616[\"e\"]",
                "ack id overflows u64 (20 digits)",
            ),
            ("207[\"e\"]", "ack id has a leading zero"),
            ("3[\"x\"]", "ACK lacks its ack id"),
            ("31", "ACK payload must be an array"),
            ("31{}", "ACK payload must be an array"),
            ("2/chat", "namespace is not terminated by ','"),
            ("1/admin", "namespace is not terminated by ','"),
            ("2/,[\"e\"]", "the default namespace must be omitted"),
            ("1/a,x", "DISCONNECT payload is not valid JSON"),
            ("1{}", "DISCONNECT must not carry a payload"),
            ("11", "DISCONNECT must not carry an ack id"),
            ("0", "CONNECT from a server must carry an object payload"),
            (
                "0/admin,",
                "CONNECT from a server must carry an object payload",
            ),
            ("0[]", "CONNECT from a server must carry an object payload"),
            ("0{}", "CONNECT payload lacks `sid`"),
            (
                "0{\"sid\":1}",
                "CONNECT payload `sid` must be a non-empty string",
            ),
            (
                "0{\"sid\":\"\"}",
                "CONNECT payload `sid` must be a non-empty string",
            ),
            (
                "0{\"sid\":\"a\",\"pid\":2}",
                "CONNECT payload `pid` must be a string",
            ),
            ("01{\"sid\":\"a\"}", "CONNECT must not carry an ack id"),
            (
                "4\"Not authorized\"",
                "CONNECT_ERROR must carry an object payload",
            ),
            ("4", "CONNECT_ERROR must carry an object payload"),
            (
                "4{\"message\":1}",
                "CONNECT_ERROR payload `message` must be a string",
            ),
            ("5[\"e\"]", "BINARY_EVENT lacks its attachment count `N-`"),
            ("6-1[]", "BINARY_ACK lacks its attachment count `N-`"),
            ("51[\"e\"]", "attachment count is not terminated by '-'"),
            ("50-[\"e\"]", "BINARY_EVENT announces 0 attachments"),
            ("501-[\"e\"]", "attachment count has a leading zero"),
            (&too_many, "attachment count 65 exceeds the limit of 64"),
            (
                "599999999999999999999999-[\"e\"]",
                "attachment count overflows u64 (23 digits)",
            ),
            (
                "51-[\"e\"]",
                "BINARY_EVENT announces 1 attachments but no placeholder references attachment #0",
            ),
            (
                "52-[\"e\",{\"_placeholder\":true,\"num\":0}]",
                "BINARY_EVENT announces 2 attachments but no placeholder references attachment #1",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true,\"num\":1}]",
                "placeholder num 1 is out of range for 1 attachments",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true,\"num\":-1}]",
                "placeholder `num` must be a non-negative integer",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true,\"num\":0.0}]",
                "placeholder `num` must be a non-negative integer",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true}]",
                "a placeholder must hold exactly `_placeholder` and `num`",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true,\"num\":0,\"x\":1}]",
                "a placeholder must hold exactly `_placeholder` and `num`",
            ),
            (
                "51-[\"e\",{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":0}]]",
                "attachment #0 is referenced by more than one placeholder",
            ),
            (
                "61-[{\"_placeholder\":true,\"num\":0}]",
                "BINARY_ACK lacks its ack id",
            ),
        ];
        for (wire, expected_reason) in cases {
            let violation = SioPacket::decode(wire).expect_err(wire);
            assert!(
                violation.reason.starts_with(expected_reason),
                "{wire:?}: got {:?}, expected {expected_reason:?}",
                violation.reason
            );
            assert_eq!(violation.bytes, wire.as_bytes());
        }
    }

    #[test]
    fn a_placeholder_in_a_plain_event_is_just_data() {
        let packet = complete(r#"2["e",{"_placeholder":true,"num":5}]"#);
        assert_eq!(packet.args(), vec![SioPacket::placeholder(5)]);
    }

    #[test]
    fn largest_numbers_that_fit_are_accepted() {
        assert_eq!(
            complete(&format!("2{}[\"e\"]", u64::MAX)).ack_id,
            Some(u64::MAX)
        );
        let placeholders: Vec<Value> = (0..MAX_ATTACHMENTS).map(SioPacket::placeholder).collect();
        let text = format!("5{MAX_ATTACHMENTS}-{}", event_payload("e", placeholders));
        assert!(matches!(
            SioPacket::decode(&text),
            Ok(SioDecoded::NeedsAttachments {
                expected: MAX_ATTACHMENTS,
                ..
            })
        ));
    }
}
