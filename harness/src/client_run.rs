//! Runs one async client body (code, not a script) against a server app in
//! simulation: the building block for checks that need more than the
//! scripted steps, such as the conformance suite's cases. The body runs on
//! the host [`CLIENT_HOST`]; a fault schedule names it that way
//! (`Fault::Hold { client: CLIENT_HOST.into() }`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::client::{Connector, Endpoint, SessionLimits};
use crate::cluster_node::{ClusterNode, NodeFactory};
use crate::driver::{Driver, SERVER_PORT, WorldSpec};
use crate::fault_trigger::FaultTrigger;
use crate::scenario::{Fault, NetworkOptions, ScheduledFault};
use crate::simulation::AppFactory;
use crate::trace::{Recorder, Trace};

/// The simulated host the body runs on.
pub const CLIENT_HOST: &str = "client";

/// One client body bound to the server it runs against.
#[derive(Clone)]
pub struct ClientRun {
    app: NodeFactory,
    /// Server nodes; more than one is a cluster sharing the simulated bus.
    nodes: usize,
    socketio_path: String,
    network: NetworkOptions,
    duration: Duration,
    faults: Vec<ScheduledFault>,
    trigger: Option<FaultTrigger>,
    log_level: tracing::Level,
}

impl std::fmt::Debug for ClientRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRun")
            .field("socketio_path", &self.socketio_path)
            .field("duration", &self.duration)
            .field("faults", &self.faults)
            .finish()
    }
}

/// What a [`ClientRun`] gave back.
#[derive(Debug)]
pub struct ClientRunReport<T> {
    /// The body's result; `None` if the run ended first (a host failed, the
    /// server panicked or the simulated time ran out; `failures` says which).
    pub output: Option<T>,
    pub trace: Trace,
    /// Why the run ended early, and every fault that never fired.
    pub failures: Vec<String>,
    pub simulated: Duration,
}

impl ClientRun {
    /// `app` builds the server under test (again after a restart).
    pub fn new(app: AppFactory) -> Self {
        Self {
            app: crate::simulation::one_node(app),
            nodes: 1,
            socketio_path: "/socket.io".into(),
            network: NetworkOptions::default(),
            duration: Duration::from_secs(300),
            faults: Vec::new(),
            trigger: None,
            log_level: tracing::Level::INFO,
        }
    }

    /// A cluster of `nodes` nodes (see
    /// [`Simulation::cluster`](crate::Simulation::cluster)): the body's
    /// endpoint is node 1's, and [`ClientRun::node_endpoints`] are every
    /// node's.
    pub fn cluster(nodes: usize, app: NodeFactory) -> Self {
        Self {
            app,
            nodes,
            ..Self::new(Arc::new(axum::Router::new))
        }
    }

    /// Where a client reaches each node, node 1 first.
    pub fn node_endpoints(&self) -> Vec<Endpoint> {
        ClusterNode::all(self.nodes)
            .iter()
            .map(|node| self.endpoint(node.host()))
            .collect()
    }

    fn endpoint(&self, host: &str) -> Endpoint {
        Endpoint {
            connector: Connector::Sim {
                host: host.into(),
                port: SERVER_PORT,
            },
            path: self.socketio_path.clone(),
            limits: SessionLimits::default(),
        }
    }

    /// Adds `fault` to the schedule, at `at_ms` of simulated time. A fault
    /// on a link names the client [`CLIENT_HOST`]. As in a scenario, a fault
    /// that strikes nothing fails the run.
    pub fn fault(mut self, at_ms: u64, fault: Fault) -> Self {
        self.faults.push(ScheduledFault { at_ms, fault });
        self
    }

    /// Lets the body set off faults itself, through `trigger` (each applied
    /// before the next step, and recorded like a scheduled one).
    pub fn fault_trigger(mut self, trigger: FaultTrigger) -> Self {
        self.trigger = Some(trigger);
        self
    }

    /// The least severe server log level the trace keeps (default `INFO`).
    pub fn log_level(mut self, level: tracing::Level) -> Self {
        self.log_level = level;
        self
    }

    /// Where the server mounts Socket.IO (default `/socket.io`).
    pub fn socketio_path(mut self, path: impl Into<String>) -> Self {
        self.socketio_path = path.into();
        self
    }

    /// Latency and the other network settings (default: [`NetworkOptions::default`]).
    pub fn network(mut self, network: NetworkOptions) -> Self {
        self.network = network;
        self
    }

    /// The most simulated time the body may take (default 300 s).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Runs `body` on the client host, with `seed`, on a fresh OS thread.
    /// `body` gets the server's endpoint and the run's recorder; the same
    /// seed gives the same trace, in any process.
    pub fn run<T, F, Fut>(&self, seed: u64, body: F) -> ClientRunReport<T>
    where
        F: FnOnce(Endpoint, Recorder) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let this = self.clone();
        std::thread::Builder::new()
            .name(format!("siosim-client-seed-{seed}"))
            .spawn(move || this.run_on_this_thread(seed, body))
            .expect("spawning a simulation thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn run_on_this_thread<T, F, Fut>(&self, seed: u64, body: F) -> ClientRunReport<T>
    where
        F: FnOnce(Endpoint, Recorder) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: 'static,
    {
        let mut driver = Driver::new(WorldSpec {
            seed,
            network: &self.network,
            duration: self.duration,
            tcp_capacity: 64,
            app: self.app.clone(),
            nodes: self.nodes,
            bus: self.nodes > 1,
            faults: &self.faults,
            trigger: self.trigger.clone(),
            host_of_client: BTreeMap::new(),
            nodes_of_client: BTreeMap::new(),
            log_level: self.log_level,
        });
        let endpoint = self.node_endpoints().swap_remove(0);
        let output: Rc<RefCell<Option<T>>> = Rc::default();
        let (slot, body_recorder) = (output.clone(), driver.recorder().clone());
        driver.sim().client(CLIENT_HOST, async move {
            let result = body(endpoint, body_recorder).await;
            *slot.borrow_mut() = Some(result);
            Ok(())
        });
        let ended = driver.run("the client");
        let output = output.take();
        ClientRunReport {
            output,
            trace: ended.recorder.finish(),
            failures: ended.failures,
            simulated: ended.elapsed,
        }
    }
}

/// Convenience for [`ClientRun::new`] from a plain closure.
pub fn app_factory(app: impl Fn() -> axum::Router + Send + Sync + 'static) -> AppFactory {
    Arc::new(app)
}
