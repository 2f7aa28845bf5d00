//! What the app still guarantees when the network misbehaves.

use presence_example::app;
use serde_json::{Value, json};
use siosim_harness::{ClientScript, Fault, Scenario, Simulation, Transport};

/// A client that connects after `after_ms` and joins as `name`, acked with `members`.
fn member(name: &str, after_ms: u64, transport: Transport, members: &[&str]) -> ClientScript {
    ClientScript::new(name)
        .wait_ms(after_ms)
        .connect(transport)
        .emit_with_ack("join", vec![json!(name)])
        .expect_ack(Some(vec![json!(members)]), 2_000)
}

fn said(name: &str, text: &str) -> Option<Vec<Value>> {
    Some(vec![json!({ "name": name, "text": text })])
}

/// Bob's link stalls for a second while Alice talks: once it flows again he
/// gets every message, in the order she said them.
#[test]
fn a_held_member_gets_every_message_in_order() {
    let alice = member("alice", 0, Transport::Websocket, &["alice"])
        .expect_event("joined", Some(vec![json!("bob")]), 2_000)
        .wait_ms(500)
        .emit("say", vec![json!("one")])
        .emit("say", vec![json!("two")])
        .expect_event("said", said("alice", "two"), 2_000)
        .wait_ms(2_000)
        .disconnect();
    let bob = member("bob", 100, Transport::Polling, &["alice", "bob"])
        .expect_event("said", said("alice", "one"), 5_000)
        .expect_event("said", said("alice", "two"), 2_000)
        .disconnect();
    let scenario = Scenario::new("held member")
        .client(alice)
        .client(bob)
        .fault(500, Fault::hold("bob"))
        .fault(1_500, Fault::release("bob"));
    Simulation::new(scenario, app).assert_passes();
}

/// Bob's link is cut for good: the server notices when his pings stop, and
/// Alice is told that he left.
#[test]
fn a_vanished_member_is_announced_as_left() {
    let alice = member("alice", 0, Transport::Upgrade, &["alice"])
        .expect_event("joined", Some(vec![json!("bob")]), 2_000)
        .expect_event("left", Some(vec![json!("bob")]), 60_000)
        .disconnect();
    let bob = member("bob", 100, Transport::Websocket, &["alice", "bob"]).expect_disconnect(60_000);
    let scenario = Scenario::new("vanished member")
        .client(alice)
        .client(bob)
        .fault(500, Fault::partition("bob"));
    Simulation::new(scenario, app).assert_passes();
}
