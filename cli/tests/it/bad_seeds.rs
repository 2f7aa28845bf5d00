//! A campaign survives a bad seed: a seed that aborts the process,
//! overflows its stack or never ends is reported as a failure with its
//! replay line, and the search goes on with the next seed (the `aborts`,
//! `overflows-stack` and `hangs` variants strike on the same seeds).

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::cli::siosim;

const SEEDS: u64 = 12;

/// Explores the counter on `server`, keeping going: the failing seeds, as
/// the JSON report lists them, and stdout.
fn explore(server: &str, extra: &[&str]) -> (BTreeSet<u64>, Value, String) {
    explore_scenario("counter", server, extra)
}

fn explore_scenario(
    scenario: &str,
    server: &str,
    extra: &[&str],
) -> (BTreeSet<u64>, Value, String) {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("siosim-bad-seeds-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("campaign.json");
    let seeds = format!("0..{SEEDS}");
    let mut args = vec![
        "explore",
        scenario,
        "--server",
        server,
        "--seeds",
        &seeds,
        "--keep-going",
        "--quiet",
        "--jobs",
        "2",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let (code, stdout, stderr) = siosim(&args);
    assert_eq!(code, 1, "{server}: {stdout}{stderr}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        report["seeds_run"], SEEDS,
        "every seed ran after the bad ones: {stdout}"
    );
    let failing = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["seed"].as_u64().unwrap())
        .collect();
    (failing, report, stdout)
}

fn invariants_of(report: &Value) -> BTreeSet<String> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["invariant"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn aborting_overflowing_and_hanging_seeds_fail_and_the_campaign_goes_on() {
    let (aborted, report, stdout) = explore("aborts", &[]);
    assert!(
        !aborted.is_empty() && aborted.len() < SEEDS as usize,
        "some seeds abort, some pass: {aborted:?}"
    );
    assert_eq!(
        invariants_of(&report),
        BTreeSet::from(["run.process-died".to_owned()])
    );
    assert!(stdout.contains("killed by signal 6 (SIGABRT"), "{stdout}");
    let first = *aborted.first().unwrap();
    let replay = format!("siosim run counter --seed {first} --server aborts");
    assert!(stdout.contains(&format!("replay: {replay}\n")), "{stdout}");

    // The replay line really aborts, in a process of its own (which writes
    // no core file).
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -c 0; exec {} {}",
            env!("CARGO_BIN_EXE_siosim"),
            replay
                .split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
        ))
        .output()
        .unwrap()
        .status;
    assert_eq!(status.signal(), Some(libc_sigabrt()), "{status:?}");

    let (overflowed, report, stdout) = explore("overflows-stack", &[]);
    assert_eq!(overflowed, aborted, "the variants strike on the same seeds");
    assert_eq!(
        invariants_of(&report),
        BTreeSet::from(["run.process-died".to_owned()])
    );
    assert!(
        stdout.contains("has overflowed its stack"),
        "the worker's stderr is kept: {stdout}"
    );

    let (hung, report, stdout) = explore("hangs", &["--seed-timeout", "3s"]);
    assert_eq!(hung, aborted, "the variants strike on the same seeds");
    assert_eq!(
        invariants_of(&report),
        BTreeSet::from(["run.hung".to_owned()])
    );
    assert!(
        stdout.contains("did not end within 3 s of real time"),
        "{stdout}"
    );
}

#[test]
fn workers_are_recycled_without_changing_any_verdict() {
    let (recycled, _, stdout_recycled) = explore("aborts", &["--seeds-per-worker", "1"]);
    let (in_one, _, stdout_in_one) = explore("aborts", &["--seeds-per-worker", "1000"]);
    assert_eq!(recycled, in_one);
    let verdicts = |stdout: &str| {
        stdout
            .lines()
            .filter(|l| !l.starts_with("explored"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&stdout_recycled), verdicts(&stdout_in_one));
}

#[test]
fn in_process_and_worker_campaigns_agree_on_a_racy_variant() {
    let (in_workers, _, stdout_workers) = explore_scenario("swarm", "lost-update", &[]);
    let (in_process, _, stdout_threads) =
        explore_scenario("swarm", "lost-update", &["--in-process"]);
    assert!(!in_workers.is_empty(), "{stdout_workers}");
    assert_eq!(
        in_workers, in_process,
        "{stdout_workers}\n---\n{stdout_threads}"
    );
    let verdicts = |stdout: &str| stdout.split("\nexplored ").next().map(str::to_owned);
    assert_eq!(verdicts(&stdout_workers), verdicts(&stdout_threads));
}

/// SIGABRT's number on Linux, where siosim runs.
fn libc_sigabrt() -> i32 {
    6
}
