//! The one integration-test binary of the `siosim` crate.

mod cases_app;
mod cases_engineio;
mod cases_faults;
mod cases_socketio;
mod check_framework;
mod check_url;
mod cli;
mod explore;
mod hostile;
mod hostile_servers;
mod official_suites;
mod racy;
mod readme_clauses;
mod reports;
mod scenario_snapshots;
mod shrink;
mod witnesses;
