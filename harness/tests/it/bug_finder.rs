//! The bug finder as a dependent crate uses it: a custom invariant (closure
//! and trait) over a tiny tally app with a lost-update race, a seed search
//! that finds it, a shrink with a user predicate, and `SIOSIM_SEED` replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use siosim_harness::invariants::{self, History, Invariant, Violation, Way};
use siosim_harness::swarm::{EventFamily, Swarm};
use siosim_harness::{ClientScript, Explorer, Scenario, Simulation, Transport};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef};

/// The invariant the race breaks.
const DISTINCT_TALLIES: &str = "tally.distinct-acks";
/// How long the racy handler waits between reading and writing the tally.
const STORE_LATENCY: Duration = Duration::from_millis(3);
/// The seeds searched: enough that the race surely shows.
const SEARCHED: std::ops::Range<u64> = 0..64;

/// `add` increments a tally and acks the new value. The racy build reads,
/// waits for a store, then writes what it read plus one: two overlapping
/// adds get the same value.
fn tally_app(racy: bool) -> impl Fn() -> axum::Router + Send + Sync + 'static {
    move || {
        let tally = Arc::new(AtomicU64::new(0));
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", move |socket: SocketRef| {
            let tally = tally.clone();
            async move {
                socket.on("add", move |ack: AckSender| {
                    let tally = tally.clone();
                    async move {
                        let value = if racy {
                            let read = tally.load(Ordering::SeqCst);
                            tokio::time::sleep(STORE_LATENCY).await;
                            tally.store(read + 1, Ordering::SeqCst);
                            read + 1
                        } else {
                            tally.fetch_add(1, Ordering::SeqCst) + 1
                        };
                        let _ = ack.send(&value);
                    }
                });
            }
        });
        axum::Router::new().layer(layer)
    }
}

/// Three clients adding at the same instants: only network jitter orders them.
fn tallies() -> Scenario {
    let client = |name: &str| {
        let mut script = ClientScript::new(name).connect(Transport::Websocket);
        for _ in 0..4 {
            script = script.wait_ms(100).request("add", vec![], 1_000);
        }
        script.disconnect()
    };
    Scenario::new("tallies")
        .client(client("alice"))
        .client(client("bob"))
        .client(client("carol"))
        .latency_ms(0, 20)
        .duration_ms(5_000)
}

/// No two `add` acks carry the same tally: as a closure.
fn distinct_tallies() -> impl Invariant {
    invariants::from_fn(DISTINCT_TALLIES, |history| {
        let mut first_ack_of: std::collections::BTreeMap<u64, usize> = Default::default();
        let acks = history.packets_where(|_, p| p.way == Way::Received && p.is_ack());
        for (session, ack) in acks {
            let Some(value) = ack.first_u64() else {
                continue;
            };
            if let Some(&first) = first_ack_of.get(&value) {
                return vec![Violation::new(
                    DISTINCT_TALLIES,
                    format!("{} was acked tally {value} twice", session.alias),
                    history.witnesses(&[first, ack.event]),
                )];
            }
            first_ack_of.insert(value, ack.event);
        }
        Vec::new()
    })
}

/// Every `add` a session sent is acked: as a trait implementation.
struct EveryAddAcked;

impl Invariant for EveryAddAcked {
    fn name(&self) -> &str {
        "tally.every-add-acked"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        history
            .sessions()
            .flat_map(|session| {
                session
                    .events(Way::Sent, "add")
                    .map(move |add| (session, add))
            })
            .filter(|(session, add)| session.ack_of(add).is_none())
            .map(|(session, add)| {
                Violation::new(
                    "tally.every-add-acked",
                    format!("{}'s add was never acked", session.alias),
                    history.witnesses(&[add.event]),
                )
            })
            .collect()
    }
}

fn simulation(racy: bool) -> Simulation {
    Simulation::new(tallies(), tally_app(racy))
        .invariant(distinct_tallies())
        .invariant(EveryAddAcked)
}

#[test]
fn custom_invariants_pass_on_the_correct_app() {
    let verdict = simulation(false).check(1);
    assert!(verdict.passed(), "{verdict}");
    assert_eq!(
        verdict.report.trace.to_string().matches("ack #").count(),
        12
    );
}

#[test]
fn explore_finds_the_race_and_its_seed_replays_it() {
    let exploration = simulation(true).explore(SEARCHED);
    println!("explored {} seeds", exploration.seeds_run);
    let failure = exploration
        .first_failure()
        .expect("the lost update shows within the searched seeds");
    assert!(failure.broke(DISTINCT_TALLIES), "{failure}");
    assert!(!failure.broke("tally.every-add-acked"), "{failure}");
    let witnesses = &failure.violations[0].witnesses;
    assert_eq!(witnesses.len(), 2, "{failure}");
    assert!(
        witnesses.iter().all(|w| w.text.starts_with("43")),
        "{failure}"
    );
    // The seed alone reproduces the same bytes.
    assert_eq!(simulation(true).check(failure.seed()), *failure);
    assert!(
        exploration
            .replay_command(failure.seed())
            .ends_with("-- --exact bug_finder::explore_finds_the_race_and_its_seed_replays_it"),
        "{}",
        exploration.replay_command(failure.seed())
    );
    // The correct app passes every seed the racy one was searched with.
    simulation(false)
        .explore(0..=failure.seed())
        .assert_passed();
}

