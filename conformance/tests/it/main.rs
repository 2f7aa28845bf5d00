//! The one integration-test binary of the `siosim` crate.

mod cli;
mod racy;
mod scenario_snapshots;
