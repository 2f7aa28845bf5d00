//! `siosim check`: runs the conformance suite against the reference server
//! in simulation (no arguments) or against a live server (`--url`), prints a
//! line per case and a summary, and writes the machine-readable reports.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::case::Profile;
use crate::cases;
use crate::expectations::Expectations;
use crate::report;
use crate::runner::{self, RunOptions, SuiteReport};
use crate::target::{SimServer, Target};
use crate::verdict::Verdict;

/// Simulated time is cheap, so waits in simulation may be long enough for
/// any server default (socket.io's 45 s connect timeout, say).
const DEFAULT_SIM_TIMEOUT_MS: u64 = 60_000;
/// Over TCP, a wait costs real time.
const DEFAULT_LIVE_TIMEOUT_MS: u64 = 10_000;

/// `siosim check`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Check the live server at this root URL (`http://HOST:PORT`) instead of
    /// the reference server in simulation.
    #[arg(long)]
    pub url: Option<String>,
    /// The contracts the server claims, comma-separated: protocol, echo, app,
    /// or all. Cases needing another contract are NOT APPLICABLE.
    #[arg(long, default_value = "all", value_parser = parse_profiles)]
    pub profile: BTreeSet<Profile>,
    /// Only the cases whose name matches one of these globs (`*` matches
    /// anything, `::` included), e.g. `engineio::heartbeat::*`.
    #[arg(long = "case")]
    pub cases: Vec<String>,
    /// The bound on each wait, in ms (simulated time in simulation); default
    /// 60000 in simulation, 10000 over TCP.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// The seed of the simulated runs (each case mixes in its name).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cases run at once in simulation; default: the machine's cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write the report as versioned JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the report as JUnit XML, for CI.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a self-contained HTML report with failing cases' traces.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// A server's known divergences (JSON, see conformance/expected/): the
    /// run fails if its verdicts no longer match the list, in either
    /// direction. Checking the built-in reference server always applies its
    /// own list, conformance/expected/reference.json.
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// List the selected cases instead of running them.
    #[arg(long)]
    pub list: bool,
    /// The reference server's settings in simulation; `--path` is also the
    /// Socket.IO path of a live server.
    #[command(flatten)]
    pub server: siosim_server::Config,
    /// Whether `--connect-timeout-ms` was given on the command line (set by
    /// the caller from clap's matches, see [`CheckArgs::note_explicit_flags`]):
    /// with `--url` only an explicit value describes the live server.
    #[arg(skip)]
    pub connect_timeout_given: bool,
}

impl CheckArgs {
    /// Records which of the server flags the user actually gave, from the
    /// `check` subcommand's matches (clap fills defaults in otherwise).
    pub fn note_explicit_flags(&mut self, matches: &clap::ArgMatches) {
        self.connect_timeout_given = matches.value_source("connect_timeout_ms")
            == Some(clap::parser::ValueSource::CommandLine);
    }

    /// The server's connect timeout as far as it is known: the reference
    /// server's setting in simulation; over TCP only an explicit
    /// `--connect-timeout-ms` (no server advertises it).
    fn declared_connect_timeout(&self) -> Option<Duration> {
        let declared = self.url.is_none() || self.connect_timeout_given;
        declared.then(|| Duration::from_millis(self.server.connect_timeout_ms))
    }
}

fn parse_profiles(text: &str) -> Result<BTreeSet<Profile>, String> {
    let mut profiles = BTreeSet::new();
    for word in text.split(',').map(str::trim) {
        match word {
            "all" => profiles.extend(Profile::ALL),
            _ => {
                let profile = Profile::ALL
                    .into_iter()
                    .find(|p| p.name() == word)
                    .ok_or_else(|| {
                        format!("unknown profile {word:?}: protocol, echo, app or all")
                    })?;
                profiles.insert(profile);
            }
        }
    }
    Ok(profiles)
}

