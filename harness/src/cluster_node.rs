//! The server nodes of a simulated run: one host named `server`, or a
//! cluster of `node-1` … `node-N` sharing the simulated [bus](crate::bus).

use std::sync::Arc;

use crate::driver::SERVER_HOST;

/// Builds a node's app; called again when that node's host restarts.
pub type NodeFactory = Arc<dyn Fn(&ClusterNode) -> axum::Router + Send + Sync>;

/// One server node of a simulated run, as its app factory sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    number: usize,
    host: String,
}

impl ClusterNode {
    /// The nodes of a run with `count` of them: a lone node is the host
    /// `server` (as in every single-server run), a cluster's are `node-1` …
    pub(crate) fn all(count: usize) -> Vec<ClusterNode> {
        if count <= 1 {
            return vec![ClusterNode {
                number: 1,
                host: SERVER_HOST.into(),
            }];
        }
        (1..=count)
            .map(|number| ClusterNode {
                number,
                host: format!("node-{number}"),
            })
            .collect()
    }

    /// 1 … N, as in the scenario's `node` fields and faults.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The simulated host it runs on, which also names it in the trace.
    pub fn host(&self) -> &str {
        &self.host
    }
}
