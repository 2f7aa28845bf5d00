//! The `faults::*` family: its verdicts against the reference server on
//! several seeds, the breakages it catches in deliberately broken servers
//! (with the trace lines that witness them), and NOT APPLICABLE over TCP.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use siosim_conformance::runner::{self, RunOptions, SuiteReport};
use siosim_conformance::{CaseReport, SimServer, Target, Verdict, cases};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::socket::DisconnectReason;
use tracing::info;

/// Every `faults::*` case and its verdict against the reference server.
const REFERENCE_VERDICTS: &[(&str, Verdict)] = &[
    (
        "faults::ordering::counter_values_increase_under_latency_and_holds",
        Verdict::Passed,
    ),
    (
        "faults::ordering::chat_in_send_order_under_latency_and_holds",
        Verdict::Passed,
    ),
    (
        "faults::at_most_once::no_event_twice_per_socket",
        Verdict::Passed,
    ),
    (
        "faults::after_disconnect::nothing_after_client_namespace_disconnect",
        Verdict::Passed,
    ),
    (
        "faults::after_disconnect::nothing_after_ping_timeout",
        Verdict::Passed,
    ),
    (
        "faults::rooms::messages_reach_members_only_under_latency",
        Verdict::Passed,
    ),
    (
        "faults::convergence::partitioned_client_reconnects_to_the_final_count",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::client_namespace_disconnect",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::engine_close_is_transport_close",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::dropped_transport",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::silent_client_is_ping_timeout",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::partition_is_ping_timeout",
        Verdict::Passed,
    ),
    (
        "faults::disconnect_reason::malformed_packet_is_parse_error",
        Verdict::Passed,
    ),
];

fn reference() -> SimServer {
    let config = siosim_server::Config::default();
    SimServer {
        name: "reference".into(),
        path: config.socketio_path.clone(),
        app: Arc::new(move || siosim_server::app(&config)),
        cluster: None,
    }
}

fn options(pattern: &str) -> RunOptions {
    RunOptions {
        patterns: vec![pattern.into()],
        timeout: Duration::from_secs(10),
        jobs: 2,
        ..RunOptions::default()
    }
}

fn run_sim(server: SimServer, seed: u64, pattern: &str) -> SuiteReport {
    let target = Target::Sim { seed, server };
    runner::run(&cases::all(), &target, &options(pattern), |_| {}).expect("a simulated target")
}

fn case<'r>(suite: &'r SuiteReport, name: &str) -> &'r CaseReport {
    suite
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} did not run"))
}

#[test]
fn reference_server_verdicts_on_seeds_1_to_5() {
    for seed in 1..=5 {
        let suite = run_sim(reference(), seed, "faults::*");
        let names: Vec<&str> = suite.cases.iter().map(|c| c.name).collect();
        let expected: Vec<&str> = REFERENCE_VERDICTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected, "the family's cases, in order");
        for (name, verdict) in REFERENCE_VERDICTS {
            let report = case(&suite, name);
            assert_eq!(
                report.verdict, *verdict,
                "seed {seed}: {name}: {}\n{}",
                report.reason, report.trace
            );
        }
    }
}

#[test]
fn same_seed_same_verdicts_and_traces() {
    let first = run_sim(reference(), 7, "faults::ordering::*");
    let second = run_sim(reference(), 7, "faults::ordering::*");
    for (a, b) in first.cases.iter().zip(&second.cases) {
        assert_eq!((a.verdict, &a.reason), (b.verdict, &b.reason), "{}", a.name);
        assert!(a.trace == b.trace, "{}: the traces differ", a.name);
        assert!(
            a.trace.events.len() > 100,
            "{}: the scenario's trace is in the case's",
            a.name
        );
    }
}

#[test]
fn not_applicable_over_tcp() {
    // No server needs to be there: the cases never reach the network.
    let target = Target::Url {
        url: "http://127.0.0.1:9".into(),
        path: "/socket.io".into(),
    };
    let suite = runner::run(&cases::all(), &target, &options("faults::*"), |_| {})
        .expect("the address resolves");
    assert_eq!(suite.cases.len(), REFERENCE_VERDICTS.len());
    for report in &suite.cases {
        assert_eq!(
            report.verdict,
            Verdict::NotApplicable,
            "{}: {}",
            report.name,
            report.reason
        );
        assert!(
            report.reason.contains("simulated network"),
            "{}: {}",
            report.name,
            report.reason
        );
    }
}

#[test]
fn catches_a_server_that_relays_each_chat_message_twice() {
    let suite = run_sim(buggy(Bug::RelaysTwice), 1, "faults::at_most_once::*");
    let report = case(&suite, "faults::at_most_once::no_event_twice_per_socket");
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "invariant delivery.at-most-once violated");
    assert!(
        report.reason.contains(r#"recv 42["chat message","#),
        "{}",
        report.reason
    );
}

