//! Skipping idle simulated time (`Stepping::SkipIdle`, opt-in) moves
//! no event: with one client per host, every trace is byte for byte the one
//! of stepping every tick. (Clients sharing a host may differ: tokio draws
//! a fresh `select!` seed each time a runtime is entered, and skipping
//! enters it less often. Each mode is deterministic on its own.)
//!
//! Built only with the `skip-idle` feature (`scripts/test` runs it so):
//! without it both modes step every tick and the comparison proves nothing.

use serde_json::json;
use siosim_harness::{
    ClientScript, Direction, Fault, Scenario, Simulation, Step, Stepping, Transport,
};

use crate::echo_app::echo_app;

/// Two clients with every kind of wait: acks, a broadcast, a silence that
/// the server's heartbeat ends, a partition and a bounce.
fn every_kind_of_wait() -> Scenario {
    let mut scenario = Scenario::new("waits")
        .latency_ms(2, 30)
        .client(
            ClientScript::new("alice")
                .connect(Transport::Upgrade)
                .emit_with_ack("echo", vec![json!("one")])
                .expect_ack(Some(vec![json!("one")]), 1_000)
                .wait_ms(700)
                .emit("shout", vec![json!("hey")])
                .step(Step::ExpectDisconnect { within_ms: 5_000 })
                .connect(Transport::Websocket)
                .emit_with_ack("echo", vec![json!("back")])
                .expect_ack(Some(vec![json!("back")]), 1_000)
                .step(Step::StopAnsweringPings)
                .step(Step::ExpectDisconnect { within_ms: 5_000 }),
        )
        .client(
            ClientScript::new("bob")
                .connect(Transport::Polling)
                .expect_event("shout", Some(vec![json!("hey")]), 3_000)
                .wait_ms(400)
                .emit_with_ack("echo", vec![json!("held")])
                .expect_ack(Some(vec![json!("held")]), 3_000)
                .disconnect(),
        )
        .fault(
            1_000,
            Fault::Partition {
                client: "bob".into(),
                direction: Direction::ToServer,
            },
        )
        .fault(
            1_300,
            Fault::Repair {
                client: "bob".into(),
                direction: Direction::ToServer,
            },
        )
        .fault(2_500, Fault::Bounce);
    scenario.network.clients_per_host = 1;
    scenario
}

fn trace(mut scenario: Scenario, stepping: Stepping, seed: u64) -> String {
    scenario.network.stepping = stepping;
    let report = Simulation::new(scenario, echo_app)
        .unfired_faults_pass()
        .run(seed);
    report.trace.to_string()
}

#[test]
fn skipping_idle_time_moves_no_event() {
    for seed in 0..4 {
        let skipping = trace(every_kind_of_wait(), Stepping::SkipIdle, seed);
        let every_tick = trace(every_kind_of_wait(), Stepping::EveryTick, seed);
        assert!(skipping.contains("reason=HeartbeatTimeout"), "{skipping}");
        assert!(skipping.contains("bounce server"), "{skipping}");
        assert_eq!(skipping, every_tick, "seed {seed}");
    }
}
