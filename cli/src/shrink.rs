//! `siosim shrink`: from a failing seed to a smaller scenario file that,
//! with the same seed, still breaks the same invariant. A thin layer over
//! the harness's [`Shrinker`]: this picks the scenario, the server and the
//! invariant to keep broken.

use std::path::PathBuf;

use anyhow::Context as _;
use siosim_harness::{Scenario, Shrinker, Verdict};

pub use siosim_harness::shrinker::Size;

use crate::exit_code::Exit;
use crate::live_campaign::{DEFAULT_MAX_CONNECTIONS, LiveCampaign, LiveProfile};
use crate::run::{self, REFERENCE};
use crate::scenarios::TransportMix;
use crate::target_flags::{APPLIES_IN_SIMULATION, Flag, SCENARIO_AND_SERVER, TargetFlags};

/// `siosim shrink`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ShrinkArgs {
    /// A built-in scenario, or `swarm`. With `--url`: `swarm` or nothing.
    pub scenario: Option<String>,
    /// Shrink the plan of `--seed` against the live server at this root
    /// URL (`http://HOST:PORT`), as `siosim explore --url` ran it.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: what the server is judged as claiming.
    #[arg(long, value_enum, default_value_t = LiveProfile::Protocol)]
    pub profile: LiveProfile,
    /// With `--url`: most connections a plan holds at once (3 per client).
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// With `--url`: a host other than loopback that may be used.
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// With `--url`: runs of each candidate (it still fails if one of them
    /// does), and runs of the shrunk plan to say how often it reproduces.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub repeats: u64,
    /// Shrink this JSON scenario file instead.
    #[arg(long, conflicts_with = "scenario")]
    pub scenario_file: Option<PathBuf>,
    /// The failing seed.
    #[arg(long)]
    pub seed: u64,
    /// The server under test: `reference`, or a racy variant.
    #[arg(long = "server", default_value = REFERENCE)]
    pub server_variant: String,
    /// A clustered server's node count: its built-ins and each swarm seed
    /// run exactly this many (by default built-ins run 3, and each swarm
    /// seed draws 2 or 3).
    #[arg(long, conflicts_with = "scenario_file")]
    pub nodes: Option<usize>,
    /// Which transports a built-in scenario's clients use.
    #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
    pub transport: TransportMix,
    /// The invariant to keep broken (default: the run's first violation).
    #[arg(long)]
    pub invariant: Option<String>,
    /// Most runs to spend (default: 1000 in simulation, 40 with `--url`,
    /// where every run takes seconds of real time).
    #[arg(long)]
    pub max_runs: Option<usize>,
    /// Where to write the shrunk scenario (JSON).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub server: siosim_server::Config,
}

/// Flags that only a live server uses.
const LIVE_ONLY: [Flag; 4] = [
    ("profile", "--profile"),
    ("max_connections", "--max-connections"),
    ("allow_hosts", "--allow-host"),
    ("repeats", "--repeats"),
];
const FLAGS: TargetFlags = TargetFlags {
    simulation_only: &SCENARIO_AND_SERVER,
    simulation_why: APPLIES_IN_SIMULATION,
    live_only: &LIVE_ONLY,
};

/// Runs a simulation's shrink spends unless told otherwise.
const SIMULATION_MAX_RUNS: usize = 1_000;
/// Runs a live shrink spends unless told otherwise: each takes seconds.
const LIVE_MAX_RUNS: usize = 40;

