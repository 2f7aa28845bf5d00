//! An HTTP long-polling session driven request by request, for the
//! `socketio::polling::*` cases that check the server's exact packets on the
//! transport the official suite does not exercise.

use std::collections::VecDeque;

use siosim_harness::codec::{EioPacket, decode_polling_payload};
use tokio::time::Instant;

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

/// A packet as shown in a reason: its text form, or `b` + its size.
pub(super) fn shown(packet: &EioPacket) -> String {
    match packet {
        EioPacket::Binary(bytes) => format!("<binary {:?}>", bytes.as_ref()),
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
        let within = self.probe.timeout() + std::time::Duration::from_millis(self.ping_interval_ms);
        let deadline = Instant::now() + within;
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
            "expected the binary attachment {expected:?}, got {}",
            shown(&packet)
        );
        Ok(())
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
