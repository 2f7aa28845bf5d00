//! The report files (issue 4 §3): versioned JSON, JUnit XML that parses,
//! and a self-contained HTML page with sequence diagrams of the failing
//! cases, rendered from a run with every verdict in it.

use std::time::Duration;

use quick_xml::events::Event;
use serde_json::Value;
use siosim::report::{html, json, junit};
use siosim::runner::{self, RunOptions};
use siosim::{Case, CaseOutcome, Clause, Probe, Profile, Spec, SuiteReport, Target, Verdict};
use siosim_harness::{EventKind, Transport};

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
    siosim::broken!("the server said {MARKUP}")
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
    siosim::broken!("300 lines sent, none answered")
}

async fn waits_in_a_flood(probe: Probe) -> CaseOutcome {
    let session = probe.session(Transport::Websocket).await?;
    probe.event(&session, "/", "never sent").await?;
    Ok(String::new())
}

/// The engineio examples plus one case per remaining verdict.
fn fixture_cases() -> Vec<Case> {
    let mut cases = siosim::cases::all();
    cases.extend([
        siosim::case!(
            "report::markup::is_escaped",
            Should,
            Protocol,
            HANDSHAKE,
            should_with_markup
        ),
        siosim::case!(
            "report::info::ping_interval",
            Info,
            Protocol,
            HANDSHAKE,
            info_of_handshake
        ),
        siosim::case!(
            "report::echo::not_claimed",
            Must,
            Echo,
            HANDSHAKE,
            echo_only
        ),
        siosim::case!(
            "report::trace::is_cut",
            Must,
            Protocol,
            HANDSHAKE,
            long_trace
        ),
        siosim::case!(
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
    skipped: usize,
}

fn parse_junit(xml: &str) -> Vec<Testcase> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut testcases = Vec::new();
    let mut current: Option<Testcase> = None;
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
                match tag.name().as_ref() {
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
                    "skipped" => current.as_mut().expect("inside a testcase").skipped += 1,
                    _ => {}
                }
            }
            Event::End(tag) if tag.name().as_ref() == "testcase" => {
                testcases.push(current.take().expect("a testcase ends once"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    testcases
}

#[test]
fn the_junit_report_parses_and_failed_cases_carry_a_failure() {
    let suite = fixture();
    let xml = junit::render(&suite);
    let testcases = parse_junit(&xml);
    assert_eq!(testcases.len(), suite.cases.len());
    for (testcase, case) in testcases.iter().zip(&suite.cases) {
        assert_eq!(testcase.name, case.name);
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
    assert_eq!(page.matches("<section class=\"trace\"").count(), failing);
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
    siosim::broken!("failing on purpose, to draw the trace")
}

#[test]
fn a_simulated_trace_is_drawn_with_a_lifeline_per_session_and_the_server_logs_as_notes() {
    let config = siosim_server::Config::default();
    let target = Target::Sim {
        seed: 1,
        server: siosim::SimServer {
            name: "reference".into(),
            path: config.socketio_path.clone(),
            app: std::sync::Arc::new(move || siosim_server::app(&config)),
        },
    };
    let cases = [siosim::case!(
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
        let line = siosim::report::console::line(case);
        assert!(line.starts_with(case.verdict.label()), "{line}");
        assert!(line.contains(case.name), "{line}");
        assert!(!line.contains('\n'), "{line:?}");
    }
    let bar = siosim::report::console::bar(3, 12, suite.tally());
    assert!(
        bar.starts_with("[#######-----------------------] 3/12"),
        "{bar}"
    );
    assert!(bar.ends_with("failed, 1 non-strict"), "{bar}");
    let summary = siosim::report::console::summary(&suite);
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
