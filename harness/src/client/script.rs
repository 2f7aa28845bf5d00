//! Runs one client's script, step by step, recording what it saw and whether
//! each expectation held. A failed expectation ends that client's script.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use super::connector::Connector;
use super::engine::{Endpoint, Session};
use super::http::HttpConnection;
use crate::codec::{SioPacket, SioPacketKind};
use crate::scenario::{ClientScript, Step, Transport};
use crate::trace::{EventKind, Recorder};

/// How long the namespace CONNECT, a close and an HTTP request may take to be answered.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest HTTP body a REST step reads.
const HTTP_BODY_LIMIT: usize = 1 << 20;

/// How a client's script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOutcome {
    pub client: String,
    /// Why the script stopped early, if it did.
    pub failure: Option<String>,
}

impl ClientOutcome {
    /// Each client's failure as `name: failure`, in client-name order: the
    /// run's failures, whatever order the clients ended in.
    pub fn failures(mut outcomes: Vec<ClientOutcome>) -> impl Iterator<Item = String> {
        outcomes.sort_by(|a, b| a.client.cmp(&b.client));
        outcomes
            .into_iter()
            .filter_map(|o| o.failure.map(|f| format!("{}: {f}", o.client)))
    }
}

struct Client {
    name: String,
    /// Where each node is, node 1 first (a single server is node 1).
    endpoints: Vec<Endpoint>,
    /// The node (1 …) the next session connects to.
    node: usize,
    recorder: Recorder,
    origin: Instant,
    sessions_opened: u32,
    session: Option<Session>,
    namespace: String,
    next_ack_id: u64,
    awaited_ack: Option<u64>,
    /// Whether the open session's transport is read (see [`Step::StopReading`]).
    reading: bool,
}

impl Client {
    fn now(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_else(|| self.origin.elapsed())
    }

    /// Records on the current session's line, or the client's own between sessions.
    fn record(&self, kind: EventKind, text: impl Into<String>) {
        match &self.session {
            Some(session) => session.record(kind, text),
            None => self.recorder.record(self.now(), &self.name, kind, text),
        }
    }

    fn endpoint(&self) -> &Endpoint {
        &self.endpoints[self.node - 1]
    }

    /// Sends this and the later sessions to `node`, as a load balancer may
    /// send a reconnect elsewhere.
    fn move_to(&mut self, node: usize) -> Result<(), String> {
        if node == self.node {
            return Ok(());
        }
        if !(1..=self.endpoints.len()).contains(&node) {
            return Err(format!(
                "cannot reconnect to node {node}: the run has {} node(s)",
                self.endpoints.len()
            ));
        }
        self.node = node;
        let to = match &self.endpoint().connector {
            Connector::Sim { host, .. } => host.clone(),
            tcp => tcp.authority(),
        };
        self.record(EventKind::Session, format!("moves to {to}"));
        Ok(())
    }

    fn session(&self) -> Result<&Session, String> {
        self.session
            .as_ref()
            .ok_or_else(|| "no session is open".to_owned())
    }

