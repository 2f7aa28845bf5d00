//! Every clause of the seed-app contract that a case cites is a heading of
//! README.md: a case must never point at a section a merge has eaten.

use siosim_conformance::Spec;
use siosim_conformance::cases;

fn readme_headings() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md at the workspace root");
    readme
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| heading.trim_start_matches('#').trim().to_owned())
        .collect()
}

#[test]
fn every_seed_app_clause_is_a_readme_heading() {
    let headings = readme_headings();
    let missing: Vec<String> = cases::all()
        .iter()
        .filter(|case| case.clause.spec == Spec::SeedApp)
        .filter(|case| !headings.iter().any(|h| h == case.clause.section))
        .map(|case| format!("{} cites {:?}", case.name, case.clause.section))
        .collect();
    assert!(
        missing.is_empty(),
        "clauses citing no README heading:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_check_finds_a_missing_heading() {
    // The headings the cases cite are all found, and one that is not there
    // is not: the test above cannot pass vacuously.
    let headings = readme_headings();
    assert!(headings.iter().any(|h| h == "Socket.IO events"));
    assert!(!headings.iter().any(|h| h == "Finding races in the dark"));
    let cited = cases::all()
        .iter()
        .filter(|case| case.clause.spec == Spec::SeedApp)
        .count();
    assert!(cited >= 20, "only {cited} cases cite the seed-app contract");
}
