//! Connect/disconnect logging and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use siosim_server::{GREETING, PLAIN_WS_PATH};
use tokio_tungstenite::tungstenite::Message;
use tracing_test::traced_test;

use crate::support::{DEADLINE, Driver, Server, Transport, both_transports, is};

both_transports!(shutdown_disconnects_everyone);

/// tracing-test's `logs_contain` sees the lines logged inside the test's
/// span: `#[tokio::test]` runs the server's tasks on the test's own thread
/// while that span is entered, so the server's lines are in scope.
/// tracing-test cannot notify a waiter, so this polls its buffer every
/// millisecond, bounded by `DEADLINE`.
async fn until_logged(what: &str, logged: impl Fn() -> bool) {
    let poll = async {
        while !logged() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(DEADLINE, poll)
        .await
        .unwrap_or_else(|_| panic!("no log line with {what} within {DEADLINE:?}"));
}

#[tokio::test]
#[traced_test]
async fn connect_and_disconnect_are_logged_over_websocket() {
    connect_and_disconnect_are_logged(Transport::Websocket, logs_contain).await;
}

#[tokio::test]
#[traced_test]
async fn connect_and_disconnect_are_logged_over_polling() {
    connect_and_disconnect_are_logged(Transport::Polling, logs_contain).await;
}

/// `logs_contain` is the one `#[traced_test]` defines in the calling test.
async fn connect_and_disconnect_are_logged(transport: Transport, logs_contain: fn(&str) -> bool) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    let sid = d.connect("a", &server, transport).await;
    // The connect line is logged before the greeting is sent.
    d.expect_event("a", "get count", json!([0])).await;
    let connected = format!("siosim_server::lifecycle: connect sid={sid}");
    assert!(logs_contain(&connected), "no log line with {connected}");

    d.disconnect("a").await;
    let disconnected =
        format!("siosim_server::lifecycle: disconnect sid={sid} reason=ClientNSDisconnect");
    until_logged(&disconnected, || logs_contain(&disconnected)).await;
}

async fn shutdown_disconnects_everyone(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.expect_event("a", "get count", json!([0])).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}{PLAIN_WS_PATH}", server.addr))
            .await
            .expect("plain WebSocket handshake");
    let greeting = tokio::time::timeout(DEADLINE, ws.next())
        .await
        .expect("greeting in time");
    assert_eq!(
        greeting.expect("a frame").expect("valid"),
        Message::text(GREETING)
    );

    let addr = server.addr;
    server
        .stop()
        .await
        .expect("serve returns Ok after shutdown");

    let gone = d
        .expect("a is disconnected by the server", |o| {
            is(o, "a", "disconnect")
        })
        .await;
    // socketioxide closes the transports rather than each namespace: the
    // client sees its transport lost (and would reconnect if allowed), not a
    // deliberate "io server disconnect". Over WebSocket the close frame
    // arrives; a long-polling client only gets the close packet if it
    // happens to have a request pending, otherwise its next poll fails.
    let expected: &[&str] = match transport {
        Transport::Websocket => &["transport close"],
        Transport::Polling => &["transport close", "transport error"],
    };
    assert!(
        gone["reason"]
            .as_str()
            .is_some_and(|r| expected.contains(&r)),
        "{gone}"
    );
    // The plain WebSocket is closed too, not left running past `serve`.
    let closed = tokio::time::timeout(DEADLINE, async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(frame) if frame.is_close() => return,
                Ok(_) => {}
                Err(_) => return,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "plain WebSocket still open after shutdown");
    // And nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// `serve` takes any `axum::serve::Listener`, not only tokio's (the
/// simulation runs it on turmoil's): here a wrapped one.
#[tokio::test]
async fn serve_is_generic_over_the_listener() {
    use axum::serve::ListenerExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = accepted.clone();
    let listener = listener.tap_io(move |_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        siosim_server::serve(listener, &siosim_server::Config::default(), async move {
            let _ = stopped.await;
        })
        .await
    });
    let page = crate::support::get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    stop.send(()).expect("server still running");
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returned after shutdown")
        .expect("no panic")
        .expect("serve returned Ok");
}

/// A DISCONNECT and a CONNECT for the main namespace in one POST: the socket
/// must have left the namespace by the time the CONNECT is read, or
/// socketioxide ignores the CONNECT as a duplicate and never answers it.
/// socketioxide spawns both the CONNECT and an ordinary disconnect handler;
/// a worker runs the task it spawned last first (tokio's LIFO slot), so
/// with one worker its own (async) disconnect handlers lose this race every
/// time. The reference's inline one cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_connect_right_behind_a_disconnect_is_answered() {
    use crate::support::{get, http};
    let server = Server::start().await;
    let open = get(server.addr, "/socket.io/?EIO=4&transport=polling")
        .await
        .text();
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an open packet with a sid")
        .to_owned();
    let session = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let post = async |body: &'static str| {
        let answer = http(server.addr, "POST", &session, Some("text/plain"), body).await;
        assert_eq!(answer.status, 200, "POST {body:?}: {}", answer.text());
    };
    post("40").await;
    let first = get(server.addr, &session).await.text();
    assert!(
        first.contains("40{\"sid\""),
        "no CONNECT answer in {first:?}"
    );

    post("41\u{1e}40").await;
    let answered = async {
        loop {
            let batch = get(server.addr, &session).await.text();
            if batch.contains("40{\"sid\"") {
                return batch;
            }
        }
    };
    tokio::time::timeout(DEADLINE, answered)
        .await
        .expect("the CONNECT after the DISCONNECT was never answered");
}
