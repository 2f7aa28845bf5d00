//! The console report: a line per case as it finishes, then a summary table
//! by family.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};

use crate::probe::truncated;
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
        if self.colour {
            let line = line(case);
            // The verdict labels are ASCII and padded to the column's width.
            let (start, rest) = line.split_at(VERDICT_WIDTH);
            println!("{}{start}\x1b[0m{rest}", ansi_colour(case.verdict));
        } else {
            println!("{}", line(case));
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

/// `VERDICT  name  reason`, one line.
pub fn line(case: &CaseReport) -> String {
    format!(
        "{:<VERDICT_WIDTH$} {:<62} {}",
        case.verdict.label(),
        case.name,
        truncated(&case.reason.replace('\n', " "), 160)
    )
}

/// The summary table: one row per family and a total.
pub fn summary(suite: &SuiteReport) -> String {
    let mut text = String::new();
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
        row(&mut text, family, tally);
    }
    row(&mut text, "total", suite.tally());
    let failed: Vec<_> = suite
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Failed)
        .collect();
    let _ = writeln!(text);
    if failed.is_empty() {
        let _ = writeln!(text, "result: no MUST case failed against {}", suite.target);
    } else {
        let _ = writeln!(
            text,
            "result: {} MUST case(s) FAILED against {}",
            failed.len(),
            suite.target
        );
    }
    text
}
