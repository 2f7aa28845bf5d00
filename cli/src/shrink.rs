//! `siosim shrink`: from a failing seed to a smaller scenario file that,
//! with the same seed, still breaks the same invariant. A thin layer over
//! the harness's [`Shrinker`]: this picks the scenario, the server and the
//! invariant to keep broken.

use std::path::PathBuf;

use anyhow::Context as _;
use siosim_harness::{Scenario, Shrinker};

pub use siosim_harness::shrinker::Size;

use crate::exit_code::Exit;
use crate::run::{self, REFERENCE};
use crate::scenarios::TransportMix;

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
pub fn shrink(args: ShrinkArgs) -> anyhow::Result<Exit> {
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
        .max_runs(args.max_runs)
        .shrink(|verdict| verdict.broke(invariant));
    shrunk
        .write(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("shrunk for {invariant} in {} runs", shrunk.attempts);
    println!("before: {}", shrunk.before);
    println!("after:  {}", shrunk.after);
    let mut replay = format!(
        "siosim run --scenario-file {} --seed {}",
        args.out.display(),
        args.seed
    );
    if args.server_variant != REFERENCE {
        replay.push_str(&format!(" --server {}", args.server_variant));
    }
    println!("replay: {replay}");
    Ok(Exit::Passed)
}