/// Runs `siosim check`. Exit 0 iff no MUST case FAILED (or, with
/// `--expect`, iff every verdict matches the expectations).
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let all = cases::all();
    // The reference server's library has known bugs; checking it means
    // checking that exactly those are still there, each documented.
    let expectations = match (&args.expect, &args.url) {
        (Some(path), _) => Some(Expectations::load(path, &all)?),
        (None, None) => Some(Expectations::reference(&all)?),
        (None, Some(_)) => None,
    };
    let default_timeout = match args.url {
        Some(_) => DEFAULT_LIVE_TIMEOUT_MS,
        None => DEFAULT_SIM_TIMEOUT_MS,
    };
    let options = RunOptions {
        profiles: args.profile.clone(),
        patterns: args.cases.clone(),
        timeout: Duration::from_millis(args.timeout_ms.unwrap_or(default_timeout)),
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }),
        connect_timeout: args.declared_connect_timeout(),
    };
    if args.list {
        for case in all.iter().filter(|c| options.selects(c.name)) {
            println!(
                "{:<6} {:<8} {:<62} {}",
                case.severity,
                case.profile.name(),
                case.name,
                case.clause.url()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let target = match &args.url {
        Some(url) => Target::Url {
            url: url.clone(),
            path: args.server.socketio_path.clone(),
        },
        None => {
            let config = args.server.clone();
            Target::Sim {
                seed: args.seed,
                server: SimServer {
                    name: "reference".into(),
                    path: config.socketio_path.clone(),
                    app: Arc::new(move || siosim_server::app(&config)),
                },
            }
        }
    };
    let selected = all.iter().filter(|c| options.selects(c.name)).count();
    anyhow::ensure!(
        selected > 0,
        "no case matches {:?}; see `siosim check --list`",
        args.cases
    );
    eprintln!(
        "siosim check: {selected} cases against {}",
        target.summary()
    );
    let mut console = report::console::Progress::new(selected);
    let suite = runner::run(&all, &target, &options, |case| console.case(case))
        .map_err(anyhow::Error::msg)?;
    console.finish();
    print!("{}", report::console::summary(&suite));
    write_reports(&args, &suite)?;
    let passed = match &expectations {
        Some(expectations) => {
            let mismatches = expectations.mismatches(&suite);
            for case in &suite.cases {
                if let Some(divergence) = expectations.divergence(case.name)
                    && divergence.verdict == case.verdict
                {
                    println!(
                        "documented: {} {}: {}",
                        case.verdict, case.name, divergence.reason
                    );
                }
            }
            for mismatch in &mismatches {
                println!("unexpected: {mismatch}");
            }
            println!(
                "expectations {}: {} documented divergences, {} mismatches",
                expectations.source(),
                expectations.len(),
                mismatches.len()
            );
            mismatches.is_empty()
        }
        None => suite.passed(),
    };
    if expectations.is_some() {
        println!(
            "outcome: {}",
            if passed {
                "every verdict is as documented"
            } else {
                "verdicts differ from the documented ones"
            }
        );
    }
    std::io::stdout().flush()?;
    if passed {
        Ok(ExitCode::SUCCESS)
    } else {
        if args.url.is_none() {
            for case in suite.cases.iter().filter(|c| c.verdict == Verdict::Failed) {
                eprintln!(
                    "replay: siosim check --seed {} --case '{}'",
                    args.seed, case.name
                );
            }
        }
        Ok(ExitCode::FAILURE)
    }
}

fn write_reports(args: &CheckArgs, suite: &SuiteReport) -> anyhow::Result<()> {
    type Render = fn(&SuiteReport) -> String;
    let outputs: [(&Option<PathBuf>, Render); 3] = [
        (&args.json, report::json::render),
        (&args.junit, report::junit::render),
        (&args.html, report::html::render),
    ];
    for (path, render) in outputs {
        if let Some(path) = path {
            std::fs::write(path, render(suite))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
