//! The realtime REST resource: `/api/things` over HTTP, with every change
//! pushed to all Socket.IO clients (`thing:create`, `thing:destroy`).

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use socketioxide::SocketIo;

use crate::fanout;

/// Pushed to every socket with the created thing.
pub(crate) const THING_CREATE: &str = "thing:create";
/// Pushed to every socket with the destroyed thing's name.
pub(crate) const THING_DESTROY: &str = "thing:destroy";

/// Longest thing name accepted, in characters.
pub const MAX_THING_NAME_CHARS: usize = 200;
/// Largest request body accepted by `/api/things`, in bytes. A thing is a
/// short name and a note; anything bigger is a mistake or an attack.
pub const MAX_THING_BODY_BYTES: usize = 16 * 1024;
/// Most things one server keeps. Without a bound, anyone could make every
/// `GET /api/things` as large as they like (10 000 things of 16 KiB made one
/// 164 MB answer).
pub const MAX_THINGS: usize = 1_000;

/// One stored thing. `info` is always serialized, as `null` when absent, so
/// clients see one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Thing {
    name: String,
    info: Option<String>,
}

/// The things of one server instance, by name, in insertion order.
///
/// The lock is held while a change is pushed to the sockets, so pushes
/// reach every socket in the order the changes were made.
#[derive(Debug, Default)]
pub(crate) struct Things {
    by_name: Mutex<IndexMap<String, Thing>>,
}

#[derive(Debug, Clone)]
struct ThingsState {
    things: Arc<Things>,
    io: SocketIo,
}

/// The `/api/things` routes, pushing changes through `io`.
pub(crate) fn routes(io: SocketIo) -> Router {
    let state = ThingsState {
        things: Arc::default(),
        io,
    };
    Router::new()
        .route("/api/things", get(list).post(create))
        .route("/api/things/{name}", delete(destroy))
        .layer(DefaultBodyLimit::max(MAX_THING_BODY_BYTES))
        .layer(middleware::from_fn(refuse_declared_oversize))
        .with_state(state)
}

/// Answers 413 at once to a request whose `Content-Length` is over the
/// limit, instead of reading a body it would refuse (or waiting for one a
/// client never sends). Bodies without a length are bounded while read.
async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_THING_BODY_BYTES as u64 => too_large(),
        _ => next.run(request).await,
    }
}

fn too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body larger than {MAX_THING_BODY_BYTES} bytes"),
    )
}

/// `GET /api/things`: every thing, oldest first.
async fn list(State(state): State<ThingsState>) -> Json<Vec<Thing>> {
    let by_name = state.things.lock();
    Json(by_name.values().cloned().collect())
}

/// `POST /api/things` with `{name, info?}`: `201` and the thing.
async fn create(
    State(state): State<ThingsState>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let thing = match body {
        Ok(Json(body)) => match parse_thing(&body) {
            Ok(thing) => thing,
            Err(why) => return error(StatusCode::BAD_REQUEST, why),
        },
        // Too large stays 413; every other rejection (bad JSON, wrong or
        // missing content type, unreadable body) is the client's malformed
        // request, which this API reports uniformly as 400.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large();
        }
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };

    let mut by_name = state.things.lock();
    if by_name.contains_key(&thing.name) {
        return error(
            StatusCode::CONFLICT,
            format!("thing {:?} already exists", thing.name),
        );
    }
    if by_name.len() >= MAX_THINGS {
        return error(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("already {MAX_THINGS} things: delete one first"),
        );
    }
    by_name.insert(thing.name.clone(), thing.clone());
    fanout::broadcast(fanout::everyone(&state.io), THING_CREATE, &thing);
    drop(by_name);
    (StatusCode::CREATED, Json(thing)).into_response()
}

/// `DELETE /api/things/{name}`: `204`.
async fn destroy(
    State(state): State<ThingsState>,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let Path(name) = match name {
        Ok(name) => name,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let mut by_name = state.things.lock();
    // `shift_remove` keeps the others in insertion order.
    if by_name.shift_remove(&name).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no thing named {name:?}"));
    }
    fanout::broadcast(fanout::everyone(&state.io), THING_DESTROY, &name);
    drop(by_name);
    StatusCode::NO_CONTENT.into_response()
}

impl Things {
    fn lock(&self) -> std::sync::MutexGuard<'_, IndexMap<String, Thing>> {
        self.by_name.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Validates a `{name, info?}` body. Unknown fields are ignored.
fn parse_thing(body: &Value) -> Result<Thing, String> {
    let Value::Object(fields) = body else {
        return Err("body must be a JSON object {name, info?}".to_owned());
    };
    let name = match fields.get("name") {
        Some(Value::String(name)) if name.is_empty() => {
            return Err("name must not be empty".to_owned());
        }
        Some(Value::String(name)) if name.chars().count() > MAX_THING_NAME_CHARS => {
            return Err(format!(
                "name must be at most {MAX_THING_NAME_CHARS} characters"
            ));
        }
        Some(Value::String(name)) => name.clone(),
        Some(_) => return Err("name must be a string".to_owned()),
        None => return Err("name is required".to_owned()),
    };
    let info = match fields.get("info") {
        None | Some(Value::Null) => None,
        Some(Value::String(info)) => Some(info.clone()),
        Some(_) => return Err("info must be a string".to_owned()),
    };
    Ok(Thing { name, info })
}

fn error(status: StatusCode, why: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": why.into() }))).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_are_validated() {
        assert_eq!(
            parse_thing(&json!({"name": "a", "info": "b", "extra": 1})),
            Ok(Thing {
                name: "a".into(),
                info: Some("b".into())
            })
        );
        assert_eq!(
            parse_thing(&json!({"name": "a", "info": null})),
            Ok(Thing {
                name: "a".into(),
                info: None
            })
        );
        assert!(parse_thing(&json!({"name": "é".repeat(MAX_THING_NAME_CHARS)})).is_ok());
        for bad in [
            json!({"name": "x".repeat(MAX_THING_NAME_CHARS + 1)}),
            json!({"name": ""}),
            json!({"name": 3}),
            json!({"info": "b"}),
            json!({"name": "a", "info": 3}),
            json!(["a"]),
            json!("a"),
        ] {
            assert!(parse_thing(&bad).is_err(), "{bad} accepted");
        }
    }
}
