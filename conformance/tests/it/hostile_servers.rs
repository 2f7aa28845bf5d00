//! Small hostile servers for the robustness tests: real tokio TCP on
//! 127.0.0.1, each misbehaving in one way on every connection (issue 4 §4).
//! A server runs on its own thread and runtime and stops when dropped.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// What the server does to every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Accepts and reads, never writes a byte.
    Silent,
    /// Answers every request with bytes that are not HTTP at all.
    NonHttp,
    /// Answers HTTP 200 with a body that is no Engine.IO payload; accepts a
    /// WebSocket upgrade and then sends an undecodable text frame followed
    /// by bytes that are no WebSocket framing.
    GarbageEngineIo,
    /// Announces a 100 MB HTTP body (or a 100 MB WebSocket frame after the
    /// upgrade) and streams it for as long as the client reads.
    Huge,
    /// Announces a 1000-byte body (or frame), sends 10 bytes, then resets
    /// the connection (RST, SO_LINGER 0).
    ResetMidBody,
    /// Sends a valid answer one byte at a time, one byte every 100 ms.
    Dribble,
    /// Opens a session properly, then floods it with valid 512 KiB events:
    /// over WebSocket 100 MB of them, then [`FLOOD_END`], then silence; over
    /// polling one per poll.
    Flood,
    /// Opens sessions with a heartbeat of u64::MAX ms (pingInterval and
    /// pingTimeout), then says nothing more.
    AbsurdTimings,
}

/// 100 MB: what the huge server announces.
pub const HUGE_BYTES: u64 = 100 * 1024 * 1024;

/// The event that ends a WebSocket flood; after it the server only reads.
pub const FLOOD_END: &str = r#"42["flood-end"]"#;

/// The size of one flooding event.
const FLOOD_EVENT_BYTES: usize = 512 * 1024;

/// The OPEN packet of the servers that open sessions properly; its heartbeat
/// is long enough never to be the reason a case ends.
const OPEN_PACKET: &str = r#"0{"sid":"hostile","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// An OPEN packet whose timings overflow any sum or deadline built on them.
const ABSURD_OPEN_PACKET: &str = r#"0{"sid":"absurd","upgrades":["websocket"],"pingInterval":18446744073709551615,"pingTimeout":18446744073709551615,"maxPayload":18446744073709551615}"#;

/// The interval between two dribbled bytes.
const DRIBBLE_INTERVAL: Duration = Duration::from_millis(100);

