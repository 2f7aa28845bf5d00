//! What the page routes promise over HTTP: `GET /`, the page's client
//! script, and the Socket.IO path. (The page's live behaviour in a browser
//! is tested in server/tests.)

use siosim_harness::codec::EioPacket;

use crate::case::{Case, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{case, ensure};

const PAGE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`GET /`: `200`, the HTML page (counter, chat, rooms, live things list)",
};

const CLIENT_SCRIPT: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`GET /siosim-client.js`: `200`, `text/javascript`: the page's own Socket.IO v5 client (WebSocket transport)",
};

const SOCKETIO_PATH: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`{path}/…` (default `/socket.io/…`): Engine.IO v4 / Socket.IO v5, WebSocket and HTTP long-polling; a path other than the configured one is `404`",
};

const CLIENT_SCRIPT_PATH: &str = "/siosim-client.js";

/// What the page must show, as words its HTML contains (any case): the
/// README's "(counter, chat, rooms, live things list)".
const PAGE_PARTS: [&str; 4] = ["counter", "chat", "room", "thing"];

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::page::serves_the_html_page",
            Must,
            App,
            PAGE,
            serves_the_html_page
        ),
        case!(
            "app::page::serves_its_own_client_script",
            Must,
            App,
            CLIENT_SCRIPT,
            serves_its_own_client_script
        ),
        case!(
            "app::page::loads_its_own_client_script",
            Should,
            App,
            CLIENT_SCRIPT,
            page_loads_its_own_client_script
        ),
        case!(
            "app::page::other_socketio_path_is_404",
            Must,
            App,
            SOCKETIO_PATH,
            other_socketio_path_is_404
        ),
    ]
}

async fn serves_the_html_page(probe: Probe) -> CaseOutcome {
    let response = probe.get("/").await?;
    ensure!(
        response.status == 200,
        "GET / answered {} {:?}",
        response.status,
        truncated(&response.body_text(), 120)
    );
    let content_type = response.content_type.clone().unwrap_or_default();
    ensure!(
        content_type.starts_with("text/html"),
        "GET / has Content-Type {content_type:?}, not text/html"
    );
    let html = response.body_text().to_lowercase();
    ensure!(
        html.contains("<html") && html.contains("<button"),
        "GET / is not an HTML page with a button: {:?}",
        truncated(&response.body_text(), 200)
    );
    let missing: Vec<&str> = PAGE_PARTS
        .into_iter()
        .filter(|part| !html.contains(part))
        .collect();
    ensure!(
        missing.is_empty(),
        "the page never mentions {missing:?} (it must show counter, chat, rooms and the live things list)"
    );
    Ok(format!("{} bytes of HTML", response.body.len()))
}

async fn serves_its_own_client_script(probe: Probe) -> CaseOutcome {
    let response = probe.get(CLIENT_SCRIPT_PATH).await?;
    ensure!(
        response.status == 200,
        "GET {CLIENT_SCRIPT_PATH} answered {} {:?}",
        response.status,
        truncated(&response.body_text(), 120)
    );
    let content_type = response.content_type.clone().unwrap_or_default();
    ensure!(
        content_type.starts_with("text/javascript"),
        "GET {CLIENT_SCRIPT_PATH} has Content-Type {content_type:?}, not text/javascript"
    );
    ensure!(
        !response.body.is_empty(),
        "GET {CLIENT_SCRIPT_PATH} is empty"
    );
    Ok(String::new())
}

/// "The page's own client": the page loads it. Implied by the row rather
/// than stated as a requirement, hence SHOULD.
async fn page_loads_its_own_client_script(probe: Probe) -> CaseOutcome {
    let page = probe.get("/").await?;
    ensure!(
        page.body_text().contains(CLIENT_SCRIPT_PATH),
        "the page (GET /, {}) does not load {CLIENT_SCRIPT_PATH}, its own client",
        page.status
    );
    Ok(String::new())
}

async fn other_socketio_path_is_404(probe: Probe) -> CaseOutcome {
    let here = probe.engine_target("EIO=4&transport=polling");
    let answer = probe.get(&here).await?;
    ensure!(
        answer.status == 200
            && matches!(
                EioPacket::decode_text(&answer.body_text()),
                Ok(EioPacket::Open(_))
            ),
        "the configured path: GET {here} answered {} {:?}, not an OPEN packet",
        answer.status,
        truncated(&answer.body_text(), 120)
    );
    let elsewhere = format!(
        "{}-elsewhere/?EIO=4&transport=polling",
        probe.socketio_path()
    );
    let response = probe.get(&elsewhere).await?;
    ensure!(
        response.status == 404,
        "GET {elsewhere} answered {} {:?}, not 404",
        response.status,
        truncated(&response.body_text(), 120)
    );
    Ok(String::new())
}
