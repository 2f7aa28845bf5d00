//! The HTTP loop's limits against clients that hold connections open: slow
//! headers, slow bodies, and more connections than the server will hold.

use std::time::Duration;

use siosim_server::Config;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::Server;

/// Short limits, so that the tests wait milliseconds, not the defaults.
fn strict() -> Config {
    Config {
        header_timeout_ms: 300,
        body_timeout_ms: 300,
        ..Config::default()
    }
}

/// How long a test waits for the server to act on a limit: the limit plus
/// time enough for a loaded machine.
const WITHIN: Duration = Duration::from_secs(5);

/// Reads until the server closes the connection; what it sent, or `None`
/// if it stayed open for [`WITHIN`].
async fn until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(WITHIN, async {
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    closed
        .ok()
        .map(|()| String::from_utf8_lossy(&seen).into_owned())
}

#[tokio::test]
async fn headers_sent_too_slowly_end_the_connection() {
    let server = Server::start_with(strict()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHo")
        .await
        .expect("writes");
    let answer = until_closed(&mut stream).await;
    assert!(
        answer.is_some(),
        "a connection with half a head stayed open"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let server = Server::start_with(strict()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    assert_eq!(until_closed(&mut stream).await.as_deref(), Some(""));
}

#[tokio::test]
async fn a_body_sent_too_slowly_ends_the_request() {
    let server = Server::start_with(strict()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let head = "POST /api/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na";
    stream.write_all(head.as_bytes()).await.expect("writes");
    let answer = until_closed(&mut stream)
        .await
        .expect("a body a tenth sent stayed open");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let server = Server::start_with(strict()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let head = format!(
        "GET /api/things HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "f".repeat(64 * 1024)
    );
    // The server may stop reading before the head is all written.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = until_closed(&mut stream)
        .await
        .expect("answered and closed");
    assert!(
        answer.starts_with("HTTP/1.1 431 ") || answer.is_empty(),
        "{answer}"
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_the_others_served() {
    let config = Config {
        connection_limit: Some(2),
        ..Config::default()
    };
    let server = Server::start_with(config).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connects");
        // A request answered proves the connection holds a slot.
        stream
            .write_all(b"GET /api/things HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("writes");
        let mut buffer = [0u8; 256];
        let n = stream.read(&mut buffer).await.expect("answered");
        assert!(buffer[..n].starts_with(b"HTTP/1.1 200 "));
        held.push(stream);
    }
    let mut refused = TcpStream::connect(server.addr)
        .await
        .expect("accepted by the kernel");
    assert_eq!(until_closed(&mut refused).await.as_deref(), Some(""));
    // The held connections are still served.
    let stream = &mut held[0];
    stream
        .write_all(b"GET /api/things HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let mut buffer = [0u8; 256];
    let n = stream.read(&mut buffer).await.expect("answered");
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200 "));
    // A slot freed is a slot reused.
    drop(held);
    let mut again = None;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connects");
        let _ = stream
            .write_all(b"GET /api/things HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let mut buffer = [0u8; 256];
        if let Ok(Ok(n)) = tokio::time::timeout(WITHIN, stream.read(&mut buffer)).await
            && buffer[..n].starts_with(b"HTTP/1.1 200 ")
        {
            again = Some(());
            break;
        }
        // The server notices the closed connections as it reads them.
        tokio::task::yield_now().await;
    }
    assert!(
        again.is_some(),
        "no slot was freed after the held connections closed"
    );
}
