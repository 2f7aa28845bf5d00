//! Rooms: `join`, `leave`, and `room message` to members only.

use serde_json::json;
use siosim_server::MAX_ROOM_NAME_CHARS;

use crate::support::{
    Driver, Server, Transport, assert_error_ack, both_transports, event_for, ok_ack,
};

both_transports!(
    join_and_leave_ack_and_validate_names,
    room_messages_reach_members_only,
    non_members_cannot_post,
    leaving_stops_delivery,
    malformed_posts_are_refused,
);

async fn join_and_leave_ack_and_validate_names(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;

    assert_eq!(d.emit_ack("a", "join", json!(["lobby"])).await, ok_ack());
    // Joining twice and leaving a room one is not in both end in the state asked for.
    assert_eq!(d.emit_ack("a", "join", json!(["lobby"])).await, ok_ack());
    assert_eq!(
        d.emit_ack("a", "leave", json!(["elsewhere"])).await,
        ok_ack()
    );
    assert_eq!(d.emit_ack("a", "leave", json!(["lobby"])).await, ok_ack());

    let longest = "r".repeat(MAX_ROOM_NAME_CHARS);
    assert_eq!(d.emit_ack("a", "join", json!([longest])).await, ok_ack());
    let too_long = "r".repeat(MAX_ROOM_NAME_CHARS + 1);
    for event in ["join", "leave"] {
        for args in [
            json!([""]),
            json!([too_long]),
            json!([5]),
            json!([null]),
            json!([{"room": "lobby"}]),
            json!([]),
        ] {
            let ack = d.emit_ack("a", event, args.clone()).await;
            assert_error_ack(&ack, &format!("{event} {args}"));
        }
    }
}

/// a and b in "red", c in "blue": a's post to red reaches a and b only.
async fn room_messages_reach_members_only(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    for client in ["a", "b", "c"] {
        d.connect(client, &server, transport).await;
    }
    assert_eq!(d.emit_ack("a", "join", json!(["red"])).await, ok_ack());
    assert_eq!(d.emit_ack("b", "join", json!(["red"])).await, ok_ack());
    assert_eq!(d.emit_ack("c", "join", json!(["blue"])).await, ok_ack());

    let post = json!({"room": "red", "msg": "hello red"});
    assert_eq!(
        d.emit_ack("a", "room message", json!([post])).await,
        ok_ack()
    );
    d.expect_event("a", "room message", json!([post])).await;
    d.expect_event("b", "room message", json!([post])).await;

    let blue = json!({"room": "blue", "msg": "hello blue"});
    assert_eq!(
        d.emit_ack("c", "room message", json!([blue])).await,
        ok_ack()
    );
    d.expect_event("c", "room message", json!([blue])).await;

    // Barrier: a chat message sent after both posts reaches everyone after
    // any room message the posts could have sent them.
    d.emit("a", "chat message", json!(["barrier"])).await;
    for client in ["a", "b", "c"] {
        d.expect_event(client, "chat message", json!(["barrier"]))
            .await;
    }
    assert_eq!(d.events_of("a", "room message"), vec![json!([post])]);
    assert_eq!(d.events_of("b", "room message"), vec![json!([post])]);
    assert_eq!(d.events_of("c", "room message"), vec![json!([blue])]);
}

async fn non_members_cannot_post(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("outsider", &server, transport).await;
    assert_eq!(d.emit_ack("a", "join", json!(["red"])).await, ok_ack());

    let ack = d
        .emit_ack(
            "outsider",
            "room message",
            json!([{"room": "red", "msg": "let me in"}]),
        )
        .await;
    assert_error_ack(&ack, "post by a non-member");
    // Without an ack: dropped silently.
    d.emit(
        "outsider",
        "room message",
        json!([{"room": "red", "msg": "let me in"}]),
    )
    .await;

    d.emit("outsider", "chat message", json!(["barrier"])).await;
    d.expect_event("a", "chat message", json!(["barrier"]))
        .await;
    d.expect_event("outsider", "chat message", json!(["barrier"]))
        .await;
    d.assert_none(
        "relay of a non-member's post",
        event_for("a", "room message"),
    );
    d.assert_none(
        "relay of a non-member's post",
        event_for("outsider", "room message"),
    );
}

async fn leaving_stops_delivery(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;
    for client in ["a", "b"] {
        assert_eq!(d.emit_ack(client, "join", json!(["red"])).await, ok_ack());
    }
    let before = json!({"room": "red", "msg": "before"});
    assert_eq!(
        d.emit_ack("a", "room message", json!([before])).await,
        ok_ack()
    );
    d.expect_event("b", "room message", json!([before])).await;

    assert_eq!(d.emit_ack("b", "leave", json!(["red"])).await, ok_ack());
    let after = json!({"room": "red", "msg": "after"});
    assert_eq!(
        d.emit_ack("a", "room message", json!([after])).await,
        ok_ack()
    );
    d.expect_event("a", "room message", json!([after])).await;
    // b left, so it may no longer post either.
    let ack = d
        .emit_ack(
            "b",
            "room message",
            json!([{"room": "red", "msg": "still here?"}]),
        )
        .await;
    assert_error_ack(&ack, "post after leaving");

    d.emit("a", "chat message", json!(["barrier"])).await;
    d.expect_event("b", "chat message", json!(["barrier"]))
        .await;
    assert_eq!(d.events_of("b", "room message"), vec![json!([before])]);
}

async fn malformed_posts_are_refused(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    assert_eq!(d.emit_ack("a", "join", json!(["red"])).await, ok_ack());
    let too_long = "r".repeat(MAX_ROOM_NAME_CHARS + 1);
    for args in [
        json!([{"room": "red"}]),
        json!([{"msg": "no room"}]),
        json!([{"room": "red", "msg": 5}]),
        json!([{"room": "", "msg": "x"}]),
        json!([{"room": too_long, "msg": "x"}]),
        json!([{"room": 1, "msg": "x"}]),
        json!(["red"]),
        json!([]),
    ] {
        let ack = d.emit_ack("a", "room message", args.clone()).await;
        assert_error_ack(&ack, &format!("room message {args}"));
    }
    d.emit("a", "chat message", json!(["barrier"])).await;
    d.expect_event("a", "chat message", json!(["barrier"]))
        .await;
    d.assert_none("relay of a malformed post", event_for("a", "room message"));
}
