//! An HTTP long-polling session driven request by request, for the
//! `socketio::polling::*` cases that check the server's exact packets on the
//! transport the official suite does not exercise.

use std::collections::VecDeque;
use std::time::Duration;

use siosim_harness::client::deadline_after;
use siosim_harness::codec::{EioPacket, decode_polling_payload};
use siosim_harness::trace::binary_text;
use tokio::time::Instant;

use super::socketio_raw as raw;
use crate::case::CaseError;
use crate::probe::{Probe, truncated};
use crate::{broken, ensure};

/// What the official client sends as a polling body's content type.
const TEXT_PLAIN: &str = "text/plain;charset=UTF-8";

/// Packets kept from polls and not yet read: far above what one exchange
/// of these cases makes a server send.
const MAX_PENDING_PACKETS: usize = 64;

/// A polling session: each [`PollingSession::next`] is a `GET`, each
/// [`PollingSession::post`] a `POST`, on fresh connections.
#[derive(Debug)]
pub(super) struct PollingSession {
    probe: Probe,
    target: String,
    ping_interval_ms: u64,
    pending: VecDeque<EioPacket>,
}

/// A packet as shown in a reason: its text form, or binary as the trace shows it.
pub(super) fn shown(packet: &EioPacket) -> String {
    match packet {
        EioPacket::Binary(bytes) => binary_text(bytes),
        other => format!(
            "{:?}",
            truncated(&other.encode_text().unwrap_or_default(), 160)
        ),
    }
}

impl PollingSession {
    /// `GET ?EIO=4&transport=polling`, checked by [`Probe::polling_handshake`].
    pub(super) async fn open(probe: &Probe) -> Result<PollingSession, CaseError> {
        let handshake = probe.polling_handshake().await?;
        Ok(PollingSession {
            probe: probe.clone(),
            target: probe.engine_target(&format!("EIO=4&transport=polling&sid={}", handshake.sid)),
            ping_interval_ms: handshake.ping_interval_ms,
            pending: VecDeque::new(),
        })
    }

    /// Sends `body` (Engine.IO packets, `\x1e`-separated) in one `POST`.
    pub(super) async fn post(&self, body: &str) -> Result<(), CaseError> {
        let response = self
            .probe
            .http("POST", &self.target, Some(TEXT_PLAIN), body.to_owned())
            .await?;
        ensure!(
            response.status == 200,
            "POST {:?} answered {} {:?}",
            truncated(body, 120),
            response.status,
            truncated(&response.body_text(), 120)
        );
        Ok(())
    }

    /// The next packet the server sends, polling as needed; pings are
    /// answered and skipped. Bounded by the probe's timeout plus the
    /// server's ping interval (a poll with nothing to say lasts that long).
    pub(super) async fn next(&mut self) -> Result<EioPacket, CaseError> {
        let within = self.probe.timeout() + self.ping_interval();
        let deadline = deadline_after(within);
        loop {
            if let Some(packet) = self.pending.pop_front() {
                return Ok(packet);
            }
            if Instant::now() >= deadline {
                broken!("nothing but pings within {} ms", within.as_millis());
            }
            self.poll().await?;
        }
    }

    /// The next packet, which must be exactly `expected` (its text form).
    pub(super) async fn expect_text(&mut self, expected: &str) -> Result<(), CaseError> {
        let packet = self.next().await?;
        ensure!(
            packet.encode_text().as_deref() == Some(expected),
            "expected {expected:?}, got {}",
            shown(&packet)
        );
        Ok(())
    }

    /// The next packet, which must be the binary attachment `expected`.
    pub(super) async fn expect_binary(&mut self, expected: &[u8]) -> Result<(), CaseError> {
        let packet = self.next().await?;
        ensure!(
            matches!(&packet, EioPacket::Binary(bytes) if bytes.as_ref() == expected),
            "expected the binary attachment {}, got {}",
            binary_text(expected),
            shown(&packet)
        );
        Ok(())
    }

