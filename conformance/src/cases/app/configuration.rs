//! The contract's configuration table, as far as a client can see it: the
//! configured path, the heartbeat and connect timeout it reports or
//! enforces, and the payload limit that drops a client.

use serde_json::json;
use siosim_harness::Transport;
use siosim_harness::codec::{EioPacket, SioPacket};
use tokio::time::Instant;

use super::client::NAMESPACE;
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{broken, case, ensure};

const PATH: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Configuration",
    rule: "`--path` (`socketio_path`, default `/socket.io`): the Socket.IO endpoint path",
};

const HEARTBEAT: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Configuration",
    rule: "`--ping-interval-ms` (default 25000): Engine.IO ping interval; `--ping-timeout-ms` (default 20000): how long a pong may take before the client is dropped",
};

const CONNECT_TIMEOUT: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Configuration",
    rule: "`--connect-timeout-ms` (default 45000): how long a client has after the handshake to join a namespace",
};

const MAX_PAYLOAD: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Configuration",
    rule: "`--max-payload-bytes` (default 1000000): largest Engine.IO payload, one long-polling body or one WebSocket message; a larger one drops the client",
};

/// The contract's defaults, to say whether a server runs with them.
const DEFAULT_PING_INTERVAL_MS: u64 = 25_000;
const DEFAULT_PING_TIMEOUT_MS: u64 = 20_000;
const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 45_000;
const DEFAULT_MAX_PAYLOAD: u64 = 1_000_000;

/// A payload this large is not sent: a server advertising more is
/// configured beyond what a conformance run should push through it.
const LARGEST_PAYLOAD_TRIED: u64 = 8 << 20;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::configuration::path::serves_socketio_at_the_configured_path",
            Must,
            App,
            PATH,
            serves_at_the_configured_path
        ),
        case!(
            "app::configuration::heartbeat::advertised_timings",
            Info,
            App,
            HEARTBEAT,
            advertised_timings
        ),
        case!(
            "app::configuration::connect_timeout::closes_a_session_that_joins_nothing",
            Info,
            App,
            CONNECT_TIMEOUT,
            connect_timeout
        ),
        case!(
            "app::configuration::max_payload::websocket_message_over_it_drops_the_client",
            Must,
            App,
            MAX_PAYLOAD,
            websocket_over_max_payload
        ),
        case!(
            "app::configuration::max_payload::polling_body_over_it_drops_the_client",
            Must,
            App,
            MAX_PAYLOAD,
            polling_over_max_payload
        ),
    ]
}

async fn serves_at_the_configured_path(probe: Probe) -> CaseOutcome {
    let handshake = probe.polling_handshake().await?;
    let session = probe.session(Transport::Websocket).await?;
    probe.join(&session, NAMESPACE, None).await?;
    Ok(format!(
        "{}: polling handshake (sid {}) and a WebSocket session both answer",
        probe.socketio_path(),
        handshake.sid
    ))
}

async fn advertised_timings(probe: Probe) -> CaseOutcome {
    let handshake = probe.polling_handshake().await?;
    let default = |value: u64, default: u64| {
        if value == default {
            " (the default)".to_owned()
        } else {
            format!(" (default {default})")
        }
    };
    Ok(format!(
        "pingInterval {} ms{}, pingTimeout {} ms{}, maxPayload {}{}",
        handshake.ping_interval_ms,
        default(handshake.ping_interval_ms, DEFAULT_PING_INTERVAL_MS),
        handshake.ping_timeout_ms,
        default(handshake.ping_timeout_ms, DEFAULT_PING_TIMEOUT_MS),
        handshake.max_payload,
        default(handshake.max_payload, DEFAULT_MAX_PAYLOAD),
    ))
}

