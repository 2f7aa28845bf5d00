//! The trace: what happened in a run, one line per event, in simulated-time
//! order. Its `Display` is stable (snapshots lock it down) and its JSON form
//! is versioned (files outlive the code that wrote them).
//!
//! Line format, one event per line:
//!
//! ```text
//!    1041ms  alice#1   recv  42["get count",3]
//!    ^time   ^actor    ^kind ^text
//! ```
//! - time: simulated milliseconds since the run started, right-aligned;
//! - actor: `alice` (a client between sessions), `alice#2` (alice's second
//!   session), `server` (the server host's logs), `sim` (faults);
//! - kind: see [`EventKind`];
//! - text: the exact wire text for frames; sids are replaced by their aliases.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How many leading bytes of a binary payload [`binary_text`] shows.
const BINARY_SHOWN: usize = 16;

/// A binary frame or packet as a trace line (and a verdict's reason) shows
/// it: its size and its first bytes in hex, `<binary 3 bytes 010203>`, with
/// `…` when there is more. The one rendering of binary data.
pub fn binary_text(bytes: &[u8]) -> String {
    let shown: String = bytes
        .iter()
        .take(BINARY_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    match bytes.len() {
        0 => "<binary 0 bytes>".to_owned(),
        len if len > BINARY_SHOWN => format!("<binary {len} bytes {shown}…>"),
        len => format!("<binary {len} bytes {shown}>"),
    }
}

/// The version of the JSON trace format; bump it when a field changes meaning.
pub const TRACE_FORMAT_VERSION: u32 = 1;

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A packet the client sent (`send`).
    Send,
    /// A packet the client received (`recv`).
    Recv,
    /// A session opened, upgraded or ended, with the reason (`sess`).
    Session,
    /// A log line of the server host (`log`).
    Log,
    /// A fault applied, or the evidence that it fired (`fault`).
    Fault,
    /// An HTTP request and its response (`http`).
    Http,
    /// An expectation that held (`pass`).
    Pass,
    /// An expectation that did not hold (`FAIL`).
    Fail,
    /// Something the server sent that breaks the protocol (`BAD`).
    Violation,
}

impl EventKind {
    fn label(self) -> &'static str {
        match self {
            EventKind::Send => "send",
            EventKind::Recv => "recv",
            EventKind::Session => "sess",
            EventKind::Log => "log",
            EventKind::Fault => "fault",
            EventKind::Http => "http",
            EventKind::Pass => "pass",
            EventKind::Fail => "FAIL",
            EventKind::Violation => "BAD",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Simulated time since the start of the run, in microseconds.
    pub at_us: u64,
    pub actor: String,
    pub kind: EventKind,
    pub text: String,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.at_us / 1000;
        write!(
            f,
            "{ms:>8}ms  {:<9} {:<5} {}",
            self.actor,
            self.kind.label(),
            self.text
        )
    }
}

/// A finished run's events, sids already aliased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub version: u32,
    pub events: Vec<TraceEvent>,
}

impl Trace {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a trace always serialises")
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The events of one kind.
    pub fn of_kind(&self, kind: EventKind) -> impl Iterator<Item = &TraceEvent> {
        self.events.iter().filter(move |e| e.kind == kind)
    }

    /// The events whose actor is `actor` or one of its sessions (`actor#N`).
    pub fn of_client<'a>(&'a self, client: &'a str) -> impl Iterator<Item = &'a TraceEvent> {
        self.events.iter().filter(move |e| {
            e.actor == client
                || e.actor
                    .strip_prefix(client)
                    .is_some_and(|rest| rest.starts_with('#'))
        })
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for event in &self.events {
            writeln!(f, "{event}")?;
        }
        Ok(())
    }
}

/// Upper bound on recorded events: a runaway scenario ends with a clear
/// note instead of eating the machine's memory.
pub const MAX_TRACE_EVENTS: usize = 2_000_000;

/// Collects events while a run is under way. Cheap to clone; single-threaded
/// (everything in a simulation runs on one OS thread).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Rc<RefCell<RecorderState>>,
}

