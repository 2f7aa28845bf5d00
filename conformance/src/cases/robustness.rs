//! `robustness::*`: what a server facing hostile clients must not allow
//! (profile `robustness`, opt-in with `--url`). Each case is bounded in time
//! and traffic, and judges by the server's own advertised timings (the slow
//! request and fan-out cases, in their own files, by stated bounds):
//!
//! - a client that stops reading, while its server has megabytes to send
//!   it, is dropped by the heartbeat it was promised;
//! - a WebSocket frame whose header declares more than `maxPayload` is
//!   refused from its header, not read whole first;
//! - a request that knows only another client's socket id cannot post on,
//!   poll or upgrade that client's session.

use std::time::Duration;

use siosim_harness::EventKind;
use siosim_harness::codec::EioPacket;
use tokio::io::AsyncWriteExt as _;
use tokio::time::Instant;

use super::engineio_wire::{PollingSession, decode, websocket_session};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::raw_websocket::Frame;
use crate::{broken, case, ensure};

const HEARTBEAT: Clause = Clause {
    spec: Spec::Robustness,
    section: "Robustness profile",
    rule: "a client that stops reading is dropped, its connection closed, within the pingInterval + pingTimeout its handshake announced, whatever the server still has to send it",
};
const MAX_PAYLOAD: Clause = Clause {
    spec: Spec::Robustness,
    section: "Robustness profile",
    rule: "a WebSocket frame whose header declares more than maxPayload bytes is refused from its header",
};
const SESSION_IDS: Clause = Clause {
    spec: Spec::Robustness,
    section: "Robustness profile",
    rule: "a request that names a session by another client's socket id is refused",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "robustness::heartbeat::reader_that_stops_reading_is_dropped",
            Should,
            Robustness,
            HEARTBEAT,
            reader_that_stops_reading_is_dropped
        ),
        case!(
            "robustness::max_payload::websocket::frame_refused_from_its_header",
            Should,
            Robustness,
            MAX_PAYLOAD,
            frame_refused_from_its_header
        ),
        case!(
            "robustness::session_ids::socket_id_drives_no_session",
            Must,
            Robustness,
            SESSION_IDS,
            socket_id_drives_no_session
        ),
    ]
}

/// CONNECTs to a namespace no server has: every Socket.IO server must
/// answer each with a CONNECT_ERROR naming that namespace, so a long name
/// makes any server send volume. The name is this long, or as long as the
/// server's maxPayload allows.
const FLOOD_NAMESPACE_BYTES: u64 = 1 << 20;

/// How many flood packets the client sends at most (about 40 MB of answers
/// with a 1 MB maxPayload: more than loopback's socket buffers hold, so the
/// server's writes stall), and how long it keeps writing once the server
/// stops reading them.
const FLOOD_PACKETS: usize = 40;
const FLOOD_WRITE_STALL: Duration = Duration::from_secs(1);

/// Margin on the server's own heartbeat for the close to reach the client.
const HEARTBEAT_GRACE: Duration = Duration::from_secs(3);

/// A client joins over WebSocket, makes the server send it megabytes (one
/// CONNECT_ERROR per CONNECT to an unknown namespace), and reads nothing
/// more, so it answers no ping. After the server's own pingInterval +
/// pingTimeout (+ a grace), the client reads what was sent: it must end in
/// the server's close (a CLOSE frame or the connection closed), not go on.
async fn reader_that_stops_reading_is_dropped(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    socket.set_answer_pings(false);
    socket.send_text("40").await?;
    let stopped = Instant::now();
    socket.set_traced(false);
    let name_bytes = FLOOD_NAMESPACE_BYTES.min(handshake.max_payload.saturating_sub(64)) as usize;
    let flood_packet = format!("40/siosim-flood-{},", "x".repeat(name_bytes));
    let sent = flood(&probe, &mut socket, &flood_packet).await?;
    let heartbeat = Duration::from_millis(handshake.ping_interval_ms)
        + Duration::from_millis(handshake.ping_timeout_ms);
    let due = stopped + heartbeat + HEARTBEAT_GRACE;
    probe.note(
        EventKind::Session,
        format!(
            "sent {sent} CONNECTs to an unknown {name_bytes}-byte namespace without reading; reads again in {} ms (pingInterval + pingTimeout + {} ms)",
            due.saturating_duration_since(Instant::now()).as_millis(),
            HEARTBEAT_GRACE.as_millis()
        ),
    );
    let mut dropped = probe_until_dropped(&mut socket, stopped, due).await;
    if dropped.is_none() && probe.in_simulation() {
        // turmoil's TCP answers no reset to data sent to a closed socket,
        // and has no flow control (a server's writes never stall there), so
        // in simulation reading shows the close as it happened.
        dropped = match drain_until_closed(&mut socket, probe.timeout()).await {
            Drained::Closed { how } => Some(format!("closed when read at the deadline ({how})")),
            Drained::Open => None,
        };
    }
    socket.set_traced(true);
    match dropped {
        Some(how) => Ok(format!(
            "{sent} CONNECTs unread; dropped within {} ms of the client's last read: {how}",
            (heartbeat + HEARTBEAT_GRACE).as_millis()
        )),
        None => broken!(
            "a client that read nothing for {} ms (pingInterval {} + pingTimeout {} + {} ms) was still connected",
            (heartbeat + HEARTBEAT_GRACE).as_millis(),
            handshake.ping_interval_ms,
            handshake.ping_timeout_ms,
            HEARTBEAT_GRACE.as_millis()
        ),
    }
}

