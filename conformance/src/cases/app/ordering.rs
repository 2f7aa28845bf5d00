//! The contract's ordering paragraph: one client's events are handled in
//! the order it sent them, what an event makes the server send is queued
//! before its ack, and every socket sees counter values in increasing order.

use serde_json::{Value, json};
use siosim_harness::Transport;
use siosim_harness::codec::SioPacket;

use super::client::{AppClient, NAMESPACE, expect_error, expect_ok, integer, is_ack, single};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{broken, case, ensure};

/// The ordering paragraph under "Socket.IO events".
pub(super) const ORDERING: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "Ordering: one client's events are handled in the order it sent them, and everything an event makes the server send is queued before that event's ack. Every socket sees counter values in increasing order, and thing pushes in the order the changes were made",
};

/// How many events the burst cases send without waiting.
const BURST: u64 = 20;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::ordering::increase_count::get_count_before_the_ack",
            Must,
            App,
            ORDERING,
            get_count_before_the_ack
        ),
        case!(
            "app::ordering::chat_message::relay_before_the_ack",
            Must,
            App,
            ORDERING,
            chat_relay_before_the_ack
        ),
        case!(
            "app::ordering::room_message::relay_before_the_ack",
            Must,
            App,
            ORDERING,
            room_relay_before_the_ack
        ),
        case!(
            "app::ordering::burst::acks_in_send_order",
            Must,
            App,
            ORDERING,
            burst_acks_in_send_order
        ),
        case!(
            "app::ordering::rooms::join_post_leave_post_in_send_order",
            Must,
            App,
            ORDERING,
            join_post_leave_post_in_send_order
        ),
        case!(
            "app::ordering::counter::values_increase_on_every_socket",
            Must,
            App,
            ORDERING,
            counter_values_increase_on_every_socket
        ),
    ]
}

/// Sends `event` with an ack, then reads the sender's packets in arrival
/// order until the ack: the sender's copy of `relayed` must come first.
/// Returns the ack's value.
async fn relay_then_ack(
    client: &AppClient,
    event: &str,
    args: Vec<Value>,
    relayed: &str,
) -> Result<(Value, Value), CaseError> {
    let ack_id = client.emit_with_ack(event, args).await?;
    let is_the_ack = |p: &SioPacket| is_ack(p) && p.ack_id == Some(ack_id);
    let first = client
        .session()
        .take(client.timeout(), |p| {
            is_the_ack(p) || (p.namespace == NAMESPACE && p.event_name() == Some(relayed))
        })
        .await
        .map_err(|why| {
            CaseError::Broken(format!(
                "neither {relayed:?} nor the ack to {event:?} arrived: {why}"
            ))
        })?;
    if is_the_ack(&first) {
        broken!(
            "the ack {:?} to {event:?} arrived before the sender's own {relayed:?}",
            truncated(&first.encode().0, 200)
        );
    }
    let relay = single(&format!("{relayed:?}"), &first)?;
    let reply = client.ack(event, ack_id).await?;
    Ok((relay, reply))
}

async fn get_count_before_the_ack(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    client.next_count().await?;
    let (told, reply) = relay_then_ack(&client, "increase count", vec![], "get count").await?;
    ensure!(
        told == reply,
        "the sender was told \"get count\" {told}, then acked {reply}"
    );
    Ok(String::new())
}

async fn chat_relay_before_the_ack(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Polling).await?;
    let text = format!("ordered {}", client.sid());
    let (relay, reply) =
        relay_then_ack(&client, "chat message", vec![json!(text)], "chat message").await?;
    ensure!(
        relay == json!(text),
        "the relay carried {relay}, not {text:?}"
    );
    expect_ok("\"chat message\"", &reply)?;
    Ok(String::new())
}

async fn room_relay_before_the_ack(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let room = format!("ordered-{}", client.sid());
    expect_ok("join", &client.call("join", vec![json!(room)]).await?)?;
    let post = json!({"room": room, "msg": "ordered"});
    let (relay, reply) =
        relay_then_ack(&client, "room message", vec![post.clone()], "room message").await?;
    ensure!(relay == post, "the relay carried {relay}, not {post}");
    expect_ok("\"room message\"", &reply)?;
    Ok(String::new())
}

