//! Connect/disconnect logging and graceful shutdown.

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde_json::json;
use siosim_server::{GREETING, PLAIN_WS_PATH};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{DEADLINE, Driver, Server, Transport, both_transports, is};

both_transports!(
    connect_and_disconnect_are_logged,
    shutdown_disconnects_everyone
);

/// The server's `tracing` output, captured as text.
#[derive(Clone, Default)]
struct Captured {
    text: Arc<Mutex<String>>,
    written: Arc<Notify>,
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text
            .lock()
            .expect("log lock")
            .push_str(&String::from_utf8_lossy(buf));
        self.written.notify_waiters();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Waits until a captured line contains every one of `parts`.
    async fn wait_for_line(&self, parts: &[&str]) -> String {
        let search = async {
            loop {
                let written = self.written.notified();
                tokio::pin!(written);
                written.as_mut().enable();
                if let Some(line) = self
                    .text
                    .lock()
                    .expect("log lock")
                    .lines()
                    .find(|line| parts.iter().all(|part| line.contains(part)))
                {
                    return line.to_owned();
                }
                written.await;
            }
        };
        tokio::time::timeout(DEADLINE, search)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no log line with {parts:?} in:\n{}",
                    self.text.lock().expect("log lock")
                )
            })
    }
}

/// `#[tokio::test]` runs everything on this one thread, so a thread-local
/// subscriber sees every log line of the in-process server.
async fn connect_and_disconnect_are_logged(transport: Transport) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("siosim_server=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    let sid = d.connect("a", &server, transport).await;
    let line = captured
        .wait_for_line(&["connect", &format!("sid={sid}")])
        .await;
    assert!(!line.contains("disconnect"), "{line}");

    d.disconnect("a").await;
    captured
        .wait_for_line(&[
            "disconnect",
            &format!("sid={sid}"),
            "reason=ClientNSDisconnect",
        ])
        .await;
}

async fn shutdown_disconnects_everyone(transport: Transport) {
    let server = Server::start().await;
    let mut d = Driver::spawn().await;
    d.connect("a", &server, transport).await;
    d.expect_event("a", "get count", json!([0])).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}{PLAIN_WS_PATH}", server.addr))
            .await
            .expect("plain WebSocket handshake");
    let greeting = tokio::time::timeout(DEADLINE, ws.next())
        .await
        .expect("greeting in time");
    assert_eq!(
        greeting.expect("a frame").expect("valid"),
        Message::text(GREETING)
    );

    let addr = server.addr;
    server
        .stop()
        .await
        .expect("serve returns Ok after shutdown");

    let gone = d
        .expect("a is disconnected by the server", |o| {
            is(o, "a", "disconnect")
        })
        .await;
    // socketioxide closes the transports rather than each namespace: the
    // client sees its transport lost (and would reconnect if allowed), not a
    // deliberate "io server disconnect". Over WebSocket the close frame
    // arrives; a long-polling client only gets the close packet if it
    // happens to have a request pending, otherwise its next poll fails.
    let expected: &[&str] = match transport {
        Transport::Websocket => &["transport close"],
        Transport::Polling => &["transport close", "transport error"],
    };
    assert!(
        gone["reason"]
            .as_str()
            .is_some_and(|r| expected.contains(&r)),
        "{gone}"
    );
    // The plain WebSocket is closed too, not left running past `serve`.
    let closed = tokio::time::timeout(DEADLINE, async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(frame) if frame.is_close() => return,
                Ok(_) => {}
                Err(_) => return,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "plain WebSocket still open after shutdown");
    // And nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// `serve` takes any `axum::serve::Listener`, not only tokio's (the
/// simulation runs it on turmoil's): here a wrapped one.
#[tokio::test]
async fn serve_is_generic_over_the_listener() {
    use axum::serve::ListenerExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = accepted.clone();
    let listener = listener.tap_io(move |_| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        siosim_server::serve(listener, &siosim_server::Config::default(), async move {
            let _ = stopped.await;
        })
        .await
    });
    let page = crate::support::get(addr, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    stop.send(()).expect("server still running");
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returned after shutdown")
        .expect("no panic")
        .expect("serve returned Ok");
}
