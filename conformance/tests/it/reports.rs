//! The report files (issue 4 §3): versioned JSON, JUnit XML that parses,
//! and a self-contained HTML page with sequence diagrams of the failing
//! cases, rendered from a run with every verdict in it.

use std::time::Duration;

use quick_xml::events::Event;
use serde_json::Value;
use siosim_conformance::report::{cause, console};
use siosim_conformance::report::{html, json, junit};
use siosim_conformance::runner::{self, RunOptions, ServerLost};
use siosim_conformance::{
    Case, CaseOutcome, CaseReport, Clause, Probe, Profile, Severity, Spec, SuiteReport, Target,
    TargetSummary, Verdict,
};
use siosim_harness::{EventKind, Trace, TraceEvent, Transport};

use crate::hostile_servers::{HostileServer, Misbehaviour};

const HANDSHAKE: Clause = Clause {
    spec: Spec::EngineIo,
    section: "Handshake",
    rule: "the server answers a request without sid with an OPEN packet",
};

/// What a hostile reason may contain; every report must escape it.
const MARKUP: &str = "<script>alert(\"x\")</script> & ]]> \u{1}";

async fn should_with_markup(probe: Probe) -> CaseOutcome {
    probe.polling_handshake().await?;
    siosim_conformance::broken!("the server said {MARKUP}")
}

async fn info_of_handshake(probe: Probe) -> CaseOutcome {
    let handshake = probe.polling_handshake().await?;
    Ok(format!("pingInterval {} ms", handshake.ping_interval_ms))
}

async fn echo_only(_probe: Probe) -> CaseOutcome {
    Ok(String::new())
}

/// More trace lines than a diagram draws, whatever the timing.
async fn long_trace(probe: Probe) -> CaseOutcome {
    for line in 0..300 {
        probe.note(EventKind::Send, format!("42[\"line\",{line}]"));
    }
    siosim_conformance::broken!("300 lines sent, none answered")
}

async fn waits_in_a_flood(probe: Probe) -> CaseOutcome {
    let session = probe.session(Transport::Websocket).await?;
    probe.event(&session, "/", "never sent").await?;
    Ok(String::new())
}

/// The engineio examples plus one case per remaining verdict.
fn fixture_cases() -> Vec<Case> {
    let mut cases = siosim_conformance::cases::all();
    cases.extend([
        siosim_conformance::case!(
            "report::markup::is_escaped",
            Should,
            Protocol,
            HANDSHAKE,
            should_with_markup
        ),
        siosim_conformance::case!(
            "report::info::ping_interval",
            Info,
            Protocol,
            HANDSHAKE,
            info_of_handshake
        ),
        siosim_conformance::case!(
            "report::echo::not_claimed",
            Must,
            Echo,
            HANDSHAKE,
            echo_only
        ),
        siosim_conformance::case!(
            "report::trace::is_cut",
            Must,
            Protocol,
            HANDSHAKE,
            long_trace
        ),
        siosim_conformance::case!(
            "report::flood::long_trace",
            Must,
            Protocol,
            HANDSHAKE,
            waits_in_a_flood
        ),
    ]);
    cases
}

/// A run against the flooding server: it opens sessions properly, so some
/// cases pass, and the flood gives a trace longer than a diagram draws.
fn fixture() -> SuiteReport {
    let server = HostileServer::start(Misbehaviour::Flood);
    let target = Target::Url {
        url: server.url(),
        path: "/socket.io".into(),
    };
    let options = RunOptions {
        profiles: [Profile::Protocol].into_iter().collect(),
        // The engineio examples and this file's cases: quick against a
        // flood, whatever the families hold.
        patterns: vec![
            "engineio::handshake::polling::opens_a_session".into(),
            "engineio::handshake::polling::rejects_invalid_eio".into(),
            "report::*".into(),
        ],
        timeout: Duration::from_millis(300),
        ..RunOptions::default()
    };
    let report = runner::run(&fixture_cases(), &target, &options, |_| {}).expect("resolves");
    let verdict = |name: &str| {
        report
            .cases
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.verdict)
    };
    // The fixture holds every verdict, or the report tests prove less.
    assert_eq!(
        verdict("engineio::handshake::polling::opens_a_session"),
        Some(Verdict::Passed)
    );
    assert_eq!(
        verdict("report::markup::is_escaped"),
        Some(Verdict::NonStrict)
    );
    assert_eq!(
        verdict("report::info::ping_interval"),
        Some(Verdict::Informational)
    );
    assert_eq!(
        verdict("report::echo::not_claimed"),
        Some(Verdict::NotApplicable)
    );
    assert_eq!(verdict("report::flood::long_trace"), Some(Verdict::Failed));
    report
}

