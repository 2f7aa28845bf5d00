//! The one error type of the codec: what the server sent and why it breaks
//! the protocol.

use std::fmt::Write;

/// What the server sent that breaks the protocol: the exact bytes and why.
///
/// `bytes` holds the offending unit exactly as received (a WebSocket frame, one
/// packet of a polling payload, a binary attachment); `reason` names the rule it
/// breaks. The `Display` form escapes the bytes and truncates them so that a
/// multi-megabyte frame still gives a readable one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: \"{}\"", escaped_preview(.bytes))]
pub struct ProtocolViolation {
    pub bytes: Vec<u8>,
    pub reason: String,
}

impl ProtocolViolation {
    pub fn new(bytes: impl Into<Vec<u8>>, reason: impl Into<String>) -> Self {
        ProtocolViolation {
            bytes: bytes.into(),
            reason: reason.into(),
        }
    }
}

/// Roughly how many characters of the offending bytes `Display` shows.
const PREVIEW_LIMIT: usize = 200;

/// Valid UTF-8 is shown as text (with `escape_debug`, so control characters such
/// as the polling separator `\u{1e}` stay visible); other bytes as `\xNN`.
fn escaped_preview(bytes: &[u8]) -> String {
    let mut preview = String::new();
    let mut shown = 0;
    for chunk in bytes.utf8_chunks() {
        for character in chunk.valid().chars() {
            if preview.len() >= PREVIEW_LIMIT {
                return truncated(preview, bytes.len() - shown);
            }
            preview.extend(character.escape_debug());
            shown += character.len_utf8();
        }
        for byte in chunk.invalid() {
            if preview.len() >= PREVIEW_LIMIT {
                return truncated(preview, bytes.len() - shown);
            }
            let _ = write!(preview, "\\x{byte:02x}");
            shown += 1;
        }
    }
    preview
}

fn truncated(mut preview: String, hidden_bytes: usize) -> String {
    let _ = write!(preview, "… (+{hidden_bytes} bytes)");
    preview
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_reason_and_escaped_bytes() {
        let violation = ProtocolViolation::new(b"4a\x1e\xff\"".to_vec(), "bad");
        assert_eq!(violation.to_string(), r#"bad: "4a\u{1e}\xff\"""#);
    }

    #[test]
    fn display_of_empty_bytes_is_visible() {
        assert_eq!(
            ProtocolViolation::new(Vec::new(), "empty packet").to_string(),
            r#"empty packet: """#
        );
    }

    #[test]
    fn display_truncates_long_input_and_says_how_much_is_hidden() {
        let violation = ProtocolViolation::new(vec![b'x'; 1000], "too long");
        let shown = violation.to_string();
        assert!(shown.len() < 260, "{shown}");
        assert!(shown.ends_with("… (+800 bytes)\""), "{shown}");
    }

    #[test]
    fn display_never_splits_a_multibyte_character() {
        let violation = ProtocolViolation::new("é".repeat(300), "unicode");
        let shown = violation.to_string();
        assert!(shown.contains("ééé"));
        assert!(shown.ends_with("… (+400 bytes)\""), "{shown}");
    }
}
