//! Every MUST and SHOULD case is shown to fail on a deliberately broken
//! server: each witness server below is run against the whole suite, and
//! every graded case of `cases::all()` must earn FAILED (or NON-STRICT, for
//! a SHOULD) from at least one of them. A new case that no broken server
//! fails makes this test fail, naming it.
//!
//! The witnesses are the broken servers of the family tests (the lazy
//! Engine.IO server, the seed apps with one bug each, the misreporting
//! routes) and, below, the reference server with one part taken out: no
//! upgrade, `OK` for `ok`, the wrong Content-Type, a v4-style CONNECT
//! answer, nothing at the Socket.IO path; and three clusters: nodes that
//! share nothing, nodes that push the count their own increase got, and
//! nodes that subscribe to nothing again after the bus restarts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use siosim_conformance::runner::{self, RunOptions};
use siosim_conformance::{Severity, SimServer, SuiteReport, Target, Verdict, cases};
use siosim_harness::BusDriver;
use siosim_server::Config;
use siosim_server::cluster::{CountStore, Counting, StoreFuture};

use super::{cases_app, cases_engineio, cases_faults, cases_socketio};

/// The largest polling body the mutating middlewares read.
const BODY_LIMIT: usize = 4 << 20;

fn run_all(server: SimServer) -> SuiteReport {
    let options = RunOptions {
        timeout: Duration::from_secs(10),
        jobs: 2,
        connect_timeout: Some(Duration::from_millis(Config::default().connect_timeout_ms)),
        ..RunOptions::default()
    };
    runner::run(
        &cases::all(),
        &Target::Sim { seed: 3, server },
        &options,
        |_| {},
    )
    .expect("a simulated target always runs")
}

fn sim(name: &str, app: impl Fn() -> Router + Send + Sync + 'static) -> SimServer {
    SimServer {
        name: name.into(),
        path: "/socket.io".into(),
        app: Arc::new(app),
        cluster: None,
    }
}

/// The reference app behind `middleware`.
fn reference_with<F, Fut>(name: &str, middleware: F) -> SimServer
where
    F: Fn(Request, Next) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    sim(name, move || {
        siosim_server::app(&Config::default()).layer(axum::middleware::from_fn(middleware.clone()))
    })
}

fn is_websocket_with_sid(request: &Request) -> bool {
    let query = request.uri().query().unwrap_or_default();
    query.contains("transport=websocket") && query.contains("sid=")
}

/// Refuses every upgrade: a WebSocket request naming a session gets 400.
async fn refuse_upgrades(request: Request, next: Next) -> Response {
    if is_websocket_with_sid(&request) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    next.run(request).await
}

