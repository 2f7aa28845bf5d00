//! Swarm testing: a seed becomes a whole scenario, so that every seed tries
//! a different mix of clients, transports, latencies, faults and events
//! (after TigerBeetle's `options_swarm`). A [`Swarm`] is built from the
//! app's event vocabulary: families of events ([`EventFamily`], each with a
//! payload generator) and the requests a client makes on the healed network
//! (its finale).
//!
//! A swarm run has two phases:
//! - **safety** (`safety_ms`): every client connects, then fires events
//!   drawn from the families by the seed's mix (never waiting on an answer,
//!   so faults cannot stall it) while partitions, holds and latency spikes
//!   strike; all of them end by `safety_ms`;
//! - **liveness**: every client reconnects on the healed network, plays its
//!   finale, then stays [`LIVENESS_SETTLE_MS`] so that the checkers can
//!   demand convergence and acks. Some leave the namespace first while
//!   keeping the connection, as the official client can.
//!
//! ```
//! use serde_json::json;
//! use siosim_harness::swarm::{EventFamily, Swarm};
//!
//! let swarm = Swarm::new()
//!     .family(EventFamily::new("typing", |_rng, _text| ("typing".into(), vec![])))
//!     .family(EventFamily::new("chat", |_rng, text| ("chat".into(), vec![json!(text)])))
//!     .finale(|_rng, name| vec![("chat".into(), vec![json!(format!("{name}:final"))])]);
//! let scenario = swarm.scenario(7);
//! assert_eq!(scenario, swarm.scenario(7));
//! assert!(scenario.clients.len() >= 2);
//! ```
//!
//! Searching seeds of a swarm against your app, judged by the delivery
//! checker with your app's relays (the example of README's "Finding races"):
//!
//! ```no_run
//! # use serde_json::json;
//! # fn my_app() -> axum::Router { axum::Router::new() }
//! use siosim_harness::invariants::delivery::Delivery;
//! use siosim_harness::invariants::{Audience, Relays};
//! use siosim_harness::swarm::{EventFamily, Swarm};
//! use siosim_harness::{Explorer, Simulation};
//!
//! let relays = Relays::new().relay("draw", Audience::OthersOnly);
//! // Each drawn event gets a unique text, so every copy traces back to its send.
//! let swarm = Swarm::new()
//!     .family(EventFamily::new("draw", |_, text| ("draw".into(), vec![json!(text)])))
//!     .finale(|_, text| vec![("draw".into(), vec![json!(text)])]);
//! let search = Explorer::new(move |seed| {
//!     Simulation::new(swarm.scenario(seed), my_app)
//!         .invariant(Delivery::new(relays.clone()))
//!         // A drawn fault may strike an idle link: that seed tested less, it
//!         // did not fail (a scripted scenario keeps "fault never fired").
//!         .unfired_faults_pass()
//! })
//! .seeds(0..200)
//! .run();
//! search.assert_passed();
//! ```
//!
//! The run is shorter than one heartbeat (25 s), so no session times out:
//! a wedged session simply stays wedged until its client reconnects.
//!
//! A fault may strike nothing (a long-polling client may have no request in
//! flight for the whole window). The run still records `fault never fired`,
//! but for a swarm seed that is no violation: that seed simply tested less
//! (judge swarm runs with
//! [`Simulation::unfired_faults_pass`](crate::Simulation::unfired_faults_pass)).
//!
//! The generator is its own SplitMix64, not `rand`: a seed must name the
//! same scenario forever, across dependency upgrades, for the regressions
//! file to mean anything.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::Value;

use crate::scenario::{ClientScript, Direction, Fault, Scenario, Step, Transport};

mod live_plan;

pub use live_plan::{LIVE_SWARM, LiveOptions, Misbehaviour};

