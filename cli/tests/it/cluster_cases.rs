//! The `cluster` cases pass on the reference cluster and fail on clusters
//! that break what they check: nodes that share nothing, nodes that each
//! keep their own count, and nodes that push the count their own increase
//! got.

use std::sync::Arc;

use siosim::cluster;
use siosim_conformance::runner::{self, RunOptions};
use siosim_conformance::{SimServer, SuiteReport, Target, Verdict};
use siosim_server::Config;
use siosim_server::cluster::Counting;

const CLUSTER_CASES: &str = "cluster::*";

/// The reference server, alone.
fn reference() -> SimServer {
    SimServer {
        name: "reference".into(),
        app: Arc::new(|| siosim_server::app(&Config::default())),
        path: "/socket.io".into(),
        cluster: None,
    }
}

fn with_cluster(name: &str, nodes: siosim_harness::NodeFactory) -> SimServer {
    SimServer {
        name: name.into(),
        cluster: Some(nodes),
        ..reference()
    }
}

fn check(server: SimServer, patterns: &[&str]) -> SuiteReport {
    let options = RunOptions {
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        jobs: 2,
        ..RunOptions::default()
    };
    runner::run(
        &siosim_conformance::cases::all(),
        &Target::Sim { seed: 1, server },
        &options,
        |_| {},
    )
    .expect("a simulated target always resolves")
}

fn verdicts(report: &SuiteReport) -> Vec<(&'static str, Verdict)> {
    report
        .cases
        .iter()
        .map(|case| (case.name, case.verdict))
        .collect()
}

fn failed(report: &SuiteReport) -> Vec<&'static str> {
    let mut names: Vec<_> = verdicts(report)
        .into_iter()
        .filter(|(_, verdict)| *verdict == Verdict::Failed)
        .map(|(name, _)| name)
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn the_reference_cluster_passes_every_cluster_case() {
    let nodes = cluster::nodes(&Config::default(), Counting::Shared);
    let report = check(with_cluster("cluster", nodes), &[CLUSTER_CASES]);
    assert_eq!(report.cases.len(), 9);
    assert!(
        report
            .cases
            .iter()
            .all(|case| case.verdict == Verdict::Passed),
        "{:?}",
        verdicts(&report)
    );
}

#[test]
fn nodes_that_share_nothing_fail_every_case_about_sharing() {
    let alone: siosim_harness::NodeFactory = Arc::new(|_| siosim_server::app(&Config::default()));
    let report = check(with_cluster("unshared", alone), &[CLUSTER_CASES]);
    assert_eq!(failed(&report).len(), 8, "{:?}", verdicts(&report));
}

#[test]
fn nodes_counting_on_their_own_fail_the_counter_cases_only() {
    let nodes = cluster::nodes(&Config::default(), Counting::PerNode);
    let report = check(
        with_cluster("cluster-per-node-count", nodes),
        &[CLUSTER_CASES],
    );
    assert_eq!(
        failed(&report),
        [
            "cluster::counter::get_count::greets_with_the_shared_count",
            "cluster::counter::increase_count::reaches_every_node",
        ],
        "{:?}",
        verdicts(&report)
    );
}

#[test]
fn without_a_second_node_the_cluster_cases_do_not_apply() {
    let report = check(reference(), &[CLUSTER_CASES]);
    assert!(
        report
            .cases
            .iter()
            .all(|case| case.verdict == Verdict::NotApplicable),
        "{:?}",
        verdicts(&report)
    );
}

#[test]
fn nodes_emitting_their_own_count_fail_the_rising_count_case() {
    let nodes = cluster::nodes(&Config::default(), Counting::EmitsItsOwn);
    let report = check(
        with_cluster("cluster-emits-own-count", nodes),
        &[CLUSTER_CASES],
    );
    assert!(
        failed(&report)
            .contains(&"cluster::counter::increase_count::counts_only_rise_on_every_node"),
        "{:?}",
        verdicts(&report)
    );
}