/// Largest request head read; more is the client's problem, not ours.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// A running hostile server; dropping it stops it.
#[derive(Debug)]
pub struct HostileServer {
    addr: SocketAddr,
    open_connections: watch::Receiver<usize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    pub fn start(misbehaviour: Misbehaviour) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let (connections, open_connections) = watch::channel(0usize);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the hostile server");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ready_tx
                    .send(listener.local_addr().expect("local addr"))
                    .expect("the test waits for the address");
                tokio::select! {
                    () = accept_forever(listener, misbehaviour, connections) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime aborts every connection task.
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the hostile server binds within 10 s");
        Self {
            addr,
            open_connections,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted and not yet closed by the client.
    pub fn open_connections(&self) -> usize {
        *self.open_connections.borrow()
    }

    /// Waits until exactly `count` connections are open; `false` if that
    /// did not happen within `within`.
    pub async fn wait_for_open_connections(&self, count: usize, within: Duration) -> bool {
        let mut open = self.open_connections.clone();
        tokio::time::timeout(within, open.wait_for(|n| *n == count))
            .await
            .is_ok_and(|changed| changed.is_ok())
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_forever(
    listener: TcpListener,
    misbehaviour: Misbehaviour,
    connections: watch::Sender<usize>,
) {
    let connections = std::sync::Arc::new(connections);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.send_modify(|n| *n += 1);
        let connections = std::sync::Arc::clone(&connections);
        tokio::spawn(async move {
            // Every error just ends the connection: the client hung up.
            let _ = serve(stream, misbehaviour).await;
            connections.send_modify(|n| *n -= 1);
        });
    }
}

/// What the client asked for, as far as the hostile server cares.
struct Request {
    websocket_key: Option<String>,
    /// A polling GET without a sid: the handshake.
    opens_session: bool,
}

async fn serve(mut stream: TcpStream, misbehaviour: Misbehaviour) -> std::io::Result<()> {
    loop {
        if misbehaviour == Misbehaviour::Silent {
            return drain(&mut stream).await;
        }
        let Some(request) = read_request_head(&mut stream).await? else {
            return Ok(());
        };
        match (misbehaviour, request.websocket_key) {
            (Misbehaviour::Silent, _) => unreachable!("handled above"),
            (Misbehaviour::NonHttp, _) => {
                stream
                    .write_all(b"\x00\xff\xfe SSH-2.0-not-http \x1b[31m\r\n\r\n")
                    .await?;
                return drain(&mut stream).await;
            }
            (Misbehaviour::GarbageEngineIo, None) => {
                let body = "\u{1}\u{7f}not an engine.io payload {\"sid\":";
                write_head(&mut stream, 200, body.len() as u64).await?;
                stream.write_all(body.as_bytes()).await?;
                // Keep-alive: the next request on this connection gets the same.
            }
            (Misbehaviour::GarbageEngineIo, Some(key)) => {
                stream
                    .write_all(switching_protocols(&key).as_bytes())
                    .await?;
                stream.write_all(&text_frame_header(9)).await?;
                stream.write_all(b"9garbage!").await?;
                stream
                    .write_all(b"\xff\xff\xff\xff not websocket framing")
                    .await?;
                return drain(&mut stream).await;
            }
            (Misbehaviour::Huge, None) => {
                write_head(&mut stream, 200, HUGE_BYTES).await?;
                return stream_filler(&mut stream, HUGE_BYTES).await;
            }
            (Misbehaviour::Huge, Some(key)) => {
                stream
                    .write_all(switching_protocols(&key).as_bytes())
                    .await?;
                stream.write_all(&text_frame_header(HUGE_BYTES)).await?;
                return stream_filler(&mut stream, HUGE_BYTES).await;
            }
            (Misbehaviour::ResetMidBody, key) => {
                match key {
                    None => write_head(&mut stream, 200, 1000).await?,
                    Some(key) => {
                        stream
                            .write_all(switching_protocols(&key).as_bytes())
                            .await?;
                        stream.write_all(&text_frame_header(1000)).await?;
                    }
                }
                stream.write_all(b"0{\"sid\":\"").await?;
                stream.flush().await?;
                stream.set_zero_linger()?;
                return Ok(()); // dropped with linger 0: the kernel sends RST
            }
            (Misbehaviour::Flood, None) => {
                let body = if request.opens_session {
                    OPEN_PACKET.to_owned()
                } else {
                    flood_event()
                };
                write_head(&mut stream, 200, body.len() as u64).await?;
                stream.write_all(body.as_bytes()).await?;
            }
            (Misbehaviour::Flood, Some(key)) => {
                stream
                    .write_all(switching_protocols(&key).as_bytes())
                    .await?;
                stream
                    .write_all(&text_frame_header(OPEN_PACKET.len() as u64))
                    .await?;
                stream.write_all(OPEN_PACKET.as_bytes()).await?;
                let event = flood_event();
                for _ in 0..HUGE_BYTES / FLOOD_EVENT_BYTES as u64 {
                    stream
                        .write_all(&text_frame_header(event.len() as u64))
                        .await?;
                    stream.write_all(event.as_bytes()).await?;
                }
                stream
                    .write_all(&text_frame_header(FLOOD_END.len() as u64))
                    .await?;
                stream.write_all(FLOOD_END.as_bytes()).await?;
                return drain(&mut stream).await;
            }
            (Misbehaviour::AbsurdTimings, None) => {
                if !request.opens_session {
                    return drain(&mut stream).await; // polls and POSTs hang
                }
                write_head(&mut stream, 200, ABSURD_OPEN_PACKET.len() as u64).await?;
                stream.write_all(ABSURD_OPEN_PACKET.as_bytes()).await?;
            }
            (Misbehaviour::AbsurdTimings, Some(key)) => {
                stream
                    .write_all(switching_protocols(&key).as_bytes())
                    .await?;
                stream
                    .write_all(&text_frame_header(ABSURD_OPEN_PACKET.len() as u64))
                    .await?;
                stream.write_all(ABSURD_OPEN_PACKET.as_bytes()).await?;
                return drain(&mut stream).await;
            }
            (Misbehaviour::Dribble, key) => {
                let answer = match key {
                    None => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n{OPEN_PACKET}",
                        OPEN_PACKET.len()
                    ),
                    Some(key) => switching_protocols(&key),
                };
                for byte in answer.as_bytes() {
                    stream.write_all(std::slice::from_ref(byte)).await?;
                    tokio::time::sleep(DRIBBLE_INTERVAL).await;
                }
                return drain(&mut stream).await;
            }
        }
    }
}

/// Reads one request head; `None` when the client closed first.
async fn read_request_head(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_REQUEST_HEAD || stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let websocket_key = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    });
    // Requests with a body (a polling POST) carry a Content-Length; skip it.
    let content_length = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<u64>().ok())
            .flatten()
    });
    if let Some(length) = content_length {
        let mut body = (&mut *stream).take(length.min(MAX_REQUEST_HEAD as u64));
        tokio::io::copy(&mut body, &mut tokio::io::sink()).await?;
    }
    let request_line = text.lines().next().unwrap_or_default();
    let opens_session = request_line.starts_with("GET ") && !request_line.contains("sid=");
    Ok(Some(Request {
        websocket_key,
        opens_session,
    }))
}

async fn write_head(stream: &mut TcpStream, status: u16, length: u64) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await
}

/// `42["flood","xxx…"]`, [`FLOOD_EVENT_BYTES`] long.
fn flood_event() -> String {
    let filler = "x".repeat(FLOOD_EVENT_BYTES - 16);
    format!("42[\"flood\",\"{filler}\"]")
}

fn switching_protocols(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

/// An unmasked, final text frame's header announcing `length` bytes.
fn text_frame_header(length: u64) -> Vec<u8> {
    let mut header = vec![0x81];
    match length {
        0..=125 => header.push(length as u8),
        126..=0xffff => {
            header.push(126);
            header.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            header.push(127);
            header.extend_from_slice(&length.to_be_bytes());
        }
    }
    header
}

/// Writes `total` bytes of filler in 64 KiB chunks, for as long as the
/// client reads them.
async fn stream_filler(stream: &mut TcpStream, total: u64) -> std::io::Result<()> {
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0u64;
    while sent < total {
        let n = chunk.len().min((total - sent) as usize);
        stream.write_all(&chunk[..n]).await?;
        sent += n as u64;
    }
    Ok(())
}

/// Reads and discards until the client closes.
async fn drain(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buffer = [0u8; 4096];
    while stream.read(&mut buffer).await? > 0 {}
    Ok(())
}
