//! Runs a scenario against a server app inside turmoil, on a fresh OS thread
//! whose every entropy source is derived from one seed.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::client::{ClientOutcome, Connector, Endpoint, SessionLimits, run_script};
use crate::entropy;
use crate::host_log;
use crate::invariants::{self, Invariant};
use crate::listener::SimListener;
use crate::report::Report;
use crate::scenario::{ClientScript, Direction, Fault, NetworkOptions, Scenario};
use crate::sim_stream::{self, CloseParkedOnDrop};
use crate::trace::{EventKind, Recorder};
use crate::verdict::Verdict;

/// The simulated host the server under test runs on.
pub const SERVER_HOST: &str = "server";
/// The port it listens on.
pub const SERVER_PORT: u16 = 3000;
/// The simulated wall clock starts here (2026-01-01T00:00:00Z), whatever the
/// real date: nothing in a run may depend on when it ran.
const EPOCH_SINCE_UNIX: Duration = Duration::from_secs(1_767_225_600);
/// Mixed into the seed for `getrandom`, so that its stream differs from
/// turmoil's own RNG stream.
const ENTROPY_SALT: u64 = 0x5105_1e55_d1ce_5eed;
/// Simulated time turmoil may run past the scenario's duration, so that our
/// own deadline (with its clear message) always strikes first.
const DURATION_GRACE: Duration = Duration::from_secs(1);

