//! Determinism, enforced mechanically: the harness's own code never iterates
//! a hash collection, reads the wall clock or draws OS randomness (except
//! `entropy.rs`, which replaces those sources).

use std::path::{Path, PathBuf};

/// Each banned text and what to use instead.
const BANNED: &[(&str, &str)] = &[
    (
        "HashMap",
        "BTreeMap or IndexMap: iteration order must not depend on hash keys",
    ),
    (
        "HashSet",
        "BTreeSet or IndexSet: iteration order must not depend on hash keys",
    ),
    (
        "std::time::Instant",
        "tokio::time::Instant, which the simulation controls",
    ),
    ("SystemTime::now", "turmoil's simulated clock"),
    ("thread_rng", "randomness derived from the run's seed"),
    ("rand::rng()", "randomness derived from the run's seed"),
    (
        "std::thread::sleep",
        "waiting for the event, with a simulated-time deadline",
    ),
];

/// Files allowed to name the banned sources, because they replace them.
const EXEMPT: &[&str] = &["entropy.rs"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading harness/src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn harness_code_uses_only_seeded_sources() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    assert!(files.len() > 10, "found too few files: {files:?}");
    let mut offences = Vec::new();
    for file in files
        .iter()
        .filter(|f| !EXEMPT.iter().any(|e| f.ends_with(e)))
    {
        let text = std::fs::read_to_string(file).expect("reading a source file");
        for (number, line) in text.lines().enumerate() {
            for (banned, instead) in BANNED {
                if line.contains(banned) {
                    offences.push(format!(
                        "{}:{}: {banned} — use {instead}",
                        file.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
