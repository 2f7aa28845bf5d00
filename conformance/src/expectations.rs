//! A server's known divergences, kept as data: the verdict each listed case
//! is expected to get, with the reason and the bytes that show it. A run
//! fails when its verdicts stop matching, whichever way: a new divergence,
//! or a documented one that went away (so the list cannot go stale).

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

use crate::case::Case;
use crate::runner::SuiteReport;
use crate::verdict::Verdict;

/// One documented divergence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    pub case: String,
    pub verdict: Verdict,
    /// Why the server behaves so: a bug, a design choice, a spec ambiguity.
    pub reason: String,
    /// The wire bytes that show it, as observed.
    #[serde(default)]
    pub bytes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// What the list is about, e.g. `socket.io 4.8.1 (Node.js)`.
    server: String,
    divergences: Vec<Divergence>,
}

/// The expectations for one server.
#[derive(Debug)]
pub struct Expectations {
    source: String,
    divergences: Vec<Divergence>,
}

/// A verdict that does not match the expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub case: String,
    pub expected: Verdict,
    pub actual: Verdict,
    pub reason: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {} ({})",
            self.case, self.expected, self.actual, self.reason
        )
    }
}

/// The reference server's own documented divergences (its library's bugs),
/// which `siosim check` applies when it checks the reference server.
pub const REFERENCE: &str = include_str!("../expected/reference.json");

impl Expectations {
    /// Reads a list; every case it names must exist in `cases`.
    pub fn load(path: &Path, cases: &[Case]) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, &path.display().to_string(), cases)
    }

    /// The reference server's list ([`REFERENCE`]).
    pub fn reference(cases: &[Case]) -> anyhow::Result<Self> {
        Self::parse(REFERENCE, "conformance/expected/reference.json", cases)
    }

    /// Parses a list read from `origin`; every case it names must exist.
    pub fn parse(text: &str, origin: &str, cases: &[Case]) -> anyhow::Result<Self> {
        let file: File = serde_json::from_str(text).with_context(|| format!("parsing {origin}"))?;
        for divergence in &file.divergences {
            anyhow::ensure!(
                cases.iter().any(|c| c.name == divergence.case),
                "{origin}: no case named {:?}",
                divergence.case
            );
        }
        Ok(Self {
            source: format!("{origin} ({})", file.server),
            divergences: file.divergences,
        })
    }

    /// The documented divergence for `case`, if any.
    pub fn divergence(&self, case: &str) -> Option<&Divergence> {
        self.divergences.iter().find(|d| d.case == case)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn len(&self) -> usize {
        self.divergences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.divergences.is_empty()
    }

    /// The cases whose verdict differs from what is expected: the listed
    /// verdict for a listed case; for the others, anything but FAILED or
    /// NON-STRICT (INFO cases are always INFORMATIONAL, and unclaimed
    /// profiles NOT APPLICABLE). A listed case that did not run (its profile
    /// is not claimed) is no mismatch.
    pub fn mismatches(&self, suite: &SuiteReport) -> Vec<Mismatch> {
        let mut mismatches = Vec::new();
        for case in &suite.cases {
            let listed = self.divergences.iter().find(|d| d.case == case.name);
            let expected = match listed {
                Some(_) if case.verdict == Verdict::NotApplicable => continue,
                Some(divergence) => divergence.verdict,
                None if matches!(case.verdict, Verdict::Failed | Verdict::NonStrict) => {
                    Verdict::Passed
                }
                None => continue,
            };
            if expected != case.verdict {
                mismatches.push(Mismatch {
                    case: case.name.to_owned(),
                    expected,
                    actual: case.verdict,
                    reason: case.reason.clone(),
                });
            }
        }
        mismatches
    }
}
