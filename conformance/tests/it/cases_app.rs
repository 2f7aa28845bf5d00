//! The `app::*` family: its verdicts against the reference server in
//! simulation, and tiny broken servers it must catch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use siosim_conformance::runner::{self, RunOptions};
use siosim_conformance::{SimServer, SuiteReport, Target, Verdict};
use siosim_server::Config;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};

/// Every `app::*` case and its verdict against the reference server.
const EXPECTED: &[(&str, Verdict)] = &[
    (
        "app::counter::get_count::is_the_first_event_on_connect",
        Verdict::Passed,
    ),
    (
        "app::counter::get_count::on_connect_reaches_the_new_socket_only",
        Verdict::Passed,
    ),
    (
        "app::counter::increase_count::acks_the_new_value",
        Verdict::Passed,
    ),
    (
        "app::counter::increase_count::notifies_every_socket",
        Verdict::Passed,
    ),
    (
        "app::counter::increase_count::ignores_arguments",
        Verdict::Passed,
    ),
    (
        "app::chat::message::reaches_every_socket_sender_included",
        Verdict::Passed,
    ),
    ("app::chat::message::refuses_a_non_string", Verdict::Passed),
    (
        "app::chat::broadcast::reaches_every_socket_but_the_sender",
        Verdict::Passed,
    ),
    (
        "app::chat::broadcast::refuses_a_non_string",
        Verdict::Passed,
    ),
    (
        "app::rooms::join::acks_ok_also_when_already_a_member",
        Verdict::Passed,
    ),
    (
        "app::rooms::join::accepts_names_of_1_to_64_characters",
        Verdict::Passed,
    ),
    ("app::rooms::join::refuses_invalid_names", Verdict::Passed),
    (
        "app::rooms::leave::acks_ok_also_when_not_a_member",
        Verdict::Passed,
    ),
    ("app::rooms::leave::refuses_invalid_names", Verdict::Passed),
    ("app::rooms::leave::stops_delivery", Verdict::Passed),
    (
        "app::rooms::message::reaches_members_only_sender_included",
        Verdict::Passed,
    ),
    ("app::rooms::message::refuses_a_non_member", Verdict::Passed),
    (
        "app::rooms::message::refuses_invalid_posts",
        Verdict::Passed,
    ),
    (
        "app::rooms::poll::gathers_each_members_answer_once",
        Verdict::Passed,
    ),
    ("app::rooms::poll::refuses_a_non_member", Verdict::Passed),
    (
        "app::kick::disconnects_the_named_socket_only",
        Verdict::Passed,
    ),
    (
        "app::things::list::is_a_json_array_of_things",
        Verdict::Passed,
    ),
    ("app::things::list::keeps_insertion_order", Verdict::Passed),
    (
        "app::things::create::answers_201_with_the_thing",
        Verdict::Passed,
    ),
    (
        "app::things::create::ignores_unknown_fields",
        Verdict::Passed,
    ),
    (
        "app::things::create::accepts_names_of_200_characters",
        Verdict::Passed,
    ),
    (
        "app::things::create::pushes_thing_create_to_every_socket",
        Verdict::Passed,
    ),
    (
        "app::things::create::refuses_malformed_requests_with_400",
        Verdict::Passed,
    ),
    (
        "app::things::create::refuses_invalid_fields_with_400",
        Verdict::Passed,
    ),
    (
        "app::things::create::refuses_a_duplicate_name_with_409",
        Verdict::Passed,
    ),
    (
        "app::things::create::refuses_a_body_over_16_kib_with_413",
        Verdict::Passed,
    ),
    (
        "app::things::create::accepts_a_body_of_exactly_16_kib",
        Verdict::Passed,
    ),
    (
        "app::things::destroy::answers_204_and_pushes_thing_destroy",
        Verdict::Passed,
    ),
    ("app::things::destroy::unknown_name_is_404", Verdict::Passed),
    (
        "app::things::destroy::takes_a_percent_encoded_name",
        Verdict::Passed,
    ),
    (
        "app::things::destroy::takes_a_percent_encoded_slash",
        Verdict::Passed,
    ),
    (
        "app::ordering::things::pushes_in_change_order",
        Verdict::Passed,
    ),
    (
        "app::ordering::increase_count::get_count_before_the_ack",
        Verdict::Passed,
    ),
    (
        "app::ordering::chat_message::relay_before_the_ack",
        Verdict::Passed,
    ),
    (
        "app::ordering::room_message::relay_before_the_ack",
        Verdict::Passed,
    ),
    ("app::ordering::burst::acks_in_send_order", Verdict::Passed),
    (
        "app::ordering::rooms::join_post_leave_post_in_send_order",
        Verdict::Passed,
    ),
    (
        "app::ordering::counter::values_increase_on_every_socket",
        Verdict::Passed,
    ),
    ("app::transports::websocket::round_trip", Verdict::Passed),
    ("app::transports::polling::round_trip", Verdict::Passed),
    ("app::transports::upgrade::round_trip", Verdict::Passed),
    ("app::acks::none_without_a_callback", Verdict::Passed),
    ("app::page::serves_the_html_page", Verdict::Passed),
    ("app::page::serves_its_own_client_script", Verdict::Passed),
    ("app::page::loads_its_own_client_script", Verdict::Passed),
    ("app::page::other_socketio_path_is_404", Verdict::Passed),
    ("app::ws::greets_on_connect", Verdict::Passed),
    ("app::ws::answers_text_frames", Verdict::Passed),
    ("app::ws::echoes_binary_frames", Verdict::Passed),
    (
        "app::ws::accepts_a_message_of_exactly_64_kib",
        Verdict::Passed,
    ),
    ("app::ws::closes_on_a_message_over_64_kib", Verdict::Passed),
    (
        "app::configuration::path::serves_socketio_at_the_configured_path",
        Verdict::Passed,
    ),
    (
        "app::configuration::heartbeat::advertised_timings",
        Verdict::Informational,
    ),
    (
        "app::configuration::connect_timeout::closes_a_session_that_joins_nothing",
        Verdict::Informational,
    ),
    (
        "app::configuration::max_payload::websocket_message_over_it_drops_the_client",
        Verdict::Passed,
    ),
    (
        "app::configuration::max_payload::polling_body_over_it_drops_the_client",
        Verdict::Passed,
    ),
];

