//! The seam that lets an unmodified axum app serve inside the simulation.

use std::io;
use std::net::SocketAddr;

use crate::sim_stream::SimStream;

/// An [`axum::serve::Listener`] over turmoil's simulated TCP, so that
/// `axum::serve(SimListener::bind(port).await?, router)` runs any user's
/// Router inside the simulated network exactly as it runs on a real one.
pub struct SimListener(turmoil::net::TcpListener);

impl std::fmt::Debug for SimListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SimListener")
            .field(&self.0.local_addr().ok())
            .finish()
    }
}

impl SimListener {
    /// Binds every address of the current simulated host on `port`.
    pub async fn bind(port: u16) -> io::Result<Self> {
        turmoil::net::TcpListener::bind(("0.0.0.0", port))
            .await
            .map(Self)
    }
}

impl axum::serve::Listener for SimListener {
    type Io = SimStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => return (SimStream::new(stream), addr),
                // A simulated accept only fails if the host is tearing down;
                // yield so the runtime can finish that, as axum's own loop does.
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}
