//! The HTML report: one self-contained page (no external assets) with each
//! case's verdict and reason.

use std::fmt::Write as _;

use crate::report::junit::escape;
use crate::runner::SuiteReport;

/// The report as an HTML page.
pub fn render(suite: &SuiteReport) -> String {
    let mut html = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>siosim check</title></head><body>\n",
    );
    let _ = writeln!(
        html,
        "<h1>siosim check: {}</h1>",
        escape(&suite.target.to_string())
    );
    html.push_str("<table>\n<tr><th>verdict</th><th>case</th><th>reason</th></tr>\n");
    for case in &suite.cases {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            case.verdict,
            escape(case.name),
            escape(&case.reason)
        );
    }
    html.push_str("</table>\n</body></html>\n");
    html
}
