//! Engine.IO v4 packets: the framing under Socket.IO.
//!
//! A text packet is one type digit followed by its data (`4hello`, `2probe`).
//! Over WebSocket each packet is one frame and binary data travels as a raw
//! binary frame; over HTTP long-polling packets are joined into a payload (see
//! `polling_payload`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::ProtocolViolation;

/// The session parameters the server announces in its open packet
/// (`0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`).
///
/// Every field is required and type-checked; unknown extra fields are tolerated
/// because the spec does not forbid them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    pub sid: String,
    pub upgrades: Vec<String>,
    #[serde(rename = "pingInterval")]
    pub ping_interval_ms: u64,
    #[serde(rename = "pingTimeout")]
    pub ping_timeout_ms: u64,
    #[serde(rename = "maxPayload")]
    pub max_payload: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioPacket {
    Open(Handshake),
    Close,
    /// `probe` marks the `2probe` / `3probe` exchange that tests a WebSocket
    /// before upgrading to it.
    Ping {
        probe: bool,
    },
    Pong {
        probe: bool,
    },
    Message(String),
    Binary(Bytes),
    Upgrade,
    Noop,
}

const PROBE: &str = "probe";

impl EioPacket {
    /// Text form as in a WebSocket text frame or inside a polling payload
    /// (`4hello`, `2`, `2probe`, `3probe`, `5`, `6`, `1`).
    ///
    /// `Binary` has no text form of its own: it goes as a raw WebSocket binary
    /// frame, or as `b` + base64 inside a polling payload, so this returns `None`.
    pub fn encode_text(&self) -> Option<String> {
        let text = match self {
            EioPacket::Open(handshake) => {
                let json = serde_json::to_string(handshake).expect("a Handshake always serializes");
                format!("0{json}")
            }
            EioPacket::Close => "1".to_owned(),
            EioPacket::Ping { probe } => if *probe { "2probe" } else { "2" }.to_owned(),
            EioPacket::Pong { probe } => if *probe { "3probe" } else { "3" }.to_owned(),
            EioPacket::Message(text) => format!("4{text}"),
            EioPacket::Upgrade => "5".to_owned(),
            EioPacket::Noop => "6".to_owned(),
            EioPacket::Binary(_) => return None,
        };
        Some(text)
    }

    /// Decodes a WebSocket text frame, or one text packet of a polling payload.
    ///
    /// Strict: packets without data (`1`, `5`, `6`) must be exactly one
    /// character, ping/pong may only carry `probe`, and `b` (base64 binary) is
    /// refused because it only exists inside polling payloads.
    pub fn decode_text(text: &str) -> Result<EioPacket, ProtocolViolation> {
        let violation = |reason: String| ProtocolViolation::new(text, reason);
        let Some(&type_byte) = text.as_bytes().first() else {
            return Err(violation("empty Engine.IO packet".to_owned()));
        };
        // Every valid type is one ASCII byte, so slicing after it is on a char
        // boundary; an invalid (possibly multi-byte) first byte returns early.
        let data_after_type = || &text[1..];
        let packet = match type_byte {
            b'0' => EioPacket::Open(decode_handshake(data_after_type()).map_err(violation)?),
            b'1' => {
                expect_no_data(EioPacket::Close, "CLOSE", data_after_type()).map_err(violation)?
            }
            b'2' => EioPacket::Ping {
                probe: decode_probe("PING", data_after_type()).map_err(violation)?,
            },
            b'3' => EioPacket::Pong {
                probe: decode_probe("PONG", data_after_type()).map_err(violation)?,
            },
            b'4' => EioPacket::Message(data_after_type().to_owned()),
            b'5' => expect_no_data(EioPacket::Upgrade, "UPGRADE", data_after_type())
                .map_err(violation)?,
            b'6' => {
                expect_no_data(EioPacket::Noop, "NOOP", data_after_type()).map_err(violation)?
            }
            b'b' => {
                return Err(violation(
                    "a 'b' (base64 binary) packet is only valid inside a polling payload; \
                     over WebSocket binary data must be a binary frame"
                        .to_owned(),
                ));
            }
            _ => {
                let first_char = text.chars().next().unwrap_or_default();
                return Err(violation(format!(
                    "unknown Engine.IO packet type {first_char:?}"
                )));
            }
        };
        Ok(packet)
    }

    /// A WebSocket binary frame is, in Engine.IO v4, the raw bytes of a binary
    /// message (no type byte, unlike v3), so every frame is valid.
    pub fn decode_binary_frame(bytes: &[u8]) -> EioPacket {
        EioPacket::Binary(Bytes::copy_from_slice(bytes))
    }
}

fn decode_handshake(json: &str) -> Result<Handshake, String> {
    let handshake: Handshake = serde_json::from_str(json)
        .map_err(|error| format!("OPEN packet carries an invalid handshake: {error}"))?;
    if handshake.sid.is_empty() {
        return Err("OPEN packet carries an empty sid".to_owned());
    }
    Ok(handshake)
}

