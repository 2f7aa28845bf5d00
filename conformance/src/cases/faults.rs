//! `faults::*`: delivery semantics under faults (issue 4 §2). Each case plays
//! a small multi-client scenario of the seed app in the simulated network,
//! with random latency, held and released links, partitions and silent or
//! vanished clients, then judges one guarantee with the harness's public
//! invariants (the same checkers `siosim run`/`explore` use, configured for
//! the reference app by [`crate::reference`]): per-socket ordering,
//! at-most-once delivery, nothing after a disconnect, no leaks between
//! rooms, convergence after a partition heals, and disconnect reasons that
//! match the fault. A failure names the invariant and quotes its witnesses.
//!
//! Over TCP every case is NOT APPLICABLE: faults need the simulated network.
//! The official suites have no fault tests; these go beyond them.

use siosim_harness::invariants::disconnect::{self, Ending, ExpectedReason};
use siosim_harness::invariants::{
    self, EXPECTATIONS, History, Invariant, Violation, Way, chat::Chat, counter::Counter,
    delivery::Delivery,
};
use siosim_harness::{Report, Scenario, TraceEvent};

use super::faults_scenarios::{
    CHAT_MESSAGE, GET_COUNT, INCREASE_COUNT, Leaving, ROOM_MESSAGE, Timing, busy_room,
    leaving_under_traffic, lone_client, partition_heals, rooms_under_latency, silenced,
};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
use crate::reference::relays;
use crate::{broken, case};

const COUNTER_ORDER: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "every socket sees counter values in increasing order",
};

const SENDER_ORDER: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "one client's events are handled in the order it sent them: a relayed `chat message` reaches every socket in its sender's order",
};

const AT_MOST_ONCE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "each relayed `chat message` and each new count reaches every socket once: Socket.IO delivers at most once",
};

const NAMESPACE_DISCONNECT: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Disconnection from a namespace",
    rule: "at any time, one side can end the connection to a namespace by sending a DISCONNECT packet: the socket then receives nothing more",
};

const HEARTBEAT: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Heartbeat",
    rule: "if the server does not receive a pong packet back, then it SHOULD consider that the connection is closed (and send nothing more)",
};

const ROOM_MEMBERS_ONLY: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`room message` reaches the room's members only; a non-member's post is relayed to nobody",
};

const CONVERGENCE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "after each `increase count` every socket gets the new count; a new socket gets the current count as its first event",
};

const DISCONNECT_REASON: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Configuration",
    rule: "each socket's disconnect is logged with its sid and the reason, which names what ended it (socket.io's reasons: client namespace disconnect, transport close, transport error, ping timeout, parse error)",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "faults::ordering::counter_values_increase_under_latency_and_holds",
            Must,
            App,
            COUNTER_ORDER,
            counter_values_increase
        ),
        case!(
            "faults::ordering::chat_in_send_order_under_latency_and_holds",
            Must,
            App,
            SENDER_ORDER,
            chat_in_send_order
        ),
        case!(
            "faults::at_most_once::no_event_twice_per_socket",
            Must,
            App,
            AT_MOST_ONCE,
            no_event_twice_per_socket
        ),
        case!(
            "faults::after_disconnect::nothing_after_client_namespace_disconnect",
            Must,
            App,
            NAMESPACE_DISCONNECT,
            nothing_after_client_namespace_disconnect
        ),
        case!(
            "faults::after_disconnect::nothing_after_ping_timeout",
            Should,
            App,
            HEARTBEAT,
            nothing_after_ping_timeout
        ),
        case!(
            "faults::rooms::messages_reach_members_only_under_latency",
            Must,
            App,
            ROOM_MEMBERS_ONLY,
            room_messages_reach_members_only
        ),
        case!(
            "faults::convergence::partitioned_client_reconnects_to_the_final_count",
            Must,
            App,
            CONVERGENCE,
            partitioned_client_converges
        ),
        case!(
            "faults::disconnect_reason::client_namespace_disconnect",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_client_namespace_disconnect
        ),
        case!(
            "faults::disconnect_reason::engine_close_is_transport_close",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_engine_close
        ),
        case!(
            "faults::disconnect_reason::dropped_transport",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_dropped_transport
        ),
        case!(
            "faults::disconnect_reason::silent_client_is_ping_timeout",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_silent_client
        ),
        case!(
            "faults::disconnect_reason::partition_is_ping_timeout",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_partition
        ),
        case!(
            "faults::disconnect_reason::malformed_packet_is_parse_error",
            Should,
            App,
            DISCONNECT_REASON,
            reason_of_malformed_packet
        ),
    ]
}

