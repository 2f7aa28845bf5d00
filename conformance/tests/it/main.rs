//! The one integration-test binary of the `siosim` crate.

mod cases_engineio;
mod cli;
mod scenario_snapshots;
