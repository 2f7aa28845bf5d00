//! Seed search in worker processes: the [`Explorer`](crate::Explorer)'s
//! search, but each seed runs in a child process that is recycled every few
//! hundred seeds. Two things a thread cannot give:
//!
//! - **bounded memory**: what a server leaks per run (socketioxide's
//!   reference cycles, hyper's per-connection buffers) goes with its worker,
//!   so a campaign of any length stays within one worker's peak;
//! - **a campaign that survives a bad seed**: a seed that aborts the
//!   process, overflows its stack or never ends (a task that spins, so
//!   simulated time stops) is reported as a failure of that seed, with its
//!   replay line, and the search goes on with a fresh worker.
//!
//! A worker is any program that calls [`serve_seeds`]: it reads one seed per
//! line on stdin and answers one [`OUTCOME_PREFIX`] line per seed on stdout.
//! The verdicts are the workers' own, judged by the same invariants as in a
//! thread; only the process boundary is new.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::explorer::Progress;
use crate::simulation::Simulation;
use crate::verdict::Verdict;

/// A seed whose worker process died while running it.
pub const PROCESS_DIED: &str = "run.process-died";
/// A seed that did not end within the pool's real-time bound.
pub const HUNG: &str = "run.hung";
/// Starts each worker's answer line; other lines on its stdout are ignored.
pub const OUTCOME_PREFIX: &str = "siosim-seed-outcome ";

/// Seeds a worker runs before it is replaced: low enough that its leaks stay
/// small, high enough that process start-up (a few ms) does not show.
pub const DEFAULT_SEEDS_PER_WORKER: usize = 500;
/// How long one seed may take in real time before its worker is killed.
/// Generous: the slowest seeds take well under a second in a release build.
pub const DEFAULT_SEED_TIMEOUT: Duration = Duration::from_secs(60);
/// The stderr lines of a worker kept for the report of its death.
const STDERR_TAIL_LINES: usize = 20;
/// Longest stderr line kept, in bytes.
const STDERR_LINE_BYTES: usize = 400;
/// Worker lines waiting to be read: a worker that floods its stdout waits.
const EVENTS_BOUND: usize = 1024;
/// How often the progress callback is called.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// One broken invariant of a failing seed, as a worker reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedInvariant {
    pub invariant: String,
    pub summary: String,
}

/// A failing seed: what it broke, and the verdict block to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedFailure {
    pub seed: u64,
    /// In judging order; never empty.
    pub violations: Vec<FailedInvariant>,
    /// The verdict block ([`Verdict::verdict`]), or how the worker died.
    pub verdict: String,
}

impl From<&Verdict> for SeedFailure {
    fn from(verdict: &Verdict) -> Self {
        Self {
            seed: verdict.seed(),
            violations: verdict
                .violations
                .iter()
                .map(|v| FailedInvariant {
                    invariant: v.invariant.to_owned(),
                    summary: v.summary.clone(),
                })
                .collect(),
            verdict: verdict.verdict(),
        }
    }
}

impl SeedFailure {
    fn of_process(seed: u64, invariant: &str, summary: String, stderr: &[String]) -> Self {
        let mut verdict = format!("FAIL {summary}\n");
        if !stderr.is_empty() {
            verdict.push_str("the worker's last stderr lines:\n");
            for line in stderr {
                verdict.push_str(&format!("  {line}\n"));
            }
        }
        Self {
            seed,
            violations: vec![FailedInvariant {
                invariant: invariant.to_owned(),
                summary,
            }],
            verdict,
        }
    }
}

/// A worker's answer for one seed: no violations means it passed.
#[derive(Debug, Serialize, Deserialize)]
struct SeedOutcome {
    seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure: Option<SeedFailure>,
}

/// The worker's side: runs each seed read from `input` (one per line) and
/// writes its outcome to `output`, until `input` ends. A worker writes no
/// core file: a campaign over a server that aborts would leave one per bad
/// seed, and the replay line reproduces the crash anyway.
pub fn serve_seeds(
    simulation_for: impl Fn(u64) -> Simulation,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    no_core_files();
    for line in input.lines() {
        let line = line?;
        let seed: u64 = line.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{line:?} is not a seed"),
            )
        })?;
        let verdict = simulation_for(seed).check(seed);
        let outcome = SeedOutcome {
            seed,
            failure: (!verdict.passed()).then(|| SeedFailure::from(&verdict)),
        };
        writeln!(
            output,
            "{OUTCOME_PREFIX}{}",
            serde_json::to_string(&outcome)?
        )?;
        output.flush()?;
    }
    Ok(())
}

