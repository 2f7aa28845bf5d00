//! siosim's harness: runs a Socket.IO server inside turmoil's simulated
//! network, drives it with scripted wire-protocol clients, and records a
//! seeded, replayable trace.
//!
//! ```no_run
//! use siosim_harness::{ClientScript, Scenario, Simulation, Transport};
//! use serde_json::json;
//!
//! let scenario = Scenario::new("hello").client(
//!     ClientScript::new("alice")
//!         .connect(Transport::Websocket)
//!         .emit_with_ack("ping", vec![json!("hi")])
//!         .expect_ack(Some(vec![json!("hi")]), 1_000)
//!         .disconnect(),
//! );
//! # fn my_app() -> axum::Router { axum::Router::new() }
//! let report = Simulation::new(scenario, my_app).run(7);
//! assert!(report.passed(), "{report}");
//! ```
//!
//! The bug finder works on any Router: add your own checks over the trace
//! ([`invariants::from_fn`], or the [`Invariant`] trait, over an
//! [`invariants::History`]) with [`Simulation::invariant`], judge a seed with
//! [`Simulation::check`], search seeds with [`Simulation::explore`] (or an
//! [`Explorer`], for scenarios a [`swarm::Swarm`] draws from each seed), and
//! shrink a failing seed's scenario with [`Simulation::shrink`] (or a
//! [`Shrinker`]). `SIOSIM_SEED=N` replays one seed, `SIOSIM_SEEDS=N` widens a
//! search, and a failure prints the `cargo test` line that replays it.

pub mod client;
mod client_run;
pub mod codec;
pub mod entropy;
mod explorer;
mod host_log;
pub mod invariants;
mod listener;
mod report;
pub mod scenario;
mod seeds;
pub mod shrinker;
mod sim_stream;
mod simulation;
pub mod swarm;
pub mod trace;
mod verdict;

pub use client_run::{CLIENT_HOST, ClientRun, ClientRunReport, app_factory};
pub use explorer::{Exploration, Explorer, Progress, SimulationForSeed};
pub use invariants::{Invariant, Violation};
pub use listener::SimListener;
pub use report::Report;
pub use scenario::{ClientScript, Direction, Fault, NetworkOptions, Scenario, Step, Transport};
pub use seeds::{DEFAULT_SEEDS, SEED_COUNT_VARIABLE, SEED_VARIABLE, Seeds};
pub use shrinker::{Shrinker, Shrunk};
pub use sim_stream::SimStream;
pub use simulation::{AppFactory, SERVER_HOST, SERVER_PORT, Simulation};
pub use trace::{EventKind, Trace, TraceEvent};
pub use verdict::Verdict;