#[test]
fn the_json_report_carries_its_schema_and_every_field() {
    let suite = fixture();
    let document: Value = serde_json::from_str(&json::render(&suite)).expect("valid JSON");
    assert_eq!(document["schema"], json::SCHEMA);
    assert_eq!(document["passed"], false);
    assert_eq!(document["target"]["kind"], "url");
    assert_eq!(document["profiles"], serde_json::json!(["protocol"]));
    assert_eq!(document["timeout_ms"], 300);
    let tally = suite.tally();
    assert_eq!(document["tally"]["failed"], tally.failed);
    assert_eq!(document["tally"]["non_strict"], tally.non_strict);
    assert_eq!(document["tally"]["not_applicable"], 1);
    let families: Vec<&str> = document["families"]
        .as_array()
        .expect("families")
        .iter()
        .map(|f| f["name"].as_str().expect("a family name"))
        .collect();
    assert_eq!(families, ["engineio", "report"]);
    let cases = document["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), suite.cases.len());
    for (entry, case) in cases.iter().zip(&suite.cases) {
        assert_eq!(entry["name"], case.name);
        assert_eq!(entry["family"], case.family);
        assert_eq!(entry["severity"], case.severity.to_string());
        assert_eq!(entry["profile"], case.profile.name());
        assert_eq!(entry["reason"], case.reason.as_str());
        let verdict: Verdict = entry["verdict"]
            .as_str()
            .expect("a verdict")
            .parse()
            .expect("a known verdict");
        assert_eq!(verdict, case.verdict);
        assert_eq!(entry["clause"]["section"], case.clause.section);
        assert_eq!(entry["clause"]["rule"], case.clause.rule);
        assert_eq!(entry["clause"]["title"], "Engine.IO protocol v4");
        assert_eq!(entry["clause"]["url"], case.clause.url());
        assert!(entry["elapsed_ms"].is_u64(), "{entry}");
        assert_eq!(entry["trace"]["version"], 1);
        assert!(entry["trace"]["events"].is_array(), "{entry}");
    }
    let opens = cases
        .iter()
        .find(|c| c["name"] == "engineio::handshake::polling::opens_a_session")
        .expect("the engineio example");
    assert_eq!(
        opens["clause"]["url"],
        "https://github.com/socketio/engine.io-protocol#handshake"
    );
    let markup = cases
        .iter()
        .find(|c| c["name"] == "report::markup::is_escaped")
        .expect("the markup case");
    assert!(
        markup["reason"].as_str().expect("text").ends_with(MARKUP),
        "JSON keeps the reason as it is"
    );
}

/// What a JUnit `<testcase>` held.
#[derive(Debug, Default)]
struct Testcase {
    name: String,
    failures: usize,
    errors: Vec<String>,
    skipped: usize,
    properties: Vec<(String, String)>,
    system_err: String,
}

impl Testcase {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a JUnit `<testsuite>` said of itself.
#[derive(Debug)]
struct Testsuite {
    name: String,
    failures: usize,
    errors: usize,
}

fn parse_junit(xml: &str) -> Vec<Testcase> {
    parse_junit_suites(xml).1
}

fn parse_junit_suites(xml: &str) -> (Vec<Testsuite>, Vec<Testcase>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut testsuites = Vec::new();
    let mut testcases = Vec::new();
    let mut current: Option<Testcase> = None;
    let mut in_system_err = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(tag) | Event::Empty(tag) => {
                let attribute = |name: &str| {
                    tag.try_get_attribute(name)
                        .expect("attributes parse")
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("attribute text")
                                .into_owned()
                        })
                };
                let count = |name: &str| {
                    attribute(name)
                        .expect("a count")
                        .parse::<usize>()
                        .expect("a number")
                };
                match tag.name().as_ref() {
                    "testsuite" => testsuites.push(Testsuite {
                        name: attribute("name").expect("a testsuite name"),
                        failures: count("failures"),
                        errors: count("errors"),
                    }),
                    "testcase" => {
                        current = Some(Testcase {
                            name: attribute("name").expect("a testcase name"),
                            ..Testcase::default()
                        });
                    }
                    "failure" => {
                        assert!(attribute("message").is_some(), "a failure message");
                        current.as_mut().expect("inside a testcase").failures += 1;
                    }
                    "error" => {
                        let message = attribute("message").expect("an error message");
                        current
                            .as_mut()
                            .expect("inside a testcase")
                            .errors
                            .push(message);
                    }
                    "skipped" => current.as_mut().expect("inside a testcase").skipped += 1,
                    "property" => {
                        let property = (
                            attribute("name").expect("a property name"),
                            attribute("value").expect("a property value"),
                        );
                        current
                            .as_mut()
                            .expect("inside a testcase")
                            .properties
                            .push(property);
                    }
                    "system-err" => in_system_err = true,
                    _ => {}
                }
            }
            Event::Text(text) if in_system_err => {
                let text = text.xml_content(quick_xml::XmlVersion::Implicit1_0);
                current.as_mut().expect("inside a testcase").system_err += &text;
            }
            Event::GeneralRef(reference) if in_system_err => {
                let text = match reference.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("an unexpected entity &{other};"),
                };
                current.as_mut().expect("inside a testcase").system_err += text;
            }
            Event::End(tag) if tag.name().as_ref() == "system-err" => in_system_err = false,
            Event::End(tag) if tag.name().as_ref() == "testcase" => {
                testcases.push(current.take().expect("a testcase ends once"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (testsuites, testcases)
}

#[test]
fn the_junit_report_parses_and_failed_cases_carry_a_failure() {
    let suite = fixture();
    let xml = junit::render(&suite);
    let testcases = parse_junit(&xml);
    assert_eq!(testcases.len(), suite.cases.len());
    for (testcase, case) in testcases.iter().zip(&suite.cases) {
        let prefix = if case.verdict == Verdict::NonStrict {
            junit::NON_STRICT_PREFIX
        } else {
            ""
        };
        assert_eq!(testcase.name, format!("{prefix}{}", case.name));
        assert_eq!(testcase.property("verdict"), Some(case.verdict.label()));
        assert!(testcase.errors.is_empty(), "no server was lost");
        let failed = usize::from(case.verdict == Verdict::Failed);
        assert_eq!(testcase.failures, failed, "{}", case.name);
        let skipped = usize::from(case.verdict == Verdict::NotApplicable);
        assert_eq!(testcase.skipped, skipped, "{}", case.name);
    }
    assert!(xml.contains(&format!("failures=\"{}\"", suite.tally().failed)));
    // A long trace is cut in the middle: its first and last lines stay.
    assert!(xml.contains("… 100 more trace lines (the JSON report has them all)"));
    assert!(xml.contains("42[&quot;line&quot;,99]") && xml.contains("42[&quot;line&quot;,200]"));
    assert!(!xml.contains("42[&quot;line&quot;,100]"));
}

#[test]
fn the_html_report_is_one_page_with_a_diagram_per_failing_case() {
    let suite = fixture();
    let page = html::render(&suite);
    let path = std::env::temp_dir().join(format!("siosim-report-{}.html", std::process::id()));
    std::fs::write(&path, &page).expect("writing the page");
    eprintln!("wrote {}", path.display());
    // Self-contained: no script, no stylesheet or image fetched from anywhere.
    for forbidden in ["<script", "<link", " src=", "@import", "url(http"] {
        assert!(!page.contains(forbidden), "the page contains {forbidden:?}");
    }
    // A hostile reason is shown, not interpreted.
    assert!(!page.contains(MARKUP));
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ]]&gt;"));
    // The summary: one row per family and the total.
    for family in ["<th>engineio</th>", "<th>report</th>", "<th>total</th>"] {
        assert!(page.contains(family), "the summary lacks {family}");
    }
    // Every case's verdict, severity, reason and clause link.
    for case in &suite.cases {
        assert!(page.contains(case.name), "{} is missing", case.name);
    }
    assert!(page.contains("href=\"https://github.com/socketio/engine.io-protocol#handshake\""));
    // A diagram for each FAILED or NON-STRICT case, and for no other.
    let failing = suite
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed | Verdict::NonStrict))
        .count();
    assert_eq!(page.matches("<section class=\"trace ").count(), failing);
    assert_eq!(page.matches("<svg class=\"sequence\"").count(), failing);
    // A trace longer than a diagram draws: its first and last lines, and
    // how many are left out between them.
    assert!(page.contains("… 180 more trace lines not drawn …"));
    assert!(page.contains("42[&quot;line&quot;,59]") && page.contains("42[&quot;line&quot;,240]"));
    assert!(!page.contains("42[&quot;line&quot;,60]"));
    // Lifelines: the probe's sessions and the server.
    assert!(page.contains(">c1</text>") && page.contains(">server</text>"));
    assert!(page.len() < 4 << 20, "the page is {} bytes", page.len());
}

