//! The reference server, in process, under any sequence of Engine.IO
//! long-polling requests from one hostile session: it never panics (a
//! panic anywhere, spawned handlers included, aborts the fuzzer), and an
//! honest client on the same server still gets its increment acked.
//!
//! Each input is split at `0xFF` bytes into requests; a request's first
//! byte picks what it is (a POST of the rest as text or as binary, a GET, a
//! fresh handshake, a POST naming the honest session), its rest is the body.
//! Time is tokio's paused clock, so a long poll ends at once.
#![no_main]

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

/// Most requests one input makes, and the most body bytes read of an answer.
const MAX_REQUESTS: usize = 64;
const MAX_ANSWER: usize = 4 << 20;
/// Polls the honest client makes for its ack.
const MAX_POLLS: usize = 8;
/// How long a request may take in (paused, simulated) time.
const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
}

fuzz_target!(|data: &[u8]| {
    RUNTIME.with(|runtime| runtime.block_on(play(data)));
});

async fn play(data: &[u8]) {
    // A heartbeat longer than any input plays: the honest client answers no
    // ping, and must not be dropped for that.
    let config = siosim_server::Config {
        ping_interval_ms: 3_600_000,
        ping_timeout_ms: 3_600_000,
        connect_timeout_ms: 3_600_000,
        ..siosim_server::Config::default()
    };
    let app = siosim_server::app(&config);
    let Some(honest) = handshake(&app).await else {
        panic!("the honest client's handshake failed");
    };
    let joined = request(
        &app,
        Method::POST,
        &honest,
        "text/plain;charset=UTF-8",
        b"40",
    )
    .await;
    assert!(
        joined.starts_with("200"),
        "the honest client could not join: {joined}"
    );
    // As a real client, it emits only once its CONNECT is answered.
    poll_until(&app, &honest, "40{", "its CONNECT answered").await;
    let mut hostile = handshake(&app).await.unwrap_or_default();
    for chunk in data.split(|byte| *byte == 0xFF).take(MAX_REQUESTS) {
        let Some((&kind, body)) = chunk.split_first() else {
            continue;
        };
        match kind % 5 {
            0 => drop(
                request(
                    &app,
                    Method::POST,
                    &hostile,
                    "text/plain;charset=UTF-8",
                    body,
                )
                .await,
            ),
            1 => drop(
                request(
                    &app,
                    Method::POST,
                    &hostile,
                    "application/octet-stream",
                    body,
                )
                .await,
            ),
            2 => drop(request(&app, Method::GET, &hostile, "text/plain", b"").await),
            3 => hostile = handshake(&app).await.unwrap_or_default(),
            // The honest session's own id, as an attacker who learned it
            // would use it (the server hands out aliases, so this is a
            // guess at best).
            _ => drop(
                request(
                    &app,
                    Method::POST,
                    &format!("{hostile}x"),
                    "text/plain;charset=UTF-8",
                    body,
                )
                .await,
            ),
        }
    }
    let sent = request(
        &app,
        Method::POST,
        &honest,
        "text/plain;charset=UTF-8",
        br#"421["increase count"]"#,
    )
    .await;
    assert!(
        sent.starts_with("200"),
        "the honest client's emit was refused: {sent}"
    );
    poll_until(&app, &honest, "431[", "its increment acked").await;
    // Both sessions end, as their clients would, so that nothing of this
    // input outlives it.
    for sid in [&honest, &hostile] {
        request(&app, Method::POST, sid, "text/plain;charset=UTF-8", b"1").await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Polls the honest session (answering pings) until an answer contains
/// `wanted`; panics if the session breaks or [`MAX_POLLS`] go by.
async fn poll_until(app: &Router, sid: &str, wanted: &str, what: &str) {
    for _ in 0..MAX_POLLS {
        let answer = request(app, Method::GET, sid, "text/plain", b"").await;
        assert!(
            answer.starts_with("200"),
            "the honest client's session broke: {answer}"
        );
        if answer.contains(wanted) {
            return;
        }
        let body = answer.split_once(' ').map_or("", |(_, body)| body);
        if body.split('\u{1e}').any(|packet| packet == "2") {
            request(app, Method::POST, sid, "text/plain;charset=UTF-8", b"3").await;
        }
    }
    panic!("the honest client never got {what}");
}

/// A polling handshake: the session id, if the server opened one.
async fn handshake(app: &Router) -> Option<String> {
    let answer = exchange(
        app,
        Method::GET,
        "/socket.io/?EIO=4&transport=polling",
        "text/plain",
        b"",
    )
    .await;
    let sid = answer.split("\"sid\":\"").nth(1)?.split('"').next()?;
    Some(sid.to_owned())
}

/// One request naming session `sid`: "STATUS body".
async fn request(
    app: &Router,
    method: Method,
    sid: &str,
    content_type: &str,
    body: &[u8],
) -> String {
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    exchange(app, method, &target, content_type, body).await
}

async fn exchange(
    app: &Router,
    method: Method,
    target: &str,
    content_type: &str,
    body: &[u8],
) -> String {
    let Ok(request) = Request::builder()
        .method(method)
        .uri(target)
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
    else {
        return String::new();
    };
    let call = app.clone().oneshot(request);
    let Ok(Ok(response)) = tokio::time::timeout(REQUEST_DEADLINE, call).await else {
        return "no answer".to_owned();
    };
    let status = response.status().as_u16();
    let body = to_bytes(response.into_body(), MAX_ANSWER)
        .await
        .unwrap_or_default();
    format!("{status} {}", String::from_utf8_lossy(&body))
}
