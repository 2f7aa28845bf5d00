//! The realtime REST resource: `/api/things` over HTTP, and the
//! `thing:create` / `thing:destroy` pushes every socket receives.
//!
//! Over TCP these cases share the server with whatever else it holds: they
//! name their things after their socket's sid, compare the list before and
//! after, and delete what they created, whatever their outcome.

use std::cell::RefCell;

use serde_json::{Value, json};
use siosim_harness::Transport;
use siosim_harness::client::HttpResponse;

use super::client::{AppClient, sized_name};
use super::ordering::ORDERING;
use crate::case::{Case, CaseError, CaseOutcome, Clause, Spec};
use crate::probe::{Probe, truncated};
use crate::{broken, case, ensure};

const LIST: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`GET /api/things`: `200`, JSON array of things in insertion order",
};

const CREATE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`POST /api/things` (`Content-Type: application/json`, body `{\"name\": string, \"info\"?: string or null}`, name 1–200 characters, unknown fields ignored): `201`, the created thing; pushes `thing:create`",
};

const CREATE_ERRORS: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`POST /api/things` errors (JSON body `{\"error\":\"<why>\"}`): `400` bad JSON, missing or wrong content type, body not an object, name missing, empty, not a string or over 200 characters, info not a string; `409` name already exists; `413` body over 16 KiB. A refused request changes nothing and pushes nothing",
};

const DESTROY: Clause = Clause {
    spec: Spec::SeedApp,
    section: "HTTP routes",
    rule: "`DELETE /api/things/{name}` (name percent-encoded in the path): `204`, empty body; pushes `thing:destroy`; `404` no such thing",
};

const THING_CREATE: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`thing:create` (server → client, the thing `{\"name\": string, \"info\": string or null}`): every socket, after a successful `POST /api/things`",
};

const THING_DESTROY: Clause = Clause {
    spec: Spec::SeedApp,
    section: "Socket.IO events",
    rule: "`thing:destroy` (server → client, the thing's name): every socket, after a successful `DELETE /api/things/{name}`",
};

const THINGS: &str = "/api/things";
const JSON: &str = "application/json";
/// Longest valid thing name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Largest accepted body, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            "app::things::list::is_a_json_array_of_things",
            Must,
            App,
            LIST,
            list_is_a_json_array
        ),
        case!(
            "app::things::list::keeps_insertion_order",
            Must,
            App,
            LIST,
            list_keeps_insertion_order
        ),
        case!(
            "app::things::create::answers_201_with_the_thing",
            Must,
            App,
            CREATE,
            create_answers_201
        ),
        case!(
            "app::things::create::ignores_unknown_fields",
            Must,
            App,
            CREATE,
            create_ignores_unknown_fields
        ),
        case!(
            "app::things::create::accepts_names_of_200_characters",
            Must,
            App,
            CREATE,
            create_accepts_200_characters
        ),
        case!(
            "app::things::create::pushes_thing_create_to_every_socket",
            Must,
            App,
            THING_CREATE,
            create_pushes_to_every_socket
        ),
        case!(
            "app::things::create::refuses_malformed_requests_with_400",
            Must,
            App,
            CREATE_ERRORS,
            create_refuses_malformed_requests
        ),
        case!(
            "app::things::create::refuses_invalid_fields_with_400",
            Must,
            App,
            CREATE_ERRORS,
            create_refuses_invalid_fields
        ),
        case!(
            "app::things::create::refuses_a_duplicate_name_with_409",
            Must,
            App,
            CREATE_ERRORS,
            create_refuses_a_duplicate
        ),
        case!(
            "app::things::create::refuses_a_body_over_16_kib_with_413",
            Must,
            App,
            CREATE_ERRORS,
            create_refuses_an_oversize_body
        ),
        case!(
            "app::things::create::accepts_a_body_of_exactly_16_kib",
            Must,
            App,
            CREATE_ERRORS,
            create_accepts_a_16_kib_body
        ),
        case!(
            "app::things::destroy::answers_204_and_pushes_thing_destroy",
            Must,
            App,
            THING_DESTROY,
            destroy_answers_204_and_pushes
        ),
        case!(
            "app::things::destroy::unknown_name_is_404",
            Must,
            App,
            DESTROY,
            destroy_unknown_is_404
        ),
        case!(
            "app::things::destroy::takes_a_percent_encoded_name",
            Must,
            App,
            DESTROY,
            destroy_takes_percent_encoded_names
        ),
        case!(
            "app::things::destroy::takes_a_percent_encoded_slash",
            Must,
            App,
            DESTROY,
            destroy_takes_an_encoded_slash
        ),
        case!(
            "app::ordering::things::pushes_in_change_order",
            Must,
            App,
            ORDERING,
            pushes_in_change_order
        ),
    ]
}

