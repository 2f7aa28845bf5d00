//! A seed replays byte for byte whatever else the process did first: other
//! simulations before it or beside it leave tokio's process-wide task-id
//! counter somewhere else, and that must not reach the trace.

use serde_json::json;
use siosim_harness::{ClientScript, Fault, Scenario, Simulation, Step, Transport};

use crate::echo_app::echo_app;

/// The seed every comparison here replays.
const SEED: u64 = 5;
/// tokio puts a runtime's spawned tasks into this many shards (task id modulo
/// the count) and drops them shard by shard when the runtime goes: every
/// remainder must give the same trace.
const TASK_SHARDS: usize = 4;

/// Several sessions over every transport are open when the server host goes
/// down at `fault`, so the order their connections close in matters.
fn torn_down_with_sessions_open(fault: Fault) -> Scenario {
    let reconnects = matches!(fault, Fault::Bounce);
    let mut scenario = Scenario::new("torn down with sessions open")
        .latency_ms(1, 20)
        .fault(1_000, fault);
    for (index, name) in ["ann", "ben", "cat", "dan", "eve", "fay"]
        .iter()
        .enumerate()
    {
        let transport = Transport::ALL[index % Transport::ALL.len()];
        let mut client = ClientScript::new(*name)
            .connect(transport)
            .emit_with_ack("echo", vec![json!(index)])
            .expect_ack(Some(vec![json!(index)]), 900)
            .step(Step::ExpectDisconnect { within_ms: 10_000 });
        if reconnects {
            client = client
                .connect(transport)
                .emit_with_ack("echo", vec![json!("back")])
                .expect_ack(Some(vec![json!("back")]), 2_000)
                .disconnect();
        }
        scenario = scenario.client(client);
    }
    scenario
}

/// Moves tokio's process-wide task-id counter on by `tasks`, as simulations
/// run earlier in the process would.
fn spawn_tasks_elsewhere(tasks: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a throwaway runtime");
    for _ in 0..tasks {
        runtime
            .block_on(async { tokio::spawn(async {}).await })
            .expect("an empty task");
    }
}

fn assert_same_trace_whatever_ran_before(fault: Fault) {
    let simulation = Simulation::new(torn_down_with_sessions_open(fault), echo_app);
    let reference = simulation.run(SEED);
    assert!(reference.passed(), "{reference}");
    let reference = reference.trace.to_string();
    for tasks in 1..=TASK_SHARDS {
        spawn_tasks_elsewhere(tasks);
        let replay = simulation.run(SEED).trace.to_string();
        let diverged = reference
            .lines()
            .zip(replay.lines())
            .position(|(a, b)| a != b);
        assert!(
            replay == reference,
            "seed {SEED} replayed differently after {tasks} tasks ran elsewhere, from line {diverged:?}:\nfirst:\n{reference}\nreplay:\n{replay}"
        );
    }
}

#[test]
fn a_bounce_replays_the_same_whatever_the_process_spawned_before() {
    assert_same_trace_whatever_ran_before(Fault::Bounce);
}

#[test]
fn a_crash_replays_the_same_whatever_the_process_spawned_before() {
    assert_same_trace_whatever_ran_before(Fault::Crash);
}

#[test]
fn a_bounce_replays_the_same_beside_other_simulations() {
    let simulation = Simulation::new(torn_down_with_sessions_open(Fault::Bounce), echo_app);
    let alone = simulation.run(SEED).trace.to_string();
    let beside_others: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..TASK_SHARDS)
            .map(|_| scope.spawn(|| simulation.run(SEED).trace.to_string()))
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a simulation thread"))
            .collect()
    });
    for (index, trace) in beside_others.iter().enumerate() {
        assert!(
            *trace == alone,
            "run {index} of {TASK_SHARDS} in parallel differs from the run alone:\nalone:\n{alone}\nin parallel:\n{trace}"
        );
    }
}
