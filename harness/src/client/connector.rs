//! Where a client's TCP connections go: a simulated host, or a real address.
//!
//! The client code is the same for both; only this seam differs, so the
//! conformance suite can run one case body in simulation and against any live
//! server.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How to open a connection to the server under test.
#[derive(Debug, Clone)]
pub enum Connector {
    /// A host of the turmoil simulation, by name.
    Sim { host: String, port: u16 },
    /// A real server over tokio TCP; each connect is bounded by `connect_timeout`.
    /// `headers` go on every HTTP request and WebSocket handshake (a
    /// server's credentials, say).
    Tcp {
        addr: SocketAddr,
        connect_timeout: Duration,
        headers: Arc<[(String, String)]>,
    },
}

impl Connector {
    pub async fn connect(&self) -> io::Result<Stream> {
        match self {
            Connector::Sim { host, port } => {
                turmoil::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map(Stream::Sim)
            }
            Connector::Tcp {
                addr,
                connect_timeout,
                ..
            } => {
                let stream =
                    tokio::time::timeout(*connect_timeout, tokio::net::TcpStream::connect(addr))
                        .await
                        .map_err(|_| {
                            io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("connect to {addr} timed out"),
                            )
                        })??;
                stream.set_nodelay(true)?;
                Ok(Stream::Tcp(stream))
            }
        }
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        match self {
            Connector::Sim { host, port } => format!("{host}:{port}"),
            Connector::Tcp { addr, .. } => addr.to_string(),
        }
    }

    /// The extra headers of every HTTP request and WebSocket handshake.
    pub fn headers(&self) -> &[(String, String)] {
        match self {
            Connector::Sim { .. } => &[],
            Connector::Tcp { headers, .. } => headers,
        }
    }

    /// A WebSocket handshake request for `url` with [`Connector::headers`].
    pub fn websocket_request(
        &self,
        url: &str,
    ) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        for (name, value) in self.headers() {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header {name:?}: {e}"))?;
            let value = hyper::header::HeaderValue::from_str(value)
                .map_err(|e| format!("header {name}: {e}"))?;
            request.headers_mut().append(name, value);
        }
        Ok(request)
    }
}

/// A connected byte stream of either network.
#[derive(Debug)]
pub enum Stream {
    Sim(turmoil::net::TcpStream),
    Tcp(tokio::net::TcpStream),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Sim(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Sim(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Sim(s) => Pin::new(s).poll_flush(cx),
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Sim(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
