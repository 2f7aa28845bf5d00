//! The verdict filter, without script: a radio input per choice, each
//! before the cases table and the traces (its siblings), and CSS rules
//! `#show-X:checked ~ table tr:not(.v-X) { display: none }`. The labels are
//! the buttons; the inputs stay focusable for the keyboard.

use std::fmt::Write as _;

use crate::runner::Tally;
use crate::verdict::Verdict;

/// One choice of the filter: its id, label and the verdicts it shows.
struct Choice {
    id: &'static str,
    label: &'static str,
    shows: &'static [Verdict],
}

/// `all` (checked first) shows everything, so it hides nothing.
const CHOICES: [Choice; 7] = [
    Choice {
        id: "all",
        label: "all",
        shows: &Verdict::ALL,
    },
    Choice {
        id: "failing",
        label: "FAILED + NON-STRICT",
        shows: &[Verdict::Failed, Verdict::NonStrict],
    },
    Choice {
        id: "failed",
        label: "FAILED",
        shows: &[Verdict::Failed],
    },
    Choice {
        id: "non-strict",
        label: "NON-STRICT",
        shows: &[Verdict::NonStrict],
    },
    Choice {
        id: "passed",
        label: "PASSED",
        shows: &[Verdict::Passed],
    },
    Choice {
        id: "info",
        label: "INFORMATIONAL",
        shows: &[Verdict::Informational],
    },
    Choice {
        id: "na",
        label: "NOT APPLICABLE",
        shows: &[Verdict::NotApplicable],
    },
];

/// The class of a case's row and trace section, which the rules match.
pub fn row_class(verdict: Verdict) -> String {
    format!("v-{}", super::verdict_class(verdict))
}

/// The radio inputs and their labels with counts, `all` checked.
pub fn controls(html: &mut String, tally: Tally) {
    html.push_str("<span class=\"show\">show</span>");
    for choice in &CHOICES {
        let count: usize = choice.shows.iter().map(|v| count_of(tally, *v)).sum();
        let _ = write!(
            html,
            "<input type=\"radio\" name=\"show\" id=\"show-{id}\"{checked}>\
             <label for=\"show-{id}\">{label} <span class=\"count\">{count}</span></label>",
            id = choice.id,
            checked = if choice.id == "all" { " checked" } else { "" },
            label = choice.label,
        );
    }
    html.push('\n');
}

fn count_of(tally: Tally, verdict: Verdict) -> usize {
    match verdict {
        Verdict::Passed => tally.passed,
        Verdict::Failed => tally.failed,
        Verdict::NonStrict => tally.non_strict,
        Verdict::Informational => tally.informational,
        Verdict::NotApplicable => tally.not_applicable,
    }
}

/// The rules: for each choice, hide the rows and trace sections of the
/// verdicts it does not show, and the traces' heading if it shows no
/// failing verdict.
pub fn style() -> String {
    let mut css = String::from(
        "
div.filtered > input { position: absolute; opacity: 0; width: 1px; height: 1px; }
div.filtered > span.show { color: #64748b; margin-right: 6px; }
div.filtered > label { display: inline-block; margin: 0 6px 10px 0; padding: 2px 10px; border: 1px solid #cbd5e1; border-radius: 12px; cursor: pointer; font-size: 12.5px; user-select: none; }
div.filtered > label span.count { color: #64748b; }
div.filtered > input:checked + label { background: #1e293b; border-color: #1e293b; color: #fff; }
div.filtered > input:checked + label span.count { color: #cbd5e1; }
div.filtered > input:focus-visible + label { outline: 2px solid #2563eb; outline-offset: 1px; }
",
    );
    for choice in &CHOICES {
        if choice.shows.len() == Verdict::ALL.len() {
            continue;
        }
        let kept: String = choice
            .shows
            .iter()
            .map(|v| format!(":not(.{})", row_class(*v)))
            .collect();
        let _ = write!(
            css,
            "#show-{id}:checked ~ table.cases tbody tr{kept}, #show-{id}:checked ~ section.trace{kept}",
            id = choice.id
        );
        let shows_failing = choice
            .shows
            .iter()
            .any(|v| matches!(v, Verdict::Failed | Verdict::NonStrict));
        if !shows_failing {
            let _ = write!(css, ", #show-{}:checked ~ h2.traces", choice.id);
        }
        css.push_str(" { display: none; }\n");
    }
    css
}
