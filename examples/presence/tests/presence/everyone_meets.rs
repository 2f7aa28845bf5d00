//! A custom invariant over the trace: members who are present together for
//! a while have heard of each other, through the `join` ack's member list or
//! a `joined` event.

use std::collections::BTreeSet;

use serde_json::Value;
use siosim_harness::invariants::{self, History, Invariant, SessionLog, Violation, Way};

/// The invariant's name, as violations and `Verdict::broke` spell it.
pub const EVERYONE_MEETS: &str = "presence.everyone-meets";

/// How long two members must overlap (in simulated microseconds) before
/// each must have heard of the other: longer than any delivery takes.
const SETTLE_US: u64 = 500_000;

pub fn everyone_meets() -> impl Invariant {
    invariants::from_fn(EVERYONE_MEETS, |history| {
        let members = members(history);
        let mut violations = Vec::new();
        for member in &members {
            for other in &members {
                let together_from = member.acked_us.max(other.acked_us);
                let together_until = member.gone_us.min(other.gone_us);
                let settled = together_until.saturating_sub(together_from) >= SETTLE_US;
                if settled && member.alias != other.alias && !member.knows.contains(&other.name) {
                    violations.push(Violation::new(
                        EVERYONE_MEETS,
                        format!(
                            "{} ({}) never heard that {} ({}) joined",
                            member.name, member.alias, other.name, other.alias
                        ),
                        history.witnesses(&[member.ack, other.ack]),
                    ));
                }
            }
        }
        violations
    })
}

/// A session whose `join` was acked.
struct Member {
    alias: String,
    name: String,
    /// The trace index of its join's ack, and when it arrived.
    ack: usize,
    acked_us: u64,
    /// When its socket ended.
    gone_us: u64,
    /// Every name its ack or a `joined` told it about.
    knows: BTreeSet<String>,
}

fn members(history: &History<'_>) -> Vec<Member> {
    history
        .sessions()
        .filter_map(|session| member(history, session))
        .collect()
}

fn member(history: &History<'_>, session: &SessionLog) -> Option<Member> {
    let join = session.events(Way::Sent, "join").next()?;
    let ack = session.ack_of(join)?;
    let name = first_string(&join.args())?;
    let listed = ack.args().first().and_then(Value::as_array).cloned();
    let announced = session
        .events(Way::Received, "joined")
        .filter_map(|joined| first_string(&joined.args()));
    let knows = listed
        .unwrap_or_default()
        .iter()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .chain(announced)
        .collect();
    Some(Member {
        alias: session.alias.clone(),
        name,
        ack: ack.event,
        acked_us: history.at_us(ack.event),
        gone_us: history.end_of(session),
        knows,
    })
}

fn first_string(args: &[Value]) -> Option<String> {
    args.first()?.as_str().map(str::to_owned)
}