fn decode_probe(packet_name: &str, data: &str) -> Result<bool, String> {
    match data {
        "" => Ok(false),
        PROBE => Ok(true),
        _ => Err(format!("{packet_name} may only carry \"probe\"")),
    }
}

fn expect_no_data(packet: EioPacket, packet_name: &str, data: &str) -> Result<EioPacket, String> {
    if data.is_empty() {
        Ok(packet)
    } else {
        Err(format!("{packet_name} packet must not carry data"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    fn handshake() -> Handshake {
        Handshake {
            sid: "lv_VI97HAXpY6yYWAAAC".to_owned(),
            upgrades: vec!["websocket".to_owned()],
            ping_interval_ms: 25000,
            ping_timeout_ms: 20000,
            max_payload: 1_000_000,
        }
    }

    #[test]
    fn decodes_the_open_packet() {
        assert_eq!(
            EioPacket::decode_text(OPEN),
            Ok(EioPacket::Open(handshake()))
        );
    }

    #[test]
    fn open_packet_tolerates_unknown_fields() {
        let text = r#"0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3,"extra":true}"#;
        assert!(matches!(
            EioPacket::decode_text(text),
            Ok(EioPacket::Open(_))
        ));
    }

    #[test]
    fn encodes_every_text_packet_exactly() {
        let cases = [
            (EioPacket::Open(handshake()), OPEN),
            (EioPacket::Close, "1"),
            (EioPacket::Ping { probe: false }, "2"),
            (EioPacket::Ping { probe: true }, "2probe"),
            (EioPacket::Pong { probe: false }, "3"),
            (EioPacket::Pong { probe: true }, "3probe"),
            (EioPacket::Message("hello".to_owned()), "4hello"),
            (EioPacket::Message(String::new()), "4"),
            (EioPacket::Upgrade, "5"),
            (EioPacket::Noop, "6"),
        ];
        for (packet, wire) in cases {
            assert_eq!(packet.encode_text().as_deref(), Some(wire), "{packet:?}");
            assert_eq!(EioPacket::decode_text(wire), Ok(packet), "{wire}");
        }
    }

    #[test]
    fn binary_has_no_text_form_and_frames_decode_raw() {
        assert_eq!(
            EioPacket::Binary(Bytes::from_static(b"\x01")).encode_text(),
            None
        );
        assert_eq!(
            EioPacket::decode_binary_frame(b"\x04\x01"),
            EioPacket::Binary(Bytes::from_static(b"\x04\x01"))
        );
    }

    #[test]
    fn message_data_is_kept_verbatim() {
        assert_eq!(
            EioPacket::decode_text("42[\"é\"]\u{1e}"),
            Ok(EioPacket::Message("2[\"é\"]\u{1e}".to_owned()))
        );
    }

    #[test]
    fn rejects_broken_packets_with_a_reason() {
        let cases = [
            ("", "empty Engine.IO packet"),
            ("7", "unknown Engine.IO packet type '7'"),
            ("x4", "unknown Engine.IO packet type 'x'"),
            ("éa", "unknown Engine.IO packet type 'é'"),
            (
                "bAQID",
                "a 'b' (base64 binary) packet is only valid inside a polling payload",
            ),
            ("1x", "CLOSE packet must not carry data"),
            ("2ping", "PING may only carry \"probe\""),
            ("3probes", "PONG may only carry \"probe\""),
            ("5 ", "UPGRADE packet must not carry data"),
            ("6noop", "NOOP packet must not carry data"),
            (
                "0",
                "OPEN packet carries an invalid handshake: EOF while parsing a value",
            ),
            (
                "0not json",
                "OPEN packet carries an invalid handshake: expected ident",
            ),
            (
                r#"0{"upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
                "OPEN packet carries an invalid handshake: missing field `sid`",
            ),
            (
                r#"0{"sid":"a","upgrades":[],"pingInterval":"1","pingTimeout":2,"maxPayload":3}"#,
                "OPEN packet carries an invalid handshake: invalid type: string \"1\", expected u64",
            ),
            (
                r#"0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":-2,"maxPayload":3}"#,
                "OPEN packet carries an invalid handshake: invalid value: integer `-2`, expected u64",
            ),
            (
                r#"0{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
                "OPEN packet carries an invalid handshake: invalid type: string \"websocket\", expected a sequence",
            ),
            (
                r#"0{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
                "OPEN packet carries an empty sid",
            ),
        ];
        for (wire, expected_reason) in cases {
            let violation = EioPacket::decode_text(wire).expect_err(wire);
            assert!(
                violation.reason.starts_with(expected_reason),
                "{wire:?}: got {:?}, expected {expected_reason:?}",
                violation.reason
            );
            assert_eq!(violation.bytes, wire.as_bytes());
        }
    }
}
