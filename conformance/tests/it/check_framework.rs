//! The conformance framework's own rules: case selection, judging, clause
//! links, expectation matching, and the runner's bookkeeping.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use siosim_conformance::cases;
use siosim_conformance::expectations::Expectations;
use siosim_conformance::runner::{self, RunOptions, glob_matches};
use siosim_conformance::{CaseError, Clause, Profile, Severity, SimServer, Spec, Target, Verdict};

#[test]
fn globs_match_whole_names_across_separators() {
    assert!(glob_matches(
        "engineio::*",
        "engineio::handshake::polling::opens_a_session"
    ));
    assert!(glob_matches(
        "*::polling::*",
        "engineio::handshake::polling::opens_a_session"
    ));
    assert!(glob_matches(
        "engineio::handshake::polling::opens_a_sessio?",
        "engineio::handshake::polling::opens_a_session"
    ));
    assert!(!glob_matches(
        "engineio::handshake",
        "engineio::handshake::polling::opens_a_session"
    ));
    assert!(!glob_matches(
        "socketio::*",
        "engineio::handshake::polling::opens_a_session"
    ));
    assert!(glob_matches("*", ""));
    assert!(!glob_matches("a*b", "acbd"));
}

#[test]
fn severity_decides_what_a_broken_rule_means() {
    let broken = Err(CaseError::Broken("no".into()));
    let inapplicable = Err(CaseError::NotApplicable("tcp".into()));
    let fine = Ok("seen".into());
    assert_eq!(Verdict::judge(Severity::Must, &broken), Verdict::Failed);
    assert_eq!(
        Verdict::judge(Severity::Should, &broken),
        Verdict::NonStrict
    );
    assert_eq!(
        Verdict::judge(Severity::Info, &broken),
        Verdict::Informational
    );
    assert_eq!(Verdict::judge(Severity::Must, &fine), Verdict::Passed);
    assert_eq!(
        Verdict::judge(Severity::Info, &fine),
        Verdict::Informational
    );
    for severity in [Severity::Must, Severity::Should, Severity::Info] {
        assert_eq!(
            Verdict::judge(severity, &inapplicable),
            Verdict::NotApplicable
        );
    }
}

#[test]
fn verdicts_parse_from_labels_and_json_names() {
    for verdict in Verdict::ALL {
        assert_eq!(verdict.label().parse::<Verdict>(), Ok(verdict));
    }
    assert_eq!("NON_STRICT".parse::<Verdict>(), Ok(Verdict::NonStrict));
    assert!("MAYBE".parse::<Verdict>().is_err());
}

#[test]
fn clauses_link_to_their_section() {
    let clause = Clause {
        spec: Spec::EngineIo,
        section: "Query parameters",
        rule: "",
    };
    assert_eq!(
        clause.url(),
        "https://github.com/socketio/engine.io-protocol#query-parameters"
    );
}

#[test]
fn case_names_are_unique_hierarchical_and_cite_a_rule() {
    let all = cases::all();
    let mut seen = BTreeSet::new();
    for case in &all {
        assert!(seen.insert(case.name), "duplicate case {}", case.name);
        assert!(
            case.name.split("::").count() >= 3,
            "{} is not hierarchical",
            case.name
        );
        assert!(
            case.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':'),
            "{} is not snake_case",
            case.name
        );
        assert!(!case.clause.rule.is_empty(), "{} cites no rule", case.name);
        assert!(
            !case.clause.section.is_empty(),
            "{} cites no section",
            case.name
        );
    }
}

fn reference() -> Target {
    let config = siosim_server::Config::default();
    Target::Sim {
        seed: 1,
        server: SimServer {
            name: "reference".into(),
            path: config.socketio_path.clone(),
            app: Arc::new(move || siosim_server::app(&config)),
            cluster: None,
        },
    }
}

#[test]
fn unclaimed_profiles_are_not_applicable_without_running() {
    let options = RunOptions {
        profiles: BTreeSet::from([Profile::App]),
        patterns: vec!["engineio::*".into()],
        ..RunOptions::default()
    };
    let suite = runner::run(&cases::all(), &reference(), &options, |_| {}).expect("runs");
    assert!(!suite.cases.is_empty());
    for case in suite.cases.iter().filter(|c| c.profile != Profile::App) {
        assert_eq!(case.verdict, Verdict::NotApplicable, "{}", case.name);
        assert!(case.reason.contains("--profile"), "{}", case.reason);
        assert!(case.trace.events.is_empty(), "{} ran", case.name);
    }
}

#[test]
fn progress_reports_every_case_in_order_whatever_the_jobs() {
    let options = RunOptions {
        patterns: vec!["engineio::handshake::*".into()],
        jobs: 3,
        timeout: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let mut seen = Vec::new();
    let suite =
        runner::run(&cases::all(), &reference(), &options, |c| seen.push(c.name)).expect("runs");
    let names: Vec<_> = suite.cases.iter().map(|c| c.name).collect();
    assert_eq!(seen, names);
    assert!(names.len() >= 2);
}

#[test]
fn an_unresolvable_url_is_an_error_not_a_verdict() {
    let target = Target::Url {
        url: "ftp://example".into(),
        path: "/socket.io".into(),
    };
    let error = runner::run(&cases::all(), &target, &RunOptions::default(), |_| {})
        .expect_err("ftp is refused");
    assert!(error.contains("http://"), "{error}");
}

#[test]
fn expectations_fail_on_new_and_on_vanished_divergences() {
    let all = cases::all();
    let name = "engineio::handshake::polling::opens_a_session";
    let dir = std::env::temp_dir().join(format!("siosim-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("peer.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"server": "a peer", "divergences": [{{"case": "{name}", "verdict": "FAILED", "reason": "documented"}}]}}"#
        ),
    )
    .expect("write");
    let expectations = Expectations::load(&path, &all).expect("loads");
    let options = RunOptions {
        patterns: vec![name.into()],
        ..RunOptions::default()
    };
    let suite = runner::run(&all, &reference(), &options, |_| {}).expect("runs");
    // The reference server passes the case the list says fails: stale list.
    let mismatches = expectations.mismatches(&suite);
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert_eq!(mismatches[0].expected, Verdict::Failed);
    assert_eq!(mismatches[0].actual, Verdict::Passed);

    std::fs::write(
        &path,
        r#"{"server": "a peer", "divergences": [{"case": "no::such::case", "verdict": "FAILED", "reason": "x"}]}"#,
    )
    .expect("write");
    let error = Expectations::load(&path, &all).expect_err("unknown case");
    assert!(error.to_string().contains("no::such::case"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
