//! `cluster::*`: the seed-app contract across a cluster's nodes (README,
//! "Cluster profile"). Sockets on two nodes of one cluster: what one sends,
//! the other must see as if both were on one server. Profile `cluster`: it
//! needs two nodes (`--url A --url B`, or the simulated cluster).
//!
//! A negative check on a node ("A never gets it") is made once a socket on
//! that same node got the relay: the node has then handled it.

use std::time::Duration;

use serde_json::json;
use siosim_harness::Transport;

use super::client::{AppClient, expect_ok, integer};
use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
use crate::{broken, case};

const ACROSS_NODES: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Cluster profile",
    rule: "the seed-app contract holds across a cluster's nodes: `chat message` reaches every socket on every node, `chat broadcast` every socket but the sender's, `room message` the room's members on every node, and `get count` carries one count the nodes share",
};

const ACKS_ACROSS_NODES: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Cluster profile",
    rule: "`room poll` asks the room's members on every node and acks the sender with each member's answer exactly once; `kick` disconnects a socket on whichever node it is",
};

const OUTLIVES_A_REDIS_RESTART: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Cluster profile",
    rule: "a restart of the cluster's Redis loses no client: the sockets on every node stay connected, and once Redis is back the nodes hear each other again (a `chat message` from node 1 reaches node 2 within 30 s)",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "cluster::chat::message::reaches_sockets_on_every_node",
            Must,
            Cluster,
            ACROSS_NODES,
            message_reaches_every_node
        ),
        case!(
            "cluster::chat::broadcast::reaches_other_nodes_but_not_the_sender",
            Must,
            Cluster,
            ACROSS_NODES,
            broadcast_reaches_other_nodes
        ),
        case!(
            "cluster::rooms::room_message::reaches_members_on_every_node_only",
            Must,
            Cluster,
            ACROSS_NODES,
            room_message_reaches_members_on_every_node
        ),
        case!(
            "cluster::counter::increase_count::reaches_every_node",
            Must,
            Cluster,
            ACROSS_NODES,
            increase_reaches_every_node
        ),
        case!(
            "cluster::counter::increase_count::counts_only_rise_on_every_node",
            Must,
            Cluster,
            ACROSS_NODES,
            counts_only_rise_on_every_node
        ),
        case!(
            "cluster::counter::get_count::greets_with_the_shared_count",
            Must,
            Cluster,
            ACROSS_NODES,
            greeting_carries_the_shared_count
        ),
        case!(
            "cluster::rooms::room_poll::gathers_each_members_answer_once",
            Must,
            Cluster,
            ACKS_ACROSS_NODES,
            room_poll_gathers_every_node
        ),
        case!(
            "cluster::redis::restart::loses_no_socket_and_nodes_hear_each_other_again",
            Must,
            Cluster,
            OUTLIVES_A_REDIS_RESTART,
            redis_restart_loses_no_socket
        ),
        case!(
            "cluster::kick::disconnects_a_socket_on_another_node",
            Must,
            Cluster,
            ACKS_ACROSS_NODES,
            kick_reaches_another_node
        ),
    ]
}

/// A socket on node 1 and one on node 2, both greeted.
async fn one_per_node(probe: &Probe) -> Result<(AppClient, AppClient), crate::CaseError> {
    probe.require_nodes(2)?;
    let first = AppClient::connect(&probe.on_node(0)?, Transport::Websocket).await?;
    let second = AppClient::connect(&probe.on_node(1)?, Transport::Websocket).await?;
    first.next_count().await?;
    second.next_count().await?;
    Ok((first, second))
}

async fn message_reaches_every_node(probe: Probe) -> CaseOutcome {
    let (sender, other) = one_per_node(&probe).await?;
    let text = format!("across nodes from {}", sender.sid());
    expect_ok(
        "\"chat message\"",
        &sender.call("chat message", vec![json!(text)]).await?,
    )?;
    for client in [&sender, &other] {
        let relay = client.next("chat message").await?;
        if relay != json!(text) {
            broken!(
                "{} got \"chat message\" {relay}, not {text:?}",
                client.alias()
            );
        }
    }
    Ok(format!(
        "{} on node 1 and {} on node 2 both got it",
        sender.alias(),
        other.alias()
    ))
}

async fn broadcast_reaches_other_nodes(probe: Probe) -> CaseOutcome {
    let (sender, other) = one_per_node(&probe).await?;
    let text = format!("broadcast across nodes from {}", sender.sid());
    expect_ok(
        "\"chat broadcast\"",
        &sender.call("chat broadcast", vec![json!(text)]).await?,
    )?;
    let relay = other.next("chat broadcast").await?;
    if relay != json!(text) {
        broken!(
            "{} got \"chat broadcast\" {relay}, not {text:?}",
            other.alias()
        );
    }
    sender
        .expect_no("chat broadcast", "a broadcast skips its sender")
        .await?;
    Ok(format!(
        "{} on node 2 got it, the sender did not",
        other.alias()
    ))
}

