//! Seed exploration: the regressions file first, then `SIOSIM_SEEDS` swarm
//! seeds on the reference server; and the CLI's find-then-replay loop.

use std::path::PathBuf;

use crate::cli::siosim;
use siosim::explore::{Campaign, Regression};
use siosim::run::{self, REFERENCE};
use siosim::scenarios::TransportMix;

/// Swarm seeds the test explores when `SIOSIM_SEEDS` is unset: few, so CI stays fast.
const DEFAULT_SEED_COUNT: u64 = 6;

fn regressions_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions/explore.txt")
}

/// The regressions first (each seed keeps its recorded verdict), then
/// `SIOSIM_SEEDS=N` new swarm seeds, which must all pass on the reference
/// server. A failing one is appended to the regressions file.
#[test]
fn regressions_then_new_swarm_seeds() {
    let text = std::fs::read_to_string(regressions_file()).expect("reading the regressions file");
    let regressions = Regression::parse_file(&text).expect("a well-formed regressions file");
    assert!(!regressions.is_empty());
    let mismatches: Vec<String> = regressions
        .iter()
        .filter_map(|r| {
            r.replay(regressions_file().parent().unwrap())
                .expect("a known scenario and server")
                .err()
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    let count = match std::env::var("SIOSIM_SEEDS") {
        Ok(value) => value
            .trim()
            .parse()
            .expect("SIOSIM_SEEDS is a count of seeds"),
        Err(_) => DEFAULT_SEED_COUNT,
    };
    let config = siosim_server::Config::default();
    let campaign = Campaign {
        scenario: "swarm".into(),
        server: REFERENCE.into(),
        app: run::server_app(REFERENCE, &config).unwrap(),
        socketio_path: config.socketio_path.clone(),
        transport: TransportMix::Mixed,
        seeds: (0..count).collect(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        keep_going: false,
    };
    let outcome = campaign.run(|_| {}).expect("a known scenario");
    if let Some(failure) = outcome.first_failure() {
        let line = Regression::line_for("swarm", REFERENCE, failure.seed());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(regressions_file())
            .expect("opening the regressions file");
        std::io::Write::write_all(&mut file, line.as_bytes()).expect("recording the seed");
        panic!(
            "swarm seed {} fails on the reference server (recorded in regressions/explore.txt):\n{}",
            failure.seed(),
            campaign.describe(&failure.into())
        );
    }
    assert_eq!(outcome.seeds_run as u64, count, "every seed ran");
}

/// explore finds a racy variant's bug, and the printed replay line
/// reproduces the same violation byte for byte.
#[test]
fn explore_finds_a_race_and_run_replays_it_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("siosim-explore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("campaign.json");
    let (code, found, _) = siosim(&[
        "explore",
        "swarm",
        "--seeds",
        "0..4",
        "--jobs",
        "1",
        "--quiet",
        "--server",
        "lost-update",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{found}");
    let replay = found
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .expect("a replay line")
        .to_owned();
    assert_eq!(replay, "siosim run swarm --seed 0 --server lost-update");
    let verdict_start = found.find("invariant counter.").expect("the violation");
    let verdict = &found[verdict_start..found.find("replay: ").unwrap()];

    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let (code, replayed, stderr) = siosim(&args);
    assert_eq!(code, 1, "{replayed}");
    assert!(replayed.ends_with(verdict), "{replayed}\n---\n{verdict}");
    assert!(replayed.starts_with("# swarm seed 0\n"), "{replayed}");
    assert!(stderr.contains(&format!("replay: {replay}")), "{stderr}");

    let campaign: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(campaign["server"], "lost-update");
    assert_eq!(campaign["failures"][0]["seed"], 0);
    assert_eq!(campaign["failures"][0]["replay"], replay.as_str());
    assert!(campaign["seeds_per_second"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explore_keep_going_and_shards_cover_their_slice() {
    let (code, out, _) = siosim(&[
        "explore",
        "counter",
        "--seeds",
        "0..6",
        "--shard",
        "2/3",
        "--jobs",
        "2",
        "--quiet",
        "--keep-going",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("explored 2 seeds of counter against reference"),
        "{out}"
    );
}

#[test]
fn explore_rejects_bad_input_clearly() {
    let (code, _, stderr) = siosim(&["explore", "swarm", "--seeds", "9..3"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no seed"), "{stderr}");
    let (code, _, stderr) = siosim(&["explore", "swarm", "--seeds", "0..3", "--server", "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no server variant \"nope\""), "{stderr}");
    let (code, _, stderr) = siosim(&["explore", "nope", "--seeds", "0..3"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no built-in scenario \"nope\""), "{stderr}");
}
