//! The console report: a line per case as it finishes (NOT APPLICABLE ones
//! only counted), then a summary: the table by family, the NOT APPLICABLE
//! count by reason, one line per cause that three or more failing cases
//! share, the lost server, the result.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};

use crate::probe::truncated;
use crate::report::cause;
use crate::runner::{CaseReport, SuiteReport, Tally};
use crate::verdict::Verdict;

/// Prints each case's line to stdout (its verdict in colour when stdout is
/// a terminal), and a progress bar with the running tally to stderr when
/// stderr is a terminal.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: usize,
    tally: Tally,
    live: bool,
    colour: bool,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            tally: Tally::default(),
            live: std::io::stderr().is_terminal(),
            colour: std::io::stdout().is_terminal(),
        }
    }

    pub fn case(&mut self, case: &CaseReport) {
        self.done += 1;
        self.tally.add(case.verdict);
        if self.live {
            eprint!("\r\x1b[2K");
        }
        match live_line(case) {
            None => {}
            Some(line) if self.colour => {
                // The verdict labels are ASCII and padded to the column's width.
                let (start, rest) = line.split_at(VERDICT_WIDTH);
                println!("{}{start}\x1b[0m{rest}", ansi_colour(case.verdict));
            }
            Some(line) => println!("{line}"),
        }
        if self.live {
            eprint!("{}", bar(self.done, self.total, self.tally));
            let _ = std::io::stderr().flush();
        }
    }

    pub fn finish(&mut self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }
}

/// The verdict column's width in [`line`].
const VERDICT_WIDTH: usize = 14;

/// `[#####---------] 12/40  1 failed, 2 non-strict`: the progress line.
pub fn bar(done: usize, total: usize, tally: Tally) -> String {
    let width = 30;
    let filled = width * done.min(total) / total.max(1);
    let mut text = format!(
        "[{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let counts = [(tally.failed, "failed"), (tally.non_strict, "non-strict")];
    let shown: Vec<String> = counts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    if !shown.is_empty() {
        let _ = write!(text, "  {}", shown.join(", "));
    }
    text
}

fn ansi_colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "\x1b[32m",
        Verdict::Failed => "\x1b[1;31m",
        Verdict::NonStrict => "\x1b[33m",
        Verdict::Informational => "\x1b[34m",
        Verdict::NotApplicable => "\x1b[2m",
    }
}

/// The line printed as `case` finishes: none for NOT APPLICABLE, which the
/// bar and the summary count (a profile not claimed makes dozens of them,
/// all for the same reason).
pub fn live_line(case: &CaseReport) -> Option<String> {
    (case.verdict != Verdict::NotApplicable).then(|| line(case))
}

/// `VERDICT  name  reason`, one line.
pub fn line(case: &CaseReport) -> String {
    format!(
        "{:<VERDICT_WIDTH$} {:<62} {}",
        case.verdict.label(),
        case.name,
        one_line(&case.reason)
    )
}

/// The summary: the table by family, the NOT APPLICABLE count, the shared
/// causes, the lost server, and the result.
pub fn summary(suite: &SuiteReport) -> String {
    let mut text = String::new();
    family_table(&mut text, suite);
    not_applicable(&mut text, suite);
    shared_causes(&mut text, suite);
    if let Some(lost) = &suite.server_lost {
        let _ = writeln!(text);
        let _ = writeln!(text, "{}", server_lost_line(lost));
    }
    let failed = suite.tally().failed;
    let _ = writeln!(text);
    if failed == 0 {
        let _ = writeln!(text, "result: no MUST case failed against {}", suite.target);
    } else {
        let _ = writeln!(
            text,
            "result: {failed} MUST case(s) FAILED against {}",
            suite.target
        );
    }
    text
}

/// One row per family and a total.
fn family_table(text: &mut String, suite: &SuiteReport) {
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "{:<12} {:>6} {:>10} {:>6} {:>5} {:>4}",
        "family", "passed", "non-strict", "failed", "info", "n/a"
    );
    let row = |text: &mut String, name: &str, t: Tally| {
        let _ = writeln!(
            text,
            "{:<12} {:>6} {:>10} {:>6} {:>5} {:>4}",
            name, t.passed, t.non_strict, t.failed, t.informational, t.not_applicable
        );
    };
    for (family, tally) in suite.families() {
        row(text, family, tally);
    }
    row(text, "total", suite.tally());
}

