//! The reference server's HTTP/1.1 connection loop: `axum::serve`'s, plus
//! the limits a server facing the internet needs and `axum::serve` does not
//! set. Without them, connections sending headers at a byte a second, bodies
//! that never end, and clients that stop reading were all kept forever, and
//! 1 500 idle connections locked everyone else out of a process allowed
//! 1 024 descriptors.
//!
//! * A request's head must arrive within [`Limits::header_read`] (hyper's
//!   header read timeout, which also bounds an idle keep-alive connection),
//!   and be at most [`MAX_HEAD_BYTES`].
//! * A request's body must arrive whole within [`Limits::body_read`].
//! * A write that makes no progress for [`Limits::write_stall`] ends the
//!   connection: a client that stopped reading can no longer pin the
//!   server's buffers (engineioxide's heartbeat gives up on such a client
//!   but its close waits behind the stalled write).
//! * At most [`Limits::max_connections`] connections at once; one more is
//!   closed as soon as it is accepted, so the connections already served
//!   keep their descriptors and the process keeps a reserve.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::serve::Listener;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;
use tracing::{debug, warn};

/// Largest request head (request line and headers) accepted, in bytes:
/// Node's default (`--max-http-header-size`, 16 KiB). A session keeps its
/// handshake's headers, so this also bounds what each session stores.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long shutdown waits for the connections still open to finish.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The limits; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub header_read: Duration,
    pub body_read: Duration,
    pub write_stall: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting, asks every connection to finish, and waits for them (at most
/// [`SHUTDOWN_DEADLINE`]).
pub(crate) async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()>
where
    L: Listener,
    L::Addr: Debug,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Every connection holds a receiver: all dropped means all finished.
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, remote) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            warn!(
                ?remote,
                limit = limits.max_connections,
                "connection refused: at the connection limit"
            );
            drop(io);
            continue;
        };
        let connection = serve_connection(io, router.clone(), limits, stopping.clone());
        tokio::spawn(async move {
            connection.await;
            drop(slot);
        });
    }
    drop(stopping);
    stop.send_replace(true);
    if tokio::time::timeout(SHUTDOWN_DEADLINE, stop.closed())
        .await
        .is_err()
    {
        warn!("shutdown: connections still open after {SHUTDOWN_DEADLINE:?}, left behind");
    }
    Ok(())
}

/// Serves one connection until it ends, or finishes it gracefully once
/// `stopping` turns true.
async fn serve_connection<I>(
    io: I,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let body_read = limits.body_read;
    let service = router.map_request(move |request: Request<Incoming>| {
        request.map(|body| Body::new(DeadlineBody::new(body, body_read)))
    });
    let io = TokioIo::new(StallGuard::new(io, limits.write_stall));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(MAX_HEAD_BYTES);
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    debug!(%error, "connection ended");
                }
                return;
            }
            changed = stopping.changed() => {
                if changed.is_err() || *stopping.borrow() {
                    connection.as_mut().graceful_shutdown();
                    // Finishes the request in flight, then ends.
                    let _ = connection.as_mut().await;
                    return;
                }
            }
        }
    }
}

/// A request body that fails once `deadline` has passed before its end.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Incoming, within: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(within)),
        }
    }
}

/// A body or a write that took longer than its limit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TooSlow(&'static str);

impl HttpBody for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        ready!(self.deadline.as_mut().poll(cx));
        Poll::Ready(Some(Err(
            TooSlow("request body not complete in time").into()
        )))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An I/O stream whose writes fail once one has made no progress for
/// `limit`.
struct StallGuard<I> {
    inner: I,
    limit: Duration,
    /// Armed while a write or flush is pending.
    stalled_since: Option<Pin<Box<Sleep>>>,
}

impl<I> StallGuard<I> {
    fn new(inner: I, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled_since: None,
        }
    }

    /// What a pending write or flush becomes: still pending, or an error
    /// once the stall has lasted `limit`.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let limit = self.limit;
        let stall = self
            .stalled_since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + limit)));
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            TooSlow("the client read nothing for the write-stall limit"),
        )))
    }

    fn progressed<T>(&mut self, result: io::Result<T>) -> Poll<io::Result<T>> {
        self.stalled_since = None;
        Poll::Ready(result)
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for StallGuard<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for StallGuard<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(result) => self.progressed(result),
            Poll::Pending => self.pending(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => self.progressed(result),
            Poll::Pending => self.pending(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(result) => self.progressed(result),
            Poll::Pending => self.pending(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The descriptor limit of this process, less a reserve for everything
/// else it opens, as a connection limit; 1 024 connections where the limit
/// cannot be read.
pub(crate) fn connections_the_process_can_hold() -> usize {
    const RESERVE: usize = 64;
    const FALLBACK: usize = 1_024;
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse::<usize>().ok());
    match soft {
        Some(soft) => soft.saturating_sub(RESERVE).max(RESERVE),
        None => FALLBACK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_leaves_a_reserve() {
        let limit = connections_the_process_can_hold();
        assert!(limit >= 64, "{limit}");
    }
}
