//! The `faults::*` scenarios: a few scripted clients of the seed app, a few
//! seconds of traffic, and the faults that strike it. Times are simulated
//! milliseconds. Nothing here hard-codes the server's timings: holds and
//! latencies stay small against its ping timeout (so a held pong is late but
//! never too late), and waits for a heartbeat to expire are its own ping
//! interval plus ping timeout, read from a handshake ([`Timing::of`]).

use crate::reference::ROOM_ANSWER_MS;
use serde_json::{Value, json};
use siosim_harness::{ClientScript, Direction, Fault, Scenario, Step, Transport};

use crate::case::CaseError;
use crate::probe::Probe;

pub(super) const GET_COUNT: &str = "get count";
pub(super) const INCREASE_COUNT: &str = "increase count";
pub(super) const CHAT_MESSAGE: &str = "chat message";
pub(super) const ROOM_MESSAGE: &str = "room message";

/// With hosts polled in a random order, a client's first tick may come
/// before the server host has bound its port (the connection is refused):
/// every client first lets the server start.
const SERVER_START_MS: u64 = 10;
/// Long enough, after a client's own connect, for every client of a
/// scenario to have connected (a few round trips at the raised latency).
const EVERYONE_CONNECTED_MS: u64 = 1_000;
/// The gap between a client's bursts: steady traffic, so that a short hold
/// always catches some of it.
const PACE_MS: u64 = 50;
/// Bursts of the busy room, each two chat messages and two increments.
const BURSTS: u64 = 8;
/// The busy room's clients.
const BUSY_CLIENTS: [(&str, Transport); 3] = [
    ("alice", Transport::Websocket),
    ("bob", Transport::Polling),
    ("carol", Transport::Upgrade),
];
/// Increments each counting client sends in the partition scenario.
const INCREMENTS: u64 = 3;
/// The links' latency bound at the start, and the one a `Latency` fault
/// raises it to, at most (less against a short ping timeout).
const LATENCY_MS_MAX: u64 = 40;
const RAISED_LATENCY_MS_MAX: u64 = 80;
/// The longest a link is held (less against a short ping timeout).
const HOLD_MS_MAX: u64 = 600;
/// How long after a client sent something the server has surely received
/// it, held or not: how long a finished client lingers so that the server
/// gets to log its departure.
const SETTLE_MS: u64 = 1_000;
const _: () = assert!(SETTLE_MS > HOLD_MS_MAX + 2 * RAISED_LATENCY_MS_MAX);

/// The time base of a scenario: the probe's bound on each wait and the
/// server's own heartbeat.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    /// How long each scripted expectation may wait.
    pub prompt_ms: u64,
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
}

impl Timing {
    /// Reads the server's timings from a handshake on the case's own server.
    /// NOT APPLICABLE over TCP, before any request: faults need the
    /// simulated network.
    pub async fn of(probe: &Probe) -> Result<Self, CaseError> {
        probe.require_simulation("faults are injected into the simulated network")?;
        let handshake = probe.polling_handshake().await?;
        Ok(Self {
            prompt_ms: u64::try_from(probe.timeout().as_millis()).unwrap_or(u64::MAX),
            ping_interval_ms: handshake.ping_interval_ms,
            ping_timeout_ms: handshake.ping_timeout_ms,
        })
    }

    /// How long a silent or cut-off client lasts: ping interval + timeout.
    pub fn heartbeat_ms(&self) -> u64 {
        self.ping_interval_ms + self.ping_timeout_ms
    }

    /// The links' latency bound at the start.
    fn latency_max_ms(&self) -> u64 {
        (self.ping_timeout_ms / 8).clamp(1, LATENCY_MS_MAX)
    }

    /// The bound a `Latency` fault raises it to mid-run.
    fn raised_latency_ms(&self) -> u64 {
        (self.ping_timeout_ms / 4).clamp(1, RAISED_LATENCY_MS_MAX)
    }

    /// How long a link is held: with a round trip at the raised latency, a
    /// held pong still beats the ping timeout.
    fn hold_ms(&self) -> u64 {
        (self.ping_timeout_ms / 4).clamp(1, HOLD_MS_MAX)
    }
}

/// A client of these scenarios: it starts once the server is listening.
fn client(name: &str) -> ClientScript {
    ClientScript::new(name).wait_ms(SERVER_START_MS)
}

