//! One seeded run, judged: the scenario (a built-in, the seed-derived
//! `swarm`, or a file) against a server variant, then every invariant
//! checker over its trace. A thin layer over the harness's
//! [`Simulation::check`]: `siosim run`, `siosim explore` and `siosim shrink`
//! all build their simulation here, so a seed's verdict is the same bytes
//! everywhere.

use std::path::PathBuf;

use anyhow::Context as _;
use siosim_conformance::reference;
use siosim_harness::swarm;
use siosim_harness::{AppFactory, NodeFactory, Scenario, Simulation, Verdict};

use crate::cluster;
use crate::exit_code::Exit;
use crate::live_campaign::{DEFAULT_MAX_CONNECTIONS, LiveCampaign, LiveProfile};
use crate::scenarios::{self, TransportMix};
use crate::target_flags::{APPLIES_IN_SIMULATION, Flag, SCENARIO_AND_SERVER, TargetFlags};

/// The correct server, `siosim_server::app`.
pub const REFERENCE: &str = "reference";

/// Every server `--server` accepts: the reference, the racy variants, the
/// variants that take their process down on some seeds, then the clustered
/// app and its racy variant (simulation only).
pub fn server_names() -> Vec<&'static str> {
    let mut names = vec![REFERENCE];
    names.extend(siosim_server::variants::NAMES);
    names.extend(siosim_server::variants::FAULTY);
    names.extend(cluster::NAMES);
    names
}

/// A server to simulate: one app on the host `server`, or a cluster's nodes
/// (with the node count `--nodes` fixed, if it did).
#[derive(Clone)]
pub enum ServerApp {
    Single(AppFactory),
    Cluster(NodeFactory, Option<usize>),
}

impl std::fmt::Debug for ServerApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServerApp::Single(_) => "ServerApp::Single",
            ServerApp::Cluster(..) => "ServerApp::Cluster",
        })
    }
}

impl ServerApp {
    /// Fixes a cluster's node count (`--nodes`); a single server has none.
    pub fn with_nodes(self, nodes: Option<usize>) -> anyhow::Result<Self> {
        match (self, nodes) {
            (app, None) => Ok(app),
            (ServerApp::Single(_), Some(_)) => anyhow::bail!(
                "--nodes applies to a clustered server ({})",
                cluster::NAMES.join(", ")
            ),
            (ServerApp::Cluster(..), Some(n)) if !(1..=cluster::MOST_NODES).contains(&n) => {
                anyhow::bail!(
                    "--nodes {n}: a cluster runs 1 to {} nodes",
                    cluster::MOST_NODES
                )
            }
            (ServerApp::Cluster(app, _), nodes) => Ok(ServerApp::Cluster(app, nodes)),
        }
    }

    /// A scenario by name (see [`named_scenario`]), for this server: a
    /// cluster's built-ins run its `--nodes` (else [`cluster::MAX_NODES`])
    /// nodes, and its swarm seeds draw a cluster too.
    pub fn scenario(&self, name: &str, seed: u64, mix: TransportMix) -> anyhow::Result<Scenario> {
        match self {
            ServerApp::Single(_) => named_scenario(name, seed, mix),
            ServerApp::Cluster(_, nodes) if name == swarm::SWARM => {
                Ok(cluster_swarm(*nodes).scenario(seed))
            }
            ServerApp::Cluster(_, nodes) => {
                Ok(named_scenario(name, seed, mix)?.nodes(nodes.unwrap_or(cluster::MAX_NODES)))
            }
        }
    }

    /// What `run` prints before the trace: the swarm's drawn options.
    pub fn preamble(&self, name: &str, seed: u64) -> String {
        match self {
            ServerApp::Cluster(_, nodes) if name == swarm::SWARM => {
                cluster_swarm(*nodes).options(seed).describe()
            }
            _ => preamble(name, seed),
        }
    }
}

/// The reference swarm over a cluster: of `nodes` nodes, or else each seed
/// draws 2 up to [`cluster::MAX_NODES`].
fn cluster_swarm(nodes: Option<usize>) -> swarm::Swarm {
    match nodes {
        Some(nodes) => reference::swarm().cluster_of(nodes),
        None => reference::swarm().clustered(cluster::MAX_NODES),
    }
}

