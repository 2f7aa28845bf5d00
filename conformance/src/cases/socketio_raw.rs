//! Socket.IO over a bare WebSocket, frame by frame, the way the official
//! socket.io-protocol test suite drives a server: for the `socketio::*` cases
//! that check the server's exact bytes or send what no client would.

use std::time::Duration;

use siosim_harness::codec::{EioPacket, Handshake};
use siosim_harness::trace::binary_text;
use tokio::time::Instant;

use crate::case::CaseError;
use crate::probe::{Probe, truncated};
use crate::raw_websocket::{Frame, RawWebSocket};
use crate::{broken, ensure};

/// A namespace no server defines. A CONNECT to it must be answered (with
/// CONNECT_ERROR, or CONNECT by a server that accepts any namespace), so its
/// answer proves the server is still reading the connection: the barrier
/// after a packet that should have closed it.
pub(super) const BARRIER_NAMESPACE: &str = "/siosim-barrier";

/// Frames skipped while looking for one: a server greets with a few events
/// at most (the reference server sends `get count` before `auth`).
const MAX_SKIPPED_FRAMES: usize = 16;

/// How a frame is shown in a reason: text as is (cut), binary as the trace
/// shows it.
pub(super) fn shown(frame: &Frame) -> String {
    match frame {
        Frame::Text(text) => format!("{:?}", truncated(text, 160)),
        Frame::Binary(bytes) => binary_text(bytes),
    }
}

/// `frames` as a readable list.
pub(super) fn shown_all(frames: &[Frame]) -> String {
    let shown: Vec<String> = frames.iter().map(shown).collect();
    format!("[{}]", shown.join(", "))
}

/// The text after the packet type of a Socket.IO packet for `namespace` in
/// an Engine.IO message: `4<type>` plus `<namespace>,` unless it is `/`.
pub(super) fn packet_prefix(type_digit: char, namespace: &str) -> String {
    match namespace {
        "/" => format!("4{type_digit}"),
        _ => format!("4{type_digit}{namespace},"),
    }
}

/// Whether `text` is an EVENT named `event` on `namespace`.
pub(super) fn is_event(text: &str, namespace: &str, event: &str) -> bool {
    let name = serde_json::to_string(event).unwrap_or_default();
    text.strip_prefix(&packet_prefix('2', namespace))
        .and_then(|rest| rest.strip_prefix('['))
        .is_some_and(|rest| rest.starts_with(&name))
}

/// Opens a bare WebSocket session and reads its Engine.IO OPEN packet.
pub(super) async fn open(probe: &Probe) -> Result<(RawWebSocket, Handshake), CaseError> {
    let mut socket = probe
        .raw_websocket(&probe.engine_target("EIO=4&transport=websocket"))
        .await?;
    let first = socket.next_text().await?;
    match EioPacket::decode_text(&first) {
        Ok(EioPacket::Open(handshake)) => Ok((socket, handshake)),
        _ => broken!(
            "the WebSocket session opened with {:?}, not an Engine.IO OPEN packet",
            truncated(&first, 160)
        ),
    }
}

/// Sends the CONNECT packet `request` (e.g. `40`, `40/custom,{"token":"abc"}`)
/// and returns the server's answer, which must be the next frame and a
/// CONNECT for `namespace`.
pub(super) async fn connect(
    socket: &mut RawWebSocket,
    request: &str,
    namespace: &str,
) -> Result<String, CaseError> {
    socket.send_text(request).await?;
    let answer = socket
        .next()
        .await
        .map_err(|error| CaseError::Broken(format!("no answer to {request:?}: {error}")))?;
    let Frame::Text(answer) = answer else {
        broken!("{request:?} was answered by {}", shown(&answer));
    };
    ensure!(
        connect_payload(&answer, namespace).is_some(),
        "{request:?} was answered by {:?}, not a CONNECT for {namespace}",
        truncated(&answer, 160)
    );
    Ok(answer)
}

/// The JSON after `40` (`/`) or `40<namespace>,`, if `answer` is a CONNECT
/// packet for `namespace`.
pub(super) fn connect_payload<'a>(answer: &'a str, namespace: &str) -> Option<&'a str> {
    let payload = answer.strip_prefix(&packet_prefix('0', namespace))?;
    // `40/custom,…` also starts with `40`: the main namespace's payload is
    // the JSON right after it.
    (namespace != "/" || !payload.starts_with('/')).then_some(payload)
}

