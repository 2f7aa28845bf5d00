//! `--shard`: one slice of a campaign's seeds, so that several machines (a
//! CI matrix, a Kubernetes Indexed Job) split one range between them and
//! `siosim explore --merge` joins their results. Written `K/N` (the K-th of
//! N, 1-based), as `cargo nextest --partition count:K/N` writes it; `K`, or
//! the whole value, may be `auto`: read from the environment of the job
//! engine that started the process ([`ENGINES`]).

/// The `index`-th of `count` slices (1-based): seeds whose offset in the
/// range is `index - 1` modulo `count`. Strided, so that slow seeds spread
/// over the slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard` as given: a part still `None` comes from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    index: Option<u64>,
    count: Option<u64>,
}

/// A job engine that numbers its parallel jobs: the variable holding this
/// job's index, the index's base (0 or 1), and the variable holding the
/// number of jobs, if the engine sets one.
struct Engine {
    index: &'static str,
    base: u64,
    count: Option<&'static str>,
}

/// The engines `auto` knows, in the order they are looked for.
const ENGINES: [Engine; 3] = [
    // Kubernetes Indexed Job: the completion index; the number of
    // completions is not in the environment.
    Engine {
        index: "JOB_COMPLETION_INDEX",
        base: 0,
        count: None,
    },
    // GitLab CI `parallel: N`.
    Engine {
        index: "CI_NODE_INDEX",
        base: 1,
        count: Some("CI_NODE_TOTAL"),
    },
    // CircleCI `parallelism: N`.
    Engine {
        index: "CIRCLE_NODE_INDEX",
        base: 0,
        count: Some("CIRCLE_NODE_TOTAL"),
    },
];

const AUTO: &str = "auto";

pub fn parse_shard(text: &str) -> Result<ShardArg, String> {
    let bad =
        || format!("{text:?} is not a shard like 2/8 (the 2nd of 8, 1-based), auto/8 or auto");
    if text.trim() == AUTO {
        return Ok(ShardArg {
            index: None,
            count: None,
        });
    }
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let count: u64 = count.trim().parse().map_err(|_| bad())?;
    let index = match index.trim() {
        AUTO => None,
        given => Some(given.parse().map_err(|_| bad())?),
    };
    let shard = ShardArg {
        index,
        count: Some(count),
    };
    shard
        .checked(index.unwrap_or(1), count)
        .map_err(|_| bad())?;
    Ok(shard)
}

impl ShardArg {
    /// The shard, with what `auto` stands for read through `env` (a
    /// variable's value, if set).
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (index, engine_count) = match self.index {
            Some(index) => (index, None),
            None => index_from(&env)?,
        };
        let count = self.count.or(engine_count).ok_or_else(|| {
            "--shard auto: the environment gives this job's index but not the number of jobs; write --shard auto/N".to_owned()
        })?;
        self.checked(index, count)
    }

    fn checked(self, index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count}: the index must be from 1 to the count"
            ));
        }
        Ok(Shard { index, count })
    }
}

/// This job's 1-based index, and the number of jobs if the engine says.
fn index_from(env: &impl Fn(&str) -> Option<String>) -> Result<(u64, Option<u64>), String> {
    let number = |name: &str, value: String| -> Result<u64, String> {
        value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a number"))
    };
    for engine in &ENGINES {
        let Some(value) = env(engine.index) else {
            continue;
        };
        let index = number(engine.index, value)?.saturating_add(1) - engine.base;
        let count = match engine.count.and_then(|name| env(name).map(|v| (name, v))) {
            Some((name, value)) => Some(number(name, value)?),
            None => None,
        };
        return Ok((index, count));
    }
    let names: Vec<&str> = ENGINES.iter().map(|engine| engine.index).collect();
    Err(format!("--shard auto: none of {} is set", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn explicit_shards_ignore_the_environment() {
        let shard = parse_shard("2/8").unwrap();
        assert_eq!(
            shard.resolve(env(&[("JOB_COMPLETION_INDEX", "5")])),
            Ok(Shard { index: 2, count: 8 })
        );
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("2").is_err());
        assert!(parse_shard("auto/0").is_err());
    }

    #[test]
    fn a_kubernetes_completion_index_is_zero_based_and_needs_the_count() {
        let vars = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            parse_shard("auto/4").unwrap().resolve(&vars),
            Ok(Shard { index: 1, count: 4 })
        );
        let error = parse_shard("auto").unwrap().resolve(&vars).unwrap_err();
        assert!(error.contains("--shard auto/N"), "{error}");
        let error = parse_shard("auto/4")
            .unwrap()
            .resolve(env(&[("JOB_COMPLETION_INDEX", "4")]))
            .unwrap_err();
        assert!(error.contains("5/4"), "{error}");
    }

    #[test]
    fn gitlab_and_circleci_give_index_and_count() {
        assert_eq!(
            parse_shard("auto")
                .unwrap()
                .resolve(env(&[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "3")])),
            Ok(Shard { index: 3, count: 3 })
        );
        assert_eq!(
            parse_shard("auto").unwrap().resolve(env(&[
                ("CIRCLE_NODE_INDEX", "0"),
                ("CIRCLE_NODE_TOTAL", "2")
            ])),
            Ok(Shard { index: 1, count: 2 })
        );
    }

    #[test]
    fn auto_without_an_engine_or_with_garbage_is_a_clear_error() {
        let error = parse_shard("auto").unwrap().resolve(env(&[])).unwrap_err();
        assert!(error.contains("JOB_COMPLETION_INDEX"), "{error}");
        let error = parse_shard("auto/2")
            .unwrap()
            .resolve(env(&[("JOB_COMPLETION_INDEX", "one")]))
            .unwrap_err();
        assert!(error.contains("not a number"), "{error}");
    }
}
