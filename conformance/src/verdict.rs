//! The verdict on one case: its body's outcome, judged by its severity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::case::{CaseError, CaseOutcome, Severity};

/// What the suite concludes about one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Passed,
    /// A MUST rule is broken.
    Failed,
    /// A SHOULD rule is broken.
    NonStrict,
    /// An INFO case: what the server does, not judged.
    Informational,
    /// The server does not claim the contract, or the target cannot check it.
    NotApplicable,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Passed,
        Verdict::NonStrict,
        Verdict::Failed,
        Verdict::Informational,
        Verdict::NotApplicable,
    ];

    /// Judges a body's outcome by the case's severity.
    pub fn judge(severity: Severity, outcome: &CaseOutcome) -> Verdict {
        match (severity, outcome) {
            (_, Err(CaseError::NotApplicable(_))) => Verdict::NotApplicable,
            (Severity::Info, _) => Verdict::Informational,
            (_, Ok(_)) => Verdict::Passed,
            (Severity::Must, Err(CaseError::Broken(_))) => Verdict::Failed,
            (Severity::Should, Err(CaseError::Broken(_))) => Verdict::NonStrict,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::NotApplicable => "NOT APPLICABLE",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Verdict {
    type Err = String;

    /// Accepts the label (`NON-STRICT`) or the JSON name (`NON_STRICT`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_uppercase().replace(['-', ' '], "_");
        Verdict::ALL
            .into_iter()
            .find(|v| v.label().replace(['-', ' '], "_") == wanted)
            .ok_or_else(|| format!("unknown verdict {text:?}"))
    }
}
