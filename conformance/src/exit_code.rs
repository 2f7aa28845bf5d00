//! `siosim check`'s exit codes, named in one place: scripts and CI tell a
//! non-conformant server from a server that could not be checked at all.
//! README.md ("Exit codes") documents them.

use std::process::ExitCode;

/// How a `siosim` command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every case ran and no MUST case FAILED (or, with `--expect`, every
    /// verdict is as documented).
    Conformant,
    /// A MUST case FAILED, or verdicts differ from the documented ones.
    NonConformant,
    /// The command line was wrong: a bad flag or value, an output path that
    /// cannot be written, or a selection under which no case runs.
    Usage,
    /// The server could not be checked: the preflight found nothing usable
    /// at the URL, or the server went away during the run.
    ServerUnusable,
}

impl Exit {
    /// The process exit status.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Conformant => 0,
            Exit::NonConformant => 1,
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
