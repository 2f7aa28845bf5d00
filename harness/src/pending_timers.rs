//! The simulated instant of the earliest timer any host is waiting on, so
//! that the driver can skip simulated time in which nothing is due.
//!
//! tokio keeps its timer wheel private, but built with `--cfg tokio_unstable`
//! and its `tracing` feature it traces every `Sleep` (which `sleep`,
//! `timeout` and `interval` are made of): a `runtime.resource` span lives as
//! long as the `Sleep`; a `runtime::resource::state_update` event gives the
//! deadline, in milliseconds from now, whenever the timer is registered or
//! reset; a `runtime::resource::poll_op` event says whether a poll found it
//! elapsed. This layer keeps, per live `Sleep`, its deadline in simulated
//! time and whether a task still waits on it.
//!
//! A timer that fired but whose task has not yet polled it is still
//! waited on, with its deadline in the past: the driver then takes an
//! ordinary step, which runs that task.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::Id;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Whether this build can see tokio's timers at all (the `skip-idle`
/// feature and `--cfg tokio_unstable`).
pub(crate) const OBSERVABLE: bool = cfg!(all(tokio_unstable, feature = "skip-idle"));

const SLEEP_SOURCE: &str = "src/time/sleep.rs";
const RESOURCE_SPAN: &str = "runtime.resource";
const STATE_UPDATE: &str = "runtime::resource::state_update";
const POLL_OP: &str = "runtime::resource::poll_op";

thread_local! {
    static WAITED_ON: RefCell<Timers> = RefCell::new(Timers::default());
}

/// The earliest deadline of a timer a task still waits on, if any; in the
/// past when a timer fired and its task has not run yet.
pub(crate) fn earliest() -> Option<Duration> {
    WAITED_ON.with(|timers| timers.borrow().earliest())
}

/// Forgets every timer: a new run on this thread begins.
pub(crate) fn forget_all() {
    WAITED_ON.with(|timers| *timers.borrow_mut() = Timers::default());
}

/// The live `Sleep`s, keyed by their span's id.
#[derive(Default)]
struct Timers {
    deadlines: BTreeMap<u64, Duration>,
    /// `(deadline, span id)` of the timers a task waits on.
    waited_on: BTreeSet<(Duration, u64)>,
}

impl Timers {
    fn earliest(&self) -> Option<Duration> {
        self.waited_on.first().map(|&(deadline, _)| deadline)
    }

    fn set_deadline(&mut self, id: u64, deadline: Duration) {
        self.forget(id);
        self.deadlines.insert(id, deadline);
        self.waited_on.insert((deadline, id));
    }

    /// A poll of the timer found it elapsed (`false`) or not (`true`).
    fn set_waited_on(&mut self, id: u64, waited_on: bool) {
        let Some(&deadline) = self.deadlines.get(&id) else {
            return;
        };
        if waited_on {
            self.waited_on.insert((deadline, id));
        } else {
            self.waited_on.remove(&(deadline, id));
        }
    }

    fn forget(&mut self, id: u64) {
        if let Some(deadline) = self.deadlines.remove(&id) {
            self.waited_on.remove(&(deadline, id));
        }
    }
}

/// Keeps [`earliest`] up to date from tokio's traces of its `Sleep`s.
pub(crate) struct PendingTimersLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for PendingTimersLayer {
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !SleepTraces::wants(event.metadata()) {
            return;
        }
        // Its current span is the `Sleep` (see [`SleepTraces`]); reading the
        // id alone spares a lookup of the span's data.
        let Some(sleep) = ctx.current_span().id().map(Id::into_u64) else {
            return;
        };
        let mut fields = SleepFields::default();
        event.record(&mut fields);
        WAITED_ON.with(|timers| {
            let mut timers = timers.borrow_mut();
            if let Some(from_now) = fields.duration_ms {
                // Outside a host (turmoil's own stepping) the deadline is
                // unknown: taken as now, which only forbids a skip.
                let now = turmoil::sim_elapsed().unwrap_or_default();
                timers.set_deadline(sleep, now + Duration::from_millis(from_now));
            } else if let Some(ready) = fields.is_ready {
                timers.set_waited_on(sleep, !ready);
            }
        });
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        WAITED_ON.with(|timers| timers.borrow_mut().forget(id.into_u64()));
    }
}

/// tokio's `Sleep` resource span and its two events: what
/// [`PendingTimersLayer`] reads. The span's async-op children stay disabled,
/// so an event's current span is the `Sleep` itself.
pub(crate) struct SleepTraces;

impl SleepTraces {
    pub(crate) fn wants(metadata: &Metadata<'_>) -> bool {
        if !metadata
            .file()
            .is_some_and(|file| file.ends_with(SLEEP_SOURCE))
        {
            return false;
        }
        if metadata.is_span() {
            metadata.name() == RESOURCE_SPAN
        } else {
            matches!(metadata.target(), STATE_UPDATE | POLL_OP)
        }
    }
}

/// The fields of a `state_update` (`duration`, in ms) or `poll_op`
/// (`is_ready`) event.
#[derive(Default)]
struct SleepFields {
    duration_ms: Option<u64>,
    is_ready: Option<bool>,
}

impl Visit for SleepFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "duration" {
            self.duration_ms = Some(value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "is_ready" {
            self.is_ready = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}
