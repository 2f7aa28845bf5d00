//! One seed-app socket as the cases drive it: a Socket.IO session in `/`
//! with its sid, numbered acks, and the waits and negative checks the app
//! rules need.

use std::cell::Cell;
use std::time::Duration;

use serde_json::{Value, json};
use siosim_harness::Transport;
use siosim_harness::client::Session;
use siosim_harness::codec::{SioPacket, SioPacketKind};

use crate::case::CaseError;
use crate::probe::{Probe, truncated};
use crate::{broken, ensure};

/// The namespace every seed-app event lives in.
pub(super) const NAMESPACE: &str = "/";

/// A room no case ever joins: leaving it changes nothing, which makes
/// `leave` a side-effect-free round trip for barriers.
const BARRIER_ROOM: &str = "siosim-barrier";

/// A socket connected to the seed app's namespace.
#[derive(Debug)]
pub(super) struct AppClient {
    probe: Probe,
    session: Session,
    sid: String,
    next_ack_id: Cell<u64>,
}

impl AppClient {
    /// Opens a session over `transport` and joins `/`. Waits for nothing
    /// else: the `get count` greeting stays in the inbox for the cases that
    /// read it.
    pub async fn connect(probe: &Probe, transport: Transport) -> Result<AppClient, CaseError> {
        let (session, connected) = probe.socket(transport, NAMESPACE, None).await?;
        let sid = connected
            .data
            .as_ref()
            .and_then(|data| data.get("sid"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        ensure!(
            !sid.is_empty(),
            "the CONNECT packet {:?} carries no sid",
            connected.encode().0
        );
        Ok(AppClient {
            probe: probe.clone(),
            session,
            sid,
            next_ack_id: Cell::new(1),
        })
    }

    /// The socket's id, from the server's CONNECT: the root of every name a
    /// case creates on a shared server (rooms, things), so that two runs
    /// never collide and nothing random is needed.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The bound on each wait, the probe's.
    pub fn timeout(&self) -> Duration {
        self.probe.timeout()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The trace name of the session, e.g. `c2`.
    pub fn alias(&self) -> &str {
        self.session.alias()
    }

    /// Emits `event` with `args`, asking for no ack.
    pub async fn emit(&self, event: &str, args: Vec<Value>) -> Result<(), CaseError> {
        self.session
            .send_sio(&SioPacket::event(NAMESPACE, event, args, None))
            .await?;
        Ok(())
    }

    /// Emits `event` with `args` and a fresh ack id, without waiting; returns
    /// the id for [`AppClient::ack`].
    pub async fn emit_with_ack(&self, event: &str, args: Vec<Value>) -> Result<u64, CaseError> {
        let ack_id = self.next_ack_id.get();
        self.next_ack_id.set(ack_id + 1);
        self.session
            .send_sio(&SioPacket::event(NAMESPACE, event, args, Some(ack_id)))
            .await?;
        Ok(ack_id)
    }

    /// Waits for the ack `ack_id` of `event`; returns its one argument (the
    /// contract's acks carry exactly one value).
    pub async fn ack(&self, event: &str, ack_id: u64) -> Result<Value, CaseError> {
        let packet = self.probe.ack(&self.session, NAMESPACE, ack_id).await?;
        single(&format!("the ack to {event:?}"), &packet)
    }

    /// Emits `event` with an ack and waits for it: the round trip of most
    /// cases.
    pub async fn call(&self, event: &str, args: Vec<Value>) -> Result<Value, CaseError> {
        let ack_id = self.emit_with_ack(event, args).await?;
        self.ack(event, ack_id).await
    }

    /// Waits for the next `event`; returns its one argument.
    pub async fn next(&self, event: &str) -> Result<Value, CaseError> {
        let packet = self.next_packet_of(event).await?;
        single(&format!("{} {event:?}", self.alias()), &packet)
    }

    /// The next `event`'s one argument if one comes within `within`, else
    /// `None`: for waits whose silence is no verdict yet.
    pub async fn next_within(
        &self,
        event: &str,
        within: Duration,
    ) -> Result<Option<Value>, CaseError> {
        match self.session.take(within, |p| is_event(p, event)).await {
            Ok(packet) => single(&format!("{} {event:?}", self.alias()), &packet).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Fails if the server disconnected this socket from `/` (a DISCONNECT
    /// packet waits in the inbox).
    pub fn expect_not_disconnected(&self, why: &str) -> Result<(), CaseError> {
        if self.session.peek(is_disconnect).is_some() {
            broken!("{} was disconnected by the server {why}", self.alias());
        }
        Ok(())
    }

    async fn next_packet_of(&self, event: &str) -> Result<SioPacket, CaseError> {
        self.session
            .take(self.probe.timeout(), |p| is_event(p, event))
            .await
            .map_err(|why| {
                CaseError::Broken(format!(
                    "{} got no {event:?} event: {why}; unconsumed: {}",
                    self.alias(),
                    self.session.inbox_summary(8)
                ))
            })
    }

    /// Waits for the next `get count`; returns its value, which must be an
    /// integer.
    pub async fn next_count(&self) -> Result<i64, CaseError> {
        let value = self.next("get count").await?;
        integer(&format!("{} got \"get count\"", self.alias()), &value)
    }

    /// Waits for the next `event` that asks for an ack, and answers it with
    /// `answer`; returns the event's one argument.
    pub async fn answer(&self, event: &str, answer: Value) -> Result<Value, CaseError> {
        let packet = self.next_packet_of(event).await?;
        let Some(ack_id) = packet.ack_id else {
            broken!(
                "{} got {:?} without an ack id: nothing to answer",
                self.alias(),
                truncated(&packet.encode().0, 200)
            );
        };
        self.session
            .send_sio(&SioPacket::ack(NAMESPACE, ack_id, vec![answer]))
            .await?;
        single(&format!("{} {event:?}", self.alias()), &packet)
    }

    /// Waits until the server disconnects this socket from `/` (a
    /// DISCONNECT packet).
    pub async fn disconnected_by_server(&self) -> Result<(), CaseError> {
        self.session
            .take(self.probe.timeout(), is_disconnect)
            .await
            .map_err(|why| {
                CaseError::Broken(format!(
                    "{} was not disconnected by the server: {why}; unconsumed: {}",
                    self.alias(),
                    self.session.inbox_summary(8)
                ))
            })?;
        Ok(())
    }

    /// Waits for the next Socket.IO packet of any kind in `/`, in arrival
    /// order: for cases about which packet comes first.
    pub async fn next_packet(&self) -> Result<SioPacket, CaseError> {
        self.session
            .take(self.probe.timeout(), |p| p.namespace == NAMESPACE)
            .await
            .map_err(|why| CaseError::Broken(format!("{} got no packet: {why}", self.alias())))
    }

    /// A round trip that changes nothing (`leave` of a room nobody joins):
    /// once its ack is in, everything the server queued for this socket
    /// before it has arrived too, so negative checks can look at the inbox.
    pub async fn barrier(&self) -> Result<(), CaseError> {
        let reply = self.call("leave", vec![json!(BARRIER_ROOM)]).await?;
        ensure!(
            reply == json!({"ok": true}),
            "{}: the barrier round trip (leave {BARRIER_ROOM:?}) answered {reply}, not {{\"ok\":true}}",
            self.alias()
        );
        Ok(())
    }

    /// Passes a barrier, then fails if any `event` is waiting in the inbox:
    /// the negative half of "who receives it".
    pub async fn expect_no(&self, event: &str, why: &str) -> Result<(), CaseError> {
        self.barrier().await?;
        if let Some(packet) = self.session.peek(|p| is_event(p, event)) {
            broken!(
                "{} received {:?} although {why}",
                self.alias(),
                truncated(&packet.encode().0, 200)
            );
        }
        Ok(())
    }
}

fn is_event(packet: &SioPacket, event: &str) -> bool {
    packet.namespace == NAMESPACE && packet.event_name() == Some(event)
}

/// Whether `packet` is the server's DISCONNECT from `/`.
fn is_disconnect(packet: &SioPacket) -> bool {
    packet.namespace == NAMESPACE && packet.kind == SioPacketKind::Disconnect
}

/// Whether `packet` is an ack in `/`.
pub(super) fn is_ack(packet: &SioPacket) -> bool {
    packet.namespace == NAMESPACE
        && matches!(packet.kind, SioPacketKind::Ack | SioPacketKind::BinaryAck)
}

/// The one argument of an event or ack.
pub(super) fn single(what: &str, packet: &SioPacket) -> Result<Value, CaseError> {
    match packet.args().as_slice() {
        [value] => Ok(value.clone()),
        _ => Err(CaseError::Broken(format!(
            "{what} carried {:?}, not exactly one value",
            truncated(&packet.encode().0, 200)
        ))),
    }
}

/// `value` as an integer counter value.
pub(super) fn integer(what: &str, value: &Value) -> Result<i64, CaseError> {
    match value.as_i64() {
        Some(count) if value.is_i64() || value.is_u64() => Ok(count),
        _ => Err(CaseError::Broken(format!("{what} {value}, not an integer"))),
    }
}

/// Fails unless `reply` is exactly `{"ok":true}`.
pub(super) fn expect_ok(what: &str, reply: &Value) -> Result<(), CaseError> {
    ensure!(
        *reply == json!({"ok": true}),
        "{what} was acked {}, not {{\"ok\":true}}",
        truncated(&reply.to_string(), 200)
    );
    Ok(())
}

/// Fails unless `reply` is `{"error":"<why>"}`.
pub(super) fn expect_error(what: &str, reply: &Value) -> Result<(), CaseError> {
    let shaped = reply.as_object().is_some_and(|fields| {
        fields.len() == 1 && fields.get("error").is_some_and(Value::is_string)
    });
    ensure!(
        shaped,
        "{what} was acked {}, not {{\"error\":\"<why>\"}}",
        truncated(&reply.to_string(), 200)
    );
    Ok(())
}

/// A name of exactly `chars` characters: `seed` (cut if needed) padded with
/// `fill`. Seeded with a sid, it is unique per socket at any length.
pub(super) fn sized_name(seed: &str, chars: usize, fill: char) -> String {
    let mut name: String = seed.chars().take(chars).collect();
    let have = name.chars().count();
    name.extend(std::iter::repeat_n(fill, chars - have));
    name
}
