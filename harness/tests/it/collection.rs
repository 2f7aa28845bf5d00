//! The REST collection checker against hand-made traces: silent on a
//! correct history (re-creates, pre-existing items, unanswered requests and
//! restarts included), and each violation caught with its witnessing lines.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Json, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use siosim_harness::invariants::collection::{self, Collection};
use siosim_harness::invariants::{History, Invariant, Violation};
use siosim_harness::{
    ClientScript, EventKind, Scenario, Simulation, Step, Trace, TraceEvent, Transport,
};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;

/// A trace from `(ms, actor, kind, text)` rows, kinds as the trace prints them.
fn trace(rows: &[(u64, &str, &str, &str)]) -> Trace {
    let events = rows
        .iter()
        .map(|&(ms, actor, kind, text)| TraceEvent {
            at_us: ms * 1000,
            actor: actor.into(),
            kind: match kind {
                "send" => EventKind::Send,
                "recv" => EventKind::Recv,
                "sess" => EventKind::Session,
                "http" => EventKind::Http,
                "fault" => EventKind::Fault,
                other => panic!("unknown kind {other}"),
            },
            text: text.into(),
        })
        .collect();
    Trace { version: 1, events }
}

/// The reference app's things, judged on `rows`.
fn check(rows: &[(u64, &str, &str, &str)]) -> Vec<Violation> {
    let trace = trace(rows);
    let scenario = Scenario::new("hand-made");
    Collection::new("/api/things", "thing:create", "thing:destroy")
        .check(&History::new(&trace, &scenario))
}

fn assert_clean(violations: &[Violation]) {
    assert!(violations.is_empty(), "{violations:#?}");
}

/// The one violation, which must be `invariant`.
fn only(violations: &[Violation], invariant: &str) -> Violation {
    assert!(
        violations.len() == 1 && violations[0].invariant == invariant,
        "expected one {invariant}, got {violations:#?}"
    );
    violations[0].clone()
}

fn witness_texts(violation: &Violation) -> Vec<String> {
    violation
        .witnesses
        .iter()
        .map(|e| format!("{} {}", e.actor, e.text))
        .collect()
}

