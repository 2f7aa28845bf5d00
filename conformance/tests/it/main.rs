//! The one integration-test binary of the `siosim` crate.

mod cases_socketio;
mod cli;
mod scenario_snapshots;
