//! siosim's top layer: the built-in scenarios for the reference server, and
//! the conformance suite: cases that run one body against an in-process
//! server in simulation or against any live server over TCP. The `siosim`
//! command line sits on this.

mod case;
mod case_error;
pub mod cases;
pub mod check;
pub mod exit_code;
pub mod expectations;
pub mod explore;
pub mod preflight;
mod probe;
mod raw_websocket;
pub mod reference;
pub mod report;
pub mod run;
pub mod runner;
pub mod scenarios;
pub mod shrink;
mod sim_server;
mod target;
mod verdict;

pub use case::{Case, CaseError, CaseFuture, CaseOutcome, Clause, Profile, Severity, Spec};
pub use probe::Probe;
pub use raw_websocket::{Frame, RawWebSocket, Refusal};
pub use runner::{CaseReport, RunOptions, ServerLost, SuiteReport, Tally};
pub use target::{Credentials, SimServer, Target, TargetSummary};
pub use verdict::Verdict;
