//! The one integration-test binary of the harness.

mod app_wall_clock;
mod bug_finder;
mod codec_crosscheck;
mod echo_app;
mod invariants;
mod process_history;
mod real_network;
mod simulation;
mod tidy;
