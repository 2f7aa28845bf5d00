//! `engineio::*`: the Engine.IO v4 transport rules (handshake, message
//! framing, heartbeat, close, upgrade), as the official test suites check
//! them: each of the 25 tests of the current engine.io suite
//! (socketio/socket.io, `docs/engine.io-protocol/v4-test-suite/test-suite.js`)
//! and of the 16 tests of the "Engine.IO protocol" part of the Socket.IO
//! suite (`docs/socket.io-protocol/v5-test-suite/test-suite.js`) has a case
//! checking at least what it checks, with the same inputs and expected
//! bytes (the test-to-case table is `conformance/tests/it/official_suites.rs`).
//! Beyond them: the
//! spec's rules the suites skip (overlapping POSTs, the GET pending during
//! an upgrade) and what a server author needs (maxPayload, the first ping,
//! CORS, the advertised timings).
//!
//! Where a Socket.IO server needs the suite adapted:
//! - The engine.io suite runs against a bare Engine.IO server that echoes
//!   every message (`4hello` → `4hello`). A Socket.IO server has no such
//!   echo: a message packet must carry a Socket.IO packet. So the message
//!   cases send the one packet every Socket.IO server answers, a CONNECT to
//!   `/` (`40` → `40{"sid":…}`), and the cases that need an echo (several
//!   packets, binary) use the official Socket.IO test server's `message` →
//!   `message-back` (profile `echo`), with the suite's payload bytes.
//! - The heartbeat cases join `/` first, so that a Socket.IO server's
//!   connect timeout (which may be shorter than three ping intervals) cannot
//!   end the session before the heartbeat does.
//! - Where the suite races two requests (a GET pending while another
//!   arrives; the request after an upgrade), the case waits for proof
//!   instead: a GET unanswered for a window ([`pending_window`]), or `40`
//!   answered over the upgraded WebSocket.
//!
//! - Verdicts must not depend on the server's timers: promptness is judged
//!   against the server's own advertised timings ([`reaction_time`]: its
//!   pingTimeout, at most the probe's timeout; a heartbeat round for a
//!   WebSocket to close once its session ended), and a session a case needs
//!   alive is kept alive (joined, pings answered), so that no heartbeat or
//!   connect timeout can decide the verdict.
//!
//! Every wait is bounded by the probe's timeout plus, where the protocol
//! allows the server to take its time, the server's own timings from its
//! handshake.

use std::time::Duration;

use serde_json::Value;
use siosim_harness::EventKind;
use siosim_harness::codec::{EioPacket, Handshake};
use tokio::time::Instant;

use super::engineio_wire::{
    Answer, POLLING_QUERY, PollingSession, SlowPost, WEBSOCKET_QUERY, decode,
    expect_closed_unserved, expect_websocket_refused, parse_open_packet, raw_http, shown_packets,
    websocket_session,
};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::raw_websocket::{Frame, RawWebSocket};
use crate::{broken, case, ensure};

const HANDSHAKE: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Handshake",
    rule: "the server answers a request without sid with an OPEN packet carrying sid, upgrades, pingInterval, pingTimeout and maxPayload",
};

const QUERY_PARAMETERS: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Query parameters",
    rule: "EIO (protocol version, 4) and transport are mandatory; a request with an invalid value is rejected with HTTP 400",
};

const REQUEST_METHOD: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Handshake",
    rule: "a session starts with an HTTP GET; the official suite requires a POST or PUT without sid to be rejected with HTTP 400",
};

const UNKNOWN_SID: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Sending and receiving data",
    rule: "the server MUST return an HTTP 400 response if the session ID (from the sid query parameter) is not known",
};

const WEBSOCKET_QUERY_PARAMETERS: Clause = Clause {
    spec: Spec::EngineIo,
    section: "WebSocket",
    rule: "if a mandatory query parameter (EIO, transport) is missing or invalid, the server MUST close the WebSocket connection",
};

const WEBSOCKET_UNKNOWN_SID: Clause = Clause {
    spec: Spec::EngineIo,
    section: "WebSocket",
    rule: "sid is only for upgrading an existing session; a WebSocket naming an unknown session should be refused rather than served",
};

const HEADERS: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Headers",
    rule: "Content-Type: application/octet-stream only with binary data; v4 polling payloads are always text (binary is base64), so they go as text/plain",
};

const SENDING_DATA: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Sending and receiving data",
    rule: "a POST carries packets; to indicate success the server MUST return HTTP 200 with the string ok in the body; a GET receives the packets the server buffered",
};

const POLLING_ENCODING: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Packet encoding",
    rule: "over HTTP long-polling packets are concatenated, separated by \\x1e; binary payloads MUST be base64-encoded and prefixed with b",
};

const WEBSOCKET_ENCODING: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Packet encoding",
    rule: "over WebSocket each Engine.IO packet is sent in its own frame; binary payloads are sent as is (a raw binary frame)",
};

const INVALID_PACKET: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Packet encoding",
    rule: "a payload that is not a valid packet encoding ends the session (official suite: \"closes the session upon invalid packet format\")",
};

const DUPLICATE_GET: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Sending and receiving data",
    rule: "a client MUST NOT have more than one active GET request; should it happen, the server MUST return an HTTP 400 error status and close the session",
};

const CANCELLED_GET: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Sending and receiving data",
    rule: "official suite (\"closes the session upon cancelled polling request\"): a GET the client aborts while it is pending ends the session; the next GET with that sid answers HTTP 400",
};

const DUPLICATE_POST: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Sending and receiving data",
    rule: "a client MUST NOT have more than one active POST request; should it happen, the server MUST return an HTTP 400 error status and close the session",
};

const HEARTBEAT: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Heartbeat",
    rule: "at every pingInterval the server sends a ping packet (2) and the client has pingTimeout to send a pong (3) back",
};

const HEARTBEAT_TIMEOUT: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Heartbeat",
    rule: "if the server does not receive a pong, it considers the connection closed (official suite: the session is gone after pingInterval + pingTimeout)",
};

const CLOSE: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Protocol",
    rule: "close (1) indicates that a transport can be closed; official suite: a client's CLOSE packet forcefully closes the session",
};

const CLOSE_NOOP: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Protocol",
    rule: "official suite: when a client's CLOSE packet ends the session, its pending GET is answered with a noop packet, exactly \"6\"",
};

const UPGRADE: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Upgrade",
    rule: "the server answers 2probe with 3probe, sends a noop (6) to the pending GET, and after the client's upgrade packet (5) the session continues over WebSocket",
};

const UPGRADE_PENDING_GET: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Upgrade",
    rule: "the server MUST send a noop packet to any pending GET request to cleanly close the HTTP long-polling transport",
};

const UPGRADE_ENDS_POLLING: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Upgrade",
    rule: "once upgraded, the session's HTTP long-polling transport is closed: a polling request with the same sid is refused with HTTP 400",
};

const ONE_WEBSOCKET: Clause = Clause {
    spec: Spec::EngineIo,
    section: "WebSocket",
    rule: "a client MUST NOT open more than one WebSocket connection per session; should it happen, the server MUST close the WebSocket connection",
};

