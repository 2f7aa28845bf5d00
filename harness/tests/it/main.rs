//! The one integration-test binary of the harness.

mod app_panic;
mod app_wall_clock;
mod bug_finder;
mod client_run;
mod cluster;
mod codec_crosscheck;
mod collection;
mod echo_app;
mod fuzz_regressions;
mod invariants;
mod logs;
mod process_history;
mod real_network;
mod simulation;
#[cfg(feature = "skip-idle")]
mod stepping;
mod tidy;
