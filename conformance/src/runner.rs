//! Runs the selected cases against a target and gathers their verdicts.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;
use siosim_harness::Trace;

use crate::case::{Case, CaseError, Clause, Profile, Severity};
use crate::target::{CaseRun, Credentials, LiveServer, Target, TargetSummary, run_simulated};
use crate::verdict::Verdict;

/// Which cases run, and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The contracts the server claims; cases needing others are NOT APPLICABLE.
    pub profiles: BTreeSet<Profile>,
    /// Glob patterns over case names (`*` matches any run of characters);
    /// empty means every case.
    pub patterns: Vec<String>,
    /// The bound on every single wait (simulated time in simulation).
    pub timeout: Duration,
    /// Cases run at once: each on its own thread in simulation, each on its
    /// own sessions over TCP.
    pub jobs: usize,
    /// What a live server asks of its clients (`--auth`, `--header`).
    pub credentials: Credentials,
    /// The server's connect timeout, if known: no handshake advertises it,
    /// so the cases about it are INFO without it.
    pub connect_timeout: Option<Duration>,
    /// A cluster's other nodes (`--url A --url B …`: B …), as root URLs;
    /// the `cluster` cases connect sockets to each.
    pub other_nodes: Vec<String>,
    /// A shell command that restarts the live cluster's Redis and returns
    /// once it answers again (`--redis-restart`), for the cases about a
    /// restart; in simulation the simulated bus is restarted instead.
    pub redis_restart: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            profiles: Profile::ALL.into_iter().collect(),
            patterns: Vec::new(),
            timeout: Duration::from_secs(10),
            jobs: 1,
            credentials: Credentials::default(),
            connect_timeout: None,
            other_nodes: Vec::new(),
            redis_restart: None,
        }
    }
}

impl RunOptions {
    /// Whether `name` is selected by the patterns.
    pub fn selects(&self, name: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| glob_matches(p, name))
    }
}

/// `*` matches any run of characters (`::` included), `?` any one.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer wildcard match with backtracking to the last `*`.
    let (mut p, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// One case's verdict and the evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub name: &'static str,
    pub family: &'static str,
    pub severity: Severity,
    pub profile: Profile,
    pub clause: Clause,
    pub verdict: Verdict,
    /// Why: what broke, what was observed, or why it does not apply.
    pub reason: String,
    /// Simulated milliseconds in simulation, real ones over TCP.
    pub elapsed_ms: u64,
    pub trace: Trace,
}

/// Counts of each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub non_strict: usize,
    pub informational: usize,
    pub not_applicable: usize,
}

impl Tally {
    pub fn add(&mut self, verdict: Verdict) {
        *match verdict {
            Verdict::Passed => &mut self.passed,
            Verdict::Failed => &mut self.failed,
            Verdict::NonStrict => &mut self.non_strict,
            Verdict::Informational => &mut self.informational,
            Verdict::NotApplicable => &mut self.not_applicable,
        } += 1;
    }

    pub fn of<'a>(reports: impl IntoIterator<Item = &'a CaseReport>) -> Self {
        let mut tally = Tally::default();
        for report in reports {
            tally.add(report.verdict);
        }
        tally
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub target: TargetSummary,
    pub profiles: Vec<Profile>,
    pub timeout_ms: u64,
    /// The cases that ran, in order; after a lost server, only those that
    /// finished before it went.
    pub cases: Vec<CaseReport>,
    /// When the run started, RFC 3339 UTC, from the real clock or
    /// `SOURCE_DATE_EPOCH`; for the reports only, never the simulation.
    pub started_at: Option<String>,
    /// The run's wall time.
    pub duration_ms: u64,
    /// Set when the live server went away during the run: the cases from
    /// then on did not run and count for nothing.
    pub server_lost: Option<ServerLost>,
}

/// The live server stopped accepting connections during the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerLost {
    /// The case whose failure revealed it: the server went during it.
    pub during_case: String,
    /// What showed it, e.g. `connection refused`.
    pub reason: String,
}

impl SuiteReport {
    pub fn tally(&self) -> Tally {
        Tally::of(&self.cases)
    }

    /// The exit criterion: the server stayed and no MUST case FAILED.
    pub fn passed(&self) -> bool {
        self.server_lost.is_none() && self.cases.iter().all(|c| c.verdict != Verdict::Failed)
    }

