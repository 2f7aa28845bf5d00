//! The `socketio::*` family: its verdicts against the reference server in
//! simulation (known divergences included, with their bytes), and tiny
//! broken socketioxide servers that the cases must catch.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::json;
use siosim_conformance::{CaseReport, RunOptions, SimServer, SuiteReport, Target, Verdict};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, SocketRef};

/// Long enough for the reference server's 45 s connect timeout; simulated
/// time costs nothing.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Every `socketio::*` case and its verdict against the reference server.
const REFERENCE_VERDICTS: [(&str, Verdict); 41] = [
    ("socketio::connect::main::answers_with_sid", Verdict::Passed),
    ("socketio::connect::main::emits_auth", Verdict::Passed),
    (
        "socketio::connect::main::emits_auth_with_payload",
        Verdict::Passed,
    ),
    (
        "socketio::connect::custom::answers_with_sid_and_auth",
        Verdict::Passed,
    ),
    (
        "socketio::connect::custom::emits_auth_with_payload",
        Verdict::Passed,
    ),
    // socketioxide reuses the Engine.IO sid as every socket's id.
    (
        "socketio::connect::socket_id::differs_from_engineio_sid",
        Verdict::NonStrict,
    ),
    (
        "socketio::connect::unknown_namespace::refused_with_connect_error",
        Verdict::Passed,
    ),
    (
        "socketio::connect::unknown_namespace::error_payload_is_an_object",
        Verdict::Passed,
    ),
    (
        "socketio::connect::unknown_namespace::says_invalid_namespace",
        Verdict::Passed,
    ),
    (
        "socketio::connect::unknown_namespace::session_stays_usable",
        Verdict::Passed,
    ),
    (
        "socketio::connect::invalid_handshake::closes_the_connection",
        Verdict::Passed,
    ),
    (
        "socketio::connect::event_before_connect::closes_the_connection",
        Verdict::Passed,
    ),
    // socketioxide accepts any CONNECT payload (payload shapes not validated).
    (
        "socketio::connect::invalid_payload::refused",
        Verdict::NonStrict,
    ),
    (
        "socketio::connect::no_handshake::closes_after_the_connect_timeout",
        Verdict::Passed,
    ),
    (
        "socketio::disconnect::main::keeps_the_engineio_session",
        Verdict::Passed,
    ),
    (
        "socketio::disconnect::main::rejoin_on_the_same_session",
        Verdict::Passed,
    ),
    (
        "socketio::disconnect::custom::main_keeps_working",
        Verdict::Passed,
    ),
    ("socketio::message::plain::echoed", Verdict::Passed),
    ("socketio::message::binary::echoed", Verdict::Passed),
    ("socketio::message::ack::plain_answered", Verdict::Passed),
    ("socketio::message::ack::binary_answered", Verdict::Passed),
    (
        "socketio::message::invalid::unknown_packet_type_closes",
        Verdict::Passed,
    ),
    (
        "socketio::message::invalid::payload_not_an_array_closes",
        Verdict::Passed,
    ),
    (
        "socketio::message::invalid::ack_id_not_a_number_closes",
        Verdict::Passed,
    ),
    ("socketio::message::ack::no_handler", Verdict::Informational),
    ("socketio::message::ack::id_zero_answered", Verdict::Passed),
    (
        "socketio::message::ack::no_arguments_answered_with_an_empty_array",
        Verdict::Passed,
    ),
    (
        "socketio::message::ack::unknown_id_ignored",
        Verdict::Passed,
    ),
    // socketioxide cannot read an event name holding a JSON escape
    // (harness/tests/it/codec_crosscheck.rs pins it) and drops the client.
    (
        "socketio::message::event_name::json_escapes_accepted",
        Verdict::Failed,
    ),
    // socketioxide dispatches `connect` / `disconnect` like any event.
    (
        "socketio::message::event_name::reserved_names_refused",
        Verdict::NonStrict,
    ),
    (
        "socketio::namespace::multiplexing::two_namespaces_one_session",
        Verdict::Passed,
    ),
    (
        "socketio::namespace::unjoined::events_not_handled",
        Verdict::Passed,
    ),
    (
        "socketio::polling::connect::answers_with_sid",
        Verdict::Passed,
    ),
    (
        "socketio::polling::connect::emits_auth_with_payload",
        Verdict::Passed,
    ),
    ("socketio::polling::message::plain_echoed", Verdict::Passed),
    ("socketio::polling::message::binary_echoed", Verdict::Passed),
    (
        "socketio::polling::message::record_separator_escaped",
        Verdict::Passed,
    ),
    (
        "socketio::polling::message::batched_events_echoed_in_order",
        Verdict::Passed,
    ),
    (
        "socketio::polling::message::invalid_payload_closes",
        Verdict::Passed,
    ),
    ("socketio::polling::ack::plain_answered", Verdict::Passed),
    ("socketio::polling::ack::binary_answered", Verdict::Passed),
];

