//! `siosim explore`: many seeds of one scenario against one server, searched
//! by the harness's [`Explorer`] (in parallel, each seed on a fresh OS
//! thread, each run judged by every invariant checker). The first failing
//! seed comes back with its violation and the `siosim run` line that
//! replays it. Also the regressions file: seeds that once failed.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use siosim_harness::worker_pool::{self, PoolExploration, SeedFailure, WorkerPool};
use siosim_harness::{Exploration, Explorer, Progress};

use crate::campaign_report::{CampaignReport, FailureReport, PeakRss};
use crate::documented_violations::DocumentedViolations;
use crate::exit_code::Exit;
use crate::live_campaign::{
    Budget, DEFAULT_MAX_CONNECTIONS, LiveCampaign, LiveProfile, parse_duration,
};
use crate::run::{self, REFERENCE};
use crate::scenarios::TransportMix;
use crate::shard::{Shard, ShardArg, parse_shard};
use crate::target_flags::{APPLIES_IN_SIMULATION, Flag, TargetFlags};

/// `siosim explore`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// A built-in scenario, or `swarm` (every seed draws its own scenario).
    /// With `--url`: `swarm` or nothing (live plans are drawn from the seed).
    #[arg(required_unless_present_any = ["url", "merge"])]
    pub scenario: Option<String>,
    /// Join the `--json` reports of a campaign's shards (`--shard K/N`, one
    /// file each) into one report: printed, and written with `--json`.
    #[arg(long, num_args = 1.., conflicts_with_all = ["url", "scenario", "seeds", "shard"])]
    pub merge: Vec<PathBuf>,
    /// Explore the live server at this root URL (`http://HOST:PORT`) over
    /// real TCP instead of a server in simulation: one seed's plan at a time.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: what the server is judged as claiming.
    #[arg(long, value_enum, default_value_t = LiveProfile::Protocol)]
    pub profile: LiveProfile,
    /// With `--url`: stop starting seeds after this much wall time (`90s`, `10m`, `1h`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// With `--url`: stop starting seeds once this many sessions were opened.
    #[arg(long)]
    pub max_sessions: Option<usize>,
    /// With `--url`: stop starting seeds once this many events and HTTP
    /// requests were sent.
    #[arg(long)]
    pub max_operations: Option<usize>,
    /// With `--url`: most connections a plan holds at once (3 per client).
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// With `--url`: a host other than loopback that may be explored.
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    /// With `--url`: the server's documented violations (JSON): a seed that
    /// breaks only these passes, and they are counted with their reasons.
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// The seeds: `A..B` (B excluded) or `A..=B`.
    #[arg(long, value_parser = parse_seeds, required_unless_present = "merge")]
    pub seeds: Option<SeedRange>,
    /// Seeds run at once (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The server under test: `reference`, or a racy variant.
    #[arg(long = "server", default_value = REFERENCE)]
    pub server_variant: String,
    /// A clustered server's node count: its built-ins and each swarm seed
    /// run exactly this many (by default built-ins run 3, and each swarm
    /// seed draws 2 or 3).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Which transports a built-in scenario's clients use.
    #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
    pub transport: TransportMix,
    /// Run every seed and collect every failure instead of stopping at the first.
    #[arg(long)]
    pub keep_going: bool,
    /// Run only the K-th of N disjoint slices of the range (`K/N`, 1-based);
    /// `auto/N` or `auto` reads K (and N) from a job engine's environment:
    /// `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job), `CI_NODE_INDEX`
    /// and `CI_NODE_TOTAL` (GitLab), `CIRCLE_NODE_INDEX` and
    /// `CIRCLE_NODE_TOTAL` (CircleCI).
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<ShardArg>,
    /// Write the campaign's result (seeds run, seeds/s, failures) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Run the seeds on threads of this process instead of in worker
    /// processes: no isolation from a seed that aborts or hangs, and memory
    /// grows with the campaign.
    #[arg(long)]
    pub in_process: bool,
    /// Seeds a worker process runs before a fresh one replaces it (memory
    /// a server leaks goes with its worker).
    #[arg(long, default_value_t = worker_pool::DEFAULT_SEEDS_PER_WORKER)]
    pub seeds_per_worker: usize,
    /// Real time one seed may take before its worker is killed and the seed
    /// reported as hung (`30s`, `2m`).
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub seed_timeout: std::time::Duration,
    /// Internal: be a worker process, running the seeds read on stdin.
    #[arg(long, hide = true)]
    pub worker: bool,
    #[command(flatten)]
    pub server: siosim_server::Config,
}