/// Two sockets chat in simulation, then the case fails on purpose: a trace
/// with two sessions, HTTP, server logs and packets both ways.
async fn two_clients_chat(probe: Probe) -> CaseOutcome {
    let (alice, _) = probe.socket(Transport::Websocket, "/", None).await?;
    let (bob, _) = probe.socket(Transport::Polling, "/", None).await?;
    probe.get("/api/things").await?;
    alice
        .send_sio(&siosim_harness::codec::SioPacket::event(
            "/",
            "chat message",
            vec![serde_json::json!("hi bob")],
            Some(1),
        ))
        .await?;
    probe.ack(&alice, "/", 1).await?;
    probe.event(&bob, "/", "chat message").await?;
    siosim_conformance::broken!("failing on purpose, to draw the trace")
}

#[test]
fn a_simulated_trace_is_drawn_with_a_lifeline_per_session_and_the_server_logs_as_notes() {
    let config = siosim_server::Config::default();
    let target = Target::Sim {
        seed: 1,
        server: siosim_conformance::SimServer {
            name: "reference".into(),
            path: config.socketio_path.clone(),
            app: std::sync::Arc::new(move || siosim_server::app(&config)),
            cluster: None,
        },
    };
    let cases = [siosim_conformance::case!(
        "report::sim::two_clients_chat",
        Must,
        App,
        HANDSHAKE,
        two_clients_chat
    )];
    let suite = runner::run(&cases, &target, &RunOptions::default(), |_| {}).expect("runs");
    assert_eq!(
        suite.cases[0].reason,
        "failing on purpose, to draw the trace"
    );
    let page = html::render(&suite);
    let path = std::env::temp_dir().join(format!("siosim-report-sim-{}.html", std::process::id()));
    std::fs::write(&path, &page).expect("writing the page");
    eprintln!("wrote {}", path.display());
    // Lifelines in order of appearance, the server last.
    let heads: Vec<&str> = page
        .split("<text class=\"head\"")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').expect("a head's text") + 1;
            &rest[start..start + rest[start..].find('<').expect("its end")]
        })
        .collect();
    assert_eq!(heads, ["c1", "c2", "probe", "server"]);
    assert!(page.contains("<g class=\"log\">"), "server logs as notes");
    assert!(page.contains("<g class=\"send\">") && page.contains("<g class=\"recv\">"));
    assert!(page.contains("<g class=\"http\">"));
    assert!(page.contains("chat message"));
}