#[test]
fn catches_a_server_that_pushes_each_count_twice() {
    let suite = run_sim(buggy(Bug::PushesCountsTwice), 1, "faults::at_most_once::*");
    let report = case(&suite, "faults::at_most_once::no_event_twice_per_socket");
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "invariant delivery.at-most-once violated");
    assert!(
        report.reason.contains(r#"recv 42["get count","#),
        "{}",
        report.reason
    );
}

#[test]
fn catches_a_server_that_relays_late_out_of_order() {
    let suite = run_sim(buggy(Bug::RelaysOddOnesLate), 1, "faults::ordering::*");
    let counter = case(
        &suite,
        "faults::ordering::counter_values_increase_under_latency_and_holds",
    );
    assert_eq!(counter.verdict, Verdict::Failed, "{}", counter.reason);
    assert_cites_trace(counter, "invariant counter.monotonic violated");
    assert!(
        counter.reason.contains(r#"recv 42["get count","#),
        "{}",
        counter.reason
    );
    let chat = case(
        &suite,
        "faults::ordering::chat_in_send_order_under_latency_and_holds",
    );
    assert_eq!(chat.verdict, Verdict::Failed, "{}", chat.reason);
    assert_cites_trace(chat, "invariant chat.fifo-per-sender violated");
}

#[test]
fn catches_a_server_that_relays_room_messages_to_everyone() {
    let suite = run_sim(buggy(Bug::IgnoresRooms), 1, "faults::rooms::*");
    let report = case(
        &suite,
        "faults::rooms::messages_reach_members_only_under_latency",
    );
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "invariant delivery.no-room-leak violated");
    assert!(
        report.reason.contains(r#"recv 42["room message","#),
        "{}",
        report.reason
    );
}

#[test]
fn catches_a_server_that_relays_a_non_members_post() {
    let suite = run_sim(buggy(Bug::RelaysNonMembersPosts), 1, "faults::rooms::*");
    let report = case(
        &suite,
        "faults::rooms::messages_reach_members_only_under_latency",
    );
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "by carol#1, who was not a member");
    assert!(
        report.reason.contains("carol sneaks in"),
        "{}",
        report.reason
    );
}

#[test]
fn catches_a_server_that_greets_newcomers_with_a_stale_count() {
    let suite = run_sim(buggy(Bug::GreetsWithZero), 1, "faults::convergence::*");
    let report = case(
        &suite,
        "faults::convergence::partitioned_client_reconnects_to_the_final_count",
    );
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "invariant counter.converges violated");
    assert!(
        report.reason.contains("instead of the final count 6"),
        "{}",
        report.reason
    );
}

#[test]
fn catches_a_server_that_skips_a_count() {
    let suite = run_sim(buggy(Bug::SkipsCountThree), 1, "faults::convergence::*");
    let report = case(
        &suite,
        "faults::convergence::partitioned_client_reconnects_to_the_final_count",
    );
    assert_eq!(report.verdict, Verdict::Failed, "{}", report.reason);
    assert_cites_trace(report, "invariant counter.no-gap violated");
    assert!(report.reason.contains("it missed 3"), "{}", report.reason);
}

#[test]
fn flags_a_server_whose_logged_reasons_do_not_match_the_fault() {
    let suite = run_sim(
        buggy(Bug::LogsEveryDisconnectAsTransportClose),
        1,
        "faults::disconnect_reason::*",
    );
    let verdicts: Vec<(&str, Verdict)> = suite.cases.iter().map(|c| (c.name, c.verdict)).collect();
    assert_eq!(
        verdicts,
        vec![
            (
                "faults::disconnect_reason::client_namespace_disconnect",
                Verdict::NonStrict
            ),
            (
                "faults::disconnect_reason::engine_close_is_transport_close",
                Verdict::Passed
            ),
            (
                "faults::disconnect_reason::dropped_transport",
                Verdict::Passed
            ),
            (
                "faults::disconnect_reason::silent_client_is_ping_timeout",
                Verdict::NonStrict
            ),
            (
                "faults::disconnect_reason::partition_is_ping_timeout",
                Verdict::NonStrict
            ),
            (
                "faults::disconnect_reason::malformed_packet_is_parse_error",
                Verdict::NonStrict
            ),
        ]
    );
    let silent = case(
        &suite,
        "faults::disconnect_reason::silent_client_is_ping_timeout",
    );
    assert!(
        silent
            .reason
            .contains(r#"invariant disconnect.expected-reason violated: the server gave alice#1's disconnect reason "transport close", not ping timeout"#)
            && silent.reason.contains("reason=TransportClose]"),
        "{}",
        silent.reason
    );
}

/// The reason says `what` and quotes, as `[<line>]`, a line of the case's
/// trace where a client received something.
fn assert_cites_trace(report: &CaseReport, what: &str) {
    assert!(report.reason.contains(what), "{}", report.reason);
    let cited = report
        .trace
        .to_string()
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .any(|line| line.contains(" recv ") && report.reason.contains(&format!("[{line}]")));
    assert!(cited, "no received trace line cited: {}", report.reason);
}

// ---------------------------------------------------------------------------
// Broken servers: the seed app's events on plain socketioxide handlers, each
// with one delivery bug.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bug {
    /// Every `chat message` goes out twice.
    RelaysTwice,
    /// Odd counts and odd-numbered chat messages (`"alice 1"`) are relayed
    /// from a task that first waits 30 ms: the next one overtakes them.
    RelaysOddOnesLate,
    /// `room message` goes to every socket, members or not.
    IgnoresRooms,
    /// `room message` from a non-member is relayed to the room's members.
    RelaysNonMembersPosts,
    /// A new socket is told the count is 0, whatever it is.
    GreetsWithZero,
    /// Every new count goes out twice.
    PushesCountsTwice,
    /// Count 3 is acked but pushed to nobody.
    SkipsCountThree,
    /// Every disconnect is logged with the reason `TransportClose`.
    LogsEveryDisconnectAsTransportClose,
}

