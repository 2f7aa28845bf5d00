//! `robustness::fan_out::*`: one large message fanned out to clients that
//! never poll must not cost the server a copy per recipient.
//!
//! In simulation only: the server and the clients share the case's thread,
//! so the heap bytes that thread holds ([`heap::live_bytes_on_this_thread`])
//! are the server's memory, observable as they are not over TCP.

use siosim_harness::heap;

use super::engineio_wire::PollingSession;
use super::robustness::connected_socket_id;
use super::socketio_raw as raw;
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
use crate::raw_websocket::Frame;
use crate::{broken, case};

const FAN_OUT: Clause = Clause {
    spec: Spec::Robustness,
    section: "Robustness profile",
    rule: "a message relayed to clients that do not read costs the server at most a quarter of one copy per recipient",
};

/// Polling clients that join `/` and then never poll: every relayed
/// message waits in the server for each of them.
const IDLE_RECIPIENTS: usize = 50;
/// `chat message`s relayed, and the size of each one's text (or half the
/// server's maxPayload, if that is less).
const MESSAGES: usize = 4;
const MESSAGE_BYTES: u64 = 200_000;
/// The most the server may hold, as a share of a copy per recipient.
const MAX_SHARE_OF_COPIES: f64 = 0.25;

pub(super) fn cases() -> Vec<Case> {
    vec![case!(
        "robustness::fan_out::idle_recipients_share_one_copy",
        Should,
        Robustness,
        FAN_OUT,
        idle_recipients_share_one_copy
    )]
}

/// [`IDLE_RECIPIENTS`] polling clients join and stop polling; a WebSocket
/// client relays [`MESSAGES`] large `chat message`s (the seed app's
/// contract: to everyone, the sender included) and reads its own copies
/// back. What the case's thread then holds more than before is what the
/// server keeps for the idle recipients.
async fn idle_recipients_share_one_copy(probe: Probe) -> CaseOutcome {
    probe.require_simulation(
        "the server's memory is observable only in simulation, where it shares the case's thread",
    )?;
    live_bytes()?;
    let mut idle = Vec::with_capacity(IDLE_RECIPIENTS);
    for _ in 0..IDLE_RECIPIENTS {
        idle.push(joined_and_idle(&probe).await?);
    }
    let mut sender = raw::joined(&probe).await?;
    sender.set_traced(false);
    let max_payload = idle[0].handshake().max_payload;
    let text_bytes = MESSAGE_BYTES.min(max_payload / 2);
    let message = format!(
        r#"42["chat message","{}"]"#,
        "x".repeat(text_bytes as usize)
    );

    let before = live_bytes()?;
    for _ in 0..MESSAGES {
        sender.send_text(&message).await?;
    }
    read_own_copies(&probe, &mut sender).await?;
    let held = live_bytes()? - before;
    sender.set_traced(true);

    let copies = (IDLE_RECIPIENTS * MESSAGES) as f64 * text_bytes as f64;
    let share = held as f64 / copies;
    let shown = format!(
        "{MESSAGES} × {text_bytes}-byte chat messages to {IDLE_RECIPIENTS} clients that never poll: the server holds {} KiB more, {share:.3} of a copy per recipient ({} KiB)",
        held / 1024,
        copies as u64 / 1024
    );
    if share > MAX_SHARE_OF_COPIES {
        broken!("{shown}, over the {MAX_SHARE_OF_COPIES} allowed");
    }
    Ok(shown)
}

/// A polling client joined to `/` that polls no more.
async fn joined_and_idle(probe: &Probe) -> Result<PollingSession, CaseError> {
    let session = PollingSession::open(probe).await?;
    session.drain().await?;
    session.post_accepted(&probe.with_auth("40")).await?;
    connected_socket_id(&session).await?;
    Ok(session)
}

/// Reads until the sender has its own [`MESSAGES`] copies back.
async fn read_own_copies(probe: &Probe, sender: &mut crate::RawWebSocket) -> Result<(), CaseError> {
    let mut copies = 0;
    while copies < MESSAGES {
        match sender.next_within(probe.timeout()).await? {
            Some(Frame::Text(text)) if text.starts_with(r#"42["chat message","#) => copies += 1,
            Some(_) => {}
            None => {
                return Err(CaseError::NotApplicable(format!(
                    "the sender got {copies} of its {MESSAGES} chat messages back within {} ms: the server does not relay `chat message` to everyone (the seed app's contract)",
                    probe.timeout().as_millis()
                )));
            }
        }
    }
    Ok(())
}

/// The heap bytes the case's thread holds; NOT APPLICABLE unless the
/// process counts them.
fn live_bytes() -> Result<i64, CaseError> {
    heap::live_bytes_on_this_thread().ok_or_else(|| {
        CaseError::NotApplicable(
            "this process does not count its heap: install siosim_harness::heap::CountingAllocator as its #[global_allocator]".into(),
        )
    })
}
