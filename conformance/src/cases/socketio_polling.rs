//! An HTTP long-polling session read packet by packet, for the
//! `socketio::polling::*` cases that check the server's exact packets on the
//! transport the official suite does not exercise. The requests are
//! [`engineio_wire::PollingSession`]'s, the one polling session of the suite;
//! this adds the queue of packets received and not yet read.

use std::collections::VecDeque;
use std::time::Duration;

use siosim_harness::client::deadline_after;
use siosim_harness::codec::EioPacket;
use siosim_harness::trace::binary_text;
use tokio::time::Instant;

use super::engineio_wire::{self, Answer, decode};
use super::socketio_raw as raw;
use crate::case::CaseError;
use crate::probe::{Probe, truncated};
use crate::{broken, ensure};

/// Packets kept from polls and not yet read: far above what one exchange
/// of these cases makes a server send.
const MAX_PENDING_PACKETS: usize = 64;

/// A polling session whose packets are read one at a time: each
/// [`PolledPackets::next`] polls (`GET`) only when none is pending.
#[derive(Debug)]
pub(super) struct PolledPackets {
    session: engineio_wire::PollingSession,
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

impl PolledPackets {
    /// `GET ?EIO=4&transport=polling`, checked by [`Probe::polling_handshake`].
    pub(super) async fn open(probe: &Probe) -> Result<PolledPackets, CaseError> {
        Ok(PolledPackets {
            session: engineio_wire::PollingSession::open(probe).await?,
            pending: VecDeque::new(),
        })
    }

    /// Sends `body` (Engine.IO packets, `\x1e`-separated) in one `POST`,
    /// which must be accepted.
    pub(super) async fn post(&self, body: &str) -> Result<(), CaseError> {
        self.session.post_accepted(body).await.map(drop)
    }

    /// The next packet the server sends, polling as needed; pings are
    /// answered and skipped. Bounded by the probe's timeout plus the
    /// server's ping interval (a poll with nothing to say lasts that long).
    pub(super) async fn next(&mut self) -> Result<EioPacket, CaseError> {
        let within = self.probe().timeout() + self.ping_interval();
        let deadline = deadline_after(within);
        loop {
            if let Some(packet) = self.pending.pop_front() {
                return Ok(packet);
            }
            if Instant::now() >= deadline {
                broken!("nothing but pings within {} ms", within.as_millis());
            }
            let body = self.session.poll(self.ping_interval()).await?;
            self.take(decode(&body)?).await?;
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
        match self.session.post(&barrier).await {
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

    /// Like [`PolledPackets::next`], but a refused or failed poll is the
    /// session's end (`Err` says how), not a broken case; `Ok(None)`:
    /// nothing but pings within the timeout plus a ping interval.
    async fn next_or_end(&mut self) -> Result<Option<EioPacket>, String> {
        let deadline = deadline_after(self.probe().timeout() + self.ping_interval());
        while self.pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let body = match self.session.get_within(left).await {
                Answer::Response(response) if response.status == 200 => response.body_text(),
                Answer::Response(response) => {
                    return Err(format!(
                        "a poll answered {} {:?}",
                        response.status,
                        truncated(&response.body_text(), 120)
                    ));
                }
                Answer::Failed(error) => return Err(error),
                Answer::Silent => return Ok(None),
            };
            let packets = decode(&body).map_err(|error| error.to_string())?;
            self.take(packets)
                .await
                .map_err(|error| error.to_string())?;
        }
        Ok(self.pending.pop_front())
    }

    /// Queues a poll's packets, answering its pings instead.
    async fn take(&mut self, packets: Vec<EioPacket>) -> Result<(), CaseError> {
        self.session.answer_pings(&packets).await?;
        for packet in packets {
            if packet == (EioPacket::Ping { probe: false }) {
                continue;
            }
            ensure!(
                self.pending.len() < MAX_PENDING_PACKETS,
                "over {MAX_PENDING_PACKETS} packets pending"
            );
            self.pending.push_back(packet);
        }
        Ok(())
    }

    fn probe(&self) -> &Probe {
        self.session.probe()
    }

    fn ping_interval(&self) -> Duration {
        self.session.heartbeat().0
    }
}
