//! siosim's top layer: the built-in scenarios for the reference server, and
//! (soon) the conformance suite. The `siosim` command line sits on this.

pub mod explore;
pub mod run;
pub mod scenarios;
pub mod shrink;
