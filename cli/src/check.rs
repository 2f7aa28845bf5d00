//! `siosim check`: runs the conformance suite against the reference server
//! in simulation (no arguments) or against a live server (`--url`), prints a
//! line per case and a summary, and writes the machine-readable reports.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::ArgMatches;
use clap::parser::ValueSource;
use serde_json::Value;

use siosim_conformance::expectations::Expectations;
use siosim_conformance::preflight::{self, Unusable};
use siosim_conformance::runner::{self, RunOptions, ServerLost, SuiteReport};
use siosim_conformance::{
    Case, Credentials, Profile, SimServer, Target, Verdict, cases, live_authority, report,
};

use crate::exit_code::Exit;
use crate::target_flags::{Flag, TargetFlags};

/// Simulated time is cheap, so waits in simulation may be long enough for
/// any server default (socket.io's 45 s connect timeout, say).
const DEFAULT_SIM_TIMEOUT_MS: u64 = 60_000;
/// Over TCP, a wait costs real time.
const DEFAULT_LIVE_TIMEOUT_MS: u64 = 10_000;
/// Cases at once over TCP: each holds a session or two, which any server
/// handles; waits, not CPU, bound a live run.
const DEFAULT_LIVE_JOBS: usize = 16;

/// The reference server's settings, which mean nothing for a live server
/// (`--path` and `--connect-timeout-ms` do), and `--seed`.
/// Each flag as its argument id and as typed.
const SIMULATION_ONLY: [Flag; 6] = [
    ("seed", "--seed"),
    ("ping_interval_ms", "--ping-interval-ms"),
    ("ping_timeout_ms", "--ping-timeout-ms"),
    ("max_payload_bytes", "--max-payload-bytes"),
    ("host", "--host"),
    ("port", "--port"),
];
/// Flags that only a live server uses.
const LIVE_ONLY: [Flag; 2] = [("auth", "--auth"), ("headers", "--header")];
const FLAGS: TargetFlags = TargetFlags {
    simulation_only: &SIMULATION_ONLY,
    simulation_why: "configures the reference server in simulation, not a server at --url",
    live_only: &LIVE_ONLY,
};

/// `siosim check`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Check the live server at this root URL (`http://HOST:PORT`) instead of
    /// the reference server in simulation. Given again, the further nodes of
    /// the same cluster, for the `cluster` profile (`--url A --url B`).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// A shell command that restarts the live cluster's Redis and returns
    /// once it answers again (`"$REDIS_RESTART"` under scripts/with-cluster),
    /// for the `cluster` case about a restart; without it that case is NOT
    /// APPLICABLE over TCP. In simulation the simulated Redis is restarted.
    #[arg(long, value_name = "CMD", requires = "urls")]
    pub redis_restart: Option<String>,
    /// The contracts the server claims, comma-separated: protocol, echo, app,
    /// or all. Cases needing another contract are NOT APPLICABLE. Default:
    /// protocol with --url, all for the reference server.
    #[arg(long, value_parser = parse_profiles)]
    pub profile: Option<BTreeSet<Profile>>,
    /// Only the cases whose name matches one of these globs (`*` matches
    /// anything, `::` included), e.g. `engineio::heartbeat::*`.
    #[arg(long = "case")]
    pub cases: Vec<String>,
    /// The bound on each wait, in ms (simulated time in simulation); default
    /// 60000 in simulation, 10000 over TCP.
    #[arg(long, value_parser = parse_positive::<u64>)]
    pub timeout_ms: Option<u64>,
    /// The seed of the simulated runs (each case mixes in its name).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cases run at once; default: 16 with --url, the machine's cores in
    /// simulation.
    #[arg(long, value_parser = parse_positive::<usize>)]
    pub jobs: Option<usize>,
    /// With --url: the CONNECT payload (a JSON object) for every namespace
    /// a case joins, unless the case is about the payload itself.
    #[arg(long, value_parser = parse_auth)]
    pub auth: Option<Value>,
    /// With --url: a header on every HTTP request and WebSocket handshake,
    /// `NAME:VALUE`; repeatable.
    #[arg(long = "header", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
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
}

impl CheckArgs {
    /// The live server checked (the first `--url`), if any.
    pub fn url(&self) -> Option<&String> {
        self.urls.first()
    }

    /// The server's connect timeout as far as it is known: the reference
    /// server's setting in simulation; over TCP only an explicit
    /// `--connect-timeout-ms` (no server advertises it, and clap fills in
    /// the reference server's default otherwise).
    fn declared_connect_timeout(&self, given: &ArgMatches) -> Option<Duration> {
        let declared = self.url().is_none()
            || given.value_source("connect_timeout_ms") == Some(ValueSource::CommandLine);
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
                        format!("unknown profile {word:?}: protocol, echo, app, robustness, cluster or all")
                    })?;
                profiles.insert(profile);
            }
        }
    }
    Ok(profiles)
}

