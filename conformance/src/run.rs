//! One seeded run, judged: the scenario (a built-in, the seed-derived
//! `swarm`, or a file) against a server variant, then every invariant
//! checker over its trace. `siosim run`, `siosim explore` and the shrinker
//! all go through here, so a seed's verdict is the same bytes everywhere.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use siosim_harness::invariants::{self, Violation};
use siosim_harness::swarm::{self, SwarmOptions};
use siosim_harness::{AppFactory, Report, Scenario, Simulation};

use crate::scenarios::{self, TransportMix};

/// The correct server, `siosim_server::app`.
pub const REFERENCE: &str = "reference";

/// Every server `--server` accepts: the reference, then the racy variants.
pub fn server_names() -> Vec<&'static str> {
    let mut names = vec![REFERENCE];
    names.extend(siosim_server::variants::NAMES);
    names
}

/// Builds the named server for each (re)start of the server host.
pub fn server_app(name: &str, config: &siosim_server::Config) -> anyhow::Result<AppFactory> {
    let config = config.clone();
    if name == REFERENCE {
        return Ok(std::sync::Arc::new(move || siosim_server::app(&config)));
    }
    if !siosim_server::variants::NAMES.contains(&name) {
        anyhow::bail!(
            "no server variant {name:?}; known: {}",
            server_names().join(", ")
        );
    }
    let name = name.to_owned();
    Ok(std::sync::Arc::new(move || {
        siosim_server::variants::app(&name, &config)
            .expect("the name was checked when the variant was chosen")
    }))
}

/// A scenario by name: `swarm` is drawn from the seed, anything else is a
/// built-in played over `mix`.
pub fn named_scenario(name: &str, seed: u64, mix: TransportMix) -> anyhow::Result<Scenario> {
    if name == swarm::SWARM {
        return Ok(swarm::scenario(seed));
    }
    let built_in = scenarios::find(name)
        .with_context(|| format!("no built-in scenario {name:?}; try `siosim list`"))?;
    Ok((built_in.build)(mix))
}

/// What `run` prints before the trace: the swarm's drawn options.
pub fn preamble(name: &str, seed: u64) -> String {
    if name == swarm::SWARM {
        SwarmOptions::from_seed(seed).describe()
    } else {
        String::new()
    }
}

/// A finished run and the invariants it broke.
#[derive(Debug, Clone)]
pub struct Judged {
    pub report: Report,
    pub violations: Vec<Violation>,
}

impl Judged {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The verdict block: the run's own failures (`FAIL` lines, as a
    /// report prints them), then every invariant violation with its
    /// witnesses; or `PASS`.
    pub fn verdict(&self) -> String {
        if self.passed() {
            return "PASS\n".to_owned();
        }
        let failures = self.report.failures.iter().map(|f| format!("FAIL {f}\n"));
        let violations = self
            .violations
            .iter()
            .filter(|v| v.invariant != invariants::EXPECTATIONS)
            .map(Violation::to_string);
        failures.chain(violations).collect()
    }

    /// The whole printout of a run: header, trace, verdict.
    pub fn render(&self) -> String {
        let report = &self.report;
        format!(
            "scenario {} seed {} ({} ms simulated)\n{}{}",
            report.scenario,
            report.seed,
            report.simulated.as_millis(),
            report.trace,
            self.verdict()
        )
    }
}

/// Runs `scenario` once against `app` with `seed`, and checks it.
pub fn judge(scenario: Scenario, app: &AppFactory, socketio_path: &str, seed: u64) -> Judged {
    let app = app.clone();
    let simulation =
        Simulation::new(scenario.clone(), move || app()).socketio_path(socketio_path.to_owned());
    let mut report = simulation.run(seed);
    if scenario.name == swarm::SWARM {
        report.failures.retain(|f| !swarm::is_benign_failure(f));
    }
    let violations = invariants::check_report(&report, &scenario);
    Judged { report, violations }
}

/// The command that replays a seed of a named scenario.
pub fn replay_line(scenario: &str, seed: u64, mix: TransportMix, server: &str) -> String {
    let mut line = format!("siosim run {scenario} --seed {seed}");
    if scenario != swarm::SWARM && mix != TransportMix::Mixed {
        line.push_str(&format!(" --transport {}", mix.name()));
    }
    if server != REFERENCE {
        line.push_str(&format!(" --server {server}"));
    }
    line
}

/// `siosim run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A built-in scenario (see `siosim list`), or `swarm`: a scenario drawn from the seed.
    #[arg(required_unless_present = "scenario_file")]
    pub scenario: Option<String>,
    /// Run this JSON scenario file instead of a built-in.
    #[arg(long, conflicts_with = "scenario")]
    pub scenario_file: Option<PathBuf>,
    /// The seed: the same seed prints the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which transports the built-in scenario's clients use.
    #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
    pub transport: TransportMix,
    /// The server under test: `reference`, or a racy variant.
    #[arg(long = "server", default_value = REFERENCE)]
    pub server_variant: String,
    /// Also write the trace as versioned JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub server: siosim_server::Config,
}

/// `siosim run`: prints the judged run; exits 1 on any violation.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let seed = args.seed;
    let app = server_app(&args.server_variant, &args.server)?;
    let (scenario, preamble, replay) = match (&args.scenario, &args.scenario_file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let scenario = Scenario::from_json(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let mut replay = format!(
                "siosim run --scenario-file {} --seed {seed}",
                path.display()
            );
            if args.server_variant != REFERENCE {
                replay.push_str(&format!(" --server {}", args.server_variant));
            }
            (scenario, String::new(), replay)
        }
        (Some(name), None) => (
            named_scenario(name, seed, args.transport)?,
            preamble(name, seed),
            replay_line(name, seed, args.transport, &args.server_variant),
        ),
        (None, None) => anyhow::bail!("name a scenario or pass --scenario-file"),
    };
    let judged = judge(scenario, &app, &args.server.socketio_path, seed);
    print!("{preamble}{}", judged.render());
    if let Some(file) = &args.json {
        std::fs::write(file, judged.report.trace.to_json())
            .with_context(|| format!("writing {}", file.display()))?;
    }
    if judged.passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("replay: {replay}");
        Ok(ExitCode::FAILURE)
    }
}
