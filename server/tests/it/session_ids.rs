//! A socket id names no Engine.IO session: knowing another client's socket
//! id is not enough to post, poll or upgrade on its session.

use serde_json::json;

use crate::support::{Driver, Server, Transport, get, http};

fn session_url(sid: &str, transport: &str) -> String {
    format!("/socket.io/?EIO=4&transport={transport}&sid={sid}")
}

#[tokio::test]
async fn a_socket_id_cannot_drive_its_session() {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    let victim = d.connect("victim", &server, Transport::Polling).await;
    d.connect("witness", &server, Transport::Websocket).await;

    let post = http(
        server.addr,
        "POST",
        &session_url(&victim, "polling"),
        Some("text/plain;charset=UTF-8"),
        r#"42["chat message","sent as the victim"]"#,
    )
    .await;
    assert_eq!(post.status, 400, "POST with the socket id: {}", post.text());
    let poll = get(server.addr, &session_url(&victim, "polling")).await;
    assert_eq!(poll.status, 400, "GET with the socket id: {}", poll.text());
    let upgrade = get(server.addr, &session_url(&victim, "websocket")).await;
    assert_eq!(
        upgrade.status,
        400,
        "upgrade with the socket id: {}",
        upgrade.text()
    );

    // The victim's own session (its alias) still works, and nothing was
    // relayed in its name.
    d.emit("victim", "chat message", json!(["really the victim"]))
        .await;
    d.expect_event("witness", "chat message", json!(["really the victim"]))
        .await;
    d.assert_none("a message sent with the victim's socket id", |o| {
        o["args"] == json!(["sent as the victim"])
    });
}

#[tokio::test]
async fn a_polling_session_id_differs_from_its_socket_id() {
    let server = Server::start().await;
    let open = get(server.addr, "/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(open.status, 200);
    let text = open.text();
    let sid = text
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an open packet with a sid");
    let connect = http(
        server.addr,
        "POST",
        &session_url(sid, "polling"),
        Some("text/plain;charset=UTF-8"),
        "40",
    )
    .await;
    assert_eq!(connect.status, 200, "{}", connect.text());
    let answer = get(server.addr, &session_url(sid, "polling")).await;
    let answer = answer.text();
    let socket_id = answer
        .split("40{\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CONNECT answer in {answer:?}"));
    assert_ne!(socket_id, sid, "the socket id is the session id");
}
