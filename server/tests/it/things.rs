//! The realtime REST resource `/api/things`, over plain HTTP, and its pushes
//! to Socket.IO clients.

use hyper::body::Bytes;
use serde_json::{Value, json};
use siosim_server::{MAX_THING_BODY_BYTES, MAX_THING_NAME_CHARS, MAX_THINGS};

use crate::support::{
    Driver, HttpResponse, Server, Transport, both_transports, event_for, get, http, post_json,
};

both_transports!(changes_are_pushed_to_every_socket);

fn assert_json_error(response: &HttpResponse, status: u16, context: &str) {
    assert_eq!(response.status, status, "{context}: {}", response.text());
    assert_eq!(
        response.content_type.as_deref(),
        Some("application/json"),
        "{context}"
    );
    let error = &response.json()["error"];
    assert!(
        error.as_str().is_some_and(|e| !e.is_empty()),
        "{context}: no error message in {}",
        response.text()
    );
}

async fn list(server: &Server) -> Value {
    let response = get(server.addr, "/api/things").await;
    assert_eq!(response.status, 200);
    response.json()
}

#[tokio::test]
async fn create_list_delete() {
    let server = Server::start().await;
    assert_eq!(list(&server).await, json!([]));

    let created = post_json(
        server.addr,
        "/api/things",
        &json!({"name": "zeta", "info": "last letter"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.json(),
        json!({"name": "zeta", "info": "last letter"})
    );

    // `info` is optional, and reported as null when absent.
    let created = post_json(server.addr, "/api/things", &json!({"name": "alpha"})).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json(), json!({"name": "alpha", "info": null}));

    let longest = "n".repeat(MAX_THING_NAME_CHARS);
    let created = post_json(server.addr, "/api/things", &json!({"name": longest})).await;
    assert_eq!(created.status, 201);

    // Insertion order, not alphabetical.
    assert_eq!(
        list(&server).await,
        json!([
            {"name": "zeta", "info": "last letter"},
            {"name": "alpha", "info": null},
            {"name": longest, "info": null},
        ])
    );

    let deleted = http(
        server.addr,
        "DELETE",
        "/api/things/zeta",
        None,
        Bytes::new(),
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert_eq!(
        list(&server).await,
        json!([{"name": "alpha", "info": null}, {"name": longest, "info": null}])
    );

    // Names with spaces, slashes and non-ASCII are addressed percent-encoded.
    let odd = "hello world/é";
    assert_eq!(
        post_json(server.addr, "/api/things", &json!({"name": odd}))
            .await
            .status,
        201
    );
    let deleted = http(
        server.addr,
        "DELETE",
        "/api/things/hello%20world%2F%C3%A9",
        None,
        Bytes::new(),
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
}

#[tokio::test]
async fn errors_change_nothing() {
    let server = Server::start().await;
    let created = post_json(
        server.addr,
        "/api/things",
        &json!({"name": "keep", "info": "me"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let before = list(&server).await;

    // 409: duplicate name, whatever the info.
    let duplicate = post_json(
        server.addr,
        "/api/things",
        &json!({"name": "keep", "info": "other"}),
    )
    .await;
    assert_json_error(&duplicate, 409, "duplicate");

    // 400: malformed bodies.
    let too_long = "n".repeat(MAX_THING_NAME_CHARS + 1);
    let bad_json_bodies = [
        (
            "bad JSON",
            Some("application/json"),
            "{\"name\": ".to_owned(),
        ),
        ("empty body", Some("application/json"), String::new()),
        (
            "text/plain",
            Some("text/plain"),
            json!({"name": "x"}).to_string(),
        ),
        ("no content type", None, json!({"name": "x"}).to_string()),
        (
            "missing name",
            Some("application/json"),
            json!({"info": "x"}).to_string(),
        ),
        (
            "empty name",
            Some("application/json"),
            json!({"name": ""}).to_string(),
        ),
        (
            "name too long",
            Some("application/json"),
            json!({"name": too_long}).to_string(),
        ),
        (
            "name not a string",
            Some("application/json"),
            json!({"name": 7}).to_string(),
        ),
        (
            "info not a string",
            Some("application/json"),
            json!({"name": "x", "info": 1}).to_string(),
        ),
        (
            "not an object",
            Some("application/json"),
            json!(["x"]).to_string(),
        ),
    ];
    for (context, content_type, body) in bad_json_bodies {
        let response = http(server.addr, "POST", "/api/things", content_type, body).await;
        assert_json_error(&response, 400, context);
    }

    // 413: over the body limit, even if otherwise valid.
    let huge_info = "i".repeat(MAX_THING_BODY_BYTES);
    let response = post_json(
        server.addr,
        "/api/things",
        &json!({"name": "big", "info": huge_info}),
    )
    .await;
    assert_json_error(&response, 413, "oversized body");

    // 404: unknown names, including one already deleted.
    let response = http(
        server.addr,
        "DELETE",
        "/api/things/nope",
        None,
        Bytes::new(),
    )
    .await;
    assert_json_error(&response, 404, "unknown thing");

    assert_eq!(
        list(&server).await,
        before,
        "a refused request changed the store"
    );

    let deleted = http(
        server.addr,
        "DELETE",
        "/api/things/keep",
        None,
        Bytes::new(),
    )
    .await;
    assert_eq!(deleted.status, 204);
    let again = http(
        server.addr,
        "DELETE",
        "/api/things/keep",
        None,
        Bytes::new(),
    )
    .await;
    assert_json_error(&again, 404, "deleted twice");
    assert_eq!(list(&server).await, json!([]));
}

async fn changes_are_pushed_to_every_socket(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;

    let thing = json!({"name": "lamp", "info": "desk"});
    assert_eq!(
        post_json(server.addr, "/api/things", &thing).await.status,
        201
    );
    d.expect_event("a", "thing:create", json!([thing])).await;
    d.expect_event("b", "thing:create", json!([thing])).await;

    // Refused requests push nothing.
    assert_eq!(
        post_json(server.addr, "/api/things", &thing).await.status,
        409
    );
    assert_eq!(
        post_json(server.addr, "/api/things", &json!({"name": ""}))
            .await
            .status,
        400
    );
    let missing = http(
        server.addr,
        "DELETE",
        "/api/things/ghost",
        None,
        Bytes::new(),
    )
    .await;
    assert_eq!(missing.status, 404);

    let deleted = http(
        server.addr,
        "DELETE",
        "/api/things/lamp",
        None,
        Bytes::new(),
    )
    .await;
    assert_eq!(deleted.status, 204);
    d.expect_event("a", "thing:destroy", json!(["lamp"])).await;
    d.expect_event("b", "thing:destroy", json!(["lamp"])).await;

    // Barrier: a later push arrives after anything the refused requests
    // could have pushed.
    let marker = json!({"name": "marker", "info": null});
    assert_eq!(
        post_json(server.addr, "/api/things", &json!({"name": "marker"}))
            .await
            .status,
        201
    );
    for client in ["a", "b"] {
        d.expect_event(client, "thing:create", json!([marker]))
            .await;
        assert_eq!(
            d.events_of(client, "thing:create"),
            vec![json!([thing]), json!([marker])]
        );
        assert_eq!(d.events_of(client, "thing:destroy"), vec![json!(["lamp"])]);
    }
    d.assert_none("push of a refused request", |o| {
        event_for("a", "thing:destroy")(o) && o["args"] != json!(["lamp"])
    });
}

/// A `Content-Length` over the limit is refused before any body is sent:
/// the server does not wait for bytes it would refuse.
#[tokio::test]
async fn a_declared_oversized_body_is_refused_at_once() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = Server::start().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connects");
    let head = format!(
        "POST /api/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        MAX_THING_BODY_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .expect("reads");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
}

/// The store holds at most `MAX_THINGS`; one more is refused until one goes.
#[tokio::test]
async fn the_store_is_bounded() {
    let server = Server::start().await;
    for i in 0..MAX_THINGS {
        let created = post_json(
            server.addr,
            "/api/things",
            &json!({"name": format!("t{i}")}),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.text());
    }
    let refused = post_json(server.addr, "/api/things", &json!({"name": "one more"})).await;
    assert_json_error(&refused, 507, "a full store");
    assert_eq!(
        list(&server).await.as_array().map(Vec::len),
        Some(MAX_THINGS)
    );
    let deleted = http(server.addr, "DELETE", "/api/things/t0", None, Bytes::new()).await;
    assert_eq!(deleted.status, 204);
    let created = post_json(server.addr, "/api/things", &json!({"name": "one more"})).await;
    assert_eq!(created.status, 201, "{}", created.text());
}
