//! The `siosim` binary as a user runs it.

use std::process::Command;

use serde_json::Value;

/// Runs the `siosim` binary: exit code, stdout, stderr.
pub(crate) fn siosim(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_siosim"))
        .args(args)
        .output()
        .expect("running siosim");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn run_prints_the_same_bytes_in_two_processes_and_other_seeds_differ() {
    let (code, first, _) = siosim(&["run", "counter", "--seed", "7"]);
    assert_eq!(code, 0, "{first}");
    let (_, second, _) = siosim(&["run", "counter", "--seed", "7"]);
    assert_eq!(
        first, second,
        "seed 7 printed different bytes in two processes"
    );
    let (_, other, _) = siosim(&["run", "counter", "--seed", "8"]);
    assert_ne!(first, other, "seeds 7 and 8 printed the same run");
    assert!(first.ends_with("PASS\n"), "{first}");
}

#[test]
fn a_failing_scenario_file_exits_1_and_prints_its_replay_line() {
    let dir = std::env::temp_dir().join(format!("siosim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.json");
    let scenario = r#"{"name":"wrong","clients":[{"name":"alice","steps":[
        {"step":"connect","transport":"websocket"},
        {"step":"expect_event","event":"get count","args":[42],"within_ms":500}]}]}"#;
    std::fs::write(&file, scenario).unwrap();
    let json = dir.join("trace.json");
    let (code, stdout, stderr) = siosim(&[
        "run",
        "--scenario-file",
        file.to_str().unwrap(),
        "--seed",
        "3",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL alice: expected \"get count\" [42]"),
        "{stdout}"
    );
    assert!(
        stderr.contains("replay: siosim run --scenario-file"),
        "{stderr}"
    );
    let trace = siosim_harness::Trace::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(trace.version, siosim_harness::trace::TRACE_FORMAT_VERSION);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let (code, _, stderr) = siosim(&["run", "no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no built-in scenario \"no-such-scenario\""),
        "{stderr}"
    );
    let (code, _, stderr) = siosim(&["run", "--scenario-file", "/nonexistent/scenario.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reading /nonexistent/scenario.json"),
        "{stderr}"
    );
}

#[test]
fn list_names_every_built_in() {
    let (code, stdout, _) = siosim(&["list"]);
    assert_eq!(code, 0);
    for built_in in siosim::scenarios::BUILT_INS {
        assert!(stdout.contains(built_in.name), "{stdout}");
    }
}

#[test]
fn check_passes_the_reference_server_and_prints_the_same_bytes_twice() {
    let args = ["check", "--case", "engineio::handshake::*", "--seed", "5"];
    let (code, first, stderr) = siosim(&args);
    assert_eq!(code, 0, "{first}{stderr}");
    assert!(first.contains("result: no MUST case failed"), "{first}");
    assert!(
        stderr.contains("cases against reference server in simulation"),
        "{stderr}"
    );
    let (_, second, _) = siosim(&args);
    assert_eq!(first, second, "check in simulation is not deterministic");
}

#[test]
fn check_refuses_bad_arguments_with_exit_2() {
    let (code, _, stderr) = siosim(&["check", "--case", "no::such::*"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no case matches"), "{stderr}");
    let (code, _, stderr) = siosim(&["check", "--profile", "bogus"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown profile"), "{stderr}");
}

#[test]
fn check_against_a_dead_url_is_one_preflight_line_not_a_failed_case_each() {
    // Bind then drop: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, stdout, stderr) = siosim(&[
        "check",
        "--url",
        &url,
        "--case",
        "engineio::handshake::polling::*",
        "--timeout-ms",
        "500",
    ]);
    assert_eq!(
        code,
        i32::from(siosim::exit_code::Exit::ServerUnusable.code()),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.starts_with("preflight FAILED: nothing listening at"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAILED  "), "no case ran: {stdout}");
}

#[test]
fn the_run_is_dated_from_source_date_epoch_and_timed() {
    let dir = std::env::temp_dir().join(format!("siosim-dated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let json = dir.join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_siosim"))
        .args([
            "check",
            "--case",
            "engineio::handshake::polling::opens_a_session",
            "--json",
        ])
        .arg(&json)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .expect("running siosim");
    assert!(output.status.success(), "{output:?}");
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the report")).expect("JSON");
    assert_eq!(document["started_at"], "2026-01-01T00:00:00Z");
    assert!(document["duration_ms"].is_u64());
    assert!(document["server_lost"].is_null());
}

/// Runs one of the repository's CI scripts: exit code and everything printed.
fn ci_script(script: &str, args: &[&str]) -> (i32, String) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/");
    let output = Command::new("python3")
        .arg(format!("{path}{script}"))
        .args(args)
        .output()
        .expect("running python3");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

/// CI reads `siosim check --json` with its own scripts: they must accept the
/// schema the binary writes (a schema bump once broke CI only at its end).
#[test]
fn the_ci_scripts_read_the_reports_siosim_writes() {
    let dir = std::env::temp_dir().join(format!("siosim-ci-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let report = dir.join("report.json");
    let report = report.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = siosim(&[
        "check",
        "--case",
        "engineio::handshake::*",
        "--json",
        report,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let (code, printed) = ci_script("same-verdicts", &[report, report]);
    assert_eq!(code, 0, "{printed}");
    let (code, printed) = ci_script("conformance-matrix", &[&format!("reference={report}")]);
    assert_eq!(code, 0, "{printed}");

    // And same-verdicts does tell two reports apart.
    let mut changed: Value =
        serde_json::from_str(&std::fs::read_to_string(report).expect("the report")).expect("JSON");
    let case = changed["cases"]
        .as_array_mut()
        .expect("cases")
        .iter_mut()
        .find(|c| c["verdict"] == "PASSED")
        .expect("a passed case");
    case["verdict"] = "FAILED".into();
    let other = dir.join("changed.json");
    std::fs::write(&other, changed.to_string()).expect("writing the changed report");
    let other = other.to_str().expect("a UTF-8 path");
    let (code, printed) = ci_script("same-verdicts", &[report, other]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("1 cases differ"), "{printed}");
}
