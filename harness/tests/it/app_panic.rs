//! A panic in the server app fails the run, with the trace so far, the
//! panic's message and location, and the replay line.

use serde_json::{Value, json};
use siosim_harness::{ClientScript, EventKind, Scenario, Simulation, Transport};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

/// `echo` acks; `boom` panics in its handler; `caught` panics inside the
/// handler's own `catch_unwind`, so the task lives on: how every panic looks
/// to the run without `--cfg tokio_unstable`, where tokio swallows it.
#[expect(
    clippy::unnecessary_literal_unwrap,
    reason = "the deliberate bug under test"
)]
fn panicking_app() -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |socket: SocketRef| {
        socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
            let _ = ack.send(&data);
        });
        socket.on("boom", async || {
            None::<u8>.unwrap();
        });
        socket.on("caught", async || {
            let _ = std::panic::catch_unwind(|| None::<u8>.unwrap());
        });
    });
    axum::Router::new().layer(layer)
}

fn scenario(event: &str) -> Scenario {
    Scenario::new(format!("panic on {event}")).client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .emit_with_ack("echo", vec![json!(1)])
            .expect_ack(Some(vec![json!(1)]), 1_000)
            .emit(event, vec![])
            .wait_ms(2_000)
            .disconnect(),
    )
}

fn assert_fails_with_the_panic(event: &str) {
    let report = Simulation::new(scenario(event), panicking_app).run(1);
    assert!(!report.passed(), "{report}");
    let expected_at = format!("{}:", file!());
    assert!(
        report.failures.len() == 1
            && report.failures[0].starts_with("the server panicked at ")
            && report.failures[0].contains(&expected_at)
            && report.failures[0].ends_with("called `Option::unwrap()` on a `None` value"),
        "{:?}",
        report.failures
    );
    let fail_lines: Vec<_> = report.trace.of_kind(EventKind::Fail).collect();
    assert!(
        fail_lines.len() == 1
            && fail_lines[0].actor == "server"
            && fail_lines[0].text == report.failures[0],
        "one server FAIL line:\n{report}"
    );
    // The trace so far is kept: the ack before the panic is in it.
    assert!(
        report.trace.to_string().contains(r#"recv  430[1]"#),
        "{report}"
    );
}

#[test]
fn a_panicking_handler_fails_the_run() {
    assert_fails_with_the_panic("boom");
}

#[test]
fn a_panic_the_task_survives_still_fails_the_run() {
    assert_fails_with_the_panic("caught");
}

#[test]
fn a_panicking_app_factory_fails_the_run() {
    let report =
        Simulation::new(scenario("echo"), || -> axum::Router { panic!("no config") }).run(1);
    assert!(
        report
            .failures
            .first()
            .is_some_and(|f| f.starts_with("the server panicked at ") && f.ends_with("no config")),
        "{report}"
    );
}

#[test]
fn assert_passes_names_the_panic_and_the_replay_command() {
    let simulation = Simulation::new(scenario("boom"), panicking_app);
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| simulation.assert_passes()))
            .expect_err("a panicking app must not pass");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("FAIL the server panicked at "),
        "{message}"
    );
    assert!(message.contains("reproduce: SIOSIM_SEED="), "{message}");
}
