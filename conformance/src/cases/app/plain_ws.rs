//! `/ws`: the plain WebSocket endpoint, no Socket.IO framing: a greeting,
//! `You said: T` for each text frame, binary frames echoed, and messages
//! over 64 KiB refused by closing the connection.

use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::raw_websocket::{Frame, RawWebSocket};
use crate::{broken, case, ensure};

const PLAIN_WS: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`GET /ws` (WebSocket upgrade, plain WebSocket): sends the text `Hello! I am a server.` on connect; answers each text frame `T` with `You said: T`; echoes binary frames unchanged; messages over 64 KiB close the connection",
};

const PATH: &str = "/ws";
const GREETING: &str = "Hello! I am a server.";
const ECHO_PREFIX: &str = "You said: ";
/// Largest message `/ws` accepts, in bytes.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::ws::greets_on_connect",
            Must,
            App,
            PLAIN_WS,
            greets_on_connect
        ),
        case!(
            "app::ws::answers_text_frames",
            Must,
            App,
            PLAIN_WS,
            answers_text_frames
        ),
        case!(
            "app::ws::echoes_binary_frames",
            Must,
            App,
            PLAIN_WS,
            echoes_binary_frames
        ),
        case!(
            "app::ws::accepts_a_message_of_exactly_64_kib",
            Must,
            App,
            PLAIN_WS,
            accepts_64_kib
        ),
        case!(
            "app::ws::closes_on_a_message_over_64_kib",
            Must,
            App,
            PLAIN_WS,
            closes_over_64_kib
        ),
    ]
}

/// Opens `/ws` and reads the greeting.
async fn greeted(probe: &Probe) -> Result<RawWebSocket, crate::CaseError> {
    let mut socket = probe.raw_websocket(PATH).await?;
    let greeting = socket.next().await?;
    ensure!(
        greeting == Frame::Text(GREETING.into()),
        "the first frame is {}, not the text {GREETING:?}",
        shown(&greeting)
    );
    Ok(socket)
}

fn shown(frame: &Frame) -> String {
    match frame {
        Frame::Text(text) => format!("the text {:?}", truncated(text, 120)),
        Frame::Binary(bytes) => format!("{} binary bytes", bytes.len()),
    }
}

async fn greets_on_connect(probe: Probe) -> CaseOutcome {
    greeted(&probe).await?;
    Ok(String::new())
}

async fn answers_text_frames(probe: Probe) -> CaseOutcome {
    let mut socket = greeted(&probe).await?;
    for text in [
        "hi",
        "héllo ✓ 😀",
        "",
        "You said: twice",
        "{\"json\":[1,2]}",
    ] {
        socket.send_text(text).await?;
        let answer = socket.next().await?;
        let expected = format!("{ECHO_PREFIX}{text}");
        ensure!(
            answer == Frame::Text(expected.clone()),
            "the text {text:?} was answered with {}, not {expected:?}",
            shown(&answer)
        );
    }
    Ok(String::new())
}

async fn echoes_binary_frames(probe: Probe) -> CaseOutcome {
    let mut socket = greeted(&probe).await?;
    let every_byte: Vec<u8> = (0..=255).collect();
    for bytes in [every_byte, vec![0], b"You said: ".to_vec()] {
        socket.send_binary(&bytes).await?;
        let answer = socket.next().await?;
        match &answer {
            Frame::Binary(echo) if echo[..] == bytes[..] => {}
            _ => broken!(
                "{} binary bytes were answered with {}, not the same bytes",
                bytes.len(),
                shown(&answer)
            ),
        }
    }
    Ok(String::new())
}

async fn accepts_64_kib(probe: Probe) -> CaseOutcome {
    let mut socket = greeted(&probe).await?;
    let bytes = vec![0x5a; MAX_MESSAGE_BYTES];
    socket.send_binary(&bytes).await?;
    match socket.next().await {
        Ok(Frame::Binary(echo)) if echo[..] == bytes[..] => Ok(String::new()),
        Ok(other) => broken!(
            "a {MAX_MESSAGE_BYTES}-byte binary message was answered with {}",
            shown(&other)
        ),
        Err(why) => {
            broken!("a {MAX_MESSAGE_BYTES}-byte binary message (exactly 64 KiB) got no echo: {why}")
        }
    }
}

async fn closes_over_64_kib(probe: Probe) -> CaseOutcome {
    let mut socket = greeted(&probe).await?;
    let bytes = vec![0x5a; MAX_MESSAGE_BYTES + 1];
    // A server may close while the frame is still arriving: that is the
    // refusal asked for, not a failure to send.
    if let Err(why) = socket.send_binary(&bytes).await {
        return Ok(format!("closed while the message was sent: {why}"));
    }
    match socket.closed_within(probe.timeout()).await {
        Some(how) => Ok(format!("closed: {how}")),
        None => broken!(
            "a {}-byte message left the connection open for {} ms",
            MAX_MESSAGE_BYTES + 1,
            probe.timeout().as_millis()
        ),
    }
}
