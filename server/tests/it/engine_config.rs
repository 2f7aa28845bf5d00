//! `Config` reaching the Socket.IO engine: path, heartbeat, connect timeout,
//! payload limit.

use serde_json::{Value, json};
use siosim_server::Config;

use crate::support::{
    DEADLINE, Driver, Server, Transport, both_transports, event_for, get, http, is,
};

both_transports!(custom_path_is_the_only_path, oversized_payloads_are_refused);

/// The tutorial's client connects under `/socket.io-client`.
async fn custom_path_is_the_only_path(transport: Transport) {
    let server = Server::start_with(Config {
        socketio_path: "/socket.io-client".into(),
        ..Config::default()
    })
    .await;
    let mut d = Driver::spawn().await;
    d.connect_at("a", &server, "/socket.io-client", transport)
        .await;
    d.expect_event("a", "get count", json!([0])).await;
    assert_eq!(
        d.emit_ack("a", "increase count", json!([])).await,
        vec![json!(1)]
    );

    d.send(json!({
        "op": "connect", "client": "lost", "url": server.url(),
        "path": "/socket.io", "transports": [transport.name()],
    }))
    .await;
    d.expect("the default path is refused", |o| {
        is(o, "lost", "connect_error")
    })
    .await;
    d.assert_none("a connection on the default path", |o| {
        is(o, "lost", "connect")
    });
}

async fn oversized_payloads_are_refused(transport: Transport) {
    let server = Server::start_with(Config {
        max_payload_bytes: 2_000,
        ..Config::default()
    })
    .await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;

    let fits = "f".repeat(1_000);
    d.emit("a", "chat message", json!([fits])).await;
    d.expect_event("b", "chat message", json!([fits])).await;

    let too_big = "x".repeat(5_000);
    d.emit("a", "chat message", json!([too_big])).await;
    let gone = d
        .expect("the oversized sender is disconnected", |o| {
            is(o, "a", "disconnect")
        })
        .await;
    assert!(
        gone["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("transport")),
        "dropped by the transport, not by a handler: {gone}"
    );

    // Barrier: b's own message is relayed after the refused one would have been.
    d.emit("b", "chat message", json!(["still up"])).await;
    d.expect_event("b", "chat message", json!(["still up"]))
        .await;
    assert_eq!(
        d.events_of("b", "chat message"),
        vec![json!([fits]), json!(["still up"])]
    );
    assert!(d.matching(event_for("b", "disconnect")).is_empty());
}

/// Reads an Engine.IO v4 long-polling handshake: `0{...}`.
async fn polling_handshake(server: &Server) -> Value {
    let path = format!("{}/?EIO=4&transport=polling", server.config.socketio_path);
    let response = get(server.addr, &path).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let text = response.text();
    let open = text
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("not an open packet: {text}"));
    serde_json::from_str(open).expect("handshake JSON")
}

#[tokio::test]
async fn handshake_announces_the_configured_heartbeat_and_payload() {
    let server = Server::start_with(Config {
        ping_interval_ms: 1_234,
        ping_timeout_ms: 567,
        max_payload_bytes: 4_321,
        ..Config::default()
    })
    .await;
    let handshake = polling_handshake(&server).await;
    assert_eq!(handshake["pingInterval"], 1_234);
    assert_eq!(handshake["pingTimeout"], 567);
    assert_eq!(handshake["maxPayload"], 4_321);
    assert!(handshake["sid"].as_str().is_some_and(|s| !s.is_empty()));

    let defaults = Server::start().await;
    let handshake = polling_handshake(&defaults).await;
    assert_eq!(handshake["pingInterval"], 25_000);
    assert_eq!(handshake["pingTimeout"], 20_000);
    assert_eq!(handshake["maxPayload"], 1_000_000);
}

#[tokio::test]
async fn sessions_that_never_join_a_namespace_are_closed() {
    let server = Server::start_with(Config {
        connect_timeout_ms: 200,
        ..Config::default()
    })
    .await;
    let sid = polling_handshake(&server).await["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    // Never send `40`. Long-poll (answering pings) until the server closes
    // the session: a close packet, or the session no longer known. The
    // heartbeat (25 s) cannot be what closes it within the deadline.
    let poll = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            let response = get(server.addr, &poll).await;
            if response.status == 400 {
                return;
            }
            assert_eq!(response.status, 200, "{}", response.text());
            let text = response.text();
            let packets: Vec<&str> = text.split('\u{1e}').collect();
            if packets.contains(&"1") {
                return;
            }
            if packets.contains(&"2") {
                let pong = http(server.addr, "POST", &poll, Some("text/plain"), "3").await;
                assert_eq!(pong.status, 200, "{}", pong.text());
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "session still open after the connect timeout"
    );
    // The session is gone for good.
    assert_eq!(get(server.addr, &poll).await.status, 400);
}