/// `siosim shrink`: writes the smallest failing scenario found and prints
/// its size and replay line. Exits 2 if the seed does not fail (3 if the
/// live server cannot be used at all).
pub fn shrink(args: ShrinkArgs, given: &clap::ArgMatches) -> anyhow::Result<Exit> {
    FLAGS.refuse_misplaced(given, args.url.is_some())?;
    if let Some(url) = &args.url {
        return shrink_live(url, &args);
    }
    if args.scenario.is_none() && args.scenario_file.is_none() {
        anyhow::bail!("name a scenario or pass --scenario-file");
    }
    let app = run::server_app(&args.server_variant, &args.server)?.with_nodes(args.nodes)?;
    let scenario = match (&args.scenario, &args.scenario_file) {
        (_, Some(path)) => Scenario::from_json(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?,
        (Some(name), None) => app.scenario(name, args.seed, args.transport)?,
        (None, None) => anyhow::bail!("name a scenario or pass --scenario-file"),
    };
    let simulation = run::simulation(scenario, &app, &args.server.socketio_path);
    let verdict = simulation.check(args.seed);
    let invariant = match &args.invariant {
        Some(name) => verdict
            .violations
            .iter()
            .map(|v| v.invariant)
            .find(|v| v == name)
            .with_context(|| format!("seed {} does not break {name}", args.seed))?,
        None => verdict
            .violations
            .first()
            .map(|v| v.invariant)
            .with_context(|| format!("seed {} passes: nothing to shrink", args.seed))?,
    };
    let shrunk = Shrinker::new(simulation, args.seed)
        .max_runs(args.max_runs.unwrap_or(SIMULATION_MAX_RUNS))
        .shrink(|verdict| verdict.broke(invariant));
    shrunk
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("shrunk for {invariant} in {} runs", shrunk.attempts);
    println!("before: {}", shrunk.before);
    println!("after:  {}", shrunk.after);
    println!(
        "replay: siosim run --scenario-file {} --seed {}{}",
        args.out.display(),
        args.seed,
        run::server_flags(&args.server_variant, None)
    );
    Ok(Exit::Passed)
}

/// `siosim shrink --url`: the seed's plan (or `--scenario-file`'s), run
/// against the live server; each candidate counts as failing if one of
/// `--repeats` runs breaks the invariant (the server's schedule is not
/// ours), and the shrunk plan is run `--repeats` more times to say how
/// often it reproduces.
fn shrink_live(url: &str, args: &ShrinkArgs) -> anyhow::Result<Exit> {
    if args
        .scenario
        .as_deref()
        .is_some_and(|s| s != siosim_harness::swarm::SWARM)
    {
        anyhow::bail!(
            "with --url, shrink takes the plan the seed draws (`swarm`) or --scenario-file"
        );
    }
    let campaign = match LiveCampaign::open(
        url,
        &args.server.socketio_path,
        args.profile,
        args.max_connections,
        &args.allow_hosts,
    )? {
        Ok(campaign) => campaign,
        Err(exit) => return Ok(exit),
    };
    let plan = match &args.scenario_file {
        Some(path) => Scenario::from_json(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?,
        None => campaign.plan(args.seed),
    };
    let repeats = args.repeats as usize;
    // The race may be rare: up to `repeats` runs to see it fail once.
    let verdict = campaign.until_failure(&plan, args.seed, |v| !v.passed(), repeats)?;
    if verdict.passed() {
        println!(
            "seed {} passed {repeats} runs against {url}: nothing to shrink",
            args.seed
        );
        return Ok(Exit::Usage);
    }
    let target = Target::of(&verdict, args.invariant.as_deref())
        .with_context(|| format!("seed {} does not break {:?}", args.seed, args.invariant))?;
    let live = std::sync::Arc::new(campaign);
    let judge = live.clone();
    let still = target.clone();
    let shrunk = Shrinker::with_check(plan.clone(), args.seed, move |candidate, seed| {
        // A candidate that could not run (the server went away) does not
        // fail the way we keep; the final reproduction run shows the error.
        judge
            .until_failure(candidate, seed, |v| still.holds(v), repeats)
            .unwrap_or_else(|_| unrun(candidate, seed))
    })
    .max_runs(args.max_runs.unwrap_or(LIVE_MAX_RUNS))
    .shrink(|verdict| target.holds(verdict));
    shrunk
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let rate = live.reproduce(&shrunk.scenario, args.seed, |v| target.holds(v), repeats)?;
    println!(
        "shrunk for {} in {} candidates ({repeats} runs each at most)",
        target.invariant, shrunk.attempts
    );
    println!("before: {}", shrunk.before);
    println!("after:  {}", shrunk.after);
    println!("the shrunk plan {rate} against {url}");
    println!(
        "replay: siosim run --scenario-file {} --seed {} {}",
        args.out.display(),
        args.seed,
        live.run_flags()
    );
    // The file is written: how often it reproduces is what the rate says.
    Ok(Exit::Passed)
}

/// What a shrink keeps broken: an invariant, and for the run's own
/// failures (`run.expectations`) the failure's text too, so that a
/// candidate failing some other way (a step left without its session) does
/// not count.
#[derive(Debug, Clone)]
struct Target {
    invariant: &'static str,
    expectation: Option<String>,
}

impl Target {
    fn of(verdict: &Verdict, wanted: Option<&str>) -> Option<Self> {
        let violation = verdict
            .violations
            .iter()
            .find(|v| wanted.is_none_or(|w| v.invariant == w))?;
        let expectation = (violation.invariant == siosim_harness::invariants::EXPECTATIONS)
            .then(|| failure_text(&violation.summary).to_owned());
        Some(Target {
            invariant: violation.invariant,
            expectation,
        })
    }

    fn holds(&self, verdict: &Verdict) -> bool {
        verdict.violations.iter().any(|v| {
            v.invariant == self.invariant
                && self
                    .expectation
                    .as_deref()
                    .is_none_or(|text| failure_text(&v.summary) == text)
        })
    }
}

/// A run failure without its client's name (`carol: session closed: …`).
fn failure_text(summary: &str) -> &str {
    summary.split_once(": ").map_or(summary, |(_, text)| text)
}

/// The verdict of a candidate that could not be run: nothing broken.
fn unrun(candidate: &Scenario, seed: u64) -> Verdict {
    Verdict {
        report: siosim_harness::Report::new(
            candidate.name.clone(),
            seed,
            siosim_harness::Trace {
                version: siosim_harness::trace::TRACE_FORMAT_VERSION,
                events: Vec::new(),
            },
            Vec::new(),
            std::time::Duration::ZERO,
        ),
        violations: Vec::new(),
    }
}
