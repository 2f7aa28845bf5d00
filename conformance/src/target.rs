//! Where the cases run: an in-process server in simulation, or any live
//! server over real TCP. A case body cannot tell them apart except through
//! [`Probe::in_simulation`](crate::Probe::in_simulation).

use std::fmt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use serde::Serialize;
use serde_json::Value;
use siosim_harness::client::{Connector, Endpoint, SessionLimits};
use siosim_harness::trace::Recorder;
use siosim_harness::{ClientRun, FaultTrigger, Trace};

use crate::bus_restart::BusRestart;
use crate::case::{Case, CaseError, CaseFuture, CaseOutcome, Profile};
use crate::probe::{Declared, Probe};
pub use crate::sim_server::SimServer;

/// Nodes of a simulated cluster the `cluster` cases run on.
const CLUSTER_NODES: usize = 2;

/// Largest WebSocket message or polling body a case accepts from the server.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Largest sum of unconsumed messages a session keeps for a case: sixteen
/// of the largest; a server flooding events loses the oldest, not our memory.
const MAX_INBOX_BYTES: usize = 16 * MAX_MESSAGE_BYTES;

/// The server under test.
#[derive(Debug, Clone)]
pub enum Target {
    /// `server` in siosim's simulated network; each case gets a fresh server
    /// and a seed derived from `seed` and the case's name.
    Sim { seed: u64, server: SimServer },
    /// A live server at `url` (`http://host:port`), Socket.IO at `path`.
    Url { url: String, path: String },
}

/// What a report says about the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TargetSummary {
    Sim {
        seed: u64,
        server: String,
        path: String,
    },
    Url {
        url: String,
        path: String,
    },
}

impl fmt::Display for TargetSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSummary::Sim { seed, server, path } => {
                write!(
                    f,
                    "{server} server in simulation (seed {seed}, path {path})"
                )
            }
            TargetSummary::Url { url, path } => write!(f, "{url} (path {path})"),
        }
    }
}

/// What a live server asks of its clients (`--auth`, `--header`).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The CONNECT payload for every namespace a case joins without one.
    pub auth: Option<Value>,
    /// Extra headers on every HTTP request and WebSocket handshake.
    pub headers: Vec<(String, String)>,
}

/// One case's run: its outcome, its trace, how long it took (simulated time
/// in simulation, real time over TCP).
#[derive(Debug)]
pub(crate) struct CaseRun {
    pub outcome: CaseOutcome,
    pub trace: Trace,
    pub elapsed: Duration,
}

impl Target {
    pub fn summary(&self) -> TargetSummary {
        match self {
            Target::Sim { seed, server } => TargetSummary::Sim {
                seed: *seed,
                server: server.name.clone(),
                path: server.path.clone(),
            },
            Target::Url { url, path } => TargetSummary::Url {
                url: url.clone(),
                path: path.clone(),
            },
        }
    }

    /// The seed a case runs with in simulation: the suite's seed mixed with
    /// the case's name, so adding a case leaves the others' runs unchanged.
    pub fn case_seed(seed: u64, case: &Case) -> u64 {
        // FNV-1a: stable across processes and Rust versions, unlike `Hash`.
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        for byte in case.name.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        seed ^ hash
    }
}

fn limits(timeout: Duration) -> SessionLimits {
    SessionLimits {
        handshake_timeout: timeout,
        max_message_bytes: MAX_MESSAGE_BYTES,
        inbox_bytes: MAX_INBOX_BYTES,
        ..SessionLimits::default()
    }
}

/// The longest a whole case may run: its waits are each bounded by
/// `timeout`, plus the server's heartbeat for the cases that wait one out,
/// and never less than a slow request is given to be cut off.
pub(crate) fn case_deadline(timeout: Duration) -> Duration {
    (timeout * 12).max(crate::cases::SLOW_REQUEST_CUT_OFF + Duration::from_secs(20))
}

/// Runs one case in simulation, on a fresh thread.
pub(crate) fn run_simulated(
    seed: u64,
    server: &SimServer,
    case: Case,
    timeout: Duration,
    connect_timeout: Option<Duration>,
) -> CaseRun {
    // Only a cluster has a bus to restart.
    let (run, bus_restart) = match (&server.cluster, case.profile) {
        (Some(nodes), Profile::Cluster) => {
            let trigger = FaultTrigger::new();
            let run =
                ClientRun::cluster(CLUSTER_NODES, Arc::clone(nodes)).fault_trigger(trigger.clone());
            (run, BusRestart::Simulated(trigger))
        }
        _ => (
            ClientRun::new(Arc::clone(&server.app)),
            BusRestart::Unavailable,
        ),
    };
    let run = run
        .socketio_path(server.path.clone())
        .duration(case_deadline(timeout));
    let nodes: Vec<Endpoint> = run
        .node_endpoints()
        .into_iter()
        .map(|endpoint| Endpoint {
            limits: limits(timeout),
            ..endpoint
        })
        .collect();
    let case_seed = Target::case_seed(seed, &case);
    let scenario_server = server.clone();
    let report = run.run(case_seed, move |endpoint, recorder| {
        let endpoint = Endpoint {
            limits: limits(timeout),
            ..endpoint
        };
        let simulation = Some((scenario_server, case_seed));
        let declared = Declared {
            auth: None,
            connect_timeout,
        };
        let probe = Probe::new(endpoint, recorder, timeout, simulation, declared)
            .with_nodes(nodes)
            .with_bus_restart(bus_restart);
        guarded((case.body)(probe))
    });
    let outcome = report.output.unwrap_or_else(|| {
        Err(CaseError::Broken(format!(
            "the case did not finish: {}",
            report.failures.join("; ")
        )))
    });
    CaseRun {
        outcome,
        trace: report.trace,
        elapsed: report.simulated,
    }
}