/// The scenario name under which swarm runs are reported.
pub const SWARM: &str = "swarm";
/// How long each client stays connected once it has done its liveness work.
pub const LIVENESS_SETTLE_MS: u64 = 3_500;
/// Pause between the end of the safety phase and the reconnects.
const LIVENESS_START_MS: u64 = 500;
/// Faults begin after this, once every client has surely connected.
const FIRST_FAULT_MS: u64 = 1_200;
/// Longest pause between two of a client's events in the safety phase: it
/// is shorter than any fault, so every fault window sees traffic and fires.
const MAX_GAP_MS: u64 = 300;
/// Shortest fault.
const MIN_FAULT_MS: u64 = 600;
const NAMES: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank"];
/// The chance, in percent, that a safety-phase event asks for an ack.
const ACK_PERCENT: u64 = 70;
/// The chance, in percent, that a client leaves the namespace before settling.
const LEAVE_NAMESPACE_PERCENT: u64 = 30;
/// The most a family's weight in the event mix can be.
const MAX_WEIGHT: u64 = 4;
/// Mixed into the seed for the cluster's draws (see [`Swarm::clustered`]).
const CLUSTER_STREAM: u64 = 0xc105_7e25;

/// An event name and its arguments.
pub type Emit = (String, Vec<Value>);

/// Draws one event of a family: from the seed's generator and a text
/// unique in the run (`alice:7`), its name and arguments.
pub type DrawEvent = Arc<dyn Fn(&mut SwarmRng, &str) -> Emit + Send + Sync>;

/// Draws a client's finale on the healed network: from the seed's generator
/// and the client's name, the events it emits (each with an ack) in order.
pub type DrawFinale = Arc<dyn Fn(&mut SwarmRng, &str) -> Vec<Emit> + Send + Sync>;

/// What a live plan's client requests in its finale to undo what its
/// requests created (given the texts of the requests that POSTed): a live
/// server keeps its state from one seed to the next.
pub type DrawCleanup = Arc<dyn Fn(&[String]) -> Vec<Step> + Send + Sync>;

/// Draws a client's HTTP requests (live plans only): from the seed's
/// generator, a text unique in the run and across seeds (`alice:7@s42`),
/// and an earlier such text of the same client (`alice:3@s42`, what it may
/// have created), the steps it takes, in order.
pub type DrawRequests = Arc<dyn Fn(&mut SwarmRng, &str, Option<&str>) -> Vec<Step> + Send + Sync>;

/// A family of events the seed weighs against the others in the mix.
#[derive(Clone)]
pub struct EventFamily {
    pub name: String,
    draw: DrawEvent,
    /// Whether its events may ask for an ack (70% of them do).
    acked: bool,
}

impl fmt::Debug for EventFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventFamily")
            .field("name", &self.name)
            .field("acked", &self.acked)
            .finish()
    }
}

impl EventFamily {
    /// A family named `name` (shown in the options line) whose events `draw`
    /// makes; give each message a unique payload (the text it is passed) so
    /// that the delivery checkers can trace every copy to its send.
    pub fn new(
        name: impl Into<String>,
        draw: impl Fn(&mut SwarmRng, &str) -> Emit + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            draw: Arc::new(draw),
            acked: true,
        }
    }

    /// Its events never ask for an ack (the draw is made all the same, so
    /// that the rest of the scenario does not move).
    pub fn without_acks(mut self) -> Self {
        self.acked = false;
        self
    }
}

/// An app's swarm: its event vocabulary, from which every seed draws a scenario.
#[derive(Clone, Default)]
pub struct Swarm {
    families: Vec<EventFamily>,
    finale: Option<DrawFinale>,
    requests: Option<DrawRequests>,
    cleanup: Option<DrawCleanup>,
    /// The fewest nodes a cluster seed draws.
    min_nodes: usize,
    /// The most nodes a seed may draw (1: no cluster).
    max_nodes: usize,
}

impl fmt::Debug for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swarm")
            .field("families", &self.families)
            .field("finale", &self.finale.is_some())
            .field("requests", &self.requests.is_some())
            .field("nodes", &(self.min_nodes..=self.max_nodes))
            .finish()
    }
}

impl Swarm {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a family of events to the mix.
    pub fn family(mut self, family: EventFamily) -> Self {
        self.families.push(family);
        self
    }

    /// What each client emits, with acks, once the network has healed.
    pub fn finale(
        mut self,
        draw: impl Fn(&mut SwarmRng, &str) -> Vec<Emit> + Send + Sync + 'static,
    ) -> Self {
        self.finale = Some(Arc::new(draw));
        self
    }

