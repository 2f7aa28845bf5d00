//! `socketio::*`: the Socket.IO v5 rules (connecting to a namespace,
//! disconnecting, events, acknowledgements, invalid packets), over
//! WebSocket and HTTP long-polling.
//!
//! Covers each of the 16 Socket.IO tests ("connect", "disconnect",
//! "message") of the current official suite (socketio/socket.io,
//! `docs/socket.io-protocol/v5-test-suite/test-suite.js`), with the
//! same inputs and expected bytes, on a bare WebSocket as the suite does
//! (`socketio::connect::*`, `socketio::disconnect::*`,
//! `socketio::message::*`). Beyond it: the same exchanges over long-polling
//! (`socketio::polling::*`), namespace multiplexing and isolation
//! (`socketio::namespace::*`), and packets a server should refuse or
//! tolerate (reserved event names, escaped event names, events before any
//! CONNECT, acks nobody handles).
//!
//! Where the suite's server greets with `auth` right after CONNECT, these
//! cases accept other events first (the reference server sends `get count`
//! before it) and say so in the note.

use std::time::Duration;

use serde_json::{Value, json};
use siosim_harness::Transport;
use siosim_harness::codec::{EioPacket, SioPacket};
use tokio::time::Instant;

use super::socketio_polling::{self as polling, PolledPackets};
use super::socketio_raw::{self as raw, AfterBarrier};
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::raw_websocket::Frame;
use crate::{broken, case, ensure};

const CONNECT_ANSWER: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Connection to a namespace",
    rule: "the server MUST respond to a CONNECT packet with a CONNECT packet carrying the session ID in its payload, or with a CONNECT_ERROR packet if the connection is not allowed",
};

const SOCKET_ID: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Difference between v5 and v4",
    rule: "the ID of the Socket.IO connection (the sid of the CONNECT answer) is different from the ID of the underlying Engine.IO connection (the one found in the query parameters of the HTTP requests)",
};

const CONNECT_ERROR_PAYLOAD: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Difference between v5 and v4",
    rule: "the payload of the CONNECT_ERROR packet is now an object instead of a plain string (e.g. {\"message\":\"Not authorized\"})",
};

const CONNECT_ERROR_MESSAGE: Clause = Clause {
    spec: Spec::TestSuite,
    section: "Test suite",
    rule: "a CONNECT to an unknown namespace is refused with 44<namespace>,{\"message\":\"Invalid namespace\"}, and the session stays usable",
};

const CONNECT_FIRST: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Connection to a namespace",
    rule: "if the server does not receive a CONNECT packet first, then it MUST close the connection immediately",
};

const CONNECT_PAYLOAD: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Difference between v5 and v4",
    rule: "the CONNECT packet can contain a payload, an object (e.g. {\"token\":\"123\"}); the default parser refuses any other payload as invalid",
};

const CONNECT_TIMEOUT: Clause = Clause {
    spec: Spec::TestSuite,
    section: "Test suite",
    rule: "the server closes a connection on which no CONNECT packet arrives within its connect timeout",
};

const MULTIPLEXING: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Connection to a namespace",
    rule: "a client MAY be connected to multiple namespaces at the same time, with the same underlying WebSocket connection",
};

const ECHO_AUTH: Clause = Clause {
    spec: Spec::TestSuite,
    section: "Test suite",
    rule: "the test server emits \"auth\" with the CONNECT packet's payload ({} when none) to every new socket, in / and in /custom",
};

const ECHO_MESSAGE: Clause = Clause {
    spec: Spec::TestSuite,
    section: "Test suite",
    rule: "the test server answers \"message\" with \"message-back\" and the same arguments, binary attachments included",
};

const ACKNOWLEDGEMENT: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Acknowledgement",
    rule: "the receiver MUST respond with an ACK packet with the same event ID (the test server acks \"message-with-ack\" with the same arguments; with binary arguments, a BINARY_ACK)",
};

const ACK_PAYLOAD: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Acknowledgement",
    rule: "the payload of an ACK packet is mandatory and MUST be an array (possibly empty)",
};

const DISCONNECTION: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Disconnection from a namespace",
    rule: "one side ends the connection to a namespace with a DISCONNECT packet, no response is expected; the low-level connection is kept (the official suite expects the next packet to be a ping)",
};

const EVENT_PAYLOAD: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Sending and receiving data",
    rule: "the payload is mandatory and MUST be a non-empty array; if that's not the case, then the receiver MUST close the connection",
};

const PACKET_FORMAT: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Format",
    rule: "<packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON-stringified payload without binary]: the official suite expects a packet of unknown type or with a non-numeric ack id to close the connection",
};

const EVENT_NAME: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Format",
    rule: "the payload is JSON-stringified: an event name is any JSON string, escapes (\\\" \\\\) included, and such a packet is valid",
};

