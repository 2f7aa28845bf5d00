//! Seed search: many seeds in parallel (each on a fresh OS thread, see
//! [`Simulation::run`]), each run judged by its invariants
//! ([`Simulation::check`]). The first failing seed comes back with its
//! violations, its trace and the command that replays it.
//!
//! ```no_run
//! use siosim_harness::{Scenario, Simulation};
//! # fn my_app() -> axum::Router { axum::Router::new() }
//! # let scenario = Scenario::new("race");
//! // In a #[test]: SIOSIM_SEEDS=N widens the search, SIOSIM_SEED=S replays one seed.
//! Simulation::new(scenario, my_app).explore(0..100).assert_passed();
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::seeds::Seeds;
use crate::simulation::Simulation;
use crate::verdict::Verdict;

/// How often the progress callback is called.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Builds the simulation a seed runs: the same one for every seed, or one
/// whose scenario the seed draws (a [`Swarm`](crate::swarm::Swarm)'s).
pub type SimulationForSeed = Arc<dyn Fn(u64) -> Simulation + Send + Sync>;

/// A seed search to run.
#[derive(Clone)]
pub struct Explorer {
    simulation_for: SimulationForSeed,
    seeds: Vec<u64>,
    jobs: usize,
    keep_going: bool,
}

impl fmt::Debug for Explorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explorer")
            .field("seeds", &self.seeds.len())
            .field("jobs", &self.jobs)
            .field("keep_going", &self.keep_going)
            .finish()
    }
}

/// How far a search has come, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub seeds_run: usize,
    pub seeds_total: usize,
    pub failing: usize,
    pub elapsed: Duration,
}

impl Explorer {
    /// A search over the seeds `simulation_for` is given, on as many workers
    /// as the machine has cores, stopping at the first failure.
    pub fn new(simulation_for: impl Fn(u64) -> Simulation + Send + Sync + 'static) -> Self {
        Self {
            simulation_for: Arc::new(simulation_for),
            seeds: Vec::new(),
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            keep_going: false,
        }
    }

    /// The seeds to run, in order, taken as given; for a search in a test
    /// that honours `SIOSIM_SEED`/`SIOSIM_SEEDS`, pass
    /// [`Seeds::for_exploration`]`(range)`.
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }

    /// Seeds run at once.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Run every seed and collect every failure instead of stopping at the first.
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    pub fn run(&self) -> Exploration {
        self.run_with_progress(|_| {})
    }

    /// Runs the seeds on the workers. Without `keep_going` it stops taking
    /// seeds at the first failure and reports the lowest failing seed among
    /// those that ran. `progress` is called about four times a second, and
    /// once at the end.
    pub fn run_with_progress(&self, mut progress: impl FnMut(Progress)) -> Exploration {
        let test = std::thread::current().name().map(str::to_owned);
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (results, finished) = mpsc::channel::<Verdict>();
        let workers: Vec<_> = (0..self.jobs)
            .map(|_| {
                let (explorer, next, stop, results) =
                    (self.clone(), next.clone(), stop.clone(), results.clone());
                std::thread::spawn(move || explorer.work(&next, &stop, &results))
            })
            .collect();
        drop(results);
        let mut seeds_run = 0;
        let mut failures = Vec::new();
        let mut last_progress = Instant::now();
        let report = |seeds_run, failing| Progress {
            seeds_run,
            seeds_total: self.seeds.len(),
            failing,
            elapsed: started.elapsed(),
        };
        loop {
            match finished.recv_timeout(PROGRESS_EVERY) {
                Ok(verdict) => {
                    seeds_run += 1;
                    if !verdict.passed() {
                        if !self.keep_going {
                            stop.store(true, Ordering::SeqCst);
                        }
                        failures.push(verdict);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                progress(report(seeds_run, failures.len()));
                last_progress = Instant::now();
            }
        }
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        progress(report(seeds_run, failures.len()));
        failures.sort_by_key(Verdict::seed);
        if !self.keep_going {
            failures.truncate(1);
        }
        Exploration {
            seeds_run,
            elapsed: started.elapsed(),
            failures,
            test,
        }
    }

    fn work(&self, next: &AtomicUsize, stop: &AtomicBool, results: &mpsc::Sender<Verdict>) {
        while !stop.load(Ordering::SeqCst) {
            let Some(&seed) = self.seeds.get(next.fetch_add(1, Ordering::SeqCst)) else {
                return;
            };
            let verdict = (self.simulation_for)(seed).check(seed);
            if results.send(verdict).is_err() {
                return;
            }
        }
    }
}

/// What a seed search found.
#[derive(Debug, Clone)]
pub struct Exploration {
    pub seeds_run: usize,
    pub elapsed: Duration,
    /// By seed, ascending; at most one unless the search kept going.
    pub failures: Vec<Verdict>,
    /// The test (thread) that ran the search, for the replay command.
    test: Option<String>,
}

impl Exploration {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The lowest failing seed's verdict, if any seed failed.
    pub fn first_failure(&self) -> Option<&Verdict> {
        self.failures.first()
    }

    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The command that replays `seed` in the test that ran this search.
    pub fn replay_command(&self, seed: u64) -> String {
        Seeds::replay_command_in(self.test.as_deref(), seed)
    }

    /// Panics unless every seed passed, with the first failure's trace, its
    /// violations and the command that replays it.
    #[track_caller]
    pub fn assert_passed(&self) {
        if let Some(failure) = self.first_failure() {
            panic!(
                "{failure}seed {} failed ({} of {} seeds run)\nreproduce: {}",
                failure.seed(),
                self.failures.len(),
                self.seeds_run,
                self.replay_command(failure.seed())
            );
        }
    }
}

impl Simulation {
    /// Searches `seeds` for one that breaks an invariant (see [`Explorer`]),
    /// and prints (to stderr) the failing seed's violations and the command
    /// that replays it in the calling test. `SIOSIM_SEED=S` runs only seed
    /// `S` (the replay); `SIOSIM_SEEDS=N` runs `N` seeds from the first of
    /// `seeds` instead. A malformed variable panics with what is wrong.
    #[track_caller]
    pub fn explore(&self, seeds: impl IntoIterator<Item = u64>) -> Exploration {
        let seeds = Seeds::for_exploration(seeds).unwrap_or_else(|e| panic!("{e}"));
        let this = self.clone();
        let exploration = Explorer::new(move |_| this.clone()).seeds(seeds).run();
        if let Some(failure) = exploration.first_failure() {
            let headlines: Vec<String> = failure.violations.iter().map(|v| v.headline()).collect();
            eprintln!(
                "siosim: seed {} of {:?} failed: {}\nreproduce: {}",
                failure.seed(),
                self.scenario().name,
                headlines.join("; "),
                exploration.replay_command(failure.seed())
            );
        }
        exploration
    }
}
