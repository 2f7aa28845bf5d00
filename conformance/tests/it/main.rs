//! The one integration-test binary of the `siosim-conformance` crate: the
//! suite's cases against the reference server and broken servers, the runner
//! and the reports. The tests that run the `siosim` command live in `cli/`.

/// Counts each thread's heap, as the `siosim` command does, for
/// `robustness::fan_out::*`.
#[global_allocator]
static HEAP: siosim_harness::heap::CountingAllocator = siosim_harness::heap::CountingAllocator;

mod cases_app;
mod cases_engineio;
mod cases_faults;
mod cases_robustness;
mod cases_socketio;
mod check_framework;
#[allow(
    dead_code,
    reason = "the command's tests (cli/tests/it/hostile.rs) start every misbehaviour; the reports here only a flood"
)]
mod hostile_servers;
mod official_suites;
mod readme_clauses;
mod reports;
mod witnesses;