const RESERVED_NAMES: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Packet encoding",
    rule: "the default parser (socket.io-parser) refuses an EVENT named connect, connect_error, disconnect, disconnecting, newListener or removeListener as an invalid payload, which closes the connection",
};

const POLLING_SEPARATOR: Clause = Clause {
    spec: Spec::EngineIo,
    section: "HTTP long-polling",
    rule: "packets in one long-polling payload are separated by the record separator \\x1e, so a packet's text never holds it raw (JSON escapes it as \\u001e)",
};

const POLLING_BATCH: Clause = Clause {
    spec: Spec::SocketIo,
    section: "Sample session",
    rule: "a long-polling POST may carry several packets separated by \\x1e (42[\"hello\"]\\x1e42[\"world\"]); they are handled in order",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        // The official suite, "connect".
        case!(
            "socketio::connect::main::answers_with_sid",
            Must,
            Protocol,
            CONNECT_ANSWER,
            connect_main_answers_with_sid
        ),
        case!(
            "socketio::connect::main::emits_auth",
            Must,
            Echo,
            ECHO_AUTH,
            connect_main_emits_auth
        ),
        case!(
            "socketio::connect::main::emits_auth_with_payload",
            Must,
            Echo,
            ECHO_AUTH,
            connect_main_emits_auth_with_payload
        ),
        case!(
            "socketio::connect::custom::answers_with_sid_and_auth",
            Must,
            Echo,
            ECHO_AUTH,
            connect_custom_answers_with_sid_and_auth
        ),
        case!(
            "socketio::connect::custom::emits_auth_with_payload",
            Must,
            Echo,
            ECHO_AUTH,
            connect_custom_emits_auth_with_payload
        ),
        case!(
            "socketio::connect::socket_id::differs_from_engineio_sid",
            Should,
            Protocol,
            SOCKET_ID,
            socket_id_differs_from_engineio_sid
        ),
        case!(
            "socketio::connect::unknown_namespace::refused_with_connect_error",
            Must,
            Protocol,
            CONNECT_ANSWER,
            unknown_namespace_refused_with_connect_error
        ),
        case!(
            "socketio::connect::unknown_namespace::error_payload_is_an_object",
            Must,
            Protocol,
            CONNECT_ERROR_PAYLOAD,
            unknown_namespace_error_payload_is_an_object
        ),
        case!(
            "socketio::connect::unknown_namespace::says_invalid_namespace",
            Should,
            Protocol,
            CONNECT_ERROR_MESSAGE,
            unknown_namespace_says_invalid_namespace
        ),
        case!(
            "socketio::connect::unknown_namespace::session_stays_usable",
            Should,
            Protocol,
            CONNECT_ERROR_MESSAGE,
            unknown_namespace_session_stays_usable
        ),
        case!(
            "socketio::connect::invalid_handshake::closes_the_connection",
            Must,
            Protocol,
            PACKET_FORMAT,
            invalid_handshake_closes_the_connection
        ),
        case!(
            "socketio::connect::event_before_connect::closes_the_connection",
            Must,
            Protocol,
            CONNECT_FIRST,
            event_before_connect_closes_the_connection
        ),
        case!(
            "socketio::connect::invalid_payload::refused",
            Should,
            Protocol,
            CONNECT_PAYLOAD,
            connect_invalid_payload_refused
        ),
        case!(
            "socketio::connect::no_handshake::closes_after_the_connect_timeout",
            Should,
            Protocol,
            CONNECT_TIMEOUT,
            no_handshake_closes_after_the_connect_timeout
        ),
        // The official suite, "disconnect".
        case!(
            "socketio::disconnect::main::keeps_the_engineio_session",
            Must,
            Protocol,
            DISCONNECTION,
            disconnect_main_keeps_the_engineio_session
        ),
        case!(
            "socketio::disconnect::main::rejoin_on_the_same_session",
            Should,
            Protocol,
            DISCONNECTION,
            disconnect_main_rejoin_on_the_same_session
        ),
        case!(
            "socketio::disconnect::custom::main_keeps_working",
            Must,
            Echo,
            DISCONNECTION,
            disconnect_custom_main_keeps_working
        ),
        // The official suite, "message".
        case!(
            "socketio::message::plain::echoed",
            Must,
            Echo,
            ECHO_MESSAGE,
            message_plain_echoed
        ),
        case!(
            "socketio::message::binary::echoed",
            Must,
            Echo,
            ECHO_MESSAGE,
            message_binary_echoed
        ),
        case!(
            "socketio::message::ack::plain_answered",
            Must,
            Echo,
            ACKNOWLEDGEMENT,
            message_ack_plain_answered
        ),
        case!(
            "socketio::message::ack::binary_answered",
            Must,
            Echo,
            ACKNOWLEDGEMENT,
            message_ack_binary_answered
        ),
        case!(
            "socketio::message::invalid::unknown_packet_type_closes",
            Must,
            Protocol,
            PACKET_FORMAT,
            invalid_unknown_packet_type_closes
        ),
        case!(
            "socketio::message::invalid::payload_not_an_array_closes",
            Must,
            Protocol,
            EVENT_PAYLOAD,
            invalid_payload_not_an_array_closes
        ),
        case!(
            "socketio::message::invalid::ack_id_not_a_number_closes",
            Must,
            Protocol,
            PACKET_FORMAT,
            invalid_ack_id_not_a_number_closes
        ),
        // Beyond the suite.
        case!(
            "socketio::message::ack::no_handler",
            Info,
            Protocol,
            ACKNOWLEDGEMENT,
            message_ack_no_handler
        ),
        case!(
            "socketio::message::ack::id_zero_answered",
            Must,
            Echo,
            ACKNOWLEDGEMENT,
            message_ack_id_zero_answered
        ),
        case!(
            "socketio::message::ack::no_arguments_answered_with_an_empty_array",
            Must,
            Echo,
            ACK_PAYLOAD,
            message_ack_no_arguments_answered_with_an_empty_array
        ),
        case!(
            "socketio::message::ack::unknown_id_ignored",
            Should,
            Protocol,
            ACKNOWLEDGEMENT,
            message_ack_unknown_id_ignored
        ),
        case!(
            "socketio::message::event_name::json_escapes_accepted",
            Must,
            Protocol,
            EVENT_NAME,
            event_name_json_escapes_accepted
        ),
        case!(
            "socketio::message::event_name::reserved_names_refused",
            Should,
            Protocol,
            RESERVED_NAMES,
            event_name_reserved_names_refused
        ),
        case!(
            "socketio::namespace::multiplexing::two_namespaces_one_session",
            Must,
            Echo,
            MULTIPLEXING,
            namespace_two_namespaces_one_session
        ),
        case!(
            "socketio::namespace::unjoined::events_not_handled",
            Must,
            Echo,
            CONNECT_FIRST,
            namespace_unjoined_events_not_handled
        ),
        // The suite's exchanges over HTTP long-polling.
        case!(
            "socketio::polling::connect::answers_with_sid",
            Must,
            Protocol,
            CONNECT_ANSWER,
            polling_connect_answers_with_sid
        ),
        case!(
            "socketio::polling::connect::emits_auth_with_payload",
            Must,
            Echo,
            ECHO_AUTH,
            polling_connect_emits_auth_with_payload
        ),
        case!(
            "socketio::polling::message::plain_echoed",
            Must,
            Echo,
            ECHO_MESSAGE,
            polling_message_plain_echoed
        ),
        case!(
            "socketio::polling::message::binary_echoed",
            Must,
            Echo,
            ECHO_MESSAGE,
            polling_message_binary_echoed
        ),
        case!(
            "socketio::polling::message::record_separator_escaped",
            Must,
            Echo,
            POLLING_SEPARATOR,
            polling_message_record_separator_escaped
        ),
        case!(
            "socketio::polling::message::batched_events_echoed_in_order",
            Must,
            Echo,
            POLLING_BATCH,
            polling_message_batched_events_echoed_in_order
        ),
        case!(
            "socketio::polling::message::invalid_payload_closes",
            Must,
            Protocol,
            EVENT_PAYLOAD,
            polling_message_invalid_payload_closes
        ),
        case!(
            "socketio::polling::ack::plain_answered",
            Must,
            Echo,
            ACKNOWLEDGEMENT,
            polling_ack_plain_answered
        ),
        case!(
            "socketio::polling::ack::binary_answered",
            Must,
            Echo,
            ACKNOWLEDGEMENT,
            polling_ack_binary_answered
        ),
    ]
}

