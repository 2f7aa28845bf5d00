//! `siosim`: check a server's conformance, serve the reference server, run
//! simulated scenarios.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use siosim::scenarios::{self, TransportMix};
use siosim_harness::{Scenario, Simulation};

#[derive(Debug, Parser)]
#[command(
    name = "siosim",
    version,
    about = "Deterministic simulation and conformance testing for Socket.IO servers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite: against the reference server in simulation
    /// (no arguments), or against a live server (`--url`). Exits 0 iff no
    /// MUST case FAILED.
    Check(siosim::check::CheckArgs),
    /// Serve the reference counter + chat + REST server on real TCP.
    Serve {
        #[command(flatten)]
        config: siosim_server::Config,
    },
    /// Run a built-in scenario (or a scenario file) against the reference
    /// server in simulation and print its trace. Exits 1 if an expectation failed.
    Run {
        /// A built-in scenario (see `siosim list`).
        #[arg(required_unless_present = "scenario_file")]
        scenario: Option<String>,
        /// Run this JSON scenario file instead of a built-in.
        #[arg(long, conflicts_with = "scenario")]
        scenario_file: Option<PathBuf>,
        /// The seed: the same seed prints the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Which transports the built-in scenario's clients use.
        #[arg(long, value_enum, default_value_t = TransportMix::Mixed)]
        transport: TransportMix,
        /// Also write the trace as versioned JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        server: siosim_server::Config,
    },
    /// List the built-in scenarios.
    List,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("siosim: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => siosim::check::check(args),
        Command::Serve { config } => serve(config),
        Command::Run {
            scenario,
            scenario_file,
            seed,
            transport,
            json,
            server,
        } => {
            let replay = match (&scenario, &scenario_file) {
                (_, Some(path)) => format!(
                    "siosim run --scenario-file {} --seed {seed}",
                    path.display()
                ),
                (Some(name), None) => format!(
                    "siosim run {name} --seed {seed} --transport {}",
                    transport.name()
                ),
                (None, None) => String::new(),
            };
            let scenario = match (scenario, scenario_file) {
                (_, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Scenario::from_json(&text)
                        .with_context(|| format!("parsing {}", path.display()))?
                }
                (Some(name), None) => {
                    let built_in = scenarios::find(&name).with_context(|| {
                        format!("no built-in scenario {name:?}; try `siosim list`")
                    })?;
                    (built_in.build)(transport)
                }
                (None, None) => unreachable!("clap requires one of them"),
            };
            let path = server.socketio_path.clone();
            let report = Simulation::new(scenario, move || siosim_server::app(&server))
                .socketio_path(path)
                .run(seed);
            print!("{report}");
            if let Some(file) = json {
                std::fs::write(&file, report.trace.to_json())
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            if report.passed() {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("replay: {replay}");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::List => {
            for built_in in scenarios::BUILT_INS {
                println!("{:<12} {}", built_in.name, built_in.about);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(config: siosim_server::Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .init();
        let address = (config.host.as_str(), config.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let local = listener.local_addr()?;
        tracing::info!(%local, path = %config.socketio_path, "siosim reference server listening");
        println!("listening on http://{local}");
        siosim_server::serve(listener, &config, shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
