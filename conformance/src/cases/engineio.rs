//! `engineio::*`: the Engine.IO v4 transport rules (handshake, message
//! framing, heartbeat, close, upgrade), as the official engine.io-protocol
//! test suite checks them.

use siosim_harness::codec::EioPacket;

use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{case, ensure};

const HANDSHAKE: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Handshake",
    rule: "the server answers a request without sid with an OPEN packet carrying sid, upgrades, pingInterval, pingTimeout and maxPayload",
};

const QUERY_PARAMETERS: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Query parameters",
    rule: "EIO (protocol version, 4) and transport are mandatory; a request with an invalid value is rejected with HTTP 400",
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "engineio::handshake::polling::opens_a_session",
            Must,
            Protocol,
            HANDSHAKE,
            polling_opens_a_session
        ),
        case!(
            "engineio::handshake::polling::rejects_invalid_eio",
            Must,
            Protocol,
            QUERY_PARAMETERS,
            polling_rejects_invalid_eio
        ),
    ]
}

async fn polling_opens_a_session(probe: Probe) -> CaseOutcome {
    let response = probe
        .get(&probe.engine_target("EIO=4&transport=polling"))
        .await?;
    ensure!(
        response.status == 200,
        "answered {} instead of 200",
        response.status
    );
    let body = response.body_text();
    let handshake = match EioPacket::decode_text(&body) {
        Ok(EioPacket::Open(handshake)) => handshake,
        Ok(_) => crate::broken!("answered {:?}, not an OPEN packet", truncated(&body, 80)),
        Err(violation) => crate::broken!("malformed OPEN packet: {violation}"),
    };
    ensure!(!handshake.sid.is_empty(), "the sid is empty");
    ensure!(
        handshake.upgrades.iter().any(|u| u == "websocket"),
        "upgrades {:?} lacks \"websocket\"",
        handshake.upgrades
    );
    Ok(format!(
        "pingInterval {} ms, pingTimeout {} ms, maxPayload {}",
        handshake.ping_interval_ms, handshake.ping_timeout_ms, handshake.max_payload
    ))
}

async fn polling_rejects_invalid_eio(probe: Probe) -> CaseOutcome {
    let response = probe
        .get(&probe.engine_target("EIO=abc&transport=polling"))
        .await?;
    ensure!(
        response.status == 400,
        "EIO=abc answered {} instead of 400",
        response.status
    );
    Ok(String::new())
}