#[test]
fn the_console_prints_a_line_per_case_a_progress_bar_and_the_summary() {
    let suite = fixture();
    for case in &suite.cases {
        let line = siosim_conformance::report::console::line(case);
        assert!(line.starts_with(case.verdict.label()), "{line}");
        assert!(line.contains(case.name), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
    }
    let bar = siosim_conformance::report::console::bar(3, 12, suite.tally());
    assert!(
        bar.starts_with("[#######-----------------------] 3/12"),
        "{bar}"
    );
    assert!(bar.ends_with("failed, 1 non-strict"), "{bar}");
    let summary = siosim_conformance::report::console::summary(&suite);
    let tally = suite.tally();
    let total = summary
        .lines()
        .find(|l| l.starts_with("total"))
        .expect("a total row");
    let counts: Vec<usize> = total
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().expect("a count"))
        .collect();
    assert_eq!(
        counts,
        [
            tally.passed,
            tally.non_strict,
            tally.failed,
            tally.informational,
            tally.not_applicable
        ]
    );
    assert!(summary.contains("MUST case(s) FAILED against http://127.0.0.1:"));
}

/// A case report made by hand, for the grouping and ordering tests.
fn made(name: &'static str, verdict: Verdict, reason: &str, events: Vec<TraceEvent>) -> CaseReport {
    CaseReport {
        name,
        family: name.split("::").next().expect("a family"),
        severity: match verdict {
            Verdict::NonStrict => Severity::Should,
            Verdict::Informational => Severity::Info,
            _ => Severity::Must,
        },
        profile: Profile::Protocol,
        clause: HANDSHAKE,
        verdict,
        reason: reason.to_owned(),
        elapsed_ms: 12,
        trace: Trace { version: 1, events },
    }
}

fn at(ms: u64, actor: &str, kind: EventKind, text: &str) -> TraceEvent {
    TraceEvent {
        at_us: ms * 1000,
        actor: actor.to_owned(),
        kind,
        text: text.to_owned(),
    }
}

/// The reason a server behind an auth middleware gives every case, with a
/// different session id each time.
fn refused(sid: &str) -> String {
    format!("CONNECT to / refused with 44 {{\"message\":\"unauthorized\"}} (sid {sid})")
}

