//! The robustness family's simulated cases against the reference server
//! and a server with the weakness each is about.

use siosim_conformance::Verdict;

use crate::cases_app::{Bug, check, reference, server, tiny_app};

const FAN_OUT: &str = "robustness::fan_out::idle_recipients_share_one_copy";

fn fan_out_verdict(server: siosim_conformance::SimServer) -> (Verdict, String) {
    let suite = check(server, &[FAN_OUT]);
    let report = suite
        .cases
        .iter()
        .find(|case| case.name == FAN_OUT)
        .expect("the case ran");
    (report.verdict, report.reason.clone())
}

#[test]
fn the_reference_relays_one_shared_copy_to_idle_recipients() {
    let (verdict, reason) = fan_out_verdict(reference());
    println!("{reason}");
    assert_eq!(verdict, Verdict::Passed, "{reason}");
}

#[test]
fn an_app_that_emits_to_each_socket_holds_a_copy_per_recipient() {
    let (verdict, reason) =
        fan_out_verdict(server("copies", || tiny_app(Bug::ChatCopiesPerRecipient)));
    println!("{reason}");
    assert_eq!(verdict, Verdict::NonStrict, "{reason}");
    assert!(reason.contains("of a copy per recipient"), "{reason}");
}
