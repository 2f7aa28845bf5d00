//! Live plans: a seed becomes a session plan to run against a live server
//! over real TCP ([`crate::LiveServer`]). The network is real, so there are
//! no network faults; the clients misbehave instead: they reconnect, drop
//! their transport, go silent or stop reading. Plans are denser than
//! simulated swarms (a real second is dear) and may mix in HTTP requests
//! ([`Swarm::requests`]).
//!
//! A live plan has one phase of activity (every client connects, then
//! fires events and requests drawn by the seed's mix, some asking for
//! acks), then a finale on the same sessions (events with acks, then a
//! settle so that the checkers can demand convergence and acks), as the
//! simulated swarm's liveness phase. Texts carry the seed (`alice:7@s42`),
//! so that one server can serve many seeds without a name from an earlier
//! one colliding with a later one.

use std::fmt::Write as _;

use super::{ACK_PERCENT, Swarm, SwarmRng, roll_mix};
use super::{EventFamily, LEAVE_NAMESPACE_PERCENT, LIVENESS_SETTLE_MS, MAX_WEIGHT, NAMES};
use crate::invariants::heartbeat::DROP_GRACE_US;
use crate::scenario::{ClientScript, Scenario, Step, Transport};

/// The scenario name under which live plans are reported.
pub const LIVE_SWARM: &str = "live-swarm";
/// Longest pause between two of a client's actions.
const MAX_GAP_MS: u64 = 150;
/// Pause between the end of the activity and the finale.
const FINALE_PAUSE_MS: u64 = 300;
/// The chance, in percent, that one client of the seed goes silent or
/// stops reading (it then waits for the server to drop it, which takes the
/// server's whole heartbeat: 45 s with socket.io's defaults).
const SILENT_PERCENT: u64 = 15;
/// The chance, in percent, that a client reconnects or drops its transport
/// once during the activity.
const RECONNECT_PERCENT: u64 = 30;
/// How long past the plan's own length a run may take: connects, HTTP
/// answers and closes over a real network.
const SLACK_MS: u64 = 20_000;
/// How long a silent client may wait for its drop: heartbeats up to this
/// long are judged; a run ends at the latest then.
const SILENT_WAIT_MS: u64 = 600_000;
/// The mix's name for the HTTP requests.
const REQUESTS: &str = "requests";

/// What a client does wrong, once, during the activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Leaves cleanly and opens a new session.
    Reconnect,
    /// Drops its transport without a close, then opens a new session.
    Drop,
    /// Leaves the namespace and joins it again on the same connection (the
    /// official client's `socket.disconnect()` then `socket.connect()` on a
    /// shared Manager): a new socket, in no room.
    LeavesNamespace,
    /// Stops answering pings and waits for the server to drop it.
    Silent,
    /// Stops reading its transport and waits for the server to drop it.
    StopsReading,
}

impl Misbehaviour {
    fn name(self) -> &'static str {
        match self {
            Misbehaviour::Reconnect => "reconnects",
            Misbehaviour::Drop => "drops its transport",
            Misbehaviour::LeavesNamespace => "leaves the namespace and comes back",
            Misbehaviour::Silent => "goes silent",
            Misbehaviour::StopsReading => "stops reading",
        }
    }
}

/// What the seed chose for a live plan, for the line a run starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveOptions {
    pub seed: u64,
    pub transports: Vec<(String, Transport)>,
    /// How long the clients fire events and requests.
    pub active_ms: u64,
    /// Each family's name (and `requests`) and relative weight in the mix.
    pub mix: Vec<(String, u64)>,
    /// `(client, at ms into the activity, what it does)`.
    pub misbehaviours: Vec<(String, u64, Misbehaviour)>,
}

impl LiveOptions {
    fn from_seed(seed: u64, swarm: &Swarm, max_clients: usize) -> Self {
        let mut rng = SwarmRng::new(seed ^ 0x11fe_5e55_1011);
        let most = NAMES.len().min(max_clients.max(1)) as u64;
        let client_count = rng.between(2.min(most), most) as usize;
        let uniform = rng.chance(40).then(|| *rng.pick(&Transport::ALL));
        let transports: Vec<(String, Transport)> = NAMES[..client_count]
            .iter()
            .map(|name| {
                let transport = uniform.unwrap_or_else(|| *rng.pick(&Transport::ALL));
                ((*name).to_owned(), transport)
            })
            .collect();
        let active_ms = rng.between(1_000, 4_000);
        let mut mix: Vec<(String, u64)> = swarm
            .families
            .iter()
            .map(|f| (f.name.clone(), rng.between(0, MAX_WEIGHT)))
            .collect();
        if swarm.requests.is_some() {
            mix.push((REQUESTS.to_owned(), rng.between(0, MAX_WEIGHT)));
        }
        if mix.iter().all(|(_, w)| *w == 0) {
            mix.iter_mut().for_each(|(_, w)| *w = 1);
        }
        let misbehaviours = draw_misbehaviours(&mut rng, &transports, active_ms);
        LiveOptions {
            seed,
            transports,
            active_ms,
            mix,
            misbehaviours,
        }
    }

