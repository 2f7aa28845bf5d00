//! A cluster node on a real Redis (`siosim serve --redis URL`): the adapter
//! is socketioxide-redis's, over [`ReconnectingRedisDriver`], and the count
//! is the key `siosim-count` (`INCR`, `GET`); both reconnect after a Redis
//! restart.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use redis::aio::ConnectionManager;

use super::redis_driver::ReconnectingRedisDriver;
use super::{CountStore, Counting, StoreFuture, node};
use crate::{Config, http_server};

/// The key the cluster's count is kept under.
pub const COUNT_KEY: &str = "siosim-count";

/// Serves one node of the clustered seed app on `listener`, joined to the
/// cluster through the Redis at `redis_url`, until `shutdown` resolves.
pub async fn serve_on_redis<L>(
    config: &Config,
    redis_url: &str,
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError>
where
    L: axum::serve::Listener,
    L::Addr: Debug,
{
    // The driver reads pub/sub messages as RESP3 pushes.
    let client = redis::Client::open(with_resp3(redis_url)).map_err(NodeError::Redis)?;
    let driver = ReconnectingRedisDriver::connect(client.clone())
        .await
        .map_err(NodeError::Redis)?;
    let commands = ConnectionManager::new(client)
        .await
        .map_err(NodeError::Redis)?;
    let store = Arc::new(RedisCount(commands));
    let router = node(config, driver, store, Counting::Shared);
    http_server::serve(listener, router, config.http_limits(), shutdown)
        .await
        .map_err(NodeError::Io)
}

/// Why a node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("redis: {0}")]
    Redis(redis::RedisError),
    #[error("{0}")]
    Io(std::io::Error),
}

/// `redis_url` asking for RESP3, unless it names a protocol already.
fn with_resp3(redis_url: &str) -> String {
    if redis_url.contains("protocol=") {
        return redis_url.to_owned();
    }
    let separator = if redis_url.contains('?') { '&' } else { '?' };
    format!("{redis_url}{separator}protocol=resp3")
}

/// The count as Redis `INCR` and `GET` of [`COUNT_KEY`].
struct RedisCount(ConnectionManager);

impl CountStore for RedisCount {
    fn increment(&self) -> StoreFuture<'_> {
        let mut connection = self.0.clone();
        Box::pin(async move {
            redis::cmd("INCR")
                .arg(COUNT_KEY)
                .query_async::<u64>(&mut connection)
                .await
                .map_err(|error| error.to_string())
        })
    }

    fn current(&self) -> StoreFuture<'_> {
        let mut connection = self.0.clone();
        Box::pin(async move {
            redis::cmd("GET")
                .arg(COUNT_KEY)
                .query_async::<Option<u64>>(&mut connection)
                .await
                .map(Option::unwrap_or_default)
                .map_err(|error| error.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::with_resp3;

    #[test]
    fn the_url_asks_for_resp3_unless_it_names_a_protocol() {
        assert_eq!(with_resp3("redis://h:1"), "redis://h:1?protocol=resp3");
        assert_eq!(
            with_resp3("redis://h:1/?db=2"),
            "redis://h:1/?db=2&protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h:1?protocol=resp2"),
            "redis://h:1?protocol=resp2"
        );
    }
}