const MAX_PAYLOAD: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Handshake",
    rule: "maxPayload is the maximum number of bytes per chunk; a server enforcing it refuses a larger polling body or WebSocket message",
};

const CORS: Clause = Clause {
    spec: Spec::EngineIo,
    section: "HTTP long-polling",
    rule: "browsers reach a polling endpoint on another origin only if the server answers CORS; the official suite's server allows origin *",
};

/// Suite payloads. The echo ones are the official Socket.IO test server's
/// `message` event, which it sends back as `message-back`.
const CONNECT_MAIN: &str = "40";
const SEVERAL_MESSAGES: [&str; 3] = [
    r#"42["message","test1"]"#,
    r#"42["message","test2"]"#,
    r#"42["message","test3"]"#,
];
const SEVERAL_ECHOES: [&str; 3] = [
    r#"42["message-back","test1"]"#,
    r#"42["message-back","test2"]"#,
    r#"42["message-back","test3"]"#,
];
const BINARY_MESSAGE: &str = r#"451-["message",{"_placeholder":true,"num":0}]"#;
const BINARY_ECHO: &str = r#"451-["message-back",{"_placeholder":true,"num":0}]"#;
const BINARY_BYTES: [u8; 4] = [1, 2, 3, 4];
const UNKNOWN_SID_VALUE: &str = "siosim-unknown-sid";
/// Largest body the probe sends to test maxPayload: a server advertising
/// more is not tested rather than sent gigabytes.
const MAX_OVERSIZED_BODY: u64 = 16 << 20;

pub(super) fn cases() -> Vec<Case> {
    let mut cases = handshake_cases();
    cases.extend(message_cases());
    cases.extend(heartbeat_cases());
    cases.extend(close_and_upgrade_cases());
    cases.extend(beyond_the_suite_cases());
    cases
}

fn handshake_cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::handshake::polling::opens_a_session",
            Must,
            Protocol,
            HANDSHAKE,
            polling_opens_a_session
        ),
        case!(
            "engineio::handshake::polling::rejects_invalid_eio",
            Must,
            Protocol,
            QUERY_PARAMETERS,
            polling_rejects_invalid_eio
        ),
        case!(
            "engineio::handshake::polling::rejects_invalid_transport",
            Must,
            Protocol,
            QUERY_PARAMETERS,
            polling_rejects_invalid_transport
        ),
        case!(
            "engineio::handshake::polling::rejects_invalid_method",
            Must,
            Protocol,
            REQUEST_METHOD,
            polling_rejects_invalid_method
        ),
        case!(
            "engineio::handshake::polling::rejects_unknown_sid",
            Must,
            Protocol,
            UNKNOWN_SID,
            polling_rejects_unknown_sid
        ),
        case!(
            "engineio::handshake::polling::answers_text_plain",
            Should,
            Protocol,
            HEADERS,
            polling_answers_text_plain
        ),
        case!(
            "engineio::handshake::websocket::opens_a_session",
            Must,
            Protocol,
            HANDSHAKE,
            websocket_opens_a_session
        ),
        case!(
            "engineio::handshake::websocket::rejects_invalid_eio",
            Must,
            Protocol,
            WEBSOCKET_QUERY_PARAMETERS,
            websocket_rejects_invalid_eio
        ),
        case!(
            "engineio::handshake::websocket::rejects_invalid_transport",
            Must,
            Protocol,
            WEBSOCKET_QUERY_PARAMETERS,
            websocket_rejects_invalid_transport
        ),
        case!(
            "engineio::handshake::websocket::rejects_unknown_sid",
            Should,
            Protocol,
            WEBSOCKET_UNKNOWN_SID,
            websocket_rejects_unknown_sid
        ),
        case!(
            "engineio::handshake::advertised_parameters",
            Info,
            Protocol,
            HANDSHAKE,
            advertised_parameters
        ),
    ]
}

fn message_cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::message::polling::delivers_one_text_packet",
            Must,
            Protocol,
            SENDING_DATA,
            polling_delivers_one_text_packet
        ),
        case!(
            "engineio::message::polling::delivers_several_packets",
            Must,
            Echo,
            POLLING_ENCODING,
            polling_delivers_several_packets
        ),
        case!(
            "engineio::message::polling::delivers_text_and_binary_packets",
            Must,
            Echo,
            POLLING_ENCODING,
            polling_delivers_text_and_binary_packets
        ),
        case!(
            "engineio::message::polling::closes_on_invalid_packet",
            Must,
            Protocol,
            INVALID_PACKET,
            polling_closes_on_invalid_packet
        ),
        case!(
            "engineio::message::polling::closes_on_duplicate_get",
            Must,
            Protocol,
            DUPLICATE_GET,
            polling_closes_on_duplicate_get
        ),
        case!(
            "engineio::message::polling::closes_on_cancelled_get",
            Must,
            Protocol,
            CANCELLED_GET,
            polling_closes_on_cancelled_get
        ),
        case!(
            "engineio::message::polling::closes_on_duplicate_post",
            Must,
            Protocol,
            DUPLICATE_POST,
            polling_closes_on_duplicate_post
        ),
        case!(
            "engineio::message::websocket::delivers_a_text_packet",
            Must,
            Protocol,
            WEBSOCKET_ENCODING,
            websocket_delivers_a_text_packet
        ),
        case!(
            "engineio::message::websocket::delivers_a_binary_packet",
            Must,
            Echo,
            WEBSOCKET_ENCODING,
            websocket_delivers_a_binary_packet
        ),
        case!(
            "engineio::message::websocket::closes_on_invalid_packet",
            Must,
            Protocol,
            INVALID_PACKET,
            websocket_closes_on_invalid_packet
        ),
    ]
}

fn heartbeat_cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::heartbeat::polling::sends_pings",
            Must,
            Protocol,
            HEARTBEAT,
            polling_sends_pings
        ),
        case!(
            "engineio::heartbeat::polling::closes_on_ping_timeout",
            Must,
            Protocol,
            HEARTBEAT_TIMEOUT,
            polling_closes_on_ping_timeout
        ),
        case!(
            "engineio::heartbeat::websocket::sends_pings",
            Must,
            Protocol,
            HEARTBEAT,
            websocket_sends_pings
        ),
        case!(
            "engineio::heartbeat::websocket::closes_on_ping_timeout",
            Must,
            Protocol,
            HEARTBEAT_TIMEOUT,
            websocket_closes_on_ping_timeout
        ),
        case!(
            "engineio::heartbeat::first_ping_delay",
            Info,
            Protocol,
            HEARTBEAT,
            first_ping_delay
        ),
    ]
}