    /// The HTTP requests (a REST API, say) a live plan's clients mix in
    /// with their events ([`Swarm::live_scenario`]); simulated swarm
    /// scenarios do not use them.
    pub fn requests(
        mut self,
        draw: impl Fn(&mut SwarmRng, &str, Option<&str>) -> Vec<Step> + Send + Sync + 'static,
    ) -> Self {
        self.requests = Some(Arc::new(draw));
        self
    }

    /// What a live plan's client requests at the end of its finale, given
    /// the texts of its requests that POSTed (delete what they created,
    /// say), so that a server explored for hours does not grow without end.
    pub fn cleanup(
        mut self,
        draw: impl Fn(&[String]) -> Vec<Step> + Send + Sync + 'static,
    ) -> Self {
        self.cleanup = Some(Arc::new(draw));
        self
    }

    /// Each seed also draws a cluster of 2 to `max_nodes` nodes (see
    /// [`Simulation::cluster`](crate::Simulation::cluster)), clients placed
    /// on them in turn, the node each client's liveness reconnect lands on,
    /// and may cut one node off the bus for a while. These
    /// draws come after every other, from a stream of their own, so a seed
    /// draws the same clients, events and faults with or without them.
    pub fn clustered(mut self, max_nodes: usize) -> Self {
        self.min_nodes = 2;
        self.max_nodes = max_nodes;
        self
    }

    /// As [`clustered`](Self::clustered), but every seed runs exactly
    /// `nodes` nodes.
    pub fn cluster_of(mut self, nodes: usize) -> Self {
        self.min_nodes = nodes;
        self.max_nodes = nodes;
        self
    }

    /// Every option drawn from `seed`.
    pub fn options(&self, seed: u64) -> SwarmOptions {
        let mut options = SwarmOptions::from_seed(seed, &self.families);
        if self.max_nodes > 1 {
            options.draw_cluster(self.min_nodes, self.max_nodes);
        }
        options
    }

    /// The scenario for `seed`: the same seed names the same scenario forever.
    pub fn scenario(&self, seed: u64) -> Scenario {
        self.options(seed).scenario(self)
    }
}

/// A deterministic 64-bit generator (SplitMix64): tiny, fast, and the same
/// sequence for a seed on every platform and forever.
#[derive(Debug, Clone)]
pub struct SwarmRng(u64);

