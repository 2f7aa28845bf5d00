//! The fault schedule, applied to turmoil's `Sim` as simulated time passes,
//! with the evidence that each fault struck something.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bus::BUS_HOST;
use crate::driver;
use crate::host_log;
use crate::scenario::{Direction, Fault, ScheduledFault};
use crate::sim_stream;
use crate::trace::{EventKind, Recorder};

/// The prefix of a failure for a fault that struck nothing.
const UNFIRED_FAULT: &str = "fault never fired: ";

/// Whether a run failure only says that a fault struck nothing.
pub(crate) fn is_unfired_fault(failure: &str) -> bool {
    failure.starts_with(UNFIRED_FAULT)
}

/// Applies the fault schedule as simulated time passes, and keeps the
/// evidence that each fault actually struck something.
pub(crate) struct FaultRunner {
    due: Vec<(Duration, Fault)>,
    host_of_client: BTreeMap<String, String>,
    /// Each server node's host, node 1 first.
    node_hosts: Vec<String>,
    /// The hosts of the nodes each client connects to, its first first.
    nodes_of_client: BTreeMap<String, Vec<String>>,
    recorder: Recorder,
    /// Faults in force, with the drop/hold counters when they began.
    active: BTreeMap<String, (u64, u64)>,
    /// Faults that ended having struck nothing.
    unfired: Vec<String>,
}

impl FaultRunner {
    /// `host_of_client` maps a fault's client to the host it runs on; a
    /// client missing from it is taken to be a host of that name.
    /// `nodes_of_client` maps it to the hosts of the nodes it connects to; a
    /// client missing from it connects to the first node. A client's fault
    /// strikes its links to each of them: its own network failing.
    pub(crate) fn new(
        faults: &[ScheduledFault],
        host_of_client: BTreeMap<String, String>,
        node_hosts: Vec<String>,
        nodes_of_client: BTreeMap<String, Vec<String>>,
        recorder: Recorder,
    ) -> Self {
        let mut due: Vec<_> = faults
            .iter()
            .map(|f| (Duration::from_millis(f.at_ms), f.fault.clone()))
            .collect();
        // Stable: faults at the same instant apply in the order written.
        due.sort_by_key(|(at, _)| *at);
        due.reverse();
        Self {
            due,
            host_of_client,
            node_hosts,
            nodes_of_client,
            recorder,
            active: BTreeMap::new(),
            unfired: Vec::new(),
        }
    }