/// A member on node 2 posts; a member on node 1 gets it, a non-member on
/// node 1 does not.
async fn room_message_reaches_members_on_every_node(probe: Probe) -> CaseOutcome {
    let (outsider, poster) = one_per_node(&probe).await?;
    let member = AppClient::connect(&probe.on_node(0)?, Transport::Websocket).await?;
    member.next_count().await?;
    let room = format!("cluster-{}", poster.sid());
    for client in [&poster, &member] {
        expect_ok("\"join\"", &client.call("join", vec![json!(room)]).await?)?;
    }
    let post = json!({"room": room, "msg": "to the room on both nodes"});
    expect_ok(
        "\"room message\"",
        &poster.call("room message", vec![post.clone()]).await?,
    )?;
    for client in [&poster, &member] {
        let relay = client.next("room message").await?;
        if relay != post {
            broken!(
                "{} got \"room message\" {relay}, not {post}",
                client.alias()
            );
        }
    }
    outsider
        .expect_no(
            "room message",
            "it never joined the room (a member on its node got the message)",
        )
        .await?;
    Ok(format!(
        "{} on node 1 got it, {} (not a member, node 1) did not",
        member.alias(),
        outsider.alias()
    ))
}

/// An increase on node 1 reaches node 2's socket, and one on node 2 node 1's.
async fn increase_reaches_every_node(probe: Probe) -> CaseOutcome {
    let (first, second) = one_per_node(&probe).await?;
    let mut told = Vec::new();
    for (increaser, other) in [(&first, &second), (&second, &first)] {
        let reply = increaser.call("increase count", vec![]).await?;
        let value = integer("the ack to \"increase count\" is", &reply)?;
        // Every socket is told, the increaser included.
        for client in [other, increaser] {
            let heard = client.next_count().await?;
            if heard != value {
                broken!(
                    "{} got \"get count\" {heard} after {} on {} node was acked {value}",
                    client.alias(),
                    increaser.alias(),
                    if std::ptr::eq(client, increaser) {
                        "its"
                    } else {
                        "the other"
                    }
                );
            }
        }
        told.push(value);
    }
    if told[1] <= told[0] {
        broken!(
            "the second node's increase was acked {} after the first's {}: one count, not two",
            told[1],
            told[0]
        );
    }
    Ok(format!(
        "counts {} and {} reached the other node",
        told[0], told[1]
    ))
}

/// Increases sent on both nodes at once, each without waiting for the one
/// before.
const CONCURRENT_INCREASES: usize = 10;

/// Two sockets increase at once, one per node, [`CONCURRENT_INCREASES`]
/// times each without waiting; a watcher on each node must see the count
/// only rise, up to the highest acked: the seed app's "every socket
/// receives the values in increasing order", with the values coming from
/// two nodes.
async fn counts_only_rise_on_every_node(probe: Probe) -> CaseOutcome {
    let (watcher_1, watcher_2) = one_per_node(&probe).await?;
    let (increaser_1, increaser_2) = one_per_node(&probe).await?;
    let mut pending = Vec::new();
    for _ in 0..CONCURRENT_INCREASES {
        for increaser in [&increaser_1, &increaser_2] {
            pending.push((
                increaser,
                increaser.emit_with_ack("increase count", vec![]).await?,
            ));
        }
    }
    let mut highest = 0;
    for (increaser, ack_id) in pending {
        let acked = integer(
            "the ack to \"increase count\" is",
            &increaser.ack("increase count", ack_id).await?,
        )?;
        highest = highest.max(acked);
    }
    for watcher in [&watcher_1, &watcher_2] {
        let mut last = None;
        while last != Some(highest) {
            let count = watcher.next_count().await?;
            if let Some(before) = last.filter(|before| count <= *before) {
                broken!(
                    "{} got \"get count\" {count} after {before}, while increases on both nodes were acked up to {highest}",
                    watcher.alias()
                );
            }
            last = Some(count);
        }
    }
    Ok(format!(
        "{} increases on each node, acked up to {highest}; both watchers saw the count only rise to it",
        CONCURRENT_INCREASES
    ))
}

/// A socket that connects to node 2 after an increase on node 1 is greeted
/// with that count or a later one.
async fn greeting_carries_the_shared_count(probe: Probe) -> CaseOutcome {
    probe.require_nodes(2)?;
    let first = AppClient::connect(&probe.on_node(0)?, Transport::Websocket).await?;
    first.next_count().await?;
    let value = integer(
        "the ack to \"increase count\" is",
        &first.call("increase count", vec![]).await?,
    )?;
    let newcomer = AppClient::connect(&probe.on_node(1)?, Transport::Websocket).await?;
    let greeted = newcomer.next_count().await?;
    if greeted < value {
        broken!(
            "{} on node 2 was greeted with count {greeted}, below {value} acked on node 1",
            newcomer.alias()
        );
    }
    Ok(format!(
        "greeted on node 2 with {greeted} after {value} on node 1"
    ))
}

