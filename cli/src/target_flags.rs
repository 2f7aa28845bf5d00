//! Flags that apply to one target only: a server in simulation, or a live
//! server at `--url`. Every command that takes both refuses, before
//! anything runs, a flag given for the other target, naming it.

use clap::ArgMatches;
use clap::parser::ValueSource;

/// One flag: its clap argument id and the flag as typed.
pub type Flag = (&'static str, &'static str);

/// A command's flags that only one target uses.
#[derive(Debug, Clone, Copy)]
pub struct TargetFlags {
    /// Refused with `--url`.
    pub simulation_only: &'static [Flag],
    /// Why: what those flags do in simulation.
    pub simulation_why: &'static str,
    /// Refused without `--url`.
    pub live_only: &'static [Flag],
}

impl TargetFlags {
    /// Refuses the first flag the command line set that does not apply to
    /// the target (`live`: a server at `--url`).
    pub fn refuse_misplaced(&self, given: &ArgMatches, live: bool) -> anyhow::Result<()> {
        let (refused, why) = if live {
            (self.simulation_only, self.simulation_why)
        } else {
            (self.live_only, "applies only to a live server, with --url")
        };
        for (id, flag) in refused {
            if given.value_source(id) == Some(ValueSource::CommandLine) {
                anyhow::bail!("{flag} {why}");
            }
        }
        Ok(())
    }
}

/// Why the simulated server's and scenarios' flags are refused with `--url`.
pub const APPLIES_IN_SIMULATION: &str = "applies to a server in simulation, not to one at --url";

/// `run`'s and `shrink`'s flags for a scenario and the server in simulation.
pub const SCENARIO_AND_SERVER: [Flag; 9] = [
    ("server_variant", "--server"),
    ("nodes", "--nodes"),
    ("transport", "--transport"),
    ("ping_interval_ms", "--ping-interval-ms"),
    ("ping_timeout_ms", "--ping-timeout-ms"),
    ("connect_timeout_ms", "--connect-timeout-ms"),
    ("max_payload_bytes", "--max-payload-bytes"),
    ("host", "--host"),
    ("port", "--port"),
];
