//! `siosim explore --url` and `siosim shrink --url`: seeded live plans
//! (the harness's `Swarm::live_scenario`) run one at a time against a live
//! server over real TCP, judged by the harness's invariants as configured
//! by `siosim_conformance::reference` (one judge per property: no checker
//! here). Seeds run one after another: the server's state (its counter,
//! its things, its broadcasts) is shared by everything connected to it.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use siosim_conformance::preflight;
use siosim_conformance::reference;
use siosim_conformance::{Credentials, live_authority};
use siosim_harness::invariants::Invariant;
use siosim_harness::swarm::Swarm;
use siosim_harness::{LiveServer, Scenario, Verdict};

use crate::documented_violations::DocumentedViolations;
use crate::exit_code::Exit;

/// What a live server is judged as claiming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LiveProfile {
    /// What any Socket.IO server must keep: clients connect, reconnect,
    /// drop, go silent and stop reading, emitting events no app handles.
    Protocol,
    /// The official test server's echo contract (README "Echo contract"):
    /// `message` echoed to its sender, `message-with-ack` acked.
    Echo,
    /// The seed-app contract (README "The seed-app contract"): counter,
    /// chat, rooms and REST things, judged against its model.
    App,
}

impl LiveProfile {
    fn name(self) -> &'static str {
        match self {
            LiveProfile::Protocol => "protocol",
            LiveProfile::Echo => "echo",
            LiveProfile::App => "app",
        }
    }

    fn swarm(self) -> Swarm {
        match self {
            LiveProfile::Protocol => reference::protocol_swarm(),
            LiveProfile::Echo => reference::echo_swarm(),
            LiveProfile::App => reference::live_swarm(),
        }
    }

    fn judges(self) -> Vec<Box<dyn Invariant>> {
        match self {
            LiveProfile::Protocol => reference::protocol_judges(),
            LiveProfile::Echo => reference::echo_judges(),
            LiveProfile::App => reference::live_judges(),
        }
    }
}

/// The connections one plan's client may hold at once: a session's two
/// long-polling connections (a GET pending while it POSTs) and a REST call.
pub const CONNECTIONS_PER_CLIENT: usize = 3;

/// A live server and how to draw and judge plans against it.
pub struct LiveCampaign {
    pub url: String,
    pub path: String,
    pub profile: LiveProfile,
    pub max_connections: usize,
    server: LiveServer,
    swarm: Swarm,
    judges: Vec<Box<dyn Invariant>>,
}

impl LiveCampaign {
    /// Resolves `url` (loopback, or a host the user allowed by name) and
    /// checks that the server can be used at all (the check preflight).
    /// `Err` carries the line to print.
    pub fn connect(
        url: &str,
        path: &str,
        profile: LiveProfile,
        max_connections: usize,
        allowed_hosts: &[String],
    ) -> anyhow::Result<Result<Self, preflight::Unusable>> {
        let addr = resolve(url, allowed_hosts)?;
        if max_connections < CONNECTIONS_PER_CLIENT {
            bail!("--max-connections must be at least {CONNECTIONS_PER_CLIENT} (one client's)");
        }
        let usable = preflight::preflight(url, path, &Credentials::default(), PREFLIGHT_TIMEOUT);
        if let Err(unusable) = usable {
            return Ok(Err(unusable));
        }
        Ok(Ok(LiveCampaign {
            url: url.to_owned(),
            path: path.to_owned(),
            profile,
            max_connections,
            server: LiveServer::new(addr).path(path),
            swarm: profile.swarm(),
            judges: profile.judges(),
        }))
    }

    /// [`connect`](Self::connect), or, when the preflight finds the server
    /// unusable, its line printed and the exit to end with.
    pub fn open(
        url: &str,
        path: &str,
        profile: LiveProfile,
        max_connections: usize,
        allowed_hosts: &[String],
    ) -> anyhow::Result<Result<Self, Exit>> {
        Ok(
            Self::connect(url, path, profile, max_connections, allowed_hosts)?.map_err(
                |unusable| {
                    println!("preflight FAILED: {}", unusable.0);
                    Exit::ServerUnusable
                },
            ),
        )
    }

    /// The plan of `seed`.
    pub fn plan(&self, seed: u64) -> Scenario {
        self.swarm.live_scenario(seed, self.max_clients())
    }

