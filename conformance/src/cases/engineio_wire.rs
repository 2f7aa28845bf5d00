//! Engine.IO by hand, for the `engineio::*` cases: a long-polling session
//! driven request by request, the OPEN packet read field by field, and a raw
//! HTTP exchange that keeps the response headers (for CORS). Everything here
//! reports what the server sent, bytes included, instead of fixing it up.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use siosim_harness::EventKind;
use siosim_harness::client::{HttpConnection, HttpResponse, Stream, deadline_after};
use siosim_harness::codec::{EioPacket, Handshake, decode_polling_payload};
use siosim_harness::trace::binary_text;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::case::CaseError;
use crate::probe::{HTTP_BODY_LIMIT, Probe, truncated};
use crate::raw_websocket::{Frame, RawWebSocket};

/// The query of a new session: `EIO=4&transport=polling`.
pub(super) const POLLING_QUERY: &str = "EIO=4&transport=polling";
/// The query of a new WebSocket-only session.
pub(super) const WEBSOCKET_QUERY: &str = "EIO=4&transport=websocket";

/// The keys of the OPEN packet, exactly (the official suite checks
/// `to.have.all.keys`, which refuses extra ones).
const OPEN_KEYS: [&str; 5] = [
    "sid",
    "upgrades",
    "pingInterval",
    "pingTimeout",
    "maxPayload",
];

/// Most packets a case collects while waiting for one: a server that floods
/// is cut off here.
const MAX_COLLECTED_PACKETS: usize = 256;
/// Bytes of collected packets kept for the case to inspect; the rest are
/// only counted.
const MAX_COLLECTED_BYTES: usize = 256 * 1024;

/// Largest raw HTTP response read by [`raw_http`]: CORS answers are tiny.
const RAW_HTTP_LIMIT: usize = 64 * 1024;

/// Checks an OPEN packet's text (`0{...}`) field by field, as the official
/// suite does: exactly the five keys, each of the right JSON type.
pub(super) fn parse_open_packet(text: &str) -> Result<Handshake, CaseError> {
    let Some(json) = text.strip_prefix('0') else {
        crate::broken!(
            "expected an OPEN packet (0{{...}}), got {:?}",
            truncated(text, 120)
        );
    };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(json) else {
        crate::broken!(
            "the OPEN packet's payload is not a JSON object: {:?}",
            truncated(text, 120)
        );
    };
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let missing: Vec<&str> = OPEN_KEYS
        .into_iter()
        .filter(|k| !fields.contains_key(*k))
        .collect();
    let extra: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !OPEN_KEYS.contains(k))
        .collect();
    crate::ensure!(
        missing.is_empty() && extra.is_empty(),
        "the OPEN packet's keys are {keys:?}: missing {missing:?}, unexpected {extra:?}, in {:?}",
        truncated(text, 160)
    );
    match EioPacket::decode_text(text) {
        Ok(EioPacket::Open(handshake)) => Ok(handshake),
        Ok(_) => crate::broken!("not an OPEN packet: {:?}", truncated(text, 120)),
        Err(violation) => crate::broken!("malformed OPEN packet: {}", violation.reason),
    }
}

/// Percent-encodes a sid for a query string: sids are usually URL-safe
/// base64, but nothing promises it.
fn query_escaped(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                escaped.push(char::from(byte));
            }
            _ => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

/// How a bounded wait for a response ended.
#[derive(Debug)]
pub(super) enum Answer {
    /// The server answered (any status).
    Response(HttpResponse),
    /// The request failed: the server closed the connection, reset it, ...
    Failed(String),
    /// No answer within the wait.
    Silent,
}

/// A long-polling session driven by hand: each method is one request.
#[derive(Debug, Clone)]
pub(super) struct PollingSession {
    probe: Probe,
    handshake: Handshake,
}

impl PollingSession {
    /// `GET ?EIO=4&transport=polling`, parsed strictly.
    pub async fn open(probe: &Probe) -> Result<Self, CaseError> {
        let handshake = probe.polling_handshake().await?;
        Ok(Self {
            probe: probe.clone(),
            handshake,
        })
    }

    /// The probe the session's requests go through.
    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    pub fn sid(&self) -> &str {
        &self.handshake.sid
    }