// ---------------------------------------------------------------------------
// Judging a scenario with the harness's invariants.

/// A scenario's run and its scenario, judged.
struct Judged {
    report: Report,
    scenario: Scenario,
}

impl Judged {
    fn history(&self) -> History<'_> {
        History::new(&self.report.trace, &self.scenario)
    }
}

/// Runs `scenario` and judges it with `invariants`: the first violation of
/// one named in `judged`, or of the scenario's own expectations (deliveries
/// the scripts waited for, faults that must fire), breaks the case.
fn run_judged(
    probe: &Probe,
    scenario: Scenario,
    invariants: &[&dyn Invariant],
    judged: &[&str],
) -> Result<Judged, CaseError> {
    let report = probe.run_scenario(scenario.clone())?;
    let violations = invariants::judge(&report, &scenario, invariants);
    let first = violations
        .iter()
        .find(|v| judged.contains(&v.invariant))
        .or_else(|| violations.iter().find(|v| v.invariant == EXPECTATIONS));
    if let Some(violation) = first {
        broken!("{}", cited(violation));
    }
    Ok(Judged { report, scenario })
}

/// A violation on one line: its headline and its first witnesses, each
/// quoted as `[1203ms bob#1 recv 42[…]]`.
fn cited(violation: &Violation) -> String {
    const SHOWN: usize = 6;
    let witnesses: Vec<String> = violation.witnesses.iter().take(SHOWN).map(cite).collect();
    let more = violation.witnesses.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    format!("{}: {}{more}", violation.headline(), witnesses.join(" "))
}