const LATE_MS: u64 = 30;

pub(crate) fn buggy(bug: Bug) -> SimServer {
    SimServer {
        name: format!("{bug:?}"),
        app: Arc::new(move || buggy_app(bug)),
        path: "/socket.io".into(),
        cluster: None,
    }
}

fn buggy_app(bug: Bug) -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    let count = Arc::new(Mutex::new(0u64));
    io.ns("/", move |socket: SocketRef, io: SocketIo| {
        let count = count.clone();
        async move { on_connect(&socket, &io, &count, bug) }
    });
    axum::Router::new().layer(layer)
}

fn on_connect(socket: &SocketRef, io: &SocketIo, count: &Arc<Mutex<u64>>, bug: Bug) {
    let now = match bug {
        Bug::GreetsWithZero => 0,
        _ => *count.lock().unwrap_or_else(PoisonError::into_inner),
    };
    socket.emit("get count", &now).ok();
    info!(sid = %socket.id, "connect");
    socket.on_disconnect(
        move |socket: SocketRef, reason: DisconnectReason| async move {
            let reason = match bug {
                Bug::LogsEveryDisconnectAsTransportClose => DisconnectReason::TransportClose,
                _ => reason,
            };
            info!(sid = %socket.id, reason = ?reason, "disconnect");
        },
    );
    let (io, count) = (io.clone(), count.clone());
    let counting_io = io.clone();
    socket.on("increase count", move |ack: AckSender| {
        let (io, count) = (counting_io.clone(), count.clone());
        async move {
            let value = {
                let mut count = count.lock().unwrap_or_else(PoisonError::into_inner);
                *count += 1;
                *count
            };
            if bug == Bug::PushesCountsTwice {
                relay(&io, "get count", json!(value), false);
            }
            if !(bug == Bug::SkipsCountThree && value == 3) {
                relay(
                    &io,
                    "get count",
                    json!(value),
                    bug == Bug::RelaysOddOnesLate && value % 2 == 1,
                );
            }
            ack.send(&value).ok();
        }
    });
    let chat_io = io.clone();
    socket.on(
        "chat message",
        move |Data::<String>(text), ack: AckSender| {
            let io = chat_io.clone();
            async move {
                let late = bug == Bug::RelaysOddOnesLate && is_odd_numbered(&text);
                relay(&io, "chat message", json!(text), late);
                if bug == Bug::RelaysTwice {
                    relay(&io, "chat message", json!(text), false);
                }
                ack.send(&json!({"ok": true})).ok();
            }
        },
    );
    socket.on(
        "join",
        async |socket: SocketRef, Data::<String>(room), ack: AckSender| {
            socket.join(room);
            ack.send(&json!({"ok": true})).ok();
        },
    );
    socket.on(
        "leave",
        async |socket: SocketRef, Data::<String>(room), ack: AckSender| {
            socket.leave(room);
            ack.send(&json!({"ok": true})).ok();
        },
    );
    socket.on(
        "room message",
        move |socket: SocketRef, Data::<Value>(post)| {
            let io = io.clone();
            async move {
                let room = post["room"].as_str().unwrap_or_default().to_owned();
                let member = socket.rooms().iter().any(|joined| *joined == room);
                if !member && bug != Bug::RelaysNonMembersPosts {
                    return;
                }
                let recipients = match bug {
                    Bug::IgnoresRooms => io.sockets(),
                    _ => socket.within(room).sockets(),
                };
                for recipient in recipients {
                    recipient.emit("room message", &post).ok();
                }
            }
        },
    );
}

/// Emits to every socket, now or after [`LATE_MS`].
fn relay(io: &SocketIo, event: &'static str, data: Value, late: bool) {
    let sockets = io.sockets();
    let send = move || {
        for socket in sockets {
            socket.emit(event, &data).ok();
        }
    };
    if late {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(LATE_MS)).await;
            send();
        });
    } else {
        send();
    }
}

fn is_odd_numbered(text: &str) -> bool {
    text.rsplit(' ')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n % 2 == 1)
}
