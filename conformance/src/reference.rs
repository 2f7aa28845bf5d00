//! The reference app's vocabulary, as the harness's generic parts need it:
//! which events it relays and to whom, its room requests, its counter, and
//! its swarm. The harness knows no app; this is where siosim tells it about
//! its own.

use serde_json::{Value, json};
use siosim_harness::Simulation;
use siosim_harness::Step;
use siosim_harness::invariants::{
    Audience, Relays, Rooms, chat::Chat, collection::Collection, counter::Counter,
    delivery::Delivery, disconnect::DisconnectReasons,
};
use siosim_harness::invariants::{Invariant, echo::Echo, heartbeat::Heartbeat};
use siosim_harness::swarm::{EventFamily, Swarm};

/// How long a room request (`join`, `leave`) may take to be acked.
pub const ROOM_ANSWER_MS: u64 = 10_000;

/// The rooms swarm clients use.
const ROOMS: &[&str] = &["lobby", "den"];

/// `io.emit`, `socket.broadcast.emit` and room relays, and the room requests.
pub fn relays() -> Relays {
    Relays::new()
        .relay("chat message", Audience::Everyone)
        .relay("chat broadcast", Audience::OthersOnly)
        .relay("room message", Audience::Room)
        .rooms(Rooms::new("join", "leave").refusal("not a member"))
        .accepted(is_ok)
}

/// `{"ok": true}` first: the ack of a request the server granted.
fn is_ok(args: &[Value]) -> bool {
    args.first().and_then(|a| a.get("ok")) == Some(&Value::Bool(true))
}

/// The REST things and their pushes (README, "HTTP routes").
pub fn things() -> Collection {
    Collection::new("/api/things", "thing:create", "thing:destroy")
}

/// `simulation`, judged by every built-in invariant configured for the
/// reference app (counter, chat, delivery, things, disconnect reasons, in
/// that order).
pub fn judged(simulation: Simulation) -> Simulation {
    simulation
        .invariant(Counter::new("get count", "increase count"))
        .invariant(Chat::new(relays()))
        .invariant(Delivery::new(relays()))
        .invariant(things())
        .invariant(DisconnectReasons)
}

/// The same judges for the clustered seed app (`siosim_server::cluster`),
/// but for the chat's total order, which a cluster over socketioxide-redis
/// does not promise (see [`Chat::without_total_order`]).
pub fn judged_cluster(simulation: Simulation) -> Simulation {
    simulation
        .invariant(Counter::new("get count", "increase count"))
        .invariant(Chat::new(relays()).without_total_order())
        .invariant(Delivery::new(relays()))
        .invariant(things())
        .invariant(DisconnectReasons)
}

/// The invariants a live server claiming the seed-app contract is judged
/// by over a URL (`siosim explore --url --profile app`): the same checkers
/// as in simulation (counter, chat, delivery, things), the counter starting
/// wherever the server's count is, and the heartbeat. The server's own disconnect logs are not there to read.
pub fn live_judges() -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(Counter::new("get count", "increase count").starting_anywhere()),
        Box::new(Chat::new(relays())),
        Box::new(Delivery::new(relays())),
        Box::new(things()),
        Box::new(Heartbeat),
    ]
}

/// What any server must keep over a URL (`--profile protocol`): acks
/// exactly once, no room or session leaks of the relays it does not know
/// (none), the heartbeat; the wire protocol and session-id reuse are
/// judged on every run.
pub fn protocol_judges() -> Vec<Box<dyn Invariant>> {
    vec![Box::new(Delivery::new(Relays::new())), Box::new(Heartbeat)]
}

/// What a server answering as the official test server does is judged by
/// over a URL (`--profile echo`, README "Echo contract"): every `message`
/// echoed once to its sender as `message-back`, every
/// `message-with-ack` acked once with its own arguments, and the protocol
/// judges.
pub fn echo_judges() -> Vec<Box<dyn Invariant>> {
    let mut judges = protocol_judges();
    judges.insert(
        0,
        Box::new(Echo::new("message", "message-back").acked("message-with-ack")),
    );
    judges
}

/// The echo contract's events, each with a unique text: `message` and
/// `message-with-ack` (always acked).
pub fn echo_swarm() -> Swarm {
    Swarm::new()
        .family(
            EventFamily::new("message", |_, text| ("message".into(), vec![json!(text)]))
                .without_acks(),
        )
        .family(EventFamily::new("message-with-ack", |_, text| {
            ("message-with-ack".into(), vec![json!(text)])
        }))
}

/// A swarm of events no app handles (`--profile protocol`): the server
/// may ignore them, and must still keep the protocol while clients
/// reconnect, drop, go silent and stop reading.
pub fn protocol_swarm() -> Swarm {
    Swarm::new().family(
        EventFamily::new("unknown", |_, text| {
            ("siosim unknown event".into(), vec![json!(text)])
        })
        .without_acks(),
    )
}

/// The reference app's swarm for live servers: its events, and REST
/// requests on `/api/things` (create, read right after, delete an earlier
/// one, list); each client deletes what it created at the end.
pub fn live_swarm() -> Swarm {
    swarm()
        .requests(|rng, text, earlier| {
            let get = || http("GET", THINGS.to_owned(), None);
            match rng.between(0, 9) {
                0..=4 => {
                    let mut steps = vec![http(
                        "POST",
                        THINGS.to_owned(),
                        Some(json!({ "name": text })),
                    )];
                    if rng.chance(50) {
                        steps.push(get());
                    }
                    steps
                }
                5..=6 => match earlier {
                    Some(name) => vec![http("DELETE", format!("{THINGS}/{name}"), None)],
                    None => vec![get()],
                },
                _ => vec![get()],
            }
        })
        .cleanup(|created| {
            created
                .iter()
                .map(|name| http("DELETE", format!("{THINGS}/{name}"), None))
                .collect()
        })
}

/// The REST collection of things.
const THINGS: &str = "/api/things";

fn http(method: &str, path: String, body: Option<Value>) -> Step {
    Step::Http {
        method: method.into(),
        path,
        body,
        expect_status: None,
    }
}

/// The reference app's swarm: counter, chat and room events, then a finale
/// that increments, chats, joins a room and posts to it.
pub fn swarm() -> Swarm {
    Swarm::new()
        .family(EventFamily::new("counter", |_, _| {
            ("increase count".into(), vec![])
        }))
        .family(EventFamily::new("chat", |rng, text| {
            let event = if rng.chance(70) {
                "chat message"
            } else {
                "chat broadcast"
            };
            (event.into(), vec![json!(text)])
        }))
        .family(EventFamily::new("rooms", |rng, text| {
            let room = json!(rng.pick(ROOMS));
            match rng.between(0, 3) {
                0 => ("join".into(), vec![room]),
                1 => ("leave".into(), vec![room]),
                _ => (
                    "room message".into(),
                    vec![json!({"room": room, "msg": text})],
                ),
            }
        }))
        .finale(|rng, name| {
            let room = *rng.pick(ROOMS);
            let text = format!("{name}:final");
            vec![
                ("increase count".into(), vec![]),
                ("chat message".into(), vec![json!(text)]),
                ("join".into(), vec![json!(room)]),
                (
                    "room message".into(),
                    vec![json!({"room": room, "msg": text})],
                ),
            ]
        })
}
