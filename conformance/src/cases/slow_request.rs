//! `robustness::slow_request::*`: a request that trickles in (slowloris)
//! is cut off. One connection sends its head one byte a second, never
//! finishing it; another sends a whole head announcing a body and then the
//! body one byte a second. Each trickle holds a connection (and whatever
//! the server keeps per request) for as long as the server lets it, at
//! almost no cost to the client, so the server must give up on it within a
//! stated time: [`CUT_OFF_WITHIN`].
//!
//! Over TCP only: in simulation the harness serves the app's Router with
//! `axum::serve`, not the server's own HTTP loop, which is what this judges.

use std::time::Duration;

use siosim_harness::EventKind;
use siosim_harness::client::Stream;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::Instant;

use super::engineio_wire::PollingSession;
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{broken, case};

const SLOW_REQUEST: Clause = Clause {
    spec: Spec::Robustness,
    section: "Robustness profile",
    rule: "a request whose head or body trickles in is cut off (answered or closed) within 100 s",
};

/// How long a trickling request may hold its connection. Common defaults
/// fall within it: nginx's client_header_timeout and client_body_timeout
/// are 60 s; Node's headersTimeout is 60 s, checked every 30 s.
pub(crate) const CUT_OFF_WITHIN: Duration = Duration::from_secs(100);

/// One byte this often: slower than any real client, fast enough to reset
/// a timer that only measures silence.
const TRICKLE_EVERY: Duration = Duration::from_secs(1);

/// The body the slow request announces; never sent whole.
const ANNOUNCED_BODY_BYTES: usize = 4_096;

pub(super) fn cases() -> Vec<Case> {
    vec![case!(
        "robustness::slow_request::cut_off",
        Should,
        Robustness,
        SLOW_REQUEST,
        slow_request_cut_off
    )]
}

/// A head and a body trickle in at once, on two connections; each must be
/// cut off within [`CUT_OFF_WITHIN`] of its first byte.
async fn slow_request_cut_off(probe: Probe) -> CaseOutcome {
    if probe.in_simulation() {
        return Err(CaseError::NotApplicable(
            "over TCP only: in simulation the harness serves the Router with axum::serve, not the server's own HTTP loop".into(),
        ));
    }
    let session = PollingSession::open(&probe).await?;
    let connector = &probe.endpoint().connector;
    // The server's own credentials (`--header`), so that the request is
    // one it would serve.
    let headers: String = connector
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let authority = connector.authority();
    let head_only = format!(
        "GET {} HTTP/1.1\r\nHost: {authority}\r\n{headers}X-Siosim-Slow: ",
        probe.engine_target("EIO=4&transport=polling")
    );
    let with_body = format!(
        "POST {} HTTP/1.1\r\nHost: {authority}\r\n{headers}Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {ANNOUNCED_BODY_BYTES}\r\n\r\n",
        probe.engine_target(&format!("EIO=4&transport=polling&sid={}", session.sid()))
    );
    probe.note(
        EventKind::Session,
        format!(
            "a head and a {ANNOUNCED_BODY_BYTES}-byte body, each trickling one byte every {} ms on its own connection",
            TRICKLE_EVERY.as_millis()
        ),
    );
    let (head, body) = tokio::join!(
        trickle(&probe, &head_only, b'a'),
        trickle(&probe, &with_body, b'4'),
    );
    let (head, body) = (head?, body?);
    match (&head, &body) {
        (Some(head), Some(body)) => Ok(format!("head: {head}; body: {body}")),
        (None, _) => broken!(
            "a head trickling in was still being read {} s after its first byte (body: {})",
            CUT_OFF_WITHIN.as_secs(),
            body.as_deref().unwrap_or("also still read")
        ),
        (_, None) => broken!(
            "a body trickling in was still being read {} s after its first byte (head: {})",
            CUT_OFF_WITHIN.as_secs(),
            head.as_deref().unwrap_or("also still read")
        ),
    }
}

/// Sends `opening` then `byte` every [`TRICKLE_EVERY`] until the server
/// answers or closes (`Some(how, when)`) or [`CUT_OFF_WITHIN`] passes
/// (`None`).
async fn trickle(probe: &Probe, opening: &str, byte: u8) -> Result<Option<String>, CaseError> {
    let mut stream = probe
        .endpoint()
        .connector
        .connect()
        .await
        .map_err(|error| CaseError::Broken(format!("connecting: {error}")))?;
    let started = Instant::now();
    let deadline = started + CUT_OFF_WITHIN;
    let mut next = opening.as_bytes();
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, stream.write_all(next)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                return Ok(Some(format!(
                    "a write failed {} ms in ({error})",
                    started.elapsed().as_millis()
                )));
            }
            Err(_) => break,
        }
        next = std::slice::from_ref(&byte);
        if let Some(how) = answered_within(&mut stream, TRICKLE_EVERY).await {
            return Ok(Some(format!(
                "{how} {} ms in",
                started.elapsed().as_millis()
            )));
        }
    }
    Ok(None)
}

/// What the server did within `within`: answered (its status line),
/// closed, or nothing (`None`).
async fn answered_within(stream: &mut Stream, within: Duration) -> Option<String> {
    let mut buffer = [0u8; 512];
    match tokio::time::timeout(within, stream.read(&mut buffer)).await {
        Err(_) => None,
        Ok(Ok(0)) => Some("closed".to_owned()),
        Ok(Ok(read)) => {
            let text = String::from_utf8_lossy(&buffer[..read]);
            let status = text.lines().next().unwrap_or_default();
            Some(format!("answered {:?}", truncated(status, 60)))
        }
        Ok(Err(error)) => Some(format!("reset ({error})")),
    }
}