/// How often a client that reads nothing checks it is still connected.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// Writes a WebSocket ping frame every [`PROBE_EVERY`] until one fails (the
/// server has closed the connection: when, since the client's last read at
/// `stopped`) or `due` passes (`None`).
/// Reading would tell too, but would also unblock a server whose writes
/// stalled, letting it close late and seem prompt.
async fn probe_until_dropped(
    socket: &mut crate::RawWebSocket,
    stopped: Instant,
    due: Instant,
) -> Option<String> {
    let ping = masked_header(OPCODE_PING, 0);
    while Instant::now() < due {
        let write = async {
            let stream = socket.stream_mut();
            stream.write_all(&ping).await?;
            stream.flush().await
        };
        // A write that waits means the server reads nothing either: not
        // dropped, not yet proven gone.
        if let Ok(Err(error)) = tokio::time::timeout(PROBE_EVERY, write).await {
            return Some(format!(
                "a write failed {} ms after it stopped reading ({error})",
                stopped.elapsed().as_millis()
            ));
        }
        tokio::time::sleep(PROBE_EVERY.min(due.saturating_duration_since(Instant::now()))).await;
    }
    None
}

/// Writes `packet` until [`FLOOD_PACKETS`] are sent or a write has waited
/// [`FLOOD_WRITE_STALL`] (the server stopped reading); the count sent.
async fn flood(
    probe: &Probe,
    socket: &mut crate::RawWebSocket,
    packet: &str,
) -> Result<usize, CaseError> {
    let deadline = Instant::now() + probe.timeout();
    for sent in 0..FLOOD_PACKETS {
        if Instant::now() >= deadline {
            return Ok(sent);
        }
        match tokio::time::timeout(FLOOD_WRITE_STALL, socket.send_text(packet)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return Ok(sent),
        }
    }
    Ok(FLOOD_PACKETS)
}

enum Drained {
    Closed { how: String },
    Open,
}

/// Reads frames until the connection closes, or none comes for `quiet`.
async fn drain_until_closed(socket: &mut crate::RawWebSocket, quiet: Duration) -> Drained {
    loop {
        match socket.next_within(quiet).await {
            Ok(Some(_)) => {}
            Ok(None) => return Drained::Open,
            Err(_) => {
                let how = socket.closed().unwrap_or("closed").to_owned();
                return Drained::Closed { how };
            }
        }
    }
}

/// A frame header declaring this many times maxPayload, capped under the
/// 16 MiB that common WebSocket libraries refuse by default anyway.
const DECLARED_TIMES_MAX_PAYLOAD: u64 = 10;
const DECLARED_CAP: u64 = 15 << 20;
/// Payload bytes actually sent after the oversized header.
const SENT_OF_OVERSIZED: usize = 1_024;

/// A WebSocket session sends one frame header declaring ten times the
/// server's maxPayload, then a kilobyte of it: the server must close the
/// connection (or send a CLOSE frame) within its reaction time, without
/// waiting for the rest.
async fn frame_refused_from_its_header(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    socket.send_text("40").await?;
    let declared = (handshake
        .max_payload
        .saturating_mul(DECLARED_TIMES_MAX_PAYLOAD))
    .min(DECLARED_CAP);
    if declared <= handshake.max_payload {
        return Err(CaseError::NotApplicable(format!(
            "maxPayload {} leaves no frame size over it under {DECLARED_CAP} bytes",
            handshake.max_payload
        )));
    }
    let mut frame = masked_header(OPCODE_TEXT, declared);
    frame.extend(std::iter::repeat_n(b'x', SENT_OF_OVERSIZED));
    probe.note(
        EventKind::Send,
        format!(
            "a text frame header declaring {declared} bytes (maxPayload {}), then {SENT_OF_OVERSIZED} of them",
            handshake.max_payload
        ),
    );
    let wrote = async {
        let stream = socket.stream_mut();
        stream.write_all(&frame).await?;
        stream.flush().await
    };
    if let Ok(Err(error)) = tokio::time::timeout(probe.timeout(), wrote).await {
        return Ok(format!(
            "the connection was closed while the frame was written ({error})"
        ));
    }
    match drain_until_closed(&mut socket, probe.timeout()).await {
        Drained::Closed { how, .. } => {
            Ok(format!("{declared}-byte frame declared: closed ({how})"))
        }
        Drained::Open => broken!(
            "a frame declaring {declared} bytes, over maxPayload {}, was still being read {} ms later",
            handshake.max_payload,
            probe.timeout().as_millis()
        ),
    }
}

