//! What the app still guarantees when the network misbehaves.

use presence_example::app;
use serde_json::json;
use siosim_harness::{ClientScript, Direction, Fault, Scenario, Simulation, Transport};

fn join(name: &str, transport: Transport, members: serde_json::Value) -> ClientScript {
    ClientScript::new(name)
        .connect(transport)
        .emit_with_ack("join", vec![json!(name)])
        .expect_ack(Some(vec![members]), 2_000)
}

fn said(name: &str, text: &str) -> Option<Vec<serde_json::Value>> {
    Some(vec![json!({ "name": name, "text": text })])
}

/// Bob's link stalls for a second while Alice talks: once it flows again he
/// gets every message, in the order she said them.
#[test]
fn a_held_member_gets_every_message_in_order() {
    let alice = join("alice", Transport::Websocket, json!(["alice"]))
        .expect_event("joined", Some(vec![json!("bob")]), 2_000)
        .wait_ms(500)
        .emit("say", vec![json!("one")])
        .emit("say", vec![json!("two")])
        .expect_event("said", said("alice", "two"), 2_000)
        .wait_ms(2_000)
        .disconnect();
    let bob = ClientScript::new("bob")
        .wait_ms(100)
        .connect(Transport::Polling)
        .emit_with_ack("join", vec![json!("bob")])
        .expect_ack(Some(vec![json!(["alice", "bob"])]), 2_000)
        .expect_event("said", said("alice", "one"), 5_000)
        .expect_event("said", said("alice", "two"), 2_000)
        .disconnect();
    let scenario = Scenario::new("held member")
        .client(alice)
        .client(bob)
        .fault(
            500,
            Fault::Hold {
                client: "bob".into(),
            },
        )
        .fault(
            1_500,
            Fault::Release {
                client: "bob".into(),
            },
        );
    Simulation::new(scenario, app).assert_passes();
}

/// Bob's link is cut for good: the server notices when his pings stop, and
/// Alice is told that he left.
#[test]
fn a_vanished_member_is_announced_as_left() {
    let alice = join("alice", Transport::Upgrade, json!(["alice"]))
        .expect_event("joined", Some(vec![json!("bob")]), 2_000)
        .expect_event("left", Some(vec![json!("bob")]), 60_000)
        .disconnect();
    let bob = ClientScript::new("bob")
        .wait_ms(100)
        .connect(Transport::Websocket)
        .emit_with_ack("join", vec![json!("bob")])
        .expect_ack(Some(vec![json!(["alice", "bob"])]), 2_000)
        .step(siosim_harness::Step::ExpectDisconnect { within_ms: 60_000 });
    let scenario = Scenario::new("vanished member")
        .client(alice)
        .client(bob)
        .fault(
            500,
            Fault::Partition {
                client: "bob".into(),
                direction: Direction::Both,
            },
        );
    Simulation::new(scenario, app).assert_passes();
}