/// The names a case created, deleted when it ends whatever its outcome.
#[derive(Debug, Default)]
struct Created(RefCell<Vec<String>>);

impl Created {
    fn add(&self, name: &str) {
        self.0.borrow_mut().push(name.to_owned());
    }

    fn forget(&self, name: &str) {
        self.0.borrow_mut().retain(|n| n != name);
    }

    /// Best effort: a server that cannot delete has failed its case already.
    async fn remove_all(&self, probe: &Probe) {
        let names = self.0.take();
        for name in names {
            let _ = probe
                .http("DELETE", &thing_path(&name), None, Vec::new())
                .await;
        }
    }
}

/// Runs `body` and then deletes what it created.
macro_rules! cleaning_up {
    ($probe:ident, $body:ident) => {{
        let created = Created::default();
        let outcome = $body(&$probe, &created).await;
        created.remove_all(&$probe).await;
        outcome
    }};
}

/// A thing name unique to `client`: `siosim-<sid>-<label>`.
fn name_for(client: &AppClient, label: &str) -> String {
    format!("siosim-{}-{label}", client.sid())
}

/// `/api/things/<name>`, percent-encoded (RFC 3986 unreserved kept).
fn thing_path(name: &str) -> String {
    let mut path = format!("{THINGS}/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

async fn post(probe: &Probe, body: &Value) -> Result<HttpResponse, CaseError> {
    probe
        .http("POST", THINGS, Some(JSON), body.to_string())
        .await
}

/// POSTs `body`, requires `201`, records the name for cleanup, returns the
/// created thing as answered.
async fn create(probe: &Probe, created: &Created, body: &Value) -> Result<Value, CaseError> {
    let response = post(probe, body).await?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if (200..300).contains(&response.status) {
        created.add(name);
    }
    ensure!(
        response.status == 201,
        "POST {THINGS} {body} answered {} {:?}, not 201",
        response.status,
        truncated(&response.body_text(), 200)
    );
    json_body(&format!("POST {THINGS} {body}"), &response)
}

/// DELETEs `name`, requires `204`.
async fn destroy(probe: &Probe, created: &Created, name: &str) -> Result<(), CaseError> {
    let response = probe
        .http("DELETE", &thing_path(name), None, Vec::new())
        .await?;
    if response.status == 204 {
        created.forget(name);
    }
    ensure!(
        response.status == 204,
        "DELETE {} answered {} {:?}, not 204",
        thing_path(name),
        response.status,
        truncated(&response.body_text(), 200)
    );
    ensure!(
        response.body.is_empty(),
        "DELETE {} answered 204 with a body {:?}",
        thing_path(name),
        truncated(&response.body_text(), 200)
    );
    Ok(())
}

fn json_body(what: &str, response: &HttpResponse) -> Result<Value, CaseError> {
    serde_json::from_slice(&response.body).map_err(|e| {
        CaseError::Broken(format!(
            "{what}: the body {:?} is not JSON ({e})",
            truncated(&response.body_text(), 200)
        ))
    })
}

/// Requires `status` with the JSON body `{"error":"<why>"}`.
fn expect_refusal(what: &str, response: &HttpResponse, status: u16) -> Result<(), CaseError> {
    ensure!(
        response.status == status,
        "{what} answered {} {:?}, not {status}",
        response.status,
        truncated(&response.body_text(), 200)
    );
    let body = json_body(&format!("{what} ({status})"), response)?;
    let shaped = body
        .as_object()
        .is_some_and(|fields| fields.get("error").is_some_and(Value::is_string));
    ensure!(
        shaped,
        "{what} answered {status} with {:?}, not {{\"error\":\"<why>\"}}",
        truncated(&response.body_text(), 200)
    );
    Ok(())
}

/// `GET /api/things`, required to be `200` with a JSON array of things.
async fn list(probe: &Probe) -> Result<Vec<Value>, CaseError> {
    let response = probe.get(THINGS).await?;
    ensure!(
        response.status == 200,
        "GET {THINGS} answered {} {:?}",
        response.status,
        truncated(&response.body_text(), 200)
    );
    match json_body(&format!("GET {THINGS}"), &response)? {
        Value::Array(things) => Ok(things),
        other => Err(CaseError::Broken(format!(
            "GET {THINGS} answered {}, not a JSON array",
            truncated(&other.to_string(), 200)
        ))),
    }
}

/// The names in `things` that are among `names`, in list order.
fn listed(things: &[Value], names: &[&str]) -> Vec<String> {
    things
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .filter(|name| names.contains(name))
        .map(str::to_owned)
        .collect()
}

/// The contract's thing shape: `{"name": string, "info": string or null}`.
fn is_thing(value: &Value) -> bool {
    value.as_object().is_some_and(|fields| {
        fields.get("name").is_some_and(Value::is_string)
            && fields
                .get("info")
                .is_some_and(|info| info.is_string() || info.is_null())
    })
}

/// Proves a refused request changed nothing and pushed nothing: none of
/// `refused` is listed, and the next `thing:create` `watcher` receives is
/// the marker created afterwards (pushes come in change order).
async fn expect_nothing_changed(
    probe: &Probe,
    created: &Created,
    watcher: &AppClient,
    refused: &[&str],
) -> Result<(), CaseError> {
    let marker = name_for(watcher, "marker");
    let thing = create(probe, created, &json!({"name": marker})).await?;
    let pushed = watcher.next("thing:create").await?;
    ensure!(
        pushed == thing,
        "after refused requests, {} was pushed \"thing:create\" {}, before the marker {thing} created after them",
        watcher.alias(),
        truncated(&pushed.to_string(), 200)
    );
    let things = list(probe).await?;
    let leaked = listed(&things, refused);
    ensure!(
        leaked.is_empty(),
        "refused requests created {leaked:?}: GET {THINGS} lists them"
    );
    Ok(())
}

async fn list_is_a_json_array(probe: Probe) -> CaseOutcome {
    let response = probe.get(THINGS).await?;
    ensure!(
        response.status == 200,
        "GET {THINGS} answered {} {:?}",
        response.status,
        truncated(&response.body_text(), 200)
    );
    let content_type = response.content_type.clone().unwrap_or_default();
    ensure!(
        content_type.starts_with(JSON),
        "GET {THINGS} has Content-Type {content_type:?}, not {JSON}"
    );
    let things = list(&probe).await?;
    if let Some(odd) = things.iter().find(|t| !is_thing(t)) {
        broken!(
            "GET {THINGS} lists {}, not a {{\"name\": string, \"info\": string or null}} thing",
            truncated(&odd.to_string(), 200)
        );
    }
    Ok(format!("{} things listed", things.len()))
}

async fn list_keeps_insertion_order(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, list_keeps_insertion_order_in)
}

async fn list_keeps_insertion_order_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let client = AppClient::connect(probe, Transport::Websocket).await?;
    // Not alphabetical, so a sorted list shows.
    let names = ["c", "a", "b"].map(|label| name_for(&client, label));
    for name in &names {
        create(probe, created, &json!({"name": name})).await?;
    }
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let order = listed(&list(probe).await?, &wanted);
    ensure!(
        order == wanted,
        "created {wanted:?} in that order, GET {THINGS} lists {order:?}"
    );
    destroy(probe, created, &names[1]).await?;
    let rest = [wanted[0], wanted[2]];
    let order = listed(&list(probe).await?, &rest);
    ensure!(
        order == rest,
        "after deleting {:?}, GET {THINGS} lists {order:?}, not {rest:?}",
        wanted[1]
    );
    Ok(String::new())
}

