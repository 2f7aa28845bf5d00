//! Shrinking a racy variant's failing seed to a small scenario file that
//! `siosim run --scenario-file` replays, still failing the same way.

use crate::cli::siosim;
use siosim::shrink::Size;
use siosim_harness::Scenario;

#[test]
fn a_failing_seed_shrinks_to_a_smaller_file_that_still_fails() {
    let dir = std::env::temp_dir().join(format!("siosim-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("shrunk.json");
    let (code, printed, stderr) = siosim(&[
        "shrink",
        "swarm",
        "--seed",
        "1",
        "--server",
        "early-room-emit",
        "--max-runs",
        "150",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{printed}{stderr}");
    assert!(
        printed.starts_with("shrunk for delivery.join-ack-means-member in "),
        "{printed}"
    );
    let shrunk = Scenario::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let original = siosim_conformance::reference::swarm().scenario(1);
    assert!(Size::of(&shrunk) < Size::of(&original), "{printed}");
    assert!(
        Size::of(&shrunk).steps * 4 < Size::of(&original).steps,
        "{printed}"
    );

    let replay = printed
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .expect("a replay line");
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let (code, replayed, _) = siosim(&args);
    assert_eq!(code, 1, "{replayed}");
    assert!(
        replayed.contains("invariant delivery.join-ack-means-member violated"),
        "{replayed}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_passing_seed_has_nothing_to_shrink() {
    let out = std::env::temp_dir().join(format!("siosim-noshrink-{}.json", std::process::id()));
    let (code, _, stderr) = siosim(&[
        "shrink",
        "counter",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("passes: nothing to shrink"), "{stderr}");
    assert!(!out.exists());
}
