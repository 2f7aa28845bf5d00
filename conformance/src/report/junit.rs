//! The JUnit XML report: one testsuite per case family, one testcase per
//! case. CI dashboards go red exactly where the exit code does:
//!
//! - FAILED is a `<failure>`; NOT APPLICABLE is `<skipped>`.
//! - NON-STRICT passes, but visibly: its name starts with `[NON-STRICT] `
//!   and its reason, clause and trace go to `<system-err>`. The name is the
//!   one thing every CI UI shows for a passed test: GitLab ignores
//!   properties and shows output only for failed tests, the GitHub report
//!   actions list names, Jenkins shows names and standard error. A
//!   `verdict` property on every testcase says it for tools that read
//!   properties.
//! - The case during which the server stopped answering is an `<error>`
//!   (the server is unusable, not non-conformant), counted in `errors`.

use std::fmt::Write as _;

use siosim_harness::Trace;

use crate::runner::{CaseReport, ServerLost, SuiteReport};
use crate::verdict::Verdict;

/// The element a testcase carries besides its output.
enum Outcome<'a> {
    Pass,
    Failure,
    Skipped,
    /// The server stopped answering during this case.
    Error(&'a ServerLost),
}

fn outcome<'a>(case: &CaseReport, lost: Option<&'a ServerLost>) -> Outcome<'a> {
    match (case.verdict, lost) {
        (_, Some(lost)) if lost.during_case == case.name => Outcome::Error(lost),
        (Verdict::Failed, _) => Outcome::Failure,
        (Verdict::NotApplicable, _) => Outcome::Skipped,
        _ => Outcome::Pass,
    }
}

/// How many testcases carry each element.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(cases: impl IntoIterator<Item = &'a CaseReport>, lost: Option<&ServerLost>) -> Self {
        let mut counts = Counts::default();
        for case in cases {
            counts.tests += 1;
            match outcome(case, lost) {
                Outcome::Pass => {}
                Outcome::Failure => counts.failures += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::Error(_) => counts.errors += 1,
            }
        }
        counts
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

/// Prefixes the name of a NON-STRICT testcase.
pub const NON_STRICT_PREFIX: &str = "[NON-STRICT] ";

/// The report as JUnit XML.
pub fn render(suite: &SuiteReport) -> String {
    let lost = suite.server_lost.as_ref();
    // A server lost outside every case (between them) still shows up.
    let lost_outside = lost.filter(|l| suite.cases.iter().all(|c| c.name != l.during_case));
    let mut total = Counts::of(&suite.cases, lost);
    total.tests += usize::from(lost_outside.is_some());
    total.errors += usize::from(lost_outside.is_some());
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"siosim check\" {}>",
        total.attributes()
    );
    for (family, _) in suite.families() {
        let cases: Vec<_> = suite.cases.iter().filter(|c| c.family == family).collect();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" {}>",
            escape(family),
            Counts::of(cases.iter().copied(), lost).attributes()
        );
        for case in cases {
            testcase(&mut xml, case, outcome(case, lost));
        }
        let _ = writeln!(xml, "  </testsuite>");
    }
    if let Some(lost) = lost_outside {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"server\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    \
             <testcase classname=\"server\" name=\"{}\" time=\"0.000\">",
            escape(&lost.during_case)
        );
        server_lost(&mut xml, lost);
        let _ = writeln!(xml, "    </testcase>\n  </testsuite>");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn testcase(xml: &mut String, case: &CaseReport, outcome: Outcome<'_>) {
    let seconds = case.elapsed_ms as f64 / 1000.0;
    let prefix = if case.verdict == Verdict::NonStrict {
        NON_STRICT_PREFIX
    } else {
        ""
    };
    let _ = writeln!(
        xml,
        "    <testcase classname=\"{}\" name=\"{}{}\" time=\"{seconds:.3}\">\n      \
         <properties><property name=\"verdict\" value=\"{}\"/>\
         <property name=\"severity\" value=\"{}\"/></properties>",
        escape(case.family),
        prefix,
        escape(case.name),
        case.verdict,
        case.severity
    );
    let detail = format!(
        "{} ({}): {}\n{}\n",
        case.verdict, case.severity, case.reason, case.clause
    );
    match outcome {
        Outcome::Failure => {
            let _ = writeln!(
                xml,
                "      <failure message=\"{}\">{}{}</failure>",
                escape(&case.reason),
                escape(&detail),
                escape(&trace_excerpt(&case.trace))
            );
        }
        Outcome::Skipped => {
            let _ = writeln!(xml, "      <skipped message=\"{}\"/>", escape(&case.reason));
        }
        Outcome::Error(lost) => server_lost(xml, lost),
        Outcome::Pass => {}
    }
    let _ = writeln!(xml, "      <system-out>{}</system-out>", escape(&detail));
    if case.verdict == Verdict::NonStrict {
        let _ = writeln!(
            xml,
            "      <system-err>{}{}</system-err>",
            escape(&detail),
            escape(&trace_excerpt(&case.trace))
        );
    }
    let _ = writeln!(xml, "    </testcase>");
}

fn server_lost(xml: &mut String, lost: &ServerLost) {
    let message = format!(
        "the server stopped answering during {}: {}",
        lost.during_case, lost.reason
    );
    let _ = writeln!(
        xml,
        "      <error type=\"server-lost\" message=\"{}\">{}</error>",
        escape(&message),
        escape(&message)
    );
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
