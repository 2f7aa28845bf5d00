//! A shared counter: an event that pushes the current value to sockets
//! (the reference app's `get count`) and an event that increments it and
//! acks the new value (`increase count`); you name both in [`Counter::new`].
//!
//! - [`MONOTONIC`]: each socket sees strictly increasing counts (its greeting,
//!   then one new value per increment).
//! - [`NO_LOST_INCREMENT`]: within one server lifetime every increment the
//!   server acked got a value of its own, and the final count lies between
//!   the increments acked (the server surely received them) and the
//!   increments sent (it cannot have received more).
//! - [`CONVERGES`]: after healing, every socket that stayed connected long
//!   enough ends on the final count.
//! - [`NO_GAP`] (opt in, [`Counter::without_gaps`]): a socket that received
//!   a count and later a higher one received every count in between: one
//!   connection carries the pushes in order, so a hole is a push the server
//!   skipped while the socket was connected. Not for an app whose count
//!   jumps (several increments per push).

use std::collections::BTreeMap;

use super::history::{History, SessionLog, Way};
use super::{Invariant, Violation};

pub const MONOTONIC: &str = "counter.monotonic";
pub const NO_LOST_INCREMENT: &str = "counter.no-lost-increment";
pub const CONVERGES: &str = "counter.converges";
pub const NO_GAP: &str = "counter.no-gap";

/// How long after the final count first appears every healthy socket must
/// have it: a few round trips on a healed network, polling included.
pub const CONVERGENCE_WINDOW_US: u64 = 2_000_000;

/// The counter checks, for an app's value and increment events.
#[derive(Debug, Clone)]
pub struct Counter {
    /// The event that pushes the current count (first argument, an integer).
    value: String,
    /// The event that increments it, acked with the new count.
    increment: String,
    /// Whether [`NO_GAP`] is judged.
    without_gaps: bool,
    /// Whether the count may start anywhere (see [`Counter::starting_anywhere`]).
    starting_anywhere: bool,
}

impl Counter {
    pub fn new(value: impl Into<String>, increment: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            increment: increment.into(),
            without_gaps: false,
            starting_anywhere: false,
        }
    }

    /// The count need not start at 0 (a live server that has counted
    /// before): [`NO_LOST_INCREMENT`]'s bounds count from the first value a
    /// socket received before any increment of the run was sent, and are
    /// not judged if none was.
    pub fn starting_anywhere(mut self) -> Self {
        self.starting_anywhere = true;
        self
    }

    /// Also judge [`NO_GAP`]: every increment pushes its own value to every
    /// connected socket.
    pub fn without_gaps(mut self) -> Self {
        self.without_gaps = true;
        self
    }

    /// The count values a session received: (value, trace index).
    fn counts_received(&self, session: &SessionLog) -> Vec<(u64, usize)> {
        session
            .events(Way::Received, &self.value)
            .filter_map(|p| Some((p.first_u64()?, p.event)))
            .collect()
    }
}

impl Invariant for Counter {
    fn name(&self) -> &str {
        "counter"
    }

    fn check(&self, history: &History<'_>) -> Vec<Violation> {
        let mut violations = Vec::new();
        violations.extend(
            history
                .sessions
                .values()
                .find_map(|session| monotonic(self, history, session)),
        );
        if self.without_gaps {
            violations.extend(
                history
                    .sessions
                    .values()
                    .find_map(|session| gap(self, history, session)),
            );
        }
        let epochs = history.restarts_us.len() + 1;
        for epoch in 0..epochs {
            let lifetime = Lifetime::of(self, history, epoch);
            let start = if self.starting_anywhere && epoch == 0 {
                lifetime.first_count_before_increments()
            } else {
                Some(0)
            };
            violations.extend(lifetime.no_lost_increment(history, start));
            if epoch + 1 == epochs {
                violations.extend(lifetime.converges(self, history));
            }
        }
        violations
    }
}

fn monotonic(counter: &Counter, history: &History<'_>, session: &SessionLog) -> Option<Violation> {
    let counts = counter.counts_received(session);
    // A new socket on the same session (a CONNECT answer after the client
    // left the namespace) starts over: its greeting may repeat the count.
    let (before, after) = counts
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .filter(|((_, earlier), (_, later))| !session.reconnected_between(*earlier, *later))
        .find(|((earlier, _), (later, _))| later <= earlier)?;
    Some(Violation::new(
        MONOTONIC,
        format!(
            "{} received {:?} {} after {}",
            session.alias, counter.value, after.0, before.0
        ),
        history.witnesses(&[before.1, after.1]),
    ))
}

fn gap(counter: &Counter, history: &History<'_>, session: &SessionLog) -> Option<Violation> {
    let counts = counter.counts_received(session);
    let (before, after) = counts
        .windows(2)
        .map(|pair| (pair[0], pair[1]))
        .find(|((earlier, _), (later, _))| *later > earlier.saturating_add(1))?;
    Some(Violation::new(
        NO_GAP,
        format!(
            "{} received {:?} {} after {}: it missed {}",
            session.alias,
            counter.value,
            after.0,
            before.0,
            before.0 + 1
        ),
        history.witnesses(&[before.1, after.1]),
    ))
}

/// What one server lifetime's sockets saw of the counter.
struct Lifetime {
    /// Every `increase count` sent, by trace index.
    increments_sent: Vec<usize>,
    /// Every ack of an increment: (value, ack index, send index).
    acks: Vec<(u64, usize, usize)>,
    /// The highest count seen, and where it was first seen.
    final_count: Option<(u64, usize)>,
    /// The first count received (value, index), whatever came before it.
    first_count: Option<(u64, usize)>,
}

