//! Rooms: `join` and `leave` with validated names, `room message` relayed
//! to the room's members only, and `room poll` put to them with acks.

use serde_json::{Value, json};
use siosim_harness::Transport;

use super::client::{AppClient, expect_error, expect_ok, sized_name};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
use crate::{broken, case};

const JOIN: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`join` (room name: string, 1–64 characters): the sender joins the room; ack `{\"ok\":true}` (also when already a member); invalid name: `{\"error\":…}`",
};

const LEAVE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`leave` (room name: string, 1–64 characters): the sender leaves the room; ack `{\"ok\":true}` (also when not a member); invalid name: `{\"error\":…}`",
};

const ROOM_MESSAGE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`room message` (`{\"room\": <name>, \"msg\": <string>}`) reaches the room's members only, sender included, as `room message` with `{\"room\",\"msg\"}`; ack `{\"ok\":true}`; sender not a member, invalid room name, or `msg` not a string: `{\"error\":…}` and nothing relayed",
};

const ROOM_POLL: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`room poll` (`{\"room\": <name>, \"question\": <any>}`) asks the room's members only, sender included, for an ack; the sender's ack is `{\"answers\": [...]}`, each member's answer once; sender not a member: `{\"error\":…}` and nobody asked",
};

/// The longest valid room name, in characters.
const MAX_ROOM_NAME_CHARS: usize = 64;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::rooms::join::acks_ok_also_when_already_a_member",
            Must,
            App,
            JOIN,
            join_acks_ok
        ),
        case!(
            "app::rooms::join::accepts_names_of_1_to_64_characters",
            Must,
            App,
            JOIN,
            join_accepts_valid_names
        ),
        case!(
            "app::rooms::join::refuses_invalid_names",
            Must,
            App,
            JOIN,
            join_refuses_invalid_names
        ),
        case!(
            "app::rooms::leave::acks_ok_also_when_not_a_member",
            Must,
            App,
            LEAVE,
            leave_acks_ok
        ),
        case!(
            "app::rooms::leave::refuses_invalid_names",
            Must,
            App,
            LEAVE,
            leave_refuses_invalid_names
        ),
        case!(
            "app::rooms::leave::stops_delivery",
            Must,
            App,
            LEAVE,
            leave_stops_delivery
        ),
        case!(
            "app::rooms::message::reaches_members_only_sender_included",
            Must,
            App,
            ROOM_MESSAGE,
            message_reaches_members_only
        ),
        case!(
            "app::rooms::message::refuses_a_non_member",
            Must,
            App,
            ROOM_MESSAGE,
            message_refuses_a_non_member
        ),
        case!(
            "app::rooms::message::refuses_invalid_posts",
            Must,
            App,
            ROOM_MESSAGE,
            message_refuses_invalid_posts
        ),
        case!(
            "app::rooms::poll::gathers_each_members_answer_once",
            Must,
            App,
            ROOM_POLL,
            poll_gathers_each_members_answer
        ),
        case!(
            "app::rooms::poll::refuses_a_non_member",
            Must,
            App,
            ROOM_POLL,
            poll_refuses_a_non_member
        ),
    ]
}

/// A room name unique to `client` and `topic`, at most 64 characters.
fn room_of(client: &AppClient, topic: &str) -> String {
    format!("{topic}-{}", client.sid())
        .chars()
        .take(MAX_ROOM_NAME_CHARS)
        .collect()
}

/// Room names the contract refuses, with what they are.
fn invalid_names(client: &AppClient) -> Vec<(String, Vec<Value>)> {
    let too_long = sized_name(client.sid(), MAX_ROOM_NAME_CHARS + 1, 'x');
    vec![
        ("an empty name".into(), vec![json!("")]),
        (
            format!("a {}-character name", MAX_ROOM_NAME_CHARS + 1),
            vec![json!(too_long)],
        ),
        ("a number".into(), vec![json!(42)]),
        ("null".into(), vec![json!(null)]),
        ("an array".into(), vec![json!(["lobby"])]),
        ("no argument".into(), vec![]),
    ]
}

async fn join_acks_ok(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let room = room_of(&client, "join");
    expect_ok("join", &client.call("join", vec![json!(room)]).await?)?;
    expect_ok(
        "a second join of the same room",
        &client.call("join", vec![json!(room)]).await?,
    )?;
    Ok(String::new())
}