    /// The server's own heartbeat: how long it may take to ping, then to
    /// give up on a missing pong.
    pub fn heartbeat(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.handshake.ping_interval_ms),
            Duration::from_millis(self.handshake.ping_timeout_ms),
        )
    }

    /// The session's polling request target.
    pub fn target(&self) -> String {
        self.probe.engine_target(&format!(
            "{POLLING_QUERY}&sid={}",
            query_escaped(self.sid())
        ))
    }

    /// The request target to upgrade this session to WebSocket.
    pub fn websocket_target(&self) -> String {
        self.probe.engine_target(&format!(
            "{WEBSOCKET_QUERY}&sid={}",
            query_escaped(self.sid())
        ))
    }

    /// One `GET`, bounded by `within` (a long poll may rightly wait for the
    /// server's next ping, longer than the probe's timeout).
    pub async fn get_within(&self, within: Duration) -> Answer {
        let target = self.target();
        self.probe.note(EventKind::Http, format!("GET {target}"));
        let request = async {
            let connector = &self.probe.endpoint().connector;
            let mut connection = HttpConnection::open(connector).await?;
            connection
                .request("GET", &target, None, Bytes::new(), HTTP_BODY_LIMIT)
                .await
        };
        let answer = match tokio::time::timeout(within, request).await {
            Ok(Ok(response)) => Answer::Response(response),
            Ok(Err(error)) => Answer::Failed(error.to_string()),
            Err(_) => Answer::Silent,
        };
        self.probe
            .note(EventKind::Http, format!("-> {}", answer.summary()));
        answer
    }

    /// One `GET` that must answer 200 within the probe's timeout plus
    /// `extra`; returns the body.
    pub async fn poll(&self, extra: Duration) -> Result<String, CaseError> {
        match self.get_within(self.probe.timeout() + extra).await {
            Answer::Response(response) if response.status == 200 => Ok(response.body_text()),
            answer => crate::broken!(
                "GET with sid {:?}: expected 200, got {}",
                self.sid(),
                answer.summary()
            ),
        }
    }

    /// One `POST` of `body`.
    pub async fn post(&self, body: &str) -> Result<HttpResponse, CaseError> {
        self.probe
            .http(
                "POST",
                &self.target(),
                Some("text/plain;charset=UTF-8"),
                body.to_owned(),
            )
            .await
    }

    /// One `POST` that must be accepted (200); returns the body. Only the
    /// cases about POST bodies require it to be `ok` ([`Self::post_ok`]), so
    /// that one broken rule does not fail every polling case.
    pub async fn post_accepted(&self, body: &str) -> Result<String, CaseError> {
        let response = self.post(body).await?;
        crate::ensure!(
            response.status == 200,
            "POST {:?} answered {} {:?} instead of 200",
            truncated(body, 80),
            response.status,
            truncated(&response.body_text(), 120)
        );
        Ok(response.body_text())
    }

    /// One `POST` that must be answered 200 with the body `ok`.
    pub async fn post_ok(&self, body: &str) -> Result<(), CaseError> {
        let answer = self.post_accepted(body).await?;
        crate::ensure!(
            answer == "ok",
            "POST {:?} answered 200 {:?} instead of \"ok\"",
            truncated(body, 80),
            truncated(&answer, 120)
        );
        Ok(())
    }

    /// Takes the packets the server queued right after the handshake (some
    /// servers ping at once): one GET, waiting at most a ping interval, and
    /// every ping in it answered. Leaves no GET pending and nothing queued
    /// but what the server sends later.
    pub async fn drain(&self) -> Result<Vec<EioPacket>, CaseError> {
        let (interval, _) = self.heartbeat();
        let body = self.poll(interval).await?;
        let packets = decode(&body)?;
        self.answer_pings(&packets).await?;
        Ok(packets)
    }

    /// Answers each ping among `packets` with a pong.
    pub async fn answer_pings(&self, packets: &[EioPacket]) -> Result<(), CaseError> {
        for _ in packets
            .iter()
            .filter(|p| **p == EioPacket::Ping { probe: false })
        {
            self.post_accepted("3").await?;
        }
        Ok(())
    }

    /// Polls (answering pings) until a packet satisfies `wanted`, within the
    /// probe's timeout plus `extra`. Returns every packet received, in order,
    /// pings included; the wanted one is last.
    pub async fn collect_until(
        &self,
        extra: Duration,
        mut wanted: impl FnMut(&EioPacket) -> bool,
    ) -> Result<Vec<EioPacket>, CaseError> {
        let deadline = deadline_after(self.probe.timeout() + extra);
        let mut received: Vec<EioPacket> = Vec::new();
        let mut kept_bytes = 0usize;
        let mut unkept = 0usize;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            crate::ensure!(
                !left.is_zero() && received.len() + unkept < MAX_COLLECTED_PACKETS,
                "the wanted packet did not come; received {}{}",
                shown_packets(&received),
                unkept_note(unkept)
            );
            let body = match self.get_within(left).await {
                Answer::Response(response) if response.status == 200 => response.body_text(),
                answer => crate::broken!(
                    "waiting up to {} ms for a packet: GET -> {}; received before: {}{}",
                    left.as_millis(),
                    answer.summary(),
                    shown_packets(&received),
                    unkept_note(unkept)
                ),
            };
            let packets = decode(&body)?;
            drop(body);
            self.answer_pings(&packets).await?;
            for packet in packets {
                let done = wanted(&packet);
                // A flooding server's packets are counted, not kept: memory
                // stays bounded whatever it sends.
                let size = packet_size(&packet);
                if done || kept_bytes + size <= MAX_COLLECTED_BYTES {
                    kept_bytes += size;
                    received.push(packet);
                } else {
                    unkept += 1;
                }
                if done {
                    return Ok(received);
                }
            }
        }
    }

    /// Checks that the session is gone: a fresh GET answers 400, as the
    /// official suite requires after every way of ending a session.
    pub async fn expect_closed(&self) -> Result<String, CaseError> {
        self.expect_closed_within(self.probe.timeout()).await
    }

    /// [`Self::expect_closed`], with the GET's answer due within `within`.
    pub async fn expect_closed_within(&self, within: Duration) -> Result<String, CaseError> {
        match self.get_within(within).await {
            Answer::Response(response) if response.status == 400 => Ok("GET: 400".into()),
            Answer::Response(response) if response.status == 200 => crate::broken!(
                "the session is still open: a GET answered 200 {:?}",
                truncated(&response.body_text(), 120)
            ),
            answer => crate::broken!("GET -> {}, expected 400", answer.summary()),
        }
    }
}

