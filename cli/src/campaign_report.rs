//! The `--json` file `siosim explore` writes for a campaign, and
//! `siosim explore --merge`, which joins the files of a campaign's shards
//! into the report the whole campaign would have written.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use siosim_harness::worker_pool::{self, SeedFailure};

/// One campaign's result (its fields: ARCHITECTURE.md, "Report formats").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignReport {
    pub scenario: String,
    pub server: String,
    /// The whole range, `A..B`, whatever slice of it was run.
    pub seeds: String,
    /// The slice run (`K/N`), or none for the whole range (or a merge).
    pub shard: Option<String>,
    /// For a merge: how many shards' reports it joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards_merged: Option<u64>,
    pub seeds_run: usize,
    /// Wall time; for a merge, its longest shard's (shards run side by side).
    pub seconds: f64,
    pub seeds_per_second: f64,
    /// In simulation: the peak resident memory of the explorer process and
    /// of its largest worker process, in MiB (with `--in-process`, workers
    /// are 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<PeakRss>,
    /// With `--url`: sessions opened and events and HTTP requests sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<usize>,
    pub failures: Vec<FailureReport>,
}

/// A campaign's peak memory, in MiB.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PeakRss {
    pub explorer: f64,
    pub largest_worker: f64,
}

impl PeakRss {
    /// This process's and its largest worker's peaks so far.
    pub fn now() -> Self {
        let (explorer, largest_worker) = worker_pool::peak_rss_mib();
        Self {
            explorer,
            largest_worker,
        }
    }

    fn max(self, other: Self) -> Self {
        Self {
            explorer: self.explorer.max(other.explorer),
            largest_worker: self.largest_worker.max(other.largest_worker),
        }
    }
}

/// One violation of one failing seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureReport {
    pub seed: u64,
    pub invariant: String,
    pub summary: String,
    pub replay: String,
}

impl FailureReport {
    /// One per violation of `failure`, each with the line that replays it.
    pub fn all_of(failure: &SeedFailure, replay: &str) -> Vec<Self> {
        failure
            .violations
            .iter()
            .map(|v| Self {
                seed: failure.seed,
                invariant: v.invariant.clone(),
                summary: v.summary.clone(),
                replay: replay.to_owned(),
            })
            .collect()
    }
}

impl CampaignReport {
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a siosim explore --json report", path.display()))
    }

    /// The report of the whole campaign `shards` split: the same scenario,
    /// server and range, each shard `K/N` of the same N exactly once.
    pub fn merge(shards: &[CampaignReport]) -> Result<CampaignReport, String> {
        let first = shards.first().ok_or("no report to merge")?;
        let count = shard_count(first)?;
        let mut seen = std::collections::BTreeSet::new();
        for shard in shards {
            if (&shard.scenario, &shard.server, &shard.seeds)
                != (&first.scenario, &first.server, &first.seeds)
            {
                return Err(format!(
                    "not one campaign: {} against {} over {} beside {} against {} over {}",
                    shard.scenario,
                    shard.server,
                    shard.seeds,
                    first.scenario,
                    first.server,
                    first.seeds
                ));
            }
            let index = shard_index(shard, count)?;
            if !seen.insert(index) {
                return Err(format!("shard {index}/{count} is given twice"));
            }
        }
        // At most this many missing shards are named.
        const NAMED: usize = 20;
        let missing: Vec<String> = (1..=count)
            .filter(|index| !seen.contains(index))
            .take(NAMED)
            .map(|index| format!("{index}/{count}"))
            .collect();
        if !missing.is_empty() {
            let more = if missing.len() == NAMED { ", …" } else { "" };
            return Err(format!("shards missing: {}{more}", missing.join(", ")));
        }
        Ok(joined(first, shards, count))
    }
}

