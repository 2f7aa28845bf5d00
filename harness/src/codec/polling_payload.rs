//! Engine.IO v4 HTTP long-polling payloads: several packets in one body,
//! separated by the ASCII record separator `\x1e`. Binary packets are carried
//! as `b` + standard (padded) base64 because the body is text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{EioPacket, ProtocolViolation};

const PACKET_SEPARATOR: char = '\u{1e}';

/// A bound so that a hostile body cannot make us allocate without limit: far
/// above anything a real server batches into one response.
pub const MAX_PACKETS_PER_PAYLOAD: usize = 10_000;

/// Joins packets into one polling body. A `Message` containing `\x1e` cannot be
/// represented and is written verbatim (the harness may want to send it on
/// purpose).
pub fn encode_polling_payload(packets: &[EioPacket]) -> String {
    let mut body = String::new();
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            body.push(PACKET_SEPARATOR);
        }
        match packet {
            EioPacket::Binary(bytes) => {
                body.push('b');
                BASE64.encode_string(bytes, &mut body);
            }
            text_packet => body.push_str(
                &text_packet
                    .encode_text()
                    .expect("only Binary lacks a text form"),
            ),
        }
    }
    body
}

/// Splits and decodes a polling body. An empty body, an empty packet (which
/// includes a trailing separator), invalid base64 and more than
/// [`MAX_PACKETS_PER_PAYLOAD`] packets are violations. A violation in one packet
/// carries that packet's bytes and its index in the payload.
pub fn decode_polling_payload(body: &str) -> Result<Vec<EioPacket>, ProtocolViolation> {
    if body.is_empty() {
        return Err(ProtocolViolation::new(body, "empty polling payload"));
    }
    let mut packets = Vec::new();
    for (index, packet_text) in body.split(PACKET_SEPARATOR).enumerate() {
        if index == MAX_PACKETS_PER_PAYLOAD {
            return Err(ProtocolViolation::new(
                body,
                format!("polling payload holds more than {MAX_PACKETS_PER_PAYLOAD} packets"),
            ));
        }
        let packet = decode_one_packet(packet_text).map_err(|violation| ProtocolViolation {
            reason: format!("polling payload packet #{index}: {}", violation.reason),
            ..violation
        })?;
        packets.push(packet);
    }
    Ok(packets)
}

fn decode_one_packet(packet_text: &str) -> Result<EioPacket, ProtocolViolation> {
    match packet_text.strip_prefix('b') {
        Some(base64_text) => BASE64
            .decode(base64_text)
            .map(|bytes| EioPacket::Binary(bytes.into()))
            .map_err(|error| {
                ProtocolViolation::new(
                    packet_text,
                    format!("binary packet has invalid base64: {error}"),
                )
            }),
        None => EioPacket::decode_text(packet_text),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn decodes_text_packets_separated_by_record_separator() {
        assert_eq!(
            decode_polling_payload("4hello\x1e4world"),
            Ok(vec![
                EioPacket::Message("hello".into()),
                EioPacket::Message("world".into())
            ])
        );
    }

    #[test]
    fn binary_packets_are_b_plus_standard_base64() {
        let packets = vec![
            EioPacket::Message("51-[\"up\",{\"_placeholder\":true,\"num\":0}]".into()),
            EioPacket::Binary(Bytes::from_static(&[1, 2, 3])),
            EioPacket::Binary(Bytes::from_static(&[0xe0, 0xe1, 0xe2])),
            EioPacket::Binary(Bytes::new()),
            EioPacket::Ping { probe: false },
        ];
        let wire = "451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID\x1eb4OHi\x1eb\x1e2";
        assert_eq!(encode_polling_payload(&packets), wire);
        assert_eq!(decode_polling_payload(wire), Ok(packets));
    }

    #[test]
    fn padding_is_kept_and_required() {
        let packets = [EioPacket::Binary(Bytes::from_static(&[0xff]))];
        assert_eq!(encode_polling_payload(&packets), "b/w==");
        assert!(decode_polling_payload("b/w").is_err());
    }

    #[test]
    fn a_single_packet_needs_no_separator() {
        assert_eq!(encode_polling_payload(&[EioPacket::Noop]), "6");
        assert_eq!(decode_polling_payload("6"), Ok(vec![EioPacket::Noop]));
        assert_eq!(encode_polling_payload(&[]), "");
    }

    #[test]
    fn rejects_broken_payloads_with_a_reason() {
        let cases: [(&str, &str, &[u8]); 8] = [
            ("", "empty polling payload", b""),
            (
                "4a\x1e",
                "polling payload packet #1: empty Engine.IO packet",
                b"",
            ),
            (
                "4a\x1e\x1e4b",
                "polling payload packet #1: empty Engine.IO packet",
                b"",
            ),
            (
                "\x1e4a",
                "polling payload packet #0: empty Engine.IO packet",
                b"",
            ),
            (
                "4a\x1e9",
                "polling payload packet #1: unknown Engine.IO packet type '9'",
                b"9",
            ),
            (
                "b!!!",
                "polling payload packet #0: binary packet has invalid base64: Invalid symbol 33, offset 0.",
                b"b!!!",
            ),
            (
                "4a\x1ebAQI",
                "polling payload packet #1: binary packet has invalid base64",
                b"bAQI",
            ),
            (
                "bAQJ=",
                "polling payload packet #0: binary packet has invalid base64",
                b"bAQJ=",
            ),
        ];
        for (wire, expected_reason, expected_bytes) in cases {
            let violation = decode_polling_payload(wire).expect_err(wire);
            assert!(
                violation.reason.starts_with(expected_reason),
                "{wire:?}: got {:?}, expected {expected_reason:?}",
                violation.reason
            );
            assert_eq!(violation.bytes, expected_bytes, "{wire:?}");
        }
    }

    #[test]
    fn bounds_the_packet_count() {
        let at_limit = vec!["6"; MAX_PACKETS_PER_PAYLOAD].join("\x1e");
        assert_eq!(
            decode_polling_payload(&at_limit).map(|packets| packets.len()),
            Ok(MAX_PACKETS_PER_PAYLOAD)
        );
        let over_limit = format!("{at_limit}\x1e6");
        let violation = decode_polling_payload(&over_limit).unwrap_err();
        assert_eq!(
            violation.reason,
            "polling payload holds more than 10000 packets"
        );
    }
}
