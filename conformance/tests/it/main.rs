//! The one integration-test binary of the `siosim` crate.

mod cases_app;
mod cli;
mod scenario_snapshots;
