//! Invariants: checks that read a finished trace (a [`History`]) and the
//! scenario that produced it, apart from the system under test, and name
//! every broken promise with the trace lines that witness it.
//!
//! Write your own with [`from_fn`] (or implement [`Invariant`]) over the
//! same [`History`] the built-in checkers read, and add it to a
//! [`Simulation`](crate::Simulation) with `.invariant(...)`. The built-in
//! families take your app's events as configuration: [`counter::Counter`],
//! [`chat::Chat`] and [`delivery::Delivery`] (both configured by a
//! [`Relays`]), [`collection::Collection`] (a REST collection whose changes
//! are pushed), [`echo::Echo`] (replies to the sender, once),
//! [`disconnect::DisconnectReasons`], [`heartbeat::Heartbeat`]
//! (a silent client is dropped) and, for a scenario built to end one
//! session one way, [`disconnect::ExpectedReason`]. Every run is also
//! judged for [`PROTOCOL`] and [`EXPECTATIONS`].
//!
//! They only judge what the trace can prove: a message lost to a partition is
//! no violation, a message delivered twice is. Liveness ("converges", "every
//! ack arrives") is judged only on sessions opened after the last fault (the
//! healed phase) that stayed open long enough.
//!
//! ```
//! use siosim_harness::invariants::{self, Invariant, Violation, Way};
//! use siosim_harness::Scenario;
//! # let trace = siosim_harness::Trace { version: 1, events: vec![] };
//!
//! // Nobody ever receives an "error" event.
//! let no_errors = invariants::from_fn("app.no-error-event", |history| {
//!     history
//!         .events(Way::Received, "error")
//!         .into_iter()
//!         .map(|(session, packet)| {
//!             Violation::new(
//!                 "app.no-error-event",
//!                 format!("{} received an error", session.alias),
//!                 history.witnesses(&[packet.event]),
//!             )
//!         })
//!         .collect()
//! });
//! let scenario = Scenario::new("empty");
//! assert!(no_errors.check(&invariants::History::new(&trace, &scenario)).is_empty());
//! ```

pub mod chat;
pub mod collection;
pub mod counter;
pub mod delivery;
pub mod disconnect;
pub mod echo;
pub mod heartbeat;
mod history;
mod relays;

use std::fmt;

use crate::report::Report;
use crate::scenario::Scenario;
use crate::trace::{EventKind, TraceEvent};

pub use history::{History, Packet, RelayKey, ServerDisconnect, SessionLog, Way};
pub use relays::{Audience, Relay, Relays, Rooms};

/// A property every run must keep, judged on its finished trace.
pub trait Invariant: Send + Sync {
    /// Its name (a family of checks may report violations under finer names).
    fn name(&self) -> &str;
    /// Every violation in `history`, in a deterministic order.
    fn check(&self, history: &History<'_>) -> Vec<Violation>;
}

/// An [`Invariant`] from a closure; see the module's example.
pub fn from_fn<F>(name: &'static str, check: F) -> FnInvariant<F>
where
    F: Fn(&History<'_>) -> Vec<Violation> + Send + Sync,
{
    FnInvariant { name, check }
}

/// The [`Invariant`] [`from_fn`] builds.
pub struct FnInvariant<F> {
    name: &'static str,
    check: F,
}

impl<F> fmt::Debug for FnInvariant<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnInvariant")
            .field("name", &self.name)
            .finish()
    }
}

impl<F> Invariant for FnInvariant<F>
where
    F: Fn(&History<'_>) -> Vec<Violation> + Send + Sync,
{
    fn name(&self) -> &str {
        self.name
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        (self.check)(history)
    }
}

/// A broken invariant, with the events that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Its dotted name, e.g. `counter.monotonic`.
    pub invariant: &'static str,
    /// What went wrong, in one line.
    pub summary: String,
    /// The trace events that witness it, in trace order (two identical
    /// lines are two events: a duplicate delivery is witnessed twice).
    pub witnesses: Vec<TraceEvent>,
    /// The seed of the run, when known.
    pub seed: Option<u64>,
}

impl Violation {
    /// A violation of `invariant` (its name, e.g. `app.members-agree`),
    /// witnessed by `witnesses` (see [`History::witnesses`]).
    pub fn new(
        invariant: &'static str,
        summary: impl Into<String>,
        witnesses: Vec<TraceEvent>,
    ) -> Self {
        Self {
            invariant,
            summary: summary.into(),
            witnesses,
            seed: None,
        }
    }

