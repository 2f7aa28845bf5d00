//! Runs the selected cases against a target and gathers their verdicts.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use siosim_harness::Trace;

use crate::case::{Case, CaseError, Clause, Profile, Severity};
use crate::target::{CaseRun, LiveServer, Target, TargetSummary, run_simulated};
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
    /// Cases run at once in simulation (each on its own thread).
    pub jobs: usize,
    /// The server's connect timeout, if known: no handshake advertises it,
    /// so the cases about it are INFO without it.
    pub connect_timeout: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            profiles: Profile::ALL.into_iter().collect(),
            patterns: Vec::new(),
            timeout: Duration::from_secs(10),
            jobs: 1,
            connect_timeout: None,
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
    pub cases: Vec<CaseReport>,
}

impl SuiteReport {
    pub fn tally(&self) -> Tally {
        Tally::of(&self.cases)
    }

    /// The exit criterion: no MUST case FAILED.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.verdict != Verdict::Failed)
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
    let selected: Vec<Case> = cases
        .iter()
        .filter(|c| options.selects(c.name))
        .copied()
        .collect();
    let reports = match target {
        Target::Sim { seed, server } => {
            run_in_order(&selected, options.jobs, &mut progress, |case| {
                judged(case, options, |case| {
                    run_simulated(
                        *seed,
                        server,
                        case,
                        options.timeout,
                        options.connect_timeout,
                    )
                })
            })
        }
        Target::Url { url, path } => run_live(&selected, url, path, options, &mut progress)?,
    };
    Ok(SuiteReport {
        target: target.summary(),
        profiles: options.profiles.iter().copied().collect(),
        timeout_ms: options.timeout.as_millis() as u64,
        cases: reports,
    })
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

fn run_live(
    cases: &[Case],
    url: &str,
    path: &str,
    options: &RunOptions,
    progress: &mut impl FnMut(&CaseReport),
) -> Result<Vec<CaseReport>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let server = LiveServer::resolve(url, path, options.timeout).await?;
        let mut reports = Vec::with_capacity(cases.len());
        for &case in cases {
            let run = if options.profiles.contains(&case.profile) {
                Some(
                    server
                        .run(case, options.timeout, options.connect_timeout)
                        .await,
                )
            } else {
                None
            };
            let report = judged(case, options, |_| run.expect("run when claimed"));
            progress(&report);
            reports.push(report);
        }
        Ok(reports)
    })
}
