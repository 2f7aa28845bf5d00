//! Cross-checks the harness codec (`siosim_harness::codec`) against
//! socketioxide's own Socket.IO parser, on generated packets, in both
//! directions:
//!
//! - client -> server: our `encode` is decoded by socketioxide's `CommonParser`
//!   into the same packet;
//! - server -> client: `CommonParser`'s encoding (of values serialized by its
//!   own binary-aware serializer) is decoded by our strict decoder into the
//!   same packet, and is byte-identical to our own encoding.
//!
//! It also pins, as `socketioxide_*` tests, the places where socketioxide's
//! parser is more lenient than the protocol (they fail if socketioxide changes,
//! which is the point), and checks that no decoder panics on arbitrary input.
//!
//! No Engine.IO cross-check: engineioxide-core (which has `Packet::parse`) is
//! not a dev-dependency of the harness, and nothing re-exports its `Packet`.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::{Value as Json, json};
use siosim_harness::codec::{
    BinaryAssembler, EioPacket, Handshake, MAX_ATTACHMENTS, ProtocolViolation,
    RESERVED_EVENT_NAMES, SioDecoded, SioPacket, SioPacketKind, decode_polling_payload,
    encode_polling_payload,
};
use socketioxide_core::Str;
use socketioxide_core::Value as TheirValue;
use socketioxide_core::packet::{Packet as TheirPacket, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParseError, ParserState};
use socketioxide_parser_common::CommonParser;

// ---------------------------------------------------------------------------
// A packet model both codecs can be driven from.
// ---------------------------------------------------------------------------

/// One event/ack argument; `Binary` may sit at any depth, as in real payloads.
#[derive(Debug, Clone)]
enum Arg {
    Json(Json),
    Binary(Bytes),
    Array(Vec<Arg>),
    Object(BTreeMap<String, Arg>),
}

/// socketioxide's serializer turns `serialize_bytes` into a placeholder and
/// collects the bytes as an attachment, exactly what a server emit does.
impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Json(value) => value.serialize(serializer),
            Arg::Binary(bytes) => serializer.serialize_bytes(bytes),
            Arg::Array(items) => items.serialize(serializer),
            Arg::Object(entries) => entries.serialize(serializer),
        }
    }
}

/// Serialized as a tuple, which socketioxide spreads into `[event, ...args]`
/// (a Vec would become a single array argument).
struct SpreadArgs<'a>(&'a [Arg]);

impl Serialize for SpreadArgs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl Arg {
    /// Our wire form: attachments replaced by placeholders numbered in
    /// depth-first order, as the reference encoders do.
    fn to_wire_json(&self, attachments: &mut Vec<Bytes>) -> Json {
        match self {
            Arg::Json(value) => value.clone(),
            Arg::Binary(bytes) => {
                attachments.push(bytes.clone());
                SioPacket::placeholder(attachments.len() - 1)
            }
            Arg::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|item| item.to_wire_json(attachments))
                    .collect(),
            ),
            Arg::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), item.to_wire_json(attachments)))
                    .collect(),
            ),
        }
    }
}

fn wire_args(args: &[Arg]) -> (Vec<Json>, Vec<Bytes>) {
    let mut attachments = Vec::new();
    let json_args = args
        .iter()
        .map(|arg| arg.to_wire_json(&mut attachments))
        .collect();
    (json_args, attachments)
}

#[derive(Debug, Clone)]
enum PacketModel {
    Event {
        namespace: String,
        event: String,
        args: Vec<Arg>,
        ack_id: Option<u64>,
    },
    Ack {
        namespace: String,
        ack_id: u64,
        args: Vec<Arg>,
    },
    /// From a client the payload is the auth object; from a server `{"sid": …}`.
    Connect {
        namespace: String,
        payload: Option<Json>,
    },
    ConnectError {
        namespace: String,
        message: String,
    },
    Disconnect {
        namespace: String,
    },
}

