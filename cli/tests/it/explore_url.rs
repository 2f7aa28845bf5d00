//! `siosim explore --url`, `shrink --url` and `run --url` against servers
//! served over real TCP by `siosim serve`: the reference is clean, every
//! racy variant is found (by the invariant its bug breaks) within a stated
//! number of seeds, a shrunk plan still reproduces, and flags or targets
//! that cannot apply are refused before anything runs.

use siosim::exit_code::Exit;

use crate::cli::siosim;
use crate::served::Served;

/// Seeds within which `explore --url --profile app` must find each racy
/// variant (README "Random testing of a live server" and BENCHMARKS.md
/// give the seeds each needed).
const FIND_WITHIN_SEEDS: &str = "0..40";

/// Short heartbeats: a plan whose client goes silent waits for the server's
/// drop, pingInterval + pingTimeout (45 s with the defaults). A 2 s
/// timeout, so that a client stalled by a loaded machine (these tests run
/// beside the simulation's) is not dropped while it is healthy.
const FAST_TIMERS: [&str; 4] = ["--ping-interval-ms", "1000", "--ping-timeout-ms", "2000"];

fn explore(served: &Served, profile: &str, seeds: &str) -> (i32, String, String) {
    let url = served.url();
    siosim(&[
        "explore",
        "--url",
        &url,
        "--profile",
        profile,
        "--seeds",
        seeds,
        "--quiet",
    ])
}

#[test]
fn the_reference_keeps_every_invariant_over_tcp() {
    let served = Served::with_flags("reference", &FAST_TIMERS);
    for (profile, seeds) in [("app", "0..6"), ("protocol", "0..3")] {
        let (code, out, err) = explore(&served, profile, seeds);
        assert_eq!(
            code,
            i32::from(Exit::Passed.code()),
            "{profile}\n{out}\n{err}"
        );
        assert!(out.contains(": 0 failing"), "{out}");
    }
}

#[test]
fn every_racy_variant_is_found_over_tcp() {
    let variants = [
        (
            "lost-update",
            &["counter.no-lost-increment", "counter.monotonic"][..],
        ),
        (
            "early-room-emit",
            &["delivery.join-ack-means-member", "delivery.no-room-leak"],
        ),
        (
            "spawned-chat",
            &[
                "chat.fifo-per-sender",
                "chat.echo-before-ack",
                "chat.total-order",
            ],
        ),
        // The departed socket lingers in its rooms during the disconnect
        // handler's await, and socketioxide gives a rejoining socket the
        // engine's sid: the same connection's CONNECT is never answered and
        // the server closes it.
        (
            "slow-disconnect",
            &["delivery.no-room-leak", "run.expectations"],
        ),
    ];
    for (variant, broken) in variants {
        let served = Served::with_flags(variant, &FAST_TIMERS);
        let (code, out, err) = explore(&served, "app", FIND_WITHIN_SEEDS);
        assert_eq!(
            code,
            i32::from(Exit::Failed.code()),
            "{variant}\n{out}\n{err}"
        );
        assert!(
            broken
                .iter()
                .any(|invariant| out.contains(&format!("invariant {invariant} violated")))
                || (broken.contains(&"run.expectations") && out.contains("FAIL ")),
            "{variant} broke none of {broken:?}:\n{out}"
        );
        assert!(
            out.contains(&format!("replay:  siosim explore --url {}", served.url())),
            "{out}"
        );
    }
}

#[test]
fn a_shrunk_plan_still_reproduces_and_replays_with_run() {
    let served = Served::with_flags("lost-update", &FAST_TIMERS);
    let url = served.url();
    let dir = std::env::temp_dir().join(format!("siosim-explore-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let plan = dir.join("plan.json");
    let plan = plan.to_str().expect("a UTF-8 path");
    let (code, out, err) = siosim(&[
        "shrink",
        "--url",
        &url,
        "--profile",
        "app",
        "--seed",
        "0",
        "--max-runs",
        "8",
        "--invariant",
        "counter.no-lost-increment",
        "--out",
        plan,
    ]);
    assert_eq!(code, i32::from(Exit::Passed.code()), "{out}\n{err}");
    // A live race need not reproduce every time (least of all on a loaded
    // machine): the rate is reported, the file is smaller.
    assert!(out.contains("the shrunk plan reproduced in"), "{out}");
    let shrunk = std::fs::read_to_string(plan).expect("the plan file");
    let shrunk = siosim_harness::Scenario::from_json(&shrunk).expect("a scenario");
    let steps: usize = shrunk.clients.iter().map(|c| c.steps.len()).sum();
    assert!(out.contains(&format!(", {steps} steps,")), "{out}");
    let (code, out, _) = siosim(&[
        "run",
        "--url",
        &url,
        "--profile",
        "app",
        "--scenario-file",
        plan,
    ]);
    // One run of a race need not reproduce it; it must run and be judged.
    assert!([0, 1].contains(&code), "{out}");
    assert!(out.starts_with("scenario live-swarm seed"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_cannot_apply_is_refused_before_anything_runs() {
    let usage = i32::from(Exit::Usage.code());
    let refusals = [
        (
            &[
                "explore",
                "--url",
                "http://127.0.0.1:9",
                "--seeds",
                "0..2",
                "--server",
                "lost-update",
            ][..],
            "--server applies to a server in simulation",
        ),
        (
            &["explore", "swarm", "--seeds", "0..2", "--profile", "app"],
            "--profile applies only to a live server",
        ),
        (
            &[
                "explore",
                "--url",
                "http://192.0.2.1:3000",
                "--seeds",
                "0..2",
            ],
            "--allow-host 192.0.2.1",
        ),
        (
            &[
                "explore",
                "counter",
                "--url",
                "http://127.0.0.1:9",
                "--seeds",
                "0..2",
            ],
            "built-in scenarios run in simulation only",
        ),
        (
            &[
                "explore",
                "--url",
                "http://127.0.0.1:9",
                "--seeds",
                "0..2",
                "--duration",
                "0s",
            ],
            "more than nothing",
        ),
        (
            &[
                "shrink",
                "--url",
                "http://127.0.0.1:9",
                "--seed",
                "1",
                "--out",
                "x.json",
                "--transport",
                "polling",
            ],
            "--transport applies to a server in simulation",
        ),
    ];
    for (args, says) in refusals {
        let (code, out, err) = siosim(args);
        assert_eq!(code, usage, "{args:?}\n{out}\n{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (code, out, _) = siosim(&["explore", "--url", "http://127.0.0.1:9", "--seeds", "0..2"]);
    assert_eq!(code, i32::from(Exit::ServerUnusable.code()), "{out}");
    assert!(
        out.contains("preflight FAILED: nothing listening at 127.0.0.1:9"),
        "{out}"
    );
}

#[test]
fn a_budget_ends_the_campaign_and_says_which_limit() {
    let served = Served::with_flags("reference", &FAST_TIMERS);
    let url = served.url();
    for (limit, value) in [
        ("--duration", "1s"),
        ("--max-sessions", "1"),
        ("--max-operations", "1"),
    ] {
        let (code, out, err) = siosim(&[
            "explore", "--url", &url, "--seeds", "0..1000", limit, value, "--quiet",
        ]);
        assert_eq!(code, i32::from(Exit::Passed.code()), "{out}\n{err}");
        let said = format!("{limit} ended the campaign after 1 of 1000 seeds");
        assert!(out.contains(&said), "{out}");
    }
}