    async fn run(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Connect {
                transport,
                namespace,
                auth,
                node,
            } => {
                self.session = None;
                if let Some(node) = node {
                    self.move_to(*node)?;
                }
                self.connect(*transport, namespace, auth.clone()).await
            }
            Step::Emit { event, args, ack } => self.emit(event, args.clone(), *ack).await,
            Step::ExpectEvent {
                event,
                args,
                within_ms,
            } => self.expect_event(event, args.as_ref(), *within_ms).await,
            Step::ExpectAck { args, within_ms } => self.expect_ack(args.as_ref(), *within_ms).await,
            Step::ExpectNoEvent { event, for_ms } => self.expect_no_event(event, *for_ms).await,
            Step::ExpectDisconnect { within_ms } => {
                let session = self.session()?;
                match session
                    .wait_disconnected(&self.namespace, Duration::from_millis(*within_ms))
                    .await
                {
                    Some(reason) => {
                        self.record(EventKind::Pass, format!("disconnected: {reason}"));
                        Ok(())
                    }
                    None => Err(format!("still connected after {within_ms} ms")),
                }
            }
            Step::Wait { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                Ok(())
            }
            Step::SendRaw { text } => {
                let packet = crate::codec::EioPacket::decode_text(text)
                    .map_err(|v| format!("SendRaw text is not a packet: {v}"))?;
                self.session()?
                    .send(packet)
                    .await
                    .map_err(|e| e.to_string())
            }
            Step::Disconnect => {
                let session = self.session()?;
                let _ = session
                    .send_sio(&SioPacket::disconnect(&self.namespace))
                    .await;
                session.close().await;
                session.wait_closed(ANSWER_TIMEOUT).await;
                self.session = None;
                Ok(())
            }
            Step::Drop => {
                let session = self.session()?;
                session.abort().await;
                session.wait_closed(ANSWER_TIMEOUT).await;
                self.session = None;
                Ok(())
            }
            Step::StopAnsweringPings => {
                let session = self.session()?;
                session.set_answer_pings(false);
                session.record(EventKind::Session, "stops answering pings");
                Ok(())
            }
            Step::StopReading => {
                self.session()?.set_reading(false).await;
                self.reading = false;
                Ok(())
            }
            Step::AwaitDrop { grace_ms } => self.await_drop(*grace_ms).await,
            Step::Http {
                method,
                path,
                body,
                expect_status,
            } => self.http(method, path, body.as_ref(), *expect_status).await,
        }
    }

    async fn connect(
        &mut self,
        transport: Transport,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<(), String> {
        self.session = None;
        self.sessions_opened += 1;
        let alias = format!("{}#{}", self.name, self.sessions_opened);
        let session = Session::open(
            self.endpoint(),
            transport,
            &alias,
            &self.recorder,
            self.origin,
        )
        .await
        .map_err(|e| format!("could not open a session: {e}"))?;
        self.namespace = namespace.to_owned();
        self.reading = true;
        self.next_ack_id = 0;
        self.awaited_ack = None;
        session
            .send_sio(&SioPacket::connect(namespace, auth))
            .await
            .map_err(|e| e.to_string())?;
        let answer = session
            .take(ANSWER_TIMEOUT, |p| {
                p.namespace == namespace
                    && matches!(p.kind, SioPacketKind::Connect | SioPacketKind::ConnectError)
            })
            .await;
        self.session = Some(session);
        match answer {
            Ok(packet) if packet.kind == SioPacketKind::Connect => Ok(()),
            Ok(packet) => Err(format!(
                "connect refused: {}",
                packet.data.unwrap_or(Value::Null)
            )),
            Err(why) => Err(format!("no CONNECT answer for {namespace}: {why}")),
        }
    }

    async fn emit(&mut self, event: &str, args: Vec<Value>, ack: bool) -> Result<(), String> {
        let ack_id = ack.then(|| {
            let id = self.next_ack_id;
            self.next_ack_id += 1;
            id
        });
        self.awaited_ack = ack_id.or(self.awaited_ack);
        let packet = SioPacket::event(&self.namespace, event, args, ack_id);
        self.session()?
            .send_sio(&packet)
            .await
            .map_err(|e| e.to_string())
    }

    async fn expect_event(
        &mut self,
        event: &str,
        args: Option<&Vec<Value>>,
        within_ms: u64,
    ) -> Result<(), String> {
        let namespace = self.namespace.clone();
        let session = self.session()?;
        let found = session
            .take(Duration::from_millis(within_ms), |p| {
                is_event(p, &namespace, event) && args.is_none_or(|a| p.args() == *a)
            })
            .await;
        match found {
            Ok(packet) => {
                session.record(
                    EventKind::Pass,
                    format!("got {event:?} {}", Value::Array(packet.args())),
                );
                Ok(())
            }
            Err(why) => Err(format!(
                "expected {event:?}{} within {within_ms} ms: {why}; unconsumed: {}",
                args.map(|a| format!(" {}", Value::Array(a.clone())))
                    .unwrap_or_default(),
                session.inbox_summary(5)
            )),
        }
    }

    async fn expect_ack(
        &mut self,
        args: Option<&Vec<Value>>,
        within_ms: u64,
    ) -> Result<(), String> {
        let ack_id = self.awaited_ack.ok_or("no emit asked for an ack")?;
        let namespace = self.namespace.clone();
        let session = self.session()?;
        let found = session
            .take(Duration::from_millis(within_ms), |p| {
                matches!(p.kind, SioPacketKind::Ack | SioPacketKind::BinaryAck)
                    && p.namespace == namespace
                    && p.ack_id == Some(ack_id)
            })
            .await
            .map_err(|why| format!("expected the ack of #{ack_id} within {within_ms} ms: {why}"))?;
        let got = found.args();
        if let Some(expected) = args.filter(|expected| **expected != got) {
            return Err(format!(
                "ack #{ack_id} carried {} instead of {}",
                Value::Array(got),
                Value::Array(expected.clone())
            ));
        }
        session.record(
            EventKind::Pass,
            format!("ack #{ack_id} {}", Value::Array(got)),
        );
        Ok(())
    }

    async fn expect_no_event(&mut self, event: &str, for_ms: u64) -> Result<(), String> {
        let namespace = self.namespace.clone();
        let session = self.session()?;
        let arrived = session
            .take(Duration::from_millis(for_ms), |p| {
                is_event(p, &namespace, event)
            })
            .await;
        match arrived {
            Ok(packet) => Err(format!(
                "unexpected {event:?} {}",
                Value::Array(packet.args())
            )),
            Err(_) => {
                session.record(EventKind::Pass, format!("no {event:?} for {for_ms} ms"));
                Ok(())
            }
        }
    }

    /// Waits for the server to drop the session (see [`Step::AwaitDrop`]).
    async fn await_drop(&mut self, grace_ms: u64) -> Result<(), String> {
        let was_reading = std::mem::replace(&mut self.reading, true);
        let session = self.session()?;
        let half_grace = Duration::from_millis(grace_ms / 2);
        let mut ended = session
            .wait_closed(session.heartbeat().saturating_add(half_grace))
            .await;
        if ended.is_none() && !was_reading {
            // A client that does not read cannot see a close: it reads
            // again (what waited, then the close if the server dropped it).
            session.set_reading(true).await;
        }
        if ended.is_none() {
            ended = session.wait_closed(half_grace).await;
        }
        let text = match ended {
            Some(reason) => format!("dropped: {reason}"),
            None => "still open: the server never dropped the silent client".to_owned(),
        };
        session.record(EventKind::Session, text);
        Ok(())
    }

    async fn http(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        expect_status: Option<u16>,
    ) -> Result<(), String> {
        let mut connection = HttpConnection::open(&self.endpoint().connector)
            .await
            .map_err(|e| e.to_string())?;
        let (content_type, bytes) = match body {
            Some(body) => (Some("application/json"), Bytes::from(body.to_string())),
            None => (None, Bytes::new()),
        };
        self.record(
            EventKind::Http,
            format!(
                "{method} {path}{}",
                body.map(|b| format!(" {b}")).unwrap_or_default()
            ),
        );
        let response = tokio::time::timeout(
            ANSWER_TIMEOUT,
            connection.request(method, path, content_type, bytes, HTTP_BODY_LIMIT),
        )
        .await
        .map_err(|_| {
            format!(
                "{method} {path}: no answer within {} ms",
                ANSWER_TIMEOUT.as_millis()
            )
        })?
        .map_err(|e| e.to_string())?;
        self.record(
            EventKind::Http,
            format!("{} {}", response.status, response.body_text()),
        );
        match expect_status {
            Some(expected) if expected != response.status => Err(format!(
                "{method} {path} answered {} instead of {expected}",
                response.status
            )),
            _ => Ok(()),
        }
    }
}

