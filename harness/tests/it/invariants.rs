//! Each checker against hand-made traces: it catches what it claims (and
//! names the witnessing lines), and stays silent on a correct history.

use std::time::Duration;

use serde_json::Value;
use siosim_harness::invariants::{
    self, Audience, Invariant, Relays, Rooms, Violation, chat, counter, delivery, disconnect,
};
use siosim_harness::{Direction, EventKind, Fault, Report, Scenario, Trace, TraceEvent};

/// The checkers, configured for a chat app like the reference app.
fn checkers() -> Vec<Box<dyn Invariant>> {
    let relays = Relays::new()
        .relay("chat message", Audience::Everyone)
        .relay("chat broadcast", Audience::OthersOnly)
        .relay("room message", Audience::Room)
        .rooms(Rooms::new("join", "leave").refusal("not a member"))
        .accepted(|args: &[Value]| {
            args.first().and_then(|a| a.get("ok")) == Some(&Value::Bool(true))
        });
    vec![
        Box::new(counter::Counter::new("get count", "increase count")),
        Box::new(chat::Chat::new(relays.clone())),
        Box::new(delivery::Delivery::new(relays)),
        Box::new(disconnect::DisconnectReasons),
    ]
}

/// Every checker of [`checkers`] on `trace`, then the protocol check.
fn check_trace(trace: &Trace, scenario: &Scenario) -> Vec<Violation> {
    let report = Report::new(
        scenario.name.clone(),
        0,
        trace.clone(),
        Vec::new(),
        Duration::ZERO,
    );
    let checkers = checkers();
    let checkers: Vec<&dyn Invariant> = checkers.iter().map(|c| &**c).collect();
    invariants::judge(&report, scenario, &checkers)
}

/// A trace from `(ms, actor, kind, text)` rows, kinds as the trace prints
/// them. Every session opened with [`OPEN`] is joined to `/` at once (the
/// server's CONNECT answer follows the row), as in a real run.
fn trace(rows: &[(u64, &str, &str, &str)]) -> Trace {
    let joined: Vec<(u64, &str, &str, &str)> = rows
        .iter()
        .flat_map(|&row| {
            let (ms, actor, kind, text) = row;
            let answer = (kind == "sess" && text == OPEN).then_some((ms, actor, "recv", CONNECTED));
            std::iter::once(row).chain(answer)
        })
        .collect();
    raw_trace(&joined)
}

/// A trace of exactly `rows` (no CONNECT answer added).
fn raw_trace(rows: &[(u64, &str, &str, &str)]) -> Trace {
    let events = rows
        .iter()
        .map(|&(ms, actor, kind, text)| TraceEvent {
            at_us: ms * 1000,
            actor: actor.into(),
            kind: match kind {
                "send" => EventKind::Send,
                "recv" => EventKind::Recv,
                "sess" => EventKind::Session,
                "log" => EventKind::Log,
                "fault" => EventKind::Fault,
                "BAD" => EventKind::Violation,
                other => panic!("unknown kind {other}"),
            },
            text: text.into(),
        })
        .collect();
    Trace { version: 1, events }
}

fn check(rows: &[(u64, &str, &str, &str)]) -> Vec<Violation> {
    check_trace(&trace(rows), &Scenario::new("hand-made"))
}

fn names(violations: &[Violation]) -> Vec<&'static str> {
    violations.iter().map(|v| v.invariant).collect()
}

fn assert_only(violations: &[Violation], invariant: &str) {
    assert!(
        !violations.is_empty() && violations.iter().all(|v| v.invariant == invariant),
        "expected only {invariant}, got {:#?}",
        violations
    );
}

fn assert_clean(violations: &[Violation]) {
    assert!(violations.is_empty(), "{violations:#?}");
}

const OPEN: &str = "open websocket";
/// The server's CONNECT answer in `/`.
const CONNECTED: &str = r#"40{"sid":"s1"}"#;

