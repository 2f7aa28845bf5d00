//! A bare WebSocket to the server under test, below siosim's Engine.IO
//! client: for cases that send what a correct client never would, or must
//! see frames exactly as the server wrote them.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use siosim_harness::EventKind;
use siosim_harness::trace::binary_text;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::case_error::CaseError;
use crate::probe::{Probe, truncated};
use siosim_harness::client::{Stream, deadline_after};

/// Largest frame or message accepted: a hostile server's 100 MB frame is
/// refused at its header, not buffered.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// A frame the server sent, as the case sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Bytes),
}

/// Why the WebSocket upgrade did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status the server answered instead of 101, if it answered.
    pub status: Option<u16>,
    pub reason: String,
}

/// An open bare WebSocket. By default it answers Engine.IO pings (`2` → `3`)
/// by itself, so that a session the server closes is closed for the reason
/// under test, not for a missed heartbeat; heartbeat cases turn that off with
/// [`RawWebSocket::set_answer_pings`].
#[derive(Debug)]
pub struct RawWebSocket {
    probe: Probe,
    socket: WebSocketStream<Stream>,
    closed: Option<String>,
    /// Whether answered pings are also handed to the case as frames.
    shows_pings: bool,
    answer_pings: bool,
    /// Whether frames sent and received go into the trace (see
    /// [`RawWebSocket::set_traced`]).
    traced: bool,
}

impl Probe {
    /// Opens a plain WebSocket to `target` (path and query), bypassing
    /// siosim's Engine.IO client, for cases about malformed traffic. (Here,
    /// not in `probe.rs`, so that the probe does not depend on this module.)
    pub async fn raw_websocket(&self, target: &str) -> Result<RawWebSocket, CaseError> {
        RawWebSocket::open(self.clone(), target).await
    }
}

impl RawWebSocket {
    /// Opens a WebSocket to `target`; a refused upgrade breaks the case.
    pub async fn open(probe: Probe, target: &str) -> Result<RawWebSocket, CaseError> {
        Self::try_open(probe, target).await?.map_err(|refusal| {
            CaseError::Broken(format!("WebSocket upgrade refused: {}", refusal.reason))
        })
    }

    /// Opens a WebSocket to `target`; `Ok(Err(_))` if the server refused the
    /// upgrade (what cases about invalid handshakes hope for).
    pub async fn try_open(
        probe: Probe,
        target: &str,
    ) -> Result<Result<RawWebSocket, Refusal>, CaseError> {
        probe.note(EventKind::Session, format!("raw websocket {target}"));
        let connector = probe.endpoint().connector.clone();
        let url = format!("ws://{}{target}", connector.authority());
        let open = async {
            let stream = connector
                .connect()
                .await
                .map_err(|e| CaseError::Broken(format!("connect failed: {e}")))?;
            let request = connector
                .websocket_request(&url)
                .map_err(|e| CaseError::Broken(format!("WebSocket request: {e}")))?;
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .max_message_size(Some(MAX_FRAME_BYTES))
                .max_frame_size(Some(MAX_FRAME_BYTES));
            Ok::<_, CaseError>(
                tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await,
            )
        };
        let opened = tokio::time::timeout(probe.timeout(), open)
            .await
            .map_err(|_| {
                CaseError::Broken(format!(
                    "WebSocket upgrade: no answer within {} ms",
                    probe.timeout().as_millis()
                ))
            })??;
        match opened {
            Ok((socket, _response)) => {
                probe.note(EventKind::Session, "-> 101 Switching Protocols");
                Ok(Ok(RawWebSocket {
                    probe,
                    socket,
                    closed: None,
                    shows_pings: false,
                    answer_pings: true,
                    traced: true,
                }))
            }
            Err(tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_deref()
                    .map(|b| truncated(&String::from_utf8_lossy(b), 120))
                    .unwrap_or_default();
                probe.note(EventKind::Session, format!("-> refused: {status} {body}"));
                Ok(Err(Refusal {
                    status: Some(status),
                    reason: format!("{status} {body}"),
                }))
            }
            Err(error) => {
                probe.note(EventKind::Session, format!("-> refused: {error}"));
                Ok(Err(Refusal {
                    status: None,
                    reason: error.to_string(),
                }))
            }
        }
    }

    /// Sends `text`; a payload-less CONNECT carries the server's
    /// credentials ([`Probe::with_auth`]).
    pub async fn send_text(&mut self, text: &str) -> Result<(), CaseError> {
        let message = self.outgoing_text(text);
        self.send(message).await
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) -> Result<(), CaseError> {
        self.note(EventKind::Send, || binary_text(bytes));
        self.send(Message::binary(Bytes::copy_from_slice(bytes)))
            .await
    }

    /// Sends `text` to a server that may close the connection before it has
    /// read all of it (a message over its limit): a reset or closed
    /// connection while sending is that close, returned as `Some(how)`.
    pub async fn send_text_unless_closed(
        &mut self,
        text: &str,
    ) -> Result<Option<String>, CaseError> {
        let message = self.outgoing_text(text);
        match self.try_send(message).await? {
            Ok(()) => Ok(None),
            Err(error) if closes_the_connection(&error) => {
                let how = format!("closed while the message was sent: {error}");
                self.note(EventKind::Session, || how.clone());
                self.closed = Some(how.clone());
                Ok(Some(how))
            }
            Err(error) => Err(sending_failed(&error)),
        }
    }

