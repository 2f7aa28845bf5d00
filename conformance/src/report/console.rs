//! The console report: a line per case as it finishes, then a summary table
//! by family.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};

use crate::probe::truncated;
use crate::runner::{CaseReport, SuiteReport, Tally};
use crate::verdict::Verdict;

/// Prints each case's line to stdout, and a progress counter to stderr when
/// stderr is a terminal.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: usize,
    live: bool,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            live: std::io::stderr().is_terminal(),
        }
    }

    pub fn case(&mut self, case: &CaseReport) {
        self.done += 1;
        if self.live {
            eprint!("\r\x1b[2K");
        }
        println!("{}", line(case));
        if self.live {
            let width = 30;
            let filled = width * self.done / self.total.max(1);
            eprint!(
                "[{}{}] {}/{}",
                "#".repeat(filled),
                "-".repeat(width - filled),
                self.done,
                self.total
            );
            let _ = std::io::stderr().flush();
        }
    }

    pub fn finish(&mut self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }
}

/// `VERDICT  name  reason`, one line.
pub fn line(case: &CaseReport) -> String {
    format!(
        "{:<14} {:<62} {}",
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
