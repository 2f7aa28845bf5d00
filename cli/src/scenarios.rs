//! The built-in scenarios: the seed app's contract, played by scripted
//! clients in simulation. `siosim run <name>` prints one's trace; the
//! snapshot tests lock each down over every transport.

use serde_json::json;
use siosim_conformance::reference::ROOM_ANSWER_MS;
use siosim_harness::{ClientScript, Direction, Fault, Scenario, Step, Transport};

/// Which transports a scenario's clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportMix {
    /// Clients take WebSocket, polling and the upgrade in turn.
    Mixed,
    Websocket,
    Polling,
    Upgrade,
}

impl TransportMix {
    pub const ALL: [TransportMix; 4] = [
        TransportMix::Mixed,
        TransportMix::Websocket,
        TransportMix::Polling,
        TransportMix::Upgrade,
    ];

    /// The transport of the `index`-th client.
    fn for_client(self, index: usize) -> Transport {
        match self {
            TransportMix::Mixed => Transport::ALL[index % Transport::ALL.len()],
            TransportMix::Websocket => Transport::Websocket,
            TransportMix::Polling => Transport::Polling,
            TransportMix::Upgrade => Transport::Upgrade,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TransportMix::Mixed => "mixed",
            TransportMix::Websocket => "websocket",
            TransportMix::Polling => "polling",
            TransportMix::Upgrade => "upgrade",
        }
    }
}

/// A built-in scenario: its name, what it shows, and how to build it.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    pub name: &'static str,
    pub about: &'static str,
    pub build: fn(TransportMix) -> Scenario,
}

pub const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "counter",
        about: "the initial count goes to the newcomer only; increments reach everyone, in order",
        build: counter,
    },
    BuiltIn {
        name: "chat",
        about: "chat message reaches the sender, chat broadcast does not; rooms keep their messages",
        build: chat,
    },
    BuiltIn {
        name: "disconnect",
        about: "clean leave, server-side close, abrupt drop, ping timeout, partition then heal, server bounce then reconnect",
        build: disconnect,
    },
    BuiltIn {
        name: "things",
        about: "REST creates and deletes are pushed to every socket; bad requests change nothing",
        build: things,
    },
];

pub fn find(name: &str) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|b| b.name == name)
}

/// How long any expected event may take, in simulated milliseconds.
const PROMPT_MS: u64 = 2_000;
/// How long a "nothing arrives" window lasts.
const QUIET_MS: u64 = 500;

fn get_count(n: u64) -> Option<Vec<serde_json::Value>> {
    Some(vec![json!(n)])
}

/// Three clients arrive one after another; each increment reaches everyone.
pub fn counter(mix: TransportMix) -> Scenario {
    let alice = ClientScript::new("alice")
        .connect(mix.for_client(0))
        .expect_event("get count", get_count(0), PROMPT_MS)
        // bob connects meanwhile: his initial count is his alone.
        .expect_no_event("get count", 1_000)
        .emit("increase count", vec![])
        .expect_event("get count", get_count(1), PROMPT_MS)
        .expect_event("get count", get_count(2), 4_000)
        .disconnect();
    let bob = ClientScript::new("bob")
        .wait_ms(300)
        .connect(mix.for_client(1))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .expect_event("get count", get_count(1), 4_000)
        .expect_event("get count", get_count(2), 4_000)
        .disconnect();
    let carol = ClientScript::new("carol")
        .wait_ms(2_000)
        .connect(mix.for_client(2))
        .expect_event("get count", get_count(1), PROMPT_MS)
        .emit_with_ack("increase count", vec![])
        .expect_event("get count", get_count(2), PROMPT_MS)
        .disconnect();
    Scenario::new("counter")
        .client(alice)
        .client(bob)
        .client(carol)
        .duration_ms(20_000)
}

/// io.emit versus broadcast, and room isolation.
pub fn chat(mix: TransportMix) -> Scenario {
    let hello = json!("hello from alice");
    let psst = json!("psst from bob");
    let lobby_post = json!({"room": "lobby", "msg": "hi lobby"});
    let alice = ClientScript::new("alice")
        .connect(mix.for_client(0))
        .request("join", vec![json!("lobby")], ROOM_ANSWER_MS)
        .wait_ms(1_000)
        .emit("chat message", vec![hello.clone()])
        .expect_event("chat message", Some(vec![hello.clone()]), PROMPT_MS)
        .expect_event("chat broadcast", Some(vec![psst.clone()]), 4_000)
        .emit_with_ack("room message", vec![lobby_post.clone()])
        .expect_ack(Some(vec![json!({"ok": true})]), PROMPT_MS)
        .expect_event("room message", Some(vec![lobby_post.clone()]), PROMPT_MS)
        .wait_ms(1_000)
        .disconnect();
    let bob = ClientScript::new("bob")
        .wait_ms(200)
        .connect(mix.for_client(1))
        .request("join", vec![json!("lobby")], ROOM_ANSWER_MS)
        .expect_event("chat message", Some(vec![hello.clone()]), 4_000)
        .emit("chat broadcast", vec![psst.clone()])
        // The sender of a broadcast is the one socket it skips.
        .expect_no_event("chat broadcast", QUIET_MS)
        .expect_event("room message", Some(vec![lobby_post.clone()]), 4_000)
        .wait_ms(1_000)
        .disconnect();
    let carol = ClientScript::new("carol")
        .wait_ms(400)
        .connect(mix.for_client(2))
        .expect_event("chat message", Some(vec![hello]), 4_000)
        .expect_event("chat broadcast", Some(vec![psst]), 4_000)
        // Not a member of the lobby: its messages never reach her...
        .expect_no_event("room message", 2_000)
        // ...and she may not post into it.
        .emit_with_ack(
            "room message",
            vec![json!({"room": "lobby", "msg": "let me in"})],
        )
        .expect_ack(
            Some(vec![json!({"error": "not a member of room \"lobby\""})]),
            PROMPT_MS,
        )
        .disconnect();
    Scenario::new("chat")
        .client(alice)
        .client(bob)
        .client(carol)
        .duration_ms(20_000)
}