fn run(server: SimServer, patterns: &[&str]) -> SuiteReport {
    let options = RunOptions {
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        timeout: TIMEOUT,
        jobs: 2,
        // As `siosim check` declares it in simulation: the reference
        // server's own setting (every server these tests build keeps it).
        connect_timeout: Some(Duration::from_millis(
            siosim_server::Config::default().connect_timeout_ms,
        )),
        ..RunOptions::default()
    };
    let target = Target::Sim { seed: 7, server };
    siosim_conformance::runner::run(&siosim_conformance::cases::all(), &target, &options, |_| {})
        .expect("a simulated target always runs")
}

fn reference() -> SimServer {
    let config = siosim_server::Config::default();
    SimServer {
        name: "reference".into(),
        path: config.socketio_path.clone(),
        app: Arc::new(move || siosim_server::app(&config)),
        cluster: None,
    }
}

fn case<'a>(report: &'a SuiteReport, name: &str) -> &'a CaseReport {
    report
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} did not run"))
}

/// Asserts `name`'s verdict and that its reason mentions each of `words`.
fn assert_case(report: &SuiteReport, name: &str, verdict: Verdict, words: &[&str]) {
    let case = case(report, name);
    assert_eq!(case.verdict, verdict, "{name}: {}", case.reason);
    for word in words {
        assert!(
            case.reason.contains(word),
            "{name}: {:?} lacks {word:?}",
            case.reason
        );
    }
}

