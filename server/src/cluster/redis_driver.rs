//! A node's pub/sub on a real Redis that outlives a Redis restart.
//!
//! socketioxide-redis's own `RedisDriver` (0.4.4) holds one multiplexed
//! connection and never reconnects: once Redis restarts, the node neither
//! hears nor reaches the other nodes again, for good (`siosim check
//! --profile cluster --redis-restart` shows it). This driver keeps the same
//! RESP3 push design on redis-rs's `ConnectionManager`, which reconnects
//! with backoff and subscribes to every channel again.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, PushInfo, PushKind, Value};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;
use tracing::warn;

/// Where each subscribed channel's messages go.
type Handlers = Arc<RwLock<BTreeMap<String, mpsc::Sender<ChanItem>>>>;

/// socketioxide-redis's [`Driver`] over a reconnecting connection.
#[derive(Clone)]
pub struct ReconnectingRedisDriver {
    connection: ConnectionManager,
    handlers: Handlers,
}

impl std::fmt::Debug for ReconnectingRedisDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingRedisDriver")
            .finish_non_exhaustive()
    }
}

impl ReconnectingRedisDriver {
    /// Connects to the Redis of `client` (RESP3, for pushes).
    pub async fn connect(client: redis::Client) -> redis::RedisResult<Self> {
        let handlers = Handlers::default();
        let routes = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(move |push: PushInfo| {
                route(push, &routes);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            handlers,
        })
    }
}

/// Hands a pushed message to its channel's stream; a full stream loses it,
/// as Redis pub/sub would a slow subscriber's.
fn route(push: PushInfo, handlers: &Handlers) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(channel), Some(message)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(channel), Ok(message)) = (
        redis::from_redis_value::<String>(channel),
        redis::from_redis_value::<Vec<u8>>(message),
    ) else {
        return;
    };
    let handlers = handlers.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(stream) = handlers.get(&channel)
        && let Err(error) = stream.try_send((channel.clone(), message))
    {
        warn!(%channel, %error, "a pub/sub message was dropped");
    }
}

impl Driver for ReconnectingRedisDriver {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.connection
            .clone()
            .publish::<_, _, Value>(chan, val)
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (stream, messages) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(chan.clone(), stream);
        self.connection.clone().subscribe(chan).await?;
        Ok(MessageStream::new(messages))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&chan);
        self.connection.clone().unsubscribe(chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(count)
    }
}