async fn create_answers_201(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_answers_201_in)
}

async fn create_answers_201_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let client = AppClient::connect(probe, Transport::Websocket).await?;
    let with_info = name_for(&client, "with-info");
    let without_info = name_for(&client, "without-info");
    let null_info = name_for(&client, "null-info");
    let bodies = [
        (
            json!({"name": with_info, "info": "a note"}),
            json!({"name": with_info, "info": "a note"}),
        ),
        (
            json!({"name": without_info}),
            json!({"name": without_info, "info": null}),
        ),
        (
            json!({"name": null_info, "info": null}),
            json!({"name": null_info, "info": null}),
        ),
    ];
    for (body, expected) in bodies {
        let thing = create(probe, created, &body).await?;
        ensure!(
            thing == expected,
            "POST {THINGS} {body} answered 201 with {}, not the thing {expected}",
            truncated(&thing.to_string(), 200)
        );
    }
    let names = [
        with_info.as_str(),
        without_info.as_str(),
        null_info.as_str(),
    ];
    let shown = listed(&list(probe).await?, &names);
    ensure!(
        shown == names,
        "after creating {names:?}, GET {THINGS} lists {shown:?}"
    );
    Ok(String::new())
}

async fn create_ignores_unknown_fields(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_ignores_unknown_fields_in)
}

