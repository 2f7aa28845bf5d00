//! The JSON report: the whole run under a schema version, so that tools
//! reading it can tell when its shape changes. ARCHITECTURE.md ("Report
//! formats") documents the fields.

use serde::Serialize;
use siosim_harness::Trace;

use crate::case::{Clause, Profile, Severity, Spec};
use crate::runner::{CaseReport, ServerLost, SuiteReport, Tally};
use crate::target::TargetSummary;
use crate::verdict::Verdict;

/// Bumped on any change a reader could notice.
pub const SCHEMA: &str = "siosim-check/2";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    /// No MUST case FAILED (the exit criterion without `--expect`).
    passed: bool,
    target: &'a TargetSummary,
    profiles: &'a [Profile],
    timeout_ms: u64,
    /// RFC 3339 UTC, or null when the date is unknown.
    started_at: Option<&'a str>,
    duration_ms: u64,
    /// Null unless the server stopped answering during the run.
    server_lost: Option<&'a ServerLost>,
    tally: Tally,
    families: Vec<Family>,
    cases: Vec<CaseEntry<'a>>,
}

#[derive(Serialize)]
struct Family {
    name: &'static str,
    tally: Tally,
}

#[derive(Serialize)]
struct CaseEntry<'a> {
    name: &'static str,
    family: &'static str,
    severity: Severity,
    profile: Profile,
    clause: ClauseEntry,
    verdict: Verdict,
    reason: &'a str,
    elapsed_ms: u64,
    trace: &'a Trace,
}

#[derive(Serialize)]
struct ClauseEntry {
    spec: Spec,
    /// The document's title, e.g. `Engine.IO protocol v4`.
    title: &'static str,
    section: &'static str,
    rule: &'static str,
    /// A link to the section.
    url: String,
}

impl From<&Clause> for ClauseEntry {
    fn from(clause: &Clause) -> Self {
        Self {
            spec: clause.spec,
            title: clause.spec.title(),
            section: clause.section,
            rule: clause.rule,
            url: clause.url(),
        }
    }
}

impl<'a> From<&'a CaseReport> for CaseEntry<'a> {
    fn from(case: &'a CaseReport) -> Self {
        Self {
            name: case.name,
            family: case.family,
            severity: case.severity,
            profile: case.profile,
            clause: ClauseEntry::from(&case.clause),
            verdict: case.verdict,
            reason: &case.reason,
            elapsed_ms: case.elapsed_ms,
            trace: &case.trace,
        }
    }
}

/// The report as pretty-printed JSON.
pub fn render(suite: &SuiteReport) -> String {
    let document = Document {
        schema: SCHEMA,
        passed: suite.passed(),
        target: &suite.target,
        profiles: &suite.profiles,
        timeout_ms: suite.timeout_ms,
        started_at: suite.started_at.as_deref(),
        duration_ms: suite.duration_ms,
        server_lost: suite.server_lost.as_ref(),
        tally: suite.tally(),
        families: suite
            .families()
            .into_iter()
            .map(|(name, tally)| Family { name, tally })
            .collect(),
        cases: suite.cases.iter().map(CaseEntry::from).collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("reports serialize");
    text.push('\n');
    text
}
