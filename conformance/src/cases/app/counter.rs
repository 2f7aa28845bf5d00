//! The shared counter: `get count` on connect and after every
//! `increase count`, and the ack carrying the new value.

use serde_json::json;
use siosim_harness::Transport;
use siosim_harness::codec::SioPacketKind;

use super::client::{AppClient, integer, single};
use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{broken, case, ensure};

const GET_COUNT: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`get count` (server → client, integer, the current count): on connect, the new socket only, as its first event; after each `increase count`: every socket",
};

const INCREASE_COUNT: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`increase count` (client → server, no payload, arguments ignored) triggers `get count` with the new value to every socket, sender included; the ack to the sender is the new value (integer)",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::counter::get_count::is_the_first_event_on_connect",
            Must,
            App,
            GET_COUNT,
            get_count_is_the_first_event
        ),
        case!(
            "app::counter::get_count::on_connect_reaches_the_new_socket_only",
            Must,
            App,
            GET_COUNT,
            get_count_on_connect_reaches_the_new_socket_only
        ),
        case!(
            "app::counter::increase_count::acks_the_new_value",
            Must,
            App,
            INCREASE_COUNT,
            increase_count_acks_the_new_value
        ),
        case!(
            "app::counter::increase_count::notifies_every_socket",
            Must,
            App,
            INCREASE_COUNT,
            increase_count_notifies_every_socket
        ),
        case!(
            "app::counter::increase_count::ignores_arguments",
            Must,
            App,
            INCREASE_COUNT,
            increase_count_ignores_arguments
        ),
    ]
}

/// The first event after CONNECT, whatever its name, must be `get count`.
async fn get_count_is_the_first_event(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let first = client.next_packet().await?;
    ensure!(
        matches!(
            first.kind,
            SioPacketKind::Event | SioPacketKind::BinaryEvent
        ) && first.event_name() == Some("get count"),
        "the first packet after CONNECT is {:?}, not a \"get count\" event",
        truncated(&first.encode().0, 200)
    );
    let count = integer("\"get count\" carried", &single("\"get count\"", &first)?)?;
    Ok(format!("greeted with count {count}"))
}

async fn get_count_on_connect_reaches_the_new_socket_only(probe: Probe) -> CaseOutcome {
    let first = AppClient::connect(&probe, Transport::Websocket).await?;
    first.next_count().await?;
    let second = AppClient::connect(&probe, Transport::Polling).await?;
    second.next_count().await?;
    // The second socket's greeting was queued before it arrived, so one
    // meant for the first socket would have been queued before its barrier.
    first
        .expect_no(
            "get count",
            "only the new socket is told the count when another one connects",
        )
        .await?;
    Ok(String::new())
}

async fn increase_count_acks_the_new_value(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let before = client.next_count().await?;
    let reply = client.call("increase count", vec![]).await?;
    let after = integer("the ack to \"increase count\" is", &reply)?;
    ensure!(
        after == before + 1,
        "greeted with {before}, \"increase count\" was acked {after}, not {} (did another client increase it meanwhile?)",
        before + 1
    );
    let told = client.next_count().await?;
    ensure!(
        told == after,
        "the sender's \"get count\" after its increase says {told}, its ack {after}"
    );
    Ok(format!("{before} -> {after}"))
}

async fn increase_count_notifies_every_socket(probe: Probe) -> CaseOutcome {
    let mut clients = Vec::new();
    for transport in [Transport::Websocket, Transport::Polling, Transport::Upgrade] {
        let client = AppClient::connect(&probe, transport).await?;
        client.next_count().await?;
        clients.push(client);
    }
    let reply = clients[0].call("increase count", vec![]).await?;
    let value = integer("the ack to \"increase count\" is", &reply)?;
    for client in &clients {
        let told = client.next_count().await?;
        if told != value {
            broken!(
                "{} got \"get count\" {told} after the increase acked {value}",
                client.alias()
            );
        }
    }
    Ok(format!(
        "sender (websocket), polling and upgraded sockets all told {value}"
    ))
}

async fn increase_count_ignores_arguments(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let before = client.next_count().await?;
    let reply = client
        .call("increase count", vec![json!(5), json!({"by": 5})])
        .await?;
    let after = integer("the ack to \"increase count\" with arguments is", &reply)?;
    ensure!(
        after == before + 1,
        "\"increase count\" with arguments [5, {{\"by\":5}}] moved the count from {before} to {after}, not by one"
    );
    Ok(String::new())
}
