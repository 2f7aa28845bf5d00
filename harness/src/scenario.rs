//! Scenarios are data: scripted clients plus a fault schedule in simulated
//! time. They are built in Rust and read from or written to JSON files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One complete, replayable experiment (with a seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub clients: Vec<ClientScript>,
    #[serde(default)]
    pub faults: Vec<ScheduledFault>,
    #[serde(default)]
    pub network: NetworkOptions,
    /// Simulated time after which the run stops, whatever is still pending.
    #[serde(default = "default_duration_ms")]
    pub duration_ms: u64,
    /// Server nodes: 1 is the host `server`; more are `node-1` … `node-N`,
    /// each running the app, with the simulated Redis bus on `bus` (see
    /// [`Simulation::cluster`](crate::Simulation::cluster)).
    #[serde(default = "one_node", skip_serializing_if = "is_one_node")]
    pub nodes: usize,
}

fn default_duration_ms() -> u64 {
    120_000
}

fn one_node() -> usize {
    1
}

fn is_one_node(nodes: &usize) -> bool {
    *nodes == 1
}

impl Scenario {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            clients: Vec::new(),
            faults: Vec::new(),
            network: NetworkOptions::default(),
            duration_ms: default_duration_ms(),
            nodes: one_node(),
        }
    }

    /// Runs `nodes` server nodes (see [`Scenario::nodes`]).
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    /// The node (1 … [`nodes`](Self::nodes)) each client connects to first:
    /// its own [`ClientScript::node`], or else the next in turn, as a
    /// round-robin load balancer with sticky sessions would place it. A
    /// client, a reconnect or a fault naming a node that does not exist is
    /// an error.
    pub fn node_of_clients(&self) -> Result<Vec<usize>, String> {
        let nodes = self.nodes.max(1);
        let exists = |node: usize| (1..=nodes).contains(&node);
        let missing = |what: String, node: usize| {
            let plural = if nodes == 1 { "" } else { "s" };
            format!("{what} names node {node}, but the scenario has {nodes} node{plural}")
        };
        if let Some((at_ms, node)) = self
            .faults
            .iter()
            .find_map(|f| f.fault.node().filter(|n| !exists(*n)).map(|n| (f.at_ms, n)))
        {
            return Err(missing(format!("the fault at {at_ms} ms"), node));
        }
        if let Some(bounce) = self.faults.iter().find(|f| f.fault == Fault::BounceBus)
            && nodes == 1
        {
            return Err(format!(
                "the fault at {} ms restarts the bus, but a scenario of 1 node has none",
                bounce.at_ms
            ));
        }
        if let Some((client, node)) = self
            .clients
            .iter()
            .find_map(|c| c.moves().find(|n| !exists(*n)).map(|n| (&c.name, n)))
        {
            return Err(missing(format!("a reconnect of client {client}"), node));
        }
        self.clients
            .iter()
            .enumerate()
            .map(|(index, client)| match client.node {
                None => Ok(index % nodes + 1),
                Some(node) if exists(node) => Ok(node),
                Some(node) => Err(missing(format!("client {}", client.name), node)),
            })
            .collect()
    }

    pub fn client(mut self, client: ClientScript) -> Self {
        self.clients.push(client);
        self
    }

    pub fn fault(mut self, at_ms: u64, fault: Fault) -> Self {
        self.faults.push(ScheduledFault { at_ms, fault });
        self
    }

    pub fn latency_ms(mut self, min: u64, max: u64) -> Self {
        self.network.latency_ms_min = min;
        self.network.latency_ms_max = max;
        self
    }

    pub fn duration_ms(mut self, duration_ms: u64) -> Self {
        self.duration_ms = duration_ms;
        self
    }

    /// Clients that a fault targets by name: each gets a simulated host of its
    /// own, so that the fault hits it alone.
    pub fn isolated_clients(&self) -> std::collections::BTreeSet<&str> {
        self.faults
            .iter()
            .filter_map(|f| f.fault.client())
            .collect()
    }

    /// Reads a scenario from its JSON form.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serialises")
    }
}

/// Link settings the run starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkOptions {
    pub latency_ms_min: u64,
    pub latency_ms_max: u64,
    /// turmoil's per-message chance that a link breaks (a random partition).
    pub fail_rate: f64,
    /// turmoil's per-message chance that a broken link heals.
    pub repair_rate: f64,
    /// Poll hosts in a seeded random order each tick (turmoil's schedule shuffling).
    pub random_host_order: bool,
    /// Logical clients sharing one simulated host (turmoil's cost is cubic in hosts).
    pub clients_per_host: usize,
    /// How simulated time moves forward.
    #[serde(skip_serializing_if = "Stepping::is_default")]
    pub stepping: Stepping,
}

/// How the simulation moves time forward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stepping {
    /// turmoil's own: every host, every 1 ms tick, busy or not.
    EveryTick,
    /// Across a stretch in which no message is in flight and no timer, fault
    /// or deadline is due, in one step. Skips only in a build with the
    /// harness's `skip-idle` feature and `--cfg tokio_unstable` (the hosts'
    /// timers are read from tokio's traces); otherwise it steps every tick.
    /// The hosts see the same instants as with [`Stepping::EveryTick`], but
    /// tasks that become ready at one instant may run in another order, so a
    /// seed's run can differ between the two modes; each is deterministic.
    #[default]
    SkipIdle,
}

