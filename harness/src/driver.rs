//! The one loop every simulated run goes through: a turmoil world seeded
//! from one seed with the server app on [`SERVER_HOST`], stepped until the
//! clients finish or the time runs out, with the fault schedule applied, the
//! server's logs captured and its panics turned into failures.
//!
//! [`Simulation`](crate::Simulation) (scripted clients) and
//! [`ClientRun`](crate::ClientRun) (a client as code) differ only in the
//! clients they place on the world.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::time::{Duration, UNIX_EPOCH};

use crate::app_panic::{self, PanicWatch};
use crate::bus::{self, BUS_HOST};
use crate::cluster_node::{ClusterNode, NodeFactory};
use crate::entropy;
use crate::fault_runner::FaultRunner;
use crate::fault_trigger::FaultTrigger;
use crate::host_log::{self, CaptureGuard};
use crate::listener::SimListener;
use crate::pending_timers;
use crate::scenario::{NetworkOptions, ScheduledFault, Stepping};
use crate::sim_stream::CloseParkedOnDrop;
use crate::trace::{EventKind, Recorder};

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
/// turmoil's step: how often every host is polled when time is not skipped.
const TICK: Duration = Duration::from_millis(1);
/// Simulated time turmoil may run past the run's duration, so that our own
/// deadline (with its clear message) always strikes first.
const DURATION_GRACE: Duration = Duration::from_secs(1);

thread_local! {
    /// The simulated time at which this thread's server app is (re)built: the
    /// wall clock the app's constructor sees.
    static APP_BUILT_AT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Everything a run's world is built from besides its clients.
pub(crate) struct WorldSpec<'a> {
    pub(crate) seed: u64,
    pub(crate) network: &'a NetworkOptions,
    pub(crate) duration: Duration,
    /// Each TCP socket's queue and the listener's backlog.
    pub(crate) tcp_capacity: usize,
    pub(crate) app: NodeFactory,
    /// Server nodes (see [`Scenario::nodes`](crate::Scenario::nodes)).
    pub(crate) nodes: usize,
    /// Whether the simulated Redis bus runs (on [`BUS_HOST`]).
    pub(crate) bus: bool,
    pub(crate) faults: &'a [ScheduledFault],
    /// Faults the clients set off themselves, if they may.
    pub(crate) trigger: Option<FaultTrigger>,
    /// The host each client a fault names runs on.
    pub(crate) host_of_client: BTreeMap<String, String>,
    /// The hosts of the nodes each client connects to, its first first.
    pub(crate) nodes_of_client: BTreeMap<String, Vec<String>>,
    pub(crate) log_level: tracing::Level,
}

/// A seeded world being driven on this thread.
pub(crate) struct Driver {
    sim: turmoil::Sim<'static>,
    recorder: Recorder,
    faults: FaultRunner,
    trigger: Option<FaultTrigger>,
    duration: Duration,
    /// `Stepping::SkipIdle`, in a build that can see the hosts' timers.
    skips_idle: bool,
    /// [`host_log::handshake_wakes`] when the last step began.
    handshakes_seen: u64,
    panics: PanicWatch,
    capture: CaptureGuard,
}

/// How a driven run ended, before its clients' own verdicts.
pub(crate) struct Ended {
    pub(crate) recorder: Recorder,
    /// A host failed, a server panic, the time ran out, a fault never fired.
    pub(crate) failures: Vec<String>,
    pub(crate) elapsed: Duration,
}