impl SwarmRng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5eed_5a12_3a11_0b5e)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high` (`low` if the range is empty).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.between(0, items.len() as u64 - 1) as usize]
    }
}

/// What the seed chose, for the line a run starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmOptions {
    pub seed: u64,
    pub transports: Vec<(String, Transport)>,
    pub latency_ms: (u64, u64),
    pub random_host_order: bool,
    pub clients_per_host: usize,
    pub safety_ms: u64,
    /// Each family's name and relative weight in the event mix.
    pub mix: Vec<(String, u64)>,
    pub faults: Vec<(u64, Fault)>,
    /// Server nodes: 1, or a cluster's (see [`Swarm::clustered`]).
    pub nodes: usize,
    /// The clients whose liveness reconnect lands on another node than their
    /// first, and that node (see [`Swarm::clustered`]).
    pub moves: Vec<(String, usize)>,
}

impl SwarmOptions {
    /// Every option drawn from `seed`, for `families`.
    fn from_seed(seed: u64, families: &[EventFamily]) -> Self {
        let mut rng = SwarmRng::new(seed);
        let client_count = rng.between(2, NAMES.len() as u64) as usize;
        let uniform = rng.chance(40).then(|| *rng.pick(&Transport::ALL));
        let transports = NAMES[..client_count]
            .iter()
            .map(|name| {
                let transport = uniform.unwrap_or_else(|| *rng.pick(&Transport::ALL));
                ((*name).to_owned(), transport)
            })
            .collect();
        let latency_min = rng.between(0, 5);
        let latency_ms = (latency_min, latency_min + rng.between(1, 60));
        let random_host_order = rng.chance(50);
        let clients_per_host = rng.between(2, 4) as usize;
        let safety_ms = rng.between(2_000, 5_000);
        let mut weights: Vec<u64> = families
            .iter()
            .map(|_| rng.between(0, MAX_WEIGHT))
            .collect();
        if weights.iter().all(|&w| w == 0) {
            weights.iter_mut().for_each(|w| *w = 1);
        }
        let mix = families
            .iter()
            .map(|f| f.name.clone())
            .zip(weights)
            .collect();
        let mut options = SwarmOptions {
            seed,
            transports,
            latency_ms,
            random_host_order,
            clients_per_host,
            safety_ms,
            mix,
            faults: Vec::new(),
            nodes: 1,
            moves: Vec::new(),
        };
        options.faults = draw_faults(&mut rng, &options);
        options
    }

    /// Draws the cluster's size, half the time a node cut off the bus for
    /// part of the safety phase, and the node each client's liveness
    /// reconnect lands on.
    fn draw_cluster(&mut self, min_nodes: usize, max_nodes: usize) {
        let mut rng = SwarmRng::new(self.seed ^ CLUSTER_STREAM);
        self.nodes = rng.between(min_nodes as u64, max_nodes as u64) as usize;
        if rng.chance(50) && self.safety_ms >= FIRST_FAULT_MS + MIN_FAULT_MS {
            let node = rng.between(1, self.nodes as u64) as usize;
            let start = rng.between(FIRST_FAULT_MS, self.safety_ms - MIN_FAULT_MS);
            let end = rng.between(start + MIN_FAULT_MS, self.safety_ms);
            self.faults.push((start, Fault::PartitionBus { node }));
            self.faults.push((end, Fault::RepairBus { node }));
            self.faults.sort_by_key(|(at, _)| *at);
        }
        // The load balancer places each liveness reconnect anew.
        for (index, (name, _)) in self.transports.iter().enumerate() {
            let node = rng.between(1, self.nodes as u64) as usize;
            if node != index % self.nodes + 1 {
                self.moves.push((name.clone(), node));
            }
        }
    }

    /// The scenario these options describe. Its clients' events are drawn
    /// from the same seed, after the options.
    fn scenario(&self, swarm: &Swarm) -> Scenario {
        let mut rng = SwarmRng::new(self.seed.rotate_left(17));
        let mut scenario = Scenario::new(SWARM)
            .nodes(self.nodes)
            .latency_ms(self.latency_ms.0, self.latency_ms.1)
            .duration_ms(self.safety_ms + LIVENESS_START_MS + LIVENESS_SETTLE_MS + 12_000);
        scenario.network.random_host_order = self.random_host_order;
        scenario.network.clients_per_host = self.clients_per_host;
        for (name, transport) in &self.transports {
            scenario = scenario.client(self.client(swarm, &mut rng, name, *transport));
        }
        for (at_ms, fault) in &self.faults {
            scenario = scenario.fault(*at_ms, fault.clone());
        }
        scenario
    }

    fn client(
        &self,
        swarm: &Swarm,
        rng: &mut SwarmRng,
        name: &str,
        transport: Transport,
    ) -> ClientScript {
        // At least one tick in: with random host order a client could
        // otherwise dial before the server host has bound its listener.
        let mut script = ClientScript::new(name)
            .wait_ms(rng.between(1, 50))
            .connect(transport);
        let mut elapsed = 0;
        let mut sent = 0u64;
        while elapsed < self.safety_ms {
            let gap = rng.between(20, MAX_GAP_MS);
            script = script.wait_ms(gap);
            elapsed += gap;
            sent += 1;
            if let Some(event) = self.safety_event(swarm, rng, name, sent) {
                script = script.step(event);
            }
        }
        // Liveness: a fresh session on the healed network.
        let finale = swarm.finale.as_ref().map(|draw| draw(rng, name));
        let script = script.wait_ms(self.safety_ms.saturating_sub(elapsed) + LIVENESS_START_MS);
        let mut script = match self.moves.iter().find(|(moved, _)| moved == name) {
            Some((_, node)) => script.connect_to_node(transport, *node),
            None => script.connect(transport),
        };
        for (event, args) in finale.into_iter().flatten() {
            script = script.emit_with_ack(&event, args);
        }
        if rng.chance(LEAVE_NAMESPACE_PERCENT) {
            // Leaves the namespace but keeps the connection (the official
            // client's `socket.disconnect()` on a shared Manager) while the
            // others still post to the rooms: nothing may follow it.
            return script
                .wait_ms(rng.between(0, 200))
                .step(Step::SendRaw { text: "41".into() })
                .wait_ms(LIVENESS_SETTLE_MS)
                .step(Step::Drop);
        }
        script.wait_ms(LIVENESS_SETTLE_MS).disconnect()
    }

    /// One fire-and-forget event of a family the mix picks; message texts
    /// are unique (`alice:7`). None if the swarm has no families.
    fn safety_event(
        &self,
        swarm: &Swarm,
        rng: &mut SwarmRng,
        name: &str,
        sent: u64,
    ) -> Option<Step> {
        let text = format!("{name}:{sent}");
        let ack = rng.chance(ACK_PERCENT);
        let family = &swarm.families[roll_mix(rng, &self.mix)?];
        let (event, args) = (family.draw)(rng, &text);
        Some(Step::Emit {
            event,
            args,
            ack: ack && family.acked,
        })
    }

    /// The options as one block of `# ` lines, printed when a run starts.
    pub fn describe(&self) -> String {
        let mut text = format!("# swarm seed {}\n# clients:", self.seed);
        for (name, transport) in &self.transports {
            let _ = write!(text, " {name}={}", transport.name());
        }
        let names: Vec<&str> = self.mix.iter().map(|(name, _)| name.as_str()).collect();
        let weights: Vec<String> = self.mix.iter().map(|(_, w)| w.to_string()).collect();
        let _ = writeln!(
            text,
            "\n# latency {}..{} ms, {} clients per host, random host order {}, safety phase {} ms, event mix {} {}",
            self.latency_ms.0,
            self.latency_ms.1,
            self.clients_per_host,
            if self.random_host_order { "on" } else { "off" },
            self.safety_ms,
            names.join(":"),
            weights.join(":"),
        );
        if self.nodes > 1 {
            let _ = write!(
                text,
                "# cluster of {} nodes, clients placed in turn",
                self.nodes
            );
            for (name, node) in &self.moves {
                let _ = write!(text, ", {name} reconnects to node {node}");
            }
            text.push('\n');
        }
        if self.faults.is_empty() {
            text.push_str("# faults: none\n");
        }
        for (at_ms, fault) in &self.faults {
            let _ = writeln!(text, "# fault at {at_ms} ms: {}", describe_fault(fault));
        }
        text
    }
}