/// `script` emits `event`. A long-polling client sends each packet in a
/// POST of its own and answers pings only between them, so it waits for
/// each ack: its pongs never queue behind a burst (which, against a short
/// ping timeout, would get it timed out for the harness's sake).
fn emits(
    script: ClientScript,
    transport: Transport,
    timing: &Timing,
    event: &str,
    args: Vec<Value>,
) -> ClientScript {
    match transport {
        Transport::Polling => script
            .emit_with_ack(event, args)
            .expect_ack(None, timing.prompt_ms),
        Transport::Websocket | Transport::Upgrade => script.emit(event, args),
    }
}

/// `text` as the one argument of an event.
pub(super) fn arg(text: impl Into<String>) -> Vec<Value> {
    vec![Value::String(text.into())]
}

/// The common network: random latency, hosts polled in a seeded random order.
fn faulty_network(name: &str, timing: &Timing) -> Scenario {
    let mut scenario = Scenario::new(name).latency_ms(0, timing.latency_max_ms());
    scenario.network.random_host_order = true;
    scenario
}

/// Holds `client`'s link from `at_ms` for [`Timing::hold_ms`], then releases it.
fn held(scenario: Scenario, client: &str, at_ms: u64, timing: &Timing) -> Scenario {
    let client = client.to_owned();
    scenario
        .fault(
            at_ms,
            Fault::Hold {
                client: client.clone(),
            },
        )
        .fault(at_ms + timing.hold_ms(), Fault::Release { client })
}

fn raised_latency(scenario: Scenario, at_ms: u64, timing: &Timing) -> Scenario {
    let max_ms = timing.raised_latency_ms();
    scenario.fault(at_ms, Fault::Latency { max_ms })
}

fn partitioned(scenario: Scenario, client: &str, at_ms: u64, direction: Direction) -> Scenario {
    let client = client.to_owned();
    scenario.fault(at_ms, Fault::Partition { client, direction })
}

/// The busy room's final count: every increment of every client.
pub(super) fn busy_room_final_count() -> u64 {
    2 * BURSTS * BUSY_CLIENTS.len() as u64
}

/// Three clients (WebSocket, long-polling, polling upgraded to WebSocket)
/// each send numbered chat messages (`"alice 1"`…) and increments in bursts
/// of two, back to back, every [`PACE_MS`]; the latency rises, and alice's
/// link is held then released mid-traffic. Everyone waits for the final
/// count and every sender's last message.
///
/// Holds strike WebSocket clients: a long-polling link carries at most the
/// one response and the one POST already in flight when the hold begins,
/// which turmoil holds without counting them as evidence.
pub(super) fn busy_room(timing: &Timing) -> Scenario {
    let prompt = timing.prompt_ms;
    let final_count = busy_room_final_count();
    let mut scenario = faulty_network("faults-busy-room", timing);
    for (name, transport) in BUSY_CLIENTS {
        let mut script = client(name)
            .connect(transport)
            .expect_event(GET_COUNT, None, prompt)
            .wait_ms(EVERYONE_CONNECTED_MS);
        for burst in 1..=BURSTS {
            for n in [2 * burst - 1, 2 * burst] {
                script = emits(
                    script,
                    transport,
                    timing,
                    CHAT_MESSAGE,
                    arg(format!("{name} {n}")),
                );
                script = emits(script, transport, timing, INCREASE_COUNT, vec![]);
            }
            script = script.wait_ms(PACE_MS);
        }
        script = script.expect_event(GET_COUNT, Some(vec![json!(final_count)]), prompt);
        for (sender, _) in BUSY_CLIENTS {
            let last = arg(format!("{sender} {}", 2 * BURSTS));
            script = script.expect_event(CHAT_MESSAGE, Some(last), prompt);
        }
        scenario = scenario.client(script.disconnect());
    }
    let scenario = raised_latency(scenario, EVERYONE_CONNECTED_MS + 200, timing);
    held(scenario, "alice", EVERYONE_CONNECTED_MS + 300, timing).duration_ms(4_000 + 6 * prompt)
}

/// alice (WebSocket) and dave (long-polling) leave the namespace with a bare
/// DISCONNECT but keep their Engine.IO sessions open, listening, while bob
/// chats every [`PACE_MS`] around their departure; alice's link is held as
/// she leaves.
pub(super) fn leaving_under_traffic(timing: &Timing) -> Scenario {
    const CHATS: u64 = 40;
    let prompt = timing.prompt_ms;
    let leaver = |name: &str, transport| {
        client(name)
            .connect(transport)
            .expect_event(GET_COUNT, None, prompt)
            .wait_ms(EVERYONE_CONNECTED_MS)
            .step(Step::SendRaw { text: "41".into() })
            .wait_ms(3_000)
            .step(Step::Drop)
    };
    let mut bob = client("bob")
        .connect(Transport::Upgrade)
        .expect_event(GET_COUNT, None, prompt)
        .wait_ms(EVERYONE_CONNECTED_MS / 2);
    for n in 1..=CHATS {
        bob = bob
            .emit(CHAT_MESSAGE, arg(format!("bob {n}")))
            .wait_ms(PACE_MS);
    }
    let bob = bob
        .expect_event(CHAT_MESSAGE, Some(arg(format!("bob {CHATS}"))), prompt)
        .disconnect();
    let scenario = faulty_network("faults-leaving-under-traffic", timing)
        .client(leaver("alice", Transport::Websocket))
        .client(leaver("dave", Transport::Polling))
        .client(bob);
    let scenario = held(scenario, "alice", EVERYONE_CONNECTED_MS - 100, timing);
    raised_latency(scenario, EVERYONE_CONNECTED_MS + 500, timing).duration_ms(7_000 + 4 * prompt)
}

