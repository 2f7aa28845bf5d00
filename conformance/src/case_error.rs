//! Why a case body stopped short of passing: a leaf that the probe, the raw
//! WebSocket and the cases all return, so that none of them needs `case.rs`.

use std::fmt;

use siosim_harness::client::ClientError;

/// Why a case body stopped short of passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The server broke the rule; the text says what it did instead.
    Broken(String),
    /// The rule cannot be checked here (e.g. it needs fault injection, which
    /// only the simulated network has).
    NotApplicable(String),
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseError::Broken(why) | CaseError::NotApplicable(why) => f.write_str(why),
        }
    }
}

impl From<ClientError> for CaseError {
    fn from(error: ClientError) -> Self {
        CaseError::Broken(error.to_string())
    }
}