fn close_and_upgrade_cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::close::polling::closes_the_session",
            Must,
            Protocol,
            CLOSE,
            polling_close_closes_the_session
        ),
        case!(
            "engineio::close::polling::answers_the_pending_get_with_noop",
            Must,
            Protocol,
            CLOSE_NOOP,
            polling_close_answers_the_pending_get_with_noop
        ),
        case!(
            "engineio::close::websocket::closes_the_session",
            Must,
            Protocol,
            CLOSE,
            websocket_close_closes_the_session
        ),
        case!(
            "engineio::upgrade::polling_to_websocket::succeeds",
            Must,
            Protocol,
            UPGRADE,
            upgrade_succeeds
        ),
        case!(
            "engineio::upgrade::polling_to_websocket::ends_the_pending_get_with_noop",
            Must,
            Protocol,
            UPGRADE_PENDING_GET,
            upgrade_ends_the_pending_get_with_noop
        ),
        case!(
            "engineio::upgrade::polling_to_websocket::refuses_a_second_websocket_while_probing",
            Must,
            Protocol,
            ONE_WEBSOCKET,
            upgrade_refuses_a_second_websocket_while_probing
        ),
        case!(
            "engineio::upgrade::polling_to_websocket::ignores_polling_afterwards",
            Must,
            Protocol,
            UPGRADE_ENDS_POLLING,
            upgrade_ignores_polling_afterwards
        ),
        case!(
            "engineio::upgrade::polling_to_websocket::ignores_a_second_websocket",
            Must,
            Protocol,
            ONE_WEBSOCKET,
            upgrade_ignores_a_second_websocket
        ),
    ]
}

fn beyond_the_suite_cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::max_payload::polling::refuses_an_oversized_post",
            Should,
            Protocol,
            MAX_PAYLOAD,
            polling_refuses_an_oversized_post
        ),
        case!(
            "engineio::max_payload::websocket::closes_on_an_oversized_message",
            Should,
            Protocol,
            MAX_PAYLOAD,
            websocket_closes_on_an_oversized_message
        ),
        case!(
            "engineio::headers::polling::cors",
            Info,
            Protocol,
            CORS,
            polling_cors
        ),
    ]
}

// ---------------------------------------------------------------- handshake

async fn polling_opens_a_session(probe: Probe) -> CaseOutcome {
    let response = probe.get(&probe.engine_target(POLLING_QUERY)).await?;
    ensure!(
        response.status == 200,
        "answered {} {:?} instead of 200",
        response.status,
        truncated(&response.body_text(), 120)
    );
    let handshake = parse_open_packet(&response.body_text())?;
    ensure!(
        handshake.upgrades == ["websocket"],
        "upgrades is {:?}, the suite expects [\"websocket\"]",
        handshake.upgrades
    );
    Ok(String::new())
}

/// GETs each target and requires 400 of every one.
async fn expect_400s(probe: &Probe, method: &str, queries: &[&str]) -> CaseOutcome {
    for query in queries {
        let target = probe.engine_target(query);
        let response = probe.http(method, &target, None, Vec::new()).await?;
        ensure!(
            response.status == 400,
            "{method} {target} answered {} {:?} instead of 400",
            response.status,
            truncated(&response.body_text(), 120)
        );
    }
    Ok(String::new())
}

async fn polling_rejects_invalid_eio(probe: Probe) -> CaseOutcome {
    expect_400s(
        &probe,
        "GET",
        &["transport=polling", "EIO=abc&transport=polling"],
    )
    .await
}

async fn polling_rejects_invalid_transport(probe: Probe) -> CaseOutcome {
    expect_400s(&probe, "GET", &["EIO=4", "EIO=4&transport=abc"]).await
}

async fn polling_rejects_invalid_method(probe: Probe) -> CaseOutcome {
    expect_400s(&probe, "POST", &[POLLING_QUERY]).await?;
    expect_400s(&probe, "PUT", &[POLLING_QUERY]).await
}

async fn polling_rejects_unknown_sid(probe: Probe) -> CaseOutcome {
    let query = format!("{POLLING_QUERY}&sid={UNKNOWN_SID_VALUE}");
    expect_400s(&probe, "GET", &[&query]).await?;
    let target = probe.engine_target(&query);
    let response = probe
        .http("POST", &target, Some("text/plain"), "40")
        .await?;
    ensure!(
        response.status == 400,
        "POST {target} answered {} {:?} instead of 400",
        response.status,
        truncated(&response.body_text(), 120)
    );
    Ok(String::new())
}

async fn polling_answers_text_plain(probe: Probe) -> CaseOutcome {
    let response = probe.get(&probe.engine_target(POLLING_QUERY)).await?;
    ensure!(
        response.status == 200,
        "the handshake answered {}",
        response.status
    );
    let content_type = response.content_type.clone().unwrap_or_default();
    ensure!(
        content_type.starts_with("text/plain"),
        "the handshake's Content-Type is {:?}, not text/plain",
        response.content_type
    );
    Ok(format!("Content-Type: {content_type}"))
}

async fn websocket_opens_a_session(probe: Probe) -> CaseOutcome {
    let (_socket, handshake) = websocket_session(&probe).await?;
    ensure!(
        handshake.upgrades.is_empty(),
        "upgrades is {:?} over WebSocket, the suite expects []",
        handshake.upgrades
    );
    Ok(String::new())
}

async fn expect_websockets_refused(probe: &Probe, queries: &[&str]) -> CaseOutcome {
    let mut seen = Vec::new();
    for query in queries {
        let how = expect_websocket_refused(probe, &probe.engine_target(query)).await?;
        seen.push(format!("?{query}: {how}"));
    }
    Ok(seen.join("; "))
}

async fn websocket_rejects_invalid_eio(probe: Probe) -> CaseOutcome {
    expect_websockets_refused(
        &probe,
        &["transport=websocket", "EIO=abc&transport=websocket"],
    )
    .await
}

async fn websocket_rejects_invalid_transport(probe: Probe) -> CaseOutcome {
    expect_websockets_refused(&probe, &["EIO=4", "EIO=4&transport=abc"]).await
}

async fn websocket_rejects_unknown_sid(probe: Probe) -> CaseOutcome {
    let query = format!("{WEBSOCKET_QUERY}&sid={UNKNOWN_SID_VALUE}");
    expect_websockets_refused(&probe, &[&query]).await
}

/// `pingInterval / pingTimeout / maxPayload`, as the INFO notes show them.
fn timings(handshake: &Handshake) -> String {
    format!(
        "pingInterval {} ms, pingTimeout {} ms, maxPayload {} bytes",
        handshake.ping_interval_ms, handshake.ping_timeout_ms, handshake.max_payload
    )
}

async fn advertised_parameters(probe: Probe) -> CaseOutcome {
    let polling = probe.polling_handshake().await?;
    let (_socket, websocket) = websocket_session(&probe).await?;
    let (polling_timings, websocket_timings) = (timings(&polling), timings(&websocket));
    let websocket_differs = if polling_timings == websocket_timings {
        String::new()
    } else {
        format!(" (over WebSocket: {websocket_timings})")
    };
    Ok(format!(
        "polling: upgrades {:?}; websocket: upgrades {:?}; {polling_timings}{websocket_differs}",
        polling.upgrades, websocket.upgrades,
    ))
}

