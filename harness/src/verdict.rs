//! A judged run: its report and every invariant it broke.

use std::fmt;

use crate::invariants::{self, Violation};
use crate::report::Report;

/// What [`Simulation::check`](crate::Simulation::check) found: the run, and
/// the violations of its invariants, its protocol and its expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub report: Report,
    /// In judging order: the invariants as added, then the protocol, then
    /// the run's own failures ([`invariants::EXPECTATIONS`]).
    pub violations: Vec<Violation>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn seed(&self) -> u64 {
        self.report.seed
    }

    /// Whether the run broke the invariant named `invariant`.
    pub fn broke(&self, invariant: &str) -> bool {
        self.violations.iter().any(|v| v.invariant == invariant)
    }

    /// The verdict block: the run's own failures (`FAIL` lines, as a report
    /// prints them), then every other violation with its witnesses; or `PASS`.
    pub fn verdict(&self) -> String {
        if self.passed() {
            return "PASS\n".to_owned();
        }
        let failures = self.report.failures.iter().map(|f| format!("FAIL {f}\n"));
        let violations = self
            .violations
            .iter()
            .filter(|v| v.invariant != invariants::EXPECTATIONS)
            .map(Violation::to_string);
        failures.chain(violations).collect()
    }
}

/// The whole printout of a run: header, trace, verdict.
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = &self.report;
        write!(
            f,
            "scenario {} seed {} ({})\n{}{}",
            report.scenario,
            report.seed,
            report.duration_text(),
            report.trace,
            self.verdict()
        )
    }
}
