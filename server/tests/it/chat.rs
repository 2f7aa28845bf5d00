//! The chat: `chat message` to everyone, `chat broadcast` to everyone else.

use serde_json::json;

use crate::support::{
    Driver, Server, Transport, assert_error_ack, both_transports, event_for, ok_ack,
};

both_transports!(
    chat_message_reaches_everyone_including_the_sender,
    chat_broadcast_skips_the_sender,
    non_string_payloads_are_refused_and_not_relayed,
    messages_are_relayed_in_the_order_sent,
);

async fn chat_message_reaches_everyone_including_the_sender(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;

    assert_eq!(
        d.emit_ack("a", "chat message", json!(["hi all"])).await,
        ok_ack()
    );
    d.expect_event("a", "chat message", json!(["hi all"])).await;
    d.expect_event("b", "chat message", json!(["hi all"])).await;

    // Without an ack the message is relayed all the same.
    d.emit("b", "chat message", json!(["no ack wanted"])).await;
    d.expect_event("a", "chat message", json!(["no ack wanted"]))
        .await;
    d.expect_event("b", "chat message", json!(["no ack wanted"]))
        .await;
}

async fn chat_broadcast_skips_the_sender(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;
    d.connect("c", &server, transport).await;

    assert_eq!(
        d.emit_ack("a", "chat broadcast", json!(["psst"])).await,
        ok_ack()
    );
    d.expect_event("b", "chat broadcast", json!(["psst"])).await;
    d.expect_event("c", "chat broadcast", json!(["psst"])).await;

    // Barrier: b's chat message is sent to a after the broadcast was handled,
    // so a broadcast copy for a would have arrived before it.
    d.emit("b", "chat message", json!(["after"])).await;
    d.expect_event("a", "chat message", json!(["after"])).await;
    d.assert_none(
        "broadcast echoed to its sender",
        event_for("a", "chat broadcast"),
    );
}

async fn non_string_payloads_are_refused_and_not_relayed(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;

    for event in ["chat message", "chat broadcast"] {
        for args in [
            json!([{"text": "object"}]),
            json!([42]),
            json!([null]),
            json!([["array"]]),
            json!([]),
        ] {
            let ack = d.emit_ack("a", event, args.clone()).await;
            assert_error_ack(&ack, &format!("{event} {args}"));
        }
        // Without an ack: silently dropped.
        d.emit("a", event, json!([7])).await;
    }

    // Barrier: a's later message reaches b after anything refused above.
    d.emit("a", "chat message", json!(["barrier"])).await;
    d.expect_event("b", "chat message", json!(["barrier"]))
        .await;
    d.expect_event("a", "chat message", json!(["barrier"]))
        .await;
    for client in ["a", "b"] {
        assert_eq!(
            d.events_of(client, "chat message"),
            vec![json!(["barrier"])]
        );
        assert!(d.events_of(client, "chat broadcast").is_empty());
    }
}

async fn messages_are_relayed_in_the_order_sent(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;
    let sent: Vec<_> = (0..30).map(|i| json!([format!("m{i}")])).collect();
    for args in &sent {
        d.emit("a", "chat message", args.clone()).await;
    }
    d.expect_event("b", "chat message", sent[sent.len() - 1].clone())
        .await;
    assert_eq!(d.events_of("b", "chat message"), sent);
}
