//! The server's logs in the trace: every field, at the level asked for, and
//! beside a test's own global subscriber (tracing-test).

use serde_json::{Value, json};
use siosim_harness::{ClientScript, EventKind, Scenario, Simulation, Transport};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use tracing_test::traced_test;

/// `join` logs the name it is given, at INFO, and a DEBUG detail.
fn logging_app() -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |socket: SocketRef| {
        socket.on("join", async |Data::<String>(name), ack: AckSender| {
            tracing::info!(%name, room = "lobby", "join");
            tracing::debug!(members = 1, "member list");
            let _ = ack.send(&Value::Null);
        });
    });
    axum::Router::new().layer(layer)
}

fn join() -> Scenario {
    Scenario::new("join").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .emit_with_ack("join", vec![json!("alice")])
            .expect_ack(None, 1_000)
            .disconnect(),
    )
}

fn server_logs(simulation: &Simulation) -> Vec<String> {
    let report = simulation.run(1);
    assert!(report.passed(), "{report}");
    report
        .trace
        .of_kind(EventKind::Log)
        .map(|e| e.text.clone())
        .collect()
}

#[test]
fn every_field_of_a_log_event_is_kept_even_one_called_name() {
    let logs = server_logs(&Simulation::new(join(), logging_app));
    assert!(
        logs.iter()
            .any(|l| l.ends_with(": join name=alice room=\"lobby\"")
                || l.ends_with(": join name=alice room=lobby")),
        "{logs:#?}"
    );
    assert!(!logs.iter().any(|l| l.contains("member list")), "{logs:#?}");
}

#[test]
fn the_captured_level_is_configurable() {
    let logs = server_logs(&Simulation::new(join(), logging_app).log_level(tracing::Level::DEBUG));
    assert!(
        logs.iter()
            .any(|l| l.starts_with("DEBUG ") && l.ends_with(": member list members=1")),
        "{logs:#?}"
    );
}

#[test]
#[traced_test]
fn the_capture_coexists_with_a_global_test_subscriber() {
    tracing::info!("before the run");
    let logs = server_logs(&Simulation::new(join(), logging_app));
    tracing::info!("after the run");
    // The server's lines went to the trace, the test's own to tracing-test.
    assert!(
        logs.iter().any(|l| l.contains("join name=alice")),
        "{logs:#?}"
    );
    assert!(logs_contain("before the run"));
    assert!(logs_contain("after the run"));
    assert!(!logs_contain("join name=alice"));
}