impl PacketModel {
    fn ours(&self) -> SioPacket {
        match self {
            PacketModel::Event {
                namespace,
                event,
                args,
                ack_id,
            } => match wire_args(args) {
                (json_args, attachments) if attachments.is_empty() => {
                    SioPacket::event(namespace, event, json_args, *ack_id)
                }
                (json_args, attachments) => {
                    SioPacket::binary_event(namespace, event, json_args, attachments, *ack_id)
                }
            },
            PacketModel::Ack {
                namespace,
                ack_id,
                args,
            } => match wire_args(args) {
                (json_args, attachments) if attachments.is_empty() => {
                    SioPacket::ack(namespace, *ack_id, json_args)
                }
                (json_args, attachments) => {
                    SioPacket::binary_ack(namespace, *ack_id, json_args, attachments)
                }
            },
            PacketModel::Connect { namespace, payload } => {
                SioPacket::connect(namespace, payload.clone())
            }
            PacketModel::ConnectError { namespace, message } => {
                SioPacket::connect_error(namespace, message)
            }
            PacketModel::Disconnect { namespace } => SioPacket::disconnect(namespace),
        }
    }

    /// Built the way a socketioxide server builds it: values go through the
    /// parser's own `encode_value`, which extracts the binaries.
    fn theirs(&self) -> TheirPacket {
        match self {
            PacketModel::Event {
                namespace,
                event,
                args,
                ack_id,
            } => {
                let value = CommonParser
                    .encode_value(&SpreadArgs(args), Some(event))
                    .unwrap();
                let mut packet = TheirPacket::event(Str::from(namespace.clone()), value);
                if let Some(ack_id) = ack_id {
                    packet.inner.set_ack_id(i64::try_from(*ack_id).unwrap());
                }
                packet
            }
            PacketModel::Ack {
                namespace,
                ack_id,
                args,
            } => {
                let value = CommonParser.encode_value(&SpreadArgs(args), None).unwrap();
                TheirPacket::ack(
                    Str::from(namespace.clone()),
                    value,
                    i64::try_from(*ack_id).unwrap(),
                )
            }
            PacketModel::Connect { namespace, payload } => TheirPacket::connect(
                Str::from(namespace.clone()),
                payload
                    .as_ref()
                    .map(|payload| TheirValue::Str(Str::from(payload.to_string()), None)),
            ),
            PacketModel::ConnectError { namespace, message } => {
                TheirPacket::connect_error(Str::from(namespace.clone()), message.clone())
            }
            PacketModel::Disconnect { namespace } => {
                TheirPacket::disconnect(Str::from(namespace.clone()))
            }
        }
    }
}

/// socketioxide's packet in our terms, so the two can be compared with `==`.
fn ours_from_theirs(packet: TheirPacket) -> SioPacket {
    let parse_json =
        |text: &Str| (!text.is_empty()).then(|| serde_json::from_str::<Json>(text).unwrap());
    let split = |value: TheirValue| match value {
        TheirValue::Str(text, binaries) => (
            parse_json(&text),
            binaries.map(Vec::from).unwrap_or_default(),
        ),
        TheirValue::Bytes(_) => panic!("the common parser only produces text values"),
    };
    let ack = |id: i64| u64::try_from(id).unwrap();
    let (kind, ack_id, (data, attachments)) = match packet.inner {
        PacketData::Connect(value) => (
            SioPacketKind::Connect,
            None,
            value.map(split).unwrap_or((None, Vec::new())),
        ),
        PacketData::Disconnect => (SioPacketKind::Disconnect, None, (None, Vec::new())),
        PacketData::Event(value, id) => (SioPacketKind::Event, id.map(ack), split(value)),
        PacketData::EventAck(value, id) => (SioPacketKind::Ack, Some(ack(id)), split(value)),
        PacketData::ConnectError(message) => (
            SioPacketKind::ConnectError,
            None,
            (Some(json!({ "message": message })), Vec::new()),
        ),
        PacketData::BinaryEvent(value, id) => {
            (SioPacketKind::BinaryEvent, id.map(ack), split(value))
        }
        PacketData::BinaryAck(value, id) => (SioPacketKind::BinaryAck, Some(ack(id)), split(value)),
    };
    SioPacket {
        kind,
        namespace: packet.ns.to_string(),
        ack_id,
        data,
        attachments,
    }
}

