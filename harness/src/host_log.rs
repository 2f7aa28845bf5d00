//! Captures the server hosts' `tracing` logs into the trace, stamped with
//! simulated time, and counts the segments turmoil drops or holds (the
//! evidence that a fault fired).
//!
//! turmoil runs every host on the simulation's thread inside a span named
//! `node` carrying the host's name, so the layer learns which host logged an
//! event by walking up its spans.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::pending_timers::{self, PendingTimersLayer, SleepTraces};
use crate::trace::{EventKind, Recorder};

thread_local! {
    static ACTIVE: RefCell<Option<Capture>> = const { RefCell::new(None) };
    static SEGMENTS_DROPPED: Cell<u64> = const { Cell::new(0) };
    static SEGMENTS_HELD: Cell<u64> = const { Cell::new(0) };
    static HANDSHAKE_WAKES: Cell<u64> = const { Cell::new(0) };
    /// The ids of turmoil's open `node` spans: entering any other span (a
    /// timer's, on every poll) is not looked up.
    static NODE_SPANS: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
    /// The host whose code runs now (turmoil's `node` span is entered).
    static CURRENT_HOST: RefCell<Option<String>> = const { RefCell::new(None) };
}

struct Capture {
    recorder: Recorder,
    /// The hosts whose logs are kept; each names its lines in the trace.
    server_hosts: BTreeSet<String>,
}

/// Routes this thread's server logs into `recorder` until the guard drops.
#[must_use]
pub(crate) struct CaptureGuard {
    _subscriber: tracing::subscriber::DefaultGuard,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        ACTIVE.with(|active| active.borrow_mut().take());
    }
}

/// Keeps the server's log events at `level` and above (and turmoil's own).
/// With `watch_timers`, also keeps [`pending_timers`] up to date.
pub(crate) fn capture(
    recorder: Recorder,
    server_hosts: BTreeSet<String>,
    level: Level,
    watch_timers: bool,
) -> CaptureGuard {
    use tracing_subscriber::layer::SubscriberExt;
    ACTIVE.with(|active| {
        *active.borrow_mut() = Some(Capture {
            recorder,
            server_hosts,
        })
    });
    SEGMENTS_DROPPED.with(|c| c.set(0));
    SEGMENTS_HELD.with(|c| c.set(0));
    HANDSHAKE_WAKES.with(|c| c.set(0));
    NODE_SPANS.with(|spans| spans.borrow_mut().clear());
    pending_timers::forget_all();
    // One filter for both layers: per-layer filters cost stepping every tick
    // about a tenth of its speed.
    let seen = Seen {
        level,
        sleeps: watch_timers,
    };
    let subscriber = tracing_subscriber::registry()
        .with(HostLogLayer { seen })
        .with(watch_timers.then_some(PendingTimersLayer));
    CaptureGuard {
        _subscriber: tracing::subscriber::set_default(subscriber),
    }
}

fn is_node_span(id: &Id) -> bool {
    NODE_SPANS.with(|spans| spans.borrow().contains(&id.into_u64()))
}

/// The simulated host running on this thread right now, if any. Never
/// panics (the panic hook asks).
pub(crate) fn current_host() -> Option<String> {
    CURRENT_HOST
        .try_with(|host| host.try_borrow().ok().and_then(|h| h.clone()))
        .ok()
        .flatten()
}

/// How often, on this thread since the capture began, a host may have woken
/// another host's task through memory instead of the network: turmoil
/// answers a TCP SYN (accepted, or refused on delivery) through a channel
/// the connecting task awaits.
pub(crate) fn handshake_wakes() -> u64 {
    HANDSHAKE_WAKES.with(Cell::get)
}

/// Segments turmoil dropped and held on this thread since the capture began.
pub(crate) fn segments_dropped_and_held() -> (u64, u64) {
    (
        SEGMENTS_DROPPED.with(Cell::get),
        SEGMENTS_HELD.with(Cell::get),
    )
}

const TURMOIL: &str = "turmoil";
/// How turmoil's `protocol` field starts for a SYN and a SYN-ACK.
const TCP_SYN: &str = "TCP SYN";

/// tokio's own traces of its runtime (see [`pending_timers`]): not logs.
const TOKIO_RUNTIME: [&str; 2] = ["runtime::", "tokio::"];

struct HostLogLayer {
    seen: Seen,
}

/// What the capture's subscriber lets through: turmoil's `node` span and its
/// segment events, every other log event at `level` or above, and, when
/// timers are watched, tokio's traces of its `Sleep`s (for
/// [`PendingTimersLayer`]).
#[derive(Clone, Copy)]
struct Seen {
    level: Level,
    sleeps: bool,
}