/// A range of seeds, end excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRange {
    pub start: u64,
    pub end: u64,
}

pub fn parse_seeds(text: &str) -> Result<SeedRange, String> {
    let bad = || format!("{text:?} is not a seed range like 0..1000 or 0..=999");
    let (start, end, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = text.split_once("..").ok_or_else(bad)?;
            (a, b, false)
        }
    };
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    let end: u64 = end.trim().parse().map_err(|_| bad())?;
    let end = if inclusive {
        end.checked_add(1).ok_or_else(bad)?
    } else {
        end
    };
    if end <= start {
        return Err(format!("{text:?} holds no seed"));
    }
    Ok(SeedRange { start, end })
}

impl SeedRange {
    /// The seeds of this range that fall in `shard`, in order.
    pub fn seeds(self, shard: Option<Shard>) -> impl Iterator<Item = u64> {
        let (first, step) = match shard {
            Some(s) => (s.index - 1, s.count),
            None => (0, 1),
        };
        (self.start.saturating_add(first)..self.end).step_by(step as usize)
    }
}

/// A campaign to run: a scenario (or `swarm`) against one server.
#[derive(Clone)]
pub struct Campaign {
    pub scenario: String,
    pub server: String,
    /// `--nodes`, for the replay line.
    pub nodes: Option<usize>,
    pub app: run::ServerApp,
    pub socketio_path: String,
    pub transport: TransportMix,
    pub seeds: Vec<u64>,
    pub jobs: usize,
    pub keep_going: bool,
}

impl std::fmt::Debug for Campaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Campaign")
            .field("scenario", &self.scenario)
            .field("server", &self.server)
            .field("seeds", &self.seeds.len())
            .field("jobs", &self.jobs)
            .finish()
    }
}

impl Campaign {
    /// The harness's explorer for this campaign. The scenario name must be
    /// known (see [`run::named_scenario`]).
    pub fn explorer(&self) -> anyhow::Result<Explorer> {
        self.check_scenario_name()?;
        let this = self.clone();
        Ok(Explorer::new(move |seed| this.simulation_for(seed))
            .seeds(self.seeds.iter().copied())
            .jobs(self.jobs)
            .keep_going(self.keep_going))
    }

    /// Runs the search; `progress` is called about four times a second.
    pub fn run(
        &self,
        progress: impl FnMut(siosim_harness::Progress),
    ) -> anyhow::Result<Exploration> {
        Ok(self.explorer()?.run_with_progress(progress))
    }

    /// Runs the search in worker processes (see [`WorkerPool`]): each runs
    /// `siosim explore` with this process's own arguments and `--worker`.
    pub fn run_in_workers(
        &self,
        seeds_per_worker: usize,
        seed_timeout: std::time::Duration,
        progress: impl FnMut(Progress),
    ) -> anyhow::Result<PoolExploration> {
        self.check_scenario_name()?;
        let program = std::env::current_exe().context("finding the siosim executable")?;
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        args.push("--worker".into());
        WorkerPool::new(program, args)
            .seeds(self.seeds.iter().copied())
            .jobs(self.jobs)
            .keep_going(self.keep_going)
            .seeds_per_worker(seeds_per_worker)
            .seed_timeout(seed_timeout)
            .run_with_progress(progress)
            .context("starting a worker process")
    }

