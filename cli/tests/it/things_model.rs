//! The reference server's REST things under concurrent clients, judged by
//! the same `reference::judged` checkers as `siosim run` (the collection
//! model included): three clients on three transports create, delete and
//! read the same few things at once, seed after seed.

use serde_json::{Value, json};
use siosim::run::{REFERENCE, judge, server_app};
use siosim_harness::{ClientScript, Scenario, Step, Transport};

/// Seeds run: each orders the clients' requests differently.
const SEEDS: std::ops::Range<u64> = 1..21;

fn http(method: &str, path: &str, body: Option<Value>) -> Step {
    Step::Http {
        method: method.into(),
        path: path.into(),
        body,
        expect_status: None,
    }
}

fn create(name: &str) -> Step {
    http("POST", "/api/things", Some(json!({ "name": name })))
}

fn destroy(name: &str) -> Step {
    http("DELETE", &format!("/api/things/{name}"), None)
}

fn read() -> Step {
    http("GET", "/api/things", None)
}

/// A client that joins, makes `steps`, then stays long enough for every
/// change to be judged as delivered.
fn client(name: &str, transport: Transport, steps: Vec<Step>) -> ClientScript {
    let script = ClientScript::new(name).connect(transport).wait_ms(50);
    steps
        .into_iter()
        .fold(script, ClientScript::step)
        .wait_ms(4_000)
        .disconnect()
}

fn crossing_changes() -> Scenario {
    Scenario::new("things-crossing")
        .client(client(
            "alice",
            Transport::Websocket,
            vec![
                create("a"),
                read(),
                destroy("b"),
                create("b"),
                read(),
                destroy("a"),
                create("a"),
                read(),
            ],
        ))
        .client(client(
            "bob",
            Transport::Polling,
            vec![
                create("b"),
                destroy("a"),
                read(),
                create("a"),
                destroy("b"),
                read(),
                create("c"),
            ],
        ))
        .client(client(
            "carol",
            Transport::Upgrade,
            vec![
                read(),
                destroy("c"),
                create("a"),
                read(),
                destroy("a"),
                read(),
                destroy("c"),
            ],
        ))
        .latency_ms(0, 20)
        .duration_ms(20_000)
}

#[test]
fn the_reference_keeps_the_things_model_under_crossing_changes() {
    let config = siosim_server::Config::default();
    let app = server_app(REFERENCE, &config).expect("the reference server");
    for seed in SEEDS {
        let verdict = judge(crossing_changes(), &app, &config.socketio_path, seed);
        assert!(verdict.passed(), "{verdict}");
        let trace = verdict.report.trace.to_string();
        for answer in ["http  201 ", "http  204 ", "http  200 ["] {
            assert!(trace.contains(answer), "seed {seed} has no {answer:?}");
        }
    }
}