    /// The options as one block of `# ` lines, printed when a run starts.
    pub fn describe(&self) -> String {
        let mut text = format!("# live plan seed {}\n# clients:", self.seed);
        for (name, transport) in &self.transports {
            let _ = write!(text, " {name}={}", transport.name());
        }
        let names: Vec<&str> = self.mix.iter().map(|(name, _)| name.as_str()).collect();
        let weights: Vec<String> = self.mix.iter().map(|(_, w)| w.to_string()).collect();
        let _ = writeln!(
            text,
            "\n# activity {} ms, mix {} {}",
            self.active_ms,
            names.join(":"),
            weights.join(":"),
        );
        for (client, at_ms, what) in &self.misbehaviours {
            let _ = writeln!(text, "# at {at_ms} ms {client} {}", what.name());
        }
        text
    }

    /// Whether a client waits for the server's heartbeat to drop it.
    fn has_silent_client(&self) -> bool {
        self.misbehaviours
            .iter()
            .any(|(_, _, m)| matches!(m, Misbehaviour::Silent | Misbehaviour::StopsReading))
    }

    fn scenario(&self, swarm: &Swarm) -> Scenario {
        let mut rng = SwarmRng::new(self.seed.rotate_left(29) ^ 0x11fe);
        let wait_limit = if self.has_silent_client() {
            SILENT_WAIT_MS
        } else {
            0
        };
        let mut scenario = Scenario::new(LIVE_SWARM).duration_ms(
            self.active_ms + FINALE_PAUSE_MS + LIVENESS_SETTLE_MS + SLACK_MS + wait_limit,
        );
        for (name, transport) in &self.transports {
            scenario = scenario.client(self.client(swarm, &mut rng, name, *transport));
        }
        scenario
    }

    fn client(
        &self,
        swarm: &Swarm,
        rng: &mut SwarmRng,
        name: &str,
        transport: Transport,
    ) -> ClientScript {
        let mut script = ClientScript::new(name)
            .wait_ms(rng.between(0, 30))
            .connect(transport);
        let mut misbehaviour = self
            .misbehaviours
            .iter()
            .find(|(client, _, _)| client == name)
            .map(|&(_, at, what)| (at, what));
        let (mut elapsed, mut sent) = (0, 0u64);
        // Texts of requests that POSTed, for the cleanup.
        let mut created = Vec::new();
        while elapsed < self.active_ms {
            let gap = rng.between(0, MAX_GAP_MS);
            script = script.wait_ms(gap);
            elapsed += gap;
            if let Some((_, what)) = misbehaviour.filter(|&(at, _)| elapsed >= at) {
                misbehaviour = None;
                match what {
                    Misbehaviour::Reconnect => script = script.disconnect(),
                    Misbehaviour::Drop => script = script.step(Step::Drop),
                    Misbehaviour::LeavesNamespace => {
                        script = leave_and_return(script, rng);
                        continue;
                    }
                    Misbehaviour::Silent => return silent(script, Step::StopAnsweringPings),
                    Misbehaviour::StopsReading => return silent(script, Step::StopReading),
                }
                let transport = *rng.pick(&Transport::ALL);
                script = script.wait_ms(rng.between(0, 100)).connect(transport);
                continue;
            }
            sent += 1;
            let text = format!("{name}:{sent}@s{}", self.seed);
            for step in self.action(swarm, rng, name, sent) {
                if matches!(&step, Step::Http { method, .. } if method == "POST") {
                    created.push(text.clone());
                }
                script = script.step(step);
            }
        }
        self.finale(swarm, rng, name, script, &created)
    }

    /// One action the mix picks: an event (perhaps acked) or requests.
    fn action(&self, swarm: &Swarm, rng: &mut SwarmRng, name: &str, sent: u64) -> Vec<Step> {
        let text = format!("{name}:{sent}@s{}", self.seed);
        let ack = rng.chance(ACK_PERCENT);
        let Some((picked, _)) = roll_mix(rng, &self.mix).map(|at| &self.mix[at]) else {
            return Vec::new();
        };
        if let Some(family) = swarm.families.iter().find(|f| &f.name == picked) {
            return vec![emit(family, rng, &text, ack)];
        }
        let Some(requests) = &swarm.requests else {
            return Vec::new();
        };
        let earlier = (sent > 1).then(|| {
            let earlier = rng.between(1, sent - 1);
            format!("{name}:{earlier}@s{}", self.seed)
        });
        requests(rng, &text, earlier.as_deref())
    }

