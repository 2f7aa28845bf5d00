//! A cluster in simulation: three nodes of a small socketioxide app joined by
//! socketioxide-redis's own adapter, whose traffic crosses the simulated
//! network to the simulated Redis bus.

use serde_json::{Value, json};
use siosim_harness::{
    BusDriver, ClientScript, ClusterNode, Fault, Scenario, Simulation, Transport,
};
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide::extract::{Data, SocketRef};
use socketioxide_core::adapter::Spawnable as _;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

type BusAdapter = CustomRedisAdapter<Emitter, BusDriver>;

/// `shout` reaches every other socket, on every node, through the adapter.
fn shouting_node(node: &ClusterNode) -> axum::Router {
    shouting_node_over(node, BusDriver::new())
}

/// [`shouting_node`] with its adapter over `driver`.
fn shouting_node_over(node: &ClusterNode, driver: BusDriver) -> axum::Router {
    let adapter = RedisAdapterCtr::new_with_driver(driver, RedisAdapterConfig::default());
    let (layer, io) = SocketIo::builder()
        .with_adapter::<BusAdapter>(adapter)
        .build_layer();
    let host = node.host().to_owned();
    io.ns("/", async move |socket: SocketRef<BusAdapter>| {
        tracing::info!(node = %host, "connect");
        socket.on("shout", on_shout);
    })
    .spawn();
    axum::Router::new().layer(layer)
}

async fn on_shout<A: Adapter>(socket: SocketRef<A>, Data(data): Data<Value>) {
    if let Err(error) = socket.broadcast().emit("shout", &data).await {
        tracing::warn!(%error, "a shout did not reach the cluster");
    }
}

/// A client that connects over WebSocket once the nodes have joined: a
/// node's namespace exists once its adapter has subscribed to the bus, a
/// few milliseconds in, and a load balancer would not route to it before.
fn connected(name: &str) -> ClientScript {
    ClientScript::new(name)
        .wait_ms(300)
        .connect(Transport::Websocket)
}

/// Alice on node 1 shouts three times: before node 3 is cut off the bus,
/// while it is, and after it is back. Bob (node 2) hears all three; Carol
/// (node 3) misses the one in between, as Redis pub/sub loses it.
fn shouts_across_a_partition() -> Scenario {
    let alice = connected("alice")
        .wait_ms(1_000)
        .emit("shout", vec![json!("before")])
        .wait_ms(2_000)
        .emit("shout", vec![json!("apart")])
        .wait_ms(5_000)
        .emit("shout", vec![json!("after")])
        .wait_ms(1_000)
        .disconnect();
    let bob = connected("bob")
        .expect_event("shout", Some(vec![json!("before")]), 3_000)
        .expect_event("shout", Some(vec![json!("apart")]), 3_000)
        .expect_event("shout", Some(vec![json!("after")]), 6_000)
        .disconnect();
    let carol = connected("carol")
        .expect_event("shout", Some(vec![json!("before")]), 3_000)
        .expect_no_event("shout", 4_000)
        .expect_event("shout", Some(vec![json!("after")]), 6_000)
        .disconnect();
    Scenario::new("shouts-across-a-partition")
        .nodes(3)
        .client(alice)
        .client(bob)
        .client(carol)
        .fault(2_000, Fault::PartitionBus { node: 3 })
        .fault(5_000, Fault::RepairBus { node: 3 })
        .duration_ms(20_000)
}

#[test]
fn a_broadcast_crosses_nodes_and_a_partition_from_the_bus_loses_it() {
    let simulation = Simulation::cluster(shouts_across_a_partition(), shouting_node);
    let reports = simulation.assert_passes();
    simulation.assert_deterministic(reports[0].seed);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("cluster-partition", reports[0].trace.to_string()));
}

/// A node that shares nothing: its broadcasts reach its own sockets only.
fn lone_node(_: &ClusterNode) -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |socket: SocketRef| socket.on("shout", on_shout));
    axum::Router::new().layer(layer)
}