/// `the server stopped answering during <case>: <reason>`.
pub fn server_lost_line(lost: &crate::runner::ServerLost) -> String {
    format!(
        "the server stopped answering during {}: {}",
        lost.during_case,
        one_line(&lost.reason)
    )
}

/// Reasons listed under the NOT APPLICABLE count; the rest are counted.
const NOT_APPLICABLE_REASONS_SHOWN: usize = 5;

/// `71 cases NOT APPLICABLE`, then how many for each reason.
fn not_applicable(text: &mut String, suite: &SuiteReport) {
    let cases: Vec<&CaseReport> = suite
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::NotApplicable)
        .collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "{} cases NOT APPLICABLE:", cases.len());
    let causes = cause::group(cases);
    for shared in causes.iter().take(NOT_APPLICABLE_REASONS_SHOWN) {
        let _ = writeln!(
            text,
            "  {:>4} × {}",
            shared.cases.len(),
            one_line(&shared.reason)
        );
    }
    if causes.len() > NOT_APPLICABLE_REASONS_SHOWN {
        let others: usize = causes[NOT_APPLICABLE_REASONS_SHOWN..]
            .iter()
            .map(|c| c.cases.len())
            .sum();
        let _ = writeln!(text, "  {others:>4} × other reasons");
    }
}

/// Failing cases that share a normalised reason are grouped from this many.
pub const SHARED_BY: usize = 3;

/// `28 cases: CONNECT to / refused with 44 {message: unauthorized}`, the
/// verdicts if they differ, and the case names, compactly.
fn shared_causes(text: &mut String, suite: &SuiteReport) {
    let failing = suite
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed | Verdict::NonStrict));
    let causes: Vec<_> = cause::group(failing)
        .into_iter()
        .filter(|c| c.cases.len() >= SHARED_BY)
        .collect();
    if causes.is_empty() {
        return;
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "causes shared by {SHARED_BY} or more failing cases:");
    for shared in causes {
        let tally = Tally::of(shared.cases.iter().copied());
        let verdicts = match (tally.failed, tally.non_strict) {
            (_, 0) => "FAILED".to_owned(),
            (0, _) => "NON-STRICT".to_owned(),
            (failed, non_strict) => format!("{failed} FAILED, {non_strict} NON-STRICT"),
        };
        let _ = writeln!(
            text,
            "{} cases ({verdicts}): {}",
            shared.cases.len(),
            one_line(&shared.reason)
        );
        let names: Vec<&str> = shared.cases.iter().map(|c| c.name).collect();
        for line in wrapped(&compact_names(&names), NAMES_WIDTH) {
            let _ = writeln!(text, "    {line}");
        }
    }
}

/// `reason` cut to 160 characters on one line, its control characters
/// (a hostile server's terminal escapes) written as `\u{1b}`.
fn one_line(reason: &str) -> String {
    let printable: String = truncated(reason, 160)
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_owned(),
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
            c => c.to_string(),
        })
        .collect();
    printable
}

/// Case names with a common parent written once:
/// `socketio::connect::{root, custom}, engineio::close::websocket`.
pub fn compact_names(names: &[&str]) -> Vec<String> {
    let mut parents: Vec<(&str, Vec<&str>)> = Vec::new();
    for name in names {
        let (parent, leaf) = name.rsplit_once("::").unwrap_or(("", name));
        match parents.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, leaves)) => leaves.push(leaf),
            None => parents.push((parent, vec![leaf])),
        }
    }
    parents
        .into_iter()
        .map(|(parent, leaves)| match (parent, leaves.as_slice()) {
            ("", _) => leaves.join(", "),
            (_, [leaf]) => format!("{parent}::{leaf}"),
            _ => format!("{parent}::{{{}}}", leaves.join(", ")),
        })
        .collect()
}

/// The width the case names are wrapped to, after their indent.
const NAMES_WIDTH: usize = 96;

/// `items` joined with `, ` into lines of about `width` characters (an item
/// longer than that gets a line of its own).
fn wrapped(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for (index, item) in items.iter().enumerate() {
        let item = if index + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        if !line.is_empty() && line.chars().count() + 1 + item.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&item);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
