//! Throughput and footprint of simulation runs. Prints figures, never
//! asserts on time (these machines are noisy): `scripts/bench` runs each case
//! in its own process so peak RSS is per case.
//!
//! ```text
//! cargo bench -p siosim --bench simulation -- <case> [n]
//! cases: seeds [n] | heartbeat | scale <clients> | storm <clients>
//! ```

use std::time::Instant;

use serde_json::json;
use siosim::scenarios::{TransportMix, counter};
use siosim_harness::{ClientScript, Scenario, Simulation, Step, Transport};

fn reference(scenario: Scenario) -> Simulation {
    let config = siosim_server::Config::default();
    Simulation::new(scenario, move || siosim_server::app(&config))
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The 3-client counter scenario over `n` seeds, on 1 worker then on 2.
fn seeds(n: u64) {
    let simulation = reference(counter(TransportMix::Mixed));
    let mut rates = Vec::new();
    for workers in [1u64, 2] {
        let started = Instant::now();
        std::thread::scope(|scope| {
            for worker in 0..workers {
                let simulation = &simulation;
                scope.spawn(move || {
                    for seed in (worker..n).step_by(workers as usize) {
                        let report = simulation.run(seed);
                        assert!(report.passed(), "seed {seed}: {:?}", report.failures);
                    }
                });
            }
        });
        let rate = n as f64 / started.elapsed().as_secs_f64();
        println!(
            "seeds: counter (3 clients, mixed), {n} seeds, {workers} worker(s): {rate:.0} seeds/s"
        );
        rates.push(rate);
    }
    println!("seeds: 2 workers / 1 worker = {:.2}x", rates[1] / rates[0]);
}

/// A silent client timed out by the default heartbeat (25 s + 20 s).
fn heartbeat() {
    let scenario = Scenario::new("heartbeat").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .step(Step::StopAnsweringPings)
            .step(Step::ExpectDisconnect { within_ms: 60_000 }),
    );
    let started = Instant::now();
    let report = reference(scenario).run(1);
    let wall = started.elapsed();
    assert!(report.passed(), "{report}");
    println!(
        "heartbeat: {} ms simulated in {:.1} ms wall = {:.0}x real time",
        report.simulated.as_millis(),
        wall.as_secs_f64() * 1e3,
        report.simulated.as_secs_f64() / wall.as_secs_f64()
    );
}

/// `n` clients connect over WebSocket, get their count, and leave.
fn scale(n: usize) {
    let mut scenario = Scenario::new("scale").duration_ms(120_000);
    for i in 0..n {
        scenario = scenario.client(
            ClientScript::new(format!("c{i}"))
                .wait_ms((i % 1000) as u64)
                .connect(Transport::Websocket)
                .expect_event("get count", Some(vec![json!(0)]), 30_000)
                .wait_ms(1_000)
                .disconnect(),
        );
    }
    let started = Instant::now();
    let report = reference(scenario).run(1);
    let wall = started.elapsed();
    assert!(
        report.passed(),
        "{:?}",
        &report.failures[..report.failures.len().min(5)]
    );
    println!(
        "scale: {n} clients connect and count: {:.2} s wall, {} trace lines, peak RSS {:.0} MiB",
        wall.as_secs_f64(),
        report.trace.events.len(),
        peak_rss_mib()
    );
}

/// `n` clients each send one `chat message`, which reaches all `n`.
fn storm(n: usize) {
    let mut scenario = Scenario::new("storm").duration_ms(120_000);
    for i in 0..n {
        let message = json!(format!("from c{i}"));
        scenario = scenario.client(
            ClientScript::new(format!("c{i}"))
                .wait_ms((i % 1000) as u64)
                .connect(Transport::Websocket)
                .step(Step::Wait {
                    ms: 2_000 - (i % 1000) as u64,
                })
                .emit("chat message", vec![message.clone()])
                .expect_event("chat message", Some(vec![message]), 60_000)
                .wait_ms(5_000)
                .disconnect(),
        );
    }
    let started = Instant::now();
    let report = reference(scenario).run(1);
    let wall = started.elapsed();
    assert!(
        report.passed(),
        "{:?}",
        &report.failures[..report.failures.len().min(5)]
    );
    let received = report
        .trace
        .events
        .iter()
        .filter(|e| e.text.starts_with("42[\"chat message\""))
        .count();
    println!(
        "storm: {n} clients x 1 chat message = {received} deliveries: {:.2} s wall, peak RSS {:.0} MiB",
        wall.as_secs_f64(),
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let number = |default: u64| args.get(1).and_then(|n| n.parse().ok()).unwrap_or(default);
    let started = Instant::now();
    match args.first().map(String::as_str) {
        Some("seeds") => seeds(number(200)),
        Some("heartbeat") => heartbeat(),
        Some("scale") => scale(number(1000) as usize),
        Some("storm") => storm(number(1000) as usize),
        _ => {
            seeds(100);
            heartbeat();
            scale(100);
        }
    }
    eprintln!(
        "(bench finished in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
