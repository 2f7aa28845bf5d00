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
    /// How long the run took: simulated time, or real time for a run
    /// against a live server ([`Report::real_time`]).
    pub simulated: Duration,
    /// Whether the run was against a live server, in real time.
    pub real_time: bool,
}

impl Report {
    /// A run that could not start: the scenario itself is wrong.
    pub(crate) fn refused(scenario: String, seed: u64, why: String) -> Self {
        let recorder = crate::trace::Recorder::new();
        recorder.record(
            Duration::ZERO,
            "sim",
            crate::trace::EventKind::Fail,
            why.clone(),
        );
        Self::new(scenario, seed, recorder.finish(), vec![why], Duration::ZERO)
    }

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
            real_time: false,
        }
    }

    /// The same report, of a run in real time against a live server.
    pub fn in_real_time(mut self) -> Self {
        self.real_time = true;
        self
    }

    /// `23 ms simulated`, or `23 ms of real time`.
    pub fn duration_text(&self) -> String {
        let ms = self.simulated.as_millis();
        if self.real_time {
            format!("{ms} ms of real time")
        } else {
            format!("{ms} ms simulated")
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
            "scenario {} seed {} ({})",
            self.scenario,
            self.seed,
            self.duration_text()
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
