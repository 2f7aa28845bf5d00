//! The server a simulated run starts for each case: a leaf that the target
//! and the probe (for whole fault scenarios) share.

use std::fmt;

use siosim_harness::{AppFactory, NodeFactory};

/// An in-process server for simulation.
#[derive(Clone)]
pub struct SimServer {
    /// Shown in reports, e.g. `reference`.
    pub name: String,
    pub app: AppFactory,
    /// Where it mounts Socket.IO.
    pub path: String,
    /// The same app as a cluster's nodes, for the `cluster` cases (which
    /// are NOT APPLICABLE without it).
    pub cluster: Option<NodeFactory>,
}

impl fmt::Debug for SimServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimServer")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}