/// A run in which one cause fails five cases, two cases fail alike (too
/// few to group), eight are NOT APPLICABLE for two reasons, one passes
/// after a long wait, and the server was lost during a failing case.
fn made_suite() -> SuiteReport {
    let waited = vec![
        at(0, "c1", EventKind::Send, "40"),
        at(3, "c1", EventKind::Recv, "44{\"message\":\"unauthorized\"}"),
        at(2503, "c1", EventKind::Fail, "no answer"),
    ];
    let mut cases = vec![
        made(
            "engineio::handshake::opens",
            Verdict::Passed,
            "as specified",
            vec![],
        ),
        made(
            "socketio::connect::root",
            Verdict::Failed,
            &refused("lv_VI97HAXpY6yYWAAAC"),
            waited,
        ),
        made(
            "socketio::connect::custom",
            Verdict::Failed,
            &refused("Xy7aB9cD0eF1gH2iJ3kL"),
            vec![],
        ),
        made(
            "engineio::close::websocket",
            Verdict::Failed,
            "after \"1\" the WebSocket stayed open for 10000 ms",
            vec![],
        ),
        made(
            "socketio::connect::with_auth",
            Verdict::Failed,
            &refused("QmFzZTY0aXNoMTIzNDU2"),
            vec![],
        ),
        made(
            "socketio::emit::ack",
            Verdict::Failed,
            &refused("AAAAAAAAAAAAAAA1"),
            vec![],
        ),
        made(
            "socketio::connect::invalid_namespace_message",
            Verdict::NonStrict,
            &refused("z9Y8x7W6v5U4t3S2"),
            vec![at(0, "probe", EventKind::Send, "40/nope,")],
        ),
        made(
            "engineio::close::polling",
            Verdict::Failed,
            "after \"1\" the WebSocket stayed open for 250 ms",
            vec![],
        ),
        made(
            "engineio::info::ping",
            Verdict::Informational,
            "pingInterval 25000 ms",
            vec![],
        ),
    ];
    for name in [
        "echo::auth::a",
        "echo::auth::b",
        "echo::message::a",
        "echo::message::b",
        "echo::ack::a",
        "echo::ack::b",
    ] {
        cases.push(made(
            name,
            Verdict::NotApplicable,
            "the server does not claim the echo contract (see --profile)",
            vec![],
        ));
    }
    for name in ["app::counter::a", "app::chat::b"] {
        cases.push(made(
            name,
            Verdict::NotApplicable,
            "the server does not claim the app contract (see --profile)",
            vec![],
        ));
    }
    SuiteReport {
        target: TargetSummary::Url {
            url: "http://127.0.0.1:4000".into(),
            path: "/socket.io".into(),
        },
        profiles: vec![Profile::Protocol],
        timeout_ms: 10_000,
        cases,
        started_at: Some("2026-12-06T15:35:41Z".into()),
        duration_ms: 83_500,
        server_lost: Some(ServerLost {
            during_case: "socketio::emit::ack".into(),
            reason: format!("connection refused {MARKUP}"),
        }),
    }
}

#[test]
fn a_reason_is_normalised_without_its_ids_numbers_and_durations() {
    assert_eq!(
        cause::normalised("sid lv_VI97HAXpY6yYWAAAC closed after 10000 ms (c1)"),
        "sid <id> closed after # ms (c#)"
    );
    assert_eq!(
        cause::normalised("sid AbCdEfGhIjKlMnOp"),
        "sid <id>",
        "an id without digits, mixed case"
    );
    // Names are words, not ids: they must not merge different causes.
    for kept in ["pingInterval missing", "closes_the_session", "NON-STRICT"] {
        assert_eq!(cause::normalised(kept), kept);
    }
    assert_ne!(
        cause::normalised("pingInterval missing"),
        cause::normalised("pingTimeout missing")
    );
}

