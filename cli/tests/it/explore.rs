//! Seed exploration: the regressions file first, then `SIOSIM_SEEDS` swarm
//! seeds on the reference server and on the clustered one; and the CLI's find-then-replay loop.

use std::path::PathBuf;

use crate::cli::siosim;
use siosim::cluster::CLUSTER;
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
/// server and on the clustered one. A failing one is appended to the regressions file.
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
    for server in [REFERENCE, CLUSTER] {
        explore_new_seeds(server, count);
    }
}

/// `count` new swarm seeds against `server`, which must all pass.
fn explore_new_seeds(server: &str, count: u64) {
    let config = siosim_server::Config::default();
    let campaign = Campaign {
        scenario: "swarm".into(),
        server: server.into(),
        nodes: None,
        app: run::server_app(server, &config).unwrap(),
        socketio_path: config.socketio_path.clone(),
        transport: TransportMix::Mixed,
        seeds: (0..count).collect(),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        keep_going: false,
    };
    let outcome = campaign.run(|_| {}).expect("a known scenario");
    if let Some(failure) = outcome.first_failure() {
        let line = Regression::line_for("swarm", server, failure.seed());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(regressions_file())
            .expect("opening the regressions file");
        std::io::Write::write_all(&mut file, line.as_bytes()).expect("recording the seed");
        panic!(
            "swarm seed {} fails on the {server} server (recorded in regressions/explore.txt):\n{}",
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

/// `--nodes` fixes a cluster's size for every seed, and the replay line
/// keeps it.
#[test]
fn a_cluster_of_fixed_size_is_explored_and_replayed_with_its_size() {
    let (code, found, _) = siosim(&[
        "explore",
        "swarm",
        "--seeds",
        "0..4",
        "--jobs",
        "1",
        "--quiet",
        "--server",
        "cluster-per-node-count",
        "--nodes",
        "3",
    ]);
    assert_eq!(code, 1, "{found}");
    let replay = found
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .expect("a replay line")
        .to_owned();
    assert!(
        replay.ends_with(" --server cluster-per-node-count --nodes 3"),
        "{replay}"
    );
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let (code, replayed, _) = siosim(&args);
    assert_eq!(code, 1, "{replayed}");
    assert!(replayed.contains("# cluster of 3 nodes"), "{replayed}");
    for seed in ["0", "1", "2", "3"] {
        let (_, run, _) = siosim(&[
            "run", "swarm", "--seed", seed, "--server", "cluster", "--nodes", "3",
        ]);
        assert!(run.contains("# cluster of 3 nodes"), "seed {seed}: {run}");
    }

    let (code, _, stderr) = siosim(&["run", "swarm", "--nodes", "3"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--nodes applies to a clustered server"),
        "{stderr}"
    );
    let (code, _, stderr) = siosim(&[
        "explore", "swarm", "--seeds", "0..1", "--server", "cluster", "--nodes", "99",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--nodes 99: a cluster runs 1 to 8 nodes"),
        "{stderr}"
    );
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

/// Three shards of one campaign, their index read the way a Kubernetes
/// Indexed Job gives it, merge into the report of the whole range: the
/// same seeds run, the same failing seeds, the same exit code.
#[test]
fn shards_from_a_job_index_merge_into_the_whole_campaign() {
    let dir = std::env::temp_dir().join(format!("siosim-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let campaign = [
        "explore",
        "swarm",
        "--seeds",
        "0..9",
        "--jobs",
        "1",
        "--quiet",
        "--keep-going",
        "--server",
        "lost-update",
    ];
    let (whole_code, _, _) = siosim(&[&campaign[..], &["--json", &path("whole.json")]].concat());
    let mut shards = Vec::new();
    for index in 0..3 {
        let file = path(&format!("shard-{index}.json"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_siosim"))
            .args(campaign)
            .args(["--shard", "auto/3", "--json", &file])
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .output()
            .expect("running siosim");
        assert!(
            output.status.code().is_some_and(|code| code <= 1),
            "{output:?}"
        );
        shards.push(file);
    }
    let merged_json = path("merged.json");
    let merge: Vec<&str> = ["explore", "--merge"]
        .into_iter()
        .chain(shards.iter().map(String::as_str))
        .chain(["--json", &merged_json])
        .collect();
    let (code, out, stderr) = siosim(&merge);
    assert_eq!(code, whole_code, "{out}{stderr}");
    assert!(out.contains("merged 3 shards: 9 seeds of swarm"), "{out}");

    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap()
    };
    let (whole, merged) = (read("whole.json"), read("merged.json"));
    assert_eq!(merged["seeds_run"], whole["seeds_run"]);
    assert_eq!(merged["shards_merged"], 3);
    let seeds = |report: &serde_json::Value| -> Vec<u64> {
        let mut seeds: Vec<u64> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["seed"].as_u64().unwrap())
            .collect();
        seeds.sort_unstable();
        seeds
    };
    assert_eq!(seeds(&merged), seeds(&whole));

    let (code, _, stderr) = siosim(&["explore", "--merge", &shards[0], &shards[2]]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("shards missing: 2/3"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
