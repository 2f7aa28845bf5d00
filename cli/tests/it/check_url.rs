//! `siosim check --url` as a user meets it: the preflight's one line and
//! exit code for each way a server can be unusable, a server that dies
//! mid-run, runs in which no case would run, flags refused before anything
//! runs, and servers that need credentials (issue 9).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde_json::Value;
use siosim::exit_code::Exit;
use siosim_conformance::runner::{self, RunOptions};
use siosim_conformance::{CaseOutcome, Clause, Probe, Profile, Spec, Target, Verdict};
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cli::siosim;

const USAGE: i32 = Exit::Usage.code() as i32;
const UNUSABLE: i32 = Exit::ServerUnusable.code() as i32;

/// The header and CONNECT payload the guarded server wants.
const KEY_HEADER: &str = "x-siosim-key";
const KEY: &str = "k3y";
const TOKEN: &str = r#"{"token":"s3cret"}"#;

/// A server on 127.0.0.1 on its own thread and runtime, stopped when dropped.
struct LiveServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveServer {
    /// Runs `serve` on a fresh listener until the server is dropped.
    fn start<F>(
        serve: impl FnOnce(TcpListener, oneshot::Receiver<()>) -> F + Send + 'static,
    ) -> Self
    where
        F: std::future::Future<Output = ()>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
                addr_tx
                    .send(listener.local_addr().expect("an address"))
                    .ok();
                serve(listener, stopped).await;
            });
        });
        let addr = addr_rx.recv().expect("the server's address");
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Serves `router` (HTTP and WebSocket) until dropped.
    fn router(router: Router) -> Self {
        Self::start(move |listener, stopped| async move {
            let shutdown = async {
                stopped.await.ok();
            };
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
                .ok();
        })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        // A graceful shutdown waits for open connections; a test's server
        // must not hold the test up, so it is left to end with the process.
        drop(self.thread.take());
    }
}

/// A socketioxide server with the test suites' short timers, `/` and
/// `/custom`; `guarded` wants [`KEY_HEADER`] on every request and [`TOKEN`]
/// in every CONNECT.
fn socketio_app(guarded: bool) -> Router {
    let (layer, io) = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(1000))
        .build_layer();
    for namespace in ["/", "/custom"] {
        if guarded {
            io.ns(namespace, joined.with(token_required));
        } else {
            io.ns(namespace, joined);
        }
    }
    let router = Router::new().layer(layer);
    if guarded {
        router.layer(axum::middleware::from_fn(key_required))
    } else {
        router
    }
}

async fn joined(_socket: SocketRef) {}

#[derive(Debug)]
struct Unauthorized;

impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unauthorized")
    }
}

impl std::error::Error for Unauthorized {}

async fn token_required(TryData(auth): TryData<Value>) -> Result<(), Unauthorized> {
    let wanted: Value = serde_json::from_str(TOKEN).expect("the token is JSON");
    match auth {
        Ok(auth) if auth == wanted => Ok(()),
        _ => Err(Unauthorized),
    }
}

async fn key_required(request: Request, next: Next) -> Response {
    match request.headers().get(KEY_HEADER) {
        Some(value) if value == KEY => next.run(request).await,
        _ => (StatusCode::UNAUTHORIZED, "no key").into_response(),
    }
}

/// The one `preflight FAILED:` line of a run, asserting there is exactly one.
fn preflight_failure(stdout: &str) -> &str {
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("preflight FAILED: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(
        stdout.lines().count(),
        1,
        "the preflight line is all a run against an unusable server prints: {stdout}"
    );
    lines[0]
}

/// A port on which nothing listens.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.local_addr().expect("an address").port()
}

#[test]
fn nothing_listening_is_one_line_and_the_server_unusable_code() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, stdout, stderr) = siosim(&["check", "--url", &url]);
    assert_eq!(code, UNUSABLE, "{stdout}{stderr}");
    let line = preflight_failure(&stdout);
    assert!(line.contains("nothing listening at 127.0.0.1:"), "{line}");
    assert!(line.contains("refused"), "{line}");
}

