//! The server host's accepted connections, closed in accept order when the
//! host crashes or bounces.
//!
//! turmoil crashes or bounces a host by dropping its tokio runtime. tokio drops
//! the `tokio::spawn`ed tasks (axum's connection tasks, socketioxide's socket
//! tasks) shard by shard, and a task's shard is its task id modulo the shard
//! count. Task ids come from one process-wide counter, so the drop order
//! depends on how many tasks *any* thread of the process spawned before:
//! other simulations run earlier or in parallel. Each dropped connection sends
//! its FIN or RST, drawing its latency from the simulation's RNG in drop order,
//! so that order would leak into the trace (a client would notice the bounce
//! 0 or 2 ms after it, depending on what else the process had done).
//!
//! So while a host is torn down, a dropped [`SimStream`] does not close its
//! connection: it parks it. The server software's [`CloseParkedOnDrop`] guard,
//! dropped after the runtime (turmoil drops the host's `LocalSet`, where the
//! software runs, last) and still inside the host, closes the parked
//! connections in accept order: the same order in every process.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use turmoil::net::TcpStream;

thread_local! {
    /// Connections dropped during a teardown, with their accept sequence.
    /// `None` outside a teardown: a dropped connection closes at once.
    static PARKED: RefCell<Option<Vec<(u64, TcpStream)>>> = const { RefCell::new(None) };
    /// The accept sequence of the next connection on this thread.
    static NEXT_ACCEPTED: Cell<u64> = const { Cell::new(0) };
}

/// A connection accepted by [`SimListener`](crate::SimListener): turmoil's
/// simulated TCP stream, closed in accept order when its host is torn down.
pub struct SimStream {
    accepted: u64,
    /// Always `Some` until the stream drops.
    stream: Option<TcpStream>,
}

impl std::fmt::Debug for SimStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimStream")
            .field("accepted", &self.accepted)
            .finish()
    }
}

impl SimStream {
    pub(crate) fn new(stream: TcpStream) -> Self {
        let accepted = NEXT_ACCEPTED.with(|next| next.replace(next.get() + 1));
        Self {
            accepted,
            stream: Some(stream),
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("a SimStream holds its stream until it drops"),
        )
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        let unparked = PARKED
            .try_with(|parked| match parked.borrow_mut().as_mut() {
                Some(parked) => {
                    parked.push((self.accepted, stream));
                    None
                }
                None => Some(stream),
            })
            .unwrap_or(None);
        // Outside a teardown the connection closes here, as turmoil's would.
        drop(unparked);
    }
}

impl AsyncRead for SimStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

/// Runs `teardown` (turmoil's crash or bounce of a host) with every
/// [`SimStream`] dropped meanwhile parked, to be closed in accept order by the
/// host's [`CloseParkedOnDrop`]. Returns what `teardown` returns.
pub(crate) fn park_closes_during<R>(teardown: impl FnOnce() -> R) -> R {
    PARKED.with(|parked| *parked.borrow_mut() = Some(Vec::new()));
    let result = teardown();
    // Normally the guard closed them all inside the host. If the host's
    // software had already ended, none did: close the rest here, still in
    // accept order (outside the host, so without a FIN).
    close_parked();
    result
}

/// Closes the parked connections in accept order and ends the parking.
fn close_parked() {
    let Some(mut parked) = PARKED.with(|parked| parked.borrow_mut().take()) else {
        return;
    };
    parked.sort_by_key(|(accepted, _)| *accepted);
    for (_, stream) in parked {
        drop(stream);
    }
}

/// Held by the server host's software: when a teardown drops it, it closes
/// the parked connections in accept order, from inside the host.
#[derive(Debug)]
pub(crate) struct CloseParkedOnDrop;

impl Drop for CloseParkedOnDrop {
    fn drop(&mut self) {
        close_parked();
    }
}