    /// When the next fault is due, if any is left.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        self.due.last().map(|(at, _)| *at)
    }

    /// Applies the faults due by now; whether there was one.
    pub(crate) fn apply_due(&mut self, sim: &mut turmoil::Sim<'_>) -> bool {
        let mut applied = false;
        while self.due.last().is_some_and(|(at, _)| *at <= sim.elapsed()) {
            let (_, fault) = self.due.pop().expect("checked above");
            self.apply_now(sim, &fault);
            applied = true;
        }
        applied
    }

    /// Applies `fault` now, unscheduled (a [`FaultTrigger`]'s), and records
    /// it.
    ///
    /// [`FaultTrigger`]: crate::FaultTrigger
    pub(crate) fn apply_now(&mut self, sim: &mut turmoil::Sim<'_>, fault: &Fault) {
        let note = self.apply(sim, fault);
        self.recorder
            .record(sim.elapsed(), "sim", EventKind::Fault, note);
    }

    fn host(&self, client: &str) -> String {
        self.host_of_client
            .get(client)
            .cloned()
            .unwrap_or_else(|| client.to_owned())
    }

    /// The hosts of the nodes `client` connects to.
    fn nodes_of(&self, client: &str) -> Vec<String> {
        self.nodes_of_client
            .get(client)
            .cloned()
            .unwrap_or_else(|| vec![self.node_host(1)])
    }

    /// Node `number`'s host (1 … N).
    fn node_host(&self, number: usize) -> String {
        number
            .checked_sub(1)
            .and_then(|index| self.node_hosts.get(index))
            .cloned()
            .unwrap_or_else(|| format!("node-{number}"))
    }

    fn apply(&mut self, sim: &mut turmoil::Sim<'_>, fault: &Fault) -> String {
        match fault {
            Fault::Latency { max_ms } => {
                sim.set_max_message_latency(Duration::from_millis(*max_ms));
                format!("latency: at most {max_ms} ms")
            }
            Fault::Hold { client } => {
                let (host, nodes) = (self.host(client), self.nodes_of(client));
                for node in &nodes {
                    sim.hold(host.as_str(), node.as_str());
                }
                self.begin(format!("hold {client}"));
                format!("hold {client} <-> {}", nodes.join(", "))
            }
            Fault::Release { client } => {
                let (host, nodes) = (self.host(client), self.nodes_of(client));
                for node in &nodes {
                    sim.release(host.as_str(), node.as_str());
                }
                let (_, held) = self.end(&format!("hold {client}"), true);
                format!(
                    "release {client} <-> {} ({held} segments were held)",
                    nodes.join(", ")
                )
            }
            Fault::Partition { client, direction } => {
                let nodes = self.set_client_links(sim, client, *direction, Link::Cut);
                self.begin(format!("partition {client}"));
                format!("partition {client} {} {nodes}", arrow(*direction))
            }
            Fault::Repair { client, direction } => {
                let nodes = self.set_client_links(sim, client, *direction, Link::Repair);
                let (dropped, _) = self.end(&format!("partition {client}"), false);
                format!(
                    "repair {client} {} {nodes} ({dropped} segments were lost)",
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
                for node in self.node_hosts.clone() {
                    sim_stream::park_closes_during(|| sim.crash(node.as_str()));
                }
                format!("crash {}", self.every_node())
            }
            Fault::Bounce => {
                driver::rebuild_app_at(sim.elapsed());
                for node in self.node_hosts.clone() {
                    sim_stream::park_closes_during(|| sim.bounce(node.as_str()));
                }
                format!("bounce {} (restarts with fresh state)", self.every_node())
            }
            Fault::CrashNode { node } => {
                let node = self.node_host(*node);
                sim_stream::park_closes_during(|| sim.crash(node.as_str()));
                format!("crash {node}")
            }
            Fault::BounceNode { node } => {
                let node = self.node_host(*node);
                driver::rebuild_app_at(sim.elapsed());
                sim_stream::park_closes_during(|| sim.bounce(node.as_str()));
                format!("bounce {node} (restarts with fresh state)")
            }
            Fault::PartitionBus { node } => {
                let node = self.node_host(*node);
                sim.partition(node.as_str(), BUS_HOST);
                self.begin(format!("partition {node} from the bus"));
                format!("partition {node} <-x-> {BUS_HOST}")
            }
            Fault::RepairBus { node } => {
                let node = self.node_host(*node);
                sim.repair(node.as_str(), BUS_HOST);
                let (dropped, _) = self.end(&format!("partition {node} from the bus"), false);
                format!("repair {node} <-x-> {BUS_HOST} ({dropped} segments were lost)")
            }
            Fault::BounceBus => {
                sim_stream::park_closes_during(|| sim.bounce(BUS_HOST));
                format!("bounce {BUS_HOST} (restarts with nothing stored)")
            }
        }
    }

    /// Cuts or repairs `client`'s links, in `direction`, to every node it
    /// connects to; returns those nodes, for the trace.
    fn set_client_links(
        &self,
        sim: &mut turmoil::Sim<'_>,
        client: &str,
        direction: Direction,
        link: Link,
    ) -> String {
        let (host, nodes) = (self.host(client), self.nodes_of(client));
        for node in &nodes {
            let (from, to) = match direction {
                Direction::FromServer => (node.as_str(), host.as_str()),
                Direction::Both | Direction::ToServer => (host.as_str(), node.as_str()),
            };
            match (link, direction) {
                (Link::Cut, Direction::Both) => sim.partition(from, to),
                (Link::Cut, _) => sim.partition_oneway(from, to),
                (Link::Repair, Direction::Both) => sim.repair(from, to),
                (Link::Repair, _) => sim.repair_oneway(from, to),
            }
        }
        nodes.join(", ")
    }

    /// `server`, or `every node` of a cluster.
    fn every_node(&self) -> &str {
        match self.node_hosts.as_slice() {
            [only] => only,
            _ => "every node",
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
    pub(crate) fn finish(mut self, now: Duration) -> Vec<String> {
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

/// What [`FaultRunner::set_client_links`] does to a link.
#[derive(Debug, Clone, Copy)]
enum Link {
    Cut,
    Repair,
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Both => "<-x->",
        Direction::ToServer => "-x->",
        Direction::FromServer => "<-x-",
    }
}