impl Driver {
    /// Seeds this thread and builds the world; the caller then places its
    /// clients on [`Driver::sim`].
    pub(crate) fn new(spec: WorldSpec<'_>) -> Self {
        report_missing_build_setting_once();
        entropy::seed_this_thread(spec.seed ^ ENTROPY_SALT, EPOCH_SINCE_UNIX);
        let recorder = Recorder::new();
        let skips_idle = spec.network.stepping == Stepping::SkipIdle && pending_timers::OBSERVABLE;
        let nodes = ClusterNode::all(spec.nodes);
        let node_hosts: Vec<String> = nodes.iter().map(|n| n.host().to_owned()).collect();
        let server_hosts: BTreeSet<String> = node_hosts.iter().cloned().collect();
        let capture = host_log::capture(
            recorder.clone(),
            server_hosts.clone(),
            spec.log_level,
            skips_idle,
        );
        let panics = PanicWatch::start(server_hosts);
        let sim = world(&spec, nodes);
        let faults = FaultRunner::new(
            spec.faults,
            spec.host_of_client,
            node_hosts,
            spec.nodes_of_client,
            recorder.clone(),
        );
        Self {
            sim,
            recorder,
            faults,
            trigger: spec.trigger,
            duration: spec.duration,
            skips_idle,
            handshakes_seen: 0,
            panics,
            capture,
        }
    }

    pub(crate) fn sim(&mut self) -> &mut turmoil::Sim<'static> {
        &mut self.sim
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Steps until every client finished, a host failed, the server
    /// panicked or `duration` passed (`what` names the clients in that
    /// message). The hosts' runtimes are gone when this returns.
    pub(crate) fn run(mut self, what: &str) -> Ended {
        let mut failures = Vec::new();
        if let Some(early) = self.step_until_done(what) {
            self.recorder.record(
                early.at,
                early.actor,
                EventKind::Fail,
                early.failure.clone(),
            );
            failures.push(early.failure);
        }
        failures.extend(self.faults.finish(self.sim.elapsed()));
        let elapsed = self.sim.elapsed();
        // The hosts' runtimes and everything they hold go before the log
        // capture and the panic watch.
        drop(self.sim);
        drop(self.capture);
        drop(self.panics);
        Ended {
            recorder: self.recorder,
            failures,
            elapsed,
        }
    }

    /// Applies the faults the clients fired since the last step; whether
    /// there was one.
    fn apply_triggered(&mut self) -> bool {
        let Some(trigger) = &self.trigger else {
            return false;
        };
        let fired = trigger.take();
        for fault in &fired {
            self.faults.apply_now(&mut self.sim, fault);
        }
        trigger.applied(fired.len());
        !fired.is_empty()
    }

    /// The failure that ended the run early, if one did.
    fn step_until_done(&mut self, what: &str) -> Option<EndedEarly> {
        loop {
            // A task woken by neither a timer nor the network runs in an
            // ordinary tick: after a fault (a bounce starts the app anew), at
            // the start, and after a TCP handshake answered through memory.
            let handshakes = host_log::handshake_wakes();
            let touched = self.faults.apply_due(&mut self.sim) | self.apply_triggered()
                || self.sim.elapsed().is_zero()
                || handshakes != self.handshakes_seen;
            self.handshakes_seen = handshakes;
            let stretch = if touched { None } else { self.idle_stretch() };
            let stepped = std::panic::catch_unwind(AssertUnwindSafe(|| match stretch {
                Some(stretch) => self.sim.step_by(stretch),
                None => self.sim.step(),
            }));
            if let Some(panic) = self.panics.first() {
                return Some(EndedEarly {
                    at: panic.at.unwrap_or_else(|| self.sim.elapsed()),
                    actor: "server",
                    failure: panic.description,
                });
            }
            let failure = match stepped {
                Ok(Ok(true)) => return None,
                Ok(Ok(false)) if self.sim.elapsed() < self.duration => continue,
                Ok(Ok(false)) => format!(
                    "{what} did not finish within {} ms of simulated time",
                    self.duration.as_millis()
                ),
                Ok(Err(error)) => format!("a host failed: {error}"),
                // Not the app's: a harness bug, with its own seed message.
                Err(panic) => std::panic::resume_unwind(panic),
            };
            return Some(EndedEarly {
                at: self.sim.elapsed(),
                actor: "sim",
                failure,
            });
        }
    }