/// Feeds a text packet and its attachments to socketioxide's decoder, as its
/// server does with consecutive Engine.IO messages.
fn their_decode(text: &str, attachments: &[Bytes]) -> Result<TheirPacket, String> {
    let config = ParseConfig::default();
    let state = ParserState::default();
    let header = CommonParser.decode_str(&config, &state, Str::from(text.to_owned()));
    let Some((last, leading)) = attachments.split_last() else {
        return header.map_err(|error| format!("decode_str: {error:?}"));
    };
    if !matches!(header, Err(ParseError::NeedsMoreBinaryData)) {
        return Err(format!("decode_str of a binary header: {header:?}"));
    }
    for attachment in leading {
        let partial = CommonParser.decode_bin(&config, &state, attachment.clone());
        if !matches!(partial, Err(ParseError::NeedsMoreBinaryData)) {
            return Err(format!(
                "decode_bin before the last attachment: {partial:?}"
            ));
        }
    }
    CommonParser
        .decode_bin(&config, &state, last.clone())
        .map_err(|error| format!("decode_bin of the last attachment: {error:?}"))
}

/// Feeds a text packet and its attachments to our assembler.
fn our_decode(text: &str, attachments: &[Bytes]) -> Result<SioPacket, ProtocolViolation> {
    let mut assembler = BinaryAssembler::new();
    let mut completed = assembler.push_text(text)?;
    for attachment in attachments {
        assert!(completed.is_none(), "completed before its last attachment");
        completed = assembler.push_binary(attachment.clone())?;
    }
    Ok(completed.expect("all attachments were pushed"))
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

/// Plain text, plus strings dense in what JSON must escape and in multi-byte
/// characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[\"\\\\/\\x00-\\x1f\u{7f}é\u{2028}\u{1F600}a ]{0,8}",
    ]
}

fn namespace() -> impl Strategy<Value = String> {
    // A ',' would end the namespace on the wire; neither encoder escapes it.
    prop_oneof![Just("/".to_owned()), "/[^,]{1,10}"]
}

fn event_name() -> impl Strategy<Value = String> {
    text().prop_filter("reserved event names are refused by clients", |name| {
        !RESERVED_EVENT_NAMES.contains(&name.as_str())
    })
}

/// Ack ids socketioxide can represent (it stores them as i64).
fn ack_id() -> impl Strategy<Value = u64> {
    prop_oneof![0..100u64, 0..=i64::MAX as u64]
}

/// JSON without floats: float text round-trips are serde_json's business, not
/// the codec's. Keys never start with '_' so that no object is mistaken for a
/// placeholder.
fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        text().prop_map(Json::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(object_key(), inner, 0..4)
                .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

fn object_key() -> impl Strategy<Value = String> {
    "[a-zé\"$ ]{0,6}"
}

fn arg() -> impl Strategy<Value = Arg> {
    let leaf = prop_oneof![
        3 => json().prop_map(Arg::Json),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(|bytes| Arg::Binary(bytes.into())),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Arg::Array),
            prop::collection::btree_map(object_key(), inner, 0..3).prop_map(Arg::Object),
        ]
    })
}

fn args() -> impl Strategy<Value = Vec<Arg>> {
    prop::collection::vec(arg(), 0..4)
}

fn event_packet() -> impl Strategy<Value = PacketModel> {
    (
        namespace(),
        event_name(),
        args(),
        prop::option::of(ack_id()),
    )
        .prop_map(|(namespace, event, args, ack_id)| PacketModel::Event {
            namespace,
            event,
            args,
            ack_id,
        })
}

fn ack_packet() -> impl Strategy<Value = PacketModel> {
    (namespace(), ack_id(), args()).prop_map(|(namespace, ack_id, args)| PacketModel::Ack {
        namespace,
        ack_id,
        args,
    })
}

fn disconnect_packet() -> impl Strategy<Value = PacketModel> {
    namespace().prop_map(|namespace| PacketModel::Disconnect { namespace })
}

/// What a client sends: CONNECT carries an optional auth object.
fn client_packet() -> impl Strategy<Value = PacketModel> {
    let auth = prop::option::of(
        prop::collection::btree_map(object_key(), json(), 0..4)
            .prop_map(|entries| Json::Object(entries.into_iter().collect())),
    );
    let connect = (namespace(), auth)
        .prop_map(|(namespace, payload)| PacketModel::Connect { namespace, payload });
    prop_oneof![3 => event_packet(), 2 => ack_packet(), 1 => connect, 1 => disconnect_packet()]
}

