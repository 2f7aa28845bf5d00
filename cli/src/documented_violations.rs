//! A live server's known, documented violations (`siosim explore --url
//! --expect FILE`): a real divergence that random testing found is data,
//! with its reason, as the suite's expected verdicts are
//! (`conformance/expected/`), not a failure that hides every later one and
//! not a check switched off. An entry is narrow: one invariant, and a text
//! its violation's summary must contain.
//!
//! ```json
//! {
//!   "server": "siosim serve (socketioxide 0.18.9)",
//!   "violations": [
//!     {
//!       "invariant": "heartbeat.silent-client-dropped",
//!       "matching": "stopped reading",
//!       "reason": "socketioxide keeps a WebSocket client that stops reading"
//!     }
//!   ]
//! }
//! ```

use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use siosim_harness::{Verdict, Violation};

/// A server's documented violations, as read from `--expect`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentedViolations {
    /// What server (and versions) the entries were found on.
    pub server: String,
    pub violations: Vec<Documented>,
}

/// One documented violation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Documented {
    pub invariant: String,
    /// Text the violation's summary contains.
    pub matching: String,
    /// Why the server does this.
    pub reason: String,
}

impl DocumentedViolations {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The entry that documents `violation`, if any.
    pub fn documenting(&self, violation: &Violation) -> Option<&Documented> {
        self.violations
            .iter()
            .find(|d| d.invariant == violation.invariant && violation.summary.contains(&d.matching))
    }

    /// Takes the documented violations out of `verdict`: it passes if only
    /// documented ones were left. Returns, for each one taken, its entry.
    pub fn take_from<'a>(&'a self, verdict: &mut Verdict) -> Vec<(&'a Documented, Violation)> {
        let (documented, rest): (Vec<Violation>, Vec<Violation>) = verdict
            .violations
            .drain(..)
            .partition(|v| self.documenting(v).is_some());
        verdict.violations = rest;
        documented
            .into_iter()
            .filter_map(|v| Some((self.documenting(&v)?, v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_documents_one_invariant_and_summary_only() {
        let documented: DocumentedViolations = serde_json::from_str(
            r#"{"server":"s","violations":[{"invariant":"heartbeat.silent-client-dropped",
                "matching":"stopped reading","reason":"r"}]}"#,
        )
        .unwrap();
        let violation = |invariant, summary: &str| Violation::new(invariant, summary, Vec::new());
        let reading = violation(
            "heartbeat.silent-client-dropped",
            "bob#1 stopped reading but …",
        );
        let pings = violation(
            "heartbeat.silent-client-dropped",
            "bob#1 stopped answering pings",
        );
        let other = violation("counter.monotonic", "stopped reading");
        assert!(documented.documenting(&reading).is_some());
        assert!(documented.documenting(&pings).is_none());
        assert!(documented.documenting(&other).is_none());
        let unknown_field = r#"{"server":"s","violations":[],"extra":1}"#;
        assert!(serde_json::from_str::<DocumentedViolations>(unknown_field).is_err());
    }
}
