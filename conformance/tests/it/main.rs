//! The one integration-test binary of the `siosim` crate.

mod cli;
#[cfg(feature = "racy")]
mod racy;
mod scenario_snapshots;
