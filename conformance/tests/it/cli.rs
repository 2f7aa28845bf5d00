//! The `siosim` binary as a user runs it.

use std::process::Command;

fn siosim(args: &[&str]) -> (i32, String, String) {
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
