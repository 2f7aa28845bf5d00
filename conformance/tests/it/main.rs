//! The one integration-test binary of the `siosim` crate.

mod cases_faults;
mod cli;
mod scenario_snapshots;