impl Seen {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        (self.sleeps && SleepTraces::wants(metadata)) || self.is_log(metadata)
    }

    /// Whether [`HostLogLayer`] keeps it.
    fn is_log(&self, metadata: &Metadata<'_>) -> bool {
        if metadata.is_span() {
            // turmoil's `node` span (target `turmoil::sim`) names the host.
            return metadata.name() == "node" && metadata.target().starts_with(TURMOIL);
        }
        let target = metadata.target();
        // `Drop`/`Hold` are turmoil's trace-level events.
        target == TURMOIL
            || (*metadata.level() <= self.level
                && !TOKIO_RUNTIME
                    .iter()
                    .any(|prefix| target.starts_with(prefix)))
    }
}

/// The host name a `node` span carries.
struct NodeName(String);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for HostLogLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.seen.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        self.seen.wants(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "node" {
            return;
        }
        let mut visitor = NodeNameField::default();
        attrs.record(&mut visitor);
        if let (Some(span), Some(name)) = (ctx.span(id), visitor.0) {
            span.extensions_mut().insert(NodeName(name));
            NODE_SPANS.with(|spans| spans.borrow_mut().insert(id.into_u64()));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !is_node_span(id) {
            return;
        }
        if let Some(span) = ctx.span(id)
            && let Some(name) = span.extensions().get::<NodeName>()
        {
            CURRENT_HOST.with(|host| *host.borrow_mut() = Some(name.0.clone()));
        }
    }

    fn on_exit(&self, id: &Id, _: Context<'_, S>) {
        if is_node_span(id) {
            CURRENT_HOST.with(|host| host.borrow_mut().take());
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        NODE_SPANS.with(|spans| spans.borrow_mut().remove(&id.into_u64()));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if !self.seen.is_log(metadata) {
            return;
        }
        let is_turmoil = metadata.target() == TURMOIL;
        // turmoil logs every segment; only its message (and, for the
        // handshake, the start of its protocol) matters here.
        let mut fields = Fields {
            keep_rest: !is_turmoil,
            ..Fields::default()
        };
        event.record(&mut fields);
        if is_turmoil {
            match fields.message.as_str() {
                "Drop" => SEGMENTS_DROPPED.with(|c| c.set(c.get() + 1)),
                "Hold" => SEGMENTS_HELD.with(|c| c.set(c.get() + 1)),
                "Delivered" | "Send" if fields.protocol.starts_with(TCP_SYN) => {
                    HANDSHAKE_WAKES.with(|c| c.set(c.get() + 1))
                }
                _ => {}
            }
            return;
        }
        let host = ctx.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .find_map(|span| span.extensions().get::<NodeName>().map(|n| n.0.clone()))
        });
        ACTIVE.with(|active| {
            let active = active.borrow();
            let Some(capture) = active.as_ref() else {
                return;
            };
            let Some(host) = host.filter(|host| capture.server_hosts.contains(host)) else {
                return;
            };
            let at = turmoil::sim_elapsed().unwrap_or_default();
            let text = format!(
                "{} {}: {}{}",
                metadata.level(),
                metadata.target(),
                fields.message,
                fields.rest
            );
            capture.recorder.record(at, &host, EventKind::Log, text);
        });
    }
}

/// A log event's message and every other field, as ` key=value` pairs.
#[derive(Default)]
struct Fields {
    keep_rest: bool,
    message: String,
    rest: String,
    /// The start of turmoil's `protocol` field (a data segment's is a long
    /// hex dump, never written out in full).
    protocol: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            other if self.keep_rest => {
                let _ = write!(self.rest, " {other}={value}");
            }
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "protocol" if !self.keep_rest => {
                let mut start = Capped(&mut self.protocol);
                let _ = write!(start, "{value:?}");
            }
            other if self.keep_rest => {
                let _ = write!(self.rest, " {other}={value:?}");
            }
            _ => {}
        }
    }
}

/// Writes at most [`Capped::LIMIT`] bytes, then fails, which stops the
/// formatting.
struct Capped<'a>(&'a mut String);

impl Capped<'_> {
    const LIMIT: usize = 16;
}

impl fmt::Write for Capped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = Self::LIMIT.saturating_sub(self.0.len());
        let end = text.floor_char_boundary(room.min(text.len()));
        self.0.push_str(&text[..end]);
        if end < text.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// The `name` field of turmoil's `node` span.
#[derive(Default)]
struct NodeNameField(Option<String>);

impl Visit for NodeNameField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "name" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "name" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}