    /// The headline: `invariant <name> violated: <summary>`.
    pub fn headline(&self) -> String {
        format!("invariant {} violated: {}", self.invariant, self.summary)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        if let Some(seed) = self.seed {
            writeln!(f, "  seed: {seed}")?;
        }
        writeln!(f, "  witness:")?;
        for event in &self.witnesses {
            writeln!(f, "  {event}")?;
        }
        Ok(())
    }
}

/// Every built-in invariant's name, in the order the reference app's
/// configuration checks them (`counter.no-gap` is opt in and
/// `disconnect.expected-reason` configured per scenario, by the suite's
/// `faults` cases).
pub const INVARIANTS: &[&str] = &[
    counter::MONOTONIC,
    counter::NO_LOST_INCREMENT,
    counter::CONVERGES,
    counter::NO_GAP,
    chat::FIFO_PER_SENDER,
    chat::TOTAL_ORDER,
    chat::ECHO_BEFORE_ACK,
    chat::BROADCAST_SKIPS_SENDER,
    delivery::AT_MOST_ONCE,
    delivery::NOTHING_AFTER_DISCONNECT,
    delivery::NO_ROOM_LEAK,
    delivery::JOIN_ACK_MEANS_MEMBER,
    delivery::ACK_EXACTLY_ONCE,
    delivery::JOINED_NAMESPACES_ONLY,
    collection::READ_AFTER_PUSH,
    collection::PUSH_PER_CHANGE,
    disconnect::REASON_MATCHES_FAULT,
    disconnect::EXPECTED_REASON,
    echo::ONCE_TO_THE_SENDER,
    echo::ARRIVES,
    echo::ACK_ECHOES,
    heartbeat::SILENT_CLIENT_DROPPED,
    PROTOCOL,
    EXPECTATIONS,
];

/// A `BAD` line: the server broke the wire protocol.
pub const PROTOCOL: &str = "protocol.wire";

/// The run itself failed: an expectation of the scenario did not hold, a
/// fault never fired, or the run did not finish in time.
pub const EXPECTATIONS: &str = "run.expectations";

/// Judges a finished run: every invariant of `invariants` on its trace, in
/// order, then [`PROTOCOL`] (the first `BAD` line), then one [`EXPECTATIONS`]
/// violation per failure of the run itself (witnessed by the trace's `FAIL`
/// lines). Each violation carries the run's seed.
pub fn judge(
    report: &Report,
    scenario: &Scenario,
    invariants: &[&dyn Invariant],
) -> Vec<Violation> {
    let trace = &report.trace;
    let history = History::new(trace, scenario);
    let mut violations: Vec<Violation> = invariants
        .iter()
        .flat_map(|invariant| invariant.check(&history))
        .collect();
    violations.extend(
        trace
            .of_kind(EventKind::Violation)
            .take(1)
            .map(|bad| Violation::new(PROTOCOL, bad.text.clone(), vec![bad.clone()])),
    );
    let fail_lines: Vec<TraceEvent> = trace.of_kind(EventKind::Fail).cloned().collect();
    violations.extend(
        report
            .failures
            .iter()
            .map(|failure| Violation::new(EXPECTATIONS, failure.clone(), fail_lines.clone())),
    );
    for violation in &mut violations {
        violation.seed = Some(report.seed);
    }
    violations
}