/// carol's pongs are lost (a one-way partition towards the server) while the
/// server can still reach her; bob chats every second around the moment the
/// server's heartbeat gives up on her.
pub(super) fn silenced(timing: &Timing) -> Scenario {
    const CHATS: u64 = 6;
    let prompt = timing.prompt_ms;
    let heartbeat = timing.heartbeat_ms();
    let carol = client("carol")
        .connect(Transport::Websocket)
        .expect_event(GET_COUNT, None, prompt)
        .step(expect_disconnect(heartbeat + prompt));
    let mut bob = client("bob")
        .connect(Transport::Websocket)
        .expect_event(GET_COUNT, None, prompt)
        .wait_ms(heartbeat.saturating_sub(CHATS * 500));
    for n in 1..=CHATS {
        bob = bob
            .emit(CHAT_MESSAGE, arg(format!("bob {n}")))
            .wait_ms(1_000);
    }
    let bob = bob
        .expect_event(CHAT_MESSAGE, Some(arg(format!("bob {CHATS}"))), prompt)
        .disconnect();
    let scenario = faulty_network("faults-silenced", timing)
        .client(carol)
        .client(bob);
    partitioned(scenario, "carol", 500, Direction::ToServer)
        .duration_ms(heartbeat + 10_000 + 4 * prompt)
}

/// alice, bob and dave in `lobby`, carol in `attic`. alice posts to the
/// lobby every [`PACE_MS`], then once more much later; dave leaves between
/// the two; carol posts to her room and, not being a member, tries the
/// lobby. alice is held as she posts.
pub(super) fn rooms_under_latency(timing: &Timing) -> Scenario {
    const POSTS: u64 = 10;
    let prompt = timing.prompt_ms;
    let post = |room: &str, msg: &str| vec![json!({"room": room, "msg": msg})];
    let last = format!("alice {}", POSTS + 1);
    let mut alice = client("alice")
        .connect(Transport::Websocket)
        .request("join", vec![json!("lobby")], ROOM_ANSWER_MS)
        .wait_ms(EVERYONE_CONNECTED_MS);
    for n in 1..=POSTS {
        alice = alice
            .emit(ROOM_MESSAGE, post("lobby", &format!("alice {n}")))
            .wait_ms(PACE_MS);
    }
    let alice = alice
        .expect_event(
            ROOM_MESSAGE,
            Some(post("lobby", &format!("alice {POSTS}"))),
            prompt,
        )
        .wait_ms(1_500)
        .emit(ROOM_MESSAGE, post("lobby", &last))
        .expect_event(ROOM_MESSAGE, Some(post("lobby", &last)), prompt)
        .disconnect();
    let bob = client("bob")
        .connect(Transport::Polling)
        .request("join", vec![json!("lobby")], ROOM_ANSWER_MS)
        .expect_event(ROOM_MESSAGE, Some(post("lobby", &last)), prompt)
        .disconnect();
    let carol = client("carol")
        .connect(Transport::Upgrade)
        .request("join", vec![json!("attic")], ROOM_ANSWER_MS)
        .wait_ms(EVERYONE_CONNECTED_MS)
        .emit(ROOM_MESSAGE, post("attic", "carol 1"))
        .emit(ROOM_MESSAGE, post("lobby", "carol sneaks in"))
        .emit(ROOM_MESSAGE, post("attic", "carol 2"))
        .expect_event(ROOM_MESSAGE, Some(post("attic", "carol 2")), prompt)
        .wait_ms(2_000)
        .disconnect();
    let dave = client("dave")
        .connect(Transport::Websocket)
        .request("join", vec![json!("lobby")], ROOM_ANSWER_MS)
        .expect_event(ROOM_MESSAGE, Some(post("lobby", "alice 3")), prompt)
        .request("leave", vec![json!("lobby")], ROOM_ANSWER_MS)
        .wait_ms(3_000)
        .disconnect();
    let scenario = faulty_network("faults-rooms-under-latency", timing)
        .client(alice)
        .client(bob)
        .client(carol)
        .client(dave);
    let scenario = raised_latency(scenario, EVERYONE_CONNECTED_MS, timing);
    held(scenario, "alice", EVERYONE_CONNECTED_MS + 300, timing).duration_ms(7_000 + 6 * prompt)
}

