//! The scripted Socket.IO client: our own Engine.IO v4 / Socket.IO v5
//! implementation over WebSocket, long-polling and the upgrade between them,
//! on either a simulated or a real network.

mod connector;
mod engine;
mod http;
mod script;

pub use connector::{Connector, Stream};
pub use engine::{Endpoint, Session, SessionLimits, deadline_after};
pub use http::{HttpConnection, HttpResponse};
pub use script::{ClientOutcome, run_script, run_script_on_nodes};

/// Why a client could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("connect failed: {0}")]
    Connect(String),
    #[error("http: {0}")]
    Http(String),
    #[error("websocket: {0}")]
    WebSocket(String),
    #[error("timed out after {0} ms: {1}")]
    Timeout(u64, String),
    #[error("protocol violation: {0}")]
    Violation(#[from] crate::codec::ProtocolViolation),
    #[error("session closed: {0}")]
    Closed(String),
}
