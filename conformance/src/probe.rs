//! What a case body holds: the way to the server under test, the case's own
//! trace, and the deadline for every wait. The same probe API works in
//! simulation and over real TCP, which is what lets one body serve both.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use siosim_harness::client::{Endpoint, HttpConnection, HttpResponse, Session};
use siosim_harness::codec::{EioPacket, Handshake, SioPacket, SioPacketKind};
use siosim_harness::trace::Recorder;
use siosim_harness::{EventKind, Report, Scenario, Simulation, Transport};
use tokio::time::Instant;

use crate::bus_restart::BusRestart;
use crate::case_error::CaseError;
use crate::sim_server::SimServer;

/// Largest HTTP body a probe reads: a hostile server's 100 MB answer is cut
/// off here, with an error, instead of filling memory.
pub const HTTP_BODY_LIMIT: usize = 1 << 20;

/// The longest server timing [`Probe::timeout_plus`] adds.
const MAX_SERVER_TIMING: Duration = Duration::from_secs(24 * 60 * 60);

/// The actor name of the probe's own trace lines (HTTP requests, raw frames).
const ACTOR: &str = "probe";

/// A case body's handle on the server under test. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Probe(Rc<Inner>);

#[derive(Debug)]
struct Inner {
    endpoint: Endpoint,
    /// Every node of the server, this one first: more than one for a
    /// cluster (`--url A --url B`, or a simulated cluster).
    nodes: Vec<Endpoint>,
    recorder: Recorder,
    origin: Instant,
    timeout: Duration,
    /// In simulation: the server and the case's seed, for scenario runs.
    simulation: Option<(SimServer, u64)>,
    declared: Declared,
    /// How the cluster's Redis is restarted, if it can be.
    bus_restart: BusRestart,
    /// Shared by the probes of every node, so that session aliases stay unique.
    sessions_opened: Rc<Cell<u32>>,
}

impl Inner {
    fn cloned(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            nodes: self.nodes.clone(),
            recorder: self.recorder.clone(),
            origin: self.origin,
            timeout: self.timeout,
            simulation: self.simulation.clone(),
            declared: self.declared.clone(),
            bus_restart: self.bus_restart.clone(),
            sessions_opened: self.sessions_opened.clone(),
        }
    }
}

/// What the user tells the suite about the server, since no handshake says it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Declared {
    /// `--auth`: the CONNECT payload of a case that brings none of its own.
    pub auth: Option<Value>,
    /// The server's connect timeout: in simulation the reference server's
    /// setting, over TCP `--connect-timeout-ms`.
    pub connect_timeout: Option<Duration>,
}

impl Probe {
    pub(crate) fn new(
        endpoint: Endpoint,
        recorder: Recorder,
        timeout: Duration,
        simulation: Option<(SimServer, u64)>,
        declared: Declared,
    ) -> Self {
        Self(Rc::new(Inner {
            nodes: vec![endpoint.clone()],
            endpoint,
            recorder,
            origin: Instant::now(),
            timeout,
            simulation,
            declared,
            bus_restart: BusRestart::default(),
            sessions_opened: Rc::default(),
        }))
    }

    /// The same probe on a cluster whose nodes are `nodes` (this one first).
    pub(crate) fn with_nodes(self, nodes: Vec<Endpoint>) -> Self {
        let inner = Rc::try_unwrap(self.0).unwrap_or_else(|shared| shared.cloned());
        Self(Rc::new(Inner { nodes, ..inner }))
    }

    /// The same probe, able to restart the cluster's Redis by `restart`.
    pub(crate) fn with_bus_restart(self, bus_restart: BusRestart) -> Self {
        let inner = Rc::try_unwrap(self.0).unwrap_or_else(|shared| shared.cloned());
        Self(Rc::new(Inner {
            bus_restart,
            ..inner
        }))
    }