    fn finale(
        &self,
        swarm: &Swarm,
        rng: &mut SwarmRng,
        name: &str,
        script: ClientScript,
        created: &[String],
    ) -> ClientScript {
        let finale = swarm.finale.as_ref().map(|draw| draw(rng, name));
        let mut script = script.wait_ms(FINALE_PAUSE_MS);
        for (event, args) in finale.into_iter().flatten() {
            script = script.emit_with_ack(&event, args);
        }
        let cleanup = swarm.cleanup.as_ref().map(|draw| draw(created));
        for step in cleanup.into_iter().flatten() {
            script = script.step(step);
        }
        if rng.chance(LEAVE_NAMESPACE_PERCENT) {
            // Leaves the namespace and comes back, as during the activity.
            let script = script.wait_ms(rng.between(0, 200));
            return leave_and_return(script, rng)
                .wait_ms(LIVENESS_SETTLE_MS)
                .step(Step::Drop);
        }
        script.wait_ms(LIVENESS_SETTLE_MS).disconnect()
    }
}

fn emit(family: &EventFamily, rng: &mut SwarmRng, text: &str, ack: bool) -> Step {
    let (event, args) = (family.draw)(rng, text);
    Step::Emit {
        event,
        args,
        ack: ack && family.acked,
    }
}

/// Leaves the namespace (`41`) and joins it again (`40`) on the same
/// connection. The server's CONNECT answer proves it handled the leave
/// (one connection, in order): anything of the old socket's rooms after it
/// is a leak the client can prove.
fn leave_and_return(script: ClientScript, rng: &mut SwarmRng) -> ClientScript {
    script
        .step(Step::SendRaw { text: "41".into() })
        .wait_ms(rng.between(0, 50))
        .step(Step::SendRaw { text: "40".into() })
}

/// The client goes quiet (`how`) and waits for the server to drop it.
fn silent(script: ClientScript, how: Step) -> ClientScript {
    // Past the heartbeat invariant's deadline, so that a drop comes in time
    // or the trace shows it did not.
    script.step(how).step(Step::AwaitDrop {
        grace_ms: DROP_GRACE_US / 1000 + 1_000,
    })
}

/// At most one client goes silent or stops reading; others may reconnect
/// or drop their transport once.
fn draw_misbehaviours(
    rng: &mut SwarmRng,
    transports: &[(String, Transport)],
    active_ms: u64,
) -> Vec<(String, u64, Misbehaviour)> {
    let mut misbehaviours = Vec::new();
    let silent = rng
        .chance(SILENT_PERCENT)
        .then(|| rng.between(0, transports.len() as u64 - 1) as usize);
    for (index, (name, _)) in transports.iter().enumerate() {
        let at = rng.between(200, active_ms.saturating_sub(100).max(200));
        let what = if silent == Some(index) {
            *rng.pick(&[Misbehaviour::Silent, Misbehaviour::StopsReading])
        } else if rng.chance(RECONNECT_PERCENT) {
            *rng.pick(&[
                Misbehaviour::Reconnect,
                Misbehaviour::Drop,
                Misbehaviour::LeavesNamespace,
            ])
        } else {
            continue;
        };
        misbehaviours.push((name.clone(), at, what));
    }
    misbehaviours
}

impl Swarm {
    /// Every option of the live plan drawn from `seed`, with at most
    /// `max_clients` clients (at most 6 whatever the cap).
    pub fn live_options(&self, seed: u64, max_clients: usize) -> LiveOptions {
        LiveOptions::from_seed(seed, self, max_clients)
    }

    /// The live plan for `seed`: a fault-free scenario to run against a
    /// live server ([`crate::LiveServer`]). The same seed and cap name the
    /// same plan forever.
    pub fn live_scenario(&self, seed: u64, max_clients: usize) -> Scenario {
        self.live_options(seed, max_clients).scenario(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm::EventFamily;
    use serde_json::json;

    fn swarm() -> Swarm {
        Swarm::new()
            .family(EventFamily::new("say", |_, text| {
                ("say".into(), vec![json!(text)])
            }))
            .requests(|_, text, _| {
                vec![Step::Http {
                    method: "POST".into(),
                    path: "/things".into(),
                    body: Some(json!({ "name": text })),
                    expect_status: None,
                }]
            })
    }

    #[test]
    fn a_seed_names_one_fault_free_plan_forever() {
        let swarm = swarm();
        assert_eq!(swarm.live_scenario(7, 6), swarm.live_scenario(7, 6));
        assert_ne!(swarm.live_scenario(7, 6), swarm.live_scenario(8, 6));
        for seed in 0..200 {
            let plan = swarm.live_scenario(seed, 6);
            assert!(plan.faults.is_empty(), "seed {seed}");
            assert!((2..=6).contains(&plan.clients.len()), "seed {seed}");
            assert!(swarm.live_scenario(seed, 3).clients.len() <= 3);
        }
    }

    #[test]
    fn seeds_mix_requests_misbehaviour_and_unique_texts() {
        let swarm = swarm();
        let plans: Vec<String> = (0..100)
            .map(|s| swarm.live_scenario(s, 6).to_json())
            .collect();
        let all = plans.concat();
        for needle in [
            "stop_reading",
            "stop_answering_pings",
            "\"drop\"",
            "\"http\"",
            "@s42",
        ] {
            assert!(all.contains(needle), "no plan has {needle}");
        }
        assert!(
            swarm
                .live_options(42, 6)
                .describe()
                .starts_with("# live plan seed 42\n")
        );
    }
}
