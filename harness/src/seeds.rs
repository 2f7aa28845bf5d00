//! Which seeds a test runs, and how to say which one to replay.

/// The seeds tests run when none is given: fixed, so CI is reproducible.
pub const DEFAULT_SEEDS: &[u64] = &[1, 2, 3, 7, 42];

/// The environment variable that replays one seed.
pub const SEED_VARIABLE: &str = "SIOSIM_SEED";

/// The seeds for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl Seeds {
    /// `SIOSIM_SEED=N` selects that one seed; otherwise [`DEFAULT_SEEDS`].
    /// A malformed value is an error, not a silent fallback.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(SEED_VARIABLE) {
            Ok(value) => value
                .trim()
                .parse()
                .map(|seed| Seeds(vec![seed]))
                .map_err(|_| format!("{SEED_VARIABLE}={value:?} is not a u64")),
            Err(std::env::VarError::NotPresent) => Ok(Seeds(DEFAULT_SEEDS.to_vec())),
            Err(error) => Err(format!("{SEED_VARIABLE}: {error}")),
        }
    }

    /// The command that replays `seed` in the test currently running.
    pub fn replay_command(seed: u64) -> String {
        let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".into());
        let test = std::thread::current()
            .name()
            .map(str::to_owned)
            .unwrap_or_default();
        // Test threads are named after the test's path; simulation threads are not tests.
        if test.is_empty() || test == "main" || test.starts_with("siosim-seed-") {
            format!("{SEED_VARIABLE}={seed} cargo test -p {package}")
        } else {
            format!("{SEED_VARIABLE}={seed} cargo test -p {package} -- --exact {test}")
        }
    }
}
