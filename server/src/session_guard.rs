//! A tower layer in front of engineioxide that ends an Engine.IO session on
//! the three request patterns the protocol says end it, which engineioxide
//! 0.17.9 lets through:
//!
//! * a polling POST while another POST of the same session is still being
//!   read (engineioxide accepts both, so two writers interleave one
//!   session's packets);
//! * a pending polling GET whose request was cancelled (its connection
//!   dropped): engineioxide frees the polling slot and the session lives on;
//! * a second WebSocket upgrade of one session: engineioxide accepts it
//!   during the first one's probe and the session dies of a stalled upgrade.
//!
//! The layer closes a session through engineioxide's own path, a polling
//! POST carrying the Engine.IO CLOSE packet (`1`), so the disconnect
//! handlers run and the session's state goes where engineioxide sends it.
//! The offending request itself is answered 400, as the official server
//! does. The requests are recognised the way engineioxide parses them
//! (`engineioxide::service::parser`), so no spelling reaches one and not
//! the other.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service, ServiceExt as _};
use tracing::debug;

use crate::engine_request::{self, BoxFuture, Inner};

/// How many upgraded sessions the guard remembers. An upgrade's probe lasts
/// seconds, so forgetting the oldest of this many cannot let a second
/// WebSocket through during a probe, and the memory stays bounded (about
/// 64 bytes a session) whatever a client sends.
const REMEMBERED_UPGRADES: usize = 16_384;

/// The body that closes a session: the Engine.IO CLOSE packet.
const CLOSE_PACKET: &str = "1";

/// The layer; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct SessionGuardLayer {
    engine_path: Arc<str>,
    sessions: Arc<Sessions>,
}

impl SessionGuardLayer {
    /// Guards the Engine.IO endpoint at `engine_path` (socketioxide's
    /// `req_path`).
    pub(crate) fn new(engine_path: &str) -> Self {
        Self {
            engine_path: engine_path.into(),
            sessions: Arc::default(),
        }
    }
}

impl<S> Layer<S> for SessionGuardLayer {
    type Service = SessionGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionGuard {
            inner,
            engine_path: self.engine_path.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

/// The guarding service around the app.
#[derive(Debug, Clone)]
pub(crate) struct SessionGuard<S> {
    inner: S,
    engine_path: Arc<str>,
    sessions: Arc<Sessions>,
}

/// What the guard knows of the sessions it has seen requests for.
#[derive(Debug, Default)]
struct Sessions {
    state: Mutex<SessionState>,
}

#[derive(Debug, Default)]
struct SessionState {
    /// Sessions with a POST being read.
    posting: BTreeSet<String>,
    /// Sessions that asked for a WebSocket, oldest first in `upgrade_order`.
    upgraded: BTreeMap<String, ()>,
    upgrade_order: VecDeque<String>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// False when `sid` already has a POST in flight.
    fn begin_post(&self, sid: &str) -> bool {
        self.lock().posting.insert(sid.to_owned())
    }

    fn end_post(&self, sid: &str) {
        self.lock().posting.remove(sid);
    }

    /// False when `sid` asked for a WebSocket before.
    fn first_upgrade(&self, sid: &str) -> bool {
        let mut state = self.lock();
        if state.upgraded.insert(sid.to_owned(), ()).is_some() {
            return false;
        }
        state.upgrade_order.push_back(sid.to_owned());
        if state.upgrade_order.len() > REMEMBERED_UPGRADES
            && let Some(oldest) = state.upgrade_order.pop_front()
        {
            state.upgraded.remove(&oldest);
        }
        true
    }
}

/// An Engine.IO request that names a session, as engineioxide reads it.
enum SessionRequest {
    Poll { sid: String },
    Post { sid: String },
    Upgrade { sid: String },
}

impl SessionRequest {
    fn of(request: &Request<Body>, engine_path: &str) -> Option<Self> {
        if !engine_request::is_engine_path(request.uri().path(), engine_path) {
            return None;
        }
        let query = request.uri().query()?;
        let sid = engine_request::sid(query)?.to_owned();
        match (engine_request::transport(query)?, request.method()) {
            ("polling", &Method::GET) => Some(Self::Poll { sid }),
            ("polling", &Method::POST) => Some(Self::Post { sid }),
            ("websocket", &Method::GET) => Some(Self::Upgrade { sid }),
            _ => None,
        }
    }
}

impl<S> Service<Request<Body>> for SessionGuard<S>
where
    S: Inner,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The ready service is the one to call; a fresh clone takes its place.
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        let Some(session_request) = SessionRequest::of(&request, &self.engine_path) else {
            return Box::pin(inner.oneshot(request));
        };
        let sessions = self.sessions.clone();
        match session_request {
            SessionRequest::Post { sid } => guard_post(inner, sessions, sid, request),
            SessionRequest::Poll { sid } => guard_poll(inner, sid, request),
            SessionRequest::Upgrade { sid } if !sessions.first_upgrade(&sid) => {
                debug!(%sid, "second WebSocket for one session refused");
                Box::pin(async { Ok(bad_request()) })
            }
            SessionRequest::Upgrade { .. } => Box::pin(inner.oneshot(request)),
        }
    }
}

