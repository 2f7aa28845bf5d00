//! Before any case runs against a live server: is something listening, is
//! it Engine.IO, at that path, and does it let a client join `/`? A server
//! that fails this gets one clear line instead of a hundred FAILED cases
//! that all say the same thing about the server rather than the protocol.

use std::time::Duration;

use siosim_harness::Transport;
use siosim_harness::client::HttpResponse;
use siosim_harness::codec::{EioPacket, Handshake};
use siosim_harness::trace::Recorder;

use crate::case::CaseError;
use crate::probe::{Probe, truncated};
use crate::target::{Credentials, LiveServer};

/// The longest the whole preflight may take: a server that accepts TCP but
/// never answers is declared dead within this, not after every case's wait.
pub const PREFLIGHT_BUDGET: Duration = Duration::from_secs(15);

/// The longest one preflight step waits: a live server answers a handshake
/// in milliseconds.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where servers commonly mount Engine.IO, tried when `--path` answers 404.
const COMMON_PATHS: [&str; 2] = ["/socket.io", "/socket.io-client"];

/// What the preflight found usable: the line to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usable(pub String);

/// Why the server cannot be checked: one line, for the console and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable(pub String);

/// Runs the preflight against `url` with Engine.IO at `path`, within
/// [`PREFLIGHT_BUDGET`].
pub fn preflight(
    url: &str,
    path: &str,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<Usable, Unusable> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Unusable(format!("starting a runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let step = timeout.min(STEP_TIMEOUT);
    local.block_on(&runtime, async {
        let checks = async {
            let server = LiveServer::resolve(url, path, credentials, step)
                .await
                .map_err(Unusable)?;
            Preflight { server, step }.run().await
        };
        tokio::time::timeout(PREFLIGHT_BUDGET, checks)
            .await
            .unwrap_or_else(|_| {
                Err(Unusable(format!(
                    "{url} did not complete an Engine.IO handshake and a CONNECT within {} s",
                    PREFLIGHT_BUDGET.as_secs()
                )))
            })
    })
}

struct Preflight {
    server: LiveServer,
    step: Duration,
}

impl Preflight {
    async fn run(&self) -> Result<Usable, Unusable> {
        self.listening().await?;
        let handshake = self.engine_io().await?;
        self.joins_main_namespace(handshake.as_ref()).await?;
        Ok(Usable(match handshake {
            Some(h) => format!(
                "Engine.IO at {} (pingInterval {} ms, pingTimeout {} ms, upgrades {:?}); CONNECT / accepted",
                self.server.path(),
                h.ping_interval_ms,
                h.ping_timeout_ms,
                h.upgrades
            ),
            None => format!(
                "Engine.IO at {} (long-polling refused); CONNECT / accepted over WebSocket",
                self.server.path()
            ),
        }))
    }

    fn probe(&self, server: &LiveServer) -> Probe {
        server.probe(Recorder::new(), self.step, None)
    }

    /// Something accepts TCP connections at the address.
    async fn listening(&self) -> Result<(), Unusable> {
        let addr = self.server.addr();
        match tokio::time::timeout(self.step, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(Unusable(format!("nothing listening at {addr}: {error}"))),
            Err(_) => Err(Unusable(format!(
                "{addr} accepted no TCP connection within {} ms",
                self.step.as_millis()
            ))),
        }
    }

    /// The path answers an Engine.IO v4 long-polling handshake; `None` if
    /// it answered with an Engine.IO error instead (polling disabled).
    async fn engine_io(&self) -> Result<Option<Handshake>, Unusable> {
        let probe = self.probe(&self.server);
        let target = probe.engine_target("EIO=4&transport=polling");
        let response = probe.get(&target).await.map_err(|error| {
            Unusable(match error {
                CaseError::Broken(why) if why.contains("no answer within") => format!(
                    "{} accepts TCP connections but did not answer GET {target} within {} ms",
                    self.server.addr(),
                    self.step.as_millis()
                ),
                other => format!("not a usable HTTP server: {other}"),
            })
        })?;
        match response.status {
            200 => match EioPacket::decode_text(&response.body_text()) {
                Ok(EioPacket::Open(handshake)) => Ok(Some(handshake)),
                _ => Err(Unusable(format!(
                    "not an Engine.IO server: GET {target} answered 200 {}, not an Engine.IO OPEN packet",
                    shown(&response)
                ))),
            },
            400 if is_engine_io_error(&response) => Ok(None),
            404 => Err(Unusable(format!(
                "no Engine.IO server at --path {}: GET {target} answered 404 {}; {}",
                self.server.path(),
                shown(&response),
                self.path_hint().await
            ))),
            401 | 403 => Err(Unusable(format!(
                "GET {target} was refused with {} {}; if the server needs credentials, pass --header NAME:VALUE",
                response.status,
                shown(&response)
            ))),
            status => Err(Unusable(format!(
                "not an Engine.IO server: GET {target} answered {status} {}",
                shown(&response)
            ))),
        }
    }

    /// Which of the common paths answers a handshake, as a hint.
    async fn path_hint(&self) -> String {
        let mut tried = Vec::new();
        for path in COMMON_PATHS {
            if path == self.server.path() {
                continue;
            }
            let server = self.server.with_path(path);
            let probe = self.probe(&server);
            let answer = probe
                .get(&probe.engine_target("EIO=4&transport=polling"))
                .await;
            if let Ok(response) = answer
                && response.status == 200
                && matches!(
                    EioPacket::decode_text(&response.body_text()),
                    Ok(EioPacket::Open(_))
                )
            {
                return format!("--path {path} answers an Engine.IO handshake: try that");
            }
            tried.push(path);
        }
        match tried[..] {
            [] => "give the server's Socket.IO path with --path".to_owned(),
            _ => format!(
                "nor at {}: not an Engine.IO server, or give its Socket.IO path with --path",
                tried.join(" or ")
            ),
        }
    }

    /// A client can join the main namespace (with `--auth`, if given).
    async fn joins_main_namespace(&self, handshake: Option<&Handshake>) -> Result<(), Unusable> {
        let transport = match handshake {
            Some(_) => Transport::Polling,
            None => Transport::Websocket,
        };
        let probe = self.probe(&self.server);
        match probe.socket(transport, "/", None).await {
            Ok((session, _)) => {
                session.close().await;
                Ok(())
            }
            Err(error) => {
                let why = error.to_string();
                // The packet as on the wire, inside its Engine.IO message.
                Err(Unusable(match why.strip_prefix("CONNECT / refused: ") {
                    Some(packet) => format!(
                        "the server refuses CONNECT to /: it answered 4{packet}; {}",
                        match probe.auth() {
                            Some(auth) => format!("even with --auth {auth}"),
                            None =>
                                "if it needs credentials, pass them with --auth JSON".to_owned(),
                        }
                    ),
                    None => format!("joining / failed: {why}"),
                }))
            }
        }
    }
}

/// Engine.IO's error body, `{"code":N,"message":…}`.
fn is_engine_io_error(response: &HttpResponse) -> bool {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .is_ok_and(|body| body.get("code").is_some_and(serde_json::Value::is_u64))
}

/// A response's content type and the start of its body.
fn shown(response: &HttpResponse) -> String {
    format!(
        "({}) {:?}",
        response
            .content_type
            .as_deref()
            .unwrap_or("no content type"),
        truncated(&response.body_text(), 60)
    )
}