pub(crate) fn server(
    name: &str,
    app: impl Fn() -> axum::Router + Send + Sync + 'static,
) -> SimServer {
    SimServer {
        name: name.into(),
        app: Arc::new(app),
        path: "/socket.io".into(),
        cluster: None,
    }
}

pub(crate) fn reference() -> SimServer {
    server("reference", || siosim_server::app(&Config::default()))
}

pub(crate) fn check(server: SimServer, patterns: &[&str]) -> SuiteReport {
    let options = RunOptions {
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        jobs: 2,
        ..RunOptions::default()
    };
    runner::run(
        &siosim_conformance::cases::all(),
        &Target::Sim { seed: 1, server },
        &options,
        |_| {},
    )
    .expect("a simulated target always resolves")
}

/// The verdict and reason of `name` in `report`.
fn verdict<'a>(report: &'a SuiteReport, name: &str) -> (Verdict, &'a str) {
    let case = report
        .cases
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} did not run"));
    (case.verdict, &case.reason)
}

/// Requires `name` to have FAILED with a reason containing `because`.
fn assert_failed(report: &SuiteReport, name: &str, because: &str) {
    let (verdict, reason) = verdict(report, name);
    assert_eq!(verdict, Verdict::Failed, "{name}: {reason}");
    assert!(
        reason.contains(because),
        "{name}: {reason:?} lacks {because:?}"
    );
}

#[test]
fn the_reference_server_meets_the_whole_app_contract_in_simulation() {
    let report = check(reference(), &["app::*"]);
    let ran: Vec<&str> = report.cases.iter().map(|c| c.name).collect();
    let listed: Vec<&str> = EXPECTED.iter().map(|(name, _)| *name).collect();
    assert_eq!(ran, listed, "the family and the table differ");
    for (name, expected) in EXPECTED {
        let (verdict, reason) = verdict(&report, name);
        assert_eq!(verdict, *expected, "{name}: {reason}");
    }
    let (_, timings) = verdict(&report, "app::configuration::heartbeat::advertised_timings");
    assert_eq!(
        timings,
        "pingInterval 25000 ms (the default), pingTimeout 20000 ms (the default), maxPayload 1000000 (the default)"
    );
    let (_, closed) = verdict(
        &report,
        "app::configuration::connect_timeout::closes_a_session_that_joins_nothing",
    );
    assert!(closed.starts_with("closed 4"), "{closed}");
}

#[test]
fn the_same_seed_gives_the_same_verdicts_and_traces() {
    let patterns = ["app::chat::*", "app::ordering::burst::*"];
    let first = check(reference(), &patterns);
    let second = check(reference(), &patterns);
    for (a, b) in first.cases.iter().zip(&second.cases) {
        assert_eq!((a.verdict, &a.reason), (b.verdict, &b.reason), "{}", a.name);
        assert_eq!(a.trace, b.trace, "{}: traces differ", a.name);
    }
}