/// The official suite's plain-text event and its echo.
const PLAIN_MESSAGE: &str = r#"42["message",1,"2",{"3":[true]}]"#;
const PLAIN_MESSAGE_BACK: &str = r#"42["message-back",1,"2",{"3":[true]}]"#;
/// The official suite's binary event (two attachments follow) and its echo.
const BINARY_MESSAGE: &str =
    r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
const BINARY_MESSAGE_BACK: &str =
    r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
/// The official suite's event with an ack, and the ack.
const PLAIN_WITH_ACK: &str = r#"42456["message-with-ack",1,"2",{"3":[false]}]"#;
const PLAIN_ACK: &str = r#"43456[1,"2",{"3":[false]}]"#;
/// The official suite's binary event with an ack (two attachments follow),
/// and the binary ack.
const BINARY_WITH_ACK: &str =
    r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
const BINARY_ACK: &str = r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
/// The official suite's two attachments.
const ATTACHMENTS: [&[u8]; 2] = [&[1, 2, 3], &[4, 5, 6]];

/// A note saying which frames the server sent before the awaited one.
fn after(frames: &[Frame]) -> String {
    if frames.is_empty() {
        String::new()
    } else {
        format!("\"auth\" came after {}", raw::shown_all(frames))
    }
}

// ---------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------