#[test]
fn keep_going_collects_every_failing_seed_in_order() {
    let explorer = {
        let racy = simulation(true);
        Explorer::new(move |_| racy.clone())
            .seeds(0..16)
            .jobs(2)
            .keep_going(true)
    };
    let found = explorer.run();
    assert_eq!(found.seeds_run, 16);
    let seeds: Vec<u64> = found.failures.iter().map(|f| f.seed()).collect();
    assert!(seeds.windows(2).all(|w| w[0] < w[1]), "{seeds:?}");
    assert!(seeds.len() > 1, "{seeds:?}");
}

#[test]
fn shrink_keeps_the_user_predicate_true_and_writes_a_smaller_scenario() {
    let racy = simulation(true);
    let seed = racy
        .explore(SEARCHED)
        .first_failure()
        .expect("the race shows")
        .seed();
    let shrunk = siosim_harness::Shrinker::new(racy.clone(), seed)
        .max_runs(200)
        .shrink(|verdict| verdict.broke(DISTINCT_TALLIES));
    assert!(
        shrunk.after < shrunk.before,
        "{} -> {}",
        shrunk.before,
        shrunk.after
    );
    assert!(shrunk.attempts <= 200);
    let file = std::env::temp_dir().join(format!("siosim-shrunk-{}.json", std::process::id()));
    shrunk.write(&file).unwrap();
    let read = Scenario::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(read, shrunk.scenario);
    let replayed = racy.with_scenario(read).check(seed);
    assert!(replayed.broke(DISTINCT_TALLIES), "{replayed}");
}

#[test]
fn assert_passes_judges_the_invariants_and_names_the_test_to_replay() {
    let always = invariants::from_fn("tally.never-acked", |history| {
        history
            .packets_where(|_, p| p.is_ack())
            .into_iter()
            .take(1)
            .map(|(_, ack)| {
                Violation::new(
                    "tally.never-acked",
                    "an ack",
                    history.witnesses(&[ack.event]),
                )
            })
            .collect()
    });
    let simulation = Simulation::new(tallies(), tally_app(false)).invariant(always);
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| simulation.assert_passes()))
            .expect_err("an invariant that fails must fail assert_passes");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("invariant tally.never-acked violated: an ack"),
        "{message}"
    );
    assert!(
        message.contains(
            "cargo test -p siosim-harness -- --exact bug_finder::assert_passes_judges_the_invariants_and_names_the_test_to_replay"
        ),
        "{message}"
    );
}

/// Runs [`explore_finds_the_race_and_its_seed_replays_it`] alone, as its
/// replay line says, with `SIOSIM_SEED` set to the seed it finds: the search
/// then runs that one seed, and finds the race again.
#[test]
fn the_printed_replay_line_reruns_one_seed() {
    let seed = simulation(true)
        .explore(SEARCHED)
        .first_failure()
        .expect("the race shows")
        .seed();
    let test = "bug_finder::explore_finds_the_race_and_its_seed_replays_it";
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(siosim_harness::SEED_VARIABLE, seed.to_string())
        .env_remove(siosim_harness::SEED_COUNT_VARIABLE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stdout.contains("explored 1 seeds"), "{stdout}");
    let malformed = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test])
        .env(siosim_harness::SEED_VARIABLE, "seven")
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&malformed.stdout),
        String::from_utf8_lossy(&malformed.stderr)
    );
    assert!(!malformed.status.success(), "{printed}");
    assert!(
        printed.contains("SIOSIM_SEED=\"seven\" is not a u64"),
        "{printed}"
    );
}

/// The tally app's swarm: `add`s in the mix, one more on the healed network.
fn tally_swarm() -> Swarm {
    Swarm::new()
        .family(EventFamily::new("tally", |_, _| ("add".into(), vec![])))
        .finale(|_, _| vec![("add".into(), vec![])])
}

#[test]
fn a_swarm_of_the_apps_own_events_finds_the_race_and_not_on_the_correct_app() {
    let explore = |racy: bool| {
        let swarm = tally_swarm();
        Explorer::new(move |seed| {
            Simulation::new(swarm.scenario(seed), tally_app(racy))
                .invariant(distinct_tallies())
                .unfired_faults_pass()
        })
        .seeds(0..24)
        .run()
    };
    let racy = explore(true);
    let failure = racy
        .first_failure()
        .expect("the swarm finds the lost update");
    assert!(failure.broke(DISTINCT_TALLIES), "{failure}");
    assert!(
        failure.report.trace.to_string().contains(r#"["add"]"#),
        "{failure}"
    );
    let correct = explore(false);
    assert!(correct.passed(), "{}", correct.failures[0]);
    assert_eq!(correct.seeds_run, 24);
}