/// What a server sends: CONNECT carries `{"sid": …}`, and CONNECT_ERROR exists.
fn server_packet() -> impl Strategy<Value = PacketModel> {
    let connect =
        (namespace(), "[A-Za-z0-9_-]{1,20}").prop_map(|(namespace, sid)| PacketModel::Connect {
            namespace,
            payload: Some(json!({ "sid": sid })),
        });
    let connect_error = (namespace(), text())
        .prop_map(|(namespace, message)| PacketModel::ConnectError { namespace, message });
    prop_oneof![3 => event_packet(), 2 => ack_packet(), 1 => connect, 1 => connect_error, 1 => disconnect_packet()]
}

// ---------------------------------------------------------------------------
// Cross-checks.
// ---------------------------------------------------------------------------

/// The characters serde_json (like `JSON.stringify`) writes as an escape.
fn json_escapes(character: char) -> bool {
    matches!(character, '"' | '\\' | '\0'..='\x1f')
}

proptest! {
    #[test]
    fn socketioxide_decodes_what_we_encode(model in client_packet()) {
        let ours = model.ours();
        let (text, attachments) = ours.encode();
        let theirs = their_decode(&text, &attachments).map_err(TestCaseError::fail)?;
        // socketioxide routes events by `read_event`, which cannot read a name
        // containing a JSON escape (see the pinned test below).
        let name_needs_escaping = ours.event_name().is_some_and(|name| name.chars().any(json_escapes));
        if let PacketData::Event(value, _) | PacketData::BinaryEvent(value, _) = &theirs.inner
            && !name_needs_escaping
        {
            prop_assert_eq!(CommonParser.read_event(value).ok(), ours.event_name());
        }
        prop_assert_eq!(ours_from_theirs(theirs), ours);
    }

    #[test]
    fn we_decode_what_socketioxide_encodes(model in server_packet()) {
        let expected = model.ours();
        let TheirValue::Str(text, binaries) = CommonParser.encode(model.theirs()) else {
            panic!("the common parser only produces text values");
        };
        let attachments: Vec<Bytes> = binaries.map(Vec::from).unwrap_or_default();
        let decoded = our_decode(&text, &attachments).map_err(|violation| TestCaseError::fail(violation.to_string()))?;
        prop_assert_eq!(&decoded, &expected);
        // Same wire bytes too: both sides write compact JSON with the same key order.
        prop_assert_eq!(expected.encode(), (text.to_string(), attachments));
    }

    #[test]
    fn we_decode_what_we_encode(model in server_packet()) {
        let packet = model.ours();
        let (text, attachments) = packet.encode();
        prop_assert_eq!(our_decode(&text, &attachments), Ok(packet));
    }
}

// ---------------------------------------------------------------------------
// Engine.IO round trips (no socketioxide counterpart reachable, see above).
// ---------------------------------------------------------------------------

fn eio_packet() -> impl Strategy<Value = EioPacket> {
    let handshake = (
        "[A-Za-z0-9_-]{1,20}",
        prop::collection::vec("[a-z]{1,9}", 0..3),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval_ms, ping_timeout_ms, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval_ms,
                ping_timeout_ms,
                max_payload,
            },
        );
    prop_oneof![
        handshake.prop_map(EioPacket::Open),
        Just(EioPacket::Close),
        any::<bool>().prop_map(|probe| EioPacket::Ping { probe }),
        any::<bool>().prop_map(|probe| EioPacket::Pong { probe }),
        // A message cannot contain the polling separator.
        "[^\u{1e}]{0,20}".prop_map(EioPacket::Message),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(|bytes| EioPacket::Binary(bytes.into())),
        Just(EioPacket::Upgrade),
        Just(EioPacket::Noop),
    ]
}

proptest! {
    #[test]
    fn engineio_text_packets_round_trip(packet in eio_packet()) {
        match packet.encode_text() {
            Some(text) => prop_assert_eq!(EioPacket::decode_text(&text), Ok(packet)),
            None => prop_assert!(matches!(packet, EioPacket::Binary(_))),
        }
    }

    #[test]
    fn polling_payloads_round_trip(packets in prop::collection::vec(eio_packet(), 1..8)) {
        prop_assert_eq!(decode_polling_payload(&encode_polling_payload(&packets)), Ok(packets));
    }
}

