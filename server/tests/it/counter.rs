//! The shared counter: `get count` on connect, `increase count` to add one.

use serde_json::json;

use crate::support::{Driver, Server, Transport, both_transports, event_for};

both_transports!(
    initial_count_goes_to_the_newcomer_only,
    increase_reaches_everyone
);
both_transports!(concurrent_increments_are_never_lost_nor_reordered);

async fn initial_count_goes_to_the_newcomer_only(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.expect_event("a", "get count", json!([0])).await;

    d.connect("b", &server, transport).await;
    d.expect_event("b", "get count", json!([0])).await;

    // Barrier: b's chat message reaches a after anything b's connection
    // could have made the server send to a.
    d.emit("b", "chat message", json!(["sync"])).await;
    d.expect_event("a", "chat message", json!(["sync"])).await;
    assert_eq!(d.events_of("a", "get count"), vec![json!([0])]);
    assert_eq!(d.events_of("b", "get count"), vec![json!([0])]);
}

async fn increase_reaches_everyone(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.connect("b", &server, transport).await;
    d.expect_event("a", "get count", json!([0])).await;
    d.expect_event("b", "get count", json!([0])).await;

    // With an ack: the ack carries the new value.
    assert_eq!(
        d.emit_ack("a", "increase count", json!([])).await,
        vec![json!(1)]
    );
    d.expect_event("a", "get count", json!([1])).await;
    d.expect_event("b", "get count", json!([1])).await;

    // Without an ack, and with a stray argument that the event ignores.
    d.emit("b", "increase count", json!(["ignored"])).await;
    d.expect_event("a", "get count", json!([2])).await;
    d.expect_event("b", "get count", json!([2])).await;

    // A newcomer starts from the current value, not from zero.
    d.connect("c", &server, transport).await;
    d.expect_event("c", "get count", json!([2])).await;

    // A second server is a fresh app with its own counter.
    let other = Server::start().await;
    d.connect("elsewhere", &other, transport).await;
    d.expect_event("elsewhere", "get count", json!([0])).await;
}

async fn concurrent_increments_are_never_lost_nor_reordered(transport: Transport) {
    const PER_CLIENT: u64 = 15;
    let clients = ["a", "b", "c"];
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    for client in clients {
        d.connect(client, &server, transport).await;
        d.expect_event(client, "get count", json!([0])).await;
    }
    // Fire everything at once, interleaved, without waiting for anything.
    for _ in 0..PER_CLIENT {
        for client in clients {
            d.emit(client, "increase count", json!([])).await;
        }
    }
    let total = PER_CLIENT * clients.len() as u64;
    for client in clients {
        d.expect_event(client, "get count", json!([total])).await;
    }
    for client in clients {
        let counts: Vec<u64> = d
            .matching(event_for(client, "get count"))
            .iter()
            .map(|o| o["args"][0].as_u64().expect("count is an integer"))
            .collect();
        // Every value from 0 to the total, once each, in order.
        assert_eq!(
            counts,
            (0..=total).collect::<Vec<_>>(),
            "{client} saw the counts out of order or with gaps"
        );
    }
}