// ------------------------------------------------------------------ message

/// Whether `packet` is the server's Socket.IO CONNECT to `/`: `40{...}`.
fn is_main_connect(packet: &EioPacket) -> bool {
    matches!(packet, EioPacket::Message(text) if text.starts_with("0{") || text == "0")
}

/// Checks the CONNECT answer's bytes: `40{"sid":"…"}` (Socket.IO v5).
fn check_main_connect(text: &str) -> Result<(), CaseError> {
    let json = text.strip_prefix("40").unwrap_or_default();
    let fields: Option<serde_json::Map<String, Value>> = serde_json::from_str(json).ok();
    ensure!(
        fields.is_some_and(|f| f.get("sid").is_some_and(Value::is_string)),
        "the answer to \"40\" is {:?}, not 40{{\"sid\":…}}",
        truncated(text, 120)
    );
    Ok(())
}

/// Waits for the server's CONNECT to `/` on a polling session and checks it.
async fn expect_main_connect(session: &PollingSession) -> Result<(), CaseError> {
    let (interval, _) = session.heartbeat();
    let received = session.collect_until(interval, is_main_connect).await?;
    if let Some(EioPacket::Message(text)) = received.last() {
        check_main_connect(&format!("4{text}"))?;
    }
    Ok(())
}

/// Opens a polling session and joins `/` (`40`): what the echo cases need.
async fn polling_joined(probe: &Probe) -> Result<PollingSession, CaseError> {
    let session = PollingSession::open(probe).await?;
    session.post_accepted(CONNECT_MAIN).await?;
    expect_main_connect(&session).await?;
    Ok(session)
}

async fn polling_delivers_one_text_packet(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    session.post_ok(CONNECT_MAIN).await?;
    expect_main_connect(&session).await?;
    Ok(String::new())
}

/// The message packets among `packets`, as they are written (`4…`).
fn messages(packets: &[EioPacket]) -> Vec<String> {
    packets
        .iter()
        .filter_map(|p| match p {
            EioPacket::Message(text) => Some(format!("4{text}")),
            _ => None,
        })
        .collect()
}

async fn polling_delivers_several_packets(probe: Probe) -> CaseOutcome {
    let session = polling_joined(&probe).await?;
    session.post_ok(&SEVERAL_MESSAGES.join("\u{1e}")).await?;
    let mut echoes = 0;
    let received = session
        .collect_until(Duration::ZERO, |packet| {
            let echo = matches!(packet, EioPacket::Message(text) if text.starts_with("2[\"message-back\""));
            echoes += usize::from(echo);
            echoes == SEVERAL_ECHOES.len()
        })
        .await?;
    let echoed: Vec<String> = messages(&received)
        .into_iter()
        .filter(|m| m.starts_with("42[\"message-back\""))
        .collect();
    ensure!(
        echoed == SEVERAL_ECHOES,
        "the echoes of {:?} are {echoed:?}, expected {SEVERAL_ECHOES:?}",
        SEVERAL_MESSAGES.join("\\x1e")
    );
    Ok(String::new())
}

async fn polling_delivers_text_and_binary_packets(probe: Probe) -> CaseOutcome {
    let session = polling_joined(&probe).await?;
    session
        .post_ok(&format!("{BINARY_MESSAGE}\u{1e}bAQIDBA=="))
        .await?;
    let mut header_seen = false;
    let received = session
        .collect_until(Duration::ZERO, |packet| {
            let done = header_seen;
            header_seen =
                matches!(packet, EioPacket::Message(text) if format!("4{text}") == BINARY_ECHO);
            done
        })
        .await?;
    let tail = &received[received.len().saturating_sub(2)..];
    ensure!(
        tail == [
            EioPacket::Message(BINARY_ECHO[1..].to_owned()),
            EioPacket::Binary(BINARY_BYTES.to_vec().into())
        ],
        "expected {BINARY_ECHO:?} then bAQIDBA==, received {}",
        shown_packets(&received)
    );
    Ok(String::new())
}

async fn polling_closes_on_invalid_packet(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    let post = match session.post("abc").await {
        Ok(response) => format!(
            "{} {:?}",
            response.status,
            truncated(&response.body_text(), 60)
        ),
        Err(error) => error.to_string(),
    };
    let closed = session.expect_closed().await.map_err(|error| {
        CaseError::Broken(format!("after POST \"abc\" (answered {post}): {error}"))
    })?;
    Ok(format!("POST \"abc\": {post}; {closed}"))
}

/// How long a GET must stay unanswered to count as pending at the server: a
/// quarter of the ping interval (so no ping can answer it), at most a tenth
/// of the probe's timeout. The official suite relies on 5 ms.
fn pending_window(session: &PollingSession, probe: &Probe) -> Duration {
    let (interval, _) = session.heartbeat();
    (interval / 4).min(probe.timeout() / 10)
}

/// How long a server may take to act on what it was sent or what it
/// detected: its own pingTimeout (the time it gives a client to answer a
/// ping), at most the probe's timeout. A bound that scales with the server's
/// advertised timers, so that a verdict does not depend on them.
fn reaction_time(probe: &Probe, ping_timeout: Duration) -> Duration {
    ping_timeout.min(probe.timeout())
}

async fn polling_closes_on_duplicate_get(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    session.drain().await?;
    let window = pending_window(&session, &probe);
    let first = session.get_within(probe.timeout());
    tokio::pin!(first);
    if let Ok(early) = tokio::time::timeout(window, &mut first).await {
        broken!(
            "the first GET, with nothing buffered, was answered at once: {}",
            early.summary()
        );
    }
    let (first, second) = tokio::join!(first, session.get_within(probe.timeout()));
    let second_status = match &second {
        Answer::Response(response) => Some(response.status),
        _ => None,
    };
    ensure!(
        matches!(second_status, Some(400 | 500)),
        "the duplicate GET answered {} instead of 400 (the suite also accepts 500)",
        second.summary()
    );
    let first_body = match &first {
        Answer::Response(response) if response.status == 200 => response.body_text(),
        other => broken!(
            "the first GET answered {} instead of 200 \"1\"",
            other.summary()
        ),
    };
    ensure!(
        first_body == "1",
        "the pending GET answered 200 {:?} instead of the CLOSE packet \"1\"",
        truncated(&first_body, 120)
    );
    let closed = session.expect_closed().await?;
    Ok(format!(
        "duplicate GET: {}; pending GET: 200 \"1\"; then {closed}",
        second.summary()
    ))
}