/// Every way a session ends, one client each, then a server bounce.
pub fn disconnect(mix: TransportMix) -> Scenario {
    // Leaves cleanly: the server logs a client-side namespace disconnect.
    let alice = ClientScript::new("alice")
        .connect(mix.for_client(0))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .wait_ms(500)
        .disconnect();
    // Sends a packet that is not Socket.IO: the server must end the session.
    let bob = ClientScript::new("bob")
        .connect(mix.for_client(1))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .step(Step::SendRaw {
            text: "4this is not a socket.io packet".into(),
        })
        .step(Step::ExpectDisconnect {
            within_ms: PROMPT_MS,
        });
    // Vanishes without a word: WebSocket notices at once, polling at the ping timeout.
    let dave = ClientScript::new("dave")
        .connect(mix.for_client(2))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .step(Step::Drop);
    // Goes silent: the server's heartbeat ends the session.
    let erin = ClientScript::new("erin")
        .connect(mix.for_client(3))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .step(Step::StopAnsweringPings)
        .step(Step::ExpectDisconnect { within_ms: 60_000 });
    // Loses what it says during a partition (turmoil's TCP never resends, so
    // the link stays wedged after the repair), is timed out, and comes back.
    let carol = ClientScript::new("carol")
        .connect(mix.for_client(4))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .wait_ms(2_000)
        .emit("chat message", vec![json!("into the void")])
        .step(Step::ExpectDisconnect { within_ms: 60_000 })
        .connect(mix.for_client(4))
        // frank's increment happened while she was away.
        .expect_event("get count", get_count(1), PROMPT_MS)
        .disconnect();
    // Connected throughout; the bounce cuts it off and it reconnects to a
    // fresh server.
    let frank = ClientScript::new("frank")
        .connect(mix.for_client(5))
        .expect_event("get count", get_count(0), PROMPT_MS)
        // Once everyone has had their initial count.
        .wait_ms(500)
        .emit("increase count", vec![])
        .expect_event("get count", get_count(1), PROMPT_MS)
        .step(Step::ExpectDisconnect { within_ms: 90_000 })
        .connect(mix.for_client(5))
        .expect_event("get count", get_count(0), PROMPT_MS)
        .disconnect();
    Scenario::new("disconnect")
        .client(alice)
        .client(bob)
        .client(dave)
        .client(erin)
        .client(carol)
        .client(frank)
        .fault(
            1_500,
            Fault::Partition {
                client: "carol".into(),
                direction: Direction::Both,
            },
        )
        .fault(
            3_000,
            Fault::Repair {
                client: "carol".into(),
                direction: Direction::Both,
            },
        )
        .fault(70_000, Fault::Bounce)
        .duration_ms(90_000)
}

/// The realtime REST resource, pushed to every socket.
pub fn things(mix: TransportMix) -> Scenario {
    let apple = json!({"name": "apple", "info": "red"});
    let http =
        |method: &str, path: &str, body: Option<serde_json::Value>, status: u16| Step::Http {
            method: method.into(),
            path: path.into(),
            body,
            expect_status: Some(status),
        };
    let alice = ClientScript::new("alice")
        .connect(mix.for_client(0))
        .wait_ms(500)
        .step(http("POST", "/api/things", Some(apple.clone()), 201))
        .expect_event("thing:create", Some(vec![apple.clone()]), PROMPT_MS)
        .step(http("POST", "/api/things", Some(apple.clone()), 409))
        .step(http(
            "POST",
            "/api/things",
            Some(json!({"info": "no name"})),
            400,
        ))
        .step(http("GET", "/api/things", None, 200))
        .expect_event("thing:destroy", Some(vec![json!("apple")]), 4_000)
        .disconnect();
    let bob = ClientScript::new("bob")
        .connect(mix.for_client(1))
        .expect_event("thing:create", Some(vec![apple]), 4_000)
        .wait_ms(500)
        .step(http("DELETE", "/api/things/apple", None, 204))
        .expect_event("thing:destroy", Some(vec![json!("apple")]), PROMPT_MS)
        .step(http("DELETE", "/api/things/apple", None, 404))
        .expect_no_event("thing:create", QUIET_MS)
        .disconnect();
    Scenario::new("things")
        .client(alice)
        .client(bob)
        .duration_ms(20_000)
}