/// Members on both nodes (the poller and one more on node 1, one on node 2)
/// each answer with their own sid; the poller's ack must hold each answer
/// exactly once, and an outsider on node 2 is not asked.
async fn room_poll_gathers_every_node(probe: Probe) -> CaseOutcome {
    let (poller, remote) = one_per_node(&probe).await?;
    let (local, outsider) = one_per_node(&probe).await?;
    let members = [&poller, &remote, &local];
    let room = format!("poll-{}", poller.sid());
    for member in members {
        expect_ok("\"join\"", &member.call("join", vec![json!(room)]).await?)?;
    }
    let question = json!(format!("who is in {room}?"));
    let ack_id = poller
        .emit_with_ack(
            "room poll",
            vec![json!({"room": room, "question": question})],
        )
        .await?;
    for member in members {
        let asked = member.answer("room poll", json!(member.sid())).await?;
        if asked != question {
            broken!("{} was asked {asked}, not {question}", member.alias());
        }
    }
    let reply = poller.ack("room poll", ack_id).await?;
    let mut answers = super::rooms::answers_of(&reply)?;
    answers.sort();
    let mut expected: Vec<String> = members.iter().map(|m| m.sid().to_owned()).collect();
    expected.sort();
    if answers != expected {
        broken!(
            "the poll was acked with the answers {answers:?}, not each member's once: {expected:?} ({} and {} on node 1, {} on node 2)",
            poller.alias(),
            local.alias(),
            remote.alias()
        );
    }
    outsider
        .expect_no(
            "room poll",
            "it never joined the room (a member on its node was asked)",
        )
        .await?;
    Ok(format!(
        "3 answers from members on both nodes, each once; {} (not a member) was not asked",
        outsider.alias()
    ))
}

/// A socket on node 1 kicks one on node 2, which must be disconnected by
/// the server; the kicker stays connected.
async fn kick_reaches_another_node(probe: Probe) -> CaseOutcome {
    let (kicker, kicked) = one_per_node(&probe).await?;
    expect_ok(
        "\"kick\"",
        &kicker.call("kick", vec![json!(kicked.sid())]).await?,
    )?;
    kicked.disconnected_by_server().await?;
    kicker.barrier().await?;
    Ok(format!(
        "{} on node 2 was disconnected by the server; {} is still connected",
        kicked.alias(),
        kicker.alias()
    ))
}

/// How long after Redis is back the nodes may take to hear each other
/// again: reconnecting with backoff (python's Redis manager waits 1, 2, 4 s
/// between tries) fits well within it.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);

/// How long each `chat message` sent after the restart is waited for before
/// the next is sent.
const RECOVERY_ATTEMPT_WAIT: Duration = Duration::from_millis(500);

/// A socket on each node; a `chat message` crosses from node 1 to node 2;
/// Redis restarts; node 1 then sends a `chat message` every half second
/// until node 2's socket gets one (any of them). Neither socket may be
/// disconnected meanwhile.
async fn redis_restart_loses_no_socket(probe: Probe) -> CaseOutcome {
    let (sender, listener) = one_per_node(&probe).await?;
    let before = format!("before the restart, from {}", sender.sid());
    sender.emit("chat message", vec![json!(before)]).await?;
    let heard = listener.next("chat message").await?;
    if heard != json!(before) {
        broken!(
            "{} got \"chat message\" {heard}, not {before:?}",
            listener.alias()
        );
    }
    probe.restart_bus().await?;
    let back = tokio::time::Instant::now();
    let mut sent = 0;
    let recovered = loop {
        if back.elapsed() >= RECOVERY_DEADLINE {
            break None;
        }
        sent += 1;
        let text = format!("after the restart #{sent}, from {}", sender.sid());
        sender.emit("chat message", vec![json!(text)]).await?;
        if let Some(heard) = listener
            .next_within("chat message", RECOVERY_ATTEMPT_WAIT)
            .await?
        {
            break Some(heard);
        }
    };
    let Some(heard) = recovered else {
        broken!(
            "no \"chat message\" from node 1 reached {} on node 2 within {} s of Redis being back ({sent} sent)",
            listener.alias(),
            RECOVERY_DEADLINE.as_secs()
        );
    };
    for client in [&sender, &listener] {
        client.barrier().await?;
        client.expect_not_disconnected("while Redis restarted")?;
    }
    Ok(format!(
        "{} on node 2 heard node 1 again after {} ms ({heard}); both sockets stayed connected",
        listener.alias(),
        back.elapsed().as_millis()
    ))
}
