//! `faults::*`: delivery semantics under faults (issue 4 §2). Each case plays
//! a small multi-client scenario of the seed app in the simulated network,
//! with random latency, held and released links, partitions and silent or
//! vanished clients, then reads the trace as a history and judges one
//! guarantee: per-socket ordering, at-most-once delivery, nothing after a
//! disconnect, no leaks between rooms, convergence after a partition heals,
//! and disconnect reasons that match the fault.
//!
//! Over TCP every case is NOT APPLICABLE: faults need the simulated network.
//! The official suites have no fault tests; these go beyond them.

use std::collections::BTreeMap;

use serde_json::Value;
use siosim_harness::{EventKind, Report, Scenario, TraceEvent};

use super::faults_history::{History, Packet, cite};
use super::faults_scenarios::{
    CHAT_MESSAGE, GET_COUNT, INCREASE_COUNT, Leaving, ROOM_MESSAGE, SETTLE_MS, Timing, busy_room,
    leaving_under_traffic, lone_client, partition_heals, rooms_under_latency, silenced,
};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::Probe;
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
// Ordering and at-most-once.

async fn counter_values_increase(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(busy_room(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    let mut checked = 0;
    for session in history.sessions() {
        let counts = history.received_events(session, GET_COUNT);
        if let Some((higher, lower)) = first_regression(&counts, |p| p.first_arg().as_u64()) {
            broken!(
                "{session} got {GET_COUNT:?} {} after {}: {} then {}",
                lower.first_arg(),
                higher.first_arg(),
                cite(higher.line),
                cite(lower.line)
            );
        }
        checked += counts.len();
    }
    expectations_held(&report)?;
    Ok(format!(
        "{checked} counts across {} sessions, each in increasing order",
        history.sessions().len()
    ))
}

async fn chat_in_send_order(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(busy_room(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    let mut checked = 0;
    for session in history.sessions() {
        let messages = history.received_events(session, CHAT_MESSAGE);
        let mut by_sender: BTreeMap<String, Vec<Packet<'_>>> = BTreeMap::new();
        for message in messages {
            if let Some((sender, _)) = numbered(message.first_arg()) {
                by_sender.entry(sender).or_default().push(message);
            }
        }
        for (sender, messages) in &by_sender {
            let regression = first_regression(messages, |p| Some(numbered(p.first_arg())?.1));
            if let Some((later, earlier)) = regression {
                broken!(
                    "{session} got {sender}'s {} after its {}, against the send order: {} then {}",
                    earlier.first_arg(),
                    later.first_arg(),
                    cite(later.line),
                    cite(earlier.line)
                );
            }
            checked += messages.len();
        }
    }
    expectations_held(&report)?;
    Ok(format!(
        "{checked} relayed chat messages, each sender's in send order on every socket"
    ))
}

async fn no_event_twice_per_socket(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(busy_room(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    let mut checked = 0;
    for session in history.sessions() {
        // Every chat text and every count value is unique in this scenario.
        let mut seen: BTreeMap<(String, String), Packet<'_>> = BTreeMap::new();
        let unique = history
            .received(session)
            .into_iter()
            .filter(|p| p.event == CHAT_MESSAGE || p.event == GET_COUNT);
        for packet in unique {
            let key = (packet.event.clone(), packet.first_arg().to_string());
            if let Some(first) = seen.get(&key) {
                broken!(
                    "{session} got {:?} {} twice: {} and {}",
                    packet.event,
                    packet.first_arg(),
                    cite(first.line),
                    cite(packet.line)
                );
            }
            seen.insert(key, packet);
            checked += 1;
        }
    }
    expectations_held(&report)?;
    Ok(format!(
        "{checked} deliveries over WebSocket, long-polling and an upgraded session, none twice"
    ))
}

/// The first packet whose key is lower than an earlier one's, with that
/// earlier (higher) packet: `(higher, lower)`.
fn first_regression<'p, 't>(
    packets: &'p [Packet<'t>],
    key: impl Fn(&Packet<'t>) -> Option<u64>,
) -> Option<(&'p Packet<'t>, &'p Packet<'t>)> {
    let mut highest: Option<(u64, &'p Packet<'t>)> = None;
    for packet in packets {
        let Some(value) = key(packet) else { continue };
        match highest {
            Some((top, top_packet)) if value < top => return Some((top_packet, packet)),
            Some((top, _)) if value == top => {}
            _ => highest = Some((value, packet)),
        }
    }
    None
}

/// `"alice 3"` → `("alice", 3)`: the busy room's chat texts.
fn numbered(text: &Value) -> Option<(String, u64)> {
    let (sender, number) = text.as_str()?.rsplit_once(' ')?;
    Some((sender.to_owned(), number.parse().ok()?))
}

/// The scenario's own expectations (deliveries the scripts waited for,
/// faults that must fire): any failure breaks the case.
fn expectations_held(report: &Report) -> Result<(), CaseError> {
    if report.failures.is_empty() {
        return Ok(());
    }
    let witnesses: Vec<String> = report
        .trace
        .of_kind(EventKind::Fail)
        .take(3)
        .map(cite)
        .collect();
    broken!(
        "the scenario's expectations failed: {}; {}",
        report.failures.join("; "),
        witnesses.join(" ")
    )
}

// ---------------------------------------------------------------------------
// Nothing after a disconnect.

async fn nothing_after_client_namespace_disconnect(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(leaving_under_traffic(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    let mut checked = Vec::new();
    for session in ["alice#1", "dave#1"] {
        let Some(sent) = history.line(session, EventKind::Send, "41") else {
            expectations_held(&report)?;
            broken!("{session} never sent its DISCONNECT")
        };
        // The server's log says when it ended the socket; without one, a
        // grace beyond any latency of the scenario bounds it.
        let ended = match history.server_disconnect(session) {
            Some(logged) => (logged.line.at_us, logged.line),
            None => (sent.at_us + SETTLE_MS * 1_000, sent),
        };
        let later = nothing_sent_after(&history, session, ended)?;
        checked.push(format!("{later} after {session}'s"));
    }
    expectations_held(&report)?;
    Ok(format!(
        "no chat message sent after a socket's DISCONNECT reached its still open session ({} DISCONNECT)",
        checked.join(", ")
    ))
}

async fn nothing_after_ping_timeout(probe: Probe) -> CaseOutcome {
    let timing = Timing::of(&probe).await?;
    let report = probe.run_scenario(silenced(&timing))?;
    let history = History::new(&report.trace);
    let session = "carol#1";
    let ended = match history.server_disconnect(session) {
        Some(logged) => (logged.line.at_us, logged.line),
        None => {
            // No log line: the first ping after the partition went
            // unanswered, so the socket was over one ping timeout later.
            let cut = history
                .fault("partition carol")
                .map_or(0, |line| line.at_us);
            let Some(ping) = history.line_after(session, EventKind::Recv, "2", cut) else {
                expectations_held(&report)?;
                broken!("{session} got no ping once cut off, so the server never timed it out")
            };
            let at = ping.at_us + (timing.ping_timeout_ms + SETTLE_MS) * 1_000;
            (at, ping)
        }
    };
    let later = nothing_sent_after(&history, session, ended)?;
    expectations_held(&report)?;
    if later == 0 {
        broken!("no chat message was sent after the server timed {session} out: nothing to check");
    }
    Ok(format!(
        "{later} chat messages sent after the server timed {session} out did not reach it"
    ))
}

/// Fails if `session` received a chat message that was sent after `ended`
/// (when the server ended the socket, and the line that says so). Returns
/// how many chat messages were sent after it.
fn nothing_sent_after(
    history: &History<'_>,
    session: &str,
    (ended_us, witness): (u64, &TraceEvent),
) -> Result<usize, CaseError> {
    let sent = history.all_sent_events(CHAT_MESSAGE);
    for received in history.received_events(session, CHAT_MESSAGE) {
        let cause = sent
            .iter()
            .find(|(_, s)| s.args == received.args)
            .map(|(_, s)| s.line);
        if let Some(cause) = cause.filter(|c| c.at_us > ended_us) {
            broken!(
                "{session} got {} although it was sent after its socket ended: {} {} {}",
                received.first_arg(),
                cite(witness),
                cite(cause),
                cite(received.line)
            );
        }
    }
    Ok(sent.iter().filter(|(_, s)| s.line.at_us > ended_us).count())
}

// ---------------------------------------------------------------------------
// Rooms.

async fn room_messages_reach_members_only(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(rooms_under_latency(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    let posts = history.all_sent_events(ROOM_MESSAGE);
    let mut checked = 0;
    for session in history.sessions() {
        for received in history.received_events(session, ROOM_MESSAGE) {
            let room = received.first_arg()["room"].as_str().unwrap_or_default();
            let Some((sender, post)) = posts.iter().find(|(_, p)| p.args == received.args) else {
                broken!(
                    "{session} got a room message nobody posted: {}",
                    cite(received.line)
                )
            };
            let sent_at = post.line.at_us;
            if !member_when_posted(&history, sender, room, sent_at) {
                broken!(
                    "{session} got a post to {room:?} by {sender}, who was not a member: {} {}",
                    cite(post.line),
                    cite(received.line)
                );
            }
            if !may_be_member(&history, session, room, sent_at, received.line.at_us) {
                broken!(
                    "{session} got a post to {room:?} although it never joined or had already left: {} {}",
                    cite(post.line),
                    cite(received.line)
                );
            }
            checked += 1;
        }
    }
    expectations_held(&report)?;
    Ok(format!(
        "{checked} room deliveries, each to a member, none from a non-member"
    ))
}

/// Whether `session`'s join and leave requests for `room` leave it a member:
/// joins count when sent before `join_by_us` and not refused, leaves when
/// `left_at` (the request's or its ack's time) is before `leave_by_us`.
fn membership(
    history: &History<'_>,
    session: &str,
    room: &str,
    join_by_us: u64,
    leave_by_us: u64,
    left_at: impl Fn(&Packet<'_>) -> Option<u64>,
) -> bool {
    let mut member = false;
    for request in history.sent(session) {
        let is_join = request.event == "join";
        if !(is_join || request.event == "leave") || request.first_arg() != room {
            continue;
        }
        let ack = request.ack_id.and_then(|id| history.ack(session, id));
        if ack
            .as_ref()
            .is_some_and(|a| a.first_arg().get("error").is_some())
        {
            continue;
        }
        if is_join && request.line.at_us < join_by_us {
            member = true;
        } else if !is_join && left_at(&request).is_some_and(|at| at < leave_by_us) {
            member = false;
        }
    }
    member
}

/// The sender's own requests travel ahead of its post on one connection, so
/// its membership is what it had asked for before posting.
fn member_when_posted(history: &History<'_>, sender: &str, room: &str, sent_at: u64) -> bool {
    membership(history, sender, room, sent_at, sent_at, |leave| {
        Some(leave.line.at_us)
    })
}

/// A recipient may have joined any time before it got the post (links
/// differ in latency), but once its leave was acked before the post was
/// even sent, the server had surely processed it.
fn may_be_member(
    history: &History<'_>,
    session: &str,
    room: &str,
    sent_at: u64,
    received_at: u64,
) -> bool {
    membership(history, session, room, received_at, sent_at, |leave| {
        Some(history.ack(session, leave.ack_id?)?.line.at_us)
    })
}

// ---------------------------------------------------------------------------
// Convergence after a partition heals.

async fn partitioned_client_converges(probe: Probe) -> CaseOutcome {
    let report = probe.run_scenario(partition_heals(&Timing::of(&probe).await?))?;
    let history = History::new(&report.trace);
    // A fresh server starts at 0 and every increment sent reached it: the
    // partitioned client sent none.
    let final_count = history.all_sent_events(INCREASE_COUNT).len() as u64;
    for session in ["bob#1", "carol#1"] {
        let counts = history.received_events(session, GET_COUNT);
        let missing = (1..=final_count).find(|n| !counts.iter().any(|p| p.first_arg() == n));
        if let Some(missing) = missing {
            let seen: Vec<String> = counts.iter().map(|p| p.first_arg().to_string()).collect();
            broken!(
                "{session}, never partitioned, missed count {missing} of {final_count}: it got [{}]",
                seen.join(", ")
            );
        }
    }
    let Some(first) = history
        .received_events("alice#2", GET_COUNT)
        .into_iter()
        .next()
    else {
        expectations_held(&report)?;
        broken!("alice never got a count after reconnecting");
    };
    if first.first_arg() != final_count {
        broken!(
            "alice reconnected after the partition and got {GET_COUNT:?} {} instead of the final {final_count}: {}",
            first.first_arg(),
            cite(first.line)
        );
    }
    expectations_held(&report)?;
    let end = history
        .session_end("alice#1")
        .map_or("?", |(cause, _)| cause);
    Ok(format!(
        "the partitioned session ended ({end}); the new one started at {final_count}, the others saw 1..={final_count}"
    ))
}

// ---------------------------------------------------------------------------
// Disconnect reasons.

/// How a session ended, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The client closed or dropped it.
    ByClient,
    /// The server closed it: a close packet, a close frame, a refused poll.
    ByServer,
    /// Nothing more got through: the client's heartbeat watchdog or a
    /// failed send gave up.
    Lost,
}

/// Reads our client's `closed: <cause>` texts (harness/src/client/engine.rs).
fn ending_of(cause: &str) -> Ending {
    const LOST: [&str; 4] = [
        "ping timeout",
        "send failed",
        "poll failed",
        "websocket error",
    ];
    if cause.ends_with("by the client") {
        Ending::ByClient
    } else if LOST.iter().any(|prefix| cause.starts_with(prefix)) {
        Ending::Lost
    } else {
        Ending::ByServer
    }
}

/// Runs `scenario` and checks the server's logged reason for `alice#1` is
/// one of `reasons` and, when given, how alice saw her session end.
fn judge_reason(
    probe: &Probe,
    scenario: Scenario,
    reasons: &[&str],
    endings: &[Ending],
) -> CaseOutcome {
    let session = "alice#1";
    let report = probe.run_scenario(scenario)?;
    let history = History::new(&report.trace);
    let Some(logged) = history.server_disconnect(session) else {
        expectations_held(&report)?;
        let logs: Vec<String> = report
            .trace
            .of_kind(EventKind::Log)
            .take(4)
            .map(cite)
            .collect();
        broken!(
            "the server logged no disconnect for {session}; its log: {}",
            logs.join(" ")
        )
    };
    if !reasons.contains(&logged.reason.as_str()) {
        broken!(
            "the server gave {session}'s disconnect reason {:?}, not {}: {}",
            logged.reason,
            reasons.join(" or "),
            cite(logged.line)
        );
    }
    let Some((cause, ended)) = history.session_end(session) else {
        expectations_held(&report)?;
        broken!("{session} never saw its session end")
    };
    if !endings.contains(&ending_of(cause)) {
        broken!(
            "the server logged {:?} but {session} saw its session end otherwise ({:?}, expected {endings:?}): {} {}",
            logged.reason,
            ending_of(cause),
            cite(logged.line),
            cite(ended)
        );
    }
    expectations_held(&report)?;
    Ok(format!("server: {:?}; client: {cause}", logged.reason))
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
    use siosim_harness::Trace;

    fn trace(lines: &[(u64, &str, EventKind, &str)]) -> Trace {
        let events = lines
            .iter()
            .map(|&(at_ms, actor, kind, text)| TraceEvent {
                at_us: at_ms * 1_000,
                actor: actor.into(),
                kind,
                text: text.into(),
            })
            .collect();
        Trace { version: 1, events }
    }

    #[test]
    fn a_regression_is_a_lower_value_after_a_higher_one_not_a_repeat() {
        let counts = trace(&[
            (1, "bob#1", EventKind::Recv, r#"42["get count",1]"#),
            (2, "bob#1", EventKind::Recv, r#"42["get count",3]"#),
            (3, "bob#1", EventKind::Recv, r#"42["get count",3]"#),
            (4, "bob#1", EventKind::Recv, r#"42["get count",2]"#),
        ]);
        let history = History::new(&counts);
        let received = history.received_events("bob#1", GET_COUNT);
        let (higher, lower) =
            first_regression(&received, |p| p.first_arg().as_u64()).expect("3 then 2");
        assert_eq!((higher.line.at_us, lower.line.at_us), (2_000, 4_000));
        assert!(first_regression(&received[..3], |p| p.first_arg().as_u64()).is_none());
        assert_eq!(
            numbered(&Value::from("bob the 2nd 12")),
            Some(("bob the 2nd".into(), 12))
        );
        assert_eq!(numbered(&Value::from("bob")), None);
    }

    #[test]
    fn session_endings_read_from_the_clients_causes() {
        assert_eq!(ending_of("closed by the client"), Ending::ByClient);
        assert_eq!(ending_of("dropped by the client"), Ending::ByClient);
        assert_eq!(ending_of("closed by the server"), Ending::ByServer);
        assert_eq!(ending_of("websocket close frame 1000 "), Ending::ByServer);
        assert_eq!(ending_of("poll answered 400: {}"), Ending::ByServer);
        assert_eq!(
            ending_of("ping timeout: nothing heard for 500 ms"),
            Ending::Lost
        );
        assert_eq!(ending_of("send failed: timed out"), Ending::Lost);
    }

    #[test]
    fn room_membership_follows_the_requests_and_their_acks() {
        let rooms = trace(&[
            (10, "dave#1", EventKind::Send, r#"420["join","lobby"]"#),
            (20, "dave#1", EventKind::Recv, r#"430[{"ok":true}]"#),
            (30, "dave#1", EventKind::Send, r#"421["leave","lobby"]"#),
            (40, "dave#1", EventKind::Recv, r#"431[{"ok":true}]"#),
            (50, "erin#1", EventKind::Send, r#"420["join","attic"]"#),
            (60, "erin#1", EventKind::Recv, r#"430[{"error":"no"}]"#),
        ]);
        let history = History::new(&rooms);
        let ms = |ms: u64| ms * 1_000;
        // A post sent before the leave was acked may still arrive later.
        assert!(may_be_member(&history, "dave#1", "lobby", ms(35), ms(45)));
        // One sent after it may not.
        assert!(!may_be_member(&history, "dave#1", "lobby", ms(41), ms(45)));
        // A join sent after the post may still have been handled first.
        assert!(may_be_member(&history, "dave#1", "lobby", ms(5), ms(15)));
        assert!(!may_be_member(&history, "dave#1", "attic", ms(5), ms(15)));
        // A refused join makes no member.
        assert!(!may_be_member(&history, "erin#1", "attic", ms(70), ms(80)));
        // A sender's own leave precedes its later posts on its connection.
        assert!(member_when_posted(&history, "dave#1", "lobby", ms(25)));
        assert!(!member_when_posted(&history, "dave#1", "lobby", ms(31)));
    }
}
