//! Shared test plumbing: an in-process server on loopback, the official
//! socket.io-client driven through `scripts/sio-driver.mjs`, a tiny HTTP
//! client, and a deadline for every wait.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use siosim_server::Config;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long any single expected observation may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The two transports every Socket.IO behaviour is checked over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Websocket,
    Polling,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Websocket => "websocket",
            Transport::Polling => "polling",
        }
    }
}

/// Generates `mod $name { websocket, polling }` tests calling `$name(transport)`.
macro_rules! both_transports {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn websocket() {
                super::$name(crate::support::Transport::Websocket).await;
            }
            #[tokio::test]
            async fn polling() {
                super::$name(crate::support::Transport::Polling).await;
            }
        }
    )*};
}
pub(crate) use both_transports;

/// The seed app served in-process on `127.0.0.1:<free port>`.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let serve_config = config.clone();
        let task = tokio::spawn(async move {
            siosim_server::serve(listener, &serve_config, async move {
                // A dropped sender (test over) also shuts down.
                let _ = signal.await;
            })
            .await
        });
        Server {
            addr,
            config,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Triggers graceful shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let task = self.task.take().expect("server task present until stop");
        tokio::time::timeout(DEADLINE, task)
            .await
            .expect("serve returned within the deadline after shutdown")
            .expect("serve task did not panic")
    }
}

/// Where the Node helpers live, and a clear failure if they are not set up.
pub fn scripts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        node_ok,
        "node is not installed or not on PATH: run scripts/setup (as root) first"
    );
    for package in ["socket.io-client", "playwright-core"] {
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "scripts/node_modules/{package} is missing: run scripts/setup first"
        );
    }
    dir
}

/// The official socket.io-client, driven through `scripts/sio-driver.mjs`.
///
/// Every observation the driver prints is kept in `seen`, so a test can
/// assert that something did *not* happen after it has waited for a later
/// observation that proves the unwanted one would have arrived first.
#[derive(Debug)]
pub struct Driver {
    stdin: ChildStdin,
    observations: mpsc::UnboundedReceiver<Value>,
    /// Every observation so far, and whether a wait has already claimed it.
    seen: Vec<(Value, bool)>,
    stderr: Arc<Mutex<String>>,
    next_tag: u64,
    _child: Child,
}

