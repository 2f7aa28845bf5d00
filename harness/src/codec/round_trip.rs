//! The codec's round-trip property, in one place for the fuzzer
//! (`harness/fuzz`, target `codec`) and the regression tests that replay
//! what it found: whatever the codec decodes from a text, it encodes back to
//! a text that decodes to the same packets.

use super::{EioPacket, SioDecoded, SioPacket, decode_polling_payload, encode_polling_payload};

/// Decodes `text` as an Engine.IO packet, a polling payload and a Socket.IO
/// packet; each that decodes must survive encode-then-decode unchanged.
/// `Err` says which did not, with the texts.
pub fn check_round_trips(text: &str) -> Result<(), String> {
    engine_io_packet(text)?;
    polling_payload(text)?;
    socket_io_packet(text)
}

fn engine_io_packet(text: &str) -> Result<(), String> {
    let Ok(packet) = EioPacket::decode_text(text) else {
        return Ok(());
    };
    let Some(encoded) = packet.encode_text() else {
        return Ok(());
    };
    match EioPacket::decode_text(&encoded) {
        Ok(again) if again == packet => Ok(()),
        again => Err(format!(
            "Engine.IO packet {text:?} -> {encoded:?} -> {again:?}, not {packet:?}"
        )),
    }
}

fn polling_payload(text: &str) -> Result<(), String> {
    let Ok(packets) = decode_polling_payload(text) else {
        return Ok(());
    };
    let encoded = encode_polling_payload(&packets);
    match decode_polling_payload(&encoded) {
        Ok(again) if again == packets => Ok(()),
        again => Err(format!(
            "polling payload {text:?} -> {encoded:?} -> {again:?}, not {packets:?}"
        )),
    }
}

fn socket_io_packet(text: &str) -> Result<(), String> {
    let Ok(SioDecoded::Complete(packet)) = SioPacket::decode(text) else {
        return Ok(());
    };
    let (encoded, _) = packet.encode();
    match SioPacket::decode(&encoded) {
        Ok(SioDecoded::Complete(again)) if again == packet => Ok(()),
        again => Err(format!(
            "Socket.IO packet {text:?} -> {encoded:?} -> {again:?}, not {packet:?}"
        )),
    }
}