fn parse_positive<T: std::str::FromStr + Default + PartialEq>(text: &str) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(number) if number != T::default() => Ok(number),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

fn parse_auth(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(auth @ Value::Object(_)) => Ok(auth),
        Ok(_) => {
            Err("the CONNECT payload must be a JSON object, e.g. '{\"token\":\"abc\"}'".into())
        }
        Err(error) => Err(format!("not JSON: {error}")),
    }
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not NAME:VALUE"))?;
    let (name, value) = (name.trim(), value.trim());
    axum::http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    axum::http::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of {name} is not a valid header value"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// A checked command line: what to run against what, and how to judge it.
struct Plan {
    cases: Vec<Case>,
    options: RunOptions,
    target: Target,
    expectations: Option<Expectations>,
}

/// Runs `siosim check`; `given` tells which flags the command line set.
/// Exits [`Exit::Conformant`] iff every case ran and no MUST case FAILED
/// (or, with `--expect`, iff every verdict matches the expectations).
pub fn check(args: CheckArgs, given: &ArgMatches) -> anyhow::Result<Exit> {
    let plan = match plan(&args, given) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("siosim check: {error:#}");
            return Ok(Exit::Usage);
        }
    };
    if args.list {
        list(&plan);
        return Ok(Exit::Conformant);
    }
    if let Target::Url { url, path } = &plan.target
        && let Err(unusable) = run_preflight(url, path, &plan.options)
    {
        let suite = unusable_report(&plan, unusable);
        write_reports(&args, &suite)?;
        return Ok(Exit::ServerUnusable);
    }
    let suite = run(&plan)?;
    write_reports(&args, &suite)?;
    exit(&args, &plan, &suite)
}

/// Parses and validates everything before anything runs.
fn plan(args: &CheckArgs, given: &ArgMatches) -> anyhow::Result<Plan> {
    let cases = cases::all();
    let live = args.url().is_some();
    FLAGS.refuse_misplaced(given, live)?;
    for path in [&args.json, &args.junit, &args.html].into_iter().flatten() {
        writable(path)?;
    }
    let expectations = match (&args.expect, live) {
        (Some(path), _) => Some(Expectations::load(path, &cases)?),
        // The reference server's library has known bugs; checking it means
        // checking that exactly those are still there, each documented.
        (None, false) => Some(Expectations::reference(&cases)?),
        (None, true) => None,
    };
    let options = options(args, given);
    let target = target(args)?;
    let plan = Plan {
        cases,
        options,
        target,
        expectations,
    };
    if !args.list {
        some_case_runs(&plan, args)?;
    }
    Ok(plan)
}

fn options(args: &CheckArgs, given: &ArgMatches) -> RunOptions {
    let live = args.url().is_some();
    let profiles = args.profile.clone().unwrap_or_else(|| match live {
        true => BTreeSet::from([Profile::Protocol]),
        false => Profile::ALL.into_iter().collect(),
    });
    let (timeout_ms, jobs) = match live {
        true => (DEFAULT_LIVE_TIMEOUT_MS, DEFAULT_LIVE_JOBS),
        false => (
            DEFAULT_SIM_TIMEOUT_MS,
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        ),
    };
    RunOptions {
        profiles,
        patterns: args.cases.clone(),
        timeout: Duration::from_millis(args.timeout_ms.unwrap_or(timeout_ms)),
        jobs: args.jobs.unwrap_or(jobs),
        credentials: Credentials {
            auth: args.auth.clone(),
            headers: args.headers.clone(),
        },
        connect_timeout: args.declared_connect_timeout(given),
        other_nodes: args.urls.iter().skip(1).cloned().collect(),
        redis_restart: args.redis_restart.clone(),
    }
}

fn target(args: &CheckArgs) -> anyhow::Result<Target> {
    for url in &args.urls {
        live_authority(url).map_err(anyhow::Error::msg)?;
    }
    Ok(match args.url() {
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
                    cluster: Some(crate::cluster::nodes(
                        &args.server,
                        siosim_server::cluster::Counting::Shared,
                    )),
                },
            }
        }
    })
}