const OPCODE_TEXT: u8 = 0x1;
const OPCODE_PING: u8 = 0x9;

/// A client-to-server frame header (FIN set) for `length` payload bytes,
/// masked with a zero key (so the payload is sent as is).
fn masked_header(opcode: u8, length: u64) -> Vec<u8> {
    let mut header = vec![0x80 | opcode];
    match length {
        0..=125 => header.push(0x80 | length as u8),
        126..=0xFFFF => {
            header.push(0x80 | 126);
            header.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            header.push(0x80 | 127);
            header.extend_from_slice(&length.to_be_bytes());
        }
    }
    header.extend_from_slice(&[0, 0, 0, 0]);
    header
}

/// A polling client joins `/` and learns its socket id, as any other client
/// could (an app shows it); then a request that only knows that id posts an
/// event, polls and asks for an upgrade naming it as the session: each must
/// be refused (anything but 200 / 101).
async fn socket_id_drives_no_session(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    session.drain().await?;
    session.post_accepted(&probe.with_auth("40")).await?;
    let socket_id = connected_socket_id(&session).await?;
    let named = |transport: &str| {
        probe.engine_target(&format!("EIO=4&transport={transport}&sid={socket_id}"))
    };
    let post = probe
        .http(
            "POST",
            &named("polling"),
            Some("text/plain;charset=UTF-8"),
            r#"42["siosim-robustness","sent with a socket id"]"#.to_owned(),
        )
        .await?;
    ensure!(
        post.status != 200,
        "a POST naming the socket id {socket_id:?} as its session was accepted: 200 {:?} (anyone who learns a socket id can send as that client)",
        truncated(&post.body_text(), 60)
    );
    let poll = probe.get(&named("polling")).await?;
    ensure!(
        poll.status != 200,
        "a GET naming the socket id {socket_id:?} as its session was answered 200 {:?} (anyone who learns a socket id can read that client's messages)",
        truncated(&poll.body_text(), 60)
    );
    let upgrade = crate::RawWebSocket::try_open(probe.clone(), &named("websocket")).await?;
    if let Ok(socket) = upgrade {
        // Accepted at the HTTP level: it must at least not serve a probe.
        let mut socket = socket;
        socket.send_text("2probe").await?;
        if let Ok(Some(Frame::Text(text))) = socket.next_within(probe.timeout()).await
            && text == "3probe"
        {
            broken!(
                "a WebSocket naming the socket id {socket_id:?} as its session answered the upgrade probe: anyone who learns a socket id can take the session over"
            );
        }
    }
    Ok(format!(
        "socket id {socket_id:?} (session {:?}): POST {}, GET {}, upgrade refused",
        session.sid(),
        post.status,
        poll.status
    ))
}

/// Polls until the answer to `40` arrives; the socket id it carries.
pub(super) async fn connected_socket_id(session: &PollingSession) -> Result<String, CaseError> {
    let (interval, _) = session.heartbeat();
    for _ in 0..MAX_POLLS {
        let body = session.poll(interval).await?;
        let packets = decode(&body)?;
        session.answer_pings(&packets).await?;
        for packet in &packets {
            // An Engine.IO message carrying a Socket.IO CONNECT (`0`) or
            // CONNECT_ERROR (`4`) for `/`.
            let EioPacket::Message(text) = packet else {
                continue;
            };
            if let Some(rest) = text.strip_prefix('4') {
                broken!("the CONNECT was refused: {:?}", truncated(rest, 80));
            }
            if let Some(sid) = text
                .strip_prefix("0{")
                .and_then(|rest| rest.split("\"sid\":\"").nth(1))
                .and_then(|rest| rest.split('"').next())
            {
                return Ok(sid.to_owned());
            }
        }
    }
    broken!("no answer to \"40\" in {MAX_POLLS} polls")
}

/// Polls a case makes while waiting for one answer.
const MAX_POLLS: usize = 8;