async fn join_accepts_valid_names(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let names = [
        ("a 1-character name", "j".to_owned()),
        (
            "a 64-character ASCII name",
            sized_name(client.sid(), MAX_ROOM_NAME_CHARS, 'x'),
        ),
        // Characters, not bytes: 64 two-byte characters are 128 bytes.
        (
            "a 64-character name of 'é'",
            sized_name(client.sid(), MAX_ROOM_NAME_CHARS, 'é'),
        ),
    ];
    for (what, name) in names {
        let reply = client.call("join", vec![json!(name)]).await?;
        expect_ok(&format!("join with {what} ({name:?})"), &reply)?;
        expect_ok(
            &format!("leave with {what}"),
            &client.call("leave", vec![json!(name)]).await?,
        )?;
    }
    Ok(String::new())
}

async fn join_refuses_invalid_names(probe: Probe) -> CaseOutcome {
    refuses_invalid_names(probe, "join").await
}

async fn leave_refuses_invalid_names(probe: Probe) -> CaseOutcome {
    refuses_invalid_names(probe, "leave").await
}

async fn refuses_invalid_names(probe: Probe, event: &str) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Polling).await?;
    for (what, args) in invalid_names(&client) {
        let reply = client.call(event, args).await?;
        expect_error(&format!("{event} with {what}"), &reply)?;
    }
    Ok(String::new())
}

async fn leave_acks_ok(probe: Probe) -> CaseOutcome {
    let client = AppClient::connect(&probe, Transport::Websocket).await?;
    let room = room_of(&client, "leave");
    expect_ok(
        "leave of a room never joined",
        &client.call("leave", vec![json!(room)]).await?,
    )?;
    expect_ok("join", &client.call("join", vec![json!(room)]).await?)?;
    expect_ok(
        "leave of a joined room",
        &client.call("leave", vec![json!(room)]).await?,
    )?;
    Ok(String::new())
}

/// Members `a` and `b` of one room, and `outsider` in another room.
struct Rooms {
    room: String,
    a: AppClient,
    b: AppClient,
    outsider: AppClient,
}

async fn two_members_and_an_outsider(probe: &Probe) -> Result<Rooms, CaseError> {
    let a = AppClient::connect(probe, Transport::Websocket).await?;
    let b = AppClient::connect(probe, Transport::Polling).await?;
    let outsider = AppClient::connect(probe, Transport::Upgrade).await?;
    let room = room_of(&a, "members");
    for member in [&a, &b] {
        expect_ok("join", &member.call("join", vec![json!(room)]).await?)?;
    }
    // In a room of its own, so a server that relays to "any room" leaks.
    let elsewhere = room_of(&outsider, "elsewhere");
    expect_ok(
        "join",
        &outsider.call("join", vec![json!(elsewhere)]).await?,
    )?;
    Ok(Rooms {
        room,
        a,
        b,
        outsider,
    })
}

async fn message_reaches_members_only(probe: Probe) -> CaseOutcome {
    let Rooms {
        room,
        a,
        b,
        outsider,
    } = two_members_and_an_outsider(&probe).await?;
    let post = json!({"room": room, "msg": "members only ✓"});
    expect_ok(
        "\"room message\"",
        &a.call("room message", vec![post.clone()]).await?,
    )?;
    for member in [&a, &b] {
        let relay = member.next("room message").await?;
        if relay != post {
            broken!(
                "{} got \"room message\" {relay}, not {post}",
                member.alias()
            );
        }
    }
    outsider
        .expect_no("room message", "it is not a member of the room")
        .await?;
    Ok(String::new())
}

async fn message_refuses_a_non_member(probe: Probe) -> CaseOutcome {
    let Rooms {
        room,
        a,
        b,
        outsider,
    } = two_members_and_an_outsider(&probe).await?;
    let post = json!({"room": room, "msg": "from outside"});
    expect_error(
        "\"room message\" from a non-member",
        &outsider.call("room message", vec![post]).await?,
    )?;
    for client in [&a, &b, &outsider] {
        client
            .expect_no("room message", "the only post was refused")
            .await?;
    }
    Ok(String::new())
}

