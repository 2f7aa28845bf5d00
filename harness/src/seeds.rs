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
        let variable = |name: &str| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(error) => Err(format!("{name}: {error}")),
        };
        let (seed, count) = (variable(SEED_VARIABLE)?, variable(SEED_COUNT_VARIABLE)?);
        exploration_seeds(seed.as_deref(), count.as_deref(), default)
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

/// [`Seeds::for_exploration`] given the two variables' values.
fn exploration_seeds(
    seed: Option<&str>,
    count: Option<&str>,
    default: impl IntoIterator<Item = u64>,
) -> Result<Vec<u64>, String> {
    if let Some(value) = seed {
        return value
            .trim()
            .parse()
            .map(|seed| vec![seed])
            .map_err(|_| format!("{SEED_VARIABLE}={value:?} is not a u64"));
    }
    let default: Vec<u64> = default.into_iter().collect();
    let Some(value) = count else {
        return Ok(default);
    };
    let count: u64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{SEED_COUNT_VARIABLE}={value:?} is not a count"))?;
    let first = default.first().copied().unwrap_or(0);
    Ok((first..first.saturating_add(count)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_replays_a_count_widens_and_garbage_is_an_error() {
        assert_eq!(exploration_seeds(None, None, 5..8), Ok(vec![5, 6, 7]));
        assert_eq!(exploration_seeds(Some("42"), Some("9"), 5..8), Ok(vec![42]));
        assert_eq!(
            exploration_seeds(None, Some(" 4 "), 5..8),
            Ok(vec![5, 6, 7, 8])
        );
        assert_eq!(exploration_seeds(None, Some("2"), []), Ok(vec![0, 1]));
        assert!(
            exploration_seeds(None, Some("many"), 0..1)
                .unwrap_err()
                .contains("SIOSIM_SEEDS")
        );
        assert!(
            exploration_seeds(Some("-1"), None, 0..1)
                .unwrap_err()
                .contains("SIOSIM_SEED=")
        );
    }
}