async fn create_ignores_unknown_fields_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let client = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_for(&client, "extra");
    let body = json!({"name": name, "info": "i", "colour": "blue", "size": 3});
    let thing = create(probe, created, &body).await?;
    let expected = json!({"name": name, "info": "i"});
    ensure!(
        thing == expected,
        "POST {THINGS} {body} answered 201 with {}, not {expected}",
        truncated(&thing.to_string(), 200)
    );
    Ok(String::new())
}

async fn create_accepts_200_characters(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_accepts_200_characters_in)
}

async fn create_accepts_200_characters_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let client = AppClient::connect(probe, Transport::Websocket).await?;
    for fill in ['x', 'é'] {
        // Characters, not bytes: 200 'é' are 400 bytes.
        let name = sized_name(&name_for(&client, "long"), MAX_NAME_CHARS, fill);
        let thing = create(probe, created, &json!({"name": name})).await?;
        ensure!(
            thing.get("name") == Some(&json!(name)),
            "a {MAX_NAME_CHARS}-character name of {fill:?} came back as {}",
            truncated(&thing.to_string(), 120)
        );
    }
    Ok(String::new())
}

async fn create_pushes_to_every_socket(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_pushes_to_every_socket_in)
}

async fn create_pushes_to_every_socket_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let mut clients = Vec::new();
    for transport in [Transport::Websocket, Transport::Polling, Transport::Upgrade] {
        clients.push(AppClient::connect(probe, transport).await?);
    }
    let name = name_for(&clients[0], "pushed");
    let thing = create(probe, created, &json!({"name": name, "info": "for all"})).await?;
    for client in &clients {
        let pushed = client.next("thing:create").await?;
        ensure!(
            pushed == json!({"name": name, "info": "for all"}),
            "{} was pushed \"thing:create\" {}, the POST answered {thing}",
            client.alias(),
            truncated(&pushed.to_string(), 200)
        );
    }
    Ok(String::new())
}

async fn create_refuses_malformed_requests(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_refuses_malformed_requests_in)
}

async fn create_refuses_malformed_requests_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_for(&watcher, "malformed");
    let valid = json!({"name": name}).to_string();
    let requests: [(&str, Option<&str>, String); 7] = [
        ("bad JSON", Some(JSON), format!("{{\"name\": \"{name}\"")),
        ("no Content-Type", None, valid.clone()),
        ("Content-Type text/plain", Some("text/plain"), valid.clone()),
        (
            "Content-Type application/x-www-form-urlencoded",
            Some("application/x-www-form-urlencoded"),
            format!("name={name}"),
        ),
        ("an empty body", Some(JSON), String::new()),
        (
            "an array body",
            Some(JSON),
            json!([{"name": name}]).to_string(),
        ),
        ("a string body", Some(JSON), json!(name).to_string()),
    ];
    for (what, content_type, body) in requests {
        let response = probe.http("POST", THINGS, content_type, body).await?;
        if (200..300).contains(&response.status) {
            created.add(&name);
        }
        expect_refusal(&format!("POST {THINGS} with {what}"), &response, 400)?;
    }
    expect_nothing_changed(probe, created, &watcher, &[&name]).await?;
    Ok(String::new())
}

async fn create_refuses_invalid_fields(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_refuses_invalid_fields_in)
}

