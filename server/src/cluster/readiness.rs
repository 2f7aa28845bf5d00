//! Whether a node has joined the cluster. Its namespace exists only once
//! the adapter has subscribed to the bus; until then socketioxide refuses a
//! CONNECT with "Invalid namespace". A load balancer would not route to a
//! node that is not ready, so the node holds each request until it is (at
//! most [`JOIN_DEADLINE`]) instead of refusing it.

use std::future::Future;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tokio::sync::watch;
use tracing::warn;

/// How long a request waits for the node to join before a 503.
pub(crate) const JOIN_DEADLINE: Duration = Duration::from_secs(10);

/// Set once the adapter has joined.
#[derive(Debug, Clone)]
pub(crate) struct Readiness(watch::Receiver<bool>);

impl Readiness {
    /// Ready once `joined` (the namespace's adapter initialisation) succeeds.
    pub(crate) fn after<E: std::fmt::Display>(
        joined: impl Future<Output = Result<(), E>> + Send + 'static,
    ) -> Self {
        let (ready, readiness) = watch::channel(false);
        tokio::spawn(async move {
            match joined.await {
                Ok(()) => {
                    ready.send_replace(true);
                }
                Err(error) => warn!(%error, "this node could not join the cluster"),
            }
        });
        Self(readiness)
    }
}

/// Passes `request` on once the node is ready; a 503 if it does not become
/// ready in time.
pub(crate) async fn gate(
    State(Readiness(mut ready)): State<Readiness>,
    request: Request,
    next: Next,
) -> Response {
    // The watch's read guard is not `Send`: let it go before the request runs.
    let joined = matches!(
        tokio::time::timeout(JOIN_DEADLINE, ready.wait_for(|ready| *ready)).await,
        Ok(Ok(_))
    );
    if joined {
        next.run(request).await
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "this node has not joined the cluster",
        )
            .into_response()
    }
}
