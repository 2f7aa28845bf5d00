//! A client written as code takes the same fault schedule as a scenario.

use serde_json::json;
use siosim_harness::client::run_script;
use siosim_harness::{
    CLIENT_HOST, ClientRun, ClientScript, EventKind, Fault, Transport, app_factory,
};

use crate::echo_app::echo_app;

fn echo_after(wait_ms: u64) -> ClientScript {
    ClientScript::new("alice")
        .connect(Transport::Websocket)
        .wait_ms(wait_ms)
        .emit_with_ack("echo", vec![json!(1)])
        .expect_ack(Some(vec![json!(1)]), 3_000)
        .disconnect()
}

fn hold(at_ms: u64, release_ms: u64) -> ClientRun {
    let client = CLIENT_HOST.to_owned();
    ClientRun::new(app_factory(echo_app))
        .fault(
            at_ms,
            Fault::Hold {
                client: client.clone(),
            },
        )
        .fault(release_ms, Fault::Release { client })
}

#[test]
fn a_held_link_delays_the_body_until_released() {
    let script = echo_after(200);
    let report = hold(100, 1_000).run(1, |endpoint, recorder| {
        run_script(script, endpoint, recorder, tokio::time::Instant::now())
    });
    let trace = report.trace.to_string();
    assert!(report.failures.is_empty(), "{:?}\n{trace}", report.failures);
    assert_eq!(report.output.and_then(|o| o.failure), None, "{trace}");
    let release = report
        .trace
        .of_kind(EventKind::Fault)
        .find(|e| e.text.starts_with("release client"))
        .unwrap_or_else(|| panic!("a release line:\n{trace}"));
    assert!(!release.text.contains("(0 segments"), "{trace}");
    let ack = report
        .trace
        .of_kind(EventKind::Recv)
        .find(|e| e.text == "430[1]")
        .unwrap_or_else(|| panic!("the ack:\n{trace}"));
    assert!(ack.at_us >= 1_000_000, "{trace}");
}

#[test]
fn a_fault_on_a_quiet_link_is_a_failure() {
    let script = echo_after(1_000);
    let report = hold(100, 200).run(1, |endpoint, recorder| {
        run_script(script, endpoint, recorder, tokio::time::Instant::now())
    });
    assert_eq!(
        report.failures,
        vec!["fault never fired: hold client".to_owned()],
        "{}",
        report.trace
    );
}
