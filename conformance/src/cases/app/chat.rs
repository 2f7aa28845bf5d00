//! The chat: `chat message` to every socket, `chat broadcast` to every
//! socket but the sender, both validated.

use serde_json::{Value, json};
use siosim_harness::Transport;

use super::client::{AppClient, expect_error, expect_ok};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
use crate::{broken, case};

const CHAT_MESSAGE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`chat message` (one string) is relayed to every socket, sender included, as `chat message` with the same string; ack `{\"ok\":true}`; non-string or missing argument: `{\"error\":…}` and nothing relayed",
};

const CHAT_BROADCAST: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`chat broadcast` (one string) is relayed to every socket except the sender, as `chat broadcast` with the same string; ack `{\"ok\":true}`; non-string or missing argument: `{\"error\":…}` and nothing relayed",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::chat::message::reaches_every_socket_sender_included",
            Must,
            App,
            CHAT_MESSAGE,
            message_reaches_every_socket
        ),
        case!(
            "app::chat::message::refuses_a_non_string",
            Must,
            App,
            CHAT_MESSAGE,
            message_refuses_a_non_string
        ),
        case!(
            "app::chat::broadcast::reaches_every_socket_but_the_sender",
            Must,
            App,
            CHAT_BROADCAST,
            broadcast_reaches_every_socket_but_the_sender
        ),
        case!(
            "app::chat::broadcast::refuses_a_non_string",
            Must,
            App,
            CHAT_BROADCAST,
            broadcast_refuses_a_non_string
        ),
    ]
}

/// Three sockets, one per transport; the first is the sender.
async fn three_sockets(probe: &Probe) -> Result<Vec<AppClient>, CaseError> {
    let mut clients = Vec::new();
    for transport in [Transport::Websocket, Transport::Polling, Transport::Upgrade] {
        clients.push(AppClient::connect(probe, transport).await?);
    }
    Ok(clients)
}

/// Arguments the contract refuses: missing, and non-strings.
fn refused_arguments() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("no argument", vec![]),
        ("a number", vec![json!(42)]),
        ("null", vec![json!(null)]),
        ("an object", vec![json!({"text": "hi"})]),
        ("an array", vec![json!(["hi"])]),
    ]
}

async fn message_reaches_every_socket(probe: Probe) -> CaseOutcome {
    let clients = three_sockets(&probe).await?;
    let text = format!("hello from {} ✓", clients[0].sid());
    expect_ok(
        "\"chat message\"",
        &clients[0].call("chat message", vec![json!(text)]).await?,
    )?;
    for client in &clients {
        let relay = client.next("chat message").await?;
        if relay != json!(text) {
            broken!(
                "{} got \"chat message\" {relay}, not {text:?}",
                client.alias()
            );
        }
    }
    Ok(String::new())
}

async fn broadcast_reaches_every_socket_but_the_sender(probe: Probe) -> CaseOutcome {
    let clients = three_sockets(&probe).await?;
    let text = format!("broadcast from {}", clients[0].sid());
    expect_ok(
        "\"chat broadcast\"",
        &clients[0].call("chat broadcast", vec![json!(text)]).await?,
    )?;
    for client in &clients[1..] {
        let relay = client.next("chat broadcast").await?;
        if relay != json!(text) {
            broken!(
                "{} got \"chat broadcast\" {relay}, not {text:?}",
                client.alias()
            );
        }
    }
    clients[0]
        .expect_no("chat broadcast", "a broadcast skips its sender")
        .await?;
    Ok(String::new())
}

async fn message_refuses_a_non_string(probe: Probe) -> CaseOutcome {
    refuses_a_non_string(probe, "chat message").await
}

async fn broadcast_refuses_a_non_string(probe: Probe) -> CaseOutcome {
    refuses_a_non_string(probe, "chat broadcast").await
}

/// Each refused argument gets an error ack; afterwards no socket, sender
/// included, holds a relay (whatever the server relays is queued before
/// the ack, and each socket's barrier comes after that).
async fn refuses_a_non_string(probe: Probe, event: &str) -> CaseOutcome {
    let clients = three_sockets(&probe).await?;
    for (what, args) in refused_arguments() {
        let reply = clients[0].call(event, args).await?;
        expect_error(&format!("{event:?} with {what}"), &reply)?;
    }
    for client in &clients {
        client
            .expect_no(event, "every message sent was refused")
            .await?;
    }
    Ok(String::new())
}