/// The official test aborts a GET 5 ms after sending it and at once polls
/// again. Here the GET is first proven pending (unanswered for
/// [`pending_window`]), then its connection is dropped, and after
/// [`CANCEL_SETTLE`] the next GET must answer 400, within the server's
/// [`reaction_time`].
async fn polling_closes_on_cancelled_get(probe: Probe) -> CaseOutcome {
    // A close seen late could be the heartbeat's, not the cancel's (a slow
    // machine stretches every step): such a run proves nothing either way,
    // so it is tried again, a bounded number of times.
    let mut ambiguous = Vec::new();
    for _ in 0..CANCELLED_GET_ATTEMPTS {
        match cancel_a_pending_get(&probe).await? {
            Cancelled::ClosedInTime(note) => return Ok(note),
            Cancelled::HeartbeatMayHaveClosed(note) => ambiguous.push(note),
        }
    }
    broken!(
        "each time, the session was found closed only when its heartbeat could have closed it too: {}",
        ambiguous.join("; ")
    )
}

/// Tries of [`polling_closes_on_cancelled_get`] before it gives up.
const CANCELLED_GET_ATTEMPTS: usize = 3;

/// How long the next GET waits after the pending one's connection is
/// dropped. A GET that reaches the server before it has seen the drop is a
/// duplicate GET, which also ends the session with 400, so without this
/// pause a server that keeps the session after a cancel (engineioxide) would
/// pass or fail by how fast the machine is. Nothing on the wire says when
/// the server has seen the drop; this is time enough on a loaded machine,
/// and well inside any heartbeat that could end the session (the verdict
/// below tells a close from a heartbeat's).
const CANCEL_SETTLE: Duration = Duration::from_millis(150);

/// How one try of [`polling_closes_on_cancelled_get`] ended, if the session
/// was found closed.
enum Cancelled {
    /// Closed, seen before the server's heartbeat could have ended it.
    ClosedInTime(String),
    /// Closed, but seen so late that the heartbeat may have ended it.
    HeartbeatMayHaveClosed(String),
}

async fn cancel_a_pending_get(probe: &Probe) -> Result<Cancelled, CaseError> {
    let opened = tokio::time::Instant::now();
    let session = PollingSession::open(probe).await?;
    let drained = session.drain().await?;
    let window = pending_window(&session, probe);
    match session.get_within(window).await {
        Answer::Silent => {}
        early => broken!(
            "the GET, with nothing buffered, was answered at once: {}",
            early.summary()
        ),
    }
    probe.note(
        EventKind::Session,
        format!(
            "dropped the GET's connection after {} ms unanswered",
            window.as_millis()
        ),
    );
    // Due within the server's reaction time: later, its heartbeat (the
    // cancelled GET took no ping) could be what ended the session.
    let (interval, ping_timeout) = session.heartbeat();
    let within = reaction_time(probe, ping_timeout);
    tokio::time::sleep(CANCEL_SETTLE).await;
    let closed = session
        .expect_closed_within(within)
        .await
        .map_err(|error| {
            CaseError::Broken(format!(
                "after the pending GET was cancelled, within {} ms (pingTimeout, at most the probe's timeout): {error}",
                within.as_millis()
            ))
        })?;
    // The heartbeat ends a session no sooner than a ping interval after the
    // last ping (the first comes an interval after the handshake), plus the
    // ping timeout.
    let pinged = drained.contains(&EioPacket::Ping { probe: false });
    let last_ping = if pinged { interval } else { Duration::ZERO };
    let heartbeat_earliest = last_ping + interval + ping_timeout;
    let seen_after = opened.elapsed();
    let note = format!(
        "cancelled GET, then {closed} ({} ms after the handshake; the heartbeat could end it from {} ms)",
        seen_after.as_millis(),
        heartbeat_earliest.as_millis()
    );
    Ok(match seen_after < heartbeat_earliest {
        true => Cancelled::ClosedInTime(note),
        false => Cancelled::HeartbeatMayHaveClosed(note),
    })
}

async fn polling_closes_on_duplicate_post(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    session.drain().await?;
    let mut first = SlowPost::start(&probe, &session.target(), CONNECT_MAIN).await?;
    if let Some(early) = first
        .answered_within(pending_window(&session, &probe))
        .await
    {
        broken!("the first POST was answered before its body was complete: {early:?}");
    }
    let second = match session.post(CONNECT_MAIN).await {
        Ok(response) => format!(
            "{} {:?}",
            response.status,
            truncated(&response.body_text(), 60)
        ),
        Err(error) => error.to_string(),
    };
    let first = first.finish(&probe).await;
    ensure!(
        second.starts_with("400 "),
        "the overlapping POST answered {second} instead of 400 (the first POST, completed afterwards: {first})"
    );
    let closed = session.expect_closed().await?;
    Ok(format!(
        "overlapping POST: {second}; the first, completed afterwards: {first}; then {closed}"
    ))
}

async fn websocket_delivers_a_text_packet(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = websocket_session(&probe).await?;
    socket.send_text(CONNECT_MAIN).await?;
    let answer = socket.next_text().await?;
    check_main_connect(&answer)?;
    Ok(String::new())
}

/// Sends `40` and skips frames up to the CONNECT answer.
async fn websocket_join(socket: &mut RawWebSocket) -> Result<(), CaseError> {
    socket.send_text(CONNECT_MAIN).await?;
    for _ in 0..MAX_SKIPPED_FRAMES {
        if let Frame::Text(text) = socket.next().await?
            && text.starts_with("40")
        {
            return check_main_connect(&text);
        }
    }
    broken!("no answer to \"40\" among the first {MAX_SKIPPED_FRAMES} frames")
}

/// Frames of the server's own (e.g. events on connect) a case skips while
/// waiting for the one it wants.
const MAX_SKIPPED_FRAMES: usize = 32;

async fn websocket_delivers_a_binary_packet(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = websocket_session(&probe).await?;
    websocket_join(&mut socket).await?;
    socket.send_text(BINARY_MESSAGE).await?;
    socket.send_binary(&BINARY_BYTES).await?;
    for _ in 0..MAX_SKIPPED_FRAMES {
        if socket.next().await? == Frame::Text(BINARY_ECHO.to_owned()) {
            let attachment = socket.next().await?;
            ensure!(
                attachment == Frame::Binary(BINARY_BYTES.to_vec().into()),
                "after {BINARY_ECHO:?} came {attachment:?}, not the binary frame [1, 2, 3, 4]"
            );
            return Ok(String::new());
        }
    }
    broken!("no {BINARY_ECHO:?} among the first {MAX_SKIPPED_FRAMES} frames")
}

async fn websocket_closes_on_invalid_packet(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = websocket_session(&probe).await?;
    socket.send_text("abc").await?;
    match socket.closed_within(probe.timeout()).await {
        Some(how) => Ok(format!("closed: {how}")),
        None => broken!(
            "after \"abc\" the WebSocket stayed open for {} ms",
            probe.timeout().as_millis()
        ),
    }
}

// ---------------------------------------------------------------- heartbeat

/// Pings the heartbeat cases wait for, each answered but the last. The
/// official suite does three rounds against a 300 ms pingInterval; two prove
/// what it checks (the server pings, accepts the pong, and pings again
/// instead of closing at pingTimeout) in 2 × pingInterval, 50 s with
/// socket.io's default 25 s rather than 75 s.
const PING_ROUNDS: usize = 2;