/// Opens a session and never joins a namespace; records when the server
/// gives up on it, waiting at most the declared connect timeout (the
/// contract's default if none was declared) plus the probe's margin.
async fn connect_timeout(probe: Probe) -> CaseOutcome {
    let (expected, declared) = match probe.declared_connect_timeout() {
        Some(declared) => (declared, "declared"),
        None => (
            std::time::Duration::from_millis(DEFAULT_CONNECT_TIMEOUT_MS),
            "the default; declare the server's with --connect-timeout-ms",
        ),
    };
    let session = probe.session(Transport::Websocket).await?;
    let started = Instant::now();
    let within = expected + probe.timeout();
    Ok(match session.wait_closed(within).await {
        Some(reason) => format!(
            "closed {} ms after the handshake ({reason}); connect timeout {} ms ({declared})",
            started.elapsed().as_millis(),
            expected.as_millis()
        ),
        None => format!(
            "still open {} ms after the handshake; connect timeout {} ms ({declared})",
            within.as_millis(),
            expected.as_millis()
        ),
    })
}

/// A `leave` event padded to exactly `bytes` bytes of Engine.IO payload:
/// if the server took it, the answer would be a small error ack, never a
/// relay as big as the message.
fn oversize_leave(bytes: usize) -> String {
    let empty = SioPacket::event(NAMESPACE, "leave", vec![json!("")], Some(1))
        .encode()
        .0;
    let padding = bytes.saturating_sub(empty.len());
    SioPacket::event(
        NAMESPACE,
        "leave",
        vec![json!("p".repeat(padding))],
        Some(1),
    )
    .encode()
    .0
}

fn payload_limit(max_payload: u64) -> Result<usize, CaseError> {
    if max_payload > LARGEST_PAYLOAD_TRIED {
        return Err(CaseError::NotApplicable(format!(
            "maxPayload {max_payload} is over the {LARGEST_PAYLOAD_TRIED} bytes this case sends"
        )));
    }
    Ok(usize::try_from(max_payload).unwrap_or(usize::MAX))
}

async fn websocket_over_max_payload(probe: Probe) -> CaseOutcome {
    let session = probe.session(Transport::Websocket).await?;
    probe.join(&session, NAMESPACE, None).await?;
    let limit = payload_limit(session.handshake().max_payload)?;
    let message = oversize_leave(limit + 1);
    session.send(EioPacket::Message(message)).await?;
    match session.wait_closed(probe.timeout()).await {
        Some(reason) => Ok(format!("{} bytes: closed ({reason})", limit + 1)),
        None => {
            let answered = session
                .peek(|p| p.ack_id == Some(1))
                .map(|p| truncated(&p.encode().0, 120));
            broken!(
                "a {}-byte WebSocket message (maxPayload {limit}) left the session open for {} ms; the event was answered {answered:?}",
                limit + 1,
                probe.timeout().as_millis()
            )
        }
    }
}

async fn polling_over_max_payload(probe: Probe) -> CaseOutcome {
    let handshake = probe.polling_handshake().await?;
    let limit = payload_limit(handshake.max_payload)?;
    let target = probe.engine_target(&format!("EIO=4&transport=polling&sid={}", handshake.sid));
    // The body is one Engine.IO message packet: "4" and the Socket.IO text.
    let body = format!("4{}", oversize_leave(limit));
    // The contract says what happens to the client, not how the POST is
    // answered: an unanswered POST is noted, and the session still judged.
    let post = match probe
        .http("POST", &target, Some("text/plain;charset=UTF-8"), body)
        .await
    {
        Ok(response) => format!(
            "answered {} {:?}",
            response.status,
            truncated(&response.body_text(), 120)
        ),
        Err(why) => format!("got no answer ({why})"),
    };
    // The session must be gone: a poll now ends at once, with an error
    // status or a CLOSE packet, instead of waiting for data.
    let poll = probe.get(&target).await;
    let (ended, next_poll) = match &poll {
        Ok(response) => (
            response.status != 200 || response.body_text().split('\u{1e}').any(|p| p == "1"),
            format!(
                "answered {} {:?}",
                response.status,
                truncated(&response.body_text(), 120)
            ),
        ),
        Err(why) => (false, format!("waited: {why}")),
    };
    ensure!(
        ended,
        "a {}-byte polling body (maxPayload {limit}) {post}, and the session lives on: the next poll {next_poll}",
        limit + 1
    );
    Ok(format!(
        "{} bytes: the POST {post}; the session is gone (the next poll {next_poll})",
        limit + 1
    ))
}