impl Driver {
    pub async fn spawn() -> Driver {
        let dir = scripts_dir();
        let mut child = Command::new("node")
            .arg(dir.join("sio-driver.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn node scripts/sio-driver.mjs (run scripts/setup?)");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, observations) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({"type": "unparsed", "line": line}));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = String::new();
            let _ = stderr_pipe.read_to_string(&mut buf).await;
            sink.lock().expect("stderr lock").push_str(&buf);
        });
        Driver {
            stdin,
            observations,
            seen: Vec::new(),
            stderr,
            next_tag: 0,
            _child: child,
        }
    }

    pub async fn send(&mut self, command: Value) {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write a command to the driver");
        self.stdin.flush().await.expect("flush driver stdin");
    }

    /// Connects `client` and returns its socket id once connected.
    pub async fn connect(&mut self, client: &str, server: &Server, transport: Transport) -> String {
        self.connect_at(client, server, &server.config.socketio_path, transport)
            .await
    }

    pub async fn connect_at(
        &mut self,
        client: &str,
        server: &Server,
        path: &str,
        transport: Transport,
    ) -> String {
        self.send(json!({
            "op": "connect", "client": client, "url": server.url(),
            "path": path, "transports": [transport.name()],
        }))
        .await;
        let connected = self
            .expect(&format!("{client} connects"), |o| {
                is(o, client, "connect") || is(o, client, "connect_error")
            })
            .await;
        assert_eq!(connected["type"], "connect", "{client} failed: {connected}");
        assert_eq!(connected["transport"], transport.name());
        connected["id"]
            .as_str()
            .expect("connect observation has an id")
            .to_owned()
    }

    /// Emits without asking for an ack.
    pub async fn emit(&mut self, client: &str, event: &str, args: Value) {
        self.send(json!({"op": "emit", "client": client, "event": event, "args": args}))
            .await;
    }

    /// Emits asking for an ack, and returns the ack's arguments.
    pub async fn emit_ack(&mut self, client: &str, event: &str, args: Value) -> Vec<Value> {
        self.next_tag += 1;
        let tag = format!("t{}", self.next_tag);
        self.send(json!({
            "op": "emit", "client": client, "event": event, "args": args,
            "ack": true, "tag": tag,
        }))
        .await;
        let ack = self
            .expect(&format!("{client} gets the ack of {event:?}"), |o| {
                is(o, client, "ack") && o["tag"] == tag.as_str()
            })
            .await;
        ack["args"].as_array().cloned().unwrap_or_default()
    }

    pub async fn disconnect(&mut self, client: &str) {
        self.send(json!({"op": "disconnect", "client": client}))
            .await;
    }

    /// Waits for `client` to receive `event` with exactly `args`.
    pub async fn expect_event(&mut self, client: &str, event: &str, args: Value) -> Value {
        self.expect(&format!("{client} receives {event:?} {args}"), |o| {
            is(o, client, "event") && o["event"] == event && o["args"] == args
        })
        .await
    }

    /// Waits for the first not-yet-claimed observation matching `wanted`,
    /// claims it and returns it; fails the test after `DEADLINE`.
    pub async fn expect(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut checked = 0;
        loop {
            for (observation, claimed) in &mut self.seen[checked..] {
                if !*claimed && wanted(observation) {
                    *claimed = true;
                    return observation.clone();
                }
            }
            checked = self.seen.len();
            match tokio::time::timeout_at(deadline, self.observations.recv()).await {
                Ok(Some(observation)) => {
                    assert_ne!(
                        observation["type"], "error",
                        "driver refused a command: {observation}"
                    );
                    self.seen.push((observation, false));
                }
                Ok(None) => panic!(
                    "driver exited while waiting for: {what}\nstderr: {}\nseen: {:#?}",
                    self.stderr(),
                    self.all()
                ),
                Err(_) => panic!(
                    "timed out after {DEADLINE:?} waiting for: {what}\nseen: {:#?}\nstderr: {}",
                    self.all(),
                    self.stderr()
                ),
            }
        }
    }

    /// Every observation so far matching `pred`, claimed or not. Only
    /// meaningful after a barrier (see the type's doc).
    pub fn matching(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        while let Ok(observation) = self.observations.try_recv() {
            self.seen.push((observation, false));
        }
        self.seen
            .iter()
            .map(|(observation, _)| observation)
            .filter(|observation| pred(observation))
            .cloned()
            .collect()
    }

    /// Asserts that no observation so far matches `pred`.
    pub fn assert_none(&mut self, what: &str, pred: impl Fn(&Value) -> bool) {
        let found = self.matching(pred);
        assert!(found.is_empty(), "unexpected {what}: {found:#?}");
    }

    /// The events `client` has received under `event`, as their arg lists.
    pub fn events_of(&mut self, client: &str, event: &str) -> Vec<Value> {
        self.matching(|o| is(o, client, "event") && o["event"] == event)
            .into_iter()
            .map(|o| o["args"].clone())
            .collect()
    }

    fn all(&self) -> Vec<&Value> {
        self.seen
            .iter()
            .map(|(observation, _)| observation)
            .collect()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }
}

/// Whether `observation` is of `kind` and about `client`.
pub fn is(observation: &Value, client: &str, kind: &str) -> bool {
    observation["client"] == client && observation["type"] == kind
}

/// A received `event` for `client`.
pub fn event_for(client: &'static str, event: &'static str) -> impl Fn(&Value) -> bool {
    move |o| is(o, client, "event") && o["event"] == event
}

/// `{"ok": true}`, the success ack.
pub fn ok_ack() -> Vec<Value> {
    vec![json!({"ok": true})]
}

/// Asserts that an ack is a single `{"error": "<non-empty>"}`.
pub fn assert_error_ack(ack: &[Value], context: &str) {
    assert_eq!(
        ack.len(),
        1,
        "{context}: one ack argument expected, got {ack:?}"
    );
    let error = ack[0]["error"].as_str();
    assert!(
        error.is_some_and(|e| !e.is_empty()),
        "{context}: expected an error ack, got {ack:?}"
    );
}

/// One HTTP/1.1 response, body collected.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {:?}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request over a fresh connection.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
) -> HttpResponse {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.expect("connect to server");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, addr.to_string());
        if let Some(content_type) = content_type {
            request = request.header(http::header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Full::new(body.into())).expect("valid request");
        let response = sender.send_request(request).await.expect("HTTP response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        HttpResponse {
            status,
            content_type,
            body,
        }
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} timed out"))
}

pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http(addr, "GET", path, None, Bytes::new()).await
}

pub async fn post_json(addr: SocketAddr, path: &str, body: &Value) -> HttpResponse {
    http(
        addr,
        "POST",
        path,
        Some("application/json"),
        body.to_string(),
    )
    .await
}
