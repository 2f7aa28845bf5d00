//! The official protocol test suite's echo contract: `auth` on connect in
//! `/` and `/custom`, `message` → `message-back`, `message-with-ack` acked
//! with its own arguments, binary attachments included.

use serde_json::{Value, json};

use crate::support::{Driver, Server, Transport, both_transports, is};

both_transports!(
    auth_follows_the_count_in_the_default_namespace,
    custom_namespace_sends_only_auth,
    message_comes_back_with_the_same_arguments,
    message_with_ack_is_acked_with_its_own_arguments,
    binary_arguments_round_trip,
    echoes_come_back_in_the_order_sent,
);

/// Arguments of every JSON kind, with keys in non-sorted order.
fn json_args() -> Value {
    json!([1, -2, 3.5, "two", null, true, {"z": [3, {"y": "x"}], "a": {}}, []])
}

/// Binary at the top level and nested, next to plain JSON; base64 as the
/// driver writes bytes.
fn binary_args() -> Value {
    json!([
        {"$binary": "AAEC/w=="},
        "text",
        {"nested": [{"$binary": ""}, {"$binary": "aGVsbG8="}]},
    ])
}

/// Connects `client` to `namespace` with an optional auth payload.
async fn connect_to(
    d: &mut Driver,
    client: &str,
    server: &Server,
    namespace: &str,
    auth: Option<Value>,
    transport: Transport,
) {
    let mut command = json!({
        "op": "connect", "client": client,
        "url": format!("{}{namespace}", server.url()),
        "path": server.config.socketio_path, "transports": [transport.name()],
    });
    if let Some(auth) = auth {
        command["auth"] = auth;
    }
    d.send(command).await;
    let connected = d
        .expect(&format!("{client} connects to {namespace}"), |o| {
            is(o, client, "connect") || is(o, client, "connect_error")
        })
        .await;
    assert_eq!(connected["type"], "connect", "{client} failed: {connected}");
}

/// The events `client` received, in order, as `[event, args]` pairs.
fn events_in_order(d: &mut Driver, client: &str) -> Vec<Value> {
    d.matching(|o| is(o, client, "event"))
        .into_iter()
        .map(|o| json!([o["event"], o["args"]]))
        .collect()
}

async fn auth_follows_the_count_in_the_default_namespace(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    let token = json!({"token": "123", "n": [1, 2]});
    connect_to(&mut d, "a", &server, "/", Some(token.clone()), transport).await;
    d.expect_event("a", "auth", json!([token])).await;
    assert_eq!(
        events_in_order(&mut d, "a"),
        vec![json!(["get count", [0]]), json!(["auth", [token]])],
        "get count first, then auth"
    );

    // No auth payload reads as an empty object, as in the official server.
    connect_to(&mut d, "b", &server, "/", None, transport).await;
    d.expect_event("b", "auth", json!([{}])).await;
}

async fn custom_namespace_sends_only_auth(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    connect_to(
        &mut d,
        "c",
        &server,
        "/custom",
        Some(json!({"k": "v"})),
        transport,
    )
    .await;
    d.expect_event("c", "auth", json!([{"k": "v"}])).await;
    connect_to(&mut d, "d", &server, "/custom", None, transport).await;
    d.expect_event("d", "auth", json!([{}])).await;

    // Barrier: an increment in `/` reaches `/` sockets only; d's auth was
    // queued before it, so a stray count for c or d would show by now.
    connect_to(&mut d, "root", &server, "/", None, transport).await;
    d.emit_ack("root", "increase count", json!([])).await;
    d.expect_event("root", "get count", json!([1])).await;
    for client in ["c", "d"] {
        assert!(
            d.events_of(client, "get count").is_empty(),
            "/custom is not the seed app's namespace"
        );
    }
}

async fn message_comes_back_with_the_same_arguments(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    connect_to(&mut d, "a", &server, "/", None, transport).await;
    connect_to(&mut d, "b", &server, "/", None, transport).await;

    d.emit("a", "message", json_args()).await;
    d.expect_event("a", "message-back", json_args()).await;
    d.emit("a", "message", json!([])).await;
    d.expect_event("a", "message-back", json!([])).await;

    // Barrier: b's own echo comes back after anything a's echoes sent b.
    d.emit("b", "message", json!(["b"])).await;
    d.expect_event("b", "message-back", json!(["b"])).await;
    assert_eq!(
        d.events_of("b", "message-back"),
        vec![json!(["b"])],
        "message-back goes to the sender only"
    );
}

async fn message_with_ack_is_acked_with_its_own_arguments(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    connect_to(&mut d, "a", &server, "/", None, transport).await;
    assert_eq!(
        Value::Array(d.emit_ack("a", "message-with-ack", json_args()).await),
        json_args()
    );
    assert!(
        d.emit_ack("a", "message-with-ack", json!([]))
            .await
            .is_empty()
    );

    // Without an ack there is nothing to answer: no event either. Barrier:
    // a later echo comes back after anything the ack-less one caused.
    d.emit("a", "message-with-ack", json!(["no ack"])).await;
    d.emit("a", "message", json!(["after"])).await;
    d.expect_event("a", "message-back", json!(["after"])).await;
    assert_eq!(
        events_in_order(&mut d, "a"),
        vec![
            json!(["get count", [0]]),
            json!(["auth", [{}]]),
            json!(["message-back", ["after"]]),
        ]
    );
}

async fn binary_arguments_round_trip(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    connect_to(&mut d, "a", &server, "/", None, transport).await;
    d.emit("a", "message", binary_args()).await;
    d.expect_event("a", "message-back", binary_args()).await;
    assert_eq!(
        Value::Array(d.emit_ack("a", "message-with-ack", binary_args()).await),
        binary_args()
    );
}

async fn echoes_come_back_in_the_order_sent(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    connect_to(&mut d, "a", &server, "/", None, transport).await;
    let sent: Vec<Value> = (0..30)
        .map(|i| {
            if i % 3 == 0 {
                json!([i, {"$binary": "AQID"}])
            } else {
                json!([i])
            }
        })
        .collect();
    for args in &sent {
        d.emit("a", "message", args.clone()).await;
    }
    d.expect_event("a", "message-back", sent[sent.len() - 1].clone())
        .await;
    assert_eq!(d.events_of("a", "message-back"), sent);
}