async fn polling_sends_pings(probe: Probe) -> CaseOutcome {
    // Joined, so that a Socket.IO server's connect timeout cannot end the
    // session before the rounds are over.
    let session = polling_joined(&probe).await?;
    let (interval, _) = session.heartbeat();
    let mut pings = 0;
    for _ in 0..MAX_SKIPPED_FRAMES {
        let body = session.poll(interval).await?;
        for packet in decode(&body)? {
            match packet {
                EioPacket::Ping { probe: false } => {
                    pings += 1;
                    session.post_accepted("3").await?;
                }
                EioPacket::Message(_) => {}
                other => broken!(
                    "waiting for ping {}, the server sent {:?} (in {:?})",
                    pings + 1,
                    other.encode_text().unwrap_or_default(),
                    truncated(&body, 120)
                ),
            }
        }
        if pings >= PING_ROUNDS {
            return Ok(String::new());
        }
    }
    broken!("only {pings} pings among the first {MAX_SKIPPED_FRAMES} polls")
}

async fn polling_closes_on_ping_timeout(probe: Probe) -> CaseOutcome {
    let opened = Instant::now();
    // Joined, so that it is the heartbeat that ends the session, not a
    // Socket.IO server's connect timeout.
    let session = polling_joined(&probe).await?;
    let (interval, timeout) = session.heartbeat();
    let grace = reaction_time(&probe, timeout);
    let deadline = opened + interval + timeout + grace;
    // Long-poll without answering pings any more, until the server ends it.
    let mut seen = Vec::new();
    let ended = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || seen.len() > MAX_SKIPPED_FRAMES {
            break None;
        }
        match session.get_within(left).await {
            Answer::Response(response) if response.status == 200 => {
                let packets = decode(&response.body_text())?;
                let close = packets.contains(&EioPacket::Close);
                seen.extend(packets);
                if close {
                    break Some("a CLOSE packet".to_owned());
                }
            }
            Answer::Silent => break None,
            other => break Some(other.summary()),
        }
    };
    let after_ms = opened.elapsed().as_millis();
    let Some(ended) = ended else {
        broken!(
            "unanswered pings did not end the session within pingInterval + pingTimeout + {} ms (pingTimeout again, at most the probe's timeout); received {}",
            grace.as_millis(),
            shown_packets(&seen)
        );
    };
    let closed = session.expect_closed().await?;
    Ok(format!(
        "polls ended {after_ms} ms after the handshake with {ended}; then {closed}"
    ))
}

async fn websocket_sends_pings(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    // Joined, so that a Socket.IO server's connect timeout cannot end the
    // session before the rounds are over.
    websocket_join(&mut socket).await?;
    socket.set_answer_pings(false);
    let within = Duration::from_millis(handshake.ping_interval_ms) + probe.timeout();
    let mut pings = 0;
    for _ in 0..MAX_SKIPPED_FRAMES {
        match socket.next_within(within).await? {
            Some(Frame::Text(text)) if text == "2" => {
                pings += 1;
                if pings == PING_ROUNDS {
                    return Ok(String::new());
                }
                socket.send_text("3").await?;
            }
            Some(Frame::Text(text)) if text.starts_with('4') => {}
            Some(Frame::Binary(_)) => {}
            None => broken!(
                "no ping within {} ms (pingInterval + margin) after {pings} of {PING_ROUNDS}",
                within.as_millis()
            ),
            Some(other) => broken!(
                "waiting for ping {} of {PING_ROUNDS}, got {other:?}",
                pings + 1
            ),
        }
    }
    broken!("only {pings} pings among the first {MAX_SKIPPED_FRAMES} frames")
}

async fn websocket_closes_on_ping_timeout(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    let opened = Instant::now();
    // Joined, so that it is the heartbeat that ends the session, not a
    // Socket.IO server's connect timeout.
    websocket_join(&mut socket).await?;
    socket.set_answer_pings(false);
    let timeout = Duration::from_millis(handshake.ping_timeout_ms);
    let within = Duration::from_millis(handshake.ping_interval_ms)
        .saturating_add(timeout)
        .saturating_add(reaction_time(&probe, timeout));
    let left = (opened + within).saturating_duration_since(Instant::now());
    match socket.closed_within(left).await {
        Some(how) => Ok(format!(
            "closed {} ms after the handshake: {how}",
            opened.elapsed().as_millis()
        )),
        None => broken!(
            "unanswered pings did not end the session within {} ms of the handshake (pingInterval + pingTimeout + pingTimeout again, at most the probe's timeout)",
            within.as_millis()
        ),
    }
}

async fn first_ping_delay(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    let opened = Instant::now();
    socket.set_answer_pings(false);
    let within = Duration::from_millis(handshake.ping_interval_ms) + probe.timeout();
    for _ in 0..MAX_SKIPPED_FRAMES {
        match socket.next_within(within).await? {
            Some(Frame::Text(text)) if text == "2" => {
                return Ok(format!(
                    "first ping {} ms after the OPEN packet (pingInterval {} ms)",
                    opened.elapsed().as_millis(),
                    handshake.ping_interval_ms
                ));
            }
            Some(_) => {}
            None => break,
        }
    }
    Ok(format!(
        "no ping within pingInterval + {} ms",
        probe.timeout().as_millis()
    ))
}

// ------------------------------------------------------------ close, upgrade

/// Sends the CLOSE packet while a GET is pending; returns how the pending
/// GET ended, and the POST's answer.
async fn close_with_pending_get(
    probe: &Probe,
    session: &PollingSession,
) -> Result<(Answer, String), CaseError> {
    session.drain().await?;
    let pending = session.get_within(probe.timeout());
    tokio::pin!(pending);
    if let Ok(early) = tokio::time::timeout(pending_window(session, probe), &mut pending).await {
        broken!(
            "the GET, with nothing buffered, was answered at once: {}",
            early.summary()
        );
    }
    let (_, ping_timeout) = session.heartbeat();
    let react = reaction_time(probe, ping_timeout);
    let ended = async {
        tokio::time::timeout(react, &mut pending)
            .await
            .unwrap_or(Answer::Silent)
    };
    let (pending, post) = tokio::join!(ended, session.post("1"));
    let post = match post {
        Ok(response) => format!(
            "{} {:?}",
            response.status,
            truncated(&response.body_text(), 60)
        ),
        Err(error) => error.to_string(),
    };
    Ok((pending, post))
}

async fn polling_close_closes_the_session(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    let (pending, post) = close_with_pending_get(&probe, &session).await?;
    let (_, ping_timeout) = session.heartbeat();
    ensure!(
        !matches!(pending, Answer::Silent),
        "the pending GET was not ended within {} ms (pingTimeout, at most the probe's timeout) of POST \"1\" (answered {post})",
        reaction_time(&probe, ping_timeout).as_millis()
    );
    let closed = session.expect_closed().await?;
    Ok(format!(
        "POST \"1\": {post}; pending GET: {}; then {closed}",
        pending.summary()
    ))
}