#[test]
fn reference_server_verdicts_are_as_listed() {
    let report = run(reference(), &["socketio::*"]);
    let ran: Vec<&str> = report.cases.iter().map(|c| c.name).collect();
    let listed: Vec<&str> = REFERENCE_VERDICTS.iter().map(|(name, _)| *name).collect();
    assert_eq!(ran, listed, "the table lists every socketio case, in order");
    for (name, verdict) in REFERENCE_VERDICTS {
        let case = case(&report, name);
        assert_eq!(case.verdict, verdict, "{name}: {}", case.reason);
    }
    // The divergences say what the server did, with its bytes.
    assert_case(
        &report,
        "socketio::message::event_name::json_escapes_accepted",
        Verdict::Failed,
        &[
            r#"42[\"siosim \\\"quoted\\\" back\\\\slash\"]"#,
            "close packet",
        ],
    );
    assert_case(
        &report,
        "socketio::message::event_name::reserved_names_refused",
        Verdict::NonStrict,
        &[
            r#"42[\"connect\"]"#,
            r#"42[\"disconnect\"]"#,
            "44/siosim-barrier,",
        ],
    );
    assert_case(
        &report,
        "socketio::connect::socket_id::differs_from_engineio_sid",
        Verdict::NonStrict,
        &["is the Engine.IO session id"],
    );
    assert_case(
        &report,
        "socketio::connect::invalid_payload::refused",
        Verdict::NonStrict,
        &[r#""40\"a string, not an object\"" was answered by "40{\"sid\":"#],
    );
    // The official suite's greeting order differs: `get count` comes first.
    assert_case(
        &report,
        "socketio::connect::main::emits_auth",
        Verdict::Passed,
        &[r#"42[\"get count\",0]"#],
    );
    // The reference server's connect timeout is 45 s.
    let name = "socketio::connect::no_handshake::closes_after_the_connect_timeout";
    assert_case(&report, name, Verdict::Passed, &[]);
    let closed_after_ms: u64 = case(&report, name)
        .reason
        .strip_prefix("closed ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .expect("the note says when it closed");
    assert!(
        (44_000..46_000).contains(&closed_after_ms),
        "closed after {closed_after_ms} ms"
    );
}

#[test]
fn the_same_seed_gives_the_same_traces() {
    let patterns = [
        "socketio::message::binary::echoed",
        "socketio::polling::ack::binary_answered",
        "socketio::namespace::multiplexing::*",
    ];
    let first = run(reference(), &patterns);
    let second = run(reference(), &patterns);
    for (a, b) in first.cases.iter().zip(&second.cases) {
        assert_eq!(a.verdict, b.verdict, "{}", a.name);
        assert_eq!(a.trace, b.trace, "{}", a.name);
    }
}

/// A socketioxide server at `/socket.io` whose `/` namespace is set up by
/// `on_connect`, and nothing else.
pub(crate) fn tiny_server(name: &str, on_connect: fn(SocketRef)) -> SimServer {
    SimServer {
        name: name.into(),
        path: "/socket.io".into(),
        app: Arc::new(move || {
            let (layer, io) = SocketIo::builder().build_layer();
            io.ns(
                "/",
                move |socket: SocketRef| async move { on_connect(socket) },
            );
            Router::new().layer(layer)
        }),
        cluster: None,
    }
}

#[test]
fn a_server_without_the_echo_handlers_fails_the_echo_cases_only() {
    let server = tiny_server("no-echo", |_| {});
    let report = run(
        server,
        &[
            "socketio::connect::main::*",
            "socketio::connect::custom::answers_with_sid_and_auth",
            "socketio::message::plain::echoed",
            "socketio::polling::ack::plain_answered",
            "socketio::message::invalid::*",
        ],
    );
    assert_case(
        &report,
        "socketio::connect::main::answers_with_sid",
        Verdict::Passed,
        &[],
    );
    assert_case(
        &report,
        "socketio::connect::main::emits_auth",
        Verdict::Failed,
        &["no \"auth\" event on /"],
    );
    assert_case(
        &report,
        "socketio::connect::custom::answers_with_sid_and_auth",
        Verdict::Failed,
        &["\"40/custom,\" was answered by \"44/custom,"],
    );
    assert_case(
        &report,
        "socketio::message::plain::echoed",
        Verdict::Failed,
        &["no \"auth\" event on /"],
    );
    assert_case(
        &report,
        "socketio::polling::ack::plain_answered",
        Verdict::Failed,
        &["no \"auth\" event"],
    );
    for name in [
        "socketio::message::invalid::unknown_packet_type_closes",
        "socketio::message::invalid::payload_not_an_array_closes",
        "socketio::message::invalid::ack_id_not_a_number_closes",
    ] {
        assert_case(&report, name, Verdict::Passed, &[]);
    }
}

#[test]
fn a_server_that_echoes_the_wrong_arguments_is_caught_with_its_bytes() {
    let server = tiny_server("wrong-echo", |socket| {
        let _ = socket.emit("auth", &json!({}));
        socket.on("message", async |socket: SocketRef| {
            let _ = socket.emit("message-back", &"not what was sent");
        });
        socket.on("message-with-ack", async |ack: AckSender| {
            let _ = ack.send(&json!({"wrong": true}));
        });
    });
    let report = run(
        server,
        &[
            "socketio::message::plain::echoed",
            "socketio::message::ack::plain_answered",
            "socketio::polling::ack::plain_answered",
            "socketio::disconnect::custom::main_keeps_working",
        ],
    );
    assert_case(
        &report,
        "socketio::message::plain::echoed",
        Verdict::Failed,
        &[
            r#"expected "42[\"message-back\",1,\"2\",{\"3\":[true]}]""#,
            r#"got "42[\"message-back\",\"not what was sent\"]""#,
        ],
    );
    assert_case(
        &report,
        "socketio::message::ack::plain_answered",
        Verdict::Failed,
        &[
            r#"expected "43456[1,\"2\",{\"3\":[false]}]""#,
            r#"got "43456[{\"wrong\":true}]""#,
        ],
    );
    assert_case(
        &report,
        "socketio::polling::ack::plain_answered",
        Verdict::Failed,
        &[r#"got "43456[{\"wrong\":true}]""#],
    );
    // No `/custom` namespace at all.
    assert_case(
        &report,
        "socketio::disconnect::custom::main_keeps_working",
        Verdict::Failed,
        &["\"40/custom\" was answered by \"44/custom,"],
    );
}