/// Answers a polling POST's `ok` as `OK` (as python-engineio does).
async fn shout_ok(request: Request, next: Next) -> Response {
    let post = request.method() == Method::POST;
    let response = next.run(request).await;
    if !post {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let body = if body.as_ref() == b"ok" {
        Body::from("OK")
    } else {
        Body::from(body)
    };
    Response::from_parts(parts, body)
}

/// Labels every polling answer `application/octet-stream`.
async fn octet_stream(request: Request, next: Next) -> Response {
    let polling = request
        .uri()
        .query()
        .unwrap_or_default()
        .contains("transport=polling");
    let mut response = next.run(request).await;
    if polling {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    response
}

/// Serves the Socket.IO path at every path, and nothing at its own: a
/// server configured with another path, or a reverse proxy gone wrong.
async fn socketio_everywhere_but_home(mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/socket.io") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if path != "/" && !path.starts_with("/api") {
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(uri) = format!("/socket.io/{query}").parse() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

/// An Engine.IO server whose Socket.IO layer answers a CONNECT as v4 did:
/// `40` with no payload, so no socket id. Pings as it should.
fn v4_connect_engine() -> Router {
    Router::new().route(
        "/socket.io/",
        any(|upgrade: Result<WebSocketUpgrade, _>| async move {
            match upgrade {
                Ok(upgrade) => upgrade.on_upgrade(answer_v4_connect).into_response(),
                Err::<_, axum::extract::ws::rejection::WebSocketUpgradeRejection>(_) => {
                    StatusCode::BAD_REQUEST.into_response()
                }
            }
        }),
    )
}

async fn answer_v4_connect(mut socket: WebSocket) {
    let open = r#"0{"sid":"v4","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    if socket.send(Message::text(open)).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        if message == Message::text("40") && socket.send(Message::text("40")).await.is_err() {
            return;
        }
    }
}

/// Every broken server the suite is run against.
fn witnesses() -> Vec<SimServer> {
    let lazy = match cases_engineio::lazy_target(cases_engineio::LAZY_POLLING_OPEN) {
        Target::Sim { server, .. } => server,
        Target::Url { .. } => unreachable!("lazy_target is simulated"),
    };
    vec![
        lazy,
        cases_socketio::tiny_server("no-echo", |_| {}),
        cases_app::server("chat-skips-sender", || {
            cases_app::tiny_app(cases_app::Bug::ChatSkipsTheSender)
        }),
        cases_app::server("chat-copies-per-recipient", || {
            cases_app::tiny_app(cases_app::Bug::ChatCopiesPerRecipient)
        }),
        cases_app::server("misreporting", cases_app::misreporting_app),
        cases_faults::buggy(cases_faults::Bug::RelaysTwice),
        cases_faults::buggy(cases_faults::Bug::IgnoresRooms),
        reference_with("no-upgrade", refuse_upgrades),
        reference_with("shouts-ok", shout_ok),
        reference_with("octet-stream", octet_stream),
        reference_with("socketio-everywhere-but-home", socketio_everywhere_but_home),
        sim("v4-connect", v4_connect_engine),
        // Nothing in front of engineioxide: socket ids drive sessions, and
        // frames up to 16 MiB are read whole.
        sim("bare-socketioxide", cases_engineio::bare_socketioxide),
        // Reference nodes with no adapter between them: a cluster sharing
        // nothing, for the `cluster` cases.
        SimServer {
            cluster: Some(Arc::new(|_: &siosim_harness::ClusterNode| {
                siosim_server::app(&Config::default())
            })),
            ..sim(
                "unshared-cluster",
                || siosim_server::app(&Config::default()),
            )
        },
        // The count shared, but each node pushing the value its own increase
        // got: two nodes' pushes reach a socket in either order.
        // Nodes that connect to the bus again after it restarts but
        // subscribe to nothing: deaf to each other from then on.
        SimServer {
            cluster: Some(forgetting_their_subscriptions()),
            ..sim("cluster-forgets-subscriptions", || {
                siosim_server::app(&Config::default())
            })
        },
        SimServer {
            cluster: Some(emitting_their_own_count()),
            ..sim("cluster-emits-own-count", || {
                siosim_server::app(&Config::default())
            })
        },
    ]
}

/// Reference cluster nodes whose bus driver does not subscribe again once
/// its connection is lost.
fn forgetting_their_subscriptions() -> siosim_harness::NodeFactory {
    Arc::new(|_: &siosim_harness::ClusterNode| {
        let driver = BusDriver::forgetting_subscriptions();
        let store = Arc::new(BusCount(driver.clone()));
        siosim_server::cluster::node(&Config::default(), driver, store, Counting::Shared)
    })
}

/// Cluster nodes over the simulated bus, the count in the bus (`INCR`) but
/// pushed as each node's increase got it.
fn emitting_their_own_count() -> siosim_harness::NodeFactory {
    Arc::new(|_: &siosim_harness::ClusterNode| {
        let driver = BusDriver::new();
        siosim_server::cluster::node(
            &Config::default(),
            driver.clone(),
            Arc::new(BusCount(driver)),
            Counting::EmitsItsOwn,
        )
    })
}

/// The cluster's count in the simulated bus.
struct BusCount(BusDriver);

impl CountStore for BusCount {
    fn increment(&self) -> StoreFuture<'_> {
        Box::pin(async move {
            let count = self.0.incr("count").await.map_err(|e| e.to_string())?;
            Ok(count.unsigned_abs())
        })
    }
    fn current(&self) -> StoreFuture<'_> {
        Box::pin(async move {
            let count = self.0.get("count").await.map_err(|e| e.to_string())?;
            Ok(count.unsigned_abs())
        })
    }
}