async fn message_refuses_invalid_posts(probe: Probe) -> CaseOutcome {
    let Rooms { room, a, b, .. } = two_members_and_an_outsider(&probe).await?;
    let too_long = sized_name(a.sid(), MAX_ROOM_NAME_CHARS + 1, 'x');
    let posts = [
        ("msg a number", vec![json!({"room": room, "msg": 7})]),
        ("msg missing", vec![json!({"room": room})]),
        ("msg null", vec![json!({"room": room, "msg": null})]),
        ("room missing", vec![json!({"msg": "hi"})]),
        ("room a number", vec![json!({"room": 7, "msg": "hi"})]),
        ("room empty", vec![json!({"room": "", "msg": "hi"})]),
        (
            "room 65 characters",
            vec![json!({"room": too_long, "msg": "hi"})],
        ),
        ("a string instead of an object", vec![json!(room)]),
        ("no argument", vec![]),
    ];
    for (what, args) in posts {
        let reply = a.call("room message", args).await?;
        expect_error(&format!("\"room message\" with {what}"), &reply)?;
    }
    for member in [&a, &b] {
        member
            .expect_no("room message", "every post was refused")
            .await?;
    }
    Ok(String::new())
}

async fn leave_stops_delivery(probe: Probe) -> CaseOutcome {
    let Rooms { room, a, b, .. } = two_members_and_an_outsider(&probe).await?;
    expect_ok("leave", &b.call("leave", vec![json!(room)]).await?)?;
    let post = json!({"room": room, "msg": "after leave"});
    expect_ok(
        "\"room message\"",
        &a.call("room message", vec![post.clone()]).await?,
    )?;
    let relay = a.next("room message").await?;
    if relay != post {
        broken!("the sender got \"room message\" {relay}, not {post}");
    }
    b.expect_no("room message", "it left the room before the post")
        .await?;
    Ok(String::new())
}

/// Both members answer with their own sid; the poller's ack must hold each
/// answer once, and the outsider is not asked.
async fn poll_gathers_each_members_answer(probe: Probe) -> CaseOutcome {
    let Rooms {
        room,
        a,
        b,
        outsider,
    } = two_members_and_an_outsider(&probe).await?;
    let question = json!(format!("who is in {room}?"));
    let ack_id = a
        .emit_with_ack(
            "room poll",
            vec![json!({"room": room, "question": question})],
        )
        .await?;
    for member in [&a, &b] {
        let asked = member.answer("room poll", json!(member.sid())).await?;
        if asked != question {
            broken!("{} was asked {asked}, not {question}", member.alias());
        }
    }
    let mut answers = answers_of(&a.ack("room poll", ack_id).await?)?;
    answers.sort();
    let mut expected = vec![a.sid().to_owned(), b.sid().to_owned()];
    expected.sort();
    if answers != expected {
        broken!(
            "the poll was acked with the answers {answers:?}, not each member's once: {expected:?}"
        );
    }
    outsider
        .expect_no("room poll", "it is not a member of the room")
        .await?;
    Ok(String::new())
}

async fn poll_refuses_a_non_member(probe: Probe) -> CaseOutcome {
    let Rooms {
        room,
        a,
        b,
        outsider,
    } = two_members_and_an_outsider(&probe).await?;
    let poll = json!({"room": room, "question": "from outside"});
    expect_error(
        "\"room poll\" from a non-member",
        &outsider.call("room poll", vec![poll]).await?,
    )?;
    for client in [&a, &b, &outsider] {
        client
            .expect_no("room poll", "the only poll was refused")
            .await?;
    }
    Ok(String::new())
}

/// The strings in a `room poll` ack, `{"answers": [...]}`: here, the sids
/// the members answered with.
pub(super) fn answers_of(reply: &Value) -> Result<Vec<String>, CaseError> {
    let Some(answers) = reply.get("answers").and_then(Value::as_array) else {
        broken!("\"room poll\" was acked {reply}, not {{\"answers\": [...]}}");
    };
    answers
        .iter()
        .map(|answer| match answer.as_str() {
            Some(sid) => Ok(sid.to_owned()),
            None => broken!("the poll's answers {reply} hold {answer}, which no member sent"),
        })
        .collect()
}
