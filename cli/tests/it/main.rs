//! The one integration-test binary of the `siosim` command: the binary
//! itself, `check --url` against live servers, hostile servers, the built-in
//! scenarios' snapshots, the racy variants, `serve --server`, `explore` (in simulation and
//! over a URL),
//! `shrink`, and the reference's things model under crossing REST changes.

mod bad_seeds;
mod check_url;
mod cli;
mod cluster_cases;
mod explore;
mod explore_url;
mod hostile;
/// Shared with the suite's tests, which start the same servers.
#[path = "../../../conformance/tests/it/hostile_servers.rs"]
mod hostile_servers;
mod racy;
mod scenario_snapshots;
mod serve;
mod served;
mod shrink;
mod things_model;