impl Answer {
    /// `200 "ok"`, `error: ...`, `no answer`.
    pub fn summary(&self) -> String {
        match self {
            Answer::Response(response) => format!(
                "{} {:?}",
                response.status,
                truncated(&response.body_text(), 120)
            ),
            Answer::Failed(error) => format!("error: {error}"),
            Answer::Silent => "no answer".to_owned(),
        }
    }
}

/// Decodes a polling body; a malformed one breaks the case.
pub(super) fn decode(body: &str) -> Result<Vec<EioPacket>, CaseError> {
    decode_polling_payload(body).map_err(|violation| {
        CaseError::Broken(format!(
            "malformed polling payload {:?}: {}",
            truncated(body, 120),
            violation.reason
        ))
    })
}

/// Packets as they would be written in a polling payload.
/// How many packets were counted but not kept, as a suffix.
fn unkept_note(unkept: usize) -> String {
    match unkept {
        0 => String::new(),
        n => format!(" and {n} more packets not kept (over {MAX_COLLECTED_BYTES} bytes)"),
    }
}

/// A packet's size as it travelled, roughly.
fn packet_size(packet: &EioPacket) -> usize {
    match packet {
        EioPacket::Binary(bytes) => bytes.len(),
        other => other.encode_text().map_or(0, |text| text.len()),
    }
}

pub(super) fn shown_packets(packets: &[EioPacket]) -> String {
    let shown: Vec<String> = packets
        .iter()
        .take(16)
        .map(|packet| match packet {
            EioPacket::Binary(bytes) => binary_text(bytes),
            other => truncated(&other.encode_text().unwrap_or_default(), 60),
        })
        .collect();
    format!("{shown:?}")
}

/// Opens a WebSocket-only session by hand and reads its OPEN packet.
pub(super) async fn websocket_session(
    probe: &Probe,
) -> Result<(RawWebSocket, Handshake), CaseError> {
    let mut socket = probe
        .raw_websocket(&probe.engine_target(WEBSOCKET_QUERY))
        .await?;
    let handshake = match socket.next().await? {
        Frame::Text(text) => parse_open_packet(&text)?,
        Frame::Binary(bytes) => crate::broken!(
            "the first frame is {} binary bytes, not the OPEN packet",
            bytes.len()
        ),
    };
    Ok((socket, handshake))
}

