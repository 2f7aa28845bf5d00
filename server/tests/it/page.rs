//! The page and its client script are served by the app itself.

use siosim_server::{CLIENT_SCRIPT_PATH, Config};

use crate::support::{Server, get};

#[tokio::test]
async fn page_references_the_served_client_and_the_configured_path() {
    let server = Server::start_with(Config {
        socketio_path: "/socket.io-client".into(),
        ..Config::default()
    })
    .await;
    let page = get(server.addr, "/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        page.content_type
    );
    let html = page.text();
    assert!(
        html.contains(&format!("from '{CLIENT_SCRIPT_PATH}'")),
        "{html}"
    );
    assert!(
        html.contains(r#"<meta name="siosim-socketio-path" content="/socket.io-client">"#),
        "{html}"
    );
    // Offline by design: nothing is loaded from another host.
    assert!(!html.contains("://"), "page refers to another host");
    for id in ["counter", "chat-form", "room-form", "things"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing #{id}");
    }

    let script = get(server.addr, CLIENT_SCRIPT_PATH).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.content_type.as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.text().contains("export function connect"));
}

#[tokio::test]
async fn default_page_uses_the_default_path_and_unknown_paths_are_404() {
    let server = Server::start().await;
    assert!(
        get(server.addr, "/")
            .await
            .text()
            .contains(r#"content="/socket.io""#)
    );
    assert_eq!(get(server.addr, "/nope").await.status, 404);
}

/// `app()` is usable on its own with a plain `axum::serve`.
#[tokio::test]
async fn app_serves_without_the_serve_helper() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = siosim_server::app(&Config::default());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let page = get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(get(addr, "/api/things").await.text(), "[]");
}