/// `HOST:PORT` of a live server's root URL `http://HOST[:PORT]`, or why
/// the URL is not one.
pub fn live_authority(url: &str) -> Result<String, String> {
    let authority = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?}: only http:// URLs are supported"))?
        .trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(format!(
            "{url:?}: give the server's root as http://HOST:PORT and the Socket.IO path with --path"
        ));
    }
    Ok(if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

/// A live server's address, resolved once.
#[derive(Debug, Clone)]
pub(crate) struct LiveServer {
    addr: SocketAddr,
    path: String,
    credentials: Credentials,
    /// The cluster's other nodes (`--url A --url B`: B's), if any.
    other_nodes: Vec<SocketAddr>,
    /// The command that restarts the cluster's Redis (`--redis-restart`).
    redis_restart: Option<String>,
}

impl LiveServer {
    /// Parses `http://host:port` and resolves the host, within `timeout`.
    pub async fn resolve(
        url: &str,
        path: &str,
        credentials: &Credentials,
        timeout: Duration,
    ) -> Result<Self, String> {
        let authority = live_authority(url)?;
        let lookup = tokio::net::lookup_host(authority.clone());
        let addr = tokio::time::timeout(timeout, lookup)
            .await
            .map_err(|_| format!("resolving {authority} took over {} ms", timeout.as_millis()))?
            .map_err(|e| format!("resolving {authority}: {e}"))?
            .next()
            .ok_or_else(|| format!("{authority} resolves to no address"))?;
        if !path.starts_with('/') {
            return Err(format!("--path {path:?} must start with '/'"));
        }
        Ok(Self {
            addr,
            path: path.to_owned(),
            credentials: credentials.clone(),
            other_nodes: Vec::new(),
            redis_restart: None,
        })
    }

    /// The same server as the first node of a cluster whose other nodes
    /// are `others`.
    pub fn with_other_nodes(self, others: &[LiveServer]) -> Self {
        Self {
            other_nodes: others.iter().map(|node| node.addr).collect(),
            ..self
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Socket.IO path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The same server with Socket.IO at `path`.
    pub fn with_path(&self, path: &str) -> Self {
        Self {
            path: path.to_owned(),
            ..self.clone()
        }
    }

    /// How a case or the preflight reaches the server.
    pub fn endpoint(&self, timeout: Duration) -> Endpoint {
        self.endpoint_at(self.addr, timeout)
    }

    fn endpoint_at(&self, addr: SocketAddr, timeout: Duration) -> Endpoint {
        Endpoint {
            connector: Connector::Tcp {
                addr,
                connect_timeout: timeout,
                headers: self.credentials.headers.clone().into(),
            },
            path: self.path.clone(),
            limits: limits(timeout),
        }
    }

    /// A probe on the server, as a case body gets it, told the server's
    /// connect timeout if the user declared it.
    pub fn probe(
        &self,
        recorder: Recorder,
        timeout: Duration,
        connect_timeout: Option<Duration>,
    ) -> Probe {
        let declared = Declared {
            auth: self.credentials.auth.clone(),
            connect_timeout,
        };
        let nodes = std::iter::once(self.addr)
            .chain(self.other_nodes.iter().copied())
            .map(|addr| self.endpoint_at(addr, timeout))
            .collect();
        let bus_restart = match &self.redis_restart {
            Some(command) => BusRestart::Command(command.clone()),
            None => BusRestart::Unavailable,
        };
        Probe::new(self.endpoint(timeout), recorder, timeout, None, declared)
            .with_nodes(nodes)
            .with_bus_restart(bus_restart)
    }

    /// The same server, its cluster's Redis restarted by `command`.
    pub fn with_redis_restart(self, command: Option<String>) -> Self {
        Self {
            redis_restart: command,
            ..self
        }
    }

    /// Whether the server is gone: a TCP connect to it is refused (a
    /// server that still accepts but misbehaves is a verdict, not this).
    pub async fn is_gone(&self) -> bool {
        let connect = tokio::net::TcpStream::connect(self.addr);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), connect).await,
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused
        )
    }

    /// Runs one case against the server, on the caller's LocalSet.
    pub async fn run(
        &self,
        case: Case,
        timeout: Duration,
        connect_timeout: Option<Duration>,
    ) -> CaseRun {
        let recorder = Recorder::new();
        let started = tokio::time::Instant::now();
        let probe = self.probe(recorder.clone(), timeout, connect_timeout);
        let deadline = case_deadline(timeout);
        let outcome = match tokio::time::timeout(deadline, guarded((case.body)(probe))).await {
            Ok(outcome) => outcome,
            Err(_) => Err(CaseError::Broken(format!(
                "the case did not finish within {} ms",
                deadline.as_millis()
            ))),
        };
        CaseRun {
            outcome,
            trace: recorder.finish(),
            elapsed: started.elapsed(),
        }
    }
}

/// The body's outcome; a panicking body (a bug in the case, or in the client
/// it drives) becomes that case's verdict instead of ending the whole run.
async fn guarded(body: CaseFuture) -> CaseOutcome {
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(panic) => Err(CaseError::Broken(format!(
            "the case body panicked: {}",
            panic_message(panic.as_ref())
        ))),
    }
}

/// The text a panic was raised with, if it has one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