/// What a tiny broken seed app gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bug {
    /// `chat message` uses `broadcast()`, so the sender never sees its own.
    ChatSkipsTheSender,
    /// `increase count` tells only the sender the new value.
    CounterTellsOnlyTheSender,
    /// `chat message` acks before relaying.
    AckBeforeRelay,
    /// `room message` goes to every socket, members or not.
    RoomMessageToEveryone,
    /// `chat message` is emitted to each socket in turn, so each gets a
    /// copy of its own (socketioxide encodes per `emit`).
    ChatCopiesPerRecipient,
    /// `room poll` is put to every socket, from anyone, members or not.
    PollsEveryone,
    /// `kick` disconnects the sender instead of the socket it names.
    KicksTheSender,
}

/// How long the tiny app's `room poll` waits for its members' answers.
const POLL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// A small socketioxide seed app with one `bug`, on closure handlers.
pub(crate) fn tiny_app(bug: Bug) -> axum::Router {
    let (layer, io) = SocketIo::new_layer();
    let count = Arc::new(AtomicU64::new(0));
    io.ns("/", async move |socket: SocketRef| {
        let _ = socket.emit("get count", &count.load(Ordering::SeqCst));
        let counter = count.clone();
        socket.on(
            "increase count",
            async move |socket: SocketRef, io: SocketIo, ack: AckSender| {
                let value = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if bug == Bug::CounterTellsOnlyTheSender {
                    let _ = socket.emit("get count", &value);
                } else {
                    let _ = io.emit("get count", &value).await;
                }
                let _ = ack.send(&value);
            },
        );
        socket.on(
            "chat message",
            async move |socket: SocketRef,
                        io: SocketIo,
                        TryData(text): TryData<String>,
                        ack: AckSender| {
                let Ok(text) = text else {
                    let _ = ack.send(&json!({"error": "one string"}));
                    return;
                };
                match bug {
                    Bug::ChatSkipsTheSender => {
                        let _ = socket.broadcast().emit("chat message", &text).await;
                    }
                    Bug::ChatCopiesPerRecipient => {
                        for recipient in io.sockets() {
                            let _ = recipient.emit("chat message", &text);
                        }
                    }
                    Bug::AckBeforeRelay => {
                        let _ = ack.send(&json!({"ok": true}));
                        let _ = io.emit("chat message", &text).await;
                        return;
                    }
                    _ => {
                        let _ = io.emit("chat message", &text).await;
                    }
                }
                let _ = ack.send(&json!({"ok": true}));
            },
        );
        for event in ["join", "leave"] {
            socket.on(
                event,
                async move |socket: SocketRef, Data(room): Data<String>, ack: AckSender| {
                    if event == "join" {
                        socket.join(room);
                    } else {
                        socket.leave(room);
                    }
                    let _ = ack.send(&json!({"ok": true}));
                },
            );
        }
        socket.on(
            "room message",
            async move |socket: SocketRef,
                        io: SocketIo,
                        Data(post): Data<Value>,
                        ack: AckSender| {
                let room = post["room"].as_str().unwrap_or_default().to_owned();
                if bug == Bug::RoomMessageToEveryone {
                    let _ = io.emit("room message", &post).await;
                } else {
                    let _ = socket.within(room).emit("room message", &post).await;
                }
                let _ = ack.send(&json!({"ok": true}));
            },
        );
        socket.on(
            "room poll",
            async move |socket: SocketRef,
                        io: SocketIo,
                        Data(poll): Data<Value>,
                        ack: AckSender| {
                let room = poll["room"].as_str().unwrap_or_default().to_owned();
                let member = socket.rooms().iter().any(|joined| *joined == room);
                if !member && bug != Bug::PollsEveryone {
                    let _ = ack.send(&json!({"error": "not a member"}));
                    return;
                }
                let asked = match bug {
                    Bug::PollsEveryone => {
                        io.timeout(POLL_DEADLINE)
                            .emit_with_ack::<_, Value>("room poll", &poll["question"])
                            .await
                    }
                    _ => {
                        socket
                            .within(room)
                            .timeout(POLL_DEADLINE)
                            .emit_with_ack::<_, Value>("room poll", &poll["question"])
                            .await
                    }
                };
                let Ok(asked) = asked else {
                    let _ = ack.send(&json!({"error": "not sent"}));
                    return;
                };
                let answers: Vec<Value> = asked
                    .filter_map(async |(_, answer)| answer.ok())
                    .collect()
                    .await;
                let _ = ack.send(&json!({ "answers": answers }));
            },
        );
        socket.on(
            "kick",
            async move |socket: SocketRef, io: SocketIo, Data(id): Data<String>, ack: AckSender| {
                let _ = ack.send(&json!({"ok": true}));
                let kicked = match bug {
                    Bug::KicksTheSender => Some(socket),
                    _ => id.parse().ok().and_then(|sid| io.get_socket(sid)),
                };
                if let Some(kicked) = kicked {
                    let _ = kicked.disconnect();
                }
            },
        );
    });
    axum::Router::new().layer(layer)
}

