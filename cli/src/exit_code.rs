//! Every `siosim` command's exit codes, named in one place: scripts and CI
//! tell a non-conformant server (or a broken invariant) from a server that
//! could not be checked at all, or a command line that was wrong. README.md
//! ("Exit codes") documents them.

use std::process::ExitCode;

/// How a `siosim` command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `run`, `explore`, `shrink`, `serve`, `list`: done, and nothing
    /// failed (the run kept every expectation and invariant, no seed broke
    /// one, the shrunk scenario file is written).
    Passed,
    /// `run`: an expectation or invariant failed; `explore`: a seed broke
    /// an invariant (its witness and replay line are printed).
    Failed,
    /// `check`: every case ran and no MUST case FAILED (or, with `--expect`, every
    /// verdict is as documented).
    Conformant,
    /// `check`: a MUST case FAILED, or verdicts differ from the documented ones.
    NonConformant,
    /// Any command: the command line was wrong (a bad flag or value, an
    /// output path that cannot be written, a selection under which no case
    /// runs, a seed `shrink` cannot shrink because it passes) or the command
    /// could not do its work (an unreadable scenario file, a failed bind).
    Usage,
    /// `check`: the server could not be checked: the preflight found nothing usable
    /// at the URL, or the server went away during the run; `run`, `explore`,
    /// `shrink` with `--url`: the preflight found nothing usable.
    ServerUnusable,
}

impl Exit {
    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Passed | Exit::Conformant => 0,
            Exit::Failed | Exit::NonConformant => 1,
            // clap exits 2 on its own usage errors; ours agree with it.
            Exit::Usage => 2,
            Exit::ServerUnusable => 3,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}