#[test]
fn counter_monotonic_catches_a_repeated_count_and_names_both_lines() {
    let violations = check(&[
        (0, "alice#1", "sess", OPEN),
        (5, "alice#1", "recv", r#"42["get count",0]"#),
        (9, "alice#1", "recv", r#"42["get count",1]"#),
        (12, "alice#1", "recv", r#"42["get count",1]"#),
    ]);
    assert_eq!(
        names(&violations),
        [counter::MONOTONIC, counter::NO_LOST_INCREMENT]
    );
    let witnesses: Vec<String> = violations[0]
        .witnesses
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        witnesses,
        [
            r#"       9ms  alice#1   recv  42["get count",1]"#,
            r#"      12ms  alice#1   recv  42["get count",1]"#
        ]
    );
    // The count also went past the increments anyone sent: none.
    assert!(violations[1].summary.contains("only 0 increments"));
}

#[test]
fn counter_lost_increment_is_two_acks_with_one_value() {
    let violations = check(&[
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (5, "alice#1", "send", r#"420["increase count"]"#),
        (5, "bob#1", "send", r#"420["increase count"]"#),
        (9, "alice#1", "recv", r#"430[1]"#),
        (9, "bob#1", "recv", r#"430[1]"#),
    ]);
    assert_only(&violations, counter::NO_LOST_INCREMENT);
    assert_eq!(violations[0].witnesses.len(), 4);

    assert_clean(&check(&[
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (5, "alice#1", "send", r#"420["increase count"]"#),
        (5, "bob#1", "send", r#"420["increase count"]"#),
        (9, "alice#1", "recv", r#"42["get count",1]"#),
        (9, "alice#1", "recv", r#"430[1]"#),
        (9, "bob#1", "recv", r#"42["get count",1]"#),
        (10, "bob#1", "recv", r#"42["get count",2]"#),
        (10, "bob#1", "recv", r#"430[2]"#),
        (11, "alice#1", "recv", r#"42["get count",2]"#),
    ]));
}

#[test]
fn counter_final_count_below_the_acked_increments_is_a_lost_increment() {
    let violations = check(&[
        (0, "alice#1", "sess", OPEN),
        (5, "alice#1", "send", r#"420["increase count"]"#),
        (6, "alice#1", "send", r#"421["increase count"]"#),
        (9, "alice#1", "recv", r#"430[1]"#),
        (9, "alice#1", "recv", r#"431[0]"#),
    ]);
    assert_eq!(names(&violations), [counter::NO_LOST_INCREMENT]);
    assert!(violations[0].summary.contains("2 increments were acked"));
}

#[test]
fn counter_converges_only_judges_healthy_sockets_that_stayed_long_enough() {
    let stale = [
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (10, "alice#1", "recv", r#"42["get count",0]"#),
        (10, "bob#1", "recv", r#"42["get count",0]"#),
        (20, "bob#1", "send", r#"42["increase count"]"#),
        (30, "bob#1", "recv", r#"42["get count",1]"#),
        (5_000, "alice#1", "sess", "closed: closed by the client"),
        (5_000, "bob#1", "sess", "closed: closed by the client"),
    ];
    assert_only(&check(&stale), counter::CONVERGES);
    // The same, but alice leaves before the window ends: not judged.
    let mut early = stale;
    early[6] = (500, "alice#1", "sess", "closed: closed by the client");
    assert_clean(&check(&early));
    // Opened before the last fault: not judged either.
    let mut faulted = stale.to_vec();
    faulted.insert(2, (5, "sim", "fault", "latency: at most 30 ms"));
    assert_clean(&check(&faulted));
}

#[test]
fn counter_no_gap_is_opt_in_and_names_the_missed_count() {
    let rows = [
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "recv", r#"42["get count",0]"#),
        (2, "alice#1", "send", r#"42["increase count"]"#),
        (2, "alice#1", "send", r#"42["increase count"]"#),
        (2, "alice#1", "send", r#"42["increase count"]"#),
        (5, "bob#1", "recv", r#"42["get count",1]"#),
        (9, "bob#1", "recv", r#"42["get count",3]"#),
    ];
    let scenario = Scenario::new("hand-made");
    let judged = |counter: counter::Counter| {
        let report = Report::new(
            "hand-made".into(),
            0,
            trace(&rows),
            Vec::new(),
            Duration::ZERO,
        );
        invariants::judge(&report, &scenario, &[&counter])
    };
    let violations = judged(counter::Counter::new("get count", "increase count").without_gaps());
    assert_only(&violations, counter::NO_GAP);
    assert!(
        violations[0].summary.contains("it missed 2"),
        "{}",
        violations[0]
    );
    assert_eq!(violations[0].witnesses.len(), 2);
    assert_clean(&judged(counter::Counter::new(
        "get count",
        "increase count",
    )));
}

#[test]
fn chat_fifo_per_sender() {
    let violations = check(&[
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (5, "alice#1", "send", r#"42["chat message","a1"]"#),
        (6, "alice#1", "send", r#"42["chat broadcast","a2"]"#),
        (9, "bob#1", "recv", r#"42["chat broadcast","a2"]"#),
        (10, "bob#1", "recv", r#"42["chat message","a1"]"#),
        (10, "alice#1", "recv", r#"42["chat message","a1"]"#),
    ]);
    assert_only(&violations, chat::FIFO_PER_SENDER);
    assert_eq!(violations[0].witnesses.len(), 4);
}

#[test]
fn chat_total_order_across_sockets() {
    let rows = [
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (0, "carol#1", "sess", OPEN),
        (5, "alice#1", "send", r#"42["chat message","a"]"#),
        (5, "bob#1", "send", r#"42["chat message","b"]"#),
        (9, "alice#1", "recv", r#"42["chat message","a"]"#),
        (9, "alice#1", "recv", r#"42["chat message","b"]"#),
        (9, "bob#1", "recv", r#"42["chat message","a"]"#),
        (9, "bob#1", "recv", r#"42["chat message","b"]"#),
        (9, "carol#1", "recv", r#"42["chat message","b"]"#),
        (9, "carol#1", "recv", r#"42["chat message","a"]"#),
    ];
    assert_only(&check(&rows), chat::TOTAL_ORDER);
    let mut agreed = rows;
    agreed.swap(9, 10);
    assert_clean(&check(&agreed));
}

#[test]
fn chat_echo_must_precede_the_ack_and_broadcast_skips_the_sender() {
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (5, "alice#1", "send", r#"420["chat message","hi"]"#),
            (9, "alice#1", "recv", r#"430[{"ok":true}]"#),
            (9, "alice#1", "recv", r#"42["chat message","hi"]"#),
        ]),
        chat::ECHO_BEFORE_ACK,
    );
    assert_clean(&check(&[
        (0, "alice#1", "sess", OPEN),
        (5, "alice#1", "send", r#"420["chat message","hi"]"#),
        (9, "alice#1", "recv", r#"42["chat message","hi"]"#),
        (9, "alice#1", "recv", r#"430[{"ok":true}]"#),
    ]));
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (5, "alice#1", "send", r#"42["chat broadcast","psst"]"#),
            (9, "alice#1", "recv", r#"42["chat broadcast","psst"]"#),
        ]),
        chat::BROADCAST_SKIPS_SENDER,
    );
}

#[test]
fn delivery_at_most_once_and_no_phantoms() {
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (0, "bob#1", "sess", OPEN),
            (5, "alice#1", "send", r#"42["chat broadcast","x"]"#),
            (9, "bob#1", "recv", r#"42["chat broadcast","x"]"#),
            (9, "bob#1", "recv", r#"42["chat broadcast","x"]"#),
        ]),
        delivery::AT_MOST_ONCE,
    );
    assert_only(
        &check(&[
            (0, "bob#1", "sess", OPEN),
            (
                9,
                "bob#1",
                "recv",
                r#"42["chat broadcast","nobody said this"]"#,
            ),
        ]),
        delivery::AT_MOST_ONCE,
    );
}

#[test]
fn delivery_nothing_after_the_server_logged_a_disconnect() {
    let violations = check(&[
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (5, "bob#1", "send", "41"),
        (
            6,
            "server",
            "log",
            "INFO app: disconnect sid=bob#1 reason=ClientNSDisconnect",
        ),
        (7, "alice#1", "send", r#"42["chat broadcast","late"]"#),
        (9, "bob#1", "recv", r#"42["chat broadcast","late"]"#),
    ]);
    assert_only(&violations, delivery::NOTHING_AFTER_DISCONNECT);
    assert_eq!(violations[0].witnesses.len(), 3);
}

#[test]
fn delivery_room_leaks_before_joining_and_after_leaving() {
    let post = r#"42["room message",{"msg":"m","room":"lobby"}]"#;
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (0, "bob#1", "sess", OPEN),
            (5, "alice#1", "send", post),
            (9, "bob#1", "recv", post),
        ]),
        delivery::NO_ROOM_LEAK,
    );
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "send", r#"420["join","lobby"]"#),
            (2, "bob#1", "recv", r#"430[{"ok":true}]"#),
            (3, "bob#1", "send", r#"421["leave","lobby"]"#),
            (4, "bob#1", "recv", r#"431[{"ok":true}]"#),
            (5, "alice#1", "send", post),
            (9, "bob#1", "recv", post),
        ]),
        delivery::NO_ROOM_LEAK,
    );
    // Between the join and the leave's ack, delivery is fine.
    assert_clean(&check(&[
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (0, "alice#1", "send", r#"42["join","lobby"]"#),
        (1, "bob#1", "send", r#"420["join","lobby"]"#),
        (5, "alice#1", "send", post),
        (6, "bob#1", "send", r#"421["leave","lobby"]"#),
        (9, "bob#1", "recv", post),
        (9, "bob#1", "recv", r#"430[{"ok":true}]"#),
        (10, "bob#1", "recv", r#"431[{"ok":true}]"#),
    ]));
}

#[test]
fn delivery_a_refused_post_after_an_acked_join() {
    assert_only(
        &check(&[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "send", r#"420["join","lobby"]"#),
            (2, "bob#1", "recv", r#"430[{"ok":true}]"#),
            (
                3,
                "bob#1",
                "send",
                r#"421["room message",{"msg":"m","room":"lobby"}]"#,
            ),
            (
                4,
                "bob#1",
                "recv",
                r#"431[{"error":"not a member of room \"lobby\""}]"#,
            ),
        ]),
        delivery::JOIN_ACK_MEANS_MEMBER,
    );
}

#[test]
fn delivery_acks_exactly_once() {
    assert_only(
        &check(&[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "send", r#"420["increase count"]"#),
            (2, "bob#1", "recv", r#"430[1]"#),
            (3, "bob#1", "recv", r#"430[1]"#),
        ]),
        delivery::ACK_EXACTLY_ONCE,
    );
    assert_only(
        &check(&[
            (0, "bob#1", "sess", OPEN),
            (2, "bob#1", "recv", r#"437[1]"#),
        ]),
        delivery::ACK_EXACTLY_ONCE,
    );
    // A healthy session that waited long enough never got its ack.
    let missing = [
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "send", r#"420["chat broadcast","x"]"#),
        (4_000, "bob#1", "sess", "closed: closed by the client"),
    ];
    assert_only(&check(&missing), delivery::ACK_EXACTLY_ONCE);
    let mut short = missing;
    short[2].0 = 2_000;
    assert_clean(&check(&short));
}

#[test]
fn delivery_only_in_joined_namespaces() {
    let scenario = Scenario::new("hand-made");
    let judged = |rows: &[(u64, &str, &str, &str)]| check_trace(&raw_trace(rows), &scenario);
    // Before the CONNECT answer, in a namespace never joined, and after the
    // server's own DISCONNECT of the namespace.
    for rows in [
        &[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "recv", r#"42["auth",{}]"#),
            (2, "bob#1", "recv", CONNECTED),
        ][..],
        &[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "recv", CONNECTED),
            (2, "bob#1", "recv", r#"42/custom,["auth",{}]"#),
        ],
        &[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "recv", CONNECTED),
            (2, "bob#1", "recv", "41"),
            (3, "bob#1", "recv", r#"42["auth",{}]"#),
        ],
    ] {
        assert_only(&judged(rows), delivery::JOINED_NAMESPACES_ONLY);
    }
    // Messages in flight after the client's own DISCONNECT are fine, and so
    // is everything after a new CONNECT answer.
    assert_clean(&judged(&[
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "recv", CONNECTED),
        (2, "bob#1", "send", r#"42["chat message","x"]"#),
        (3, "bob#1", "send", "41"),
        (4, "bob#1", "recv", r#"42["chat message","x"]"#),
        (5, "bob#1", "send", "40"),
        (6, "bob#1", "recv", r#"40{"sid":"s2"}"#),
        (7, "bob#1", "recv", r#"42["get count",0]"#),
    ]));
}

#[test]
fn disconnect_reasons_must_match_what_happened() {
    let healthy_timeout = [
        (0, "erin#1", "sess", OPEN),
        (
            45_000,
            "server",
            "log",
            "INFO app: disconnect sid=erin#1 reason=HeartbeatTimeout",
        ),
        (45_001, "erin#1", "sess", "closed: closed by the server"),
    ];
    assert_only(&check(&healthy_timeout), disconnect::REASON_MATCHES_FAULT);
    let mut silent = healthy_timeout.to_vec();
    silent.insert(1, (10, "erin#1", "sess", "stops answering pings"));
    assert_clean(&check(&silent));
    // A partition of erin's link explains the timeout too.
    let partitioned = Scenario::new("partitioned").fault(
        1_000,
        Fault::Partition {
            client: "erin".into(),
            direction: Direction::Both,
        },
    );
    assert!(check_trace(&trace(&healthy_timeout), &partitioned).is_empty());
    // A client-side leave the client never sent.
    assert_only(
        &check(&[
            (0, "alice#1", "sess", OPEN),
            (
                6,
                "server",
                "log",
                "INFO app: disconnect sid=alice#1 reason=ClientNSDisconnect",
            ),
        ]),
        disconnect::REASON_MATCHES_FAULT,
    );
}

#[test]
fn delivery_at_most_once_over_an_event_the_server_emits_once() {
    let rows = [
        (0, "bob#1", "sess", OPEN),
        (5, "bob#1", "recv", r#"42["get count",3]"#),
        (9, "bob#1", "recv", r#"42["get count",3]"#),
    ];
    let once = delivery::Delivery::new(Relays::new().once("get count"));
    let scenario = Scenario::new("hand-made");
    let judged = |checker: &dyn Invariant| {
        let report = Report::new(
            "hand-made".into(),
            0,
            trace(&rows),
            Vec::new(),
            Duration::ZERO,
        );
        invariants::judge(&report, &scenario, &[checker])
    };
    let violations = judged(&once);
    assert_only(&violations, delivery::AT_MOST_ONCE);
    assert_eq!(violations[0].witnesses.len(), 2, "both copies");
    // Not configured, a server event is not the delivery checker's business.
    assert_clean(&judged(&delivery::Delivery::new(Relays::new())));
}

#[test]
fn delivery_a_non_members_post_relayed_is_a_room_leak() {
    let post = r#"42["room message",{"msg":"m","room":"lobby"}]"#;
    let rows = [
        (0, "alice#1", "sess", OPEN),
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "send", r#"420["join","lobby"]"#),
        (2, "bob#1", "recv", r#"430[{"ok":true}]"#),
        (5, "alice#1", "send", post),
        (9, "bob#1", "recv", post),
    ];
    let violations = check(&rows);
    assert_only(&violations, delivery::NO_ROOM_LEAK);
    assert!(
        violations[0]
            .summary
            .contains("by alice#1, who was not a member"),
        "{}",
        violations[0]
    );
    // Once alice asked to join before posting, the relay is fine.
    let mut joined = rows.to_vec();
    joined.insert(2, (1, "alice#1", "send", r#"420["join","lobby"]"#));
    assert_clean(&check(&joined));
}

#[test]
fn expected_reason_names_the_reason_and_the_ending() {
    let rows = [
        (0, "alice#1", "sess", OPEN),
        (
            45_000,
            "server",
            "log",
            r#"INFO app: disconnect sid=alice#1 reason="transport close""#,
        ),
        (45_001, "alice#1", "sess", "closed: closed by the server"),
    ];
    let scenario = Scenario::new("hand-made");
    let judged = |reasons: &[&'static str], endings: &[disconnect::Ending]| {
        let expected = disconnect::ExpectedReason::new("alice#1", reasons, endings);
        let report = Report::new(
            "hand-made".into(),
            0,
            trace(&rows),
            Vec::new(),
            Duration::ZERO,
        );
        invariants::judge(&report, &scenario, &[&expected])
    };
    let by_server = [disconnect::Ending::ByServer];
    assert_clean(&judged(&["transport close"], &by_server));
    let wrong_reason = judged(&["ping timeout"], &by_server);
    assert_only(&wrong_reason, disconnect::EXPECTED_REASON);
    assert!(
        wrong_reason[0]
            .summary
            .contains(r#"reason "transport close", not ping timeout"#),
        "{}",
        wrong_reason[0]
    );
    let wrong_ending = judged(&["transport close"], &[disconnect::Ending::Lost]);
    assert_only(&wrong_ending, disconnect::EXPECTED_REASON);
    assert_eq!(
        wrong_ending[0].witnesses.len(),
        2,
        "the log line and the close"
    );
}

#[test]
fn a_bad_line_is_a_protocol_violation() {
    assert_only(
        &check(&[(3, "alice#1", "BAD", "unknown packet type '9'")]),
        invariants::PROTOCOL,
    );
}

#[test]
fn every_invariant_is_listed_once() {
    let mut listed = invariants::INVARIANTS.to_vec();
    listed.sort_unstable();
    listed.dedup();
    assert_eq!(listed.len(), invariants::INVARIANTS.len());
}

#[test]
fn echo_replies_once_to_the_sender_and_always() {
    let echo = siosim_harness::invariants::echo::Echo::new("message", "message-back");
    let scenario = Scenario::new("hand-made");
    let judged = |rows: &[(u64, &str, &str, &str)]| {
        let trace = trace(rows);
        let names: Vec<&str> = echo
            .check(&invariants::History::new(&trace, &scenario))
            .iter()
            .map(|v| v.invariant)
            .collect();
        names
    };
    let (send, back) = (r#"42["message","m"]"#, r#"42["message-back","m"]"#);
    assert!(
        judged(&[
            (0, "bob#1", "sess", OPEN),
            (1, "bob#1", "send", send),
            (2, "bob#1", "recv", back)
        ])
        .is_empty()
    );
    // Twice; to another session; never.
    let twice = [
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "send", send),
        (2, "bob#1", "recv", back),
        (3, "bob#1", "recv", back),
    ];
    assert_eq!(judged(&twice), ["echo.once-to-the-sender"]);
    let elsewhere = [
        (0, "bob#1", "sess", OPEN),
        (0, "amy#1", "sess", OPEN),
        (1, "bob#1", "send", send),
        (2, "amy#1", "recv", back),
        (2, "bob#1", "recv", back),
    ];
    assert_eq!(judged(&elsewhere), ["echo.once-to-the-sender"]);
    let never = [
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "send", send),
        (4_000, "bob#1", "sess", "closed: closed by the client"),
    ];
    assert_eq!(judged(&never), ["echo.arrives"]);
    let acked = siosim_harness::invariants::echo::Echo::new("message", "message-back")
        .acked("message-with-ack");
    let wrong_ack = trace(&[
        (0, "bob#1", "sess", OPEN),
        (1, "bob#1", "send", r#"420["message-with-ack","mine"]"#),
        (2, "bob#1", "recv", r#"430["theirs"]"#),
    ]);
    let found = acked.check(&invariants::History::new(&wrong_ack, &scenario));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].invariant, "echo.ack-echoes");
}
