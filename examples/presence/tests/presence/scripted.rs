//! Three members on three transports meet, type and talk.

use presence_example::app;
use serde_json::json;
use siosim_harness::{ClientScript, Scenario, Simulation, Transport};

/// How long any expected packet may take, in simulated milliseconds.
const SOON: u64 = 2_000;

fn three_members() -> Scenario {
    let alice = ClientScript::new("alice")
        .connect(Transport::Websocket)
        .emit_with_ack("join", vec![json!("alice")])
        .expect_ack(Some(vec![json!(["alice"])]), SOON)
        .expect_event("joined", Some(vec![json!("bob")]), SOON)
        .expect_event("typing", Some(vec![json!("bob")]), SOON)
        .expect_event(
            "said",
            Some(vec![json!({"name": "bob", "text": "hi all"})]),
            SOON,
        )
        .expect_event("joined", Some(vec![json!("carol")]), SOON)
        .expect_event("left", Some(vec![json!("carol")]), SOON)
        .disconnect();
    let bob = ClientScript::new("bob")
        .wait_ms(200)
        .connect(Transport::Polling)
        .emit_with_ack("join", vec![json!("bob")])
        .expect_ack(Some(vec![json!(["alice", "bob"])]), SOON)
        .emit("typing", vec![])
        .emit("say", vec![json!("hi all")])
        .expect_event(
            "said",
            Some(vec![json!({"name": "bob", "text": "hi all"})]),
            SOON,
        )
        .expect_event("joined", Some(vec![json!("carol")]), SOON)
        .expect_event("left", Some(vec![json!("carol")]), SOON)
        // The sender is not told about its own typing.
        .expect_no_event("typing", 100)
        .disconnect();
    let carol = ClientScript::new("carol")
        .wait_ms(1_000)
        .connect(Transport::Upgrade)
        .emit_with_ack("join", vec![json!("carol")])
        .expect_ack(Some(vec![json!(["alice", "bob", "carol"])]), SOON)
        .disconnect();
    Scenario::new("three members meet")
        .client(alice)
        .client(bob)
        .client(carol)
}

#[test]
fn three_members_meet() {
    Simulation::new(three_members(), app).assert_passes();
}

#[test]
fn three_members_meet_the_same_way_every_time() {
    let report = Simulation::new(three_members(), app).assert_deterministic(7);
    insta::assert_snapshot!(report.to_string());
}
