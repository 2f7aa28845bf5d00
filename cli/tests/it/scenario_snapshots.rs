//! Locks down the built-in scenarios' traces against the reference server:
//! event order, emit-to-self versus broadcast, disconnect handling. One
//! snapshot per scenario and transport mix, at a fixed seed.

use siosim::scenarios::{BUILT_INS, TransportMix};
use siosim_harness::Simulation;

/// The seed every snapshot is taken at.
const SNAPSHOT_SEED: u64 = 1;

fn simulation(name: &str, mix: TransportMix) -> Simulation {
    let built_in = siosim::scenarios::find(name).expect("a built-in scenario");
    let config = siosim_server::Config::default();
    Simulation::new((built_in.build)(mix), move || siosim_server::app(&config))
}

fn assert_scenario(name: &str) {
    for mix in TransportMix::ALL {
        let simulation = simulation(name, mix);
        // Every default seed must pass; the snapshot pins one of them.
        let reports = simulation.assert_passes();
        let report = match reports.iter().find(|r| r.seed == SNAPSHOT_SEED) {
            Some(report) => report.clone(),
            None => simulation.run(SNAPSHOT_SEED),
        };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../../../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(format!(
            "siosim run {name} --seed {SNAPSHOT_SEED} --transport {}",
            mix.name()
        ));
        settings.set_omit_expression(true);
        settings.bind(|| {
            insta::assert_snapshot!(format!("{name}-{}", mix.name()), report.trace.to_string())
        });
    }
}

#[test]
fn counter() {
    assert_scenario("counter");
}

#[test]
fn chat() {
    assert_scenario("chat");
}

#[test]
fn disconnect() {
    assert_scenario("disconnect");
}

#[test]
fn things() {
    assert_scenario("things");
}

#[test]
fn every_built_in_is_snapshotted() {
    let tested = ["counter", "chat", "disconnect", "things"];
    let built_in: Vec<&str> = BUILT_INS.iter().map(|b| b.name).collect();
    assert_eq!(built_in, tested);
}

#[test]
fn a_seed_replays_byte_for_byte_and_seeds_differ() {
    let simulation = simulation("counter", TransportMix::Mixed);
    let seven = simulation.assert_deterministic(7);
    let eight = simulation.run(8);
    assert_ne!(
        seven.trace, eight.trace,
        "seeds 7 and 8 gave the same schedule"
    );
}