#[test]
fn a_plain_web_server_is_not_engine_io() {
    let html = LiveServer::router(Router::new().fallback(|| async {
        (
            StatusCode::NOT_FOUND,
            [("content-type", "text/html")],
            "<html>no</html>",
        )
    }));
    let (code, stdout, stderr) = siosim(&["check", "--url", &html.url()]);
    assert_eq!(code, UNUSABLE, "{stdout}{stderr}");
    let line = preflight_failure(&stdout);
    assert!(
        line.contains("no Engine.IO server at --path /socket.io"),
        "{line}"
    );
    assert!(
        line.contains("404 (text/html) \"<html>no</html>\""),
        "{line}"
    );
    assert!(line.contains("nor at /socket.io-client"), "{line}");

    let ok_page = LiveServer::router(Router::new().fallback(|| async { "hello" }));
    let (code, stdout, _) = siosim(&["check", "--url", &ok_page.url()]);
    assert_eq!(code, UNUSABLE, "{stdout}");
    let line = preflight_failure(&stdout);
    assert!(
        line.contains(
            "answered 200 (text/plain; charset=utf-8) \"hello\", not an Engine.IO OPEN packet"
        ),
        "{line}"
    );
}

#[test]
fn a_wrong_path_names_the_common_path_that_answers() {
    let server = LiveServer::router(socketio_app(false));
    let (code, stdout, stderr) = siosim(&["check", "--url", &server.url(), "--path", "/io"]);
    assert_eq!(code, UNUSABLE, "{stdout}{stderr}");
    let line = preflight_failure(&stdout);
    assert!(line.contains("no Engine.IO server at --path /io"), "{line}");
    assert!(
        line.contains("--path /socket.io answers an Engine.IO handshake"),
        "{line}"
    );
}

#[test]
fn a_server_that_accepts_tcp_but_never_answers_is_declared_dead_by_the_preflight() {
    let silent = LiveServer::start(|listener, stopped| async move {
        let mut held = Vec::new();
        let accept = async {
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        };
        tokio::select! {
            () = accept => {},
            _ = stopped => {},
        }
    });
    let (code, stdout, stderr) = siosim(&["check", "--url", &silent.url()]);
    assert_eq!(code, UNUSABLE, "{stdout}{stderr}");
    let line = preflight_failure(&stdout);
    assert!(
        line.contains("accepts TCP connections but did not answer GET /socket.io/?EIO=4&transport=polling within 5000 ms"),
        "{line}"
    );
}

#[test]
fn credentials_make_a_guarded_server_as_checkable_as_an_open_one() {
    let guarded = LiveServer::router(socketio_app(true));
    let url = guarded.url();
    let header = format!("{KEY_HEADER}:{KEY}");

    let (code, stdout, _) = siosim(&["check", "--url", &url]);
    assert_eq!(code, UNUSABLE, "{stdout}");
    let line = preflight_failure(&stdout);
    assert!(line.contains("was refused with 401"), "{line}");
    assert!(line.contains("--header NAME:VALUE"), "{line}");

    let (code, stdout, _) = siosim(&["check", "--url", &url, "--header", &header]);
    assert_eq!(code, UNUSABLE, "{stdout}");
    let line = preflight_failure(&stdout);
    assert!(
        line.contains(
            r#"the server refuses CONNECT to /: it answered 44{"message":"unauthorized"}"#
        ),
        "{line}"
    );
    assert!(line.contains("--auth JSON"), "{line}");

    let wrong = r#"{"token":"wrong"}"#;
    let (code, stdout, _) = siosim(&["check", "--url", &url, "--header", &header, "--auth", wrong]);
    assert_eq!(code, UNUSABLE, "{stdout}");
    let line = preflight_failure(&stdout);
    assert!(
        line.ends_with(&format!("even with --auth {wrong}")),
        "{line}"
    );

    let open = LiveServer::router(socketio_app(false));
    let open_verdicts = verdicts(&open.url(), &[]);
    let guarded_verdicts = verdicts(&url, &["--header", &header, "--auth", TOKEN]);
    assert_eq!(guarded_verdicts.len(), open_verdicts.len());
    // A verdict that differs because the guard refused something means the
    // credentials did not reach that request or CONNECT. (Two live runs may
    // also differ where a case races the server's spawned handlers or its
    // heartbeat under load; such a difference meets no guard and is not
    // what this test is about.)
    let refused: Vec<_> = guarded_verdicts
        .iter()
        .zip(&open_verdicts)
        .filter(|(guarded, open)| guarded.verdict != open.verdict && guarded.met_the_guard())
        // The case about a non-object CONNECT payload sends its own, which
        // the guard refuses for want of the token: PASSED where the open
        // server's acceptance is NON-STRICT.
        .filter(|(guarded, _)| !guarded.name.contains("connect::invalid_payload::refused"))
        .map(|(guarded, open)| (&guarded.name, &guarded.verdict, &open.verdict))
        .collect();
    assert!(
        refused.is_empty(),
        "with --header and --auth the guard refused nothing, yet: {refused:?}"
    );
    let passed = |verdicts: &[Judged]| {
        verdicts
            .iter()
            .filter(|j| j.verdict == "\"PASSED\"")
            .count()
    };
    assert!(
        passed(&guarded_verdicts) + 2 >= passed(&open_verdicts) && passed(&guarded_verdicts) > 40,
        "the guarded server passed {} cases, the open one {}",
        passed(&guarded_verdicts),
        passed(&open_verdicts)
    );
}