/// The shards' figures, summed (the longest wall time, the largest peak).
fn joined(first: &CampaignReport, shards: &[CampaignReport], count: u64) -> CampaignReport {
    let seeds_run = shards.iter().map(|s| s.seeds_run).sum();
    let seconds = shards.iter().map(|s| s.seconds).fold(0.0, f64::max);
    let sum = |field: fn(&CampaignReport) -> Option<usize>| {
        shards.iter().map(field).sum::<Option<usize>>()
    };
    let mut failures: Vec<FailureReport> = shards.iter().flat_map(|s| s.failures.clone()).collect();
    failures.sort_by_key(|f| f.seed);
    CampaignReport {
        scenario: first.scenario.clone(),
        server: first.server.clone(),
        seeds: first.seeds.clone(),
        shard: None,
        shards_merged: Some(count),
        seeds_run,
        seconds,
        seeds_per_second: seeds_run as f64 / seconds.max(1e-9),
        peak_rss_mib: shards
            .iter()
            .filter_map(|s| s.peak_rss_mib)
            .reduce(PeakRss::max),
        sessions: sum(|s| s.sessions),
        operations: sum(|s| s.operations),
        failures,
    }
}

fn parsed_shard(report: &CampaignReport) -> Result<(u64, u64), String> {
    let text = report
        .shard
        .as_deref()
        .ok_or_else(|| format!("the report over {} was not run with --shard", report.seeds))?;
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
    match parsed {
        Some((index, count)) if index >= 1 && index <= count => Ok((index, count)),
        _ => Err(format!("{text:?} is not a shard K/N")),
    }
}

fn shard_count(report: &CampaignReport) -> Result<u64, String> {
    parsed_shard(report).map(|(_, count)| count)
}

fn shard_index(report: &CampaignReport, count: u64) -> Result<u64, String> {
    let (index, of) = parsed_shard(report)?;
    if of != count {
        return Err(format!(
            "shard {index}/{of} beside shards of {count}: not one split"
        ));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u64, count: u64, seeds_run: usize, failing: &[u64]) -> CampaignReport {
        CampaignReport {
            scenario: "swarm".into(),
            server: "reference".into(),
            seeds: "0..10".into(),
            shard: Some(format!("{index}/{count}")),
            shards_merged: None,
            seeds_run,
            seconds: index as f64,
            seeds_per_second: 1.0,
            peak_rss_mib: None,
            sessions: None,
            operations: None,
            failures: failing
                .iter()
                .map(|seed| FailureReport {
                    seed: *seed,
                    invariant: "counter.monotonic".into(),
                    summary: String::new(),
                    replay: format!("siosim run swarm --seed {seed}"),
                })
                .collect(),
        }
    }

    #[test]
    fn shards_merge_into_the_whole_campaign() {
        let merged = CampaignReport::merge(&[shard(2, 2, 5, &[7, 1]), shard(1, 2, 5, &[4])])
            .expect("a whole split");
        assert_eq!(merged.seeds_run, 10);
        assert_eq!(merged.seconds, 2.0);
        assert_eq!(merged.seeds_per_second, 5.0);
        assert_eq!(merged.shards_merged, Some(2));
        assert_eq!(merged.shard, None);
        let seeds: Vec<u64> = merged.failures.iter().map(|f| f.seed).collect();
        assert_eq!(seeds, [1, 4, 7]);
    }

    #[test]
    fn a_missing_twice_given_or_foreign_shard_is_refused() {
        let error = CampaignReport::merge(&[shard(1, 3, 4, &[])]).unwrap_err();
        assert!(error.contains("missing: 2/3, 3/3"), "{error}");
        let error = CampaignReport::merge(&[shard(1, 2, 5, &[]), shard(1, 2, 5, &[])]).unwrap_err();
        assert!(error.contains("given twice"), "{error}");
        let error = CampaignReport::merge(&[shard(1, 2, 5, &[]), shard(2, 3, 5, &[])]).unwrap_err();
        assert!(error.contains("not one split"), "{error}");
        let mut other = shard(2, 2, 5, &[]);
        other.seeds = "0..20".into();
        let error = CampaignReport::merge(&[shard(1, 2, 5, &[]), other]).unwrap_err();
        assert!(error.contains("not one campaign"), "{error}");
        let mut whole = shard(1, 1, 10, &[]);
        whole.shard = None;
        let error = CampaignReport::merge(&[whole]).unwrap_err();
        assert!(error.contains("not run with --shard"), "{error}");
    }
}