    /// How far one step may move the simulation because nothing is due
    /// sooner: no message becomes deliverable, no host timer fires, no fault
    /// strikes and the run's deadline does not pass. `None`: one tick.
    ///
    /// A step of any length fires each host's timers at their own instants,
    /// so skipping only saves the ticks in which every host would have
    /// parked at once. A message is delivered at the start of the step whose
    /// tick reaches it, to a host still at that step's start: the skip ends
    /// one tick short of it, and that tick is an ordinary step.
    fn idle_stretch(&self) -> Option<Duration> {
        if !self.skips_idle {
            return None;
        }
        let now = self.sim.elapsed();
        let delivery = self
            .sim
            .next_delivery()
            .map(|in_flight| now + ceil_to_tick(in_flight).saturating_sub(TICK));
        let until = [
            Some(self.duration),
            pending_timers::earliest(),
            delivery,
            self.faults.next_due(),
        ]
        .into_iter()
        .flatten()
        .min()?;
        let stretch = until.checked_sub(now)?;
        (stretch > TICK).then_some(stretch)
    }
}

/// `duration` rounded up to whole ticks.
fn ceil_to_tick(duration: Duration) -> Duration {
    let ticks = duration.as_nanos().div_ceil(TICK.as_nanos());
    TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
}

/// Why a run stopped before its clients finished.
struct EndedEarly {
    at: Duration,
    /// `server` for the app's panic, `sim` otherwise.
    actor: &'static str,
    failure: String,
}

/// A turmoil world seeded by `spec.seed` with the app serving on each node
/// (and the bus, if asked for). The thread's entropy must already be seeded.
fn world(spec: &WorldSpec<'_>, nodes: Vec<ClusterNode>) -> turmoil::Sim<'static> {
    let network = spec.network;
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(spec.seed)
        .epoch(UNIX_EPOCH + EPOCH_SINCE_UNIX)
        .simulation_duration(spec.duration + DURATION_GRACE)
        .tick_duration(TICK)
        .min_message_latency(Duration::from_millis(network.latency_ms_min))
        .max_message_latency(Duration::from_millis(
            network.latency_ms_max.max(network.latency_ms_min),
        ))
        .fail_rate(network.fail_rate)
        .repair_rate(network.repair_rate)
        .tcp_capacity(spec.tcp_capacity);
    if network.random_host_order {
        builder.enable_random_order();
    }
    let mut sim = builder.build();
    APP_BUILT_AT.set(Duration::ZERO);
    if spec.bus {
        sim.host(BUS_HOST, || async { Ok(bus::serve().await?) });
    }
    for node in nodes {
        let app = spec.app.clone();
        sim.host(node.host().to_owned(), move || {
            let built = app_panic::while_building_app(|| {
                entropy::with_wall_clock_at(APP_BUILT_AT.get(), || app(&node))
            });
            // Dropped with the software, after the runtime's own tasks: closes
            // the connections a crash or bounce dropped, in accept order.
            let close_parked = CloseParkedOnDrop;
            async move {
                let _close_parked = close_parked;
                let router = built.map_err(|_| "the app factory panicked")?;
                axum::serve(SimListener::bind(SERVER_PORT).await?, router).await?;
                Ok(())
            }
        });
    }
    sim
}

/// The server app is rebuilt (a bounce) at simulated time `elapsed`.
pub(crate) fn rebuild_app_at(elapsed: Duration) {
    APP_BUILT_AT.set(elapsed);
}

/// Says once per process, on stderr, what is lost without
/// `--cfg tokio_unstable`: a dependent crate does not inherit siosim's own
/// `.cargo/config.toml`. Written to stderr itself, not with `eprintln!`,
/// which libtest would capture and show only for a failing test.
fn report_missing_build_setting_once() {
    if cfg!(tokio_unstable) {
        return;
    }
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "siosim: built without `--cfg tokio_unstable`, so turmoil cannot seed each host's \
             tokio RNG (tokio::select! branch order) from the seed, and Stepping::SkipIdle \
             cannot see tokio's timers, so it steps every 1 ms tick; replays stay \
             byte-identical in the cases measured, but to rule it out add to \
             .cargo/config.toml: \
             [build] rustflags = [\"--cfg\", \"tokio_unstable\"]"
        );
    });
}
