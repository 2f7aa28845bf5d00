//! The HTML report: one self-contained page (inline CSS and SVG, no script,
//! no external asset). A banner if the server stopped answering; a header
//! with the siosim version, the start date and the run's duration; a summary
//! table per family; every case, failures first, behind a verdict filter
//! made of radio inputs and CSS; and for each failing case (FAILED or
//! NON-STRICT) its trace drawn as a sequence diagram.

mod filter;
mod style;

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
         <title>{}</title><style>{}{}{}</style></head><body>\n",
        escape(&title),
        style::PAGE,
        filter::style(),
        sequence_diagram::STYLE
    );
    server_lost(&mut html, suite);
    header(&mut html, suite);
    summary(&mut html, suite);
    let ordered = failures_first(&suite.cases);
    html.push_str("<h2>Cases</h2>\n<div class=\"filtered\">\n");
    filter::controls(&mut html, suite.tally());
    cases(&mut html, &ordered);
    failing_traces(&mut html, &ordered);
    html.push_str("</div>\n</body></html>\n");
    html
}

/// FAILED, then NON-STRICT, then PASSED and INFORMATIONAL, then NOT
/// APPLICABLE; the report's order within each.
fn failures_first(cases: &[CaseReport]) -> Vec<&CaseReport> {
    let rank = |case: &CaseReport| match case.verdict {
        Verdict::Failed => 0,
        Verdict::NonStrict => 1,
        Verdict::Passed | Verdict::Informational => 2,
        Verdict::NotApplicable => 3,
    };
    let mut ordered: Vec<&CaseReport> = cases.iter().collect();
    ordered.sort_by_key(|case| rank(case));
    ordered
}

fn server_lost(html: &mut String, suite: &SuiteReport) {
    let Some(lost) = &suite.server_lost else {
        return;
    };
    let _ = writeln!(
        html,
        "<div class=\"banner\" role=\"alert\"><strong>The server stopped answering</strong> \
         during <a href=\"#{}\">{}</a>: {}</div>",
        anchor(&lost.during_case),
        escape(&lost.during_case),
        escape(&lost.reason)
    );
}

fn header(html: &mut String, suite: &SuiteReport) {
    let failed = suite.tally().failed;
    let (class, verdict) = if failed == 0 {
        ("ok", "no MUST case failed".to_owned())
    } else {
        ("bad", format!("{failed} MUST case(s) FAILED"))
    };
    let profiles: Vec<&str> = suite.profiles.iter().map(|p| p.name()).collect();
    let started = match &suite.started_at {
        Some(date) => format!("<time datetime=\"{0}\">{0}</time>", escape(date)),
        None => "date unknown".to_owned(),
    };
    let _ = writeln!(
        html,
        "<header><h1>siosim check</h1>\
         <p class=\"target\">{}</p>\
         <p class=\"meta\">siosim {} · started {started} · took {} · profiles {} · \
         timeout {} ms · {} cases</p>\
         <p class=\"result {class}\">{verdict}</p></header>",
        escape(&suite.target.to_string()),
        env!("CARGO_PKG_VERSION"),
        duration(suite.duration_ms),
        escape(&profiles.join(", ")),
        suite.timeout_ms,
        suite.cases.len()
    );
}

/// `850 ms`, `10.6 s`, `18 min 32 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
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
    let cell = |count: usize, verdict: Verdict| {
        if count == 0 {
            "<td class=\"zero\">0</td>".to_owned()
        } else {
            format!("<td class=\"{}\">{count}</td>", verdict_class(verdict))
        }
    };
    let _ = writeln!(
        html,
        "<tr{class}><th>{}</th>{}{}{}{}{}</tr>",
        escape(name),
        cell(tally.passed, Verdict::Passed),
        cell(tally.non_strict, Verdict::NonStrict),
        cell(tally.failed, Verdict::Failed),
        cell(tally.informational, Verdict::Informational),
        cell(tally.not_applicable, Verdict::NotApplicable),
    );
}

fn cases(html: &mut String, cases: &[&CaseReport]) {
    html.push_str(
        "<table class=\"cases\"><thead><tr><th>verdict</th><th>case</th>\
         <th>severity</th><th>reason</th><th>clause</th></tr></thead><tbody>\n",
    );
    for case in cases {
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
            "<tr class=\"{}\"><td>{}</td><td class=\"name\">{name}</td><td>{}</td>\
             <td class=\"reason\">{}</td><td>{}</td></tr>",
            filter::row_class(case.verdict),
            badge(case.verdict),
            case.severity,
            escape(&truncated(&case.reason, REASON_SHOWN_IN_TABLE)),
            clause_link(case)
        );
    }
    html.push_str("</tbody></table>\n");
}

fn failing_traces(html: &mut String, cases: &[&CaseReport]) {
    let failing: Vec<&CaseReport> = cases.iter().copied().filter(|c| is_failing(c)).collect();
    if failing.is_empty() {
        return;
    }
    html.push_str("<h2 class=\"traces\">Traces of the failing cases</h2>\n");
    for case in failing {
        let _ = writeln!(
            html,
            "<section class=\"trace {}\" id=\"{}\"><h3>{} {}</h3>\
             <p class=\"reason\">{}</p><p class=\"clause\">{} {}: {}</p>\
             <div class=\"diagram\">{}</div></section>",
            filter::row_class(case.verdict),
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

/// The CSS class of a verdict's colours.
fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::NonStrict => "non-strict",
        Verdict::Informational => "info",
        Verdict::NotApplicable => "na",
    }
}

fn badge(verdict: Verdict) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        verdict_class(verdict),
        verdict.label()
    )
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