impl Lifetime {
    fn of(counter: &Counter, history: &History<'_>, epoch: usize) -> Self {
        let mut lifetime = Lifetime {
            increments_sent: Vec::new(),
            acks: Vec::new(),
            final_count: None,
            first_count: None,
        };
        for session in history.sessions.values() {
            if history.epoch_of(session) == epoch {
                lifetime.take(counter, session);
            }
        }
        lifetime.increments_sent.sort_unstable();
        lifetime.acks.sort_by_key(|&(_, ack, _)| ack);
        lifetime
    }

    fn take(&mut self, counter: &Counter, session: &SessionLog) {
        let mut awaiting: BTreeMap<u64, usize> = BTreeMap::new();
        for packet in &session.packets {
            let seen = match packet.way {
                Way::Sent if packet.is_event(&counter.increment) => {
                    self.increments_sent.push(packet.event);
                    if let Some(id) = packet.sio.ack_id {
                        awaiting.insert(id, packet.event);
                    }
                    None
                }
                Way::Received if packet.is_ack() => {
                    let send = packet.sio.ack_id.and_then(|id| awaiting.remove(&id));
                    match (send, packet.first_u64()) {
                        (Some(send), Some(value)) => {
                            self.acks.push((value, packet.event, send));
                            Some(value)
                        }
                        _ => None,
                    }
                }
                Way::Received if packet.is_event(&counter.value) => packet.first_u64(),
                _ => None,
            };
            if let Some(value) = seen {
                if self.first_count.is_none_or(|(_, at)| packet.event < at) {
                    self.first_count = Some((value, packet.event));
                }
                let higher = self
                    .final_count
                    .is_none_or(|(best, at)| value > best || (value == best && packet.event < at));
                if higher {
                    self.final_count = Some((value, packet.event));
                }
            }
        }
    }

    /// The first count received, if it came before any increment was sent.
    fn first_count_before_increments(&self) -> Option<u64> {
        let (value, at) = self.first_count?;
        let first_sent = self.increments_sent.first().copied().unwrap_or(usize::MAX);
        (at < first_sent).then_some(value)
    }

    /// `start` is the count before the run's increments (None: unknown).
    fn no_lost_increment(&self, history: &History<'_>, start: Option<u64>) -> Vec<Violation> {
        let mut violations = Vec::new();
        let mut by_value: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
        for &(value, ack, send) in &self.acks {
            if let Some(&(first_ack, first_send)) = by_value.get(&value) {
                violations.push(Violation::new(
                    NO_LOST_INCREMENT,
                    format!("two increments were both acked with count {value}: one was lost"),
                    history.witnesses(&[first_send, first_ack, send, ack]),
                ));
                break;
            }
            by_value.insert(value, (ack, send));
        }
        let (Some((final_count, at)), Some(start)) = (self.final_count, start) else {
            return violations;
        };
        let final_count = final_count.saturating_sub(start);
        let rise = |by: u64| match start {
            0 => format!("reached {by}"),
            _ => format!("rose by {by} from {start}"),
        };
        let sent = self.increments_sent.len() as u64;
        if final_count > sent {
            let mut witnesses = vec![at];
            witnesses.extend(self.increments_sent.iter().copied());
            violations.push(Violation::new(
                NO_LOST_INCREMENT,
                format!(
                    "the count {} but only {sent} increments were sent",
                    rise(final_count)
                ),
                history.witnesses(&witnesses),
            ));
        } else if final_count < self.acks.len() as u64 {
            let mut witnesses = vec![at];
            witnesses.extend(self.acks.iter().map(|&(_, ack, _)| ack));
            violations.push(Violation::new(
                NO_LOST_INCREMENT,
                format!(
                    "the final count {} but {} increments were acked",
                    if start == 0 {
                        format!("is {final_count}")
                    } else {
                        rise(final_count)
                    },
                    self.acks.len()
                ),
                history.witnesses(&witnesses),
            ));
        }
        violations
    }

    /// Every healthy session still open [`CONVERGENCE_WINDOW_US`] after the
    /// final count first appeared must have received it.
    fn converges(&self, counter: &Counter, history: &History<'_>) -> Vec<Violation> {
        let Some((final_count, first_seen)) = self.final_count else {
            return Vec::new();
        };
        let deadline = history
            .at_us(first_seen)
            .saturating_add(CONVERGENCE_WINDOW_US);
        let last_epoch = history.restarts_us.len();
        history
            .sessions
            .values()
            .filter(|s| history.epoch_of(s) == last_epoch && history.is_healthy(s))
            .filter(|s| history.responsive_until(s) >= deadline)
            .filter_map(|session| {
                let counts = counter.counts_received(session);
                let last = counts.last().copied();
                if last.is_some_and(|(value, _)| value == final_count) {
                    return None;
                }
                let mut witnesses = vec![first_seen, session.opened];
                witnesses.extend(last.map(|(_, at)| at));
                witnesses.extend(session.closed);
                Some(Violation::new(
                    CONVERGES,
                    format!(
                        "{} ended on count {} instead of the final count {final_count}",
                        session.alias,
                        last.map_or("none".to_owned(), |(value, _)| value.to_string())
                    ),
                    history.witnesses(&witnesses),
                ))
            })
            .take(1)
            .collect()
    }
}