    /// Be a worker: run each seed read on stdin, answer on stdout.
    pub fn serve_as_worker(&self) -> anyhow::Result<()> {
        self.check_scenario_name()?;
        worker_pool::serve_seeds(
            |seed| self.simulation_for(seed),
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )
        .context("serving seeds")
    }

    /// Fails on an unknown scenario name before any seed runs: the name
    /// does not depend on the seed, so [`Self::simulation_for`] then cannot fail.
    fn check_scenario_name(&self) -> anyhow::Result<()> {
        self.app
            .scenario(&self.scenario, 0, self.transport)
            .map(drop)
    }

    /// The simulation seed `seed` runs, judged as `siosim run` judges it.
    fn simulation_for(&self, seed: u64) -> siosim_harness::Simulation {
        let scenario = self
            .app
            .scenario(&self.scenario, seed, self.transport)
            .expect("the scenario name was checked before the first seed");
        run::simulation(scenario, &self.app, &self.socketio_path)
    }

    /// The `siosim run` line that replays `seed`.
    pub fn replay(&self, seed: u64) -> String {
        run::replay_line(
            &self.scenario,
            seed,
            self.transport,
            &self.server,
            self.nodes,
        )
    }

    /// What explore prints for a failing seed: the swarm's options, the
    /// verdict, the replay line.
    pub fn describe(&self, failure: &SeedFailure) -> String {
        format!(
            "{}{}replay: {}\n",
            self.app.preamble(&self.scenario, failure.seed),
            failure.verdict,
            self.replay(failure.seed)
        )
    }
}

/// Flags that configure a server in simulation or its scenarios.
const SIMULATION_ONLY: [Flag; 14] = [
    ("server_variant", "--server"),
    ("nodes", "--nodes"),
    ("transport", "--transport"),
    ("jobs", "--jobs"),
    ("in_process", "--in-process"),
    ("seeds_per_worker", "--seeds-per-worker"),
    ("seed_timeout", "--seed-timeout"),
    ("worker", "--worker"),
    ("ping_interval_ms", "--ping-interval-ms"),
    ("ping_timeout_ms", "--ping-timeout-ms"),
    ("connect_timeout_ms", "--connect-timeout-ms"),
    ("max_payload_bytes", "--max-payload-bytes"),
    ("host", "--host"),
    ("port", "--port"),
];
/// Flags that only a live server uses.
const LIVE_ONLY: [Flag; 7] = [
    ("profile", "--profile"),
    ("duration", "--duration"),
    ("max_sessions", "--max-sessions"),
    ("max_operations", "--max-operations"),
    ("max_connections", "--max-connections"),
    ("allow_hosts", "--allow-host"),
    ("expect", "--expect"),
];

const FLAGS: TargetFlags = TargetFlags {
    simulation_only: &SIMULATION_ONLY,
    simulation_why: APPLIES_IN_SIMULATION,
    live_only: &LIVE_ONLY,
};

