//! The `siosim` command's subcommands, each a thin layer over the public APIs
//! of siosim-conformance (`check`), siosim-harness (`run`, `explore`,
//! `shrink`) and siosim-server (the reference app and its built-in
//! scenarios). A library as well as a binary so that tests call the commands
//! the binary runs.

pub mod campaign_report;
pub mod check;
pub mod cluster;
pub mod documented_violations;
pub mod exit_code;
pub mod explore;
pub mod live_campaign;
pub mod run;
pub mod scenarios;
pub mod shard;
pub mod shrink;
pub mod target_flags;