async fn create_refuses_invalid_fields_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Polling).await?;
    let name = name_for(&watcher, "invalid");
    let too_long = sized_name(&name, MAX_NAME_CHARS + 1, 'x');
    let bodies = [
        ("no name", json!({"info": name})),
        ("an empty name", json!({"name": ""})),
        ("a number name", json!({"name": 42})),
        ("a null name", json!({"name": null})),
        ("an array name", json!({"name": [name]})),
        ("a 201-character name", json!({"name": too_long})),
        ("a number info", json!({"name": name, "info": 42})),
        (
            "an object info",
            json!({"name": name, "info": {"text": "x"}}),
        ),
    ];
    for (what, body) in bodies {
        let response = post(probe, &body).await?;
        if (200..300).contains(&response.status) {
            for n in [&name, &too_long, &String::new()] {
                created.add(n);
            }
        }
        expect_refusal(&format!("POST {THINGS} {body} ({what})"), &response, 400)?;
    }
    expect_nothing_changed(probe, created, &watcher, &[&name, &too_long, ""]).await?;
    Ok(String::new())
}

async fn create_refuses_a_duplicate(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_refuses_a_duplicate_in)
}

async fn create_refuses_a_duplicate_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_for(&watcher, "twice");
    let original = create(probe, created, &json!({"name": name, "info": "first"})).await?;
    let first_push = watcher.next("thing:create").await?;
    ensure!(
        first_push == original,
        "the first POST pushed {first_push}, answered {original}"
    );
    let again = json!({"name": name, "info": "second"});
    let response = post(probe, &again).await?;
    expect_refusal(&format!("a second POST {THINGS} {again}"), &response, 409)?;
    let things = list(probe).await?;
    let copies: Vec<&Value> = things
        .iter()
        .filter(|t| t.get("name") == Some(&json!(name)))
        .collect();
    ensure!(
        copies == [&original],
        "after the refused duplicate, GET {THINGS} holds {copies:?} for {name:?}, not just {original}"
    );
    expect_nothing_changed(probe, created, &watcher, &[]).await?;
    Ok(String::new())
}

/// A valid `{name, info}` body of exactly `bytes` bytes.
fn body_of_size(name: &str, bytes: usize) -> String {
    let empty = json!({"name": name, "info": ""}).to_string();
    let padding = bytes.saturating_sub(empty.len());
    json!({"name": name, "info": "p".repeat(padding)}).to_string()
}

async fn create_refuses_an_oversize_body(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_refuses_an_oversize_body_in)
}

async fn create_refuses_an_oversize_body_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_for(&watcher, "oversize");
    let body = body_of_size(&name, MAX_BODY_BYTES + 1);
    let response = probe.http("POST", THINGS, Some(JSON), body).await?;
    if (200..300).contains(&response.status) {
        created.add(&name);
    }
    expect_refusal(
        &format!("POST {THINGS} with a {}-byte body", MAX_BODY_BYTES + 1),
        &response,
        413,
    )?;
    expect_nothing_changed(probe, created, &watcher, &[&name]).await?;
    Ok(String::new())
}

async fn create_accepts_a_16_kib_body(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, create_accepts_a_16_kib_body_in)
}

async fn create_accepts_a_16_kib_body_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let client = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_for(&client, "16kib");
    let body = body_of_size(&name, MAX_BODY_BYTES);
    let response = probe.http("POST", THINGS, Some(JSON), body).await?;
    if (200..300).contains(&response.status) {
        created.add(&name);
    }
    ensure!(
        response.status == 201,
        "POST {THINGS} with a body of exactly {MAX_BODY_BYTES} bytes answered {} {:?}, not 201 (only a body over 16 KiB is 413)",
        response.status,
        truncated(&response.body_text(), 200)
    );
    Ok(String::new())
}

async fn destroy_answers_204_and_pushes(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, destroy_answers_204_and_pushes_in)
}

async fn destroy_answers_204_and_pushes_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let mut clients = Vec::new();
    for transport in [Transport::Websocket, Transport::Polling, Transport::Upgrade] {
        clients.push(AppClient::connect(probe, transport).await?);
    }
    let name = name_for(&clients[0], "doomed");
    create(probe, created, &json!({"name": name})).await?;
    destroy(probe, created, &name).await?;
    for client in &clients {
        let pushed = client.next("thing:destroy").await?;
        ensure!(
            pushed == json!(name),
            "{} was pushed \"thing:destroy\" {}, not {name:?}",
            client.alias(),
            truncated(&pushed.to_string(), 200)
        );
    }
    let left = listed(&list(probe).await?, &[&name]);
    ensure!(
        left.is_empty(),
        "GET {THINGS} still lists {name:?} after 204"
    );
    Ok(String::new())
}