    /// `text` with [`Probe::with_auth`] applied, noted as sent.
    fn outgoing_text(&self, text: &str) -> Message {
        let text = self.probe.with_auth(text);
        self.note(EventKind::Send, || truncated(&text, 200));
        Message::text(text)
    }

    async fn send(&mut self, message: Message) -> Result<(), CaseError> {
        self.try_send(message)
            .await?
            .map_err(|error| sending_failed(&error))
    }

    /// Sends `message`, bounded by the probe's timeout (`Err` when it
    /// blocks that long); the inner result is the WebSocket's own.
    async fn try_send(
        &mut self,
        message: Message,
    ) -> Result<Result<(), tungstenite::Error>, CaseError> {
        tokio::time::timeout(self.probe.timeout(), self.socket.send(message))
            .await
            .map_err(|_| {
                CaseError::Broken(format!(
                    "sending blocked for {} ms",
                    self.probe.timeout().as_millis()
                ))
            })
    }

    /// Whether pings, still answered, are also returned as `Frame::Text("2")`:
    /// for cases about what the server sends next, a ping included.
    pub fn show_pings(&mut self, show: bool) {
        self.shows_pings = show;
    }

    /// Whether Engine.IO pings (`2`) are answered with `3` and hidden (the
    /// default), or handed to the case as frames and left unanswered (for
    /// cases about the heartbeat itself).
    pub fn set_answer_pings(&mut self, answer: bool) {
        self.answer_pings = answer;
    }

    /// Whether each frame sent and received is traced (the default), or
    /// none: a case that exchanges thousands notes what it did itself.
    pub fn set_traced(&mut self, traced: bool) {
        self.traced = traced;
    }

    fn note(&self, kind: EventKind, text: impl FnOnce() -> String) {
        if self.traced {
            self.probe.note(kind, text());
        }
    }

    /// The connection under the WebSocket, for a case that writes bytes no
    /// WebSocket library would (an oversized frame's header).
    pub fn stream_mut(&mut self) -> &mut Stream {
        self.socket.get_mut()
    }

    /// Why the connection ended, once it has.
    pub fn closed(&self) -> Option<&str> {
        self.closed.as_deref()
    }

    /// The next data frame within `within`, answering pings on the way
    /// (unless [`RawWebSocket::set_answer_pings`] turned that off).
    /// `Ok(None)`: nothing arrived in time. `Err`: the connection ended (the
    /// reason is also kept in [`RawWebSocket::closed`]).
    pub async fn next_within(&mut self, within: Duration) -> Result<Option<Frame>, CaseError> {
        let deadline = deadline_after(within);
        loop {
            if let Some(reason) = &self.closed {
                return Err(CaseError::Broken(format!("the connection ended: {reason}")));
            }
            let message = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => {
                    self.end("end of stream".into());
                    continue;
                }
                Ok(Some(Err(error))) => {
                    self.end(format!("error: {error}"));
                    continue;
                }
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    let text = text.as_str().to_owned();
                    self.note(EventKind::Recv, || truncated(&text, 200));
                    if text == "2" && self.answer_pings {
                        self.send_text("3").await?;
                        if !self.shows_pings {
                            continue;
                        }
                    }
                    return Ok(Some(Frame::Text(text)));
                }
                Message::Binary(bytes) => {
                    self.note(EventKind::Recv, || binary_text(&bytes));
                    return Ok(Some(Frame::Binary(bytes)));
                }
                Message::Close(frame) => {
                    let reason = match frame {
                        Some(frame) => format!("close frame {} {}", frame.code, frame.reason),
                        None => "close frame".into(),
                    };
                    self.end(reason);
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// The next data frame within the probe's timeout; silence breaks the case.
    pub async fn next(&mut self) -> Result<Frame, CaseError> {
        let within = self.probe.timeout();
        self.next_within(within)
            .await?
            .ok_or_else(|| CaseError::Broken(format!("no frame within {} ms", within.as_millis())))
    }

    /// The next text frame; a binary frame or silence breaks the case.
    pub async fn next_text(&mut self) -> Result<String, CaseError> {
        match self.next().await? {
            Frame::Text(text) => Ok(text),
            Frame::Binary(bytes) => Err(CaseError::Broken(format!(
                "expected a text frame, got {} binary bytes",
                bytes.len()
            ))),
        }
    }

    /// Waits up to `within` for the server to end the connection, ignoring
    /// data frames; returns how it ended, or `None` if it stayed open.
    pub async fn closed_within(&mut self, within: Duration) -> Option<String> {
        let deadline = deadline_after(within);
        loop {
            if let Some(reason) = &self.closed {
                return Some(reason.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.next_within(left).await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(_) => {}
            }
        }
    }

    fn end(&mut self, reason: String) {
        self.probe
            .note(EventKind::Session, format!("closed: {reason}"));
        self.closed = Some(reason);
    }
}

fn sending_failed(error: &tungstenite::Error) -> CaseError {
    CaseError::Broken(format!("sending failed: {error}"))
}

/// Whether a send failed because the peer closed or reset the connection.
fn closes_the_connection(error: &tungstenite::Error) -> bool {
    use std::io::ErrorKind;
    match error {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => true,
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => true,
        tungstenite::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
        ),
        _ => false,
    }
}
