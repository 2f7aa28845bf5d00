//! How a case restarts a cluster's Redis: in simulation a fault on the
//! simulated bus, over TCP a command the user gives (`--redis-restart`,
//! e.g. the `$REDIS_RESTART` of `scripts/with-cluster`), which must return
//! once Redis answers again.

use std::time::Duration;

use siosim_harness::{Fault, FaultTrigger};

use crate::case::CaseError;

/// The longest a restart command may take, Redis's start included.
pub const RESTART_COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// The means of restarting the cluster's Redis, if there is one.
#[derive(Debug, Clone, Default)]
pub enum BusRestart {
    /// Nothing given: the cases that need a restart do not apply.
    #[default]
    Unavailable,
    /// The simulated bus, through the run's trigger.
    Simulated(FaultTrigger),
    /// A shell command (`sh -c`).
    Command(String),
}

impl BusRestart {
    /// Restarts Redis and returns once it is back.
    pub(crate) async fn restart(&self) -> Result<(), CaseError> {
        match self {
            BusRestart::Unavailable => Err(CaseError::NotApplicable(
                "needs a way to restart the cluster's Redis: `--redis-restart CMD`".into(),
            )),
            BusRestart::Simulated(trigger) => trigger
                .fire(Fault::BounceBus)
                .await
                .map_err(CaseError::NotApplicable),
            BusRestart::Command(command) => run(command).await,
        }
    }
}

/// Runs `command`; anything but a success within the deadline makes the
/// case not applicable, with the reason: the server is not to blame.
async fn run(command: &str) -> Result<(), CaseError> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let not_restarted = |why: String| {
        CaseError::NotApplicable(format!("could not restart Redis with {command:?}: {why}"))
    };
    match tokio::time::timeout(RESTART_COMMAND_DEADLINE, child).await {
        Err(_) => Err(not_restarted(format!(
            "it did not finish within {} s",
            RESTART_COMMAND_DEADLINE.as_secs()
        ))),
        Ok(Err(error)) => Err(not_restarted(error.to_string())),
        Ok(Ok(output)) if output.status.success() => Ok(()),
        Ok(Ok(output)) => Err(not_restarted(format!(
            "{}; stderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}
