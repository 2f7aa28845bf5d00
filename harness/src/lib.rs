//! Deterministic simulation tests for Socket.IO servers written with
//! [socketioxide] and axum.
//!
//! The harness runs your `axum::Router` unmodified inside [turmoil]'s
//! simulated network and drives it with scripted clients that speak the
//! Engine.IO v4 / Socket.IO v5 wire protocol themselves, over WebSocket,
//! HTTP long-polling and the upgrade between them. Faults (partitions, held
//! links, latency spikes, crashes and restarts of the server) strike on a
//! schedule, all in simulated time. One `u64` seed decides everything in a
//! run: the same seed replays the same trace byte for byte, in any process.
//!
//! A run fails when an expectation fails, a scheduled fault strikes nothing,
//! the server's host fails, or the server app panics (in a handler, a task
//! it spawned or the Router itself): the report then carries the trace so
//! far and the panic's message and location.
//!
//! # Example
//!
//! In a test of your crate (`tests/presence.rs`, say):
//!
//! ```
//! use serde_json::{Value, json};
//! use siosim_harness::{ClientScript, Fault, Scenario, Simulation, Transport};
//! use socketioxide::SocketIo;
//! use socketioxide::extract::{AckSender, Data, SocketRef};
//!
//! fn my_app() -> axum::Router {
//!     let (layer, io) = SocketIo::new_layer();
//!     io.ns("/", async |socket: SocketRef| {
//!         socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
//!             let _ = ack.send(&data);
//!         });
//!     });
//!     axum::Router::new().layer(layer)
//! }
//!
//! // #[test] (commented out here: this doc example calls it from `main`)
//! fn echo_survives_a_held_link() {
//!     let scenario = Scenario::new("echo")
//!         .client(
//!             ClientScript::new("alice")
//!                 .connect(Transport::Upgrade)
//!                 .wait_ms(100)
//!                 .emit_with_ack("echo", vec![json!("hi")])
//!                 .expect_ack(Some(vec![json!("hi")]), 5_000)
//!                 .disconnect(),
//!         )
//!         .fault(50, Fault::Hold { client: "alice".into() })
//!         .fault(1_000, Fault::Release { client: "alice".into() });
//!     let simulation = Simulation::new(scenario, my_app);
//!     // Every seed of `DEFAULT_SEEDS` (or `SIOSIM_SEED=N` alone); a failure
//!     // panics with the trace and the command that replays it.
//!     let reports = simulation.assert_passes();
//!     // A trace is stable enough for a snapshot (insta, say).
//!     println!("{}", reports[0].trace);
//!     simulation.assert_deterministic(7);
//! }
//! # fn main() { echo_survives_a_held_link() }
//! ```
//!
//! [`ClientRun`] runs a client written as async code instead of a script,
//! with the same fault schedule.
//!
//! The bug finder works on any Router: add your own checks over the trace
//! ([`invariants::from_fn`], or the [`Invariant`] trait, over an
//! [`invariants::History`]) with [`Simulation::invariant`], judge a seed with
//! [`Simulation::check`], search seeds with [`Simulation::explore`] (or an
//! [`Explorer`], for scenarios a [`swarm::Swarm`] draws from each seed), and
//! shrink a failing seed's scenario with [`Simulation::shrink`] (or a
//! [`Shrinker`]). `SIOSIM_SEED=N` replays one seed, `SIOSIM_SEEDS=N` widens a
//! search, and a failure prints the `cargo test` line that replays it.
//!
//! # Determinism requirements
//!
//! - Build with `--cfg tokio_unstable` (in your `.cargo/config.toml`:
//!   `[build] rustflags = ["--cfg", "tokio_unstable"]`): turmoil then seeds
//!   each simulated host's tokio RNG (the branch order of `tokio::select!`)
//!   from the seed. Without it the harness says so once on stderr; app
//!   panics fail the run either way.
//! - The app's randomness and wall clock are seeded by the harness:
//!   `getrandom`, `getentropy` and `CLOCK_REALTIME` are interposed for the
//!   whole executable, per thread ([`entropy`]), so std's hash map keys,
//!   `rand`'s thread-local generator and the system time replay. The
//!   monotonic clock inside a host is tokio's paused clock.
//! - The app must not talk to the outside world (real sockets, files that
//!   change, other threads' timing): everything it does must happen inside
//!   the simulated host.
//! - Every run takes a fresh OS thread; runs of different seeds may run in
//!   parallel in one process.
//!
//! # Platforms and MSRV
//!
//! Linux only (glibc or musl): the entropy interposition replaces libc
//! symbols, which this crate does only on Linux; elsewhere it does not
//! compile, with a message saying so. The minimum supported Rust version is
//! 1.95 (edition 2024), the toolchain siosim is built and tested with.
//!
//! [socketioxide]: https://docs.rs/socketioxide
//! [turmoil]: https://docs.rs/turmoil

#[cfg(not(target_os = "linux"))]
compile_error!(
    "siosim-harness runs only on Linux: its seeded randomness and wall clock \
     (src/entropy.rs) interpose the libc symbols getrandom, getentropy and \
     clock_gettime, which it does only on Linux"
);

mod app_panic;
mod bus;
mod bus_driver;
pub mod client;
mod client_run;
mod cluster_node;
pub mod codec;
mod driver;
#[cfg(target_os = "linux")]
pub mod entropy;
mod explorer;
mod fault_runner;
mod fault_trigger;
pub mod heap;
mod host_log;
pub mod invariants;
mod listener;
mod live_server;
mod pending_timers;
mod report;
pub mod scenario;
mod seeds;
pub mod shrinker;
mod sim_stream;
mod simulation;
pub mod swarm;
pub mod trace;
mod verdict;
pub mod worker_pool;

pub use bus::{BUS_HOST, BUS_PORT};
pub use bus_driver::{BusDriver, BusError};
pub use client_run::{CLIENT_HOST, ClientRun, ClientRunReport, app_factory};
pub use cluster_node::{ClusterNode, NodeFactory};
pub use driver::{SERVER_HOST, SERVER_PORT};
pub use explorer::{Exploration, Explorer, Progress, SimulationForSeed};
pub use fault_trigger::FaultTrigger;
pub use invariants::{Invariant, Violation};
pub use listener::SimListener;
pub use live_server::{LiveError, LiveServer, Reproduction};
pub use report::Report;
pub use scenario::{
    ClientScript, Direction, Fault, NetworkOptions, Scenario, Step, Stepping, Transport,
};
pub use seeds::{DEFAULT_SEEDS, SEED_COUNT_VARIABLE, SEED_VARIABLE, Seeds};
pub use shrinker::{Shrinker, Shrunk};
pub use sim_stream::SimStream;
pub use simulation::{AppFactory, Simulation};
pub use trace::{EventKind, Trace, TraceEvent};
pub use verdict::Verdict;
pub use worker_pool::{PoolExploration, SeedFailure, WorkerPool};
