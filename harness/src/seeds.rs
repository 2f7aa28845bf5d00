//! Which seeds a test runs, and how to say which one to replay.

/// The seeds tests run when none is given: fixed, so CI is reproducible.
pub const DEFAULT_SEEDS: &[u64] = &[1, 2, 3, 7, 42];

/// The environment variable that replays one seed.
pub const SEED_VARIABLE: &str = "SIOSIM_SEED";

/// The environment variable that sets how many seeds a search runs.
pub const SEED_COUNT_VARIABLE: &str = "SIOSIM_SEEDS";

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

    /// The seeds a search runs: `SIOSIM_SEED=S` selects only `S` (the
    /// replay); `SIOSIM_SEEDS=N` selects `N` seeds from the first of
    /// `default`; otherwise `default`. A malformed value is an error.
    pub fn for_exploration(default: impl IntoIterator<Item = u64>) -> Result<Vec<u64>, String> {
        if std::env::var_os(SEED_VARIABLE).is_some() {
            return Self::from_env().map(|seeds| seeds.0);
        }
        let default: Vec<u64> = default.into_iter().collect();
        match std::env::var(SEED_COUNT_VARIABLE) {
            Ok(value) => {
                let count: u64 = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("{SEED_COUNT_VARIABLE}={value:?} is not a count"))?;
                let first = default.first().copied().unwrap_or(0);
                Ok((first..first.saturating_add(count)).collect())
            }
            Err(std::env::VarError::NotPresent) => Ok(default),
            Err(error) => Err(format!("{SEED_COUNT_VARIABLE}: {error}")),
        }
    }

    /// The command that replays `seed` in the test currently running.
    pub fn replay_command(seed: u64) -> String {
        Self::replay_command_in(std::thread::current().name(), seed)
    }

    /// The command that replays `seed` in the test whose thread is named `test`.
    pub fn replay_command_in(test: Option<&str>, seed: u64) -> String {
        let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".into());
        let test = test.unwrap_or_default();
        // Test threads are named after the test's path; simulation threads are not tests.
        if test.is_empty() || test == "main" || test.starts_with("siosim-seed-") {
            format!("{SEED_VARIABLE}={seed} cargo test -p {package}")
        } else {
            format!("{SEED_VARIABLE}={seed} cargo test -p {package} -- --exact {test}")
        }
    }
}
