//! A panic in the app's handler is a failure, never a pass.

use presence_example::app_unwrapping_typing;
use siosim_harness::{ClientScript, Scenario, Simulation, Transport};

/// The `unwrap()` that `typing` before `join` hits.
const PANIC_MESSAGE: &str = "called `Option::unwrap()` on a `None` value";

/// Alice types before she has joined.
fn typing_before_joining() -> Simulation {
    let alice = ClientScript::new("alice")
        .connect(Transport::Websocket)
        .emit("typing", vec![])
        .wait_ms(500)
        .disconnect();
    Simulation::new(
        Scenario::new("typing before joining").client(alice),
        app_unwrapping_typing,
    )
}

#[test]
fn a_panicking_handler_fails_the_run_and_names_the_panic() {
    let report = typing_before_joining().run(7);
    assert!(
        !report.passed(),
        "a handler panicked, yet the run passed:\n{report}"
    );
    let shown = report.to_string();
    assert!(
        shown.contains(PANIC_MESSAGE),
        "the report does not name the panic:\n{shown}"
    );
}

#[test]
fn assert_passes_reports_the_panic_with_a_replay_line() {
    let panic = std::panic::catch_unwind(|| typing_before_joining().assert_passes())
        .expect_err("assert_passes passed a run whose handler panicked");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        message.contains(PANIC_MESSAGE),
        "no panic message in: {message}"
    );
    assert!(
        message.contains("SIOSIM_SEED="),
        "no replay line in: {message}"
    );
}
