//! Runs a scenario against a server app inside turmoil, on a fresh OS thread
//! whose every entropy source is derived from one seed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::client::{ClientOutcome, Connector, Endpoint, SessionLimits, run_script_on_nodes};
use crate::cluster_node::{ClusterNode, NodeFactory};
use crate::driver::{Driver, SERVER_PORT, WorldSpec};
use crate::invariants::{self, Invariant};
use crate::report::Report;
use crate::scenario::{ClientScript, Scenario};
use crate::trace::EventKind;
use crate::verdict::Verdict;

/// Builds a fresh server app; called again when the server host restarts.
pub type AppFactory = Arc<dyn Fn() -> axum::Router + Send + Sync>;

/// `app` as every node's factory.
pub(crate) fn one_node(app: AppFactory) -> NodeFactory {
    Arc::new(move |_: &ClusterNode| app())
}

/// A scenario bound to the server it runs against.
#[derive(Clone)]
pub struct Simulation {
    scenario: Scenario,
    app: NodeFactory,
    /// Built with [`Simulation::cluster`]: the bus runs, even for one node.
    clustered: bool,
    socketio_path: String,
    log_level: tracing::Level,
    invariants: Vec<Arc<dyn Invariant>>,
    unfired_faults_pass: bool,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("scenario", &self.scenario.name)
            .field("socketio_path", &self.socketio_path)
            .field("log_level", &self.log_level)
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
        Self::cluster(scenario, move |_: &ClusterNode| app()).unclustered()
    }

    /// A cluster: each of the scenario's [`nodes`](Scenario::nodes) runs the
    /// app `app` builds for it, on its own simulated host, and a simulated
    /// Redis runs on [`BUS_HOST`](crate::BUS_HOST). An app joins the cluster
    /// with socketioxide-redis's adapter over a [`BusDriver`](crate::BusDriver):
    ///
    /// ```
    /// use siosim_harness::{BusDriver, ClusterNode, Scenario, Simulation};
    /// use socketioxide::{SocketIo, adapter::Emitter, extract::SocketRef};
    /// use socketioxide_core::adapter::Spawnable as _;
    /// use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
    ///
    /// type BusAdapter = CustomRedisAdapter<Emitter, BusDriver>;
    ///
    /// fn node_app(_: &ClusterNode) -> axum::Router {
    ///     let adapter = RedisAdapterCtr::new_with_driver(BusDriver::new(), RedisAdapterConfig::default());
    ///     let (layer, io) = SocketIo::builder()
    ///         .with_adapter::<BusAdapter>(adapter)
    ///         .build_layer();
    ///     io.ns("/", async |socket: SocketRef<BusAdapter>| {
    ///         let _ = socket.broadcast().emit("joined", &socket.id.as_str()).await;
    ///     })
    ///     .spawn();
    ///     axum::Router::new().layer(layer)
    /// }
    ///
    /// let simulation = Simulation::cluster(Scenario::new("three nodes").nodes(3), node_app);
    /// assert!(simulation.check(1).passed());
    /// ```
    ///
    /// Clients connect to the node their script names, or to each node in
    /// turn (see [`Scenario::node_of_clients`]); the trace names each node's
    /// log lines by its host, `node-1` … `node-N`.
    pub fn cluster(
        scenario: Scenario,
        app: impl Fn(&ClusterNode) -> axum::Router + Send + Sync + 'static,
    ) -> Self {
        Self {
            scenario,
            app: Arc::new(app),
            clustered: true,
            socketio_path: "/socket.io".into(),
            log_level: tracing::Level::INFO,
            invariants: Vec::new(),
            unfired_faults_pass: false,
        }
    }

    fn unclustered(mut self) -> Self {
        self.clustered = false;
        self
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

    /// The least severe server log level the trace keeps (default `INFO`).
    pub fn log_level(mut self, level: tracing::Level) -> Self {
        self.log_level = level;
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
            report
                .failures
                .retain(|f| !crate::fault_runner::is_unfired_fault(f));
        }
        let invariants: Vec<&dyn Invariant> = self.invariants.iter().map(|i| &**i).collect();
        let violations = invariants::judge(&report, &self.scenario, &invariants);
        Verdict { report, violations }
    }

    fn run_on_this_thread(&self, seed: u64) -> Report {
        let scenario = &self.scenario;
        let node_of_clients = match scenario.node_of_clients() {
            Ok(nodes) => nodes,
            Err(error) => return Report::refused(scenario.name.clone(), seed, error),
        };
        let placement = place_clients(scenario, &node_of_clients);
        let mut driver = Driver::new(WorldSpec {
            seed,
            network: &scenario.network,
            duration: Duration::from_millis(scenario.duration_ms),
            // Each TCP socket's queue and the listener's backlog: every client
            // may open its connections in the same tick.
            tcp_capacity: (scenario.clients.len() * 4).max(64),
            app: self.app.clone(),
            nodes: scenario.nodes,
            bus: self.clustered || scenario.nodes > 1,
            faults: &scenario.faults,
            trigger: None,
            host_of_client: placement.host_of_client,
            nodes_of_client: placement.nodes_of_client.clone(),
            log_level: self.log_level,
        });
        if scenario.nodes > 1 {
            for (client, nodes) in &placement.nodes_of_client {
                let node = &nodes[0];
                driver.recorder().record(
                    Duration::ZERO,
                    "sim",
                    EventKind::Session,
                    format!("{client} connects to {node}"),
                );
            }
        }
        let outcomes: Rc<RefCell<Vec<ClientOutcome>>> = Rc::default();
        let endpoints: Vec<Endpoint> = ClusterNode::all(scenario.nodes)
            .iter()
            .map(|node| self.endpoint(node.host()))
            .collect();
        for (host, scripts) in placement.hosts {
            let (recorder, outcomes) = (driver.recorder().clone(), outcomes.clone());
            let endpoints = endpoints.clone();
            driver.sim().client(host.as_str(), async move {
                let tasks: Vec<_> = scripts
                    .into_iter()
                    .map(|(script, first_node)| {
                        tokio::task::spawn_local(run_script_on_nodes(
                            script,
                            endpoints.clone(),
                            first_node,
                            recorder.clone(),
                            tokio::time::Instant::now(),
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
        let ended = driver.run("the scenario");
        let mut failures = ended.failures;
        failures.extend(ClientOutcome::failures(outcomes.take()));
        Report::new(
            scenario.name.clone(),
            seed,
            ended.recorder.finish(),
            failures,
            ended.elapsed,
        )
    }

    /// Where a client on the node hosted by `node_host` connects.
    fn endpoint(&self, node_host: &str) -> Endpoint {
        Endpoint {
            connector: Connector::Sim {
                host: node_host.into(),
                port: SERVER_PORT,
            },
            path: self.socketio_path.clone(),
            limits: SessionLimits::default(),
        }
    }
}

/// Which simulated host each client runs on, and which nodes it connects to.
struct Placement {
    /// Each host's scripts, with the node (1 …) each starts on.
    hosts: BTreeMap<String, Vec<(ClientScript, usize)>>,
    host_of_client: BTreeMap<String, String>,
    /// The hosts of the nodes each client connects to, its first first.
    nodes_of_client: BTreeMap<String, Vec<String>>,
}

/// Clients share hosts (turmoil's cost per tick grows with the cube of the
/// host count), except those a fault targets alone: each gets its own host.
fn place_clients(scenario: &Scenario, node_of_clients: &[usize]) -> Placement {
    let isolated: BTreeSet<&str> = scenario.isolated_clients();
    let per_host = scenario.network.clients_per_host.max(1);
    let nodes = ClusterNode::all(scenario.nodes);
    let mut hosts: BTreeMap<String, Vec<(ClientScript, usize)>> = BTreeMap::new();
    let mut host_of_client = BTreeMap::new();
    let mut nodes_of_client = BTreeMap::new();
    let mut shared_count = 0usize;
    for (script, &node) in scenario.clients.iter().zip(node_of_clients) {
        let host = if isolated.contains(script.name.as_str()) {
            format!("client-{}", script.name)
        } else {
            shared_count += 1;
            format!("clients-{}", (shared_count - 1) / per_host)
        };
        host_of_client.insert(script.name.clone(), host.clone());
        let mut visited: Vec<String> = Vec::new();
        for number in std::iter::once(node).chain(script.moves()) {
            let node_host = nodes[number - 1].host().to_owned();
            if !visited.contains(&node_host) {
                visited.push(node_host);
            }
        }
        nodes_of_client.insert(script.name.clone(), visited);
        hosts.entry(host).or_default().push((script.clone(), node));
    }
    Placement {
        hosts,
        host_of_client,
        nodes_of_client,
    }
}

impl Simulation {
    /// Runs every seed of [`Seeds::from_env`](crate::Seeds::from_env), judges
    /// each (see [`check`](Self::check)) and panics at the first failing one,
    /// with its trace, its violations and the command that replays it.
    /// Returns the reports, for snapshots.
    #[track_caller]
    pub fn assert_passes(&self) -> Vec<Report> {
        let seeds = match crate::Seeds::from_env() {
            Ok(seeds) => seeds,
            Err(error) => panic!("{error}"),
        };
        // A loop, not a closure: `#[track_caller]` does not reach into closures.
        let mut reports = Vec::with_capacity(seeds.0.len());
        for seed in seeds.0 {
            let verdict = self.check(seed);
            assert!(
                verdict.passed(),
                "{verdict}seed {seed} failed: {:?}\nreproduce: {}",
                verdict.report.failures,
                crate::Seeds::replay_command(seed)
            );
            reports.push(verdict.report);
        }
        reports
    }

    /// Runs `seed` twice on two fresh threads and panics unless both traces are
    /// byte-identical: the determinism self-check.
    #[track_caller]
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