/// A bare socketioxide app served over real TCP on 127.0.0.1 by
/// `axum::serve`, which sets no deadline on a request's head or body: the
/// witness for the cases simulation cannot judge. Stops when dropped.
struct BareOverTcp {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BareOverTcp {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let serve = axum::serve(listener, cases_engineio::bare_socketioxide());
                tokio::select! {
                    _ = serve.into_future() => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for BareOverTcp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `names` over TCP against [`BareOverTcp`].
fn run_over_tcp(names: &[&str]) -> SuiteReport {
    let server = BareOverTcp::start();
    let options = RunOptions {
        patterns: names.iter().map(|name| (*name).to_owned()).collect(),
        timeout: Duration::from_secs(10),
        jobs: 2,
        ..RunOptions::default()
    };
    let target = Target::Url {
        url: server.url.clone(),
        path: "/socket.io".into(),
    };
    runner::run(&cases::all(), &target, &options, |_| {}).expect("the loopback server runs")
}

#[test]
fn every_graded_case_fails_on_some_broken_server() {
    let mut caught: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut judged_in_simulation = std::collections::BTreeSet::new();
    let mut witness = |name: &str, case: siosim_conformance::CaseReport| {
        if matches!(case.verdict, Verdict::Failed | Verdict::NonStrict) {
            caught
                .entry(case.name)
                .or_default()
                .push(format!("{name}: {}", case.reason));
        }
    };
    for server in witnesses() {
        let name = server.name.clone();
        for case in run_all(server).cases {
            if case.verdict != Verdict::NotApplicable {
                judged_in_simulation.insert(case.name);
            }
            witness(&name, case);
        }
    }
    let tcp_only: Vec<&str> = cases::all()
        .iter()
        .map(|case| case.name)
        .filter(|name| !judged_in_simulation.contains(name))
        .collect();
    for case in run_over_tcp(&tcp_only).cases {
        witness("bare-socketioxide over TCP", case);
    }
    let mut unwitnessed = Vec::new();
    for case in cases::all() {
        let graded = matches!(case.severity, Severity::Must | Severity::Should);
        if graded && !caught.contains_key(case.name) {
            unwitnessed.push(case.name);
        }
        if let Some(witnesses) = caught.get(case.name) {
            println!("{} <- {}", case.name, witnesses.join(" | "));
        }
    }
    assert!(
        unwitnessed.is_empty(),
        "no broken server fails these cases: {unwitnessed:#?}"
    );
}

#[test]
fn nodes_deaf_after_a_bus_restart_fail_the_restart_case_only() {
    let server = SimServer {
        cluster: Some(forgetting_their_subscriptions()),
        ..sim("cluster-forgets-subscriptions", || {
            siosim_server::app(&Config::default())
        })
    };
    let options = RunOptions {
        patterns: vec!["cluster::*".into()],
        jobs: 2,
        ..RunOptions::default()
    };
    let report = runner::run(
        &cases::all(),
        &Target::Sim { seed: 3, server },
        &options,
        |_| {},
    )
    .expect("a simulated target always runs");
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|case| case.verdict != Verdict::Passed)
        .map(|case| case.name)
        .collect();
    assert_eq!(
        failed,
        ["cluster::redis::restart::loses_no_socket_and_nodes_hear_each_other_again"],
        "{:?}",
        report
            .cases
            .iter()
            .map(|c| (c.name, c.verdict, &c.reason))
            .collect::<Vec<_>>()
    );
}