    /// Restarts the cluster's Redis and returns once it is back; NOT
    /// APPLICABLE when there is no way to (over TCP without
    /// `--redis-restart`) or the restart itself failed.
    pub async fn restart_bus(&self) -> Result<(), CaseError> {
        self.0.bus_restart.restart().await
    }

    /// The server's nodes: 1, or a cluster's.
    pub fn node_count(&self) -> usize {
        self.0.nodes.len()
    }

    /// `Err(NotApplicable)` unless the server is a cluster of `nodes` nodes
    /// or more.
    pub fn require_nodes(&self, nodes: usize) -> Result<(), CaseError> {
        if self.node_count() >= nodes {
            Ok(())
        } else {
            Err(CaseError::NotApplicable(format!(
                "needs a cluster of {nodes} nodes (`--url A --url B`); the target has {}",
                self.node_count()
            )))
        }
    }

    /// The probe on node `index` (0 is this one): sessions it opens go there;
    /// the trace, deadlines and credentials are shared.
    pub fn on_node(&self, index: usize) -> Result<Probe, CaseError> {
        let endpoint = self.0.nodes.get(index).cloned().ok_or_else(|| {
            CaseError::NotApplicable(format!("the target has no node {}", index + 1))
        })?;
        Ok(Self(Rc::new(Inner {
            endpoint,
            ..self.0.cloned()
        })))
    }

    /// The server's credentials (`--auth`): the CONNECT payload used when a
    /// case joins a namespace without one of its own.
    pub fn auth(&self) -> Option<&Value> {
        self.0.declared.auth.as_ref()
    }

    /// `packet` as sent on the wire: a payload-less CONNECT (`40`,
    /// `40/chat,`) gains [`Probe::auth`]; anything else, a CONNECT that
    /// brings its own payload included, is left as the case wrote it.
    pub fn with_auth(&self, packet: &str) -> String {
        let Some(auth) = self.auth() else {
            return packet.to_owned();
        };
        match packet.strip_prefix("40") {
            Some("") => format!("40{auth}"),
            Some(namespace) if namespace.starts_with('/') && !namespace.contains('{') => {
                let namespace = namespace.trim_end_matches(',');
                format!("40{namespace},{auth}")
            }
            _ => packet.to_owned(),
        }
    }

    /// The server's connect timeout (how long a session may stay without
    /// joining a namespace), if the user declared it: in simulation the
    /// reference server's setting, over TCP `--connect-timeout-ms`.
    pub fn declared_connect_timeout(&self) -> Option<Duration> {
        self.0.declared.connect_timeout
    }

    /// The longest any single wait may take. Waits that the protocol bounds
    /// (a ping, a ping timeout) add the server's own timings from its
    /// handshake to this margin.
    pub fn timeout(&self) -> Duration {
        self.0.timeout
    }

    /// [`Probe::timeout`] plus `server_ms` of the server's own timing (from
    /// its handshake), for protocol-timed waits. Saturating and at most a
    /// day more, so a hostile server's `pingInterval` of u64::MAX ms is no
    /// overflow.
    pub fn timeout_plus(&self, server_ms: u64) -> Duration {
        self.timeout() + Duration::from_millis(server_ms).min(MAX_SERVER_TIMING)
    }

    /// Whether the server runs in siosim's simulated network (so faults can
    /// be injected and time is simulated).
    pub fn in_simulation(&self) -> bool {
        self.0.simulation.is_some()
    }

    /// `Err(NotApplicable)` unless the target is simulated.
    pub fn require_simulation(&self, why: &str) -> Result<(), CaseError> {
        if self.in_simulation() {
            Ok(())
        } else {
            Err(CaseError::NotApplicable(format!(
                "needs the simulated network: {why}"
            )))
        }
    }

