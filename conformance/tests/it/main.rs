//! The one integration-test binary of the `siosim` crate.

mod scenario_snapshots;