/// Alice and Bob joined `/`, from 0 ms.
const JOINED: &[(u64, &str, &str, &str)] = &[
    (0, "alice#1", "sess", "open websocket"),
    (0, "bob#1", "sess", "open websocket"),
    (1, "alice#1", "send", "40"),
    (1, "bob#1", "send", "40"),
    (2, "alice#1", "recv", r#"40{"sid":"alice#1"}"#),
    (2, "bob#1", "recv", r#"40{"sid":"bob#1"}"#),
];

const CREATED_APPLE: &str = r#"201 {"name":"apple","info":"red"}"#;
const CREATE_APPLE: &str = r#"42["thing:create",{"name":"apple","info":"red"}]"#;
const DESTROY_APPLE: &str = r#"42["thing:destroy","apple"]"#;

fn with(rows: &[(u64, &'static str, &'static str, &'static str)]) -> Vec<Violation> {
    let mut all = JOINED.to_vec();
    all.extend_from_slice(rows);
    check(&all)
}

#[test]
fn a_create_a_read_and_a_delete_pushed_to_everyone_pass() {
    assert_clean(&with(&[
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple","info":"red"}"#,
        ),
        (12, "bob#1", "recv", CREATE_APPLE),
        (12, "alice#1", "http", CREATED_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
        (
            14,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (
            15,
            "alice#1",
            "http",
            r#"409 {"error":"thing \"apple\" already exists"}"#,
        ),
        (16, "alice#1", "http", "GET /api/things"),
        (
            17,
            "alice#1",
            "http",
            r#"200 [{"name":"apple","info":"red"}]"#,
        ),
        (20, "bob#1", "http", "DELETE /api/things/apple"),
        (21, "bob#1", "http", "204 "),
        (22, "bob#1", "recv", DESTROY_APPLE),
        (22, "alice#1", "recv", DESTROY_APPLE),
        (23, "bob#1", "http", "DELETE /api/things/apple"),
        (
            24,
            "bob#1",
            "http",
            r#"404 {"error":"no thing named \"apple\""}"#,
        ),
        (25, "alice#1", "http", "GET /api/things"),
        (26, "alice#1", "http", "200 []"),
        (5000, "alice#1", "sess", "closed: closed by the client"),
        (5000, "bob#1", "sess", "closed: closed by the client"),
    ]));
}

#[test]
fn a_read_missing_a_pushed_item_is_caught_with_the_push_and_the_read() {
    let violation = only(
        &with(&[
            (
                10,
                "alice#1",
                "http",
                r#"POST /api/things {"name":"apple"}"#,
            ),
            (12, "bob#1", "recv", CREATE_APPLE),
            (12, "alice#1", "http", CREATED_APPLE),
            (13, "alice#1", "recv", CREATE_APPLE),
            (14, "bob", "http", "GET /api/things"),
            (15, "bob", "http", "200 []"),
        ]),
        collection::READ_AFTER_PUSH,
    );
    assert!(
        violation
            .summary
            .contains("bob's GET /api/things does not list \"apple\""),
        "{}",
        violation.summary
    );
    assert_eq!(
        witness_texts(&violation),
        [
            format!("bob#1 {CREATE_APPLE}"),
            "bob GET /api/things".to_owned(),
            "bob 200 []".to_owned()
        ]
    );
}

#[test]
fn a_read_may_miss_an_item_whose_delete_was_sent_before_it_was_answered() {
    assert_clean(&with(&[
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (12, "bob#1", "recv", CREATE_APPLE),
        (12, "alice#1", "http", CREATED_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
        (14, "alice#1", "http", "GET /api/things"),
        (15, "bob#1", "http", "DELETE /api/things/apple"),
        (16, "alice#1", "http", "200 []"),
        (17, "bob#1", "http", "204 "),
        (18, "bob#1", "recv", DESTROY_APPLE),
        (18, "alice#1", "recv", DESTROY_APPLE),
    ]));
}

#[test]
fn a_read_listing_a_destroyed_item_is_caught_though_it_was_created_before() {
    let violation = only(
        &with(&[
            (
                10,
                "alice#1",
                "http",
                r#"POST /api/things {"name":"apple"}"#,
            ),
            (12, "bob#1", "recv", CREATE_APPLE),
            (12, "alice#1", "http", CREATED_APPLE),
            (13, "alice#1", "recv", CREATE_APPLE),
            (20, "bob#1", "http", "DELETE /api/things/apple"),
            (21, "bob#1", "http", "204 "),
            (22, "bob#1", "recv", DESTROY_APPLE),
            (22, "alice#1", "recv", DESTROY_APPLE),
            (25, "alice#1", "http", "GET /api/things"),
            (
                26,
                "alice#1",
                "http",
                "200 [{\"name\":\"apple\",\"info\":\"red\"}]",
            ),
        ]),
        collection::READ_AFTER_PUSH,
    );
    assert!(
        violation.summary.contains("lists \"apple\""),
        "{}",
        violation.summary
    );
    assert_eq!(violation.witnesses.len(), 3);
}

#[test]
fn a_read_may_list_an_item_created_again_after_its_destroy() {
    assert_clean(&with(&[
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (12, "bob#1", "recv", CREATE_APPLE),
        (12, "alice#1", "http", CREATED_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
        (20, "bob#1", "http", "DELETE /api/things/apple"),
        (21, "bob#1", "http", "204 "),
        (22, "bob#1", "recv", DESTROY_APPLE),
        (22, "alice#1", "recv", DESTROY_APPLE),
        (23, "bob#1", "http", r#"POST /api/things {"name":"apple"}"#),
        (24, "alice#1", "http", "GET /api/things"),
        (
            25,
            "alice#1",
            "http",
            "200 [{\"name\":\"apple\",\"info\":\"red\"}]",
        ),
        (26, "bob#1", "http", CREATED_APPLE),
        (27, "bob#1", "recv", CREATE_APPLE),
        (27, "alice#1", "recv", CREATE_APPLE),
    ]));
}

#[test]
fn a_restart_empties_the_collection_without_a_destroy_push() {
    assert_clean(&with(&[
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (12, "bob#1", "recv", CREATE_APPLE),
        (12, "alice#1", "http", CREATED_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
        (100, "sim", "fault", "crash server"),
        (200, "alice", "http", "GET /api/things"),
        (201, "alice", "http", "200 []"),
    ]));
}

#[test]
fn a_second_create_push_of_one_item_on_one_socket_is_caught() {
    let violation = only(
        &with(&[
            (
                10,
                "alice#1",
                "http",
                r#"POST /api/things {"name":"apple"}"#,
            ),
            (12, "bob#1", "recv", CREATE_APPLE),
            (12, "alice#1", "http", CREATED_APPLE),
            (13, "alice#1", "recv", CREATE_APPLE),
            (14, "bob#1", "recv", CREATE_APPLE),
        ]),
        collection::PUSH_PER_CHANGE,
    );
    assert!(
        violation
            .summary
            .contains("bob#1 received thing:create \"apple\" twice"),
        "{}",
        violation.summary
    );
    assert_eq!(violation.witnesses.len(), 2);
}

#[test]
fn a_push_of_a_refused_request_is_caught() {
    let violation = only(
        &with(&[
            (
                10,
                "alice#1",
                "http",
                r#"POST /api/things {"name":"apple"}"#,
            ),
            (
                11,
                "alice#1",
                "http",
                r#"409 {"error":"thing \"apple\" already exists"}"#,
            ),
            (12, "bob#1", "recv", CREATE_APPLE),
        ]),
        collection::PUSH_PER_CHANGE,
    );
    assert!(
        violation
            .summary
            .contains("no POST of it that could have succeeded"),
        "{}",
        violation.summary
    );
    let violation = only(
        &with(&[
            (20, "bob#1", "http", "DELETE /api/things/apple"),
            (
                21,
                "bob#1",
                "http",
                r#"404 {"error":"no thing named \"apple\""}"#,
            ),
            (22, "alice#1", "recv", DESTROY_APPLE),
        ]),
        collection::PUSH_PER_CHANGE,
    );
    assert!(
        violation.summary.contains("no DELETE of it"),
        "{}",
        violation.summary
    );
}

#[test]
fn an_unanswered_request_may_have_made_its_change() {
    // Alice's POST timed out (her next line is a request); bob's DELETE of
    // an item from before the run, percent-encoded, was answered.
    assert_clean(&with(&[
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (12, "bob#1", "recv", CREATE_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
        (3010, "alice#1", "http", "GET /api/things"),
        (
            3011,
            "alice#1",
            "http",
            r#"200 [{"name":"old pear"},{"name":"apple"}]"#,
        ),
        (3020, "bob#1", "http", "DELETE /api/things/old%20pear"),
        (3021, "bob#1", "http", "204 "),
        (3022, "alice#1", "recv", r#"42["thing:destroy","old pear"]"#),
        (3022, "bob#1", "recv", r#"42["thing:destroy","old pear"]"#),
    ]));
}

#[test]
fn a_change_a_connected_socket_never_received_is_caught_after_the_window() {
    let rows = [
        (
            10,
            "alice#1",
            "http",
            r#"POST /api/things {"name":"apple"}"#,
        ),
        (12, "alice#1", "http", CREATED_APPLE),
        (13, "alice#1", "recv", CREATE_APPLE),
    ];
    let bob_stays = |closed_ms| {
        let mut rows = rows.to_vec();
        rows.push((closed_ms, "bob#1", "sess", "closed: closed by the client"));
        rows.push((closed_ms, "alice#1", "sess", "closed: closed by the client"));
        with(&rows)
    };
    // Gone before the window ended: the push may still have been on its way.
    assert_clean(&bob_stays(1000));
    let violation = only(&bob_stays(5000), collection::PUSH_PER_CHANGE);
    assert!(
        violation
            .summary
            .contains("bob#1 never received thing:create \"apple\""),
        "{}",
        violation.summary
    );
}

#[test]
fn a_socket_that_joined_after_the_request_need_not_receive_its_push() {
    let carol_joined = |before_the_post: bool| {
        let mut rows = vec![
            (0, "alice#1", "sess", "open websocket"),
            (1, "alice#1", "send", "40"),
            (2, "alice#1", "recv", r#"40{"sid":"alice#1"}"#),
            (5, "carol#1", "sess", "open websocket"),
            (6, "carol#1", "send", "40"),
            (
                10,
                "alice#1",
                "http",
                r#"POST /api/things {"name":"apple"}"#,
            ),
            (11, "alice#1", "recv", CREATE_APPLE),
            (12, "alice#1", "http", CREATED_APPLE),
            (9000, "carol#1", "sess", "closed: closed by the client"),
        ];
        let joined = (10, "carol#1", "recv", r#"40{"sid":"carol#1"}"#);
        rows.insert(if before_the_post { 5 } else { 6 }, joined);
        check(&rows)
    };
    assert_clean(&carol_joined(false));
    only(&carol_joined(true), collection::PUSH_PER_CHANGE);
}

/// How long the racy shelf's store takes.
const STORE_LATENCY: Duration = Duration::from_millis(50);

/// The shelf's items and its pushes.
type Shelf = (Arc<Mutex<Vec<Value>>>, SocketIo);

async fn list(State((items, _)): State<Shelf>) -> Json<Vec<Value>> {
    Json(items.lock().expect("the shelf").clone())
}

/// A tiny REST collection over socketioxide and axum: `POST /api/things`
/// stores the item and pushes `thing:create`; `GET /api/things` lists them.
/// The racy build pushes first and stores after a store round trip, so a
/// socket that reads as soon as it is told can miss the item.
fn shelf_app(racy: bool) -> impl Fn() -> axum::Router + Send + Sync + 'static {
    move || {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", async |_: SocketRef| {});
        let create = move |State((items, io)): State<Shelf>, Json(item): Json<Value>| async move {
            if racy {
                let _ = io.emit("thing:create", &item).await;
                tokio::time::sleep(STORE_LATENCY).await;
                items.lock().expect("the shelf").push(item.clone());
            } else {
                items.lock().expect("the shelf").push(item.clone());
                let _ = io.emit("thing:create", &item).await;
            }
            (StatusCode::CREATED, Json(item))
        };
        axum::Router::new()
            .route("/api/things", get(list).post(create))
            .with_state((Arc::default(), io))
            .layer(layer)
    }
}

/// Alice adds an item; Bob lists the shelf as soon as he is told of it.
fn told_then_read() -> Scenario {
    let http = |method: &str, body| Step::Http {
        method: method.into(),
        path: "/api/things".into(),
        body,
        expect_status: None,
    };
    let item = json!({"name": "apple"});
    Scenario::new("told-then-read")
        .client(
            ClientScript::new("alice")
                .connect(Transport::Websocket)
                .wait_ms(200)
                .step(http("POST", Some(item.clone())))
                .wait_ms(4_000)
                .disconnect(),
        )
        .client(
            ClientScript::new("bob")
                .connect(Transport::Websocket)
                .expect_event("thing:create", Some(vec![item]), 2_000)
                .step(http("GET", None))
                .wait_ms(4_000)
                .disconnect(),
        )
        .duration_ms(10_000)
}

#[test]
fn the_checker_finds_a_push_before_store_in_simulation_and_passes_the_fix() {
    let simulation = |racy| {
        Simulation::new(told_then_read(), shelf_app(racy)).invariant(Collection::new(
            "/api/things",
            "thing:create",
            "thing:destroy",
        ))
    };
    let fixed = simulation(false).check(1);
    assert!(fixed.passed(), "{fixed}");
    assert!(
        fixed
            .report
            .trace
            .to_string()
            .contains(r#"http  200 [{"name":"apple"}]"#),
        "{fixed}"
    );
    let racy = simulation(true).check(1);
    assert!(racy.broke(collection::READ_AFTER_PUSH), "{racy}");
}