/// `BURST` increases sent back to back: acks in send order with increasing
/// values, each preceded by the sender's `get count` of the same value.
async fn burst_acks_in_send_order(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let mut last = client.next_count().await?;
    let mut ack_ids = Vec::new();
    for _ in 0..BURST {
        ack_ids.push(client.emit_with_ack("increase count", vec![]).await?);
    }
    let mut told = None;
    let mut acked = 0;
    while acked < ack_ids.len() {
        let packet = client
            .session()
            .take(client.timeout(), |p| {
                is_ack(p) || (p.namespace == NAMESPACE && p.event_name() == Some("get count"))
            })
            .await
            .map_err(|why| {
                CaseError::Broken(format!(
                    "after {acked} of {BURST} acks: {why}; unconsumed: {}",
                    client.session().inbox_summary(8)
                ))
            })?;
        let value = integer("a value", &single("a packet", &packet)?)?;
        if !is_ack(&packet) {
            ensure!(
                value > last,
                "\"get count\" {value} arrived after {last}: values must increase"
            );
            last = value;
            told = Some(value);
            continue;
        }
        let expected_id = ack_ids[acked];
        ensure!(
            packet.ack_id == Some(expected_id),
            "ack {:?} arrived where ack {expected_id} (event number {}) was due",
            packet.ack_id,
            acked + 1
        );
        ensure!(
            told == Some(value),
            "ack {expected_id} says {value}, but the sender's last \"get count\" before it was {told:?}"
        );
        told = None;
        acked += 1;
    }
    Ok(format!("{BURST} acks in order, up to {last}"))
}

/// join, room message, leave, room message sent without waiting: handled in
/// that order, the first post is accepted and the second refused.
async fn join_post_leave_post_in_send_order(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Polling).await?;
    let room = format!("sequence-{}", client.sid());
    let post = json!({"room": room, "msg": "in order"});
    let join = client.emit_with_ack("join", vec![json!(room)]).await?;
    let first_post = client
        .emit_with_ack("room message", vec![post.clone()])
        .await?;
    let leave = client.emit_with_ack("leave", vec![json!(room)]).await?;
    let second_post = client
        .emit_with_ack("room message", vec![post.clone()])
        .await?;
    expect_ok("join", &client.ack("join", join).await?)?;
    expect_ok(
        "\"room message\" sent right after join",
        &client.ack("room message", first_post).await?,
    )?;
    expect_ok("leave", &client.ack("leave", leave).await?)?;
    expect_error(
        "\"room message\" sent right after leave",
        &client.ack("room message", second_post).await?,
    )?;
    let relay = client.next("room message").await?;
    ensure!(relay == post, "the relay carried {relay}, not {post}");
    client
        .expect_no("room message", "the second post came after leave")
        .await?;
    Ok(String::new())
}

/// Two sockets each send a burst of increases without waiting; each socket
/// must see the values it is told strictly increase, up to the last one.
async fn counter_values_increase_on_every_socket(probe: Probe) -> CaseOutcome {
    let first = AppClient::connect(&probe, Transport::Websocket).await?;
    let second = AppClient::connect(&probe, Transport::Polling).await?;
    let clients = [&first, &second];
    let mut seen = Vec::new();
    for client in clients {
        seen.push(client.next_count().await?);
    }
    let mut pending = Vec::new();
    for _ in 0..BURST / 2 {
        for client in clients {
            pending.push((
                client,
                client.emit_with_ack("increase count", vec![]).await?,
            ));
        }
    }
    let mut highest = i64::MIN;
    for (client, ack_id) in pending {
        let value = integer("an ack", &client.ack("increase count", ack_id).await?)?;
        highest = highest.max(value);
    }
    for (client, last) in clients.into_iter().zip(&mut seen) {
        while *last < highest {
            let value = client.next_count().await?;
            ensure!(
                value > *last,
                "{} was told \"get count\" {value} after {last}",
                client.alias()
            );
            *last = value;
        }
    }
    Ok(format!(
        "both sockets saw increasing values up to {highest}"
    ))
}