/// A trace line as quoted in a verdict's reason: `[1203ms bob#1 recv 42[…]]`.
fn cite(line: &TraceEvent) -> String {
    let text = line.to_string();
    format!(
        "[{}]",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// How many `event`s the sessions received, in all.
fn received(history: &History<'_>, event: &str) -> usize {
    history
        .sessions()
        .map(|s| s.events(Way::Received, event).count())
        .sum()
}

// ---------------------------------------------------------------------------
// Ordering and at-most-once.

async fn counter_values_increase(probe: Probe) -> CaseOutcome {
    let counter = Counter::new(GET_COUNT, INCREASE_COUNT);
    let scenario = busy_room(&Timing::of(&probe).await?);
    let run = run_judged(
        &probe,
        scenario,
        &[&counter],
        &[invariants::counter::MONOTONIC],
    )?;
    let history = run.history();
    Ok(format!(
        "{} counts across {} sessions, each in increasing order",
        received(&history, GET_COUNT),
        history.sessions.len()
    ))
}

async fn chat_in_send_order(probe: Probe) -> CaseOutcome {
    let chat = Chat::new(relays());
    let scenario = busy_room(&Timing::of(&probe).await?);
    let run = run_judged(
        &probe,
        scenario,
        &[&chat],
        &[invariants::chat::FIFO_PER_SENDER],
    )?;
    Ok(format!(
        "{} relayed chat messages, each sender's in send order on every socket",
        received(&run.history(), CHAT_MESSAGE)
    ))
}

async fn no_event_twice_per_socket(probe: Probe) -> CaseOutcome {
    // Every chat text and every count value is unique in this scenario.
    let delivery = Delivery::new(relays().once(GET_COUNT));
    let scenario = busy_room(&Timing::of(&probe).await?);
    let run = run_judged(
        &probe,
        scenario,
        &[&delivery],
        &[invariants::delivery::AT_MOST_ONCE],
    )?;
    let history = run.history();
    Ok(format!(
        "{} deliveries over WebSocket, long-polling and an upgraded session, none twice",
        received(&history, CHAT_MESSAGE) + received(&history, GET_COUNT)
    ))
}

// ---------------------------------------------------------------------------
// Nothing after a disconnect.

async fn nothing_after_client_namespace_disconnect(probe: Probe) -> CaseOutcome {
    let scenario = leaving_under_traffic(&Timing::of(&probe).await?);
    let run = judge_nothing_after_disconnect(&probe, scenario)?;
    let history = run.history();
    let mut checked = Vec::new();
    for session in ["alice#1", "dave#1"] {
        let left = history.session(session).is_some_and(|s| {
            s.packets(Way::Sent)
                .any(|p| history.event(p.event).text == "41")
        });
        if !left {
            broken!("{session} never sent its DISCONNECT");
        }
        let later = sent_after_logged_disconnect(&history, session)?;
        checked.push(format!("{later} after {session}'s"));
    }
    Ok(format!(
        "no chat message sent after a socket's DISCONNECT reached its still open session ({} DISCONNECT)",
        checked.join(", ")
    ))
}

async fn nothing_after_ping_timeout(probe: Probe) -> CaseOutcome {
    let scenario = silenced(&Timing::of(&probe).await?);
    let run = judge_nothing_after_disconnect(&probe, scenario)?;
    let session = "carol#1";
    let later = sent_after_logged_disconnect(&run.history(), session)?;
    if later == 0 {
        broken!("no chat message was sent after the server timed {session} out: nothing to check");
    }
    Ok(format!(
        "{later} chat messages sent after the server timed {session} out did not reach it"
    ))
}

fn judge_nothing_after_disconnect(probe: &Probe, scenario: Scenario) -> Result<Judged, CaseError> {
    let delivery = Delivery::new(relays());
    run_judged(
        probe,
        scenario,
        &[&delivery],
        &[invariants::delivery::NOTHING_AFTER_DISCONNECT],
    )
}

/// How many chat messages were sent after the server logged `session`'s
/// disconnect, which is when `delivery.nothing-after-disconnect` takes its
/// socket to have ended; without that line there is nothing to judge.
fn sent_after_logged_disconnect(history: &History<'_>, session: &str) -> Result<usize, CaseError> {
    let Some(logged) = history.disconnects().iter().find(|d| d.alias == session) else {
        broken!(
            "the server logged no disconnect for {session}, so when its socket ended is unknown (the seed app logs each disconnect with its sid)"
        );
    };
    let ended_us = history.at_us(logged.event);
    Ok(history
        .events(Way::Sent, CHAT_MESSAGE)
        .iter()
        .filter(|(_, sent)| history.at_us(sent.event) > ended_us)
        .count())
}

// ---------------------------------------------------------------------------
// Rooms.

async fn room_messages_reach_members_only(probe: Probe) -> CaseOutcome {
    let delivery = Delivery::new(relays());
    let scenario = rooms_under_latency(&Timing::of(&probe).await?);
    let run = run_judged(
        &probe,
        scenario,
        &[&delivery],
        &[invariants::delivery::NO_ROOM_LEAK],
    )?;
    Ok(format!(
        "{} room deliveries, each to a member, none from a non-member",
        received(&run.history(), ROOM_MESSAGE)
    ))
}

// ---------------------------------------------------------------------------
// Convergence after a partition heals.

async fn partitioned_client_converges(probe: Probe) -> CaseOutcome {
    // Every increment pushes its own value: bob and carol, never cut off,
    // see each count from their greeting on.
    let counter = Counter::new(GET_COUNT, INCREASE_COUNT).without_gaps();
    let scenario = partition_heals(&Timing::of(&probe).await?);
    let run = run_judged(
        &probe,
        scenario,
        &[&counter],
        &[
            invariants::counter::CONVERGES,
            invariants::counter::NO_GAP,
            invariants::counter::NO_LOST_INCREMENT,
        ],
    )?;
    let history = run.history();
    let Some(reconnected) = history.session("alice#2") else {
        broken!("alice never reconnected after the partition");
    };
    if !history.is_healthy(reconnected) {
        broken!("alice reconnected before the partition healed: her new session proves nothing");
    }
    let end = history
        .session("alice#1")
        .and_then(|s| disconnect::session_end(&history, s))
        .map_or("?", |(cause, _)| cause);
    let final_count = history.events(Way::Sent, INCREASE_COUNT).len();
    Ok(format!(
        "the partitioned session ended ({end}); the new one ended on the final count {final_count}, as every healthy socket did; the others saw every count"
    ))
}

// ---------------------------------------------------------------------------
// Disconnect reasons.

/// Runs `scenario` and checks the server's logged reason for `alice#1` is
/// one of `reasons` and how alice saw her session end is one of `endings`.
fn judge_reason(
    probe: &Probe,
    scenario: Scenario,
    reasons: &[&'static str],
    endings: &[Ending],
) -> CaseOutcome {
    let session = "alice#1";
    let expected = ExpectedReason::new(session, reasons, endings);
    let run = run_judged(
        probe,
        scenario,
        &[&expected],
        &[disconnect::EXPECTED_REASON],
    )?;
    let history = run.history();
    let logged = history
        .disconnects()
        .iter()
        .find(|d| d.alias == session)
        .map_or("?", |d| disconnect::socketio_reason(&d.reason));
    let cause = history
        .session(session)
        .and_then(|s| disconnect::session_end(&history, s))
        .map_or("?", |(cause, _)| cause);
    Ok(format!("server: {logged:?}; client: {cause}"))
}

async fn reason_of_client_namespace_disconnect(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::NamespaceDisconnect, &Timing::of(&probe).await?);
    judge_reason(
        &probe,
        scenario,
        &["client namespace disconnect"],
        &[Ending::ByClient],
    )
}

async fn reason_of_engine_close(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::EngineClose, &Timing::of(&probe).await?);
    judge_reason(&probe, scenario, &["transport close"], &[Ending::ByServer])
}

async fn reason_of_dropped_transport(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::Drop, &Timing::of(&probe).await?);
    judge_reason(
        &probe,
        scenario,
        &["transport close", "transport error"],
        &[Ending::ByClient],
    )
}

