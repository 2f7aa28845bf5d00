//! Invariant checkers: they read a finished trace (a history) and the
//! scenario that produced it, apart from the system under test, and name
//! every broken promise of the seed-app contract with the trace lines that
//! witness it.
//!
//! One file per family: [`counter`], [`chat`], [`delivery`], [`disconnect`].
//! They only judge what the trace can prove: a message lost to a partition is
//! no violation, a message delivered twice is. Liveness ("converges", "every
//! ack arrives") is judged only on sessions opened after the last fault (the
//! healed phase) that stayed open long enough.
//!
//! ```
//! use siosim_harness::{Scenario, invariants};
//! # let trace = siosim_harness::Trace { version: 1, events: vec![] };
//! let violations = invariants::check(&trace, &Scenario::new("empty"));
//! assert!(violations.is_empty());
//! ```

pub mod chat;
pub mod counter;
pub mod delivery;
pub mod disconnect;
mod history;

use std::fmt;

use crate::report::Report;
use crate::scenario::Scenario;
use crate::trace::{EventKind, Trace, TraceEvent};

pub use history::History;

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
    pub(crate) fn new(
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

/// Every invariant's name, the order in which they are checked.
pub const INVARIANTS: &[&str] = &[
    counter::MONOTONIC,
    counter::NO_LOST_INCREMENT,
    counter::CONVERGES,
    chat::FIFO_PER_SENDER,
    chat::TOTAL_ORDER,
    chat::ECHO_BEFORE_ACK,
    chat::BROADCAST_SKIPS_SENDER,
    delivery::AT_MOST_ONCE,
    delivery::NOTHING_AFTER_DISCONNECT,
    delivery::NO_ROOM_LEAK,
    delivery::JOIN_ACK_MEANS_MEMBER,
    delivery::ACK_EXACTLY_ONCE,
    disconnect::REASON_MATCHES_FAULT,
    PROTOCOL,
    EXPECTATIONS,
];

/// A `BAD` line: the server broke the wire protocol.
pub const PROTOCOL: &str = "protocol.wire";

/// The run itself failed: an expectation of the scenario did not hold, a
/// fault never fired, or the run did not finish in time.
pub const EXPECTATIONS: &str = "run.expectations";

/// Checks every invariant on `trace`, which `scenario` produced. The result
/// is deterministic: checker order, then trace order.
pub fn check(trace: &Trace, scenario: &Scenario) -> Vec<Violation> {
    let history = History::new(trace, scenario);
    let mut violations = Vec::new();
    violations.extend(counter::check(&history));
    violations.extend(chat::check(&history));
    violations.extend(delivery::check(&history));
    violations.extend(disconnect::check(&history));
    violations.extend(
        trace
            .of_kind(EventKind::Violation)
            .take(1)
            .map(|bad| Violation::new(PROTOCOL, bad.text.clone(), vec![bad.clone()])),
    );
    violations
}

/// [`check`] on a finished run, plus one [`EXPECTATIONS`] violation per
/// failure of the run itself (witnessed by the trace's `FAIL` lines); each
/// violation carries the run's seed.
pub fn check_report(report: &Report, scenario: &Scenario) -> Vec<Violation> {
    let mut violations = check(&report.trace, scenario);
    let fail_lines: Vec<TraceEvent> = report.trace.of_kind(EventKind::Fail).cloned().collect();
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
