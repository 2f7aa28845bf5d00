//! The one integration-test binary of the `siosim` crate.

mod cli;
mod hostile;
mod hostile_servers;
mod reports;
mod scenario_snapshots;