/// A seed search whose seeds run in worker processes.
#[derive(Debug, Clone)]
pub struct WorkerPool {
    program: PathBuf,
    args: Vec<OsString>,
    seeds: Vec<u64>,
    jobs: usize,
    keep_going: bool,
    seeds_per_worker: usize,
    seed_timeout: Duration,
}

/// What a search in worker processes found.
#[derive(Debug, Clone)]
pub struct PoolExploration {
    pub seeds_run: usize,
    pub elapsed: Duration,
    /// By seed, ascending; at most one unless the search kept going.
    pub failures: Vec<SeedFailure>,
    /// Worker processes started, the replacements included.
    pub workers_started: usize,
}

impl PoolExploration {
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl WorkerPool {
    /// Workers run `program args…`, which must call [`serve_seeds`].
    pub fn new(program: impl Into<PathBuf>, args: Vec<OsString>) -> Self {
        Self {
            program: program.into(),
            args,
            seeds: Vec::new(),
            jobs: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            keep_going: false,
            seeds_per_worker: DEFAULT_SEEDS_PER_WORKER,
            seed_timeout: DEFAULT_SEED_TIMEOUT,
        }
    }

    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }

    /// Workers at once.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    pub fn seeds_per_worker(mut self, seeds: usize) -> Self {
        self.seeds_per_worker = seeds.max(1);
        self
    }

    pub fn seed_timeout(mut self, timeout: Duration) -> Self {
        self.seed_timeout = timeout;
        self
    }

    /// Runs the seeds; `progress` is called about four times a second and
    /// once at the end. `Err` only if no worker could be started.
    pub fn run_with_progress(
        &self,
        mut progress: impl FnMut(Progress),
    ) -> io::Result<PoolExploration> {
        let mut search = Search::new(self)?;
        let mut last_progress = Instant::now();
        while !search.is_done() {
            search.wait_for_event(PROGRESS_EVERY)?;
            if last_progress.elapsed() >= PROGRESS_EVERY {
                progress(search.progress());
                last_progress = Instant::now();
            }
        }
        progress(search.progress());
        Ok(search.finish())
    }
}

/// A running search: its workers, keyed by spawn number.
struct Search<'a> {
    pool: &'a WorkerPool,
    started: Instant,
    next_seed: usize,
    stop: bool,
    seeds_run: usize,
    failures: Vec<SeedFailure>,
    workers: BTreeMap<usize, Worker>,
    workers_started: usize,
    events: mpsc::Receiver<WorkerEvent>,
    events_in: mpsc::SyncSender<WorkerEvent>,
    retired: Vec<Child>,
}

/// A line, or the end, of a worker's stdout.
enum WorkerEvent {
    Line { worker: usize, line: String },
    Closed { worker: usize },
}

struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    in_flight: Option<(u64, Instant)>,
    seeds_done: usize,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

impl<'a> Search<'a> {
    fn new(pool: &'a WorkerPool) -> io::Result<Self> {
        let (events_in, events) = mpsc::sync_channel(EVENTS_BOUND);
        let mut search = Self {
            pool,
            started: Instant::now(),
            next_seed: 0,
            stop: false,
            seeds_run: 0,
            failures: Vec::new(),
            workers: BTreeMap::new(),
            workers_started: 0,
            events,
            events_in,
            retired: Vec::new(),
        };
        for _ in 0..pool.jobs.min(pool.seeds.len()) {
            let id = search.spawn()?;
            search.feed(id)?;
        }
        Ok(search)
    }

    fn is_done(&self) -> bool {
        self.workers.is_empty()
    }

    fn progress(&self) -> Progress {
        Progress {
            seeds_run: self.seeds_run,
            seeds_total: self.pool.seeds.len(),
            failing: self.failures.len(),
            elapsed: self.started.elapsed(),
        }
    }