async fn reason_of_silent_client(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::Silence, &Timing::of(&probe).await?);
    judge_reason(&probe, scenario, &["ping timeout"], &[Ending::ByServer])
}

async fn reason_of_partition(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::Partition, &Timing::of(&probe).await?);
    // Nothing gets through either way: alice's own watchdog gives up.
    judge_reason(&probe, scenario, &["ping timeout"], &[Ending::Lost])
}

async fn reason_of_malformed_packet(probe: Probe) -> CaseOutcome {
    let scenario = lone_client(Leaving::MalformedPacket, &Timing::of(&probe).await?);
    judge_reason(&probe, scenario, &["parse error"], &[Ending::ByServer])
}

#[cfg(test)]
mod tests {
    use super::*;
    use siosim_harness::EventKind;

    #[test]
    fn cites_a_violation_on_one_line_with_its_witnesses() {
        let line = |at_us, text: &str| TraceEvent {
            at_us,
            actor: "bob#1".into(),
            kind: EventKind::Recv,
            text: text.into(),
        };
        let violation = Violation::new(
            invariants::counter::MONOTONIC,
            "bob#1 received \"get count\" 2 after 3",
            vec![
                line(1_203_000, r#"42["get count",3]"#),
                line(1_204_000, r#"42["get count",2]"#),
            ],
        );
        assert_eq!(
            cited(&violation),
            r#"invariant counter.monotonic violated: bob#1 received "get count" 2 after 3: [1203ms bob#1 recv 42["get count",3]] [1204ms bob#1 recv 42["get count",2]]"#
        );
    }
}