/// Each case's verdict from `siosim check --url URL` (protocol profile).
fn verdicts(url: &str, extra: &[&str]) -> Vec<Judged> {
    let dir = std::env::temp_dir().join(format!("siosim-check-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let json = dir.join(format!("{}.json", url.replace([':', '/', '.'], "_")));
    let json_arg = json.to_str().expect("a UTF-8 path");
    let mut args = vec![
        "check",
        "--url",
        url,
        "--timeout-ms",
        "2000",
        "--json",
        json_arg,
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = siosim(&args);
    assert!(code == 0 || code == 1, "{code}: {stdout}{stderr}");
    assert!(
        stdout.starts_with("preflight: Engine.IO at /socket.io"),
        "{stdout}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("JSON");
    report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Judged {
            name: c["name"].to_string(),
            verdict: c["verdict"].to_string(),
            evidence: format!("{} {}", c["reason"], c["trace"]),
        })
        .collect()
}

/// One case of a JSON report: its verdict, and its reason and trace.
#[derive(Debug)]
struct Judged {
    name: String,
    verdict: String,
    evidence: String,
}

impl Judged {
    /// Whether the guard refused something in this case: a request without
    /// the header (401) or a CONNECT without the token (`unauthorized`).
    fn met_the_guard(&self) -> bool {
        self.evidence.contains("unauthorized") || self.evidence.contains("401")
    }
}

#[test]
fn a_server_that_dies_mid_run_is_named_once_and_the_rest_do_not_count() {
    let server = LiveServer::router(socketio_app(false));
    let upstream = server.addr;
    // A proxy that forwards 40 connections, then closes its port and every
    // connection: the server, as the check sees it, is gone.
    let dying = LiveServer::start(move |listener, stopped| async move {
        let mut forwarded = tokio::task::JoinSet::new();
        let accept = async {
            for _ in 0..40 {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                forwarded.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        tokio::io::copy_bidirectional(&mut client, &mut server)
                            .await
                            .ok();
                    }
                });
            }
        };
        tokio::select! {
            () = accept => {},
            _ = stopped => {},
        }
        drop(listener);
        forwarded.abort_all();
    });
    let (code, stdout, stderr) = siosim(&["check", "--url", &dying.url(), "--timeout-ms", "2000"]);
    assert_eq!(code, UNUSABLE, "{stdout}{stderr}");
    let lost: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("the server stopped answering during "))
        .collect();
    assert_eq!(lost.len(), 1, "{stdout}");
    assert!(lost[0].contains("refuses connections"), "{}", lost[0]);
    let during = lost[0]
        .strip_prefix("the server stopped answering during ")
        .and_then(|rest| rest.split(": ").next())
        .expect("a case name");
    assert!(
        during.starts_with("engineio::") || during.starts_with("socketio::"),
        "{during}"
    );
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains(during) && !l.starts_with("the ")),
        "the case during which the server died has no verdict: {stdout}"
    );
}

#[test]
fn a_run_in_which_no_case_would_run_is_a_usage_error() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, stdout, stderr) = siosim(&[
        "check",
        "--url",
        &url,
        "--profile",
        "protocol",
        "--case",
        "app::*",
    ]);
    assert_eq!(code, USAGE, "{stdout}{stderr}");
    assert!(stderr.contains("no case would run: the "), "{stderr}");
    assert!(
        stderr.contains("selected cases all need a contract outside --profile protocol"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "refused before the preflight: {stdout}");
}

#[test]
fn bad_outputs_and_values_are_refused_before_anything_runs() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let refusals: [(&[&str], &str); 7] = [
        (
            &["--json", "/no/such/dir/x.json"],
            "cannot write /no/such/dir/x.json: /no/such/dir is not a directory",
        ),
        (
            &["--timeout-ms", "0"],
            "must be a whole number of at least 1",
        ),
        (&["--jobs", "0"], "must be a whole number of at least 1"),
        (&["--auth", "{not json"], "not JSON"),
        (&["--auth", "[1]"], "must be a JSON object"),
        (&["--header", "no colon"], "is not NAME:VALUE"),
        (&["--header", "bad name:x"], "is not a valid header name"),
    ];
    for (extra, message) in refusals {
        let mut args = vec!["check", "--url", &url];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = siosim(&args);
        assert_eq!(code, USAGE, "{extra:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{extra:?} refused before the preflight: {stdout}"
        );
    }
}