/// How a WebSocket to `target` ended: refused at the upgrade, or closed
/// within the probe's timeout without an OPEN packet. `Err` when the server
/// opened a session instead, or kept the connection silently open.
pub(super) async fn expect_websocket_refused(
    probe: &Probe,
    target: &str,
) -> Result<String, CaseError> {
    match RawWebSocket::try_open(probe.clone(), target).await? {
        // A 2xx instead of 101 may carry a session opened over HTTP.
        Err(refusal) if refusal.status.is_some_and(|s| (200..300).contains(&s)) => {
            crate::broken!(
                "{target}: answered {} instead of refusing the request",
                refusal.reason
            )
        }
        Err(refusal) => Ok(format!("upgrade refused: {}", refusal.reason)),
        Ok(socket) => expect_closed_unserved(probe, target, socket).await,
    }
}

/// Waits, within the probe's timeout, for the server to close a WebSocket
/// it accepted but must not serve; an OPEN packet or a probe answer on it,
/// or silence until the deadline, breaks the case.
pub(super) async fn expect_closed_unserved(
    probe: &Probe,
    target: &str,
    mut socket: RawWebSocket,
) -> Result<String, CaseError> {
    let deadline = deadline_after(probe.timeout());
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.next_within(left).await {
            Err(_) => {
                let reason = socket.closed().unwrap_or("closed").to_owned();
                return Ok(format!("accepted the upgrade, then closed ({reason})"));
            }
            Ok(None) => crate::broken!(
                "{target}: the WebSocket stayed open for {} ms",
                probe.timeout().as_millis()
            ),
            Ok(Some(Frame::Text(text))) if text.starts_with('0') || text == "3probe" => {
                crate::broken!("{target}: the server answered {:?}", truncated(&text, 120))
            }
            Ok(Some(_)) => {}
        }
    }
}

/// An HTTP response read off the wire, headers included.
#[derive(Debug, Clone)]
pub(super) struct RawHttpResponse {
    pub status: u16,
    /// Header names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
}

/// Sends one bodiless request with extra `headers` on a fresh connection and
/// reads the response head. For the few cases that need response headers
/// (the harness's HTTP client keeps only status, content type and body).
pub(super) async fn raw_http(
    probe: &Probe,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<RawHttpResponse, CaseError> {
    let connector = &probe.endpoint().connector;
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        connector.authority()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    probe.note(
        EventKind::Http,
        format!("{method} {target} {}", shown_headers(headers)),
    );
    let exchange = async {
        let mut stream = connector
            .connect()
            .await
            .map_err(|e| format!("connect failed: {e}"))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("sending: {e}"))?;
        read_head(&mut stream).await
    };
    let head = match tokio::time::timeout(probe.timeout(), exchange).await {
        Ok(Ok(head)) => head,
        Ok(Err(error)) => crate::broken!("{method} {target}: {error}"),
        Err(_) => crate::broken!(
            "{method} {target}: no answer within {} ms",
            probe.timeout().as_millis()
        ),
    };
    let response = parse_head(&head).ok_or_else(|| {
        CaseError::Broken(format!(
            "{method} {target}: malformed response {:?}",
            truncated(&head, 200)
        ))
    })?;
    probe.note(
        EventKind::Http,
        format!(
            "-> {} {}",
            response.status,
            shown_response_headers(&response.headers)
        ),
    );
    Ok(response)
}

/// A `POST` whose body is only partly sent, so that it stays active at the
/// server until [`SlowPost::finish`]: how a case makes two POSTs overlap.
#[derive(Debug)]
pub(super) struct SlowPost {
    stream: Stream,
    rest: Vec<u8>,
}