thread_local! {
    /// The simulated time at which this thread's server app is (re)built: the
    /// wall clock the app's constructor sees.
    static APP_BUILT_AT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Builds a fresh server app; called again when the server host restarts.
pub type AppFactory = Arc<dyn Fn() -> axum::Router + Send + Sync>;

/// A scenario bound to the server it runs against, and the invariants
/// every run of it is judged by.
#[derive(Clone)]
pub struct Simulation {
    scenario: Scenario,
    app: AppFactory,
    socketio_path: String,
    invariants: Vec<Arc<dyn Invariant>>,
    unfired_faults_pass: bool,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("scenario", &self.scenario.name)
            .field("socketio_path", &self.socketio_path)
            .field(
                "invariants",
                &self.invariants.iter().map(|i| i.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Simulation {
    /// `app` builds the server under test: any axum Router, for example a
    /// socketioxide app's.
    pub fn new(scenario: Scenario, app: impl Fn() -> axum::Router + Send + Sync + 'static) -> Self {
        Self {
            scenario,
            app: Arc::new(app),
            socketio_path: "/socket.io".into(),
            invariants: Vec::new(),
            unfired_faults_pass: false,
        }
    }

    /// The same server and checks, shared (not rebuilt), with another scenario.
    pub fn with_scenario(&self, scenario: Scenario) -> Self {
        Self {
            scenario,
            ..self.clone()
        }
    }

    /// Adds an invariant that [`check`](Self::check), [`assert_passes`](Self::assert_passes),
    /// [`explore`](Self::explore) and [`shrink`](Self::shrink) judge every run by.
    pub fn invariant(mut self, invariant: impl Invariant + 'static) -> Self {
        self.invariants.push(Arc::new(invariant));
        self
    }

    /// A fault that struck nothing (`fault never fired`) is no failure: for
    /// generated scenarios (a [`Swarm`](crate::swarm::Swarm)'s), where a
    /// fault may hit an idle link and that seed simply tested less.
    pub fn unfired_faults_pass(mut self) -> Self {
        self.unfired_faults_pass = true;
        self
    }

    /// Where the server mounts Socket.IO (default `/socket.io`).
    pub fn socketio_path(mut self, path: impl Into<String>) -> Self {
        self.socketio_path = path.into();
        self
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Runs the scenario with `seed` on a fresh OS thread and returns what
    /// happened. The same seed gives the same bytes, in any process.
    pub fn run(&self, seed: u64) -> Report {
        let this = self.clone();
        let thread = std::thread::Builder::new()
            .name(format!("siosim-seed-{seed}"))
            .spawn(move || this.run_on_this_thread(seed))
            .expect("spawning a simulation thread");
        match thread.join() {
            Ok(report) => report,
            Err(panic) => {
                eprintln!(
                    "siosim: the harness panicked running {:?} with seed {seed}",
                    self.scenario.name
                );
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Runs `seed` (as [`run`](Self::run)) and judges it by every invariant
    /// added, the wire protocol and the scenario's own expectations.
    pub fn check(&self, seed: u64) -> Verdict {
        let mut report = self.run(seed);
        if self.unfired_faults_pass {
            report.failures.retain(|f| !is_unfired_fault(f));
        }
        let invariants: Vec<&dyn Invariant> = self.invariants.iter().map(|i| &**i).collect();
        let violations = invariants::judge(&report, &self.scenario, &invariants);
        Verdict { report, violations }
    }

    fn run_on_this_thread(&self, seed: u64) -> Report {
        seed_entropy(seed);
        let recorder = Recorder::new();
        let capture = host_log::capture(recorder.clone(), SERVER_HOST);
        let scenario = &self.scenario;
        let duration = Duration::from_millis(scenario.duration_ms);
        let mut sim = world(
            seed,
            &scenario.network,
            duration,
            // Each TCP socket's queue and the listener's backlog: every client
            // may open its connections in the same tick.
            (scenario.clients.len() * 4).max(64),
            self.app.clone(),
        );

        let endpoint = Endpoint {
            connector: Connector::Sim {
                host: SERVER_HOST.into(),
                port: SERVER_PORT,
            },
            path: self.socketio_path.clone(),
            limits: SessionLimits::default(),
        };
        let outcomes: Rc<RefCell<Vec<ClientOutcome>>> = Rc::default();
        let placement = place_clients(scenario);
        for (host, scripts) in &placement.hosts {
            let (endpoint, recorder, outcomes, scripts) = (
                endpoint.clone(),
                recorder.clone(),
                outcomes.clone(),
                scripts.clone(),
            );
            sim.client(host.as_str(), async move {
                let tasks: Vec<_> = scripts
                    .into_iter()
                    .map(|script| {
                        tokio::task::spawn_local(run_script(
                            script,
                            endpoint.clone(),
                            recorder.clone(),
                        ))
                    })
                    .collect();
                for task in tasks {
                    let outcome = task.await?;
                    outcomes.borrow_mut().push(outcome);
                }
                Ok(())
            });
        }

        let mut faults = FaultRunner::new(scenario, &placement, recorder.clone());
        let mut failures = Vec::new();
        loop {
            faults.apply_due(&mut sim);
            match sim.step() {
                Ok(true) => break,
                Ok(false) => {}
                Err(error) => {
                    let failure = format!("a host failed: {error}");
                    recorder.record(sim.elapsed(), "sim", EventKind::Fail, failure.clone());
                    failures.push(failure);
                    break;
                }
            }
            if sim.elapsed() >= duration {
                let failure = format!(
                    "the scenario did not finish within {} ms of simulated time",
                    duration.as_millis()
                );
                recorder.record(sim.elapsed(), "sim", EventKind::Fail, failure.clone());
                failures.push(failure);
                break;
            }
        }
        failures.extend(faults.finish(sim.elapsed()));
        let elapsed = sim.elapsed();
        // The hosts' runtimes and everything they hold go before the log capture.
        drop(sim);
        drop(capture);
        let mut outcomes = outcomes.take();
        outcomes.sort_by(|a, b| a.client.cmp(&b.client));
        failures.extend(
            outcomes
                .into_iter()
                .filter_map(|o| o.failure.map(|f| format!("{}: {f}", o.client))),
        );
        Report::new(
            scenario.name.clone(),
            seed,
            recorder.finish(),
            failures,
            elapsed,
        )
    }
}

/// A turmoil world seeded by `seed` with `app` serving on [`SERVER_HOST`];
/// the caller adds the clients. The thread's entropy must already be seeded.
pub(crate) fn world(
    seed: u64,
    network: &NetworkOptions,
    duration: Duration,
    tcp_capacity: usize,
    app: AppFactory,
) -> turmoil::Sim<'static> {
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + EPOCH_SINCE_UNIX)
        .simulation_duration(duration + DURATION_GRACE)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(network.latency_ms_min))
        .max_message_latency(Duration::from_millis(
            network.latency_ms_max.max(network.latency_ms_min),
        ))
        .fail_rate(network.fail_rate)
        .repair_rate(network.repair_rate)
        .tcp_capacity(tcp_capacity);
    if network.random_host_order {
        builder.enable_random_order();
    }
    let mut sim = builder.build();
    APP_BUILT_AT.set(Duration::ZERO);
    sim.host(SERVER_HOST, move || {
        let router = entropy::with_wall_clock_at(APP_BUILT_AT.get(), || app());
        // Dropped with the software, after the runtime's own tasks: closes
        // the connections a crash or bounce dropped, in accept order.
        let close_parked = CloseParkedOnDrop;
        async move {
            let _close_parked = close_parked;
            axum::serve(SimListener::bind(SERVER_PORT).await?, router).await?;
            Ok(())
        }
    });
    sim
}

/// The prefix of a failure for a fault that struck nothing.
const UNFIRED_FAULT: &str = "fault never fired: ";

/// Whether a run failure only says that a fault struck nothing.
pub(crate) fn is_unfired_fault(failure: &str) -> bool {
    failure.starts_with(UNFIRED_FAULT)
}

/// Seeds this thread's entropy for a run of `seed`.
pub(crate) fn seed_entropy(seed: u64) {
    entropy::seed_this_thread(seed ^ ENTROPY_SALT, EPOCH_SINCE_UNIX);
}

/// Which simulated host each client runs on.
struct Placement {
    hosts: BTreeMap<String, Vec<ClientScript>>,
    host_of_client: BTreeMap<String, String>,
}

/// Clients share hosts (turmoil's cost per tick grows with the cube of the
/// host count), except those a fault targets alone: each gets its own host.
fn place_clients(scenario: &Scenario) -> Placement {
    let isolated: BTreeSet<&str> = scenario.isolated_clients();
    let per_host = scenario.network.clients_per_host.max(1);
    let mut hosts: BTreeMap<String, Vec<ClientScript>> = BTreeMap::new();
    let mut host_of_client = BTreeMap::new();
    let mut shared_count = 0usize;
    for script in &scenario.clients {
        let host = if isolated.contains(script.name.as_str()) {
            format!("client-{}", script.name)
        } else {
            shared_count += 1;
            format!("clients-{}", (shared_count - 1) / per_host)
        };
        host_of_client.insert(script.name.clone(), host.clone());
        hosts.entry(host).or_default().push(script.clone());
    }
    Placement {
        hosts,
        host_of_client,
    }
}

/// Applies the fault schedule as simulated time passes, and keeps the
/// evidence that each fault actually struck something.
struct FaultRunner {
    due: Vec<(Duration, Fault)>,
    host_of_client: BTreeMap<String, String>,
    recorder: Recorder,
    /// Faults in force, with the drop/hold counters when they began.
    active: BTreeMap<String, (u64, u64)>,
    /// Faults that ended having struck nothing.
    unfired: Vec<String>,
}

impl FaultRunner {
    fn new(scenario: &Scenario, placement: &Placement, recorder: Recorder) -> Self {
        let mut due: Vec<_> = scenario
            .faults
            .iter()
            .map(|f| (Duration::from_millis(f.at_ms), f.fault.clone()))
            .collect();
        // Stable: faults at the same instant apply in the order written.
        due.sort_by_key(|(at, _)| *at);
        due.reverse();
        Self {
            due,
            host_of_client: placement.host_of_client.clone(),
            recorder,
            active: BTreeMap::new(),
            unfired: Vec::new(),
        }
    }

    fn apply_due(&mut self, sim: &mut turmoil::Sim<'_>) {
        while self.due.last().is_some_and(|(at, _)| *at <= sim.elapsed()) {
            let (_, fault) = self.due.pop().expect("checked above");
            let note = self.apply(sim, &fault);
            self.recorder
                .record(sim.elapsed(), "sim", EventKind::Fault, note);
        }
    }

    fn host(&self, client: &str) -> String {
        self.host_of_client
            .get(client)
            .cloned()
            .unwrap_or_else(|| client.to_owned())
    }

    fn apply(&mut self, sim: &mut turmoil::Sim<'_>, fault: &Fault) -> String {
        match fault {
            Fault::Latency { max_ms } => {
                sim.set_max_message_latency(Duration::from_millis(*max_ms));
                format!("latency: at most {max_ms} ms")
            }
            Fault::Hold { client } => {
                sim.hold(self.host(client).as_str(), SERVER_HOST);
                self.begin(format!("hold {client}"));
                format!("hold {client} <-> server")
            }
            Fault::Release { client } => {
                sim.release(self.host(client).as_str(), SERVER_HOST);
                let (_, held) = self.end(&format!("hold {client}"), true);
                format!("release {client} <-> server ({held} segments were held)")
            }
            Fault::Partition { client, direction } => {
                let host = self.host(client);
                match direction {
                    Direction::Both => sim.partition(host.as_str(), SERVER_HOST),
                    Direction::ToServer => sim.partition_oneway(host.as_str(), SERVER_HOST),
                    Direction::FromServer => sim.partition_oneway(SERVER_HOST, host.as_str()),
                }
                self.begin(format!("partition {client}"));
                format!("partition {client} {} server", arrow(*direction))
            }
            Fault::Repair { client, direction } => {
                let host = self.host(client);
                match direction {
                    Direction::Both => sim.repair(host.as_str(), SERVER_HOST),
                    Direction::ToServer => sim.repair_oneway(host.as_str(), SERVER_HOST),
                    Direction::FromServer => sim.repair_oneway(SERVER_HOST, host.as_str()),
                }
                let (dropped, _) = self.end(&format!("partition {client}"), false);
                format!(
                    "repair {client} {} server ({dropped} segments were lost)",
                    arrow(*direction)
                )
            }
            Fault::FailRate { rate } => {
                sim.set_fail_rate(*rate);
                if *rate > 0.0 {
                    self.begin("fail rate".into());
                    format!("fail rate {rate}")
                } else {
                    let (dropped, _) = self.end("fail rate", false);
                    format!("fail rate 0 ({dropped} segments were lost)")
                }
            }
            Fault::Crash => {
                sim_stream::park_closes_during(|| sim.crash(SERVER_HOST));
                "crash server".into()
            }
            Fault::Bounce => {
                APP_BUILT_AT.set(sim.elapsed());
                sim_stream::park_closes_during(|| sim.bounce(SERVER_HOST));
                "bounce server (restarts with fresh state)".into()
            }
        }
    }

    fn begin(&mut self, key: String) {
        self.active
            .insert(key, host_log::segments_dropped_and_held());
    }

    /// Ends the fault `key`: the segments it dropped and held. One that
    /// struck nothing (no hold for a hold, no loss otherwise) is remembered.
    fn end(&mut self, key: &str, is_hold: bool) -> (u64, u64) {
        let (dropped_now, held_now) = host_log::segments_dropped_and_held();
        let (dropped, held) = self.active.remove(key).unwrap_or((dropped_now, held_now));
        let evidence = (dropped_now - dropped, held_now - held);
        if (is_hold && evidence.1 == 0) || (!is_hold && evidence.0 == 0) {
            self.unfired.push(key.to_owned());
        }
        evidence
    }

    /// Closes the faults still in force and reports those that never struck:
    /// a fault that touched nothing is a false green.
    fn finish(mut self, now: Duration) -> Vec<String> {
        let (dropped_now, held_now) = host_log::segments_dropped_and_held();
        let mut unfired = std::mem::take(&mut self.unfired);
        for (key, (dropped, held)) in std::mem::take(&mut self.active) {
            let note = format!(
                "{key} still in force at the end ({} segments lost, {} held)",
                dropped_now - dropped,
                held_now - held
            );
            self.recorder.record(now, "sim", EventKind::Fault, note);
            if dropped_now == dropped && held_now == held {
                unfired.push(key);
            }
        }
        unfired
            .into_iter()
            .map(|fault| {
                let failure = format!("{UNFIRED_FAULT}{fault}");
                self.recorder
                    .record(now, "sim", EventKind::Fail, failure.clone());
                failure
            })
            .collect()
    }
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Both => "<-x->",
        Direction::ToServer => "-x->",
        Direction::FromServer => "<-x-",
    }
}

impl Simulation {
    /// Runs every seed of [`Seeds::from_env`](crate::Seeds::from_env), judges
    /// each (see [`check`](Self::check)) and panics at the first failing one,
    /// with its trace, its violations and the command that replays it.
    /// Returns the reports, for snapshots.
    pub fn assert_passes(&self) -> Vec<Report> {
        let seeds = crate::Seeds::from_env().unwrap_or_else(|e| panic!("{e}"));
        seeds
            .0
            .into_iter()
            .map(|seed| {
                let verdict = self.check(seed);
                assert!(
                    verdict.passed(),
                    "{verdict}seed {seed} failed: {:?}\nreproduce: {}",
                    verdict.report.failures,
                    crate::Seeds::replay_command(seed)
                );
                verdict.report
            })
            .collect()
    }

    /// Runs `seed` twice on two fresh threads and panics unless both traces are
    /// byte-identical: the determinism self-check.
    pub fn assert_deterministic(&self, seed: u64) -> Report {
        let first = self.run(seed);
        let second = self.run(seed);
        if first.trace != second.trace {
            let (a, b) = (first.trace.to_string(), second.trace.to_string());
            let diverged = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(a.lines().count().min(b.lines().count()));
            panic!(
                "seed {seed} is not deterministic: the traces diverge at line {}\nfirst:  {:?}\nsecond: {:?}\nreproduce: {}",
                diverged + 1,
                a.lines().nth(diverged),
                b.lines().nth(diverged),
                crate::Seeds::replay_command(seed)
            );
        }
        first
    }
}