    /// What the seed chose, as `# ` lines.
    pub fn describe(&self, seed: u64) -> String {
        self.swarm.live_options(seed, self.max_clients()).describe()
    }

    fn max_clients(&self) -> usize {
        self.max_connections / CONNECTIONS_PER_CLIENT
    }

    fn judges(&self) -> Vec<&dyn Invariant> {
        self.judges.iter().map(|j| &**j).collect()
    }

    /// Runs `plan` once and judges it.
    pub fn check(&self, plan: &Scenario, seed: u64) -> anyhow::Result<Verdict> {
        Ok(self.server.check(plan, seed, &self.judges())?)
    }

    /// Runs `plan` `runs` times: how many verdicts `fails` accepts.
    pub fn reproduce(
        &self,
        plan: &Scenario,
        seed: u64,
        fails: impl FnMut(&Verdict) -> bool,
        runs: usize,
    ) -> anyhow::Result<siosim_harness::Reproduction> {
        Ok(self
            .server
            .reproduce(plan, seed, &self.judges(), runs, fails)?)
    }

    /// Runs `plan` up to `runs` times (at least once), until a verdict
    /// `fails` accepts: that verdict, or the last one.
    pub fn until_failure(
        &self,
        plan: &Scenario,
        seed: u64,
        mut fails: impl FnMut(&Verdict) -> bool,
        runs: usize,
    ) -> anyhow::Result<Verdict> {
        let mut verdict = self.check(plan, seed)?;
        for _ in 1..runs {
            if fails(&verdict) {
                break;
            }
            verdict = self.check(plan, seed)?;
        }
        Ok(verdict)
    }

    /// The flags that name this server and profile on a command line.
    pub fn flags(&self) -> String {
        let mut flags = format!("--url {} --profile {}", self.url, self.profile.name());
        if self.path != siosim_server::Config::default().socketio_path {
            flags.push_str(&format!(" --path {}", self.path));
        }
        if self.max_connections != DEFAULT_MAX_CONNECTIONS {
            flags.push_str(&format!(" --max-connections {}", self.max_connections));
        }
        flags
    }

    /// The flags of `siosim run` that name this server and profile.
    pub fn run_flags(&self) -> String {
        let mut flags = format!("--url {} --profile {}", self.url, self.profile.name());
        if self.path != siosim_server::Config::default().socketio_path {
            flags.push_str(&format!(" --path {}", self.path));
        }
        flags
    }

    /// The command that re-runs `seed`'s plan against the same server.
    pub fn replay(&self, seed: u64) -> String {
        format!("siosim explore {} --seeds {seed}..={seed}", self.flags())
    }

    /// The command that shrinks `seed`'s plan against the same server.
    pub fn shrink_line(&self, seed: u64, invariant: &str) -> String {
        format!(
            "siosim shrink {} --seed {seed} --invariant {invariant} --out plan-{seed}.json",
            self.flags()
        )
    }
}

/// The default cap on the connections a plan holds at once (6 clients).
pub const DEFAULT_MAX_CONNECTIONS: usize = 18;

impl std::fmt::Debug for LiveCampaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCampaign")
            .field("url", &self.url)
            .field("path", &self.path)
            .field("profile", &self.profile)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// How long each preflight step may take.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// `url`'s address: loopback, or a host named by `--allow-host`. A random
/// campaign sends hundreds of sessions: it must not reach a server by
/// mistake (a production host in a copied command line).
fn resolve(url: &str, allowed_hosts: &[String]) -> anyhow::Result<SocketAddr> {
    let authority = live_authority(url).map_err(anyhow::Error::msg)?;
    let addr = authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("{authority} resolves to no address"))?;
    let host = authority
        .rsplit_once(':')
        .map_or(authority.as_str(), |(h, _)| h);
    let allowed = allowed_hosts.iter().any(|h| h == host);
    if !addr.ip().is_loopback() && !allowed {
        bail!(
            "{url} is not a loopback address: explore sends many random sessions, \
             so name a remote host explicitly with --allow-host {host}"
        );
    }
    Ok(addr)
}

/// `90s`, `10m`, `1h` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration like 90s, 10m or 1h");
    let (number, unit) = match text.trim().char_indices().last() {
        Some((at, 's')) => (&text[..at], 1),
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3600),
        Some(_) => (text.trim(), 1),
        None => return Err(bad()),
    };
    let count: u64 = number.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(format!("{text:?}: a budget must be more than nothing"));
    }
    Ok(Duration::from_secs(count.saturating_mul(unit)))
}