/// `siosim explore`: exits 1 if any seed failed (3 if the live server
/// cannot be used at all).
pub fn explore(args: ExploreArgs, given: &clap::ArgMatches) -> anyhow::Result<Exit> {
    if !args.merge.is_empty() {
        return merge(&args);
    }
    FLAGS.refuse_misplaced(given, args.url.is_some())?;
    let slice = Slice::of(&args)?;
    if let Some(url) = &args.url {
        if args
            .scenario
            .as_deref()
            .is_some_and(|s| s != siosim_harness::swarm::SWARM)
        {
            anyhow::bail!(
                "with --url, explore runs the plans each seed draws (`swarm`); built-in scenarios run in simulation only"
            );
        }
        return explore_live(url, &args, slice);
    }
    let scenario = args.scenario.clone().unwrap_or_default();
    let campaign = Campaign {
        scenario,
        server: args.server_variant.clone(),
        nodes: args.nodes,
        app: run::server_app(&args.server_variant, &args.server)?.with_nodes(args.nodes)?,
        socketio_path: args.server.socketio_path.clone(),
        transport: args.transport,
        seeds: slice.seeds(),
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        keep_going: args.keep_going,
    };
    if args.worker {
        campaign.serve_as_worker()?;
        return Ok(Exit::Passed);
    }
    let total = campaign.seeds.len();
    let quiet = args.quiet;
    let progress = |progress: Progress| {
        if !quiet {
            let (done, failed) = (progress.seeds_run, progress.failing);
            let rate = done as f64 / progress.elapsed.as_secs_f64().max(1e-9);
            eprint!("\rexplore {done}/{total} seeds  {rate:.1} seeds/s  {failed} failing  ");
            let _ = std::io::stderr().flush();
        }
    };
    let outcome = if args.in_process {
        in_workers_form(campaign.run(progress)?)
    } else {
        campaign.run_in_workers(args.seeds_per_worker, args.seed_timeout, progress)?
    };
    if !quiet {
        eprintln!();
    }
    for failure in &outcome.failures {
        print!("{}", campaign.describe(failure));
    }
    println!(
        "explored {} seeds of {} against {} in {:.1} s ({:.1} seeds/s): {} failing",
        outcome.seeds_run,
        campaign.scenario,
        campaign.server,
        outcome.elapsed.as_secs_f64(),
        outcome.seeds_per_second(),
        outcome.failures.len()
    );
    if let Some(path) = &args.json {
        let failures = outcome
            .failures
            .iter()
            .flat_map(|f| FailureReport::all_of(f, &campaign.replay(f.seed)))
            .collect();
        CampaignReport {
            peak_rss_mib: Some(PeakRss::now()),
            ..slice.report(
                &campaign.scenario,
                &campaign.server,
                outcome.seeds_run,
                outcome.elapsed.as_secs_f64(),
                failures,
            )
        }
        .write(path)?;
    }
    Ok(if outcome.failures.is_empty() {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

/// An in-process search's outcome in the form a search in workers has.
fn in_workers_form(exploration: Exploration) -> PoolExploration {
    PoolExploration {
        seeds_run: exploration.seeds_run,
        elapsed: exploration.elapsed,
        failures: exploration.failures.iter().map(SeedFailure::from).collect(),
        workers_started: 0,
    }
}

/// `siosim explore --url`: the preflight, then one seed's plan at a time.
fn explore_live(url: &str, args: &ExploreArgs, slice: Slice) -> anyhow::Result<Exit> {
    let expected = args
        .expect
        .as_deref()
        .map(DocumentedViolations::read)
        .transpose()?;
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
    let seeds = slice.seeds();
    let total = seeds.len();
    let quiet = args.quiet;
    let mut done = 0;
    let outcome = campaign.explore(
        seeds,
        args.keep_going,
        Budget {
            duration: args.duration,
            sessions: args.max_sessions,
            operations: args.max_operations,
        },
        expected.as_ref(),
        |verdict| {
            done += 1;
            if !quiet {
                let mark = if verdict.passed() { "ok" } else { "FAILED" };
                eprintln!(
                    "seed {} {mark} ({done}/{total}, {:.1} s)",
                    verdict.seed(),
                    verdict.report.simulated.as_secs_f64()
                );
            }
        },
    )?;
    for failure in &outcome.failures {
        let seed = failure.seed();
        print!("{}{}", campaign.describe(seed), failure);
        let invariant = failure.violations.first().map_or("", |v| v.invariant);
        println!("replay:  {}", campaign.replay(seed));
        println!("shrink:  {}", campaign.shrink_line(seed, invariant));
    }
    for ((invariant, matching), (reason, seeds)) in &outcome.documented {
        println!(
            "documented: {invariant} ({matching:?}) in {} seed(s), first {}: {reason}",
            seeds.len(),
            seeds[0]
        );
    }
    let seconds = outcome.elapsed.as_secs_f64().max(1e-9);
    println!(
        "explored {} seeds ({} sessions, {} operations) against {} in {:.1} s ({:.2} sessions/s): {} failing{}",
        outcome.seeds_run,
        outcome.sessions,
        outcome.operations,
        campaign.url,
        seconds,
        outcome.sessions as f64 / seconds,
        outcome.failures.len(),
        match outcome.spent {
            Some(limit) => format!(
                "; {limit} ended the campaign after {} of {total} seeds",
                outcome.seeds_run
            ),
            None => String::new(),
        }
    );
    if let Some(path) = &args.json {
        let failures = outcome
            .failures
            .iter()
            .flat_map(|f| FailureReport::all_of(&SeedFailure::from(f), &campaign.replay(f.seed())))
            .collect();
        CampaignReport {
            sessions: Some(outcome.sessions),
            operations: Some(outcome.operations),
            ..slice.report(
                siosim_harness::swarm::LIVE_SWARM,
                &campaign.url,
                outcome.seeds_run,
                seconds,
                failures,
            )
        }
        .write(path)?;
    }
    if outcome.seeds_run == 0 {
        println!("no seed ran");
        return Ok(Exit::Usage);
    }
    Ok(if outcome.failures.is_empty() {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

/// The seeds this process runs: a range, or one shard of it.
#[derive(Debug, Clone, Copy)]
struct Slice {
    range: SeedRange,
    shard: Option<Shard>,
}

impl Slice {
    fn of(args: &ExploreArgs) -> anyhow::Result<Self> {
        let range = args.seeds.context("--seeds A..B is required")?;
        let shard = args
            .shard
            .map(|shard| shard.resolve(|name| std::env::var(name).ok()))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        Ok(Self { range, shard })
    }

    fn seeds(self) -> Vec<u64> {
        self.range.seeds(self.shard).collect()
    }

    /// The `--json` report of this slice's campaign.
    fn report(
        self,
        scenario: &str,
        server: &str,
        seeds_run: usize,
        seconds: f64,
        failures: Vec<FailureReport>,
    ) -> CampaignReport {
        CampaignReport {
            scenario: scenario.to_owned(),
            server: server.to_owned(),
            seeds: format!("{}..{}", self.range.start, self.range.end),
            shard: self.shard.map(|shard| shard.to_string()),
            shards_merged: None,
            seeds_run,
            seconds,
            seeds_per_second: seeds_run as f64 / seconds.max(1e-9),
            peak_rss_mib: None,
            sessions: None,
            operations: None,
            failures,
        }
    }
}

/// `siosim explore --merge`: the shards' reports as one campaign's; exits
/// 1 if any seed failed, 2 if the reports are not one whole campaign.
fn merge(args: &ExploreArgs) -> anyhow::Result<Exit> {
    let shards = args
        .merge
        .iter()
        .map(|path| CampaignReport::read(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = CampaignReport::merge(&shards).map_err(anyhow::Error::msg)?;
    for failure in &merged.failures {
        println!(
            "seed {} broke {}: {}\nreplay: {}",
            failure.seed, failure.invariant, failure.summary, failure.replay
        );
    }
    let failing: std::collections::BTreeSet<u64> = merged.failures.iter().map(|f| f.seed).collect();
    println!(
        "merged {} shards: {} seeds of {} against {} over {} in {:.1} s ({:.1} seeds/s): {} failing",
        shards.len(),
        merged.seeds_run,
        merged.scenario,
        merged.server,
        merged.seeds,
        merged.seconds,
        merged.seeds_per_second,
        failing.len()
    );
    if let Some(path) = &args.json {
        merged.write(path)?;
    }
    Ok(if failing.is_empty() {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

/// One line of a regressions file: `<scenario> <server> <seed> <expected>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub scenario: String,
    pub server: String,
    pub seed: u64,
    /// `pass`, or the invariant the seed must break.
    pub expected: String,
}

/// The value of `<expected>` for a seed that must pass.
pub const PASS: &str = "pass";

impl Regression {
    /// Parses a regressions file; `#` starts a comment.
    pub fn parse_file(text: &str) -> Result<Vec<Regression>, String> {
        text.lines()
            .enumerate()
            .map(|(n, line)| (n + 1, line.split('#').next().unwrap_or("").trim()))
            .filter(|(_, line)| !line.is_empty())
            .map(|(n, line)| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let [scenario, server, seed, expected] = fields[..] else {
                    return Err(format!("line {n}: expected 4 fields, got {line:?}"));
                };
                Ok(Regression {
                    scenario: scenario.to_owned(),
                    server: server.to_owned(),
                    seed: seed
                        .parse()
                        .map_err(|_| format!("line {n}: {seed:?} is not a seed"))?,
                    expected: expected.to_owned(),
                })
            })
            .collect()
    }

    /// The line that records a failing seed found on `server`: it must pass
    /// once the bug is fixed.
    pub fn line_for(scenario: &str, server: &str, seed: u64) -> String {
        format!("{scenario} {server} {seed} {PASS}\n")
    }

    /// Replays the seed; `Err` says how the verdict differs from the expected
    /// one. A scenario `file:<path>` is a scenario file (a shrunk one, say),
    /// its path relative to `base`, the regressions file's directory.
    pub fn replay(&self, base: &std::path::Path) -> anyhow::Result<Result<(), String>> {
        let app = run::server_app(&self.server, &siosim_server::Config::default())?;
        let (scenario, replay) = match self.scenario.strip_prefix("file:") {
            Some(path) => {
                let path = base.join(path);
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let scenario = siosim_harness::Scenario::from_json(&text)
                    .with_context(|| format!("parsing {}", path.display()))?;
                let replay = format!(
                    "siosim run --scenario-file {} --seed {} --server {}",
                    path.display(),
                    self.seed,
                    self.server
                );
                (scenario, replay)
            }
            None => (
                app.scenario(&self.scenario, self.seed, TransportMix::Mixed)?,
                run::replay_line(
                    &self.scenario,
                    self.seed,
                    TransportMix::Mixed,
                    &self.server,
                    None,
                ),
            ),
        };
        let verdict = run::judge(scenario, &app, "/socket.io", self.seed);
        let broken: Vec<&str> = verdict.violations.iter().map(|v| v.invariant).collect();
        Ok(match self.expected.as_str() {
            PASS if broken.is_empty() => Ok(()),
            PASS => Err(format!(
                "{replay}: must pass, broke {broken:?}\n{}",
                verdict.verdict()
            )),
            expected if broken.contains(&expected) => Ok(()),
            expected => Err(format!("{replay}: must break {expected}, broke {broken:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_a_range_into_disjoint_slices() {
        let range = parse_seeds("10..=19").unwrap();
        let mut all: Vec<u64> = (1..=3)
            .flat_map(|index| range.seeds(Some(Shard { index, count: 3 })))
            .collect();
        assert_eq!(
            range
                .seeds(Some(Shard { index: 2, count: 3 }))
                .collect::<Vec<_>>(),
            [11, 14, 17]
        );
        all.sort_unstable();
        assert_eq!(all, range.seeds(None).collect::<Vec<_>>());
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn bad_ranges_and_shards_are_clear_errors() {
        assert!(parse_seeds("5..5").unwrap_err().contains("holds no seed"));
        assert!(parse_seeds("x..9").is_err());
        assert_eq!(
            parse_seeds("0..100").unwrap(),
            SeedRange { start: 0, end: 100 }
        );
    }

    #[test]
    fn regressions_files_parse_with_comments_and_reject_garbage() {
        let parsed = Regression::parse_file("# c\nswarm reference 7 pass # why\n\n").unwrap();
        assert_eq!(
            parsed,
            [Regression {
                scenario: "swarm".into(),
                server: "reference".into(),
                seed: 7,
                expected: "pass".into()
            }]
        );
        assert!(Regression::parse_file("swarm reference seven pass").is_err());
        assert!(Regression::parse_file("swarm 7").is_err());
    }
}
