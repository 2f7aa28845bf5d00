//! `/ws`: a plain WebSocket endpoint that greets and echoes.

use futures_util::{SinkExt, StreamExt};
use siosim_server::{ECHO_PREFIX, GREETING, PLAIN_WS_PATH};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{DEADLINE, Server};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(DEADLINE, ws.next())
        .await
        .expect("a frame within the deadline")
        .map(|frame| frame.expect("a valid frame"))
}

async fn open(server: &Server) -> Ws {
    let url = format!("ws://{}{PLAIN_WS_PATH}", server.addr);
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket handshake");
    ws
}

#[tokio::test]
async fn greets_then_echoes_each_frame() {
    let server = Server::start().await;
    let mut ws = open(&server).await;
    assert_eq!(next(&mut ws).await, Some(Message::text(GREETING)));
    assert_eq!(GREETING, "Hello! I am a server.");

    for text in ["hi", "", "ünïcödé ✓", "second"] {
        ws.send(Message::text(text)).await.expect("send text");
        assert_eq!(
            next(&mut ws).await,
            Some(Message::text(format!("{ECHO_PREFIX}{text}")))
        );
    }
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .expect("send binary");
    assert_eq!(
        next(&mut ws).await,
        Some(Message::binary(vec![0u8, 1, 2, 255]))
    );

    ws.close(None).await.expect("close");
    // The server acknowledges the close; the stream then ends.
    while let Some(frame) = next(&mut ws).await {
        assert!(frame.is_close(), "unexpected frame after close: {frame:?}");
    }
}

#[tokio::test]
async fn connections_are_independent() {
    let server = Server::start().await;
    let mut first = open(&server).await;
    let mut second = open(&server).await;
    assert_eq!(next(&mut first).await, Some(Message::text(GREETING)));
    assert_eq!(next(&mut second).await, Some(Message::text(GREETING)));
    second.send(Message::text("two")).await.expect("send");
    first.send(Message::text("one")).await.expect("send");
    assert_eq!(
        next(&mut first).await,
        Some(Message::text(format!("{ECHO_PREFIX}one")))
    );
    assert_eq!(
        next(&mut second).await,
        Some(Message::text(format!("{ECHO_PREFIX}two")))
    );
}
