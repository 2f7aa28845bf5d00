//! A tower layer that gives each long-polling session an Engine.IO id of
//! its own, distinct from its socket id.
//!
//! socketioxide uses the Engine.IO session id as every socket's id, and a
//! socket id is no secret (apps show it to other clients). Knowing it was
//! enough to POST on that client's polling session (a chat message sent as
//! the victim) or to upgrade the session to one's own WebSocket (the
//! victim's messages, stolen). Since Socket.IO v5 the two ids must differ.
//!
//! So the polling handshake's answer carries an alias instead of the real
//! session id, and every request that names a session must name it by its
//! alias: the alias is swapped for the real id on the way in, and a request
//! naming anything else, a socket id included, is answered as an unknown
//! session (400). A session opened directly over WebSocket never names
//! itself in a request, so its handshake (sent on the WebSocket, past this
//! layer) keeps the real id, and any request naming it is refused.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::uri::PathAndQuery;
use axum::http::{Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rand::RngExt as _;
use tower::{Layer, Service, ServiceExt as _};
use tracing::debug;

use crate::engine_request::{self, BoxFuture, Inner, is_engine_path};

/// How many aliases are kept: the oldest is forgotten beyond this (its
/// client's next request is refused as an unknown session, and it
/// reconnects). A session's alias also goes when the server answers a
/// request for it 400 (the session is gone). About 100 bytes each.
const REMEMBERED_ALIASES: usize = 65_536;

/// Characters of an alias: 20 URL-safe base64 characters, 120 bits.
const ALIAS_CHARS: usize = 20;
const ALIAS_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Largest handshake answer rewritten: an open packet is a few hundred bytes.
const MAX_HANDSHAKE_BYTES: usize = 4 * 1024;

/// The layer; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct SessionAliasLayer {
    engine_path: Arc<str>,
    aliases: Arc<Aliases>,
}

impl SessionAliasLayer {
    /// Aliases the sessions of the Engine.IO endpoint at `engine_path`.
    pub(crate) fn new(engine_path: &str) -> Self {
        Self {
            engine_path: engine_path.into(),
            aliases: Arc::default(),
        }
    }
}

impl<S> Layer<S> for SessionAliasLayer {
    type Service = SessionAlias<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionAlias {
            inner,
            engine_path: self.engine_path.clone(),
            aliases: self.aliases.clone(),
        }
    }
}

/// The aliasing service around the app.
#[derive(Debug, Clone)]
pub(crate) struct SessionAlias<S> {
    inner: S,
    engine_path: Arc<str>,
    aliases: Arc<Aliases>,
}

/// Real session ids by alias, and the aliases oldest first.
#[derive(Debug, Default)]
struct Aliases {
    state: Mutex<AliasState>,
}

#[derive(Debug, Default)]
struct AliasState {
    real_by_alias: BTreeMap<String, String>,
    oldest_first: VecDeque<String>,
}

impl Aliases {
    fn lock(&self) -> MutexGuard<'_, AliasState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh alias for `real`.
    fn give(&self, real: &str) -> String {
        let mut rng = rand::rng();
        let alias: String = (0..ALIAS_CHARS)
            .map(|_| char::from(ALIAS_ALPHABET[rng.random_range(0..ALIAS_ALPHABET.len())]))
            .collect();
        let mut state = self.lock();
        state.real_by_alias.insert(alias.clone(), real.to_owned());
        state.oldest_first.push_back(alias.clone());
        while state.oldest_first.len() > REMEMBERED_ALIASES {
            if let Some(oldest) = state.oldest_first.pop_front() {
                state.real_by_alias.remove(&oldest);
            }
        }
        alias
    }

    fn real(&self, alias: &str) -> Option<String> {
        self.lock().real_by_alias.get(alias).cloned()
    }

    /// Forgets `alias` (its `oldest_first` entry goes when it comes due).
    fn forget(&self, alias: &str) {
        self.lock().real_by_alias.remove(alias);
    }
}

