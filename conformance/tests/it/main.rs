//! The one integration-test binary of the `siosim` crate.

mod cli;
mod explore;
mod racy;
mod scenario_snapshots;
mod shrink;
