//! The one integration-test binary of the `siosim` crate.

mod cli;
mod scenario_snapshots;
// The case families.
mod cases_faults;
