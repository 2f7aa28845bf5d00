//! The seed app as one node of a cluster: its sockets reach every node's
//! through a Socket.IO adapter (socketioxide-redis's, over Redis or any
//! [`Driver`]), and the count lives in the cluster's store (Redis `INCR`),
//! so the seed-app contract holds across nodes:
//!
//! * `get count` greets a new socket with the cluster's count; `increase
//!   count` increments it in the store, acks the new value, and every node
//!   pushes it to its own sockets (a socket only ever sees a higher count);
//! * `chat message` reaches every socket on every node, the sender
//!   included; `chat broadcast` every socket but the sender's;
//! * `join` and `leave` are acked; `room message` reaches the room's members
//!   on every node, and `room poll` asks them all and gathers their answers;
//! * `kick` disconnects a socket on whichever node it is.
//!
//! Things (`/api/things`), the echo contract and `/ws` stay with the
//! single-server app. Unlike it, a node's event handlers are socketioxide's
//! ordinary spawned tasks: an adapter's broadcast awaits the bus.

mod count;
mod inbox;
mod readiness;
mod redis_driver;
mod redis_node;
mod relay;

use std::sync::Arc;

use axum::Router;
use socketioxide::adapter::Emitter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::DisconnectReason;
use socketioxide_redis::drivers::Driver;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tracing::info;

pub use count::{COUNT_CHANNEL, CountStore, StoreFuture};
pub use redis_driver::ReconnectingRedisDriver;
pub use redis_node::{COUNT_KEY, NodeError, serve_on_redis};

use count::{Count, CountUpdates};
use readiness::Readiness;

use crate::Config;
use crate::fanout::NAMESPACE;

/// The adapter a node runs: socketioxide-redis's, over driver `D`.
pub type ClusterAdapter<D> = CustomRedisAdapter<Emitter, D>;

/// How a node keeps the cluster's count: the reference (`Shared`, in the
/// store), or one of two racy ways, for proving that the checks catch them:
/// `PerNode`, each node its own count (as if the store had been
/// forgotten), and `EmitsItsOwn`, the count in the store but each node
/// pushing the value its own increment got through the adapter, so that two
/// nodes' pushes may reach a socket in either order (as the stock Node and
/// Python clusters of `scripts/peers` do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    Shared,
    PerNode,
    EmitsItsOwn,
}

/// One node of the clustered seed app: `driver` carries the adapter's
/// traffic and the count's updates, `store` keeps the count.
pub fn node<D: Driver>(
    config: &Config,
    driver: D,
    store: Arc<dyn CountStore>,
    counting: Counting,
) -> Router {
    let adapter = RedisAdapterCtr::new_with_driver(driver.clone(), RedisAdapterConfig::default());
    let (layer, io) = config
        .socketio_builder()
        .with_adapter::<ClusterAdapter<D>>(adapter)
        .build_layer();
    let count = Arc::new(Count::new(store, counting));
    CountUpdates::spawn(driver.clone(), io.clone(), count.clone());
    let joined = io.ns(NAMESPACE, move |socket: SocketRef<ClusterAdapter<D>>| {
        on_connect(socket, count.clone(), driver.clone())
    });
    let ready = Readiness::after(joined);
    Router::new()
        .merge(crate::page::routes(&config.socketio_path))
        .layer(layer)
        .layer(axum::middleware::from_fn_with_state(ready, readiness::gate))
}

async fn on_connect<D: Driver>(socket: SocketRef<ClusterAdapter<D>>, count: Arc<Count>, driver: D) {
    info!(sid = %socket.id, "connect");
    // As in Node's socket.io, a socket is in the room of its own id: the
    // address of a socket on another node (`kick`).
    socket.join(socket.id.to_string());
    let inbox = inbox::Inbox::open();
    count.register(&socket, &inbox, &driver);
    relay::register(&socket, &inbox);
    socket.on_disconnect(
        async |socket: SocketRef<ClusterAdapter<D>>, reason: DisconnectReason| {
            info!(sid = %socket.id, reason = ?reason, "disconnect");
        },
    );
    count.greet(&socket).await;
}