    fn spawn(&mut self) -> io::Result<usize> {
        let mut child = Command::new(&self.pool.program)
            .args(&self.pool.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let id = self.workers_started;
        self.workers_started += 1;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let events = self.events_in.clone();
        std::thread::spawn(move || forward_lines(id, stdout, &events));
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        std::thread::spawn(move || keep_tail(stderr, &tail));
        let stdin = child.stdin.take();
        self.workers.insert(
            id,
            Worker {
                child,
                stdin,
                in_flight: None,
                seeds_done: 0,
                stderr_tail,
            },
        );
        Ok(id)
    }

    /// Gives worker `id` its next seed, or retires it: when the seeds ran
    /// out, the search stopped, or it ran its share.
    fn feed(&mut self, id: usize) -> io::Result<()> {
        let seed = self.pool.seeds.get(self.next_seed).copied();
        let worker = self.workers.get_mut(&id).expect("a live worker");
        let spent = worker.seeds_done >= self.pool.seeds_per_worker;
        match seed {
            Some(seed) if !self.stop && !spent => {
                self.next_seed += 1;
                worker.in_flight = Some((seed, Instant::now()));
                let stdin = worker.stdin.as_mut().expect("an idle worker's stdin");
                if writeln!(stdin, "{seed}")
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    // It died: its stdout closes too, and that reports the seed.
                    worker.stdin = None;
                }
                Ok(())
            }
            _ => {
                self.retire(id);
                if seed.is_some() && !self.stop {
                    let fresh = self.spawn()?;
                    self.feed(fresh)?;
                }
                Ok(())
            }
        }
    }

    /// Closes an idle worker's stdin: it exits once it reads the end.
    fn retire(&mut self, id: usize) {
        if let Some(mut worker) = self.workers.remove(&id) {
            drop(worker.stdin.take());
            self.retired.push(worker.child);
        }
        self.retired
            .retain_mut(|child| !matches!(child.try_wait(), Ok(Some(_))));
    }

    fn wait_for_event(&mut self, at_most: Duration) -> io::Result<()> {
        let wait = self.time_to_next_deadline().min(at_most);
        match self.events.recv_timeout(wait) {
            Ok(WorkerEvent::Line { worker, line }) => self.on_line(worker, &line)?,
            Ok(WorkerEvent::Closed { worker }) => self.on_closed(worker)?,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the search holds a sender"),
        }
        self.kill_hung()
    }

    fn time_to_next_deadline(&self) -> Duration {
        self.workers
            .values()
            .filter_map(|w| w.in_flight)
            .map(|(_, since)| self.pool.seed_timeout.saturating_sub(since.elapsed()))
            .min()
            .unwrap_or(Duration::MAX)
    }

    fn on_line(&mut self, id: usize, line: &str) -> io::Result<()> {
        let Some(json) = line.strip_prefix(OUTCOME_PREFIX) else {
            return Ok(());
        };
        let Some(worker) = self.workers.get_mut(&id) else {
            return Ok(());
        };
        let Ok(outcome) = serde_json::from_str::<SeedOutcome>(json) else {
            return Ok(());
        };
        if worker.in_flight.map(|(seed, _)| seed) != Some(outcome.seed) {
            return Ok(());
        }
        worker.in_flight = None;
        worker.seeds_done += 1;
        self.record(outcome.failure);
        self.feed(id)
    }

    /// A worker's stdout closed: it exited. If it was running a seed, that
    /// seed killed it.
    fn on_closed(&mut self, id: usize) -> io::Result<()> {
        let Some(mut worker) = self.workers.remove(&id) else {
            return Ok(());
        };
        let status = reap(&mut worker.child);
        let Some((seed, _)) = worker.in_flight else {
            return self.replace();
        };
        let summary = format!(
            "the worker process running seed {seed} died: {}",
            describe_exit(status)
        );
        let stderr = tail_of(&worker.stderr_tail);
        self.record(Some(SeedFailure::of_process(
            seed,
            PROCESS_DIED,
            summary,
            &stderr,
        )));
        self.replace()
    }

    fn kill_hung(&mut self) -> io::Result<()> {
        let timeout = self.pool.seed_timeout;
        let hung: Vec<usize> = self
            .workers
            .iter()
            .filter(|(_, w)| {
                w.in_flight
                    .is_some_and(|(_, since)| since.elapsed() >= timeout)
            })
            .map(|(&id, _)| id)
            .collect();
        for id in hung {
            let mut worker = self.workers.remove(&id).expect("a live worker");
            reap(&mut worker.child);
            let (seed, _) = worker.in_flight.expect("a hung worker runs a seed");
            let summary = format!(
                "seed {seed} did not end within {} s of real time (its simulated time stopped advancing: a task that never yields?); its worker was killed",
                timeout.as_secs_f64()
            );
            let stderr = tail_of(&worker.stderr_tail);
            self.record(Some(SeedFailure::of_process(seed, HUNG, summary, &stderr)));
            self.replace()?;
        }
        Ok(())
    }

