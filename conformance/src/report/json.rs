//! The JSON report: the whole [`SuiteReport`] under a schema version, so
//! that tools reading it can tell when its shape changes.

use serde::Serialize;

use crate::runner::{SuiteReport, Tally};

/// Bumped on any change a reader could notice.
pub const SCHEMA: &str = "siosim-check/1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    passed: bool,
    tally: Tally,
    #[serde(flatten)]
    suite: &'a SuiteReport,
}

/// The report as pretty-printed JSON.
pub fn render(suite: &SuiteReport) -> String {
    let document = Document {
        schema: SCHEMA,
        passed: suite.passed(),
        tally: suite.tally(),
        suite,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("reports serialize");
    text.push('\n');
    text
}
