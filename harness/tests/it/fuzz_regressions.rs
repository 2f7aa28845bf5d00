//! Every input the codec fuzzer (`scripts/fuzz`, target `codec`) once
//! crashed on, kept in `harness/fuzz/regressions/codec/`, still round-trips.

use std::path::PathBuf;

use siosim_harness::codec::check_round_trips;

#[test]
fn every_codec_crash_found_by_fuzzing_round_trips_now() {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/codec");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("the regressions directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "no regression inputs in {}",
        directory.display()
    );
    for input in inputs {
        let bytes = std::fs::read(&input).expect("a regression input");
        let text = String::from_utf8_lossy(&bytes);
        if let Err(broken) = check_round_trips(&text) {
            panic!("{}: {broken}", input.display());
        }
    }
}

/// The first: a number too large for u64 in a CONNECT's payload was parsed
/// to the nearest f64 only approximately (serde_json's fast path), so its
/// re-encoding parsed to a different float. serde_json's `float_roundtrip`
/// feature parses correctly rounded.
#[test]
fn a_huge_integer_survives_a_round_trip() {
    let text = r#"0{"sid":"abc","n":444444444444444444444440}"#;
    check_round_trips(text).expect("round trips");
}
