//! Every test of the current official suites (socketio/socket.io,
//! `docs/engine.io-protocol/v4-test-suite/test-suite.js`: 25 tests, and
//! `docs/socket.io-protocol/v5-test-suite/test-suite.js`: 32) has the
//! siosim case(s) that check at least what it checks. A case renamed or
//! removed fails this test, and the tables' lengths pin the suites' sizes.

use std::collections::BTreeSet;

use siosim_conformance::cases;

/// `describe` path and `it` title of each engine.io v4 test, and its cases.
const ENGINE_IO_V4: [(&str, &[&str]); 25] = [
    (
        "handshake/polling: successfully opens a session",
        &["engineio::handshake::polling::opens_a_session"],
    ),
    (
        "handshake/polling: fails with an invalid 'EIO' query parameter",
        &["engineio::handshake::polling::rejects_invalid_eio"],
    ),
    (
        "handshake/polling: fails with an invalid 'transport' query parameter",
        &["engineio::handshake::polling::rejects_invalid_transport"],
    ),
    (
        "handshake/polling: fails with an invalid request method",
        &["engineio::handshake::polling::rejects_invalid_method"],
    ),
    (
        "handshake/websocket: successfully opens a session",
        &["engineio::handshake::websocket::opens_a_session"],
    ),
    (
        "handshake/websocket: fails with an invalid 'EIO' query parameter",
        &["engineio::handshake::websocket::rejects_invalid_eio"],
    ),
    (
        "handshake/websocket: fails with an invalid 'transport' query parameter",
        &["engineio::handshake::websocket::rejects_invalid_transport"],
    ),
    (
        "message/polling: sends and receives a payload containing one plain text packet",
        &["engineio::message::polling::delivers_one_text_packet"],
    ),
    (
        "message/polling: sends and receives a payload containing several plain text packets",
        &["engineio::message::polling::delivers_several_packets"],
    ),
    (
        "message/polling: sends and receives a payload containing plain text and binary packets",
        &["engineio::message::polling::delivers_text_and_binary_packets"],
    ),
    (
        "message/polling: closes the session upon invalid packet format",
        &["engineio::message::polling::closes_on_invalid_packet"],
    ),
    (
        "message/polling: closes the session upon duplicate poll requests",
        &["engineio::message::polling::closes_on_duplicate_get"],
    ),
    (
        "message/polling: closes the session upon cancelled polling request",
        &["engineio::message::polling::closes_on_cancelled_get"],
    ),
    (
        "message/websocket: sends and receives a plain text packet",
        &["engineio::message::websocket::delivers_a_text_packet"],
    ),
    (
        "message/websocket: sends and receives a binary packet",
        &["engineio::message::websocket::delivers_a_binary_packet"],
    ),
    (
        "message/websocket: closes the session upon invalid packet format",
        &["engineio::message::websocket::closes_on_invalid_packet"],
    ),
    (
        "heartbeat/polling: sends ping/pong packets",
        &["engineio::heartbeat::polling::sends_pings"],
    ),
    (
        "heartbeat/polling: closes the session upon ping timeout",
        &["engineio::heartbeat::polling::closes_on_ping_timeout"],
    ),
    (
        "heartbeat/websocket: sends ping/pong packets",
        &["engineio::heartbeat::websocket::sends_pings"],
    ),
    (
        "heartbeat/websocket: closes the session upon ping timeout",
        &["engineio::heartbeat::websocket::closes_on_ping_timeout"],
    ),
    (
        "close/polling: forcefully closes the session",
        &[
            "engineio::close::polling::closes_the_session",
            "engineio::close::polling::answers_the_pending_get_with_noop",
        ],
    ),
    (
        "close/websocket: forcefully closes the session",
        &["engineio::close::websocket::closes_the_session"],
    ),
    (
        "upgrade: successfully upgrades from HTTP long-polling to WebSocket",
        &["engineio::upgrade::polling_to_websocket::succeeds"],
    ),
    (
        "upgrade: ignores HTTP requests with same sid after upgrade",
        &["engineio::upgrade::polling_to_websocket::ignores_polling_afterwards"],
    ),
    (
        "upgrade: ignores WebSocket connection with same sid after upgrade",
        &["engineio::upgrade::polling_to_websocket::ignores_a_second_websocket"],
    ),
];

