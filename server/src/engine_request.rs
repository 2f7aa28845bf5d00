//! Reading an Engine.IO request's endpoint and query the way engineioxide
//! 0.17.9 reads them (`engineioxide::service`), so that the layers in front
//! of it never see a request differently from it; and what those layers
//! wrap ([`Inner`]).

use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use tower::Service;

/// The service a layer in front of engineioxide wraps (the app's Router),
/// with what the layer needs of it to call it from a boxed, sent future.
pub(crate) trait Inner:
    Service<Request<Body>, Response = Response, Future: Send, Error: Send> + Clone + Send + 'static
{
}

impl<S> Inner for S where
    S: Service<Request<Body>, Response = Response, Future: Send, Error: Send>
        + Clone
        + Send
        + 'static
{
}

/// The future a layer's service answers with.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// engineioxide's `is_req_path`: `path` is at or under `engine_path`.
pub(crate) fn is_engine_path(path: &str, engine_path: &str) -> bool {
    path.strip_prefix(engine_path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || engine_path.ends_with('/'))
}

/// The `sid` of a query: the rest of its first pair starting `sid=`.
pub(crate) fn sid(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| pair.strip_prefix("sid="))
}

/// The `transport` of a query: what follows the first `=` of its first
/// pair starting `transport=`, up to any second `=`.
pub(crate) fn transport(query: &str) -> Option<&str> {
    query
        .split('&')
        .find(|pair| pair.starts_with("transport="))
        .and_then(|pair| pair.split('=').nth(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_as_engineioxide_reads_them() {
        let query = "EIO=4&transport=polling=x&sid=a=b&sid=c";
        assert_eq!(sid(query), Some("a=b"));
        assert_eq!(transport(query), Some("polling"));
        assert!(is_engine_path("/socket.io/", "/socket.io"));
        assert!(is_engine_path("/socket.io", "/socket.io"));
        assert!(!is_engine_path("/socket.iox", "/socket.io"));
    }
}