#[test]
fn the_reference_servers_flags_are_refused_with_a_url_and_credentials_without_one() {
    let url = format!("http://127.0.0.1:{}", free_port());
    for flag in [
        "--seed",
        "--ping-interval-ms",
        "--ping-timeout-ms",
        "--max-payload-bytes",
        "--port",
    ] {
        let (code, _, stderr) = siosim(&["check", "--url", &url, flag, "7"]);
        assert_eq!(code, USAGE, "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{flag} configures the reference server in simulation"
            )),
            "{flag}: {stderr}"
        );
    }
    let (code, _, stderr) = siosim(&["check", "--url", &url, "--host", "0.0.0.0"]);
    assert_eq!(code, USAGE, "{stderr}");
    // The connect timeout is a live server's declared one: accepted.
    let (code, stdout, _) = siosim(&["check", "--url", &url, "--connect-timeout-ms", "1000"]);
    assert_eq!(code, UNUSABLE, "{stdout}");
    let (code, _, stderr) = siosim(&["check", "--auth", TOKEN, "--case", "x"]);
    assert_eq!(code, USAGE, "{stderr}");
    assert!(
        stderr.contains("--auth applies only to a live server"),
        "{stderr}"
    );
}

/// How many cases run at this moment, and the most seen beside a protocol
/// case and beside an app case.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK_BESIDE_PROTOCOL: AtomicUsize = AtomicUsize::new(0);
static PEAK_BESIDE_APP: AtomicUsize = AtomicUsize::new(0);

/// Counts itself as running, lets every other started case run (a few
/// yields: each started case gets polled), notes the most running at once.
async fn overlapping(peak: &AtomicUsize) -> CaseOutcome {
    RUNNING.fetch_add(1, Ordering::SeqCst);
    for _ in 0..8 {
        peak.fetch_max(RUNNING.load(Ordering::SeqCst), Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    Ok(String::new())
}

async fn protocol_body(_probe: Probe) -> CaseOutcome {
    overlapping(&PEAK_BESIDE_PROTOCOL).await
}

async fn app_body(_probe: Probe) -> CaseOutcome {
    overlapping(&PEAK_BESIDE_APP).await
}

const ANY_RULE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "The seed-app contract",
    rule: "a stand-in for the scheduling test",
};

#[test]
fn protocol_cases_run_side_by_side_and_app_cases_alone_in_case_order() {
    let cases = vec![
        siosim_conformance::case!("overlap::p1", Must, Protocol, ANY_RULE, protocol_body),
        siosim_conformance::case!("overlap::p2", Must, Protocol, ANY_RULE, protocol_body),
        siosim_conformance::case!("overlap::p3", Must, Protocol, ANY_RULE, protocol_body),
        siosim_conformance::case!("overlap::a1", Must, App, ANY_RULE, app_body),
        siosim_conformance::case!("overlap::p4", Must, Protocol, ANY_RULE, protocol_body),
        siosim_conformance::case!("overlap::a2", Must, App, ANY_RULE, app_body),
        siosim_conformance::case!("overlap::p5", Must, Protocol, ANY_RULE, protocol_body),
        siosim_conformance::case!("overlap::p6", Must, Protocol, ANY_RULE, protocol_body),
    ];
    // The bodies never touch the server: any resolvable address will do.
    let target = Target::Url {
        url: format!("http://127.0.0.1:{}", free_port()),
        path: "/socket.io".into(),
    };
    let options = RunOptions {
        profiles: [Profile::Protocol, Profile::App].into_iter().collect(),
        jobs: 4,
        ..RunOptions::default()
    };
    let mut progress = Vec::new();
    let suite = runner::run(&cases, &target, &options, |case| progress.push(case.name))
        .expect("the target resolves");
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(progress, names, "progress comes in case order");
    assert!(suite.cases.iter().all(|c| c.verdict == Verdict::Passed));
    assert_eq!(
        PEAK_BESIDE_PROTOCOL.load(Ordering::SeqCst),
        3,
        "p1, p2 and p3 run at once; p4, p5 and p6 wait for the app cases"
    );
    assert_eq!(
        PEAK_BESIDE_APP.load(Ordering::SeqCst),
        1,
        "nothing runs beside an app case"
    );
}