    /// The case families in first-seen order, with their tallies.
    pub fn families(&self) -> Vec<(&'static str, Tally)> {
        let mut families: Vec<(&'static str, Tally)> = Vec::new();
        for case in &self.cases {
            match families.iter_mut().find(|(f, _)| *f == case.family) {
                Some((_, tally)) => tally.add(case.verdict),
                None => {
                    let mut tally = Tally::default();
                    tally.add(case.verdict);
                    families.push((case.family, tally));
                }
            }
        }
        families
    }
}

/// Runs `cases` against `target`, calling `progress` after each case with its
/// report, in the cases' order. Over TCP a target that cannot be resolved is
/// an `Err`; everything a server does wrong is a verdict.
pub fn run(
    cases: &[Case],
    target: &Target,
    options: &RunOptions,
    mut progress: impl FnMut(&CaseReport) + Send,
) -> Result<SuiteReport, String> {
    let started_at = started_at();
    let started = std::time::Instant::now();
    let selected: Vec<Case> = cases
        .iter()
        .filter(|c| options.selects(c.name))
        .copied()
        .collect();
    let (reports, server_lost) = match target {
        Target::Sim { seed, server } => {
            let reports = run_in_order(&selected, options.jobs, &mut progress, |case| {
                judged(case, options, |case| {
                    run_simulated(
                        *seed,
                        server,
                        case,
                        options.timeout,
                        options.connect_timeout,
                    )
                })
            });
            (reports, None)
        }
        Target::Url { url, path } => run_live(&selected, url, path, options, &mut progress)?,
    };
    Ok(SuiteReport {
        target: target.summary(),
        profiles: options.profiles.iter().copied().collect(),
        timeout_ms: options.timeout.as_millis() as u64,
        cases: reports,
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        server_lost,
    })
}

/// Now, or `SOURCE_DATE_EPOCH` (seconds since 1970) when set, so a report
/// can be rebuilt byte for byte. `None` when the variable is not a number or
/// the date is outside 1970..=9999 (humantime's range; it would panic).
/// Read on the caller's thread, which no simulation seeds: the real clock.
pub fn started_at() -> Option<String> {
    use std::fmt::Write as _;
    use std::time::{SystemTime, UNIX_EPOCH};
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(seconds) => UNIX_EPOCH.checked_add(Duration::from_secs(seconds.trim().parse().ok()?))?,
        Err(_) => SystemTime::now(),
    };
    now.duration_since(UNIX_EPOCH).ok()?;
    let mut text = String::new();
    write!(text, "{}", humantime::format_rfc3339_seconds(now)).ok()?;
    Some(text)
}

/// Runs a case unless its profile is not claimed, and judges it.
fn judged(case: Case, options: &RunOptions, run: impl FnOnce(Case) -> CaseRun) -> CaseReport {
    let run = if options.profiles.contains(&case.profile) {
        run(case)
    } else {
        CaseRun {
            outcome: Err(CaseError::NotApplicable(format!(
                "the server does not claim the {} contract (see --profile)",
                case.profile.name()
            ))),
            trace: siosim_harness::trace::Recorder::new().finish(),
            elapsed: Duration::ZERO,
        }
    };
    let verdict = Verdict::judge(case.severity, &run.outcome);
    let reason = match run.outcome {
        Ok(note) if note.is_empty() => "as specified".to_owned(),
        Ok(note) => note,
        Err(error) => error.to_string(),
    };
    CaseReport {
        name: case.name,
        family: case.family(),
        severity: case.severity,
        profile: case.profile,
        clause: case.clause,
        verdict,
        reason,
        elapsed_ms: run.elapsed.as_millis() as u64,
        trace: run.trace,
    }
}

/// Runs cases on `jobs` threads, reporting progress in the cases' order.
fn run_in_order(
    cases: &[Case],
    jobs: usize,
    progress: &mut (impl FnMut(&CaseReport) + Send),
    run_one: impl Fn(Case) -> CaseReport + Sync,
) -> Vec<CaseReport> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<CaseReport>>> = Mutex::new(vec![None; cases.len()]);
    let reported = Mutex::new((0usize, progress));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, cases.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&case) = cases.get(index) else { break };
                    let report = run_one(case);
                    done.lock().expect("no panics under the lock")[index] = Some(report);
                    // Report every finished case that all earlier ones precede.
                    let mut reported = reported.lock().expect("no panics under the lock");
                    let done = done.lock().expect("no panics under the lock");
                    while let Some(Some(report)) = done.get(reported.0) {
                        (reported.1)(report);
                        reported.0 += 1;
                    }
                }
            });
        }
    });
    done.into_inner()
        .expect("no panics under the lock")
        .into_iter()
        .map(|r| r.expect("every case ran"))
        .collect()
}

