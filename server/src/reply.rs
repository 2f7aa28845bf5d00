//! The two ack bodies every validated event answers with, so clients can
//! tell success from refusal with one field check.

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;
use tracing::debug;

/// `{"ok": true}`.
pub(crate) fn ok() -> Value {
    json!({ "ok": true })
}

/// `{"error": "<why>"}`.
pub(crate) fn error(why: impl Into<String>) -> Value {
    json!({ "error": why.into() })
}

/// Sends `body` as the ack. A client that asked for no ack gets nothing, and
/// one that is already gone is no error of the server's: log and move on.
pub(crate) fn send<A: Adapter>(ack: AckSender<A>, body: &impl serde::Serialize) {
    if let Err(err) = ack.send(body) {
        debug!(%err, "ack not delivered");
    }
}