/// When alice's partition begins and ends in [`partition_heals`].
const PARTITION_MS: (u64, u64) = (EVERYONE_CONNECTED_MS / 2, EVERYONE_CONNECTED_MS * 3);

/// alice is cut off while bob and carol count; her session dies of the
/// wedged link (turmoil's TCP never resends), and once the link is back she
/// reconnects and must start from the final count.
pub(super) fn partition_heals(timing: &Timing) -> Scenario {
    let prompt = timing.prompt_ms;
    let final_count = 2 * INCREMENTS;
    let counter = |name: &str, transport| {
        let mut script = client(name)
            .connect(transport)
            .expect_event(GET_COUNT, Some(vec![json!(0)]), prompt)
            .wait_ms(EVERYONE_CONNECTED_MS);
        for _ in 0..INCREMENTS {
            script = emits(script, transport, timing, INCREASE_COUNT, vec![]);
        }
        script
            .expect_event(GET_COUNT, Some(vec![json!(final_count)]), prompt)
            .disconnect()
    };
    let (cut_at, repaired_at) = PARTITION_MS;
    let alice = client("alice")
        .connect(Transport::Websocket)
        .expect_event(GET_COUNT, Some(vec![json!(0)]), prompt)
        .step(expect_disconnect(timing.heartbeat_ms() + prompt))
        // Alive at the cut, so dead no earlier: this is after the repair.
        .wait_ms(repaired_at - cut_at)
        .connect(Transport::Websocket)
        .expect_event(GET_COUNT, None, prompt)
        .disconnect();
    let scenario = faulty_network("faults-partition-heals", timing)
        .client(alice)
        .client(counter("bob", Transport::Polling))
        .client(counter("carol", Transport::Upgrade));
    partitioned(scenario, "alice", cut_at, Direction::Both)
        .fault(
            repaired_at,
            Fault::Repair {
                client: "alice".into(),
                direction: Direction::Both,
            },
        )
        .duration_ms(timing.heartbeat_ms() + 10_000 + 6 * prompt)
}

/// How alice's session ends in a disconnect-reason scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaving {
    /// DISCONNECT, then an Engine.IO close.
    NamespaceDisconnect,
    /// A bare Engine.IO close packet, no DISCONNECT.
    EngineClose,
    /// The transport dropped without a word.
    Drop,
    /// The session kept open, pings unanswered.
    Silence,
    /// The link cut both ways, for good.
    Partition,
    /// A packet that is not Socket.IO.
    MalformedPacket,
}

/// alice alone on a WebSocket, leaving as `leaving` says once she has her
/// first count, then lingering so that the server logs her departure.
pub(super) fn lone_client(leaving: Leaving, timing: &Timing) -> Scenario {
    let prompt = timing.prompt_ms;
    let until_timed_out = expect_disconnect(timing.heartbeat_ms() + prompt);
    let steps = match leaving {
        Leaving::NamespaceDisconnect => vec![Step::Disconnect],
        Leaving::EngineClose => vec![
            Step::SendRaw { text: "1".into() },
            expect_disconnect(prompt),
        ],
        Leaving::Drop => vec![Step::Drop],
        Leaving::Silence => vec![Step::StopAnsweringPings, until_timed_out],
        Leaving::Partition => vec![until_timed_out],
        Leaving::MalformedPacket => vec![
            Step::SendRaw {
                text: "4this is not a socket.io packet".into(),
            },
            expect_disconnect(prompt),
        ],
    };
    let mut alice = client("alice")
        .connect(Transport::Websocket)
        .expect_event(GET_COUNT, None, prompt);
    alice.steps.extend(steps);
    let scenario = faulty_network(&format!("faults-reason-{leaving:?}"), timing)
        .client(alice.wait_ms(SETTLE_MS))
        .duration_ms(timing.heartbeat_ms() + SETTLE_MS + 4 * prompt);
    match leaving {
        // The server's next ping is lost: the fault fires, and stays.
        Leaving::Partition => partitioned(scenario, "alice", 500, Direction::Both),
        _ => scenario,
    }
}

fn expect_disconnect(within_ms: u64) -> Step {
    Step::ExpectDisconnect { within_ms }
}
