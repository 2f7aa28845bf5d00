//! `assert_passes` and `assert_deterministic` blame their caller's line. Its
//! own test binary: it swaps the process-wide panic hook, which would race
//! with the simulations of parallel tests.

use std::sync::{Arc, Mutex};

use serde_json::json;
use siosim_harness::{ClientScript, Scenario, Simulation, Transport};

/// A server with no namespace: it refuses every connect, so every run fails.
fn refusing_app() -> axum::Router {
    let (layer, _io) = socketioxide::SocketIo::new_layer();
    axum::Router::new().layer(layer)
}

#[test]
fn a_failing_assert_passes_points_at_the_line_that_called_it() {
    let scenario = Scenario::new("no ack").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .emit_with_ack("echo", vec![json!(1)])
            .expect_ack(None, 500),
    );
    let simulation = Simulation::new(scenario, refusing_app);
    // Installs the harness's own hook before this test wraps it.
    assert!(!simulation.run(1).passed());

    let blamed: Arc<Mutex<Vec<(String, u32)>>> = Arc::default();
    let seen = blamed.clone();
    let harness_hook = Arc::new(std::panic::take_hook());
    let inner = harness_hook.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(at) = info.location() {
            seen.lock().unwrap().push((at.file().to_owned(), at.line()));
        }
        inner(info);
    }));
    let line = line!() + 1;
    let assert_passes = || simulation.assert_passes();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(assert_passes));
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| harness_hook(info)));

    assert!(result.is_err());
    assert_eq!(
        blamed.lock().unwrap().clone(),
        vec![(file!().to_owned(), line)]
    );
}