/// The index of the entry of `mix` (names and relative weights) that one
/// draw picks, or None if every weight is 0 (then nothing is drawn).
fn roll_mix(rng: &mut SwarmRng, mix: &[(String, u64)]) -> Option<usize> {
    let total: u64 = mix.iter().map(|(_, weight)| weight).sum();
    if total == 0 {
        return None;
    }
    let mut roll = rng.between(0, total - 1);
    mix.iter().position(|(_, weight)| {
        let here = roll < *weight;
        roll = roll.saturating_sub(*weight);
        here
    })
}

/// Up to three faults, each on a client of its own (a client's faults never
/// overlap), all over by the end of the safety phase.
fn draw_faults(rng: &mut SwarmRng, options: &SwarmOptions) -> Vec<(u64, Fault)> {
    let mut faults = Vec::new();
    let latest_end = options.safety_ms;
    if latest_end < FIRST_FAULT_MS + MIN_FAULT_MS {
        return faults;
    }
    let count = rng.between(0, 3) as usize;
    let mut targets: Vec<&str> = options.transports.iter().map(|(n, _)| n.as_str()).collect();
    for _ in 0..count {
        let start = rng.between(FIRST_FAULT_MS, latest_end - MIN_FAULT_MS);
        let end = rng.between(start + MIN_FAULT_MS, latest_end);
        let kind = rng.between(0, 5);
        if kind == 0 {
            let spike = rng.between(100, 1_500);
            faults.push((start, Fault::Latency { max_ms: spike }));
            faults.push((
                end,
                Fault::Latency {
                    max_ms: options.latency_ms.1,
                },
            ));
            continue;
        }
        if targets.is_empty() {
            break;
        }
        let client = targets
            .remove(rng.between(0, targets.len() as u64 - 1) as usize)
            .to_owned();
        if kind <= 2 {
            faults.push((
                start,
                Fault::Hold {
                    client: client.clone(),
                },
            ));
            faults.push((end, Fault::Release { client }));
        } else {
            let direction =
                *rng.pick(&[Direction::Both, Direction::ToServer, Direction::FromServer]);
            faults.push((
                start,
                Fault::Partition {
                    client: client.clone(),
                    direction,
                },
            ));
            faults.push((end, Fault::Repair { client, direction }));
        }
    }
    faults.sort_by_key(|(at, _)| *at);
    faults
}