/// The named server, built once with its shutdown handles, for `siosim serve`.
pub fn served(name: &str, config: &siosim_server::Config) -> anyhow::Result<siosim_server::Server> {
    if name == REFERENCE {
        return Ok(siosim_server::Server::reference(config));
    }
    if cluster::counting(name).is_some() {
        anyhow::bail!(
            "--server {name} is a simulated cluster: it runs with `siosim run` and `siosim explore`, not `siosim serve`"
        );
    }
    siosim_server::variants::server(name, config).ok_or_else(|| unknown_server(name))
}

/// Builds the named server for each (re)start of the server host (or of
/// each node's).
pub fn server_app(name: &str, config: &siosim_server::Config) -> anyhow::Result<ServerApp> {
    if let Some(counting) = cluster::counting(name) {
        return Ok(ServerApp::Cluster(cluster::nodes(config, counting), None));
    }
    let config = config.clone();
    if name == REFERENCE {
        return Ok(ServerApp::Single(std::sync::Arc::new(move || {
            siosim_server::app(&config)
        })));
    }
    if !server_names().contains(&name) {
        return Err(unknown_server(name));
    }
    let name = name.to_owned();
    Ok(ServerApp::Single(std::sync::Arc::new(move || {
        siosim_server::variants::app(&name, &config)
            .expect("the name was checked when the variant was chosen")
    })))
}

/// The usage error for a `--server` name that is neither the reference nor a variant.
fn unknown_server(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "no server variant {name:?}; known: {}",
        server_names().join(", ")
    )
}

/// A scenario by name: `swarm` is drawn from the seed, anything else is a
/// built-in played over `mix`.
pub fn named_scenario(name: &str, seed: u64, mix: TransportMix) -> anyhow::Result<Scenario> {
    if name == swarm::SWARM {
        return Ok(reference::swarm().scenario(seed));
    }
    let built_in = scenarios::find(name)
        .with_context(|| format!("no built-in scenario {name:?}; try `siosim list`"))?;
    Ok((built_in.build)(mix))
}

/// What `run` prints before the trace: the swarm's drawn options.
pub fn preamble(name: &str, seed: u64) -> String {
    if name == swarm::SWARM {
        reference::swarm().options(seed).describe()
    } else {
        String::new()
    }
}

/// `scenario` against `app`, judged by the reference app's invariants; a
/// swarm scenario's faults may strike nothing (that seed tested less).
pub fn simulation(scenario: Scenario, app: &ServerApp, socketio_path: &str) -> Simulation {
    let is_swarm = scenario.name == swarm::SWARM;
    let simulation = match app.clone() {
        ServerApp::Single(app) => {
            reference::judged(Simulation::new(scenario, move || app()).socketio_path(socketio_path))
        }
        ServerApp::Cluster(nodes, _) => reference::judged_cluster(
            Simulation::cluster(scenario, move |node| nodes(node)).socketio_path(socketio_path),
        ),
    };
    if is_swarm {
        simulation.unfired_faults_pass()
    } else {
        simulation
    }
}

/// Runs `scenario` once against `app` with `seed`, and checks it.
pub fn judge(scenario: Scenario, app: &ServerApp, socketio_path: &str, seed: u64) -> Verdict {
    simulation(scenario, app, socketio_path).check(seed)
}

/// The command that replays a seed of a named scenario.
pub fn replay_line(
    scenario: &str,
    seed: u64,
    mix: TransportMix,
    server: &str,
    nodes: Option<usize>,
) -> String {
    let mut line = format!("siosim run {scenario} --seed {seed}");
    if scenario != swarm::SWARM && mix != TransportMix::Mixed {
        line.push_str(&format!(" --transport {}", mix.name()));
    }
    line + &server_flags(server, nodes)
}

/// ` --server NAME --nodes N`, each only if it is not the default.
pub fn server_flags(server: &str, nodes: Option<usize>) -> String {
    let mut flags = String::new();
    if server != REFERENCE {
        flags.push_str(&format!(" --server {server}"));
    }
    if let Some(nodes) = nodes {
        flags.push_str(&format!(" --nodes {nodes}"));
    }
    flags
}

