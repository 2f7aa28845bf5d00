//! `kick`: a client has the server disconnect a socket by its id.

use serde_json::json;
use siosim_harness::Transport;

use super::client::{AppClient, expect_ok};
use crate::case;
use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::Probe;

const KICK: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`kick` (a socket id) acks `{\"ok\":true}`, then the socket with that id gets a DISCONNECT packet for `/`; nobody else is disconnected",
};

pub(super) fn cases() -> Vec<Case> {
    vec![case!(
        "app::kick::disconnects_the_named_socket_only",
        Must,
        App,
        KICK,
        kick_disconnects_the_named_socket
    )]
}

/// One socket kicks another: the kicked one gets the server's DISCONNECT;
/// the kicker and a bystander are still connected after a round trip each.
async fn kick_disconnects_the_named_socket(probe: Probe) -> CaseOutcome {
    let kicker = AppClient::connect(&probe, Transport::Websocket).await?;
    let kicked = AppClient::connect(&probe, Transport::Polling).await?;
    let bystander = AppClient::connect(&probe, Transport::Upgrade).await?;
    expect_ok(
        "\"kick\"",
        &kicker.call("kick", vec![json!(kicked.sid())]).await?,
    )?;
    kicked.disconnected_by_server().await?;
    for client in [&kicker, &bystander] {
        client.barrier().await?;
        client.expect_not_disconnected("although another socket was kicked")?;
    }
    Ok(format!(
        "{} was disconnected by the server; {} and {} are still connected",
        kicked.alias(),
        kicker.alias(),
        bystander.alias()
    ))
}
