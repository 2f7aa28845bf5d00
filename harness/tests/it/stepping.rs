//! Skipping idle simulated time (`Stepping::SkipIdle`) moves no event: with
//! one client per host and a fixed latency, every trace is byte for byte the
//! one of stepping every tick. (Otherwise they may differ: tasks that become
//! ready at one instant can run in another order, so draws from the shared
//! RNG happen in another order too. Each mode is deterministic on its own.)
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
        .latency_ms(5, 5)
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
    for seed in 0..8 {
        let skipping = trace(every_kind_of_wait(), Stepping::SkipIdle, seed);
        let every_tick = trace(every_kind_of_wait(), Stepping::EveryTick, seed);
        assert!(skipping.contains("reason=HeartbeatTimeout"), "{skipping}");
        assert!(skipping.contains("bounce server"), "{skipping}");
        assert_eq!(skipping, every_tick, "seed {seed}");
    }
}