    /// Runs a whole multi-client scenario, faults included, against a fresh
    /// instance of the server under test, with the case's seed; its trace is
    /// appended to the case's. NOT APPLICABLE over TCP: faults need the
    /// simulated network. (It runs to completion on its own thread while the
    /// case's simulation waits, so it costs the case no simulated time.)
    pub fn run_scenario(&self, scenario: Scenario) -> Result<Report, CaseError> {
        let Some((server, seed)) = &self.0.simulation else {
            return Err(CaseError::NotApplicable(format!(
                "needs the simulated network: scenario {:?} injects faults",
                scenario.name
            )));
        };
        let app = Arc::clone(&server.app);
        let report = Simulation::new(scenario, move || app())
            .socketio_path(server.path.clone())
            .run(*seed);
        for event in &report.trace.events {
            self.0.recorder.record(
                Duration::from_micros(event.at_us),
                &event.actor,
                event.kind,
                event.text.clone(),
            );
        }
        Ok(report)
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.0.endpoint
    }

    /// The Socket.IO path, e.g. `/socket.io`.
    pub fn socketio_path(&self) -> &str {
        self.0.endpoint.path.trim_end_matches('/')
    }

    /// `{path}/?{query}`: an Engine.IO request target.
    pub fn engine_target(&self, query: &str) -> String {
        format!("{}/?{query}", self.socketio_path())
    }

    pub fn recorder(&self) -> &Recorder {
        &self.0.recorder
    }

    fn now(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_else(|| self.0.origin.elapsed())
    }

    /// Adds a line to the case's trace, as the probe.
    pub fn note(&self, kind: EventKind, text: impl Into<String>) {
        self.0.recorder.record(self.now(), ACTOR, kind, text);
    }

