//! Shrinking: from a failing seed to a smaller scenario that, with the same
//! seed, still fails the way you say (a predicate over the [`Verdict`]).
//! Fewer clients, fewer faults, fewer steps, shorter faults and waits;
//! greedy and deterministic (the same input shrinks to the same scenario),
//! bounded by a number of runs.
//!
//! turmoil, madsim and TigerBeetle's VOPR replay a failing seed but do not
//! minimise the schedule: this is the reading aid they lack.
//!
//! ```no_run
//! use siosim_harness::{Scenario, Simulation};
//! # fn my_app() -> axum::Router { axum::Router::new() }
//! # let scenario = Scenario::new("race");
//! let simulation = Simulation::new(scenario, my_app);
//! let shrunk = simulation.shrink(7, |verdict| verdict.broke("app.members-agree"));
//! shrunk.write("members-agree.json").unwrap();
//! println!("{} -> {}", shrunk.before, shrunk.after);
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::scenario::{Fault, Scenario, Step};
use crate::simulation::Simulation;
use crate::verdict::Verdict;

/// Runs a shrink spends unless told otherwise.
pub const DEFAULT_MAX_RUNS: usize = 1_000;

/// How big a scenario is, in the terms shrinking reduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size {
    pub clients: usize,
    pub steps: usize,
    pub faults: usize,
    /// Simulated milliseconds during which some fault is in force, summed.
    pub fault_ms: u64,
    /// Simulated milliseconds of `wait` steps, summed.
    pub wait_ms: u64,
    /// Server nodes (a cluster's; 1 for one server).
    pub nodes: usize,
}

impl Size {
    pub fn of(scenario: &Scenario) -> Size {
        let steps = scenario.clients.iter().flat_map(|c| &c.steps);
        Size {
            clients: scenario.clients.len(),
            steps: steps.clone().count(),
            faults: scenario.faults.len(),
            fault_ms: fault_windows(scenario).iter().map(|&(_, a, b)| b - a).sum(),
            wait_ms: steps
                .map(|s| match s {
                    Step::Wait { ms } => *ms,
                    _ => 0,
                })
                .sum(),
            nodes: scenario.nodes.max(1),
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nodes > 1 {
            write!(f, "{} nodes, ", self.nodes)?;
        }
        write!(
            f,
            "{} clients, {} steps, {} faults ({} ms in force), {} ms of waits",
            self.clients, self.steps, self.faults, self.fault_ms, self.wait_ms
        )
    }
}

/// `(index of the starting fault, start ms, end ms)` for each fault that
/// has an end (hold/release, partition/repair, latency spike/restore).
fn fault_windows(scenario: &Scenario) -> Vec<(usize, u64, u64)> {
    let faults = &scenario.faults;
    faults
        .iter()
        .enumerate()
        .filter_map(|(i, start)| {
            let end = faults[i + 1..]
                .iter()
                .find(|end| ends(&start.fault, &end.fault))?;
            Some((i, start.at_ms, end.at_ms.max(start.at_ms)))
        })
        .collect()
}

/// Whether `end` closes the window `start` opened.
fn ends(start: &Fault, end: &Fault) -> bool {
    match (start, end) {
        (Fault::Hold { client: a }, Fault::Release { client: b }) => a == b,
        (Fault::Partition { client: a, .. }, Fault::Repair { client: b, .. }) => a == b,
        (Fault::Latency { .. }, Fault::Latency { .. }) => true,
        _ => false,
    }
}

/// Judges a candidate scenario run with a seed.
type Check = Arc<dyn Fn(&Scenario, u64) -> Verdict + Send + Sync>;

/// A shrink to run: which scenario and seed, how a candidate is judged (a
/// simulation, or any runner), and how many runs it may spend.
#[derive(Clone)]
pub struct Shrinker {
    scenario: Scenario,
    seed: u64,
    max_runs: usize,
    check: Check,
}

impl std::fmt::Debug for Shrinker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shrinker")
            .field("scenario", &self.scenario.name)
            .field("seed", &self.seed)
            .field("max_runs", &self.max_runs)
            .finish()
    }
}

