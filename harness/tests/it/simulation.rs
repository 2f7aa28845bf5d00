//! The harness end to end: scripted clients against a socketioxide app in
//! simulated time, over every transport, with faults.

use serde_json::json;
use siosim_harness::{
    ClientScript, Direction, EventKind, Fault, Scenario, Simulation, Step, Transport,
};

use crate::echo_app::echo_app;

fn echo_round_trip(transport: Transport) -> Scenario {
    Scenario::new(format!("echo over {}", transport.name()))
        .client(
            ClientScript::new("alice")
                .connect(transport)
                .emit_with_ack("echo", vec![json!({"n": 1, "s": "é\"\\"})])
                .expect_ack(Some(vec![json!({"n": 1, "s": "é\"\\"})]), 1_000)
                .wait_ms(300)
                .emit("shout", vec![json!("hi")])
                .expect_no_event("shout", 300)
                .disconnect(),
        )
        .client(
            ClientScript::new("bob")
                .wait_ms(100)
                .connect(transport)
                .expect_event("shout", Some(vec![json!("hi")]), 2_000)
                .disconnect(),
        )
}

#[test]
fn echo_and_broadcast_work_over_every_transport() {
    for transport in Transport::ALL {
        let reports = Simulation::new(echo_round_trip(transport), echo_app).assert_passes();
        let trace = &reports[0].trace;
        assert!(
            trace
                .of_client("alice")
                .any(|e| e.kind == EventKind::Send && e.text.starts_with("420[\"echo\"")),
            "{trace}"
        );
        if transport == Transport::Upgrade {
            assert!(
                trace
                    .events
                    .iter()
                    .any(|e| e.text == "upgraded to websocket"),
                "{trace}"
            );
        }
    }
}

#[test]
fn sids_are_aliased_and_server_logs_are_captured() {
    let report = Simulation::new(echo_round_trip(Transport::Websocket), echo_app).run(3);
    let text = report.trace.to_string();
    assert!(text.contains("server    log   INFO"), "{text}");
    assert!(
        text.contains("sid=alice#1"),
        "server logs name the socket by alias:\n{text}"
    );
    // socketioxide gives the socket its engine session's id, so both read alice#1.
    assert!(text.contains(r#"0{"sid":"alice#1""#), "{text}");
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_other_seeds_differ() {
    let simulation = Simulation::new(
        echo_round_trip(Transport::Upgrade).latency_ms(0, 50),
        echo_app,
    );
    let first = simulation.assert_deterministic(11);
    let other = simulation.run(12);
    assert_ne!(first.trace.to_string(), other.trace.to_string());
}

#[test]
fn a_failed_expectation_fails_the_run_and_names_the_client() {
    let scenario = Scenario::new("wrong ack").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .emit_with_ack("echo", vec![json!(1)])
            .expect_ack(Some(vec![json!(2)]), 1_000),
    );
    let report = Simulation::new(scenario, echo_app).run(1);
    assert!(!report.passed());
    assert_eq!(
        report.failures,
        vec!["alice: ack #0 carried [1] instead of [2]".to_owned()]
    );
}

#[test]
fn a_silent_client_is_timed_out_by_the_server_heartbeat() {
    let scenario = Scenario::new("heartbeat").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .step(Step::StopAnsweringPings)
            .step(Step::ExpectDisconnect { within_ms: 5_000 }),
    );
    let report = Simulation::new(scenario, echo_app).assert_deterministic(5);
    assert!(report.passed(), "{report}");
    assert!(
        report.trace.to_string().contains("reason=HeartbeatTimeout"),
        "{report}"
    );
}

#[test]
fn a_partition_that_loses_a_segment_is_shown_to_have_fired() {
    let scenario = Scenario::new("partition")
        .client(
            ClientScript::new("alice")
                .connect(Transport::Websocket)
                .wait_ms(1_000)
                .emit("shout", vec![json!("lost")])
                .step(Step::ExpectDisconnect { within_ms: 10_000 }),
        )
        .fault(
            500,
            Fault::Partition {
                client: "alice".into(),
                direction: Direction::Both,
            },
        )
        // Before the client's heartbeat watchdog (1.5 s) gives up on the link.
        .fault(
            1_200,
            Fault::Repair {
                client: "alice".into(),
                direction: Direction::Both,
            },
        );
    let report = Simulation::new(scenario, echo_app).run(1);
    assert!(report.passed(), "{report}");
    let repair = report
        .trace
        .of_kind(EventKind::Fault)
        .find(|e| e.text.starts_with("repair"))
        .expect("a repair line");
    assert!(!repair.text.contains("(0 segments"), "{repair}");
}

#[test]
fn a_fault_that_never_fires_is_a_failure() {
    let scenario = Scenario::new("idle partition")
        .client(
            ClientScript::new("alice")
                .connect(Transport::Websocket)
                .wait_ms(300)
                .disconnect(),
        )
        .client(ClientScript::new("bob").wait_ms(2_000))
        .fault(
            1_000,
            Fault::Partition {
                client: "alice".into(),
                direction: Direction::Both,
            },
        )
        .fault(
            1_500,
            Fault::Repair {
                client: "alice".into(),
                direction: Direction::Both,
            },
        );
    let report = Simulation::new(scenario, echo_app).run(1);
    assert_eq!(
        report.failures,
        vec!["fault never fired: partition alice".to_owned()],
        "{report}"
    );
}

#[test]
fn a_server_side_disconnect_ends_the_session() {
    let scenario = Scenario::new("kick").client(
        ClientScript::new("alice")
            .connect(Transport::Polling)
            .emit("kick", vec![])
            .step(Step::ExpectDisconnect { within_ms: 2_000 }),
    );
    let report = Simulation::new(scenario, echo_app).run(1);
    assert!(report.passed(), "{report}");
    assert!(
        report
            .trace
            .to_string()
            .contains("reason=ServerNSDisconnect"),
        "{report}"
    );
}

#[test]
fn a_bounced_server_restarts_fresh_and_clients_reconnect() {
    let scenario = Scenario::new("bounce")
        .client(
            ClientScript::new("alice")
                .connect(Transport::Websocket)
                .step(Step::ExpectDisconnect { within_ms: 5_000 })
                .connect(Transport::Websocket)
                .emit_with_ack("echo", vec![json!("back")])
                .expect_ack(Some(vec![json!("back")]), 1_000)
                .disconnect(),
        )
        .fault(1_000, Fault::Bounce);
    let report = Simulation::new(scenario, echo_app).run(1);
    assert!(report.passed(), "{report}");
    assert!(
        report
            .trace
            .of_client("alice")
            .any(|e| e.actor == "alice#2"),
        "{report}"
    );
}

#[test]
fn scenarios_round_trip_through_json() {
    let scenario = echo_round_trip(Transport::Upgrade)
        .fault(
            10,
            Fault::Hold {
                client: "alice".into(),
            },
        )
        .fault(
            20,
            Fault::Release {
                client: "alice".into(),
            },
        );
    let json = scenario.to_json();
    assert_eq!(Scenario::from_json(&json).unwrap(), scenario);
    assert!(Scenario::from_json(r#"{"name":"x","clients":[],"surprise":1}"#).is_err());
}
