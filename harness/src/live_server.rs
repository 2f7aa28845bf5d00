//! A live server under test: scenarios run against it over real TCP, by
//! the same scripted clients as in simulation, and are judged by the same
//! invariants. Time is real, so a run is not reproducible byte for byte:
//! the plan is (the same seed draws the same clients and steps), the
//! server's schedule is not. A failing plan is re-run, and shrunk, with
//! the reproduction rate said out loud ([`LiveServer::reproduce`]).
//!
//! ```no_run
//! use siosim_harness::invariants::delivery::Delivery;
//! use siosim_harness::invariants::{Audience, Invariant, Relays};
//! use siosim_harness::swarm::{EventFamily, Swarm};
//! use siosim_harness::LiveServer;
//! # use serde_json::json;
//!
//! let swarm = Swarm::new()
//!     .family(EventFamily::new("chat", |_, text| ("chat".into(), vec![json!(text)])));
//! let delivery = Delivery::new(Relays::new().relay("chat", Audience::Everyone));
//! let server = LiveServer::new("127.0.0.1:3000".parse().unwrap());
//! for seed in 0..20 {
//!     let verdict = server.check(&swarm.live_scenario(seed, 6), seed, &[&delivery as &dyn Invariant])?;
//!     assert!(verdict.passed(), "{verdict}");
//! }
//! # Ok::<(), siosim_harness::LiveError>(())
//! ```

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::client::{ClientOutcome, Connector, Endpoint, SessionLimits, run_script};
use crate::invariants::{self, Invariant};
use crate::report::Report;
use crate::scenario::Scenario;
use crate::trace::{EventKind, Recorder};
use crate::verdict::Verdict;

/// How long a TCP connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a scenario cannot run against a live server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error(
        "the scenario schedules network or server faults ({0}), which only a simulation can apply"
    )]
    Faults(String),
    #[error("could not start a runtime: {0}")]
    Runtime(String),
}

/// A server reached over real TCP, at `addr` and a Socket.IO path.
#[derive(Debug, Clone)]
pub struct LiveServer {
    addr: SocketAddr,
    path: String,
    headers: Vec<(String, String)>,
}

impl LiveServer {
    /// The server at `addr`, Socket.IO at `/socket.io`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            path: "/socket.io".into(),
            headers: Vec::new(),
        }
    }

    /// Socket.IO at `path` instead.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// A header for every HTTP request and WebSocket handshake (credentials, say).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            connector: Connector::Tcp {
                addr: self.addr,
                connect_timeout: CONNECT_TIMEOUT,
                headers: Arc::from(self.headers.clone()),
            },
            path: self.path.clone(),
            limits: SessionLimits::default(),
        }
    }

    /// Runs `scenario`'s clients against the server, all at once on one
    /// thread, until they finish or the scenario's `duration_ms` of real
    /// time has passed. `seed` only labels the report (the plan's seed).
    pub fn run(&self, scenario: &Scenario, seed: u64) -> Result<Report, LiveError> {
        if !scenario.faults.is_empty() {
            let faults: Vec<String> = scenario
                .faults
                .iter()
                .map(|f| format!("{:?} at {} ms", f.fault, f.at_ms))
                .collect();
            return Err(LiveError::Faults(faults.join(", ")));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LiveError::Runtime(e.to_string()))?;
        let local = tokio::task::LocalSet::new();
        Ok(local.block_on(&runtime, self.run_clients(scenario, seed)))
    }

    async fn run_clients(&self, scenario: &Scenario, seed: u64) -> Report {
        let recorder = Recorder::new();
        let origin = tokio::time::Instant::now();
        let outcomes: Rc<RefCell<Vec<ClientOutcome>>> = Rc::default();
        let tasks: Vec<_> = scenario
            .clients
            .iter()
            .map(|script| {
                let (recorder, outcomes) = (recorder.clone(), outcomes.clone());
                let run = run_script(script.clone(), self.endpoint(), recorder, origin);
                tokio::task::spawn_local(async move {
                    let outcome = run.await;
                    outcomes.borrow_mut().push(outcome);
                })
            })
            .collect();
        let limit = Duration::from_millis(scenario.duration_ms);
        let all = futures_util::future::join_all(tasks);
        let mut failures = Vec::new();
        if tokio::time::timeout(limit, all).await.is_err() {
            let text = format!("the run did not finish within {} ms", limit.as_millis());
            recorder.record(origin.elapsed(), "run", EventKind::Fail, text.clone());
            failures.push(text);
        }
        failures.extend(ClientOutcome::failures(outcomes.take()));
        Report::new(
            scenario.name.clone(),
            seed,
            recorder.finish(),
            failures,
            origin.elapsed(),
        )
        .in_real_time()
    }

    /// Runs `scenario` (as [`run`](Self::run)) and judges it by
    /// `invariants`, the wire protocol and the scenario's expectations.
    pub fn check(
        &self,
        scenario: &Scenario,
        seed: u64,
        invariants: &[&dyn Invariant],
    ) -> Result<Verdict, LiveError> {
        let report = self.run(scenario, seed)?;
        let violations = invariants::judge(&report, scenario, invariants);
        Ok(Verdict { report, violations })
    }

    /// Runs `scenario` `runs` times and counts the runs whose verdict
    /// `fails` accepts: how reliably a plan reproduces on a server whose
    /// schedule is not ours. Returns the count and the first failing verdict.
    pub fn reproduce(
        &self,
        scenario: &Scenario,
        seed: u64,
        invariants: &[&dyn Invariant],
        runs: usize,
        mut fails: impl FnMut(&Verdict) -> bool,
    ) -> Result<Reproduction, LiveError> {
        let mut reproduction = Reproduction {
            runs,
            failed: 0,
            first_failure: None,
        };
        for _ in 0..runs {
            let verdict = self.check(scenario, seed, invariants)?;
            if fails(&verdict) {
                reproduction.failed += 1;
                reproduction.first_failure.get_or_insert(verdict);
            }
        }
        Ok(reproduction)
    }
}

/// How often a plan failed in a number of runs against a live server.
#[derive(Debug, Clone)]
pub struct Reproduction {
    pub runs: usize,
    pub failed: usize,
    pub first_failure: Option<Verdict>,
}

impl std::fmt::Display for Reproduction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reproduced in {} of {} runs", self.failed, self.runs)
    }
}