/// `siosim run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A built-in scenario (see `siosim list`), or `swarm`: a scenario drawn from the seed.
    #[arg(required_unless_present_any = ["scenario_file", "url"])]
    pub scenario: Option<String>,
    /// Run this JSON scenario file instead of a built-in.
    #[arg(long, conflicts_with = "scenario")]
    pub scenario_file: Option<PathBuf>,
    /// The seed: the same seed prints the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which transports the built-in scenario's clients use.
    #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
    pub transport: TransportMix,
    /// The server under test: `reference`, or a racy variant.
    #[arg(long = "server", default_value = REFERENCE)]
    pub server_variant: String,
    /// A clustered server's node count: its built-ins and each swarm seed
    /// run exactly this many (by default built-ins run 3, and each swarm
    /// seed draws 2 or 3).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Also write the trace as versioned JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Run the plan (`swarm`: the seed's live plan, or `--scenario-file`)
    /// once against the live server at this root URL, over real TCP.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: what the server is judged as claiming.
    #[arg(long, value_enum, default_value_t = LiveProfile::Protocol)]
    pub profile: LiveProfile,
    /// With `--url`: a host other than loopback that may be used.
    #[arg(long = "allow-host")]
    pub allow_hosts: Vec<String>,
    #[command(flatten)]
    pub server: siosim_server::Config,
}

/// Flags that only a live server uses.
const LIVE_ONLY: [Flag; 2] = [("profile", "--profile"), ("allow_hosts", "--allow-host")];
const FLAGS: TargetFlags = TargetFlags {
    simulation_only: &SCENARIO_AND_SERVER,
    simulation_why: APPLIES_IN_SIMULATION,
    live_only: &LIVE_ONLY,
};

/// `siosim run --url`: one run of a plan against a live server, judged.
fn run_live(url: &str, args: &RunArgs) -> anyhow::Result<Exit> {
    if args.scenario.as_deref().is_some_and(|s| s != swarm::SWARM) {
        anyhow::bail!("with --url, run takes the plan the seed draws (`swarm`) or --scenario-file");
    }
    let campaign = match LiveCampaign::open(
        url,
        &args.server.socketio_path,
        args.profile,
        DEFAULT_MAX_CONNECTIONS,
        &args.allow_hosts,
    )? {
        Ok(campaign) => campaign,
        Err(exit) => return Ok(exit),
    };
    let (plan, preamble) = match &args.scenario_file {
        Some(path) => (read_scenario(path)?, String::new()),
        None => (campaign.plan(args.seed), campaign.describe(args.seed)),
    };
    let verdict = campaign.check(&plan, args.seed)?;
    print!("{preamble}{verdict}");
    if let Some(file) = &args.json {
        std::fs::write(file, verdict.report.trace.to_json())
            .with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(if verdict.passed() {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

fn read_scenario(path: &std::path::Path) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Scenario::from_json(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `siosim run`: prints the judged run; exits 1 on any violation.
pub fn run(args: RunArgs, given: &clap::ArgMatches) -> anyhow::Result<Exit> {
    FLAGS.refuse_misplaced(given, args.url.is_some())?;
    if let Some(url) = &args.url {
        return run_live(url, &args);
    }
    let seed = args.seed;
    let app = server_app(&args.server_variant, &args.server)?.with_nodes(args.nodes)?;
    let (scenario, preamble, replay) = match (&args.scenario, &args.scenario_file) {
        (_, Some(_)) if args.nodes.is_some() => {
            anyhow::bail!("--nodes sizes a built-in or swarm; a scenario file names its own nodes")
        }
        (_, Some(path)) => {
            let scenario = read_scenario(path)?;
            let replay = format!(
                "siosim run --scenario-file {} --seed {seed}{}",
                path.display(),
                server_flags(&args.server_variant, None)
            );
            (scenario, String::new(), replay)
        }
        (Some(name), None) => (
            app.scenario(name, seed, args.transport)?,
            app.preamble(name, seed),
            replay_line(name, seed, args.transport, &args.server_variant, args.nodes),
        ),
        (None, None) => anyhow::bail!("name a scenario or pass --scenario-file"),
    };
    let verdict = judge(scenario, &app, &args.server.socketio_path, seed);
    print!("{preamble}{verdict}");
    if let Some(file) = &args.json {
        std::fs::write(file, verdict.report.trace.to_json())
            .with_context(|| format!("writing {}", file.display()))?;
    }
    if verdict.passed() {
        Ok(Exit::Passed)
    } else {
        eprintln!("replay: {replay}");
        Ok(Exit::Failed)
    }
}