#[test]
fn the_console_counts_not_applicable_and_groups_a_cause_shared_by_three_cases() {
    let suite = made_suite();
    for case in &suite.cases {
        let live = console::live_line(case);
        assert_eq!(
            live.is_none(),
            case.verdict == Verdict::NotApplicable,
            "{}: {live:?}",
            case.name
        );
    }
    let summary = console::summary(&suite);
    eprintln!("{summary}");
    // NOT APPLICABLE: one count, then one line per reason.
    assert!(summary.contains("\n8 cases NOT APPLICABLE:\n"), "{summary}");
    assert!(
        summary.contains("     6 × the server does not claim the echo contract (see --profile)\n"),
        "{summary}"
    );
    assert!(
        summary.contains("     2 × the server does not claim the app contract (see --profile)\n"),
        "{summary}"
    );
    // One line for the five cases refused alike: the sids differ, so they
    // are elided; the rest of the reason is kept as the server said it.
    let group = "5 cases (4 FAILED, 1 NON-STRICT): \
                 CONNECT to / refused with 44 {\"message\":\"unauthorized\"} (sid …)\n";
    assert!(summary.contains(group), "{summary}");
    assert!(
        summary.contains(
            "    socketio::connect::{root, custom, with_auth, invalid_namespace_message}, \
             socketio::emit::ack\n"
        ),
        "{summary}"
    );
    // Two cases alike are not grouped: their live lines say it.
    assert!(!summary.contains("2 cases"), "{summary}");
    assert_eq!(summary.matches(" cases (").count(), 1, "{summary}");
    // The lost server in one line, a hostile reason's control bytes shown,
    // not sent to the terminal.
    assert!(
        summary.contains(
            "\nthe server stopped answering during socketio::emit::ack: connection refused \
             <script>alert(\"x\")</script> & ]]> \\u{1}\n"
        ),
        "{summary}"
    );
    assert!(!summary.contains('\u{1}'));
    // The per-family summary stays, and the result is the last line.
    assert!(
        summary.contains("\nsocketio          0          1      4     0    0\n"),
        "{summary}"
    );
    assert!(
        summary.contains("\ntotal             1          1      6     1    8\n"),
        "{summary}"
    );
    assert!(
        summary.ends_with(
            "\nresult: 6 MUST case(s) FAILED against http://127.0.0.1:4000 (path /socket.io)\n"
        ),
        "{summary}"
    );
}

#[test]
fn a_cause_with_numbers_that_agree_keeps_them_and_names_are_compact() {
    let suite = made_suite();
    let failing = suite
        .cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed | Verdict::NonStrict));
    let causes = cause::group(failing);
    assert_eq!(causes[0].cases.len(), 5, "the largest cause first");
    assert_eq!(
        causes[1].reason, "after \"1\" the WebSocket stayed open for … ms",
        "10000 and 250 differ, \"1\" agrees"
    );
    assert_eq!(
        console::compact_names(&["a::b::c", "a::b::d", "x::y", "a::b::e", "top"]),
        ["a::b::{c, d, e}", "x::y", "top"]
    );
}

#[test]
fn the_html_page_puts_failures_first_filters_without_script_and_says_when_and_how_long() {
    let suite = made_suite();
    let page = html::render(&suite);
    let path = std::env::temp_dir().join(format!("siosim-report-made-{}.html", std::process::id()));
    std::fs::write(&path, &page).expect("writing the page");
    eprintln!("wrote {}", path.display());
    for forbidden in [
        "<script", "<link", " src=", "@import", "url(http", "onclick", "onload", "onerror",
    ] {
        assert!(!page.contains(forbidden), "the page contains {forbidden:?}");
    }
    // The lost server: a banner before the header, its reason escaped.
    let banner = page.find("<div class=\"banner\"").expect("a banner");
    assert!(banner < page.find("<header>").expect("a header"));
    assert!(!page.contains(MARKUP));
    assert!(page.contains("connection refused &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(page.contains("during <a href=\"#case-socketio--emit--ack\">socketio::emit::ack</a>"));
    // Version, date and duration in the header.
    let header =
        &page[page.find("<header>").expect("a header")..page.find("</header>").expect("its end")];
    assert!(
        header.contains(&format!("siosim {}", env!("CARGO_PKG_VERSION"))),
        "{header}"
    );
    assert!(
        header.contains("<time datetime=\"2026-12-06T15:35:41Z\">"),
        "{header}"
    );
    assert!(header.contains("took 1 min 23 s"), "{header}");
    assert_eq!(html::duration(850), "850 ms");
    assert_eq!(html::duration(10_600), "10.6 s");
    // The cases table: FAILED rows, then NON-STRICT, then the rest, NOT
    // APPLICABLE last; the report's order within each.
    let table = &page[page
        .find("<table class=\"cases\"")
        .expect("the cases table")..];
    let table = &table[..table.find("</table>").expect("its end")];
    let rows: Vec<&str> = table
        .split("<tr class=\"v-")
        .skip(1)
        .map(|row| &row[..row.find('"').expect("the class ends")])
        .collect();
    let mut expected = vec!["failed"; 6];
    expected.extend(["non-strict", "passed", "info"]);
    expected.extend(["na"; 8]);
    assert_eq!(rows, expected);
    let root = table.find(">socketio::connect::root<").expect("root");
    let custom = table.find(">socketio::connect::custom<").expect("custom");
    assert!(root < custom, "the report's order within a verdict");
    // The filter: a radio input per choice, all checked, before the table
    // and the traces, and a rule hiding the rows each choice does not show.
    let filtered = page
        .find("<div class=\"filtered\">")
        .expect("the filter's container");
    assert_eq!(
        page.matches("<input type=\"radio\" name=\"show\"").count(),
        7
    );
    assert!(page.contains("<input type=\"radio\" name=\"show\" id=\"show-all\" checked>"));
    assert!(filtered < page.find("<input").expect("an input"));
    assert!(
        page.find("id=\"show-na\"").expect("the last input")
            < page.find("<table class=\"cases\"").expect("table")
    );
    assert!(
        page.contains("<label for=\"show-failed\">FAILED <span class=\"count\">6</span></label>")
    );
    assert!(page.contains(
        "#show-failed:checked ~ table.cases tbody tr:not(.v-failed), \
         #show-failed:checked ~ section.trace:not(.v-failed) { display: none; }"
    ));
    assert!(page.contains(
        "#show-failing:checked ~ table.cases tbody tr:not(.v-failed):not(.v-non-strict)"
    ));
    assert!(page.contains("#show-passed:checked ~ h2.traces"));
    // Traces of FAILED and NON-STRICT cases alike, inside the filter.
    assert_eq!(page.matches("<section class=\"trace v-failed\"").count(), 6);
    assert_eq!(
        page.matches("<section class=\"trace v-non-strict\"")
            .count(),
        1
    );
    assert!(page.contains("id=\"case-socketio--connect--invalid_namespace_message\""));
    assert!(filtered < page.find("<section class=\"trace").expect("a trace"));
    // The time waited: 2500 ms between two lines is a band, 3 ms is not.
    assert_eq!(page.matches("<g class=\"wait\">").count(), 1);
    assert!(page.contains(">+2500 ms</text>"));
}