/// The `sid` of a CONNECT answer for `namespace`, whatever else it carries.
pub(super) fn sid(answer: &str, namespace: &str) -> Result<String, CaseError> {
    let payload = connect_payload(answer, namespace).unwrap_or_default();
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(payload) else {
        broken!(
            "the CONNECT answer {:?} carries no JSON object",
            truncated(answer, 160)
        );
    };
    match fields.get("sid") {
        Some(serde_json::Value::String(sid)) if !sid.is_empty() => Ok(sid.clone()),
        _ => broken!(
            "the CONNECT answer {:?} has no non-empty string \"sid\"",
            truncated(answer, 160)
        ),
    }
}

/// Checks that a CONNECT answer carries exactly `{"sid": <string>}`, as the
/// official suite requires; returns the sid.
pub(super) fn sid_only(answer: &str, namespace: &str) -> Result<String, CaseError> {
    let sid = sid(answer, namespace)?;
    let payload = connect_payload(answer, namespace).unwrap_or_default();
    let keys = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(payload)
        .map(|fields| fields.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    ensure!(
        keys.len() == 1,
        "the CONNECT answer {:?} has the keys {keys:?}, not just \"sid\"",
        truncated(answer, 160)
    );
    Ok(sid)
}

/// Reads frames until a text frame `wanted` accepts, skipping a few others;
/// returns it and the frames skipped on the way. `what` names it in reasons.
pub(super) async fn until(
    socket: &mut RawWebSocket,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<(String, Vec<Frame>), CaseError> {
    let mut skipped = Vec::new();
    while skipped.len() <= MAX_SKIPPED_FRAMES {
        let frame = socket.next().await.map_err(|error| {
            CaseError::Broken(format!(
                "no {what}: {error}; frames before: {}",
                shown_all(&skipped)
            ))
        })?;
        match frame {
            Frame::Text(text) if wanted(&text) => return Ok((text, skipped)),
            other => skipped.push(other),
        }
    }
    broken!(
        "no {what} among the first {} frames: {}",
        skipped.len(),
        shown_all(&skipped)
    )
}

/// Waits for the `auth` event on `namespace` and checks its exact bytes;
/// returns the frames the server sent before it.
///
/// The official tests read `auth` as the very next frame after the CONNECT
/// answer, because their test server emits nothing else. A server that also
/// claims the app contract greets with its own events too (the reference
/// sends `get count` first), and the spec leaves the order of events a
/// server emits on connect to the application. So up to 16 other *events*
/// may come first (any other packet breaks the case); the caller lists them
/// in its note. What the official tests check, the `auth` bytes, is checked
/// exactly.
pub(super) async fn auth(
    socket: &mut RawWebSocket,
    namespace: &str,
    expected: &str,
) -> Result<Vec<Frame>, CaseError> {
    let (frame, before) = until(socket, &format!("\"auth\" event on {namespace}"), |text| {
        is_event(text, namespace, "auth")
    })
    .await?;
    ensure!(
        frame == expected,
        "the \"auth\" event is {:?}, expected {expected:?}",
        truncated(&frame, 160)
    );
    ensure!(
        before
            .iter()
            .all(|f| matches!(f, Frame::Text(text) if text.starts_with("42"))),
        "before the \"auth\" event came other packets than events: {}",
        shown_all(&before)
    );
    Ok(before)
}

/// A bare session joined to `/`: OPEN read, `40` sent, CONNECT answered.
pub(super) async fn joined(probe: &Probe) -> Result<RawWebSocket, CaseError> {
    let (mut socket, _) = open(probe).await?;
    connect(&mut socket, "40", "/").await?;
    Ok(socket)
}

/// The official suite's `initSocketIOConnection`: a bare session joined to
/// `/`, past the `auth` event (`42["auth",{}]`) of the echo contract.
pub(super) async fn joined_past_auth(probe: &Probe) -> Result<RawWebSocket, CaseError> {
    let mut socket = joined(probe).await?;
    auth(&mut socket, "/", r#"42["auth",{}]"#).await?;
    Ok(socket)
}

/// The next frame, which must be exactly `expected` (text).
pub(super) async fn expect_text(
    socket: &mut RawWebSocket,
    expected: &str,
) -> Result<(), CaseError> {
    let frame = socket
        .next()
        .await
        .map_err(|error| CaseError::Broken(format!("waiting for {expected:?}: {error}")))?;
    ensure!(
        frame == Frame::Text(expected.to_owned()),
        "expected {expected:?}, got {}",
        shown(&frame)
    );
    Ok(())
}

/// The next frame, which must be exactly `expected` (binary).
pub(super) async fn expect_binary(
    socket: &mut RawWebSocket,
    expected: &[u8],
) -> Result<(), CaseError> {
    let frame = socket.next().await.map_err(|error| {
        CaseError::Broken(format!("waiting for the attachment {expected:?}: {error}"))
    })?;
    ensure!(
        matches!(&frame, Frame::Binary(bytes) if bytes.as_ref() == expected),
        "expected the binary attachment {}, got {}",
        binary_text(expected),
        shown(&frame)
    );
    Ok(())
}

/// What the server did after a packet meant to make it close the connection,
/// judged by a CONNECT to [`BARRIER_NAMESPACE`] sent right after it.
#[derive(Debug)]
pub(super) enum AfterBarrier {
    /// The connection ended (how), before any answer to the barrier.
    Closed(String),
    /// The server answered the barrier: it kept reading the connection.
    /// `before` are the frames it sent first, `answer` its answer.
    Open { before: Vec<Frame>, answer: String },
}

/// Sends the barrier CONNECT and waits up to `within` for the connection to
/// end or for the barrier's answer. Silence breaks the case.
pub(super) async fn barrier(
    socket: &mut RawWebSocket,
    within: Duration,
) -> Result<AfterBarrier, CaseError> {
    let request = format!("40{BARRIER_NAMESPACE},");
    let started = Instant::now();
    // The server may already be closing: a failed send is judged by what
    // the connection says next, not reported as such.
    let _ = socket.send_text(&request).await;
    let is_answer = |text: &str| {
        text.starts_with(&packet_prefix('0', BARRIER_NAMESPACE))
            || text.starts_with(&packet_prefix('4', BARRIER_NAMESPACE))
    };
    let mut before = Vec::new();
    loop {
        let left = within.saturating_sub(started.elapsed());
        match socket.next_within(left).await {
            Err(_) => {
                let reason = socket.closed().unwrap_or("ended").to_owned();
                return Ok(AfterBarrier::Closed(reason));
            }
            // An Engine.IO CLOSE packet ends the session even if the
            // WebSocket lingers (and the server goes on answering).
            Ok(Some(Frame::Text(text))) if text == "1" => {
                return Ok(AfterBarrier::Closed(
                    "Engine.IO close packet \"1\"".to_owned(),
                ));
            }
            Ok(Some(Frame::Text(text))) if is_answer(&text) => {
                return Ok(AfterBarrier::Open {
                    before,
                    answer: text,
                });
            }
            Ok(Some(frame)) if before.len() < MAX_SKIPPED_FRAMES => before.push(frame),
            Ok(Some(_)) | Ok(None) => broken!(
                "after {request:?} the server neither closed the connection nor answered \
                 within {} ms; frames: {}",
                started.elapsed().as_millis(),
                shown_all(&before)
            ),
        }
    }
}

/// Sends `packet`, which should make the server close the connection, and
/// judges by the barrier: `Ok(how it closed)`, or a reason saying that the
/// server kept reading.
pub(super) async fn expect_close_after(
    probe: &Probe,
    socket: &mut RawWebSocket,
    packet: &str,
) -> Result<String, CaseError> {
    socket.send_text(packet).await?;
    match barrier(socket, probe.timeout()).await? {
        AfterBarrier::Closed(how) => Ok(format!("closed after {packet:?}: {how}")),
        AfterBarrier::Open { before, answer } => broken!(
            "the connection stayed open after {packet:?}: the server went on to answer \
             a later CONNECT with {:?}{}",
            truncated(&answer, 120),
            if before.is_empty() {
                String::new()
            } else {
                format!(" (frames before: {})", shown_all(&before))
            }
        ),
    }
}