impl Stepping {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for NetworkOptions {
    fn default() -> Self {
        Self {
            latency_ms_min: 0,
            latency_ms_max: 20,
            fail_rate: 0.0,
            repair_rate: 0.0,
            random_host_order: false,
            clients_per_host: 250,
            stepping: Stepping::default(),
        }
    }
}

/// A named logical client and what it does, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientScript {
    pub name: String,
    /// The node it connects to first (1 … [`Scenario::nodes`]); by default
    /// the next in turn (see [`Scenario::node_of_clients`]). A
    /// [`Step::Connect`] naming a node moves it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<usize>,
    pub steps: Vec<Step>,
}

impl ClientScript {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            node: None,
            steps: Vec::new(),
        }
    }

    /// Connects to node `node` (1 … [`Scenario::nodes`]).
    pub fn on_node(mut self, node: usize) -> Self {
        self.node = Some(node);
        self
    }

    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    pub fn connect(self, transport: Transport) -> Self {
        self.connect_on(transport, None)
    }

    /// Connects to node `node`, where this session and the later ones land
    /// (a reconnect that the load balancer sends elsewhere).
    pub fn connect_to_node(self, transport: Transport, node: usize) -> Self {
        self.connect_on(transport, Some(node))
    }

    fn connect_on(self, transport: Transport, node: Option<usize>) -> Self {
        self.step(Step::Connect {
            transport,
            namespace: "/".into(),
            auth: None,
            node,
        })
    }

    /// The nodes a [`Step::Connect`] sends this client to, in script order.
    pub fn moves(&self) -> impl Iterator<Item = usize> + '_ {
        self.steps.iter().filter_map(|step| match step {
            Step::Connect { node, .. } => *node,
            _ => None,
        })
    }

    pub fn emit(self, event: &str, args: Vec<Value>) -> Self {
        self.step(Step::Emit {
            event: event.into(),
            args,
            ack: false,
        })
    }

    pub fn emit_with_ack(self, event: &str, args: Vec<Value>) -> Self {
        self.step(Step::Emit {
            event: event.into(),
            args,
            ack: true,
        })
    }

    pub fn expect_event(self, event: &str, args: Option<Vec<Value>>, within_ms: u64) -> Self {
        self.step(Step::ExpectEvent {
            event: event.into(),
            args,
            within_ms,
        })
    }

    pub fn expect_ack(self, args: Option<Vec<Value>>, within_ms: u64) -> Self {
        self.step(Step::ExpectAck { args, within_ms })
    }

    /// Emits `event` asking for an ack, then waits up to `within_ms` for
    /// the ack, whatever it carries (a request such as joining a room).
    pub fn request(self, event: &str, args: Vec<Value>, within_ms: u64) -> Self {
        self.emit_with_ack(event, args).expect_ack(None, within_ms)
    }

    pub fn expect_no_event(self, event: &str, for_ms: u64) -> Self {
        self.step(Step::ExpectNoEvent {
            event: event.into(),
            for_ms,
        })
    }

    pub fn wait_ms(self, ms: u64) -> Self {
        self.step(Step::Wait { ms })
    }

    pub fn disconnect(self) -> Self {
        self.step(Step::Disconnect)
    }

    /// Waits up to `within_ms` for the server (or this client's heartbeat
    /// watchdog) to end the session.
    pub fn expect_disconnect(self, within_ms: u64) -> Self {
        self.step(Step::ExpectDisconnect { within_ms })
    }
}

/// How a session reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Websocket,
    Polling,
    /// Handshake over long-polling, then upgrade to WebSocket.
    Upgrade,
}

impl Transport {
    pub const ALL: [Transport; 3] = [Transport::Websocket, Transport::Polling, Transport::Upgrade];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Websocket => "websocket",
            Transport::Polling => "polling",
            Transport::Upgrade => "upgrade",
        }
    }
}

