//! The seed app as a simulated cluster (`--server cluster`): every node runs
//! `siosim_server::cluster::node` with socketioxide-redis's adapter over
//! the harness's [`BusDriver`], and keeps the count on the simulated bus.

use std::sync::Arc;

use siosim_harness::{BusDriver, ClusterNode, NodeFactory};
use siosim_server::cluster::{self, CountStore, Counting, StoreFuture};

/// The clustered reference app.
pub const CLUSTER: &str = "cluster";
/// A racy variant: each node counts on its own, as if the store had been
/// forgotten, so two nodes hand out the same count.
pub const PER_NODE_COUNT: &str = "cluster-per-node-count";
/// A racy variant: the count is shared, but each node pushes the value its
/// own increment got through the adapter, so a socket may see it fall.
pub const EMITS_OWN_COUNT: &str = "cluster-emits-own-count";
/// The clustered servers' names, for `--server`.
pub const NAMES: [&str; 3] = [CLUSTER, PER_NODE_COUNT, EMITS_OWN_COUNT];
/// Nodes a cluster's scenarios run: built-ins run this many, and each swarm
/// seed draws 2 up to this many.
pub const MAX_NODES: usize = 3;
/// The most nodes `--nodes` may ask for (turmoil's cost per tick grows with
/// the cube of the host count).
pub const MOST_NODES: usize = 8;
/// The bus key the count is kept under.
const COUNT_KEY: &str = "siosim-count";

/// How the named clustered server counts, or None for a single server.
pub fn counting(name: &str) -> Option<Counting> {
    match name {
        CLUSTER => Some(Counting::Shared),
        PER_NODE_COUNT => Some(Counting::PerNode),
        EMITS_OWN_COUNT => Some(Counting::EmitsItsOwn),
        _ => None,
    }
}

/// Each node's app, built anew when its host (re)starts.
pub fn nodes(config: &siosim_server::Config, counting: Counting) -> NodeFactory {
    let config = config.clone();
    Arc::new(move |_: &ClusterNode| {
        let driver = BusDriver::new();
        let store = Arc::new(BusCount(driver.clone()));
        cluster::node(&config, driver, store, counting)
    })
}

/// The count as the simulated bus's `INCR` and `GET`.
struct BusCount(BusDriver);

impl CountStore for BusCount {
    fn increment(&self) -> StoreFuture<'_> {
        Box::pin(async move { counted(self.0.incr(COUNT_KEY).await) })
    }

    fn current(&self) -> StoreFuture<'_> {
        Box::pin(async move { counted(self.0.get(COUNT_KEY).await) })
    }
}

fn counted(reply: Result<i64, siosim_harness::BusError>) -> Result<u64, String> {
    let count = reply.map_err(|error| error.to_string())?;
    u64::try_from(count).map_err(|_| format!("the bus holds a negative count, {count}"))
}