impl<S> Service<Request<Body>> for SessionAlias<S>
where
    S: Inner,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The ready service is the one to call; a fresh clone takes its place.
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        if !is_engine_path(request.uri().path(), &self.engine_path) {
            return Box::pin(inner.oneshot(request));
        }
        let aliases = self.aliases.clone();
        let query = request.uri().query().unwrap_or_default();
        let Some(alias) = engine_request::sid(query).map(str::to_owned) else {
            let is_polling_handshake = request.method() == Method::GET
                && engine_request::transport(query) == Some("polling");
            return match is_polling_handshake {
                true => Box::pin(alias_handshake(inner, aliases, request)),
                false => Box::pin(inner.oneshot(request)),
            };
        };
        let Some(real) = aliases.real(&alias) else {
            debug!(sid = %alias, "request names no aliased session: refused");
            return Box::pin(async { Ok(unknown_session()) });
        };
        *request.uri_mut() = with_sid(request.uri(), &alias, &real);
        Box::pin(async move {
            let response = inner.oneshot(request).await?;
            if response.status() == StatusCode::BAD_REQUEST {
                // The session is gone, or has just been closed for this
                // request: either way the alias names nothing any more.
                aliases.forget(&alias);
            }
            Ok(response)
        })
    }
}

/// Runs a polling handshake and swaps the session id in its open packet for
/// a fresh alias. An answer that is not an open packet passes unchanged.
async fn alias_handshake<S>(
    inner: S,
    aliases: Arc<Aliases>,
    request: Request<Body>,
) -> Result<Response, S::Error>
where
    S: Inner,
{
    let response = inner.oneshot(request).await?;
    if response.status() != StatusCode::OK {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_HANDSHAKE_BYTES).await else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let text = String::from_utf8_lossy(&bytes);
    let Some(real) = open_packet_sid(&text) else {
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    };
    let alias = aliases.give(real);
    let aliased = text.replacen(
        &format!("\"sid\":\"{real}\""),
        &format!("\"sid\":\"{alias}\""),
        1,
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, aliased.len().into());
    Ok(Response::from_parts(parts, Body::from(aliased)))
}

/// The `sid` of an Engine.IO v4 open packet (`0{"sid":"…",…}`).
fn open_packet_sid(payload: &str) -> Option<&str> {
    let open = payload.strip_prefix("0{")?;
    let after = open.split_once("\"sid\":\"")?.1;
    after.split('"').next().filter(|sid| !sid.is_empty())
}

/// `uri` with its `sid=alias` pair naming `real` instead.
fn with_sid(uri: &Uri, alias: &str, real: &str) -> Uri {
    let named = format!("sid={alias}");
    let query: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .map(|pair| match pair == named {
            true => format!("sid={real}"),
            false => pair.to_owned(),
        })
        .collect();
    let path_and_query = format!("{}?{}", uri.path(), query.join("&"));
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// engineioxide's answer to an unknown session id.
fn unknown_session() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"code":1,"message":"Session ID unknown"}"#,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_packet_sid_is_found() {
        assert_eq!(
            open_packet_sid(r#"0{"sid":"AbC-1_x","upgrades":["websocket"]}"#),
            Some("AbC-1_x")
        );
        assert_eq!(open_packet_sid(r#"40{"sid":"x"}"#), None);
        assert_eq!(open_packet_sid(r#"0{"sid":""}"#), None);
    }

    #[test]
    fn only_the_sid_pair_is_rewritten() {
        let uri: Uri = "/socket.io/?EIO=4&transport=polling&sid=alias&t=sid=alias"
            .parse()
            .expect("a uri");
        assert_eq!(
            with_sid(&uri, "alias", "real").to_string(),
            "/socket.io/?EIO=4&transport=polling&sid=real&t=sid=alias"
        );
    }
}