// ---------------------------------------------------------------------------
// Where socketioxide's parser is more lenient than the protocol. These pin its
// current behaviour; if one fails, socketioxide changed (maybe fixed) it.
// ---------------------------------------------------------------------------

fn their_decode_text(text: &str) -> Result<TheirPacket, ParseError> {
    CommonParser.decode_str(
        &ParseConfig::default(),
        &ParserState::default(),
        Str::from(text.to_owned()),
    )
}

fn our_reason(text: &str) -> String {
    SioPacket::decode(text).expect_err(text).reason
}

#[test]
fn socketioxide_silently_drops_an_ack_id_beyond_i64() {
    // The client asked for an ack; the server sees a plain event and never answers.
    let text = r#"29223372036854775808["e"]"#;
    let theirs = their_decode_text(text).unwrap();
    assert!(
        matches!(theirs.inner, PacketData::Event(_, None)),
        "{theirs:?}"
    );
    let SioDecoded::Complete(ours) = SioPacket::decode(text).unwrap() else {
        unreachable!()
    };
    assert_eq!(ours.ack_id, Some(9_223_372_036_854_775_808));
}

#[test]
fn socketioxide_drops_an_ack_id_with_no_payload_after_it() {
    // `21` is "EVENT, ack id 1, no payload": the digits are consumed, the id is lost.
    let theirs = their_decode_text("21").unwrap();
    assert!(
        matches!(&theirs.inner, PacketData::Event(TheirValue::Str(data, _), None) if data.is_empty()),
        "{theirs:?}"
    );
    assert_eq!(our_reason("21"), "EVENT payload must be an array");
}