/// What a live campaign found.
#[derive(Debug, Default)]
pub struct LiveOutcome {
    pub seeds_run: usize,
    pub sessions: usize,
    pub failures: Vec<Verdict>,
    /// Documented violations seen (`--expect`): the entry's invariant and
    /// text, its reason, and the seeds that broke it.
    pub documented: BTreeMap<(String, String), (String, Vec<u64>)>,
    /// Socket.IO events and HTTP requests the clients sent.
    pub operations: usize,
    pub elapsed: Duration,
    /// The limit of the budget that ended the campaign before its last
    /// seed, as its flag (`--duration`, say).
    pub spent: Option<&'static str>,
}

/// When a campaign stops starting seeds: whichever limit is reached first.
/// A seed under way always finishes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    pub duration: Option<Duration>,
    pub sessions: Option<usize>,
    pub operations: Option<usize>,
}

impl Budget {
    /// The flag of the limit `outcome` has reached, if any.
    fn spent(&self, outcome: &LiveOutcome, elapsed: Duration) -> Option<&'static str> {
        if self.duration.is_some_and(|d| elapsed >= d) {
            return Some("--duration");
        }
        if self.sessions.is_some_and(|n| outcome.sessions >= n) {
            return Some("--max-sessions");
        }
        if self.operations.is_some_and(|n| outcome.operations >= n) {
            return Some("--max-operations");
        }
        None
    }
}

impl LiveCampaign {
    /// Runs `seeds` one at a time until the first failure (or all of them,
    /// `keep_going`) or until `budget` is spent; `each` sees every verdict.
    pub fn explore(
        &self,
        seeds: impl IntoIterator<Item = u64>,
        keep_going: bool,
        budget: Budget,
        expected: Option<&DocumentedViolations>,
        mut each: impl FnMut(&Verdict),
    ) -> anyhow::Result<LiveOutcome> {
        let started = Instant::now();
        let mut outcome = LiveOutcome::default();
        for seed in seeds {
            outcome.spent = budget.spent(&outcome, started.elapsed());
            if outcome.spent.is_some() {
                break;
            }
            let plan = self.plan(seed);
            let mut verdict = self.check(&plan, seed)?;
            for (entry, _) in expected
                .map(|e| e.take_from(&mut verdict))
                .unwrap_or_default()
            {
                let key = (entry.invariant.clone(), entry.matching.clone());
                let (_, seeds) = outcome
                    .documented
                    .entry(key)
                    .or_insert_with(|| (entry.reason.clone(), Vec::new()));
                if seeds.last() != Some(&seed) {
                    seeds.push(seed);
                }
            }
            outcome.seeds_run += 1;
            outcome.sessions += sessions_opened(&verdict);
            outcome.operations += operations_sent(&verdict);
            each(&verdict);
            if !verdict.passed() {
                outcome.failures.push(verdict);
                if !keep_going {
                    break;
                }
            }
        }
        outcome.elapsed = started.elapsed();
        Ok(outcome)
    }
}

/// The events and HTTP requests a run's clients sent (`send 42…` and
/// request `http` lines; an answer line starts with its status).
fn operations_sent(verdict: &Verdict) -> usize {
    use siosim_harness::EventKind;
    verdict
        .report
        .trace
        .events
        .iter()
        .filter(|e| match e.kind {
            EventKind::Send => e.text.starts_with("42") || e.text.starts_with("45"),
            EventKind::Http => !e.text.starts_with(|c: char| c.is_ascii_digit()),
            _ => false,
        })
        .count()
}

/// The sessions a run opened (its `sess open` lines).
fn sessions_opened(verdict: &Verdict) -> usize {
    verdict
        .report
        .trace
        .of_kind(siosim_harness::EventKind::Session)
        .filter(|e| e.text.starts_with("open "))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn only_loopback_or_named_hosts() {
        assert!(resolve("http://127.0.0.1:3000", &[]).is_ok());
        let remote = resolve("http://192.0.2.1:3000", &[])
            .unwrap_err()
            .to_string();
        assert!(remote.contains("--allow-host 192.0.2.1"), "{remote}");
        assert!(resolve("http://192.0.2.1:3000", &["192.0.2.1".into()]).is_ok());
    }
}