#[derive(Debug, Default)]
struct RecorderState {
    events: Vec<TraceEvent>,
    /// Raw sid -> stable alias such as `alice#1`.
    aliases: BTreeMap<String, String>,
    truncated: bool,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&self, at: Duration, actor: &str, kind: EventKind, text: impl Into<String>) {
        let mut state = self.inner.borrow_mut();
        if state.events.len() >= MAX_TRACE_EVENTS {
            state.truncated = true;
            return;
        }
        let at_us = at.as_micros().try_into().unwrap_or(u64::MAX);
        state.events.push(TraceEvent {
            at_us,
            actor: actor.to_owned(),
            kind,
            text: text.into(),
        });
    }

    /// From now on `sid` is shown as `alias` everywhere in the trace, earlier
    /// lines included (a server may log a sid before the client learns it).
    ///
    /// A sid the server already gave another session is a protocol
    /// violation (session ids are never reused): recorded as a `BAD` line
    /// on `alias`'s session at `at`.
    pub fn alias(&self, at: Duration, sid: &str, alias: &str) {
        if sid.is_empty() {
            return;
        }
        let previous = self
            .inner
            .borrow_mut()
            .aliases
            .insert(sid.to_owned(), alias.to_owned());
        let session = |alias: &str| {
            alias
                .split(['.', '/'])
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        if let Some(previous) = previous.filter(|p| session(p) != session(alias)) {
            self.record(
                at,
                &session(alias),
                EventKind::Violation,
                format!(
                    "session id reused: the server gave {} the id it had given {previous}",
                    session(alias)
                ),
            );
        }
    }

    /// Number of events recorded so far.
    pub fn len(&self) -> usize {
        self.inner.borrow().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the events recorded so far, not yet aliased.
    pub fn events_since(&self, index: usize) -> Vec<TraceEvent> {
        self.inner
            .borrow()
            .events
            .get(index..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The trace, with sids replaced by their aliases and events in time order
    /// (stable, so same-time events keep the order they were recorded in).
    pub fn finish(&self) -> Trace {
        let state = self.inner.borrow();
        let mut events: Vec<TraceEvent> = state
            .events
            .iter()
            .map(|e| TraceEvent {
                text: apply_aliases(&e.text, &state.aliases),
                ..e.clone()
            })
            .collect();
        if state.truncated {
            let at_us = events.last().map_or(0, |e| e.at_us);
            events.push(TraceEvent {
                at_us,
                actor: "sim".into(),
                kind: EventKind::Fail,
                text: format!("trace truncated at {MAX_TRACE_EVENTS} events"),
            });
        }
        events.sort_by_key(|e| e.at_us);
        Trace {
            version: TRACE_FORMAT_VERSION,
            events,
        }
    }
}

/// Replaces every whole token that is a known sid. Tokens are runs of the
/// characters sids are drawn from (base64url), so one pass over the text does
/// it however many sids are known.
fn apply_aliases(text: &str, aliases: &BTreeMap<String, String>) -> String {
    if aliases.is_empty() {
        return text.to_owned();
    }
    let is_sid_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_sid_char) {
        out.push_str(&rest[..start]);
        let token_len = rest[start..]
            .find(|c: char| !is_sid_char(c))
            .unwrap_or(rest.len() - start);
        let token = &rest[start..start + token_len];
        out.push_str(aliases.get(token).map_or(token, String::as_str));
        rest = &rest[start + token_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn binary_shows_its_size_and_first_bytes_in_hex() {
        assert_eq!(binary_text(&[1, 2, 0xff]), "<binary 3 bytes 0102ff>");
        assert_eq!(binary_text(&[]), "<binary 0 bytes>");
        let long: Vec<u8> = (0..20).collect();
        assert_eq!(
            binary_text(&long),
            "<binary 20 bytes 000102030405060708090a0b0c0d0e0f…>"
        );
    }

    use super::*;

    #[test]
    fn aliases_replace_whole_tokens_only() {
        let mut aliases = BTreeMap::new();
        aliases.insert("AbC-123_x".to_owned(), "alice#1".to_owned());
        assert_eq!(
            apply_aliases(r#"0{"sid":"AbC-123_x","x":"AbC-123_xy"}"#, &aliases),
            r#"0{"sid":"alice#1","x":"AbC-123_xy"}"#
        );
    }

    #[test]
    fn finish_sorts_by_time_and_keeps_recording_order_within_a_tick() {
        let recorder = Recorder::new();
        recorder.record(Duration::from_millis(5), "b", EventKind::Recv, "second");
        recorder.record(Duration::from_millis(1), "a", EventKind::Send, "first");
        recorder.record(Duration::from_millis(5), "c", EventKind::Recv, "third");
        recorder.alias(Duration::ZERO, "second", "2nd");
        let text = recorder.finish().to_string();
        assert_eq!(
            text,
            "       1ms  a         send  first\n       5ms  b         recv  2nd\n       5ms  c         recv  third\n"
        );
    }

    #[test]
    fn json_form_round_trips_and_carries_its_version() {
        let recorder = Recorder::new();
        recorder.record(
            Duration::from_micros(1500),
            "sim",
            EventKind::Fault,
            "crash server",
        );
        let trace = recorder.finish();
        let json = trace.to_json();
        assert!(json.contains("\"version\": 1"), "{json}");
        assert_eq!(Trace::from_json(&json).unwrap(), trace);
    }
}