#[test]
fn a_chat_that_skips_the_sender_fails_the_chat_message_case() {
    let report = check(
        server("chat-skips-sender", || tiny_app(Bug::ChatSkipsTheSender)),
        &["app::chat::message::reaches_every_socket_sender_included"],
    );
    assert_failed(
        &report,
        "app::chat::message::reaches_every_socket_sender_included",
        "c1 got no \"chat message\" event",
    );
}

#[test]
fn a_counter_that_tells_only_the_sender_fails_the_notify_case() {
    let report = check(
        server("counter-sender-only", || {
            tiny_app(Bug::CounterTellsOnlyTheSender)
        }),
        &["app::counter::increase_count::*"],
    );
    assert_failed(
        &report,
        "app::counter::increase_count::notifies_every_socket",
        "c2 got no \"get count\" event",
    );
    let (acked, reason) = verdict(&report, "app::counter::increase_count::acks_the_new_value");
    assert_eq!(acked, Verdict::Passed, "{reason}");
}

#[test]
fn an_ack_before_its_relay_fails_the_ordering_case() {
    let report = check(
        server("ack-before-relay", || tiny_app(Bug::AckBeforeRelay)),
        &["app::ordering::chat_message::relay_before_the_ack"],
    );
    assert_failed(
        &report,
        "app::ordering::chat_message::relay_before_the_ack",
        "arrived before the sender's own \"chat message\"",
    );
}

#[test]
fn a_room_message_to_everyone_fails_the_members_only_case() {
    let report = check(
        server("room-to-everyone", || tiny_app(Bug::RoomMessageToEveryone)),
        &["app::rooms::message::reaches_members_only_sender_included"],
    );
    assert_failed(
        &report,
        "app::rooms::message::reaches_members_only_sender_included",
        "c3 received \"2[\\\"room message\\\"",
    );
}

#[test]
fn a_poll_put_to_everyone_fails_both_poll_cases() {
    let report = check(
        server("polls-everyone", || tiny_app(Bug::PollsEveryone)),
        &["app::rooms::poll::*"],
    );
    assert_failed(
        &report,
        "app::rooms::poll::gathers_each_members_answer_once",
        "c3 received \"2",
    );
    assert_failed(
        &report,
        "app::rooms::poll::refuses_a_non_member",
        "\"room poll\" from a non-member",
    );
}

#[test]
fn a_kick_that_disconnects_the_sender_fails_the_kick_case() {
    let report = check(
        server("kicks-the-sender", || tiny_app(Bug::KicksTheSender)),
        &["app::kick::*"],
    );
    assert_failed(
        &report,
        "app::kick::disconnects_the_named_socket_only",
        "c2 was not disconnected by the server",
    );
}

/// The reference app behind a middleware that misreports two routes:
/// `POST /api/things` answers 200 where 201 is due, and `GET /` says
/// `text/plain`.
pub(crate) fn misreporting_app() -> axum::Router {
    siosim_server::app(&Config::default()).layer(axum::middleware::from_fn(misreport))
}

async fn misreport(request: Request, next: Next) -> Response {
    let created = request.method() == Method::POST && request.uri().path() == "/api/things";
    let page = request.method() == Method::GET && request.uri().path() == "/";
    let mut response = next.run(request).await;
    if created && response.status() == StatusCode::CREATED {
        *response.status_mut() = StatusCode::OK;
    }
    if page {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    response
}

#[test]
fn http_routes_that_misreport_fail_their_cases() {
    let report = check(
        server("misreporting", misreporting_app),
        &[
            "app::things::create::answers_201_with_the_thing",
            "app::page::serves_the_html_page",
            "app::things::list::*",
        ],
    );
    assert_failed(
        &report,
        "app::things::create::answers_201_with_the_thing",
        "answered 200",
    );
    assert_failed(
        &report,
        "app::page::serves_the_html_page",
        "Content-Type \"text/plain\"",
    );
    let (listed, reason) = verdict(&report, "app::things::list::is_a_json_array_of_things");
    assert_eq!(listed, Verdict::Passed, "{reason}");
}
