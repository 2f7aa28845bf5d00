//! Throughput and footprint of simulation runs. Prints figures, never
//! asserts on time (these machines are noisy): `scripts/bench` runs each case
//! in its own process so peak RSS is per case.
//!
//! ```text
//! cargo bench -p siosim --bench simulation -- <case> [n]
//! cases: seeds [n] | heartbeat | scale <clients> | storm <clients> | loopback <clients>
//!        | stepping [n]
//! ```

use std::time::Instant;

use serde_json::json;
use siosim::scenarios::{TransportMix, counter};
use siosim_harness::{
    ClientScript, LiveServer, Report, Scenario, Simulation, Step, Stepping, Transport,
};

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

fn heartbeat_scenario() -> Scenario {
    Scenario::new("heartbeat").client(
        ClientScript::new("alice")
            .connect(Transport::Websocket)
            .step(Step::StopAnsweringPings)
            .step(Step::ExpectDisconnect { within_ms: 60_000 }),
    )
}

/// A silent client timed out by the default heartbeat (25 s + 20 s).
fn heartbeat() {
    let scenario = heartbeat_scenario();
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

/// Without the `skip-idle` feature `SkipIdle` steps every tick; with it,
/// `EveryTick` pays for tokio's timer traces.
const BUILD: &str = if cfg!(feature = "skip-idle") {
    "skip-idle build"
} else {
    "default build"
};

/// The scenario a bench runs with a seed.
type ScenarioOf<'a> = dyn Fn(u64) -> Scenario + 'a;

/// The same runs with idle time skipped and with every tick stepped, one
/// after the other on one thread: `n` counter seeds, `n / 4`
/// swarm seeds, and the heartbeat timeout. Every run must pass.
fn stepping(n: u64) {
    let heartbeat = heartbeat_scenario();
    let kinds: [(&str, u64, &ScenarioOf); 3] = [
        ("counter seeds", n, &|_| counter(TransportMix::Mixed)),
        ("swarm seeds", n / 4, &|seed| {
            siosim::run::named_scenario("swarm", seed, TransportMix::Mixed).expect("swarm")
        }),
        ("heartbeat runs", 3, &|_| heartbeat.clone()),
    ];
    for (what, count, scenario_of) in kinds {
        let mut rates = Vec::new();
        for stepping in [Stepping::SkipIdle, Stepping::EveryTick] {
            let started = Instant::now();
            let mut simulated = std::time::Duration::ZERO;
            for seed in 0..count {
                let mut scenario = scenario_of(seed);
                scenario.network.stepping = stepping;
                // A swarm's faults may strike nothing (as `siosim explore` allows).
                let verdict = reference(scenario).unfired_faults_pass().check(seed);
                assert!(verdict.passed(), "seed {seed}: {}", verdict.verdict());
                simulated += verdict.report.simulated;
            }
            let wall = started.elapsed().as_secs_f64();
            println!(
                "stepping: {what}, {stepping:?}, {BUILD}: {:.1}/s, {:.0}x real time",
                count as f64 / wall,
                simulated.as_secs_f64() / wall
            );
            rates.push(count as f64 / wall);
        }
        println!(
            "stepping: {what}, {BUILD}: SkipIdle / EveryTick = {:.1}x",
            rates[0] / rates[1]
        );
    }
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

/// Chat messages each client of [`loopback`] sends.
const LOOPBACK_MESSAGES: usize = 100;

/// The same scenario against the same Router, in simulation and over real
/// loopback TCP: `n` WebSocket clients meet at a barrier (each increases
/// the count, then waits for it to reach `n`), each sends
/// [`LOOPBACK_MESSAGES`] chat messages one ack after another, and each waits
/// for every sender's last one. Nothing in it waits on a timer, so both runs measure
/// only the cost of moving messages.
fn loopback(n: usize) {
    let scenario = chat_burst(n, LOOPBACK_MESSAGES);
    let deliveries = (n * n * LOOPBACK_MESSAGES) as f64;
    let started = Instant::now();
    let simulated = reference(scenario.clone()).run(1);
    let sim_wall = started.elapsed();
    assert!(simulated.passed(), "{simulated}");
    let (live, live_wall) = over_loopback(&scenario);
    assert!(live.passed(), "{live}");
    let (sim_us, live_us) = (
        sim_wall.as_secs_f64() * 1e6 / deliveries,
        live_wall.as_secs_f64() * 1e6 / deliveries,
    );
    println!(
        "loopback: {n} clients x {LOOPBACK_MESSAGES} chat messages = {deliveries} deliveries: simulation {:.3} s wall ({sim_us:.2} us/delivery, {} ms simulated), loopback TCP {:.3} s ({live_us:.2} us/delivery); simulation / loopback = {:.2}x",
        sim_wall.as_secs_f64(),
        simulated.simulated.as_millis(),
        live_wall.as_secs_f64(),
        sim_us / live_us
    );
}

fn chat_burst(n: usize, messages: usize) -> Scenario {
    let mut scenario = Scenario::new("loopback").duration_ms(120_000);
    for i in 0..n {
        let mut client = ClientScript::new(format!("c{i}"))
            .connect(Transport::Websocket)
            .emit("increase count", vec![])
            .expect_event("get count", Some(vec![json!(n)]), 60_000);
        // Each waits for its ack: paced by round trips, so no socket's
        // queue overflows (socketioxide drops what does not fit).
        for m in 0..messages {
            client = client.request("chat message", vec![json!(format!("c{i}:{m}"))], 60_000);
        }
        for sender in 0..n {
            let last = json!(format!("c{sender}:{}", messages - 1));
            client = client.expect_event("chat message", Some(vec![last]), 60_000);
        }
        scenario = scenario.client(client.disconnect());
    }
    scenario
}

/// Runs `scenario` against the reference server served on 127.0.0.1 by a
/// multi-threaded runtime of this process: the report and the clients' wall time.
fn over_loopback(scenario: &Scenario) -> (Report, std::time::Duration) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime for the server");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binding 127.0.0.1");
    let addr = listener.local_addr().expect("the listener's address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = siosim_server::Server::reference(&siosim_server::Config::default());
    let serving = runtime.spawn(server.serve_tcp(listener, async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    let report = LiveServer::new(addr).run(scenario, 1).expect("no faults");
    let wall = started.elapsed();
    let _ = stop.send(());
    let _ = runtime.block_on(serving);
    (report, wall)
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
        Some("loopback") => loopback(number(10) as usize),
        Some("stepping") => stepping(number(400)),
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