#[test]
fn junit_shows_non_strict_by_name_and_property_and_the_lost_server_as_an_error() {
    let suite = made_suite();
    let xml = junit::render(&suite);
    let (testsuites, testcases) = parse_junit_suites(&xml);
    let find = |name: &str| {
        testcases
            .iter()
            .find(|t| t.name.ends_with(name))
            .unwrap_or_else(|| panic!("{name} is missing"))
    };
    let non_strict = find("socketio::connect::invalid_namespace_message");
    assert_eq!(
        non_strict.name,
        "[NON-STRICT] socketio::connect::invalid_namespace_message"
    );
    assert_eq!(non_strict.property("verdict"), Some("NON-STRICT"));
    assert_eq!(non_strict.property("severity"), Some("SHOULD"));
    assert_eq!(
        non_strict.failures + non_strict.errors.len() + non_strict.skipped,
        0,
        "a pass"
    );
    assert!(
        non_strict.system_err.contains(&refused("z9Y8x7W6v5U4t3S2")),
        "{}",
        non_strict.system_err
    );
    assert!(non_strict.system_err.contains("40/nope,"), "its trace");
    // The passing cases are named as they are.
    assert_eq!(
        find("engineio::handshake::opens").name,
        "engineio::handshake::opens"
    );
    assert!(find("engineio::handshake::opens").system_err.is_empty());
    // The lost server: an error on its case instead of a failure.
    let lost = find("socketio::emit::ack");
    assert_eq!(lost.failures, 0);
    assert_eq!(lost.errors.len(), 1);
    assert!(
        lost.errors[0].starts_with(
            "the server stopped answering during socketio::emit::ack: connection refused <script>"
        ),
        "{:?}",
        lost.errors
    );
    let errors: usize = testcases.iter().map(|t| t.errors.len()).sum();
    assert_eq!(errors, 1);
    let socketio = testsuites
        .iter()
        .find(|s| s.name == "socketio")
        .expect("socketio");
    assert_eq!((socketio.failures, socketio.errors), (3, 1));
    let engineio = testsuites
        .iter()
        .find(|s| s.name == "engineio")
        .expect("engineio");
    assert_eq!((engineio.failures, engineio.errors), (2, 0));
    assert!(xml.contains(
        "<testsuites name=\"siosim check\" tests=\"17\" failures=\"5\" errors=\"1\" skipped=\"8\">"
    ));
    // Lost outside every case (say, between two): a testcase of its own.
    let mut between = made_suite();
    between.server_lost = Some(ServerLost {
        during_case: "between cases".into(),
        reason: "reset".into(),
    });
    let (suites, cases) = parse_junit_suites(&junit::render(&between));
    let server = suites
        .iter()
        .find(|s| s.name == "server")
        .expect("a server testsuite");
    assert_eq!(server.errors, 1);
    assert_eq!(cases.iter().map(|t| t.errors.len()).sum::<usize>(), 1);
}