/// An output file's directory must exist and take new files, so that a
/// long run does not end in "No such file or directory".
fn writable(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    anyhow::ensure!(
        dir.is_dir(),
        "cannot write {}: {} is not a directory",
        path.display(),
        dir.display()
    );
    let trial = dir.join(format!(".siosim-check-{}", std::process::id()));
    std::fs::write(&trial, b"").with_context(|| {
        format!(
            "cannot write {}: {} takes no new file",
            path.display(),
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(trial);
    Ok(())
}

/// A selection under which no case runs is a mistake, not a success.
fn some_case_runs(plan: &Plan, args: &CheckArgs) -> anyhow::Result<()> {
    let selected: Vec<&Case> = plan
        .cases
        .iter()
        .filter(|c| plan.options.selects(c.name))
        .collect();
    anyhow::ensure!(
        !selected.is_empty(),
        "no case matches {:?}; see `siosim check --list`",
        args.cases
    );
    anyhow::ensure!(
        selected
            .iter()
            .any(|c| plan.options.profiles.contains(&c.profile)),
        "no case would run: the {} selected cases all need a contract outside --profile {}",
        selected.len(),
        profile_names(&plan.options.profiles)
    );
    Ok(())
}

fn profile_names(profiles: &BTreeSet<Profile>) -> String {
    let names: Vec<&str> = profiles.iter().map(|p| p.name()).collect();
    names.join(",")
}

fn list(plan: &Plan) {
    for case in plan.cases.iter().filter(|c| plan.options.selects(c.name)) {
        println!(
            "{:<6} {:<8} {:<62} {}",
            case.severity,
            case.profile.name(),
            case.name,
            case.clause.url()
        );
    }
}

fn run_preflight(url: &str, path: &str, options: &RunOptions) -> Result<(), Unusable> {
    match preflight::preflight(url, path, &options.credentials, options.timeout) {
        Ok(usable) => {
            println!("preflight: {}", usable.0);
            Ok(())
        }
        Err(unusable) => {
            println!("preflight FAILED: {}", unusable.0);
            Err(unusable)
        }
    }
}

/// The report of a run that the preflight stopped: no case, the reason.
fn unusable_report(plan: &Plan, unusable: Unusable) -> SuiteReport {
    SuiteReport {
        target: plan.target.summary(),
        profiles: plan.options.profiles.iter().copied().collect(),
        timeout_ms: plan.options.timeout.as_millis() as u64,
        cases: Vec::new(),
        started_at: runner::started_at(),
        duration_ms: 0,
        server_lost: Some(ServerLost {
            during_case: "preflight".into(),
            reason: unusable.0,
        }),
    }
}

fn run(plan: &Plan) -> anyhow::Result<SuiteReport> {
    let selected = plan
        .cases
        .iter()
        .filter(|c| plan.options.selects(c.name))
        .count();
    eprintln!(
        "siosim check: {selected} cases against {}",
        plan.target.summary()
    );
    let mut console = report::console::Progress::new(selected);
    let suite = runner::run(&plan.cases, &plan.target, &plan.options, |case| {
        console.case(case)
    })
    .map_err(anyhow::Error::msg)?;
    console.finish();
    print!("{}", report::console::summary(&suite));
    if let Some(lost) = &suite.server_lost {
        println!(
            "the {} cases after {} did not run",
            selected - suite.cases.len(),
            lost.during_case
        );
    }
    Ok(suite)
}

/// The exit code, and for a failed run in simulation how to replay it.
fn exit(args: &CheckArgs, plan: &Plan, suite: &SuiteReport) -> anyhow::Result<Exit> {
    if suite.server_lost.is_some() {
        return Ok(Exit::ServerUnusable);
    }
    if suite
        .cases
        .iter()
        .all(|c| c.verdict == Verdict::NotApplicable)
    {
        println!("no case ran: every selected case is NOT APPLICABLE to this target");
        return Ok(Exit::Usage);
    }
    let passed = match &plan.expectations {
        Some(expectations) => as_documented(expectations, suite),
        None => suite.passed(),
    };
    std::io::stdout().flush()?;
    if passed {
        return Ok(Exit::Conformant);
    }
    if args.url().is_none() {
        for case in suite.cases.iter().filter(|c| c.verdict == Verdict::Failed) {
            eprintln!(
                "replay: siosim check --seed {} --case '{}'",
                args.seed, case.name
            );
        }
    }
    Ok(Exit::NonConformant)
}

/// Prints the documented and unexpected verdicts; whether all are as
/// documented.
fn as_documented(expectations: &Expectations, suite: &SuiteReport) -> bool {
    let mismatches = expectations.mismatches(suite);
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
    let passed = mismatches.is_empty();
    println!(
        "outcome: {}",
        if passed {
            "every verdict is as documented"
        } else {
            "verdicts differ from the documented ones"
        }
    );
    passed
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
