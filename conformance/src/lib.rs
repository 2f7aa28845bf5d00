//! The conformance suite: cases that run one body against an in-process
//! server in simulation or against any live server over TCP, the runner, the
//! expectations file and the reports. Also the reference app's vocabulary for
//! the harness's checkers ([`reference`]), which the `faults` family judges
//! with. The `siosim` command line (`cli/`) sits on this.

mod bus_restart;
mod case;
mod case_error;
pub mod cases;
pub mod expectations;
pub mod preflight;
mod probe;
mod raw_websocket;
pub mod reference;
pub mod report;
pub mod runner;
mod sim_server;
mod target;
mod verdict;

pub use bus_restart::{BusRestart, RESTART_COMMAND_DEADLINE};
pub use case::{Case, CaseError, CaseFuture, CaseOutcome, Clause, Profile, Severity, Spec};
pub use probe::Probe;
pub use raw_websocket::{Frame, RawWebSocket, Refusal};
pub use runner::{CaseReport, RunOptions, ServerLost, SuiteReport, Tally};
pub use target::{Credentials, SimServer, Target, TargetSummary, live_authority};
pub use verdict::Verdict;
