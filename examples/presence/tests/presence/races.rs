//! The racy variant's race, found by a seed search over a custom invariant,
//! shrunk to a scenario file and replayed; the correct app passes the search.

use presence_example::{app, racy_app};
use serde_json::json;
use siosim_harness::{ClientScript, Scenario, Simulation, Transport};

use crate::everyone_meets::{EVERYONE_MEETS, everyone_meets};

/// The seeds every search here runs (`SIOSIM_SEEDS=N` widens it, `SIOSIM_SEED=S`
/// replays one).
const SEARCH: std::ops::Range<u64> = 0..100;

/// Three members on three transports join at once and stay a second.
pub fn joining_at_once() -> Scenario {
    let mut scenario = Scenario::new("joining at once");
    for (name, transport) in ["ann", "ben", "cat"].into_iter().zip(Transport::ALL) {
        let member = ClientScript::new(name)
            .connect(transport)
            .request("join", vec![json!(name)], 2_000)
            .wait_ms(1_000)
            .disconnect();
        scenario = scenario.client(member);
    }
    scenario
}

fn judged(app: fn() -> axum::Router) -> Simulation {
    Simulation::new(joining_at_once(), app).invariant(everyone_meets())
}

#[test]
fn the_correct_app_passes_the_seed_search() {
    judged(app).explore(SEARCH).assert_passed();
}

#[test]
fn the_seed_search_finds_the_race_and_shrinks_it_to_a_replayable_file() {
    let search = judged(racy_app).explore(SEARCH);
    let found = search
        .first_failure()
        .unwrap_or_else(|| panic!("no race in {} seeds", search.seeds_run));
    assert!(found.broke(EVERYONE_MEETS), "{found}");

    let shrunk = judged(racy_app).shrink(found.seed(), |verdict| verdict.broke(EVERYONE_MEETS));
    assert!(
        shrunk.after < shrunk.before,
        "{} -> {}",
        shrunk.before,
        shrunk.after
    );
    eprintln!(
        "seed {}: {} -> {}",
        shrunk.seed, shrunk.before, shrunk.after
    );
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("everyone-meets.json");
    shrunk.write(&file).expect("writing the shrunk scenario");

    let replayed = Scenario::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let verdict = Simulation::new(replayed, racy_app)
        .invariant(everyone_meets())
        .check(shrunk.seed);
    assert!(
        verdict.broke(EVERYONE_MEETS),
        "the replay passed:\n{verdict}"
    );
}