#[test]
fn the_json_report_has_the_date_the_duration_and_the_lost_server() {
    let suite = made_suite();
    let document: Value = serde_json::from_str(&json::render(&suite)).expect("valid JSON");
    assert_eq!(document["schema"], "siosim-check/2");
    assert_eq!(document["started_at"], "2026-12-06T15:35:41Z");
    assert_eq!(document["duration_ms"], 83_500);
    assert_eq!(
        document["server_lost"]["during_case"],
        "socketio::emit::ack"
    );
    assert!(
        document["server_lost"]["reason"]
            .as_str()
            .is_some_and(|r| r.ends_with(MARKUP))
    );
    let mut kept = made_suite();
    kept.server_lost = None;
    kept.started_at = None;
    let document: Value = serde_json::from_str(&json::render(&kept)).expect("valid JSON");
    assert!(document["server_lost"].is_null() && document["started_at"].is_null());
}

/// Without `SOURCE_DATE_EPOCH`, the real clock: a date in RFC 3339 UTC.
/// (`siosim check` with it set: the command's tests.)
#[test]
fn the_run_is_dated_by_the_real_clock() {
    let suite = runner::run(
        &siosim_conformance::cases::all(),
        &Target::Sim {
            seed: 1,
            server: reference(),
        },
        &RunOptions {
            patterns: vec!["engineio::handshake::polling::opens_a_session".into()],
            ..RunOptions::default()
        },
        |_| {},
    )
    .expect("runs");
    let started = suite.started_at.expect("a start date");
    let parsed = humantime::parse_rfc3339(&started).expect("RFC 3339");
    assert!(started.ends_with('Z'), "{started}");
    assert!(parsed > std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600));
}

fn reference() -> siosim_conformance::SimServer {
    let config = siosim_server::Config::default();
    siosim_conformance::SimServer {
        name: "reference".into(),
        path: config.socketio_path.clone(),
        app: std::sync::Arc::new(move || siosim_server::app(&config)),
        cluster: None,
    }
}

/// Chromium's startup dominates; each of the script's steps has its own 15 s limit.
const BROWSER_DEADLINE: Duration = Duration::from_secs(90);

/// The filter is CSS only, so only a browser proves it: each label, once
/// clicked, leaves visible exactly the rows (and traces) of its verdicts,
/// and the page fetches nothing.
#[tokio::test]
async fn in_chromium_each_filter_shows_only_its_verdicts_and_the_page_fetches_nothing() {
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    let chromium = std::env::var("SIOSIM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup (as root) to install Debian's chromium"
    );
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "scripts/node_modules/playwright-core is missing: run scripts/setup first"
    );
    let suite = made_suite();
    let path =
        std::env::temp_dir().join(format!("siosim-report-filter-{}.html", std::process::id()));
    std::fs::write(&path, html::render(&suite)).expect("writing the page");
    let output = tokio::time::timeout(
        BROWSER_DEADLINE,
        tokio::process::Command::new("node")
            .arg(scripts.join("report-check.mjs"))
            .arg(&path)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("report-check finished within the deadline")
    .expect("run node scripts/report-check.mjs");
    assert!(
        output.status.success(),
        "report-check failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("report-check prints JSON");
    assert_eq!(seen["requests"], serde_json::json!([]), "an external asset");
    let t = suite.tally();
    let failing = t.failed + t.non_strict;
    // (choice, rows, traces): traces exist for FAILED and NON-STRICT only.
    let expected = [
        ("all", suite.cases.len(), failing),
        ("failing", failing, failing),
        ("failed", t.failed, t.failed),
        ("non-strict", t.non_strict, t.non_strict),
        ("passed", t.passed, 0),
        ("info", t.informational, 0),
        ("na", t.not_applicable, 0),
    ];
    let choices = seen["choices"].as_object().expect("choices");
    assert_eq!(choices.len(), expected.len(), "{seen}");
    for (choice, rows, traces) in expected {
        let shown = &choices[choice];
        assert_eq!(shown["rows"], rows, "{choice}: {shown}");
        assert_eq!(shown["traces"], traces, "{choice}: {shown}");
        assert_eq!(shown["tracesHeading"], traces > 0, "{choice}: {shown}");
    }
}
