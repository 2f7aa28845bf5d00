//! The JUnit XML report: one testsuite per case family, one testcase per
//! case. FAILED is a failure; NON-STRICT, INFORMATIONAL and NOT APPLICABLE
//! are passes with their verdict in the system-out (NOT APPLICABLE is also
//! marked skipped), so CI dashboards go red only where the exit code does.

use std::fmt::Write as _;

use siosim_harness::Trace;

use crate::runner::SuiteReport;
use crate::verdict::Verdict;

/// The report as JUnit XML.
pub fn render(suite: &SuiteReport) -> String {
    let tally = suite.tally();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"siosim check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        suite.cases.len(),
        tally.failed,
        tally.not_applicable
    );
    for (family, family_tally) in suite.families() {
        let cases: Vec<_> = suite.cases.iter().filter(|c| c.family == family).collect();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            escape(family),
            cases.len(),
            family_tally.failed,
            family_tally.not_applicable
        );
        for case in cases {
            let seconds = case.elapsed_ms as f64 / 1000.0;
            let _ = writeln!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\">",
                escape(family),
                escape(case.name)
            );
            let detail = format!(
                "{} ({}): {}\n{}\n",
                case.verdict, case.severity, case.reason, case.clause
            );
            match case.verdict {
                Verdict::Failed => {
                    let _ = writeln!(
                        xml,
                        "      <failure message=\"{}\">{}{}</failure>",
                        escape(&case.reason),
                        escape(&detail),
                        escape(&trace_excerpt(&case.trace))
                    );
                }
                Verdict::NotApplicable => {
                    let _ = writeln!(xml, "      <skipped message=\"{}\"/>", escape(&case.reason));
                }
                _ => {}
            }
            let _ = writeln!(xml, "      <system-out>{}</system-out>", escape(&detail));
            let _ = writeln!(xml, "    </testcase>");
        }
        let _ = writeln!(xml, "  </testsuite>");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Trace lines a failure carries: the first and the last half of these.
const MAX_TRACE_LINES: usize = 200;

/// The trace as text; a long one keeps its first and last lines and says
/// how many it left out between them.
fn trace_excerpt(trace: &Trace) -> String {
    let events = &trace.events;
    if events.len() <= MAX_TRACE_LINES {
        return trace.to_string();
    }
    let half = MAX_TRACE_LINES / 2;
    let mut text = String::new();
    for event in &events[..half] {
        let _ = writeln!(text, "{event}");
    }
    let _ = writeln!(
        text,
        "… {} more trace lines (the JSON report has them all)",
        events.len() - 2 * half
    );
    for event in &events[events.len() - half..] {
        let _ = writeln!(text, "{event}");
    }
    text
}

/// Escapes text for XML content and attributes; drops characters XML 1.0
/// cannot carry at all (a hostile server's control bytes).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(escaped, "\\u{{{:x}}}", c as u32);
            }
            c => escaped.push(c),
        }
    }
    escaped
}