/// Runs cases against a live server, up to `options.jobs` at once, each on
/// its own sessions; app-profile cases run alone ([`LiveRun::exclusive`]).
/// Progress is reported
/// in the cases' order. A failure after which the server refuses
/// connections ends the run: that case and every later one do not count.
fn run_live(
    cases: &[Case],
    url: &str,
    path: &str,
    options: &RunOptions,
    progress: &mut impl FnMut(&CaseReport),
) -> Result<(Vec<CaseReport>, Option<ServerLost>), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let (credentials, timeout) = (&options.credentials, options.timeout);
        let mut others = Vec::with_capacity(options.other_nodes.len());
        for node in &options.other_nodes {
            others.push(LiveServer::resolve(node, path, credentials, timeout).await?);
        }
        let server = LiveServer::resolve(url, path, credentials, timeout)
            .await?
            .with_other_nodes(&others)
            .with_redis_restart(options.redis_restart.clone());
        Ok(LiveRun::new(cases, options).run(&server, progress).await)
    })
}

/// The state of one run against a live server.
struct LiveRun<'a> {
    cases: &'a [Case],
    options: &'a RunOptions,
    /// Reports by case index, as they finish.
    done: Vec<Option<CaseReport>>,
    /// How many of `done` progress has been given, in order.
    reported: usize,
    lost: Option<ServerLost>,
}

impl<'a> LiveRun<'a> {
    fn new(cases: &'a [Case], options: &'a RunOptions) -> Self {
        Self {
            cases,
            options,
            done: vec![None; cases.len()],
            reported: 0,
            lost: None,
        }
    }

    async fn run(
        mut self,
        server: &LiveServer,
        progress: &mut impl FnMut(&CaseReport),
    ) -> (Vec<CaseReport>, Option<ServerLost>) {
        let jobs = self.options.jobs.max(1);
        let mut running = FuturesUnordered::new();
        let mut next = 0;
        // The exclusive case running, if one is: nothing runs beside it.
        let mut alone: Option<usize> = None;
        while self.lost.is_none() && (next < self.cases.len() || !running.is_empty()) {
            while next < self.cases.len() && running.len() < jobs && alone.is_none() {
                if self.exclusive(next) {
                    if !running.is_empty() {
                        break;
                    }
                    alone = Some(next);
                }
                running.push(run_live_case(server, self.cases[next], self.options, next));
                next += 1;
            }
            let Some((index, report)) = running.next().await else {
                continue;
            };
            if alone == Some(index) {
                alone = None;
            }
            self.finish(server, index, report, progress).await;
        }
        let reports = self
            .done
            .into_iter()
            .take(self.reported)
            .flatten()
            .collect();
        (reports, self.lost)
    }

    /// Whether case `index` must run alone: the seed app's broadcasts and
    /// counter reach every session, so its cases would disturb each other;
    /// a robustness case loads the server, which could slow the others.
    fn exclusive(&self, index: usize) -> bool {
        let profile = self.cases[index].profile;
        matches!(
            profile,
            Profile::App | Profile::Robustness | Profile::Cluster
        ) && self.options.profiles.contains(&profile)
    }

    async fn finish(
        &mut self,
        server: &LiveServer,
        index: usize,
        report: CaseReport,
        progress: &mut impl FnMut(&CaseReport),
    ) {
        // Any case a vanished server spoils ends short of PASSED.
        let spoilable = !matches!(report.verdict, Verdict::Passed | Verdict::NotApplicable);
        if spoilable && server.is_gone().await {
            self.lost = Some(ServerLost {
                during_case: report.name.to_owned(),
                reason: format!("{} refuses connections", server.addr()),
            });
            return;
        }
        self.done[index] = Some(report);
        while let Some(Some(report)) = self.done.get(self.reported) {
            progress(report);
            self.reported += 1;
        }
    }
}

/// Runs case `index` against a live server unless its profile is not
/// claimed, and judges it.
async fn run_live_case(
    server: &LiveServer,
    case: Case,
    options: &RunOptions,
    index: usize,
) -> (usize, CaseReport) {
    let run = if options.profiles.contains(&case.profile) {
        Some(
            server
                .run(case, options.timeout, options.connect_timeout)
                .await,
        )
    } else {
        None
    };
    (
        index,
        judged(case, options, |_| run.expect("run when claimed")),
    )
}