/// A POST overlapping another of its session closes the session and is
/// answered 400.
fn guard_post<S>(
    inner: S,
    sessions: Arc<Sessions>,
    sid: String,
    request: Request<Body>,
) -> BoxFuture<Result<Response, S::Error>>
where
    S: Inner,
{
    if !sessions.begin_post(&sid) {
        debug!(%sid, "overlapping POST: closing the session");
        let close = close_request(&request);
        return Box::pin(async move {
            // Whatever engineioxide answers the close, the overlapping POST
            // was not taken.
            let _ = inner.oneshot(close).await;
            Ok(bad_request())
        });
    }
    let posting = PostInFlight { sessions, sid };
    Box::pin(async move {
        let response = inner.oneshot(request).await;
        drop(posting);
        response
    })
}

/// Ends the POST's turn however the request ends, cancelled included.
struct PostInFlight {
    sessions: Arc<Sessions>,
    sid: String,
}

impl Drop for PostInFlight {
    fn drop(&mut self) {
        self.sessions.end_post(&self.sid);
    }
}

/// A polling GET dropped before it was answered closes its session.
fn guard_poll<S>(
    inner: S,
    sid: String,
    request: Request<Body>,
) -> BoxFuture<Result<Response, S::Error>>
where
    S: Inner,
{
    let close = close_request(&request);
    let closer = inner.clone();
    let cancelled = CancelledPoll {
        close: Some(Box::pin(async move {
            let _ = closer.oneshot(close).await;
        })),
        sid,
    };
    Box::pin(async move {
        let response = inner.oneshot(request).await;
        cancelled.disarm();
        response
    })
}

/// Armed while a GET waits for its answer: dropped armed, it closes the
/// session.
struct CancelledPoll {
    close: Option<BoxFuture<()>>,
    sid: String,
}

impl CancelledPoll {
    /// The GET was answered: nothing to close.
    fn disarm(mut self) {
        self.close = None;
    }
}

impl Drop for CancelledPoll {
    fn drop(&mut self) {
        let Some(close) = self.close.take() else {
            return;
        };
        // A GET is only dropped by the server's runtime (hyper, when the
        // client's connection goes); outside one there is nothing to close.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            debug!(sid = %self.sid, "pending GET cancelled: closing the session");
            runtime.spawn(close);
        }
    }
}

/// A polling POST of the CLOSE packet to the session `request` names.
fn close_request(request: &Request<Body>) -> Request<Body> {
    let mut close = Request::new(Body::from(CLOSE_PACKET));
    *close.method_mut() = Method::POST;
    *close.uri_mut() = request.uri().clone();
    close.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    close
}

/// What the official server answers a request it refuses.
fn bad_request() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"code":3,"message":"Bad request"}"#,
    )
        .into_response()
}