    /// One HTTP request on a fresh connection, bounded by [`Probe::timeout`]
    /// and [`HTTP_BODY_LIMIT`].
    pub async fn http(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, CaseError> {
        let body = self.polling_body_with_auth(method, body.into());
        self.note(
            EventKind::Http,
            format!("{method} {target}{}", shown_body(&body)),
        );
        let request = async {
            let mut connection = HttpConnection::open(&self.0.endpoint.connector).await?;
            connection
                .request(method, target, content_type, body, HTTP_BODY_LIMIT)
                .await
        };
        let response = match tokio::time::timeout(self.timeout(), request).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                self.note(EventKind::Http, format!("-> error: {error}"));
                return Err(CaseError::Broken(format!("{method} {target}: {error}")));
            }
            Err(_) => {
                let why = format!(
                    "{method} {target}: no answer within {} ms",
                    self.timeout().as_millis()
                );
                self.note(EventKind::Http, format!("-> {why}"));
                return Err(CaseError::Broken(why));
            }
        };
        self.note(
            EventKind::Http,
            format!("-> {}{}", response.status, shown_body(&response.body)),
        );
        Ok(response)
    }

    /// A long-polling POST body with [`Probe::with_auth`] applied to each
    /// of its packets; any other body as it is.
    fn polling_body_with_auth(&self, method: &str, body: Bytes) -> Bytes {
        if method != "POST" || self.auth().is_none() {
            return body;
        }
        let Ok(text) = std::str::from_utf8(&body) else {
            return body;
        };
        let packets: Vec<String> = text.split('\u{1e}').map(|p| self.with_auth(p)).collect();
        Bytes::from(packets.join("\u{1e}"))
    }

    /// `GET` shorthand.
    pub async fn get(&self, target: &str) -> Result<HttpResponse, CaseError> {
        self.http("GET", target, None, Bytes::new()).await
    }

    /// Opens an Engine.IO session over `transport` with siosim's client; the
    /// session answers pings and watches the heartbeat by itself.
    pub async fn session(&self, transport: Transport) -> Result<Session, CaseError> {
        let number = self.0.sessions_opened.get() + 1;
        self.0.sessions_opened.set(number);
        let alias = format!("c{number}");
        Session::open(
            &self.0.endpoint,
            transport,
            &alias,
            &self.0.recorder,
            self.0.origin,
        )
        .await
        .map_err(CaseError::from)
    }

    /// Opens a session and joins `namespace` with `auth`; returns the session
    /// and the server's CONNECT packet (its `data` holds the socket's `sid`).
    pub async fn socket(
        &self,
        transport: Transport,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<(Session, SioPacket), CaseError> {
        let session = self.session(transport).await?;
        let connected = self.join(&session, namespace, auth).await?;
        Ok((session, connected))
    }

    /// Sends CONNECT for `namespace` (with `auth`, else [`Probe::auth`]) and waits for the server's CONNECT;
    /// a CONNECT_ERROR or silence breaks the case.
    pub async fn join(
        &self,
        session: &Session,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<SioPacket, CaseError> {
        let auth = auth.or_else(|| self.auth().cloned());
        session
            .send_sio(&SioPacket::connect(namespace, auth))
            .await?;
        let answer = session
            .take(self.timeout(), |p| {
                p.namespace == namespace
                    && matches!(p.kind, SioPacketKind::Connect | SioPacketKind::ConnectError)
            })
            .await
            .map_err(|why| CaseError::Broken(format!("no answer to CONNECT {namespace}: {why}")))?;
        match answer.kind {
            SioPacketKind::Connect => Ok(answer),
            _ => Err(CaseError::Broken(format!(
                "CONNECT {namespace} refused: {}",
                answer.encode().0
            ))),
        }
    }

    /// Waits for the next `event` on `namespace`; returns its arguments.
    pub async fn event(
        &self,
        session: &Session,
        namespace: &str,
        event: &str,
    ) -> Result<Vec<Value>, CaseError> {
        let packet = session
            .take(self.timeout(), |p| {
                p.namespace == namespace && p.event_name() == Some(event)
            })
            .await
            .map_err(|why| {
                CaseError::Broken(format!(
                    "no {event:?} event on {namespace}: {why}; unconsumed: {}",
                    session.inbox_summary(8)
                ))
            })?;
        Ok(packet.args())
    }

    /// Waits for the ack `ack_id` on `namespace`; returns the whole packet.
    pub async fn ack(
        &self,
        session: &Session,
        namespace: &str,
        ack_id: u64,
    ) -> Result<SioPacket, CaseError> {
        session
            .take(self.timeout(), |p| {
                p.namespace == namespace
                    && p.ack_id == Some(ack_id)
                    && matches!(p.kind, SioPacketKind::Ack | SioPacketKind::BinaryAck)
            })
            .await
            .map_err(|why| {
                CaseError::Broken(format!(
                    "no ack {ack_id} on {namespace}: {why}; unconsumed: {}",
                    session.inbox_summary(8)
                ))
            })
    }

    /// Opens a long-polling session by hand: `GET ?EIO=4&transport=polling`,
    /// parsed strictly. Returns the handshake.
    pub async fn polling_handshake(&self) -> Result<Handshake, CaseError> {
        let response = self
            .get(&self.engine_target("EIO=4&transport=polling"))
            .await?;
        if response.status != 200 {
            broken_status("the polling handshake", &response)?;
        }
        match EioPacket::decode_text(&response.body_text()) {
            Ok(EioPacket::Open(handshake)) => Ok(handshake),
            Ok(other) => Err(CaseError::Broken(format!(
                "the polling handshake answered {:?}, not an OPEN packet",
                other.encode_text().unwrap_or_default()
            ))),
            Err(violation) => Err(CaseError::Broken(format!(
                "the polling handshake is malformed: {violation}"
            ))),
        }
    }
}

fn broken_status(what: &str, response: &HttpResponse) -> Result<(), CaseError> {
    Err(CaseError::Broken(format!(
        "{what} answered {} {:?}",
        response.status,
        truncated(&response.body_text(), 120)
    )))
}

/// A body as shown in the trace: empty, or ` <text>` cut to a readable length.
fn shown_body(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    match std::str::from_utf8(body) {
        Ok(text) => format!(" {}", truncated(text, 200)),
        Err(_) => format!(" <{} bytes of binary>", body.len()),
    }
}

/// `text`, cut to `max` characters with an ellipsis.
pub fn truncated(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
