//! Shrinking: from a failing seed to a smaller scenario that, with the same
//! seed, still breaks the same invariant. Fewer clients, fewer faults,
//! fewer steps, shorter faults and waits; greedy and deterministic (the same
//! input shrinks to the same file), bounded by a number of runs.
//!
//! turmoil, madsim and TigerBeetle's VOPR replay a failing seed but do not
//! minimise the schedule: this is the reading aid they lack.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use siosim_harness::{AppFactory, Fault, Scenario, Step};

use crate::run::{self, REFERENCE};
use crate::scenarios::TransportMix;

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
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// A shrinking job: which run to shrink, and the invariant to keep broken.
pub struct Shrinker {
    pub app: AppFactory,
    pub socketio_path: String,
    pub seed: u64,
    pub invariant: &'static str,
    /// Runs left.
    pub budget: usize,
    /// Runs made.
    pub attempts: usize,
}

impl std::fmt::Debug for Shrinker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shrinker")
            .field("seed", &self.seed)
            .field("invariant", &self.invariant)
            .field("budget", &self.budget)
            .finish()
    }
}

impl Shrinker {
    /// Whether `candidate` still breaks the invariant (one run of the budget).
    fn still_fails(&mut self, candidate: &Scenario) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        self.attempts += 1;
        let judged = run::judge(candidate.clone(), &self.app, &self.socketio_path, self.seed);
        judged
            .violations
            .iter()
            .any(|v| v.invariant == self.invariant)
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
    pub fn shrink(&mut self, scenario: Scenario) -> Scenario {
        let mut best = scenario;
        loop {
            let before = Size::of(&best);
            self.merge_waits(&mut best);
            self.drop_clients(&mut best);
            self.drop_faults(&mut best);
            self.drop_steps(&mut best);
            self.shorten_faults(&mut best);
            self.shorten_waits(&mut best);
            if Size::of(&best) == before || self.budget == 0 {
                return best;
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

/// `siosim shrink`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// A built-in scenario, or `swarm`.
    #[arg(required_unless_present = "scenario_file")]
    pub scenario: Option<String>,
    /// Shrink this JSON scenario file instead.
    #[arg(long, conflicts_with = "scenario")]
    pub scenario_file: Option<PathBuf>,
    /// The failing seed.
    #[arg(long)]
    pub seed: u64,
    /// The server under test: `reference`, or a racy variant.
    #[arg(long = "server", default_value = REFERENCE)]
    pub server_variant: String,
    /// Which transports a built-in scenario's clients use.
    #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
    pub transport: TransportMix,
    /// The invariant to keep broken (default: the run's first violation).
    #[arg(long)]
    pub invariant: Option<String>,
    /// Most runs to spend.
    #[arg(long, default_value_t = 1_000)]
    pub max_runs: usize,
    /// Where to write the shrunk scenario (JSON).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub server: siosim_server::Config,
}

/// `siosim shrink`: writes the smallest failing scenario found and prints
/// its size and replay line. Exits 2 if the seed does not fail.
pub fn shrink(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    let app = run::server_app(&args.server_variant, &args.server)?;
    let scenario = match (&args.scenario, &args.scenario_file) {
        (_, Some(path)) => Scenario::from_json(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?,
        (Some(name), None) => run::named_scenario(name, args.seed, args.transport)?,
        (None, None) => anyhow::bail!("name a scenario or pass --scenario-file"),
    };
    let judged = run::judge(
        scenario.clone(),
        &app,
        &args.server.socketio_path,
        args.seed,
    );
    let invariant = match &args.invariant {
        Some(name) => judged
            .violations
            .iter()
            .map(|v| v.invariant)
            .find(|v| v == name)
            .with_context(|| format!("seed {} does not break {name}", args.seed))?,
        None => judged
            .violations
            .first()
            .map(|v| v.invariant)
            .with_context(|| format!("seed {} passes: nothing to shrink", args.seed))?,
    };
    let mut shrinker = Shrinker {
        app,
        socketio_path: args.server.socketio_path.clone(),
        seed: args.seed,
        invariant,
        budget: args.max_runs,
        attempts: 0,
    };
    let before = Size::of(&scenario);
    let shrunk = shrinker.shrink(scenario);
    std::fs::write(&args.out, shrunk.to_json() + "\n")
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("shrunk for {invariant} in {} runs", shrinker.attempts);
    println!("before: {before}");
    println!("after:  {}", Size::of(&shrunk));
    let mut replay = format!(
        "siosim run --scenario-file {} --seed {}",
        args.out.display(),
        args.seed
    );
    if args.server_variant != REFERENCE {
        replay.push_str(&format!(" --server {}", args.server_variant));
    }
    println!("replay: {replay}");
    Ok(ExitCode::SUCCESS)
}
