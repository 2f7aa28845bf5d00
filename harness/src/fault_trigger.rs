//! Faults a [`ClientRun`](crate::ClientRun)'s body sets off itself, at a
//! point of its own (once its sockets are in place, say) rather than at a
//! scheduled instant: how a conformance case restarts a simulated cluster's
//! bus where, over TCP, it would run a command that restarts Redis.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use crate::scenario::Fault;

/// Faults at most waiting to be applied; a body that fires more before the
/// driver's next step is told so.
const MAX_PENDING: usize = 16;

/// A handle the body fires faults through; the run's driver applies them
/// before its next step, in the order fired, and records each in the
/// trace like a scheduled one.
#[derive(Debug, Clone, Default)]
pub struct FaultTrigger(Arc<Mutex<Triggered>>);

#[derive(Debug, Default)]
struct Triggered {
    pending: VecDeque<Fault>,
    fired: u64,
    applied: u64,
    waiting: Vec<Waker>,
}

impl FaultTrigger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fires `fault`; resolves once the driver has applied it (before the
    /// simulation's next step), or at once with an error if too many wait.
    pub async fn fire(&self, fault: Fault) -> Result<(), String> {
        let ticket = {
            let mut triggered = self.lock();
            if triggered.pending.len() >= MAX_PENDING {
                return Err(format!("{MAX_PENDING} faults already wait to be applied"));
            }
            triggered.pending.push_back(fault);
            triggered.fired += 1;
            triggered.fired
        };
        std::future::poll_fn(|cx| {
            let mut triggered = self.lock();
            if triggered.applied >= ticket {
                Poll::Ready(Ok(()))
            } else {
                if !triggered.waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    triggered.waiting.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }

    /// The faults fired since the last call, oldest first.
    pub(crate) fn take(&self) -> Vec<Fault> {
        self.lock().pending.drain(..).collect()
    }

    /// Tells the bodies waiting that `count` more faults are applied.
    pub(crate) fn applied(&self, count: usize) {
        let waiting = {
            let mut triggered = self.lock();
            triggered.applied += count as u64;
            std::mem::take(&mut triggered.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Triggered> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