/// One thing a client does. Every wait has a simulated-time bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step", deny_unknown_fields)]
pub enum Step {
    /// Opens a new session (a reconnect, if one was open before) and joins
    /// `namespace`, waiting for the server's CONNECT.
    Connect {
        transport: Transport,
        #[serde(default = "root_namespace")]
        namespace: String,
        #[serde(default)]
        auth: Option<Value>,
        /// The node (1 … [`Scenario::nodes`]) this session and the later
        /// ones connect to; by default the one the client is on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<usize>,
    },
    Emit {
        event: String,
        #[serde(default)]
        args: Vec<Value>,
        #[serde(default)]
        ack: bool,
    },
    /// Waits for (and consumes) the first unconsumed `event`, whose arguments
    /// equal `args` when given.
    ExpectEvent {
        event: String,
        #[serde(default)]
        args: Option<Vec<Value>>,
        within_ms: u64,
    },
    /// Waits for the ack of this client's latest emit that asked for one.
    ExpectAck {
        #[serde(default)]
        args: Option<Vec<Value>>,
        within_ms: u64,
    },
    /// Fails if `event` is (or arrives) in the inbox during the next `for_ms`.
    ExpectNoEvent {
        event: String,
        for_ms: u64,
    },
    /// Waits until the server ends the session (or the client's watchdog does).
    ExpectDisconnect {
        within_ms: u64,
    },
    Wait {
        ms: u64,
    },
    /// Sends a raw Engine.IO text packet, as is (for protocol tests).
    SendRaw {
        text: String,
    },
    /// Leaves the namespace and closes the Engine.IO session cleanly.
    Disconnect,
    /// Drops the transport with no close packet, as a crashed client would.
    Drop,
    /// Keeps the session but stops answering the server's pings.
    StopAnsweringPings,
    /// Keeps the session but stops reading it, as a hung client would: what
    /// the server sends backs up, and no ping is answered.
    StopReading,
    /// Waits for the server to end the session: at most the ping interval
    /// plus the ping timeout its handshake announced, plus `grace_ms`. A
    /// client that stopped reading reads again halfway through the grace,
    /// so that it can see the close (a close seen then happened before).
    /// Never fails by itself: the heartbeat invariant judges whether the
    /// server dropped a silent client in time.
    AwaitDrop {
        grace_ms: u64,
    },
    /// An HTTP request to the server, from this client's host.
    Http {
        method: String,
        path: String,
        #[serde(default)]
        body: Option<Value>,
        #[serde(default)]
        expect_status: Option<u16>,
    },
}

fn root_namespace() -> String {
    "/".into()
}

/// A fault and when it strikes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub at_ms: u64,
    pub fault: Fault,
}

/// Which way a partition cuts a client's link to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Both,
    ToServer,
    FromServer,
}

/// What can go wrong, mapped one to one onto turmoil's `Sim`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fault", deny_unknown_fields)]
pub enum Fault {
    /// New upper bound on every link's latency (the lower bound stays).
    Latency {
        max_ms: u64,
    },
    /// Messages between the client and the server wait until released.
    Hold {
        client: String,
    },
    Release {
        client: String,
    },
    /// Messages between the client and the server are lost. turmoil's TCP
    /// never retransmits, so a lost segment wedges that direction for good.
    Partition {
        client: String,
        direction: Direction,
    },
    Repair {
        client: String,
        direction: Direction,
    },
    /// Random link breakage on every link (see [`NetworkOptions::fail_rate`]).
    FailRate {
        rate: f64,
    },
    /// The server host stops (in a cluster, every node); its connections die
    /// without disconnect handlers.
    Crash,
    /// The server host restarts with fresh state (in a cluster, every node).
    Bounce,
    /// One node of a cluster stops (see [`Fault::Crash`]).
    CrashNode {
        node: usize,
    },
    /// One node of a cluster restarts with fresh state.
    BounceNode {
        node: usize,
    },
    /// Cuts a node off the bus both ways: what it publishes and what is
    /// published to it are lost until [`Fault::RepairBus`].
    PartitionBus {
        node: usize,
    },
    /// Heals a [`Fault::PartitionBus`].
    RepairBus {
        node: usize,
    },
    /// The cluster's bus restarts, as a Redis without persistence does:
    /// every node's connections to it break, and its subscriptions and keys
    /// are gone.
    BounceBus,
}

impl Fault {
    /// Holds `client`'s messages to and from the server until [`Fault::release`].
    pub fn hold(client: impl Into<String>) -> Self {
        Fault::Hold {
            client: client.into(),
        }
    }

    /// Delivers what [`Fault::hold`] held, and lets messages flow again.
    pub fn release(client: impl Into<String>) -> Self {
        Fault::Release {
            client: client.into(),
        }
    }

    /// Cuts `client`'s link to the server both ways until [`Fault::repair`].
    pub fn partition(client: impl Into<String>) -> Self {
        Fault::Partition {
            client: client.into(),
            direction: Direction::Both,
        }
    }

    /// Heals what [`Fault::partition`] cut.
    pub fn repair(client: impl Into<String>) -> Self {
        Fault::Repair {
            client: client.into(),
            direction: Direction::Both,
        }
    }

    /// The node a fault strikes by number, if it names one.
    pub fn node(&self) -> Option<usize> {
        match self {
            Fault::CrashNode { node }
            | Fault::BounceNode { node }
            | Fault::PartitionBus { node }
            | Fault::RepairBus { node } => Some(*node),
            _ => None,
        }
    }

    /// The client this fault targets alone, if any.
    pub fn client(&self) -> Option<&str> {
        match self {
            Fault::Hold { client }
            | Fault::Release { client }
            | Fault::Partition { client, .. }
            | Fault::Repair { client, .. } => Some(client),
            Fault::Latency { .. }
            | Fault::FailRate { .. }
            | Fault::Crash
            | Fault::Bounce
            | Fault::CrashNode { .. }
            | Fault::BounceNode { .. }
            | Fault::PartitionBus { .. }
            | Fault::RepairBus { .. }
            | Fault::BounceBus => None,
        }
    }
}
