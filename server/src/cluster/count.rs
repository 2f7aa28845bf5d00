//! The cluster's count: kept in the store, and pushed by every node to its
//! own sockets when the store's new value reaches it on the bus.
//!
//! Two increments on two nodes publish their values in either order, so a
//! node may learn 6 before 5. Each socket remembers the last count it was
//! told and is told only higher ones: every socket sees the count rise, and
//! the last value published (the store's final count) reaches every node.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt as _;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide_redis::drivers::Driver;
use tracing::{debug, warn};

use super::Counting;
use super::inbox::Inbox;
use crate::counter::{GET_COUNT, INCREASE_COUNT};
use crate::fanout::NAMESPACE;
use crate::inline_handler::Event;
use crate::reply;

/// The bus channel on which a node announces a new count to every node.
pub const COUNT_CHANNEL: &str = "siosim-count";
/// Count updates a node may have queued before it drops the oldest news.
const UPDATES_QUEUE: usize = 256;
/// How often a node reads the count anew: pub/sub loses what is published
/// while a node is cut off the bus, so without this a node would tell its
/// sockets a stale count until the next increment.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A future a [`CountStore`] returns.
pub type StoreFuture<'a> = Pin<Box<dyn Future<Output = Result<u64, String>> + Send + 'a>>;

/// Where a cluster keeps its count, the same for every node: Redis `INCR`
/// and `GET` of one key, or the simulated bus's.
pub trait CountStore: Send + Sync + 'static {
    /// Adds one; the new count.
    fn increment(&self) -> StoreFuture<'_>;
    /// The count now (0 if never incremented).
    fn current(&self) -> StoreFuture<'_>;
}

/// The last count a socket was told.
#[derive(Debug, Clone, Copy)]
struct Told(u64);

/// One node's view of the count.
pub(crate) struct Count {
    store: Arc<dyn CountStore>,
    counting: Counting,
    /// The racy [`Counting::PerNode`]'s count.
    own: AtomicU64,
    /// Held while sockets are told: one node tells its sockets in one order.
    telling: Mutex<()>,
}

impl Count {
    pub(crate) fn new(store: Arc<dyn CountStore>, counting: Counting) -> Self {
        Self {
            store,
            counting,
            own: AtomicU64::new(0),
            telling: Mutex::new(()),
        }
    }

    async fn increment(&self) -> Result<u64, String> {
        match self.counting {
            Counting::Shared | Counting::EmitsItsOwn => self.store.increment().await,
            Counting::PerNode => Ok(self.own.fetch_add(1, Ordering::SeqCst) + 1),
        }
    }

    async fn current(&self) -> Result<u64, String> {
        match self.counting {
            Counting::Shared | Counting::EmitsItsOwn => self.store.current().await,
            Counting::PerNode => Ok(self.own.load(Ordering::SeqCst)),
        }
    }

    /// Tells a new socket the count, unless a higher one reached it first.
    pub(crate) async fn greet<A: Adapter>(&self, socket: &SocketRef<A>) {
        match self.current().await {
            Ok(count) => self.tell(std::iter::once(socket.clone()), count),
            Err(error) => warn!(sid = %socket.id, %error, "the count is out of reach; no greeting"),
        }
    }

    /// Registers `increase count`: increment, ack, announce on the bus.
    pub(crate) fn register<D: Driver, A: Adapter>(
        self: &Arc<Self>,
        socket: &SocketRef<A>,
        inbox: &Inbox,
        driver: &D,
    ) {
        let (count, driver) = (self.clone(), driver.clone());
        inbox.on(socket, INCREASE_COUNT, move |event: Event<A>| {
            let (count, driver) = (count.clone(), driver.clone());
            async move { count.increase(event, &driver).await }
        });
    }

    async fn increase<D: Driver, A: Adapter>(&self, event: Event<A>, driver: &D) {
        let ack = event.ack;
        match self.increment().await {
            Ok(value) if self.counting == Counting::EmitsItsOwn => {
                reply::send(ack, &value);
                if let Err(error) = event.io.emit(GET_COUNT, &value).await {
                    warn!(%error, value, "a new count did not reach every node");
                }
            }
            Ok(value) => {
                reply::send(ack, &value);
                let news = value.to_string().into_bytes();
                if let Err(error) = driver.publish(COUNT_CHANNEL.to_owned(), news).await {
                    warn!(%error, value, "a new count did not reach the bus");
                }
            }
            Err(error) => reply::send(
                ack,
                &reply::error(format!("the count is out of reach: {error}")),
            ),
        }
    }

    /// Tells each of `sockets` `count`, if it is higher than the last count
    /// that socket was told.
    fn tell<A: Adapter>(&self, sockets: impl IntoIterator<Item = SocketRef<A>>, count: u64) {
        let _in_order = self.telling.lock().unwrap_or_else(PoisonError::into_inner);
        for socket in sockets {
            if socket
                .extensions
                .get::<Told>()
                .is_some_and(|Told(last)| last >= count)
            {
                continue;
            }
            socket.extensions.insert(Told(count));
            if let Err(error) = socket.emit(GET_COUNT, &count) {
                debug!(sid = %socket.id, %error, "a count was not delivered");
            }
        }
    }
}

/// A node's subscription to [`COUNT_CHANNEL`].
#[derive(Debug)]
pub struct CountUpdates;

impl CountUpdates {
    /// Subscribes to the count's news and tells this node's sockets each new
    /// count, for as long as the node runs.
    pub(crate) fn spawn<D: Driver, A: Adapter>(driver: D, io: SocketIo<A>, count: Arc<Count>) {
        tokio::spawn(async move {
            let mut news = match driver
                .subscribe(COUNT_CHANNEL.to_owned(), UPDATES_QUEUE)
                .await
            {
                Ok(news) => news,
                Err(error) => {
                    warn!(%error, "cannot follow the count: this node's sockets hear only their greeting");
                    return;
                }
            };
            let mut refresh = tokio::time::interval(REFRESH_EVERY);
            refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let value = tokio::select! {
                    published = news.next() => match published {
                        Some((_, value)) => std::str::from_utf8(&value).ok().and_then(|v| v.parse().ok()),
                        None => return,
                    },
                    _ = refresh.tick() => count.current().await.ok(),
                };
                let Some(value) = value else {
                    continue;
                };
                let mut sockets = io.of(NAMESPACE).map(|ns| ns.sockets()).unwrap_or_default();
                // socketioxide keeps sockets in a `HashMap`: a fixed order.
                sockets.sort_by_key(|socket| socket.id);
                count.tell(sockets, value);
            }
        });
    }
}
