//! The one integration-test binary of the `siosim` crate.

mod check_framework;
mod cli;
mod scenario_snapshots;