async fn destroy_unknown_is_404(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, destroy_unknown_is_404_in)
}

async fn destroy_unknown_is_404_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Websocket).await?;
    let missing = name_for(&watcher, "never-created");
    let response = probe
        .http("DELETE", &thing_path(&missing), None, Vec::new())
        .await?;
    expect_refusal(&format!("DELETE {}", thing_path(&missing)), &response, 404)?;
    // Barrier: a real deletion afterwards; its push must be the first.
    let marker = name_for(&watcher, "marker");
    create(probe, created, &json!({"name": marker})).await?;
    destroy(probe, created, &marker).await?;
    let pushed = watcher.next("thing:destroy").await?;
    ensure!(
        pushed == json!(marker),
        "after the 404, {} was pushed \"thing:destroy\" {pushed} before the later deletion of {marker:?}",
        watcher.alias()
    );
    Ok(String::new())
}

async fn destroy_takes_percent_encoded_names(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, destroy_takes_percent_encoded_names_in)
}

async fn destroy_takes_percent_encoded_names_in(probe: &Probe, created: &Created) -> CaseOutcome {
    destroy_by_encoded_name(probe, created, |sid| format!("siosim {sid} é?#%+&=")).await
}

async fn destroy_takes_an_encoded_slash(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, destroy_takes_an_encoded_slash_in)
}

async fn destroy_takes_an_encoded_slash_in(probe: &Probe, created: &Created) -> CaseOutcome {
    destroy_by_encoded_name(probe, created, |sid| format!("siosim/{sid}/slash")).await
}

/// Creates a thing named by `name_of(sid)`, deletes it by its
/// percent-encoded path, and checks the push names it exactly.
async fn destroy_by_encoded_name(
    probe: &Probe,
    created: &Created,
    name_of: impl Fn(&str) -> String,
) -> CaseOutcome {
    let watcher = AppClient::connect(probe, Transport::Websocket).await?;
    let name = name_of(watcher.sid());
    create(probe, created, &json!({"name": name})).await?;
    destroy(probe, created, &name).await?;
    let pushed = watcher.next("thing:destroy").await?;
    ensure!(
        pushed == json!(name),
        "DELETE {} pushed \"thing:destroy\" {pushed}, not {name:?}",
        thing_path(&name)
    );
    Ok(format!("DELETE {}", thing_path(&name)))
}

async fn pushes_in_change_order(probe: Probe) -> CaseOutcome {
    cleaning_up!(probe, pushes_in_change_order_in)
}

async fn pushes_in_change_order_in(probe: &Probe, created: &Created) -> CaseOutcome {
    let watchers = [
        AppClient::connect(probe, Transport::Websocket).await?,
        AppClient::connect(probe, Transport::Polling).await?,
    ];
    let [a, b, c] = ["a", "b", "c"].map(|label| name_for(&watchers[0], label));
    let mut changes = Vec::new();
    for (create_it, name) in [
        (true, &a),
        (true, &b),
        (false, &a),
        (true, &c),
        (false, &b),
        (false, &c),
    ] {
        if create_it {
            create(probe, created, &json!({"name": name})).await?;
            changes.push(("thing:create", json!({"name": name, "info": null})));
        } else {
            destroy(probe, created, name).await?;
            changes.push(("thing:destroy", json!(name)));
        }
    }
    for watcher in &watchers {
        for (index, (event, expected)) in changes.iter().enumerate() {
            let packet = watcher
                .session()
                .take(watcher.timeout(), |p| {
                    matches!(p.event_name(), Some("thing:create" | "thing:destroy"))
                })
                .await
                .map_err(|why| {
                    CaseError::Broken(format!(
                        "{} got {index} of {} pushes: {why}",
                        watcher.alias(),
                        changes.len()
                    ))
                })?;
            let got = (packet.event_name().unwrap_or_default(), packet.args());
            ensure!(
                got.0 == *event && got.1 == [expected.clone()],
                "push {} to {} was {:?}, the change made then was {event} {expected}",
                index + 1,
                watcher.alias(),
                truncated(&packet.encode().0, 200)
            );
        }
    }
    Ok(String::new())
}