fn is_event(packet: &SioPacket, namespace: &str, event: &str) -> bool {
    matches!(
        packet.kind,
        SioPacketKind::Event | SioPacketKind::BinaryEvent
    ) && packet.namespace == namespace
        && packet.event_name() == Some(event)
}

/// Runs `script` against `endpoint` until its last step or its first
/// failure. Outside a simulation the trace's times count from `origin`
/// (the same for every client of a run, so that their lines interleave).
pub async fn run_script(
    script: ClientScript,
    endpoint: Endpoint,
    recorder: Recorder,
    origin: Instant,
) -> ClientOutcome {
    run_script_on_nodes(script, vec![endpoint], 1, recorder, origin).await
}

/// Runs `script` (as [`run_script`]) against a cluster: `endpoints` holds
/// each node's, node 1 first, and the client starts on `first_node`
/// (1 …); a [`Step::Connect`] naming a node moves it there.
pub async fn run_script_on_nodes(
    script: ClientScript,
    endpoints: Vec<Endpoint>,
    first_node: usize,
    recorder: Recorder,
    origin: Instant,
) -> ClientOutcome {
    if !(1..=endpoints.len()).contains(&first_node) {
        let failure = format!(
            "no node {first_node}: {} endpoints were given",
            endpoints.len()
        );
        recorder.record(
            Duration::ZERO,
            &script.name,
            EventKind::Fail,
            failure.clone(),
        );
        return ClientOutcome {
            client: script.name,
            failure: Some(failure),
        };
    }
    let mut client = Client {
        name: script.name.clone(),
        endpoints,
        node: first_node,
        recorder,
        origin,
        sessions_opened: 0,
        session: None,
        namespace: "/".into(),
        next_ack_id: 0,
        awaited_ack: None,
        reading: true,
    };
    for step in &script.steps {
        if let Err(failure) = client.run(step).await {
            client.record(EventKind::Fail, failure.clone());
            return ClientOutcome {
                client: script.name,
                failure: Some(failure),
            };
        }
    }
    ClientOutcome {
        client: script.name,
        failure: None,
    }
}
