//! The app over each transport (WebSocket, long-polling, the upgrade), and
//! the contract's rule that a client asking for no ack gets none.

use serde_json::json;
use siosim_harness::Transport;

use super::client::{AppClient, expect_ok, integer, is_ack};
use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{case, ensure};

const TRANSPORTS: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`{path}/…`: Engine.IO v4 / Socket.IO v5, WebSocket and HTTP long-polling",
};

const NO_ACK: Clause = Clause {
    spec: Spec::SeedApp,
    section: "The seed-app contract",
    rule: "\"Ack\" is the reply to a client that emitted with a callback; a client that asked for no ack gets nothing back",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::transports::websocket::round_trip",
            Must,
            App,
            TRANSPORTS,
            websocket_round_trip
        ),
        case!(
            "app::transports::polling::round_trip",
            Must,
            App,
            TRANSPORTS,
            polling_round_trip
        ),
        case!(
            "app::transports::upgrade::round_trip",
            Must,
            App,
            TRANSPORTS,
            upgrade_round_trip
        ),
        case!(
            "app::acks::none_without_a_callback",
            Must,
            App,
            NO_ACK,
            none_without_a_callback
        ),
    ]
}

async fn websocket_round_trip(probe: Probe) -> CaseOutcome {
    round_trip(probe, Transport::Websocket).await
}

async fn polling_round_trip(probe: Probe) -> CaseOutcome {
    round_trip(probe, Transport::Polling).await
}

async fn upgrade_round_trip(probe: Probe) -> CaseOutcome {
    round_trip(probe, Transport::Upgrade).await
}

/// Greeting, an increase and a chat message over one transport.
async fn round_trip(probe: Probe, transport: Transport) -> CaseOutcome {
    let client = AppClient::connect(&probe, transport).await?;
    let greeted = client.next_count().await?;
    let acked = integer(
        "the ack to \"increase count\" is",
        &client.call("increase count", vec![]).await?,
    )?;
    let told = client.next_count().await?;
    ensure!(
        told == acked && acked > greeted,
        "greeted {greeted}, acked {acked}, told {told}"
    );
    let text = format!("over {} from {}", transport.name(), client.sid());
    expect_ok(
        "\"chat message\"",
        &client.call("chat message", vec![json!(text)]).await?,
    )?;
    let relay = client.next("chat message").await?;
    ensure!(
        relay == json!(text),
        "the relay carried {relay}, not {text:?}"
    );
    Ok(String::new())
}

/// Events sent without an ack id still take effect, and no ack packet
/// comes back for them (only the barrier's own).
async fn none_without_a_callback(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    client.next_count().await?;
    let text = format!("no callback from {}", client.sid());
    let room = format!("no-callback-{}", client.sid());
    client.emit("increase count", vec![]).await?;
    client.next_count().await?;
    client.emit("chat message", vec![json!(text)]).await?;
    client.next("chat message").await?;
    client.emit("chat message", vec![json!(7)]).await?;
    client.emit("join", vec![json!(room)]).await?;
    client.emit("join", vec![json!("")]).await?;
    client.barrier().await?;
    if let Some(ack) = client.session().peek(is_ack) {
        crate::broken!(
            "events emitted without an ack id were answered with {:?}",
            truncated(&ack.encode().0, 200)
        );
    }
    Ok(String::new())
}