async fn polling_close_answers_the_pending_get_with_noop(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    let (pending, _) = close_with_pending_get(&probe, &session).await?;
    match &pending {
        Answer::Response(response) if response.status == 200 && response.body.as_ref() == b"6" => {
            Ok(String::new())
        }
        other => broken!(
            "the pending GET answered {} instead of 200 \"6\"",
            other.summary()
        ),
    }
}

/// Pings a server may send after a client's CLOSE packet before the case
/// concludes the session lives on: the first may have been on its way
/// already; the second was scheduled after the server read the CLOSE (it
/// follows the pong the case sent after it).
const PINGS_AFTER_CLOSE: usize = 2;

/// The official test only waits for the close, and its bare Engine.IO
/// server's 300 ms heartbeat would close an unanswered session anyway. Here
/// the session is kept alive (joined to `/`, so no connect timeout applies,
/// and every ping answered), so only the CLOSE packet can end it. A server
/// that pings on after it ([`PINGS_AFTER_CLOSE`]) ignored it; one that ended
/// the session must close the WebSocket within a heartbeat round
/// (pingInterval + pingTimeout, from the handshake) plus the probe's margin
/// (python-engineio, say, ends the session at once but closes the socket
/// only when its writer's wait of that length runs out).
async fn websocket_close_closes_the_session(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    websocket_join(&mut socket).await?;
    socket.show_pings(true);
    let within = probe.timeout_plus(
        handshake
            .ping_interval_ms
            .saturating_add(handshake.ping_timeout_ms),
    );
    socket.send_text("1").await?;
    let sent = Instant::now();
    let mut pings = 0;
    loop {
        let left = (sent + within).saturating_duration_since(Instant::now());
        match socket.next_within(left).await {
            Err(_) => {
                let how = socket.closed().unwrap_or("ended").to_owned();
                return Ok(format!(
                    "closed {} ms after \"1\" ({how}) with the session kept alive \
                     (joined, pings answered; {pings} pings after \"1\"): the CLOSE packet closed it",
                    sent.elapsed().as_millis()
                ));
            }
            Ok(Some(Frame::Text(text))) if text == "2" => {
                pings += 1;
                if pings == PINGS_AFTER_CLOSE {
                    broken!(
                        "after \"1\" the server went on pinging ({pings} pings in {} ms, each \
                         answered) and kept the WebSocket open: the CLOSE packet was ignored",
                        sent.elapsed().as_millis()
                    );
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => broken!(
                "after \"1\" the WebSocket stayed open for {} ms (pingInterval + pingTimeout \
                 + margin) with the session kept alive (joined, pings answered; {pings} pings \
                 after \"1\")",
                within.as_millis()
            ),
        }
    }
}

/// Opens a polling session, takes what it queued, and opens its upgrade
/// WebSocket.
async fn upgrade_socket(probe: &Probe) -> Result<(PollingSession, RawWebSocket), CaseError> {
    let session = PollingSession::open(probe).await?;
    session.drain().await?;
    let socket = probe.raw_websocket(&session.websocket_target()).await?;
    Ok((session, socket))
}

/// Waits for `3probe`; anything else first breaks the case.
async fn expect_probe_answer(socket: &mut RawWebSocket) -> Result<(), CaseError> {
    let answer = socket.next_text().await?;
    ensure!(
        answer == "3probe",
        "the answer to \"2probe\" is {:?}, not \"3probe\"",
        truncated(&answer, 120)
    );
    Ok(())
}

/// Checks that the session carries messages over `socket`: `40` is answered
/// with `40{...}` (the suite's `4hello` echo, on Socket.IO). Noops and the
/// server's own events on the way are skipped.
async fn expect_websocket_carries_messages(socket: &mut RawWebSocket) -> Result<(), CaseError> {
    socket.send_text(CONNECT_MAIN).await?;
    for _ in 0..MAX_SKIPPED_FRAMES {
        let answer = socket.next_text().await.map_err(|error| {
            CaseError::Broken(format!("after the upgrade, \"40\" got no answer: {error}"))
        })?;
        if answer.starts_with("40") {
            return check_main_connect(&answer);
        }
    }
    broken!("after the upgrade, \"40\" got no answer among {MAX_SKIPPED_FRAMES} frames")
}

/// Checks that an upgraded session still works after a disturbance: two
/// pings in a row come over `socket`, each within pingInterval + margin, and
/// are answered. (One is not enough: a session the server has already given
/// up on may still flush a queued ping before it closes.)
async fn expect_websocket_still_works(
    probe: &Probe,
    session: &PollingSession,
    socket: &mut RawWebSocket,
) -> Result<(), CaseError> {
    const ROUNDS: usize = 2;
    let (interval, _) = session.heartbeat();
    let within = interval + probe.timeout();
    socket.set_answer_pings(false);
    let mut pings = 0;
    for _ in 0..MAX_SKIPPED_FRAMES {
        match socket.next_within(within).await {
            Ok(Some(Frame::Text(ping))) if ping == "2" => {
                socket.send_text("3").await?;
                pings += 1;
                if pings == ROUNDS {
                    socket.set_answer_pings(true);
                    return Ok(());
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => broken!(
                "the upgraded WebSocket got no ping within {} ms (after {pings} of {ROUNDS})",
                within.as_millis()
            ),
            Err(error) => {
                broken!("the upgraded WebSocket ended (after {pings} of {ROUNDS} pings): {error}")
            }
        }
    }
    broken!("only {pings} pings among the upgraded WebSocket's next {MAX_SKIPPED_FRAMES} frames")
}

async fn upgrade_succeeds(probe: Probe) -> CaseOutcome {
    let (session, mut socket) = upgrade_socket(&probe).await?;
    socket.send_text("2probe").await?;
    expect_probe_answer(&mut socket).await?;
    let body = session.poll(Duration::ZERO).await?;
    let packets = decode(&body)?;
    let only_pings_then_noop = packets.last() == Some(&EioPacket::Noop)
        && packets[..packets.len() - 1]
            .iter()
            .all(|p| *p == EioPacket::Ping { probe: false });
    ensure!(
        only_pings_then_noop,
        "the poll during the upgrade answered {:?} instead of the noop \"6\"",
        truncated(&body, 120)
    );
    socket.send_text("5").await?;
    expect_websocket_carries_messages(&mut socket).await?;
    Ok(if body == "6" {
        String::new()
    } else {
        format!("the poll during the upgrade answered {body:?}")
    })
}

async fn upgrade_ends_the_pending_get_with_noop(probe: Probe) -> CaseOutcome {
    let session = PollingSession::open(&probe).await?;
    session.drain().await?;
    let pending = session.get_within(probe.timeout());
    tokio::pin!(pending);
    let window = pending_window(&session, &probe);
    if let Ok(early) = tokio::time::timeout(window, &mut pending).await {
        broken!(
            "the GET, with nothing buffered, was answered at once: {}",
            early.summary()
        );
    }
    // As the official client does: probe, then wait for the paused polling
    // transport's GET to end, and only then send the upgrade packet.
    let upgrade = async {
        let mut socket = probe.raw_websocket(&session.websocket_target()).await?;
        socket.send_text("2probe").await?;
        expect_probe_answer(&mut socket).await?;
        Ok::<_, CaseError>(socket)
    };
    let (pending, socket) = tokio::join!(pending, upgrade);
    let mut socket = socket?;
    let body = match &pending {
        Answer::Response(response) if response.status == 200 => response.body_text(),
        other => broken!(
            "the GET pending during the upgrade answered {} instead of 200 \"6\"",
            other.summary()
        ),
    };
    let packets = decode(&body)?;
    ensure!(
        packets.last() == Some(&EioPacket::Noop),
        "the GET pending during the upgrade answered {:?}, not ending with the noop \"6\"",
        truncated(&body, 120)
    );
    socket.send_text("5").await?;
    expect_websocket_carries_messages(&mut socket).await?;
    Ok(String::new())
}

/// The suite's upgrade: `2probe` and `5` back to back, then `3probe`; then
/// `40` answered over the WebSocket proves the server processed `5` (the
/// suite races its next request against it).
async fn upgraded(probe: &Probe) -> Result<(PollingSession, RawWebSocket), CaseError> {
    let (session, mut socket) = upgrade_socket(probe).await?;
    socket.send_text("2probe").await?;
    socket.send_text("5").await?;
    expect_probe_answer(&mut socket).await?;
    expect_websocket_carries_messages(&mut socket).await?;
    Ok((session, socket))
}

async fn upgrade_ignores_polling_afterwards(probe: Probe) -> CaseOutcome {
    let (session, mut socket) = upgraded(&probe).await?;
    let response = probe.get(&session.target()).await?;
    ensure!(
        response.status == 400,
        "a GET with the upgraded sid answered {} {:?} instead of 400",
        response.status,
        truncated(&response.body_text(), 120)
    );
    expect_websocket_still_works(&probe, &session, &mut socket).await?;
    Ok(String::new())
}

async fn upgrade_ignores_a_second_websocket(probe: Probe) -> CaseOutcome {
    let (session, mut socket) = upgraded(&probe).await?;
    let how = expect_websocket_refused(&probe, &session.websocket_target()).await?;
    expect_websocket_still_works(&probe, &session, &mut socket).await?;
    Ok(format!("second WebSocket: {how}"))
}

async fn upgrade_refuses_a_second_websocket_while_probing(probe: Probe) -> CaseOutcome {
    const WHAT: &str = "a second WebSocket opened during the probe";
    let (session, mut socket) = upgrade_socket(&probe).await?;
    socket.send_text("2probe").await?;
    expect_probe_answer(&mut socket).await?;
    let target = session.websocket_target();
    let second = RawWebSocket::try_open(probe.clone(), &target).await?;
    // The first completes its upgrade whatever became of the second.
    socket.send_text("5").await?;
    expect_websocket_carries_messages(&mut socket)
        .await
        .map_err(|error| {
            CaseError::Broken(format!(
                "with {WHAT} pending, the upgraded first one stalled: {error}"
            ))
        })?;
    let how = match second {
        Err(refusal) => format!("upgrade refused: {}", refusal.reason),
        Ok(second) => expect_closed_unserved(&probe, &target, second)
            .await
            .map_err(|error| CaseError::Broken(format!("{WHAT}: {error}")))?,
    };
    expect_websocket_still_works(&probe, &session, &mut socket)
        .await
        .map_err(|error| CaseError::Broken(format!("{WHAT} ({how}) broke the first: {error}")))?;
    Ok(format!("{WHAT}: {how}"))
}

// --------------------------------------------------------- beyond the suite

/// A Socket.IO event one byte over `max_payload` once framed: valid at both
/// layers, so only its size can be refused.
fn oversized_event(max_payload: u64) -> Result<String, CaseError> {
    if max_payload > MAX_OVERSIZED_BODY {
        return Err(CaseError::NotApplicable(format!(
            "maxPayload {max_payload} is over the {MAX_OVERSIZED_BODY} bytes the probe sends"
        )));
    }
    let framing = r#"42["big",""]"#.len() as u64;
    let filler = (max_payload + 1).saturating_sub(framing) as usize;
    Ok(format!(r#"42["big","{}"]"#, "x".repeat(filler)))
}

async fn polling_refuses_an_oversized_post(probe: Probe) -> CaseOutcome {
    let session = polling_joined(&probe).await?;
    let body = oversized_event(session.handshake().max_payload)?;
    let post = match session.post(&body).await {
        Ok(response) if response.status == 200 => None,
        Ok(response) => Some(format!(
            "{} {:?}",
            response.status,
            truncated(&response.body_text(), 60)
        )),
        Err(error) => Some(error.to_string()),
    };
    let closed = session.expect_closed().await;
    match (post, closed) {
        (Some(post), Ok(closed)) => Ok(format!("{} bytes: {post}; then {closed}", body.len())),
        (Some(post), Err(_)) => Ok(format!(
            "{} bytes: {post}; the session lives on",
            body.len()
        )),
        (None, Ok(closed)) => Ok(format!("{} bytes: 200 \"ok\", then {closed}", body.len())),
        (None, Err(open)) => broken!(
            "a {}-byte POST (maxPayload {}) was accepted and the session lives on: {open}",
            body.len(),
            session.handshake().max_payload
        ),
    }
}

async fn websocket_closes_on_an_oversized_message(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = websocket_session(&probe).await?;
    websocket_join(&mut socket).await?;
    let message = oversized_event(handshake.max_payload)?;
    if let Some(how) = socket.send_text_unless_closed(&message).await? {
        return Ok(format!("{} bytes: {how}", message.len()));
    }
    match socket.closed_within(probe.timeout()).await {
        Some(how) => Ok(format!("{} bytes: closed ({how})", message.len())),
        None => broken!(
            "a {}-byte message (maxPayload {}) left the WebSocket open for {} ms",
            message.len(),
            handshake.max_payload,
            probe.timeout().as_millis()
        ),
    }
}

/// The response headers CORS is about.
fn cors_headers(response: &super::engineio_wire::RawHttpResponse) -> String {
    let shown: Vec<String> = response
        .headers
        .iter()
        .filter(|(name, _)| name.starts_with("access-control-") || name == "vary")
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    if shown.is_empty() {
        "no CORS headers".to_owned()
    } else {
        shown.join(", ")
    }
}

async fn polling_cors(probe: Probe) -> CaseOutcome {
    const ORIGIN: &str = "http://siosim.invalid";
    let target = probe.engine_target(POLLING_QUERY);
    let preflight = raw_http(
        &probe,
        "OPTIONS",
        &target,
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
    )
    .await?;
    let handshake = raw_http(&probe, "GET", &target, &[("Origin", ORIGIN)]).await?;
    Ok(format!(
        "preflight from {ORIGIN}: {} ({}); GET with Origin: {} ({})",
        preflight.status,
        cors_headers(&preflight),
        handshake.status,
        cors_headers(&handshake)
    ))
}