/// The socket.io v5 suite: its "Engine.IO protocol" part (the engine.io
/// tests above, minus message, with "should" titles), then "Socket.IO
/// protocol".
const SOCKET_IO_V5: [(&str, &[&str]); 32] = [
    (
        "engine.io/handshake/polling: should successfully open a session",
        &["engineio::handshake::polling::opens_a_session"],
    ),
    (
        "engine.io/handshake/polling: should fail with an invalid 'EIO' query parameter",
        &["engineio::handshake::polling::rejects_invalid_eio"],
    ),
    (
        "engine.io/handshake/polling: should fail with an invalid 'transport' query parameter",
        &["engineio::handshake::polling::rejects_invalid_transport"],
    ),
    (
        "engine.io/handshake/polling: should fail with an invalid request method",
        &["engineio::handshake::polling::rejects_invalid_method"],
    ),
    (
        "engine.io/handshake/websocket: should successfully open a session",
        &["engineio::handshake::websocket::opens_a_session"],
    ),
    (
        "engine.io/handshake/websocket: should fail with an invalid 'EIO' query parameter",
        &["engineio::handshake::websocket::rejects_invalid_eio"],
    ),
    (
        "engine.io/handshake/websocket: should fail with an invalid 'transport' query parameter",
        &["engineio::handshake::websocket::rejects_invalid_transport"],
    ),
    (
        "engine.io/heartbeat/polling: should send ping/pong packets",
        &["engineio::heartbeat::polling::sends_pings"],
    ),
    (
        "engine.io/heartbeat/polling: should close the session upon ping timeout",
        &["engineio::heartbeat::polling::closes_on_ping_timeout"],
    ),
    (
        "engine.io/heartbeat/websocket: should send ping/pong packets",
        &["engineio::heartbeat::websocket::sends_pings"],
    ),
    (
        "engine.io/heartbeat/websocket: should close the session upon ping timeout",
        &["engineio::heartbeat::websocket::closes_on_ping_timeout"],
    ),
    (
        "engine.io/close/polling: should forcefully close the session",
        &[
            "engineio::close::polling::closes_the_session",
            "engineio::close::polling::answers_the_pending_get_with_noop",
        ],
    ),
    (
        "engine.io/close/websocket: should forcefully close the session",
        &["engineio::close::websocket::closes_the_session"],
    ),
    (
        "engine.io/upgrade: should successfully upgrade from HTTP long-polling to WebSocket",
        &["engineio::upgrade::polling_to_websocket::succeeds"],
    ),
    (
        "engine.io/upgrade: should ignore HTTP requests with same sid after upgrade",
        &["engineio::upgrade::polling_to_websocket::ignores_polling_afterwards"],
    ),
    (
        "engine.io/upgrade: should ignore WebSocket connection with same sid after upgrade",
        &["engineio::upgrade::polling_to_websocket::ignores_a_second_websocket"],
    ),
    (
        "connect: should allow connection to the main namespace",
        &[
            "socketio::connect::main::answers_with_sid",
            "socketio::connect::main::emits_auth",
        ],
    ),
    (
        "connect: should allow connection to the main namespace with a payload",
        &["socketio::connect::main::emits_auth_with_payload"],
    ),
    (
        "connect: should allow connection to a custom namespace",
        &["socketio::connect::custom::answers_with_sid_and_auth"],
    ),
    (
        "connect: should allow connection to a custom namespace with a payload",
        &["socketio::connect::custom::emits_auth_with_payload"],
    ),
    (
        "connect: should disallow connection to an unknown namespace",
        &[
            "socketio::connect::unknown_namespace::refused_with_connect_error",
            "socketio::connect::unknown_namespace::says_invalid_namespace",
        ],
    ),
    (
        "connect: should disallow connection with an invalid handshake",
        &["socketio::connect::invalid_handshake::closes_the_connection"],
    ),
    (
        "connect: should close the connection if no handshake is received",
        &["socketio::connect::no_handshake::closes_after_the_connect_timeout"],
    ),
    (
        "disconnect: should disconnect from the main namespace",
        &["socketio::disconnect::main::keeps_the_engineio_session"],
    ),
    (
        "disconnect: should connect then disconnect from a custom namespace",
        &["socketio::disconnect::custom::main_keeps_working"],
    ),
    (
        "message: should send a plain-text packet",
        &["socketio::message::plain::echoed"],
    ),
    (
        "message: should send a packet with binary attachments",
        &["socketio::message::binary::echoed"],
    ),
    (
        "message: should send a plain-text packet with an ack",
        &["socketio::message::ack::plain_answered"],
    ),
    (
        "message: should send a packet with binary attachments and an ack",
        &["socketio::message::ack::binary_answered"],
    ),
    (
        "message: should close the connection upon invalid format (unknown packet type)",
        &["socketio::message::invalid::unknown_packet_type_closes"],
    ),
    (
        "message: should close the connection upon invalid format (invalid payload format)",
        &["socketio::message::invalid::payload_not_an_array_closes"],
    ),
    (
        "message: should close the connection upon invalid format (invalid ack id)",
        &["socketio::message::invalid::ack_id_not_a_number_closes"],
    ),
];

#[test]
fn every_official_test_has_its_cases() {
    let suite: BTreeSet<&str> = cases::all().iter().map(|c| c.name).collect();
    let mut missing = Vec::new();
    for (test, names) in ENGINE_IO_V4.iter().chain(&SOCKET_IO_V5) {
        assert!(!names.is_empty(), "{test}: no case");
        for name in *names {
            if !suite.contains(name) {
                missing.push(format!("{test}: {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cases missing from the suite: {missing:#?}"
    );
}