/// What a shrink produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrunk {
    /// The smallest scenario found that still fails (the original if none).
    pub scenario: Scenario,
    pub seed: u64,
    /// Runs made.
    pub attempts: usize,
    pub before: Size,
    pub after: Size,
}

impl Shrunk {
    /// Writes the scenario as JSON (what `siosim run --scenario-file` and
    /// [`Scenario::from_json`] read).
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.scenario.to_json() + "\n")
    }
}

impl Shrinker {
    /// Shrinks `simulation`'s scenario run with `seed`, spending at most
    /// [`DEFAULT_MAX_RUNS`] runs.
    pub fn new(simulation: Simulation, seed: u64) -> Self {
        let scenario = simulation.scenario().clone();
        Self::with_check(scenario, seed, move |candidate, seed| {
            simulation.with_scenario(candidate.clone()).check(seed)
        })
    }

    /// Shrinks `scenario` run with `seed`, each candidate judged by `check`
    /// (a live server's runs, say: [`crate::LiveServer::check`], perhaps
    /// several times, since its schedule is not ours).
    pub fn with_check(
        scenario: Scenario,
        seed: u64,
        check: impl Fn(&Scenario, u64) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        Self {
            scenario,
            seed,
            max_runs: DEFAULT_MAX_RUNS,
            check: Arc::new(check),
        }
    }

    pub fn max_runs(mut self, max_runs: usize) -> Self {
        self.max_runs = max_runs;
        self
    }

    /// Reduces the scenario while `still_fails` holds of the candidate's
    /// verdict. The predicate is not asked about the original: check it
    /// fails first.
    pub fn shrink(&self, still_fails: impl FnMut(&Verdict) -> bool) -> Shrunk {
        let original = self.scenario.clone();
        let mut job = Job {
            check: self.check.clone(),
            seed: self.seed,
            still_fails,
            budget: self.max_runs,
            attempts: 0,
        };
        let scenario = job.shrink(original.clone());
        Shrunk {
            before: Size::of(&original),
            after: Size::of(&scenario),
            scenario,
            seed: self.seed,
            attempts: job.attempts,
        }
    }
}

impl Simulation {
    /// Shrinks this simulation's scenario run with `seed` while
    /// `still_fails` holds (see [`Shrinker`]).
    pub fn shrink(&self, seed: u64, still_fails: impl FnMut(&Verdict) -> bool) -> Shrunk {
        Shrinker::new(self.clone(), seed).shrink(still_fails)
    }
}

/// One shrinking job: the runs made and left, and the predicate to keep true.
struct Job<F> {
    check: Check,
    seed: u64,
    still_fails: F,
    /// Runs left.
    budget: usize,
    /// Runs made.
    attempts: usize,
}

