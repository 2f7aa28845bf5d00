//! The heartbeat from the server's side: a client that stops answering
//! pings (or stops reading, which answers none either) must be dropped.
//!
//! - [`SILENT_CLIENT_DROPPED`]: a session whose client went silent is closed
//!   within the ping interval plus the ping timeout its own handshake
//!   announced, plus [`DROP_GRACE_US`], counted from when it went silent.
//!   Judged only when the trace follows the session past that deadline (it
//!   closed later, or the run went on that long) and the client did not end
//!   it itself first; the deadline comes from the server's own timings, so
//!   the verdict does not depend on them.

use serde_json::Value;

use super::history::{History, SessionLog};
use super::{Invariant, Violation};
use crate::trace::EventKind;

pub const SILENT_CLIENT_DROPPED: &str = "heartbeat.silent-client-dropped";

/// Slack on the server's own deadline: its timer's granularity, a ping
/// sent just before the client went silent, and a close's way back.
pub const DROP_GRACE_US: u64 = 3_000_000;

/// The heartbeat check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Heartbeat;

impl Invariant for Heartbeat {
    fn name(&self) -> &str {
        "heartbeat"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        history
            .sessions
            .values()
            .find_map(|session| undropped(history, session))
            .into_iter()
            .collect()
    }
}

fn undropped(history: &History<'_>, session: &SessionLog) -> Option<Violation> {
    let silent = session.stopped_pings?;
    let (interval, timeout) = announced_timings(history, session)?;
    let allowed_us = interval
        .saturating_add(timeout)
        .saturating_mul(1000)
        .saturating_add(DROP_GRACE_US);
    let deadline = history.at_us(silent).saturating_add(allowed_us);
    if ended_by_client(history, session, silent) {
        return None;
    }
    let observed_until = session.closed.map_or(history.end_us, |c| history.at_us(c));
    if observed_until <= deadline {
        return None;
    }
    let mut witnesses = vec![silent];
    witnesses.extend(session.closed);
    // "stops reading" or "stops answering pings", as the client said it.
    let how = history.event(silent).text.replacen("stops", "stopped", 1);
    Some(Violation::new(
        SILENT_CLIENT_DROPPED,
        format!(
            "{} {how} but the server had not dropped it {} ms later \
             (its handshake announced pingInterval {interval} + pingTimeout {timeout} ms)",
            session.alias,
            (observed_until - history.at_us(silent)) / 1000
        ),
        history.witnesses(&witnesses),
    ))
}

/// `pingInterval` and `pingTimeout` of the session's handshake (`0{…}`).
fn announced_timings(history: &History<'_>, session: &SessionLog) -> Option<(u64, u64)> {
    let open = history.trace.events[session.opened..]
        .iter()
        .filter(|e| e.actor == session.alias && e.kind == EventKind::Recv)
        .find_map(|e| e.text.strip_prefix('0'))?;
    let open: Value = serde_json::from_str(open).ok()?;
    Some((
        open.get("pingInterval")?.as_u64()?,
        open.get("pingTimeout")?.as_u64()?,
    ))
}

/// Whether the client closed, dropped or left the session after `silent`
/// and before the server did (its own doing, not a drop by the server).
fn ended_by_client(history: &History<'_>, session: &SessionLog, silent: usize) -> bool {
    let Some(closed) = session.closed else {
        return false;
    };
    let reason = &history.event(closed).text;
    closed > silent && (reason.contains("by the client") || reason.contains("ping timeout"))
}
