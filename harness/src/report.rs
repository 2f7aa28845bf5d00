//! What a run produced: its trace, its verdict and how to replay it.

use std::fmt;
use std::time::Duration;

use crate::trace::Trace;

/// The outcome of one seeded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub trace: Trace,
    /// Every expectation that failed, fault that never fired, or host error.
    pub failures: Vec<String>,
    pub simulated: Duration,
}

impl Report {
    pub fn new(
        scenario: String,
        seed: u64,
        trace: Trace,
        failures: Vec<String>,
        simulated: Duration,
    ) -> Self {
        Self {
            scenario,
            seed,
            trace,
            failures,
            simulated,
        }
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scenario {} seed {} ({} ms simulated)",
            self.scenario,
            self.seed,
            self.simulated.as_millis()
        )?;
        write!(f, "{}", self.trace)?;
        if self.passed() {
            writeln!(f, "PASS")
        } else {
            for failure in &self.failures {
                writeln!(f, "FAIL {failure}")?;
            }
            Ok(())
        }
    }
}