impl SlowPost {
    /// Sends the request head and the first byte of `body` to `target`.
    pub async fn start(probe: &Probe, target: &str, body: &str) -> Result<SlowPost, CaseError> {
        let connector = &probe.endpoint().connector;
        let head = format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            connector.authority(),
            body.len()
        );
        let (first, rest) = body.as_bytes().split_at(body.len().min(1));
        probe.note(
            EventKind::Http,
            format!(
                "POST {target} {:?}, its first byte only",
                truncated(body, 80)
            ),
        );
        let start = async {
            let mut stream = connector.connect().await?;
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(first).await?;
            stream.flush().await?;
            Ok::<_, std::io::Error>(stream)
        };
        match tokio::time::timeout(probe.timeout(), start).await {
            Ok(Ok(stream)) => Ok(SlowPost {
                stream,
                rest: rest.to_vec(),
            }),
            Ok(Err(error)) => crate::broken!("POST {target}: {error}"),
            Err(_) => crate::broken!(
                "POST {target}: not sent within {} ms",
                probe.timeout().as_millis()
            ),
        }
    }

    /// Whether the server answered within `window` (it should not: the body
    /// is not complete). `Some` holds what it sent.
    pub async fn answered_within(&mut self, window: Duration) -> Option<String> {
        let mut chunk = [0u8; 256];
        match tokio::time::timeout(window, self.stream.read(&mut chunk)).await {
            Err(_) => None,
            Ok(Ok(0)) => Some("the connection closed".to_owned()),
            Ok(Ok(read)) => Some(truncated(&String::from_utf8_lossy(&chunk[..read]), 80)),
            Ok(Err(error)) => Some(format!("error: {error}")),
        }
    }

    /// Sends the rest of the body and reads the status line: `"200"`,
    /// `"400"`, or what went wrong instead.
    pub async fn finish(mut self, probe: &Probe) -> String {
        let finish = async {
            self.stream
                .write_all(&self.rest)
                .await
                .map_err(|e| format!("sending the rest: {e}"))?;
            read_head(&mut self.stream).await
        };
        let answer = match tokio::time::timeout(probe.timeout(), finish).await {
            Ok(Ok(head)) => match parse_head(&head) {
                Some(response) => response.status.to_string(),
                None if head.is_empty() => "the connection closed".to_owned(),
                None => format!("malformed {:?}", truncated(&head, 80)),
            },
            Ok(Err(error)) => error,
            Err(_) => "no answer".to_owned(),
        };
        probe.note(EventKind::Http, format!("-> {answer}"));
        answer
    }
}

/// Reads until the end of the response head (`\r\n\r\n`), bounded.
async fn read_head(stream: &mut Stream) -> Result<String, String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > RAW_HTTP_LIMIT {
            return Err(format!("response head over {RAW_HTTP_LIMIT} bytes"));
        }
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading: {e}"))?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn parse_head(head: &str) -> Option<RawHttpResponse> {
    let head = head.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(RawHttpResponse { status, headers })
}

fn shown_headers(headers: &[(&str, &str)]) -> String {
    let shown: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    format!("[{}]", shown.join(", "))
}

/// The response headers worth a trace line; `date` reads the server's wall
/// clock and would break replay, so it is left out.
fn shown_response_headers(headers: &[(String, String)]) -> String {
    let shown: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n != "date")
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    format!("[{}]", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason shows binary data the way the trace does: one rendering.
    #[test]
    fn binary_packets_and_frames_are_shown_as_the_trace_shows_them() {
        let bytes = Bytes::from_static(&[1, 2, 3]);
        let packets = [
            EioPacket::Message("hi".into()),
            EioPacket::Binary(bytes.clone()),
        ];
        assert_eq!(
            shown_packets(&packets),
            r#"["4hi", "<binary 3 bytes 010203>"]"#
        );
        assert_eq!(
            crate::cases::socketio_polling::shown(&EioPacket::Binary(bytes.clone())),
            "<binary 3 bytes 010203>"
        );
        assert_eq!(
            crate::cases::socketio_raw::shown(&Frame::Binary(bytes)),
            "<binary 3 bytes 010203>"
        );
    }

    #[test]
    fn sids_are_escaped_for_queries() {
        assert_eq!(query_escaped("aB3-_"), "aB3-_");
        assert_eq!(query_escaped("a+b/c="), "a%2Bb%2Fc%3D");
    }

    #[test]
    fn open_packets_need_exactly_the_five_keys() {
        let good = r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#;
        assert_eq!(parse_open_packet(good).expect("valid").sid, "x");
        let extra =
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3,"z":0}"#;
        assert!(parse_open_packet(extra).is_err());
        let missing = r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2}"#;
        assert!(parse_open_packet(missing).is_err());
        let wrong_type =
            r#"0{"sid":"x","upgrades":[],"pingInterval":"1","pingTimeout":2,"maxPayload":3}"#;
        assert!(parse_open_packet(wrong_type).is_err());
    }

    #[test]
    fn response_heads_parse() {
        let head = "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nDate: x\r\n\r\n";
        let response = parse_head(head).expect("parses");
        assert_eq!(response.status, 204);
        assert_eq!(
            shown_response_headers(&response.headers),
            "[access-control-allow-origin: *]"
        );
    }
}