#[test]
fn nodes_without_an_adapter_do_not_share_a_broadcast() {
    let verdict = Simulation::cluster(shouts_across_a_partition(), lone_node).check(1);
    let failures = verdict.report.failures.join("\n");
    assert!(
        failures.contains(r#"bob: expected "shout" ["before"] within 3000 ms: nothing"#),
        "{failures}"
    );
}

#[test]
fn a_client_on_a_node_that_does_not_exist_is_refused_before_the_run() {
    let scenario = Scenario::new("nowhere").nodes(2).client(
        ClientScript::new("dora")
            .on_node(3)
            .connect(Transport::Polling),
    );
    let report = Simulation::cluster(scenario, shouting_node).run(1);
    assert_eq!(
        report.failures,
        ["client dora names node 3, but the scenario has 2 nodes"]
    );
}

/// Node 2 restarts: Bob's session there ends, he connects again to the new
/// node, which joins the bus anew, and hears Alice's shout from node 1.
#[test]
fn a_bounced_node_joins_the_bus_again() {
    let alice = connected("alice")
        .wait_ms(2_500)
        .emit("shout", vec![json!("after")])
        .wait_ms(1_000)
        .disconnect();
    let bob = connected("bob")
        .expect_disconnect(3_000)
        .wait_ms(300)
        .connect(Transport::Websocket)
        .expect_event("shout", Some(vec![json!("after")]), 4_000)
        .disconnect();
    let scenario = Scenario::new("bounced-node")
        .nodes(2)
        .client(alice)
        .client(bob)
        .fault(1_000, Fault::BounceNode { node: 2 })
        .duration_ms(20_000);
    let reports = Simulation::cluster(scenario, shouting_node).assert_passes();
    let trace = reports[0].trace.to_string();
    assert!(trace.contains("bounce node-2"), "{trace}");
}

/// The bus restarts (Redis without persistence) while Alice and Bob stay
/// connected to nodes 1 and 2; Bob hears Alice's shout from after the
/// restart.
fn shouts_across_a_bus_restart() -> Scenario {
    let alice = connected("alice")
        .wait_ms(2_500)
        .emit("shout", vec![json!("after the restart")])
        .wait_ms(1_000)
        .disconnect();
    let bob = connected("bob")
        .expect_event("shout", Some(vec![json!("after the restart")]), 5_000)
        .disconnect();
    Scenario::new("bus-restart")
        .nodes(2)
        .client(alice)
        .client(bob)
        .fault(1_000, Fault::BounceBus)
        .duration_ms(20_000)
}

#[test]
fn nodes_hear_each_other_again_after_the_bus_restarts() {
    let reports = Simulation::cluster(shouts_across_a_bus_restart(), shouting_node).assert_passes();
    let trace = reports[0].trace.to_string();
    assert!(trace.contains("bounce bus"), "{trace}");
}

#[test]
fn a_node_that_does_not_subscribe_again_misses_what_follows_a_bus_restart() {
    let forgetful =
        |node: &ClusterNode| shouting_node_over(node, BusDriver::forgetting_subscriptions());
    let report = Simulation::cluster(shouts_across_a_bus_restart(), forgetful).run(1);
    let failures = report.failures.join("\n");
    assert!(
        failures.contains(r#"bob: expected "shout" ["after the restart"] within 5000 ms"#),
        "{failures}"
    );
}

#[test]
fn a_bus_restart_needs_a_cluster() {
    let scenario = Scenario::new("no bus")
        .client(connected("dora"))
        .fault(500, Fault::BounceBus);
    let report = Simulation::new(scenario, axum::Router::new).run(1);
    assert_eq!(
        report.failures,
        ["the fault at 500 ms restarts the bus, but a scenario of 1 node has none"]
    );
}

/// Bob starts on node 2, leaves, then reconnects to `reconnect_node` while
/// a hold on his links is in force: the hold strikes his links to both
/// nodes, so it holds his reconnect. Alice shouts on node 1 once he is back.
fn bob_reconnects_to(reconnect_node: usize) -> Scenario {
    let alice = connected("alice")
        .wait_ms(3_000)
        .emit("shout", vec![json!("to node 1")])
        .wait_ms(1_000)
        .disconnect();
    let bob = connected("bob")
        .wait_ms(200)
        .disconnect()
        .wait_ms(500)
        .connect_to_node(Transport::Websocket, reconnect_node)
        .expect_event("shout", Some(vec![json!("to node 1")]), 4_000)
        .disconnect();
    Scenario::new("reconnect-elsewhere")
        .nodes(2)
        .client(alice)
        .client(bob)
        .fault(800, Fault::hold("bob"))
        .fault(1_500, Fault::release("bob"))
        .duration_ms(20_000)
}

#[test]
fn a_reconnect_lands_on_the_node_it_names_and_the_clients_faults_follow_it() {
    // Nodes that share nothing: Bob hears Alice only on her node.
    let simulation = Simulation::cluster(bob_reconnects_to(1), lone_node);
    let reports = simulation.assert_passes();
    simulation.assert_deterministic(reports[0].seed);
    let trace = reports[0].trace.to_string();
    assert!(trace.contains("bob connects to node-2"), "{trace}");
    let moved = |line: &str| line.contains(" bob ") && line.ends_with("sess  moves to node-1");
    assert!(trace.lines().any(moved), "{trace}");
    assert!(trace.contains("hold bob <-> node-2, node-1"), "{trace}");

    let stayed = Simulation::cluster(bob_reconnects_to(2), lone_node).run(1);
    let failures = stayed.failures.join("\n");
    assert!(
        failures.contains(r#"bob: expected "shout" ["to node 1"] within 4000 ms: nothing"#),
        "{failures}"
    );
}

#[test]
fn a_reconnect_to_a_node_that_does_not_exist_is_refused_before_the_run() {
    let report = Simulation::cluster(bob_reconnects_to(3), lone_node).run(1);
    assert_eq!(
        report.failures,
        ["a reconnect of client bob names node 3, but the scenario has 2 nodes"]
    );
}
