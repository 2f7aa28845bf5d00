//! The server app's constructor reads the simulated wall clock, never the real
//! one: when the world is built and when a bounce rebuilds it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use siosim_harness::{ClientScript, Fault, Scenario, Simulation, Step, Transport};

use crate::echo_app::echo_app;

/// The simulated epoch, 2026-01-01T00:00:00Z.
const EPOCH_SINCE_UNIX: Duration = Duration::from_secs(1_767_225_600);
const BOUNCE_AT_MS: u64 = 300;

#[test]
fn the_app_is_built_at_simulated_times() {
    let scenario = Scenario::new("bounce early")
        .client(
            ClientScript::new("alice")
                .connect(Transport::Websocket)
                .step(Step::ExpectDisconnect { within_ms: 5_000 }),
        )
        .fault(BOUNCE_AT_MS, Fault::Bounce);
    let built_at: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
    let recorded = built_at.clone();
    let simulation = Simulation::new(scenario, move || {
        recorded
            .lock()
            .expect("the build log")
            .push(SystemTime::now());
        echo_app()
    });
    let report = simulation.run(1);
    assert!(report.passed(), "{report}");
    let built_at: Vec<Duration> = built_at
        .lock()
        .expect("the build log")
        .iter()
        .map(|at| at.duration_since(UNIX_EPOCH).expect("after 1970"))
        .collect();
    assert_eq!(
        built_at,
        [
            EPOCH_SINCE_UNIX,
            EPOCH_SINCE_UNIX + Duration::from_millis(BOUNCE_AT_MS)
        ],
        "built at (since the Unix epoch)"
    );
}