#[test]
fn socketioxide_accepts_a_binary_packet_with_zero_attachments() {
    let theirs = their_decode_text(r#"50-["e"]"#).unwrap();
    assert!(
        matches!(theirs.inner, PacketData::BinaryEvent(..)),
        "{theirs:?}"
    );
    assert_eq!(
        our_reason(r#"50-["e"]"#),
        "BINARY_EVENT announces 0 attachments"
    );
}

#[test]
fn socketioxide_does_not_check_placeholders_against_the_attachments() {
    // One attachment announced, none referenced: the bytes are silently unreachable.
    let theirs = their_decode(r#"51-["e"]"#, &[Bytes::from_static(b"lost")]).unwrap();
    assert!(
        matches!(theirs.inner, PacketData::BinaryEvent(..)),
        "{theirs:?}"
    );
    assert_eq!(
        our_reason(r#"51-["e"]"#),
        "BINARY_EVENT announces 1 attachments but no placeholder references attachment #0"
    );
}

#[test]
fn socketioxide_accepts_payloads_its_packet_type_forbids() {
    // Validated later (or never), not by the frame parser.
    for text in [
        r#"1/admin,garbage"#,
        r#"2{"not":"an array"}"#,
        r#"2[1]"#,
        r#"2[]"#,
        r#"0/admin,not json"#,
        r#"2/chat"#,
        r#"2007["leading zeros"]"#,
    ] {
        assert!(their_decode_text(text).is_ok(), "{text}");
        assert!(SioPacket::decode(text).is_err(), "{text}");
    }
}

#[test]
fn socketioxide_cannot_route_an_event_name_with_a_json_escape() {
    // `read_event` deserializes the name as a borrowed `&str`, which fails as soon
    // as the JSON string holds an escape (`\"`, `\\`, control characters). The
    // server then closes the connection with PacketParsingError, so a client
    // emitting `say "hi"` is disconnected.
    for name in ["say \"hi\"", "back\\slash", "tab\t"] {
        let (text, _) = SioPacket::event("/", name, vec![], None).encode();
        let theirs = their_decode_text(&text).unwrap();
        let PacketData::Event(value, _) = &theirs.inner else {
            unreachable!()
        };
        assert!(CommonParser.read_event(value).is_err(), "{text}");
    }
    let (text, _) = SioPacket::event("/", "plain é", vec![], None).encode();
    let PacketData::Event(value, _) = their_decode_text(&text).unwrap().inner else {
        unreachable!()
    };
    assert_eq!(CommonParser.read_event(&value).unwrap(), "plain é");
}

#[test]
fn socketioxide_emits_reserved_event_names() {
    // Clients built on socket.io-parser refuse `["disconnect", …]` as an invalid payload.
    let value = CommonParser
        .encode_value(&SpreadArgs(&[]), Some("disconnect"))
        .unwrap();
    let TheirValue::Str(text, _) = CommonParser.encode(TheirPacket::event("/", value)) else {
        unreachable!()
    };
    assert_eq!(text, r#"2["disconnect"]"#);
    assert_eq!(our_reason(&text), "EVENT name \"disconnect\" is reserved");
}

#[test]
fn socketioxide_writes_a_comma_in_a_namespace_unescaped() {
    // The namespace ends at the first ',', so `/a,b` comes back as `/a` and the
    // rest is taken for the payload.
    let value = CommonParser
        .encode_value(&SpreadArgs(&[]), Some("e"))
        .unwrap();
    let TheirValue::Str(text, _) = CommonParser.encode(TheirPacket::event("/a,b", value)) else {
        unreachable!()
    };
    assert_eq!(text, r#"2/a,b,["e"]"#);
    assert_eq!(their_decode_text(&text).unwrap().ns, "/a");
    assert!(our_reason(&text).starts_with("EVENT payload is not valid JSON"));
}

// ---------------------------------------------------------------------------
// Robustness: no input makes a decoder panic.
// ---------------------------------------------------------------------------

/// Strings built from protocol fragments reach far deeper into the decoders
/// than uniformly random text.
fn protocol_like_text() -> impl Strategy<Value = String> {
    let fragment = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "b",
        "-",
        "/",
        "/chat",
        ",",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "\"e\"",
        ":",
        "null",
        "true",
        "12",
        "0",
        "18446744073709551616",
        "999999999999999999999",
        "probe",
        "\u{1e}",
        "é",
        "\"_placeholder\":true",
        "\"num\":0",
        "{\"_placeholder\":true,\"num\":0}",
        "{\"sid\":\"x\"}",
        "{\"message\":\"m\"}",
        "AQID",
        "=",
    ]);
    prop::collection::vec(fragment, 0..16).prop_map(|fragments| fragments.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), protocol_like_text()]
}

#[derive(Debug, Clone)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

proptest! {
    #[test]
    fn decoders_never_panic_on_text(text in any_text()) {
        for outcome in [
            EioPacket::decode_text(&text).map(drop),
            decode_polling_payload(&text).map(drop),
            SioPacket::decode(&text).map(drop),
        ] {
            if let Err(violation) = outcome {
                let _ = violation.to_string();
            }
        }
        if let Ok(SioDecoded::Complete(packet) | SioDecoded::NeedsAttachments { packet, .. }) = SioPacket::decode(&text) {
            let _ = (packet.event_name(), packet.args(), packet.encode());
            prop_assert!(packet.attachments.len() <= MAX_ATTACHMENTS);
        }
    }

    #[test]
    fn decoders_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(EioPacket::decode_binary_frame(&bytes), EioPacket::Binary(Bytes::from(bytes.clone())));
        let _ = ProtocolViolation::new(bytes.clone(), "arbitrary").to_string();
        let _ = BinaryAssembler::new().push_binary(Bytes::from(bytes));
    }

    #[test]
    fn assembler_never_panics_on_any_frame_sequence(
        frames in prop::collection::vec(
            prop_oneof![
                any_text().prop_map(Frame::Text),
                prop::collection::vec(any::<u8>(), 0..8).prop_map(Frame::Binary),
            ],
            0..12,
        )
    ) {
        let mut assembler = BinaryAssembler::new();
        for frame in frames {
            let completed = match frame {
                Frame::Text(text) => assembler.push_text(&text),
                Frame::Binary(bytes) => assembler.push_binary(bytes.into()),
            };
            if let Ok(Some(packet)) = completed {
                let _ = packet.args();
            }
            prop_assert!(assembler.missing_attachments() <= MAX_ATTACHMENTS);
        }
    }
}
