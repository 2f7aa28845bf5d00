//! The HTML report: one self-contained page (inline CSS and SVG, no script,
//! no external asset) with a summary table per family, every case's verdict,
//! severity, reason and clause, and for each failing case (FAILED or
//! NON-STRICT) its trace drawn as a sequence diagram.

use std::fmt::Write as _;

use crate::probe::truncated;
use crate::report::junit::escape;
use crate::report::sequence_diagram;
use crate::runner::{CaseReport, SuiteReport, Tally};
use crate::verdict::Verdict;

/// Characters of a reason the cases table shows; a failing case's section
/// shows all of it.
const REASON_SHOWN_IN_TABLE: usize = 300;

/// The report as an HTML page.
pub fn render(suite: &SuiteReport) -> String {
    let mut html = String::new();
    let title = format!("siosim check: {}", suite.target);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}{}</style></head><body>\n",
        escape(&title),
        sequence_diagram::STYLE
    );
    header(&mut html, suite);
    summary(&mut html, suite);
    cases(&mut html, suite);
    failing_traces(&mut html, suite);
    html.push_str("</body></html>\n");
    html
}

fn header(html: &mut String, suite: &SuiteReport) {
    let failed = suite.tally().failed;
    let (class, verdict) = if failed == 0 {
        ("ok", "no MUST case failed".to_owned())
    } else {
        ("bad", format!("{failed} MUST case(s) FAILED"))
    };
    let profiles: Vec<&str> = suite.profiles.iter().map(|p| p.name()).collect();
    let _ = writeln!(
        html,
        "<header><h1>siosim check</h1>\
         <p class=\"target\">{}</p>\
         <p class=\"meta\">profiles {} · timeout {} ms · {} cases</p>\
         <p class=\"result {class}\">{verdict}</p></header>",
        escape(&suite.target.to_string()),
        escape(&profiles.join(", ")),
        suite.timeout_ms,
        suite.cases.len()
    );
}

fn summary(html: &mut String, suite: &SuiteReport) {
    html.push_str(
        "<h2>Summary</h2>\n<table class=\"summary\"><thead><tr><th>family</th>\
         <th>passed</th><th>non-strict</th><th>failed</th><th>info</th><th>n/a</th>\
         </tr></thead><tbody>\n",
    );
    for (family, tally) in suite.families() {
        tally_row(html, family, tally, "");
    }
    tally_row(html, "total", suite.tally(), " class=\"total\"");
    html.push_str("</tbody></table>\n");
}

fn tally_row(html: &mut String, name: &str, tally: Tally, class: &str) {
    let cell = |count: usize, kind: &str| {
        if count == 0 {
            "<td class=\"zero\">0</td>".to_owned()
        } else {
            format!("<td class=\"{kind}\">{count}</td>")
        }
    };
    let _ = writeln!(
        html,
        "<tr{class}><th>{}</th>{}{}{}{}{}</tr>",
        escape(name),
        cell(tally.passed, "passed"),
        cell(tally.non_strict, "non-strict"),
        cell(tally.failed, "failed"),
        cell(tally.informational, "info"),
        cell(tally.not_applicable, "na"),
    );
}

fn cases(html: &mut String, suite: &SuiteReport) {
    html.push_str(
        "<h2>Cases</h2>\n<table class=\"cases\"><thead><tr><th>verdict</th><th>case</th>\
         <th>severity</th><th>reason</th><th>clause</th></tr></thead><tbody>\n",
    );
    for case in &suite.cases {
        let name = if is_failing(case) {
            format!(
                "<a href=\"#{}\">{}</a>",
                anchor(case.name),
                escape(case.name)
            )
        } else {
            escape(case.name)
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"name\">{name}</td><td>{}</td>\
             <td class=\"reason\">{}</td><td>{}</td></tr>",
            badge(case.verdict),
            case.severity,
            escape(&truncated(&case.reason, REASON_SHOWN_IN_TABLE)),
            clause_link(case)
        );
    }
    html.push_str("</tbody></table>\n");
}

fn failing_traces(html: &mut String, suite: &SuiteReport) {
    let failing: Vec<&CaseReport> = suite.cases.iter().filter(|c| is_failing(c)).collect();
    if failing.is_empty() {
        return;
    }
    html.push_str("<h2>Traces of the failing cases</h2>\n");
    for case in failing {
        let _ = writeln!(
            html,
            "<section class=\"trace\" id=\"{}\"><h3>{} {}</h3>\
             <p class=\"reason\">{}</p><p class=\"clause\">{} {}: {}</p>\
             <div class=\"diagram\">{}</div></section>",
            anchor(case.name),
            badge(case.verdict),
            escape(case.name),
            escape(&case.reason),
            case.severity,
            clause_link(case),
            escape(case.clause.rule),
            if case.trace.events.is_empty() {
                "<p class=\"empty\">(the trace is empty)</p>".to_owned()
            } else {
                sequence_diagram::render(&case.trace)
            }
        );
    }
}

fn is_failing(case: &CaseReport) -> bool {
    matches!(case.verdict, Verdict::Failed | Verdict::NonStrict)
}

fn badge(verdict: Verdict) -> String {
    let class = match verdict {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::NonStrict => "non-strict",
        Verdict::Informational => "info",
        Verdict::NotApplicable => "na",
    };
    format!("<span class=\"badge {class}\">{}</span>", verdict.label())
}

fn clause_link(case: &CaseReport) -> String {
    format!(
        "<a href=\"{}\" title=\"{}\">{} § {}</a>",
        escape(&case.clause.url()),
        escape(case.clause.rule),
        escape(case.clause.spec.title()),
        escape(case.clause.section)
    )
}

/// An element id for a case: its name with `::` turned into `--`.
fn anchor(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("case-{id}")
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #0f172a; margin: 24px auto; max-width: 1400px; padding: 0 16px; }
header h1 { margin: 0; font-size: 22px; }
p.target { margin: 4px 0; font-size: 16px; }
p.meta { margin: 0; color: #64748b; }
p.result { display: inline-block; margin: 10px 0 0; padding: 4px 10px; border-radius: 4px; font-weight: 600; }
p.result.ok { background: #dcfce7; color: #166534; }
p.result.bad { background: #fee2e2; color: #991b1b; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
thead th { background: #f8fafc; font-weight: 600; }
table.summary td { text-align: right; min-width: 56px; }
table.summary tr.total th, table.summary tr.total td { font-weight: 700; border-top: 2px solid #94a3b8; }
td.zero { color: #cbd5e1; }
td.passed { color: #166534; } td.non-strict { color: #92400e; } td.failed { color: #b91c1c; font-weight: 700; }
td.info { color: #1d4ed8; } td.na { color: #64748b; }
table.cases { width: 100%; }
td.name { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
td.reason { word-break: break-word; max-width: 560px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11.5px; font-weight: 700; white-space: nowrap; }
.badge.passed { background: #dcfce7; color: #166534; }
.badge.failed { background: #fee2e2; color: #991b1b; }
.badge.non-strict { background: #fef3c7; color: #92400e; }
.badge.info { background: #dbeafe; color: #1e40af; }
.badge.na { background: #f1f5f9; color: #475569; }
a { color: #1d4ed8; text-decoration: none; } a:hover { text-decoration: underline; }
section.trace { margin: 18px 0 26px; }
section.trace h3 { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 14px; margin: 0 0 4px; }
section.trace p { margin: 2px 0; }
p.clause { color: #475569; font-size: 13px; }
div.diagram { overflow-x: auto; border: 1px solid #e2e8f0; border-radius: 6px; margin-top: 8px; }
";