impl<F: FnMut(&Verdict) -> bool> Job<F> {
    /// Whether `candidate` still fails (one run of the budget).
    fn still_fails(&mut self, candidate: &Scenario) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        self.attempts += 1;
        let verdict = (self.check)(candidate, self.seed);
        (self.still_fails)(&verdict)
    }

    /// Keeps `candidate` if it still fails.
    fn try_keep(&mut self, best: &mut Scenario, candidate: Scenario) -> bool {
        if Size::of(&candidate) < Size::of(best) && self.still_fails(&candidate) {
            *best = candidate;
            return true;
        }
        false
    }

    /// Shrinks until a full round of reductions changes nothing or the
    /// budget runs out.
    fn shrink(&mut self, scenario: Scenario) -> Scenario {
        let mut best = scenario;
        loop {
            let before = Size::of(&best);
            self.merge_waits(&mut best);
            self.drop_clients(&mut best);
            self.drop_faults(&mut best);
            self.drop_steps(&mut best);
            self.shorten_faults(&mut best);
            self.shorten_waits(&mut best);
            self.drop_nodes(&mut best);
            if Size::of(&best) == before || self.budget == 0 {
                return best;
            }
        }
    }

    /// One node fewer, while no client or fault names the last one (the
    /// clients left to the load balancer are spread over the rest).
    fn drop_nodes(&mut self, best: &mut Scenario) {
        while best.nodes > 1 {
            let mut candidate = best.clone();
            candidate.nodes -= 1;
            if candidate.node_of_clients().is_err() || !self.try_keep(best, candidate) {
                return;
            }
        }
    }

    fn drop_clients(&mut self, best: &mut Scenario) {
        let mut index = 0;
        while index < best.clients.len() && best.clients.len() > 1 {
            let mut candidate = best.clone();
            let gone = candidate.clients.remove(index).name;
            candidate
                .faults
                .retain(|f| f.fault.client() != Some(gone.as_str()));
            if !self.try_keep(best, candidate) {
                index += 1;
            }
        }
    }

    fn drop_faults(&mut self, best: &mut Scenario) {
        let mut index = 0;
        while index < best.faults.len() {
            let mut candidate = best.clone();
            // A window's start goes with its end.
            let end = fault_windows(best)
                .iter()
                .find(|&&(start, _, _)| start == index)
                .and_then(|_| {
                    let start = &best.faults[index].fault;
                    (index + 1..best.faults.len()).find(|&j| ends(start, &best.faults[j].fault))
                });
            if let Some(end) = end {
                candidate.faults.remove(end);
            }
            candidate.faults.remove(index);
            if !self.try_keep(best, candidate) {
                index += 1;
            }
        }
    }

    /// Removes runs of steps, halves first, then down to single steps.
    fn drop_steps(&mut self, best: &mut Scenario) {
        for client in 0..best.clients.len() {
            let mut chunk = best.clients[client].steps.len().div_ceil(2);
            while chunk >= 1 {
                let mut start = 0;
                while start < best.clients[client].steps.len() {
                    let mut candidate = best.clone();
                    let steps = &mut candidate.clients[client].steps;
                    let end = (start + chunk).min(steps.len());
                    steps.drain(start..end);
                    if !self.try_keep(best, candidate) {
                        start += chunk;
                    }
                }
                chunk /= 2;
            }
        }
    }

    /// Halves each fault window, keeping its start.
    fn shorten_faults(&mut self, best: &mut Scenario) {
        for (start, from, to) in fault_windows(best) {
            let Some(end) = (start + 1..best.faults.len())
                .find(|&j| ends(&best.faults[start].fault, &best.faults[j].fault))
            else {
                continue;
            };
            let mut candidate = best.clone();
            candidate.faults[end].at_ms = from + (to - from) / 2;
            self.try_keep(best, candidate);
        }
    }

    /// Joins each client's runs of consecutive waits into one wait (the
    /// steps left by dropping the events between them).
    fn merge_waits(&mut self, best: &mut Scenario) {
        for client in 0..best.clients.len() {
            let mut candidate = best.clone();
            let steps = &mut candidate.clients[client].steps;
            let mut merged: Vec<Step> = Vec::with_capacity(steps.len());
            for step in steps.drain(..) {
                match (merged.last_mut(), &step) {
                    (Some(Step::Wait { ms: total }), Step::Wait { ms }) => *total += ms,
                    _ => merged.push(step),
                }
            }
            *steps = merged;
            self.try_keep(best, candidate);
        }
    }

    /// Halves each wait.
    fn shorten_waits(&mut self, best: &mut Scenario) {
        for client in 0..best.clients.len() {
            for step in 0..best.clients[client].steps.len() {
                let Step::Wait { ms } = best.clients[client].steps[step] else {
                    continue;
                };
                if ms < 2 {
                    continue;
                }
                let mut candidate = best.clone();
                candidate.clients[client].steps[step] = Step::Wait { ms: ms / 2 };
                self.try_keep(best, candidate);
            }
        }
    }
}