    /// A fresh worker in place of a dead one, if seeds remain.
    fn replace(&mut self) -> io::Result<()> {
        if self.stop || self.next_seed >= self.pool.seeds.len() {
            return Ok(());
        }
        let id = self.spawn()?;
        self.feed(id)
    }

    fn record(&mut self, failure: Option<SeedFailure>) {
        self.seeds_run += 1;
        if let Some(failure) = failure {
            self.stop |= !self.pool.keep_going;
            self.failures.push(failure);
        }
    }

    fn finish(mut self) -> PoolExploration {
        // Each answered its last seed and was told there are no more: what
        // it still does is its own teardown.
        for mut child in self.retired.drain(..) {
            reap(&mut child);
        }
        self.failures.sort_by_key(|f| f.seed);
        if !self.pool.keep_going {
            self.failures.truncate(1);
        }
        PoolExploration {
            seeds_run: self.seeds_run,
            elapsed: self.started.elapsed(),
            failures: self.failures,
            workers_started: self.workers_started,
        }
    }
}

fn forward_lines(id: usize, stdout: impl io::Read, events: &mpsc::SyncSender<WorkerEvent>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if events.send(WorkerEvent::Line { worker: id, line }).is_err() {
            return;
        }
    }
    let _ = events.send(WorkerEvent::Closed { worker: id });
}

fn keep_tail(stderr: impl io::Read, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(mut line) = line else { break };
        if line.len() > STDERR_LINE_BYTES {
            let mut end = STDERR_LINE_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push('…');
        }
        let mut tail = tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tail.len() == STDERR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

fn tail_of(tail: &Mutex<VecDeque<String>>) -> Vec<String> {
    let tail = tail
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tail.iter().cloned().collect()
}

/// Reaps a worker whose stdout closed, or that has no more work. Its stdout
/// closes as it exits, so the kill cannot change how it ended (a process
/// already exiting keeps its status); it only bounds the wait for one that
/// closed its stdout and carried on.
fn reap(child: &mut Child) -> Option<ExitStatus> {
    let _ = child.kill();
    child.wait().ok()
}

/// Sets this process's core file size limit to 0.
#[allow(unsafe_code)]
fn no_core_files() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit only reads the struct it is given. Lowering a limit
    // cannot fail for lack of privilege; if it fails, cores are merely kept.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
}

/// The peak resident memory, in MiB, of this process and of the largest of
/// its children that were waited for (the workers of a finished search).
#[allow(unsafe_code)]
pub fn peak_rss_mib() -> (f64, f64) {
    let mib = |who| {
        // SAFETY: getrusage only writes to the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::getrusage(who, &mut usage) } == 0;
        // Linux reports ru_maxrss in KiB.
        if ok {
            usage.ru_maxrss as f64 / 1024.0
        } else {
            0.0
        }
    };
    (mib(libc::RUSAGE_SELF), mib(libc::RUSAGE_CHILDREN))
}

fn describe_exit(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    let Some(status) = status else {
        return "its exit status is unknown".to_owned();
    };
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("it exited with status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal} ({})", signal_name(signal)),
        (None, None) => format!("{status}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT: an abort, or a stack overflow",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL: killed from outside, or out of memory",
        libc::SIGTERM => "SIGTERM",
        _ => "another signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_refuses_a_line_that_is_not_a_seed() {
        let mut output = Vec::new();
        let error = serve_seeds(
            |_| unreachable!("no seed to run"),
            "seven\n".as_bytes(),
            &mut output,
        )
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains("\"seven\" is not a seed"),
            "{error}"
        );
        assert!(output.is_empty());
    }

    #[test]
    fn a_dead_worker_is_described_by_its_signal() {
        use std::os::unix::process::ExitStatusExt as _;
        let aborted = describe_exit(Some(ExitStatus::from_raw(libc::SIGABRT)));
        assert_eq!(
            aborted,
            "killed by signal 6 (SIGABRT: an abort, or a stack overflow)"
        );
        let exited = describe_exit(Some(ExitStatus::from_raw(2 << 8)));
        assert_eq!(exited, "it exited with status 2");
    }
}