async fn connect_main_answers_with_sid(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    let answer = raw::connect(&mut socket, "40", "/").await?;
    raw::sid_only(&answer, "/")?;
    Ok(String::new())
}

async fn connect_main_emits_auth(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    raw::connect(&mut socket, "40", "/").await?;
    let before = raw::auth(&mut socket, "/", r#"42["auth",{}]"#).await?;
    Ok(after(&before))
}

async fn connect_main_emits_auth_with_payload(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    let answer = raw::connect(&mut socket, r#"40{"token":"123"}"#, "/").await?;
    raw::sid_only(&answer, "/")?;
    let before = raw::auth(&mut socket, "/", r#"42["auth",{"token":"123"}]"#).await?;
    Ok(after(&before))
}

async fn connect_custom_answers_with_sid_and_auth(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    let answer = raw::connect(&mut socket, "40/custom,", "/custom").await?;
    raw::sid_only(&answer, "/custom")?;
    let before = raw::auth(&mut socket, "/custom", r#"42/custom,["auth",{}]"#).await?;
    Ok(after(&before))
}

async fn connect_custom_emits_auth_with_payload(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    let answer = raw::connect(&mut socket, r#"40/custom,{"token":"abc"}"#, "/custom").await?;
    raw::sid_only(&answer, "/custom")?;
    let expected = r#"42/custom,["auth",{"token":"abc"}]"#;
    let before = raw::auth(&mut socket, "/custom", expected).await?;
    Ok(after(&before))
}

async fn socket_id_differs_from_engineio_sid(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = raw::open(&probe).await?;
    let answer = raw::connect(&mut socket, "40", "/").await?;
    let sid = raw::sid(&answer, "/")?;
    ensure!(
        sid != handshake.sid,
        "the socket's id {sid:?} is the Engine.IO session id: whoever learns a socket id \
         (io.to(id), a chat user list) can poll or post on that session"
    );
    Ok(String::new())
}

/// Sends the official suite's `40/random` (no trailing comma) and returns
/// the server's next frame.
async fn connect_to_random(probe: &Probe) -> Result<(Frame, crate::RawWebSocket), CaseError> {
    let (mut socket, _) = raw::open(probe).await?;
    socket.send_text("40/random").await?;
    let answer = socket
        .next()
        .await
        .map_err(|error| CaseError::Broken(format!("no answer to \"40/random\": {error}")))?;
    Ok((answer, socket))
}

async fn unknown_namespace_refused_with_connect_error(probe: Probe) -> CaseOutcome {
    let (answer, _) = connect_to_random(&probe).await?;
    ensure!(
        matches!(&answer, Frame::Text(text) if text.starts_with("44/random,")),
        "\"40/random\" was answered by {}, not a CONNECT_ERROR for /random",
        raw::shown(&answer)
    );
    Ok(String::new())
}

async fn unknown_namespace_error_payload_is_an_object(probe: Probe) -> CaseOutcome {
    let (answer, _) = connect_to_random(&probe).await?;
    let payload = match &answer {
        Frame::Text(text) => text.strip_prefix("44/random,"),
        Frame::Binary(_) => None,
    };
    let Some(payload) = payload else {
        broken!(
            "\"40/random\" was answered by {}, not a CONNECT_ERROR for /random",
            raw::shown(&answer)
        );
    };
    ensure!(
        matches!(serde_json::from_str(payload), Ok(Value::Object(_))),
        "the CONNECT_ERROR payload {:?} is not a JSON object",
        truncated(payload, 120)
    );
    Ok(String::new())
}

/// The official test \"should disallow connection to an unknown namespace\"
/// requires these exact bytes; so does this case. It is graded SHOULD, not
/// MUST, because the spec fixes only the payload's shape (an object with a
/// `message`, judged MUST by `error_payload_is_an_object`), not its text:
/// "Invalid namespace" is the Node server's wording, and python-socketio's
/// "Unable to connect" is not a protocol break.
async fn unknown_namespace_says_invalid_namespace(probe: Probe) -> CaseOutcome {
    let (answer, _) = connect_to_random(&probe).await?;
    let expected = r#"44/random,{"message":"Invalid namespace"}"#;
    ensure!(
        answer == Frame::Text(expected.to_owned()),
        "\"40/random\" was answered by {}, expected {expected:?}",
        raw::shown(&answer)
    );
    Ok(String::new())
}

async fn unknown_namespace_session_stays_usable(probe: Probe) -> CaseOutcome {
    let (answer, mut socket) = connect_to_random(&probe).await?;
    ensure!(
        matches!(&answer, Frame::Text(text) if text.starts_with("44/random,")),
        "\"40/random\" was answered by {}, not a CONNECT_ERROR",
        raw::shown(&answer)
    );
    raw::connect(&mut socket, "40", "/")
        .await
        .map_err(|error| {
            CaseError::Broken(format!("after the CONNECT_ERROR for /random: {error}"))
        })?;
    Ok(String::new())
}

async fn invalid_handshake_closes_the_connection(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    raw::expect_close_after(&probe, &mut socket, "4abc").await
}

async fn event_before_connect_closes_the_connection(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    raw::expect_close_after(&probe, &mut socket, r#"42["message","before connect"]"#).await
}

async fn connect_invalid_payload_refused(probe: Probe) -> CaseOutcome {
    let (mut socket, _) = raw::open(&probe).await?;
    let request = r#"40"a string, not an object""#;
    socket.send_text(request).await?;
    match socket.next_within(probe.timeout()).await {
        Err(_) => Ok(format!(
            "closed the connection: {}",
            socket.closed().unwrap_or("ended")
        )),
        Ok(None) => broken!(
            "{request:?} was neither answered nor refused within {} ms",
            probe.timeout().as_millis()
        ),
        Ok(Some(Frame::Text(text))) if text == "1" => {
            Ok("closed the session (Engine.IO close packet)".to_owned())
        }
        Ok(Some(Frame::Text(text))) if text.starts_with("44") => {
            Ok(format!("refused with {text:?}"))
        }
        Ok(Some(frame)) => broken!(
            "{request:?} was answered by {} instead of being refused",
            raw::shown(&frame)
        ),
    }
}

/// The official suite waits out its server's 1 s connect timeout. No
/// handshake advertises a connect timeout, so the case waits for the one the
/// user declared (`--connect-timeout-ms`; in simulation the reference
/// server's setting) plus a heartbeat round and the probe's margin, and is
/// NOT APPLICABLE without
/// one: guessing would make the verdict depend on the server's timers.
/// Graded SHOULD although it covers an official test: the spec asks for no
/// connect timeout; the official test server has one.
async fn no_handshake_closes_after_the_connect_timeout(probe: Probe) -> CaseOutcome {
    let Some(connect_timeout) = probe.declared_connect_timeout() else {
        return Err(CaseError::NotApplicable(
            "no handshake advertises the connect timeout: pass the server's as --connect-timeout-ms"
                .to_owned(),
        ));
    };
    let (mut socket, handshake) = raw::open(&probe).await?;
    let started = Instant::now();
    // Ending the session may take the server a heartbeat round to turn into
    // a closed WebSocket (python-engineio's writer waits that long).
    let within = connect_timeout.saturating_add(
        probe.timeout_plus(
            handshake
                .ping_interval_ms
                .saturating_add(handshake.ping_timeout_ms),
        ),
    );
    match socket.closed_within(within).await {
        Some(how) => Ok(format!(
            "closed {} ms after the Engine.IO handshake (declared connect timeout {} ms): {how}",
            started.elapsed().as_millis(),
            connect_timeout.as_millis()
        )),
        None => broken!(
            "the connection was still open {} ms after the Engine.IO handshake, \
             with no CONNECT sent (declared connect timeout {} ms + pingInterval + \
             pingTimeout + margin)",
            started.elapsed().as_millis(),
            connect_timeout.as_millis(),
        ),
    }
}

// ---------------------------------------------------------------------------
// disconnect
// ---------------------------------------------------------------------------

async fn disconnect_main_keeps_the_engineio_session(probe: Probe) -> CaseOutcome {
    let (mut socket, handshake) = raw::open(&probe).await?;
    raw::connect(&mut socket, "40", "/").await?;
    socket.send_text("41").await?;
    socket.show_pings(true);
    // The first ping may be a whole ping interval away.
    let within = probe.timeout() + Duration::from_millis(handshake.ping_interval_ms);
    let started = Instant::now();
    // Events on `/` may already have been on their way when the server read
    // the DISCONNECT (a greeting, say): they are tolerated and listed.
    let mut events_before = Vec::new();
    loop {
        let left = within.saturating_sub(started.elapsed());
        match socket.next_within(left).await {
            Ok(Some(Frame::Text(text))) if text == "2" => break,
            Ok(Some(Frame::Text(text))) if text.starts_with("42[") && events_before.len() < 16 => {
                events_before.push(Frame::Text(text));
            }
            Ok(Some(frame)) => broken!(
                "after \"41\" the server sent {} where the next ping was expected",
                raw::shown(&frame)
            ),
            Ok(None) => broken!("no ping within {} ms after \"41\"", within.as_millis()),
            Err(error) => broken!("after \"41\" (the Engine.IO session should stay): {error}"),
        }
    }
    Ok(if events_before.is_empty() {
        String::new()
    } else {
        format!(
            "events sent before the ping: {}",
            raw::shown_all(&events_before)
        )
    })
}

async fn disconnect_main_rejoin_on_the_same_session(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    socket.send_text("41").await?;
    // Wait until the server has read the DISCONNECT: the official server
    // closes the connection on a CONNECT for a namespace it still counts
    // as joined, which a CONNECT right behind the DISCONNECT can race.
    if let AfterBarrier::Closed(how) = raw::barrier(&mut socket, probe.timeout()).await? {
        broken!("the server closed the connection after \"41\": {how}");
    }
    socket.send_text("40").await?;
    // Events the first socket was sent may still be ahead of the answer.
    let (answer, _) = raw::until(&mut socket, "answer to the second \"40\"", |text| {
        !text.starts_with("42[")
    })
    .await?;
    ensure!(
        raw::connect_payload(&answer, "/").is_some(),
        "after \"41\", \"40\" was answered by {:?}, not a CONNECT",
        truncated(&answer, 160)
    );
    Ok(String::new())
}

async fn disconnect_custom_main_keeps_working(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    raw::connect(&mut socket, "40/custom", "/custom").await?;
    raw::auth(&mut socket, "/custom", r#"42/custom,["auth",{}]"#).await?;
    socket.send_text("41/custom").await?;
    socket
        .send_text(r#"42["message","message to main namespace"]"#)
        .await?;
    raw::expect_text(
        &mut socket,
        r#"42["message-back","message to main namespace"]"#,
    )
    .await?;
    Ok(String::new())
}

// ---------------------------------------------------------------------------
// message
// ---------------------------------------------------------------------------

async fn message_plain_echoed(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket.send_text(PLAIN_MESSAGE).await?;
    raw::expect_text(&mut socket, PLAIN_MESSAGE_BACK).await?;
    Ok(String::new())
}

async fn message_binary_echoed(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket.send_text(BINARY_MESSAGE).await?;
    for attachment in ATTACHMENTS {
        socket.send_binary(attachment).await?;
    }
    raw::expect_text(&mut socket, BINARY_MESSAGE_BACK).await?;
    for attachment in ATTACHMENTS {
        raw::expect_binary(&mut socket, attachment).await?;
    }
    Ok(String::new())
}

async fn message_ack_plain_answered(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket.send_text(PLAIN_WITH_ACK).await?;
    raw::expect_text(&mut socket, PLAIN_ACK).await?;
    Ok(String::new())
}

async fn message_ack_binary_answered(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket.send_text(BINARY_WITH_ACK).await?;
    for attachment in ATTACHMENTS {
        socket.send_binary(attachment).await?;
    }
    raw::expect_text(&mut socket, BINARY_ACK).await?;
    for attachment in ATTACHMENTS {
        raw::expect_binary(&mut socket, attachment).await?;
    }
    Ok(String::new())
}

async fn invalid_unknown_packet_type_closes(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    raw::expect_close_after(&probe, &mut socket, "4abc").await
}

async fn invalid_payload_not_an_array_closes(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    raw::expect_close_after(&probe, &mut socket, "42{}").await
}

async fn invalid_ack_id_not_a_number_closes(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    raw::expect_close_after(
        &probe,
        &mut socket,
        r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#,
    )
    .await
}

async fn message_ack_no_handler(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    socket
        .send_text(r#"421["siosim-event-nobody-handles"]"#)
        .await?;
    match raw::barrier(&mut socket, probe.timeout()).await? {
        AfterBarrier::Closed(how) => Ok(format!(
            "closed the connection after an event no handler listens to: {how}"
        )),
        AfterBarrier::Open { before, .. } => {
            let ack = before.iter().find_map(|frame| match frame {
                Frame::Text(text) if text.starts_with("431") || text.starts_with("461") => {
                    Some(text.clone())
                }
                _ => None,
            });
            Ok(match ack {
                Some(ack) => format!("acked an event no handler listens to: {ack:?}"),
                None => "no ack to an event no handler listens to (none before the answer \
                         to a later CONNECT)"
                    .to_owned(),
            })
        }
    }
}

async fn message_ack_id_zero_answered(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket
        .send_text(r#"420["message-with-ack","zero"]"#)
        .await?;
    raw::expect_text(&mut socket, r#"430["zero"]"#).await?;
    Ok(String::new())
}

async fn message_ack_no_arguments_answered_with_an_empty_array(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined_past_auth(&probe).await?;
    socket.send_text(r#"421["message-with-ack"]"#).await?;
    raw::expect_text(&mut socket, "431[]").await?;
    Ok(String::new())
}

async fn message_ack_unknown_id_ignored(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    // What a client sends when it answers late, after the server gave up.
    let packet = r#"43999["late answer"]"#;
    socket.send_text(packet).await?;
    match raw::barrier(&mut socket, probe.timeout()).await? {
        AfterBarrier::Closed(how) => {
            broken!(
                "the server closed the connection after an ACK for an unknown id {packet:?}: {how}"
            )
        }
        AfterBarrier::Open { .. } => Ok(String::new()),
    }
}

async fn event_name_json_escapes_accepted(probe: Probe) -> CaseOutcome {
    let mut socket = raw::joined(&probe).await?;
    let packet = r#"42["siosim \"quoted\" back\\slash"]"#;
    socket.send_text(packet).await?;
    match raw::barrier(&mut socket, probe.timeout()).await? {
        AfterBarrier::Closed(how) => {
            broken!("the server closed the connection after the valid EVENT {packet:?}: {how}")
        }
        AfterBarrier::Open { .. } => Ok(String::new()),
    }
}

async fn event_name_reserved_names_refused(probe: Probe) -> CaseOutcome {
    let mut kept_open = Vec::new();
    for name in ["connect", "disconnect"] {
        let mut socket = raw::joined(&probe).await?;
        let packet = format!("42[\"{name}\"]");
        if let Err(CaseError::Broken(why)) =
            raw::expect_close_after(&probe, &mut socket, &packet).await
        {
            kept_open.push(why);
        }
    }
    ensure!(kept_open.is_empty(), "{}", kept_open.join("; "));
    Ok(String::new())
}

// ---------------------------------------------------------------------------
// namespace
// ---------------------------------------------------------------------------

fn sid_of(connected: &SioPacket) -> String {
    connected
        .data
        .as_ref()
        .and_then(|data| data.get("sid"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn namespace_two_namespaces_one_session(probe: Probe) -> CaseOutcome {
    let main_auth = json!({"namespace": "main"});
    let custom_auth = json!({"namespace": "custom"});
    let (session, main) = probe
        .socket(Transport::Websocket, "/", Some(main_auth.clone()))
        .await?;
    let custom = probe
        .join(&session, "/custom", Some(custom_auth.clone()))
        .await?;
    for (namespace, auth) in [("/", &main_auth), ("/custom", &custom_auth)] {
        let args = probe.event(&session, namespace, "auth").await?;
        ensure!(
            args == [auth.clone()],
            "\"auth\" on {namespace} carried {args:?}, expected [{auth}]"
        );
    }
    session
        .send_sio(&SioPacket::event(
            "/",
            "message",
            vec![json!("to the main namespace")],
            None,
        ))
        .await?;
    let args = probe.event(&session, "/", "message-back").await?;
    ensure!(
        args == [json!("to the main namespace")],
        "\"message-back\" on / carried {args:?}"
    );
    if let Some(stray) = session.peek(|p| p.namespace == "/custom") {
        broken!(
            "/custom received {:?}, though nothing was sent there",
            truncated(&stray.encode().0, 160)
        );
    }
    let violations = session.violations();
    ensure!(violations.is_empty(), "protocol violations: {violations:?}");
    // Socket ids are not the rule here (see socket_id::*), but worth a note.
    Ok(if sid_of(&main) == sid_of(&custom) {
        "both namespaces' sockets have the same id".to_owned()
    } else {
        String::new()
    })
}

async fn namespace_unjoined_events_not_handled(probe: Probe) -> CaseOutcome {
    let (session, _) = probe.socket(Transport::Websocket, "/custom", None).await?;
    let unjoined = json!("sent before joining /");
    session
        .send_sio(&SioPacket::event(
            "/",
            "message",
            vec![unjoined.clone()],
            None,
        ))
        .await?;
    // The barrier: join `/` and echo there; the first echo must be this one.
    if let Err(error) = probe.join(&session, "/", None).await {
        return match session.closed_reason() {
            Some(how) => Ok(format!(
                "closed the connection on an EVENT for an unjoined namespace: {how}"
            )),
            None => Err(error),
        };
    }
    let joined = json!("sent after joining /");
    session
        .send_sio(&SioPacket::event(
            "/",
            "message",
            vec![joined.clone()],
            None,
        ))
        .await?;
    let args = probe.event(&session, "/", "message-back").await?;
    ensure!(
        args != [unjoined.clone()],
        "the server handled an EVENT for /, which the client had not joined: it answered \
         \"message-back\" {unjoined}"
    );
    ensure!(
        args == [joined.clone()],
        "\"message-back\" carried {args:?}, expected [{joined}]"
    );
    Ok("ignored the EVENT for the unjoined namespace".to_owned())
}

// ---------------------------------------------------------------------------
// polling
// ---------------------------------------------------------------------------

/// A polling session joined to `/` with `auth`'s CONNECT packet (`40` or
/// `40{…}`): returns it and the server's CONNECT answer.
async fn polling_joined(
    probe: &Probe,
    request: &str,
) -> Result<(PolledPackets, String), CaseError> {
    let mut session = PolledPackets::open(probe).await?;
    session.post(request).await?;
    let answer = session.next().await?;
    let text = answer.encode_text().unwrap_or_default();
    ensure!(
        raw::connect_payload(&text, "/").is_some(),
        "{request:?} was answered by {}, not a CONNECT for /",
        polling::shown(&answer)
    );
    Ok((session, text))
}

/// Waits for the `auth` event on `/`, which must be exactly `expected`.
async fn polling_auth(session: &mut PolledPackets, expected: &str) -> CaseOutcome {
    let mut before = Vec::new();
    loop {
        let packet = session.next().await.map_err(|error| {
            CaseError::Broken(format!(
                "no \"auth\" event: {error}; before: [{}]",
                before.join(", ")
            ))
        })?;
        let text = packet.encode_text().unwrap_or_default();
        if raw::is_event(&text, "/", "auth") {
            ensure!(
                text == expected,
                "the \"auth\" event is {:?}, expected {expected:?}",
                truncated(&text, 160)
            );
            return Ok(if before.is_empty() {
                String::new()
            } else {
                format!("\"auth\" came after [{}]", before.join(", "))
            });
        }
        ensure!(
            before.len() < 16,
            "no \"auth\" event among the first packets: [{}]",
            before.join(", ")
        );
        before.push(polling::shown(&packet));
    }
}

/// The official suite's `initSocketIOConnection`, over long-polling.
async fn polling_joined_past_auth(probe: &Probe) -> Result<PolledPackets, CaseError> {
    let (mut session, _) = polling_joined(probe, "40").await?;
    polling_auth(&mut session, r#"42["auth",{}]"#).await?;
    Ok(session)
}

/// A polling body: `text` then each attachment as `b<base64>`.
fn polling_body(text: &str, attachments: &[&[u8]]) -> String {
    let mut packets = vec![EioPacket::Message(
        text.strip_prefix('4').unwrap_or(text).to_owned(),
    )];
    packets.extend(
        attachments
            .iter()
            .map(|bytes| EioPacket::Binary(bytes.to_vec().into())),
    );
    siosim_harness::codec::encode_polling_payload(&packets)
}

async fn polling_connect_answers_with_sid(probe: Probe) -> CaseOutcome {
    let (_, answer) = polling_joined(&probe, "40").await?;
    raw::sid_only(&answer, "/")?;
    Ok(String::new())
}

async fn polling_connect_emits_auth_with_payload(probe: Probe) -> CaseOutcome {
    let (mut session, answer) = polling_joined(&probe, r#"40{"token":"123"}"#).await?;
    raw::sid_only(&answer, "/")?;
    polling_auth(&mut session, r#"42["auth",{"token":"123"}]"#).await
}

async fn polling_message_plain_echoed(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session.post(PLAIN_MESSAGE).await?;
    session.expect_text(PLAIN_MESSAGE_BACK).await?;
    Ok(String::new())
}

async fn polling_message_binary_echoed(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session
        .post(&polling_body(BINARY_MESSAGE, &ATTACHMENTS))
        .await?;
    session.expect_text(BINARY_MESSAGE_BACK).await?;
    for attachment in ATTACHMENTS {
        session.expect_binary(attachment).await?;
    }
    Ok(String::new())
}

async fn polling_message_record_separator_escaped(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session.post(r#"42["message","before\u001eafter"]"#).await?;
    let packet = session.next().await?;
    let EioPacket::Message(text) = &packet else {
        broken!(
            "expected the \"message-back\" echo, got {}",
            polling::shown(&packet)
        );
    };
    let echoed = text
        .strip_prefix('2')
        .and_then(|json| serde_json::from_str::<Value>(json).ok());
    ensure!(
        echoed == Some(json!(["message-back", "before\u{1e}after"])),
        "expected the \"message-back\" echo of \"before\\u001eafter\", got {:?}",
        truncated(text, 160)
    );
    Ok(String::new())
}

async fn polling_message_batched_events_echoed_in_order(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session
        .post("42[\"message\",\"first\"]\u{1e}42[\"message\",\"second\"]")
        .await?;
    session.expect_text(r#"42["message-back","first"]"#).await?;
    session
        .expect_text(r#"42["message-back","second"]"#)
        .await?;
    Ok(String::new())
}

async fn polling_message_invalid_payload_closes(probe: Probe) -> CaseOutcome {
    let (mut session, _) = polling_joined(&probe, "40").await?;
    session.expect_close_after("42{}").await
}

async fn polling_ack_plain_answered(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session.post(PLAIN_WITH_ACK).await?;
    session.expect_text(PLAIN_ACK).await?;
    Ok(String::new())
}

async fn polling_ack_binary_answered(probe: Probe) -> CaseOutcome {
    let mut session = polling_joined_past_auth(&probe).await?;
    session
        .post(&polling_body(BINARY_WITH_ACK, &ATTACHMENTS))
        .await?;
    session.expect_text(BINARY_ACK).await?;
    for attachment in ATTACHMENTS {
        session.expect_binary(attachment).await?;
    }
    Ok(String::new())
}
