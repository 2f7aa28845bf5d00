//! Reassembles BINARY_EVENT / BINARY_ACK packets from the Engine.IO messages
//! that carry them: the text header first, then exactly the announced number of
//! binary packets, with nothing else in between.

use bytes::Bytes;

use super::{ProtocolViolation, SioDecoded, SioPacket};

/// Fed every Engine.IO message of one connection, in order.
///
/// After a violation the assembler is idle again (any partial packet is
/// dropped), so a caller that keeps going after reporting it is not stuck.
#[derive(Debug, Default)]
pub struct BinaryAssembler {
    awaiting_attachments: Option<PartialPacket>,
}

#[derive(Debug)]
struct PartialPacket {
    packet: SioPacket,
    expected: usize,
}

impl BinaryAssembler {
    pub fn new() -> Self {
        BinaryAssembler::default()
    }

    /// How many binary packets the packet being assembled still waits for.
    pub fn missing_attachments(&self) -> usize {
        self.awaiting_attachments.as_ref().map_or(0, |partial| {
            partial.expected - partial.packet.attachments.len()
        })
    }

    /// A text Engine.IO message: a complete packet, or `None` for a binary
    /// header whose attachments must follow.
    pub fn push_text(&mut self, text: &str) -> Result<Option<SioPacket>, ProtocolViolation> {
        if self.awaiting_attachments.is_some() {
            let missing = self.missing_attachments();
            self.awaiting_attachments = None;
            return Err(ProtocolViolation::new(
                text,
                format!(
                    "text packet arrived while {missing} attachment(s) of a binary packet were still missing"
                ),
            ));
        }
        match SioPacket::decode(text)? {
            SioDecoded::Complete(packet) => Ok(Some(packet)),
            SioDecoded::NeedsAttachments { packet, expected } => {
                self.awaiting_attachments = Some(PartialPacket { packet, expected });
                Ok(None)
            }
        }
    }

    /// A binary Engine.IO message: the completed packet once its last
    /// attachment arrives, `None` while more are needed.
    pub fn push_binary(&mut self, bytes: Bytes) -> Result<Option<SioPacket>, ProtocolViolation> {
        let Some(partial) = self.awaiting_attachments.as_mut() else {
            return Err(ProtocolViolation::new(
                bytes.to_vec(),
                "binary packet arrived while no binary Socket.IO packet awaits attachments",
            ));
        };
        partial.packet.attachments.push(bytes);
        if partial.packet.attachments.len() < partial.expected {
            return Ok(None);
        }
        Ok(self
            .awaiting_attachments
            .take()
            .map(|partial| partial.packet))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::codec::EioPacket;

    const HEADER: &str = r#"51-["up",{"_placeholder":true,"num":0}]"#;

    #[test]
    fn completes_a_binary_event_after_its_attachments() {
        let mut assembler = BinaryAssembler::new();
        let header =
            r#"52-/files,["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(assembler.push_text(header), Ok(None));
        assert_eq!(assembler.missing_attachments(), 2);
        assert_eq!(assembler.push_binary(Bytes::from_static(b"\x01")), Ok(None));
        assert_eq!(assembler.missing_attachments(), 1);
        let packet = assembler
            .push_binary(Bytes::from_static(b"\x02"))
            .unwrap()
            .unwrap();
        assert_eq!(assembler.missing_attachments(), 0);
        assert_eq!(packet.namespace, "/files");
        assert_eq!(
            packet.args(),
            vec![json!({ "$binary": "AQ==" }), json!({ "$binary": "Ag==" })]
        );
        // Back to idle: a plain packet decodes normally.
        assert!(assembler.push_text(r#"2["next"]"#).unwrap().is_some());
    }

    #[test]
    fn works_on_what_engine_io_unwraps() {
        // A WebSocket text frame `451-[…]` is Engine.IO MESSAGE `4` around `51-[…]`.
        let frame = format!("4{HEADER}");
        let EioPacket::Message(text) = EioPacket::decode_text(&frame).unwrap() else {
            panic!("not a message");
        };
        let mut assembler = BinaryAssembler::new();
        assert_eq!(assembler.push_text(&text), Ok(None));
        let EioPacket::Binary(bytes) = EioPacket::decode_binary_frame(b"\x01\x02") else {
            panic!("not binary");
        };
        let packet = assembler.push_binary(bytes).unwrap().unwrap();
        assert_eq!(packet.event_name(), Some("up"));
        assert_eq!(packet.args(), vec![json!({ "$binary": "AQI=" })]);
    }

    #[test]
    fn plain_packets_pass_straight_through() {
        let mut assembler = BinaryAssembler::new();
        let packet = assembler.push_text(r#"2["msg","hi"]"#).unwrap();
        assert_eq!(
            packet,
            Some(SioPacket::event("/", "msg", vec![json!("hi")], None))
        );
    }

    #[test]
    fn text_while_attachments_are_pending_is_a_violation() {
        let mut assembler = BinaryAssembler::new();
        assert_eq!(assembler.push_text(HEADER), Ok(None));
        let violation = assembler.push_text(r#"2["other"]"#).unwrap_err();
        assert_eq!(violation.bytes, br#"2["other"]"#);
        assert_eq!(
            violation.reason,
            "text packet arrived while 1 attachment(s) of a binary packet were still missing"
        );
        assert_eq!(assembler.missing_attachments(), 0);
    }

    #[test]
    fn binary_with_nothing_pending_is_a_violation() {
        let mut assembler = BinaryAssembler::new();
        let violation = assembler
            .push_binary(Bytes::from_static(b"\xff"))
            .unwrap_err();
        assert_eq!(violation.bytes, b"\xff");
        assert_eq!(
            violation.reason,
            "binary packet arrived while no binary Socket.IO packet awaits attachments"
        );
    }

    #[test]
    fn decoding_errors_come_through() {
        let mut assembler = BinaryAssembler::new();
        let violation = assembler.push_text("2[1]").unwrap_err();
        assert_eq!(
            violation.reason,
            "EVENT name (first array element) must be a string"
        );
    }
}