    /// Sends `packet`, which should make the server close the session, then
    /// a CONNECT to [`raw::BARRIER_NAMESPACE`]: `Ok(how it closed)`, or a
    /// reason saying that the server went on to answer the barrier.
    pub(super) async fn expect_close_after(&mut self, packet: &str) -> Result<String, CaseError> {
        self.post(packet).await?;
        let barrier = format!("40{},", raw::BARRIER_NAMESPACE);
        let posted = self
            .probe
            .http("POST", &self.target, Some(TEXT_PLAIN), barrier.clone())
            .await;
        match posted {
            Ok(response) if response.status == 200 => {}
            Ok(response) => {
                return Ok(format!(
                    "closed after {packet:?}: the next POST answered {}",
                    response.status
                ));
            }
            Err(error) => return Ok(format!("closed after {packet:?}: {error}")),
        }
        let is_answer = |text: &str| {
            text.starts_with(&raw::packet_prefix('0', raw::BARRIER_NAMESPACE))
                || text.starts_with(&raw::packet_prefix('4', raw::BARRIER_NAMESPACE))
        };
        let mut before = Vec::new();
        loop {
            let packet_seen = match self.next_or_end().await {
                Ok(Some(packet)) => packet,
                Ok(None) => broken!(
                    "after {packet:?} the server neither closed the session nor answered \
                     a later CONNECT; packets: [{}]",
                    before.join(", ")
                ),
                Err(how) => return Ok(format!("closed after {packet:?}: {how}")),
            };
            match &packet_seen {
                EioPacket::Close => {
                    return Ok(format!(
                        "closed after {packet:?}: Engine.IO close packet \"1\""
                    ));
                }
                EioPacket::Message(text) if is_answer(&format!("4{text}")) => broken!(
                    "the session stayed open after {packet:?}: the server went on to answer \
                     a later CONNECT with {:?}{}",
                    truncated(&format!("4{text}"), 120),
                    if before.is_empty() {
                        String::new()
                    } else {
                        format!(" (packets before: [{}])", before.join(", "))
                    }
                ),
                other if before.len() < MAX_PENDING_PACKETS => before.push(shown(other)),
                _ => broken!(
                    "after {packet:?} the server neither closed the session nor answered \
                     a later CONNECT: [{}]",
                    before.join(", ")
                ),
            }
        }
    }

    /// Like [`PollingSession::next`], but a refused or failed poll is the
    /// session's end (`Err` says how), not a broken case; `Ok(None)`:
    /// nothing but pings within the timeout plus a ping interval.
    async fn next_or_end(&mut self) -> Result<Option<EioPacket>, String> {
        let deadline = deadline_after(self.probe.timeout_plus(self.ping_interval_ms));
        while self.pending.is_empty() {
            if Instant::now() >= deadline {
                return Ok(None);
            }
            let response = self
                .probe
                .get(&self.target)
                .await
                .map_err(|e| e.to_string())?;
            if response.status != 200 {
                return Err(format!(
                    "a poll answered {} {:?}",
                    response.status,
                    truncated(&response.body_text(), 120)
                ));
            }
            let packets = decode_polling_payload(&response.body_text())
                .map_err(|violation| format!("a poll answered a malformed payload: {violation}"))?;
            for packet in packets {
                match packet {
                    EioPacket::Ping { probe: false } => {
                        self.post("3").await.map_err(|e| e.to_string())?;
                    }
                    other if self.pending.len() < MAX_PENDING_PACKETS => {
                        self.pending.push_back(other);
                    }
                    _ => return Err(format!("over {MAX_PENDING_PACKETS} packets pending")),
                }
            }
        }
        Ok(self.pending.pop_front())
    }

    fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// One `GET`: its packets join the pending ones; pings are answered.
    async fn poll(&mut self) -> Result<(), CaseError> {
        let response = self.probe.get(&self.target).await?;
        let body = response.body_text();
        ensure!(
            response.status == 200,
            "a poll answered {} {:?}",
            response.status,
            truncated(&body, 120)
        );
        let packets = decode_polling_payload(&body).map_err(|violation| {
            CaseError::Broken(format!("a poll answered a malformed payload: {violation}"))
        })?;
        for packet in packets {
            match packet {
                EioPacket::Ping { probe: false } => self.post("3").await?,
                other => {
                    ensure!(
                        self.pending.len() < MAX_PENDING_PACKETS,
                        "over {MAX_PENDING_PACKETS} packets pending"
                    );
                    self.pending.push_back(other);
                }
            }
        }
        Ok(())
    }
}