fn describe_fault(fault: &Fault) -> String {
    match fault {
        Fault::Latency { max_ms } => format!("latency at most {max_ms} ms"),
        Fault::Hold { client } => format!("hold {client}"),
        Fault::Release { client } => format!("release {client}"),
        Fault::Partition { client, direction } => format!("partition {client} {direction:?}"),
        Fault::Repair { client, direction } => format!("repair {client} {direction:?}"),
        Fault::PartitionBus { node } => format!("partition node-{node} from the bus"),
        Fault::RepairBus { node } => format!("repair node-{node} to the bus"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn swarm() -> Swarm {
        Swarm::new()
            .family(EventFamily::new("ping", |_, _| ("ping".into(), vec![])))
            .family(EventFamily::new("say", |rng, text| {
                let event = if rng.chance(50) { "say" } else { "shout" };
                (event.into(), vec![json!(text)])
            }))
            .finale(|_, name| vec![("say".into(), vec![json!(format!("{name}:final"))])])
    }

    #[test]
    fn a_seed_names_one_scenario_forever() {
        let swarm = swarm();
        assert_eq!(swarm.scenario(7), swarm.scenario(7));
        assert_ne!(swarm.scenario(7), swarm.scenario(8));
        // Pinned: changing the generator silently changes every recorded seed.
        let options = swarm.options(7);
        assert_eq!(SwarmRng::new(0).next_u64(), 0xf056_e024_d404_bea3);
        assert!(options.describe().starts_with("# swarm seed 7\n# clients:"));
        assert!(options.describe().contains("event mix ping:say "));
    }

    #[test]
    fn a_swarm_without_families_still_connects_and_plays_its_finale() {
        let scenario = Swarm::new().scenario(3);
        let steps = &scenario.clients[0].steps;
        assert!(steps.iter().all(|s| !matches!(s, Step::Emit { .. })));
        assert_eq!(
            steps
                .iter()
                .filter(|s| matches!(s, Step::Connect { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn a_clustered_swarm_sends_some_reconnects_to_another_node() {
        let clustered = swarm().clustered(3);
        let mut moved = 0;
        for seed in 0..50 {
            let scenario = clustered.scenario(seed);
            let first = scenario
                .node_of_clients()
                .expect("the swarm names real nodes");
            for (client, first) in scenario.clients.iter().zip(first) {
                for node in client.moves() {
                    assert_ne!(node, first, "seed {seed}: {} stays", client.name);
                    moved += 1;
                }
            }
            let options = clustered.options(seed);
            assert_eq!(
                options.moves.len(),
                scenario
                    .clients
                    .iter()
                    .map(|c| c.moves().count())
                    .sum::<usize>()
            );
        }
        assert!(moved > 20, "{moved} reconnects moved in 50 seeds");
        assert!((0..50).all(|seed| swarm().cluster_of(3).scenario(seed).nodes == 3));
        assert!(
            swarm()
                .scenario(7)
                .clients
                .iter()
                .all(|c| c.moves().next().is_none())
        );
    }

    #[test]
    fn every_fault_ends_by_the_safety_phase_and_strikes_one_client_once() {
        for seed in 0..500 {
            let options = swarm().options(seed);
            let mut targeted = std::collections::BTreeSet::new();
            for (at_ms, fault) in &options.faults {
                assert!(
                    *at_ms >= FIRST_FAULT_MS && *at_ms <= options.safety_ms,
                    "seed {seed}"
                );
                if let Fault::Hold { client } | Fault::Partition { client, .. } = fault {
                    assert!(
                        targeted.insert(client.clone()),
                        "seed {seed}: {client} twice"
                    );
                }
            }
        }
    }
}
