//! `siosim`: check a server's conformance, serve the reference server, run
//! simulated scenarios.

use std::process::ExitCode;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use siosim::exit_code::Exit;
use siosim::scenarios;

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
    /// (no arguments), or against a live server (`--url`). Exits 0 if
    /// conformant, 1 if a MUST case FAILED, 2 on a usage error or when no
    /// case ran, 3 if the server could not be checked.
    Check(siosim::check::CheckArgs),
    /// Serve the reference counter + chat + REST server, or one of its racy
    /// variants, on real TCP.
    Serve {
        /// The server to serve: `reference`, or a racy variant.
        #[arg(long = "server", default_value = siosim::run::REFERENCE)]
        server_variant: String,
        /// Serve the reference app as one node of a cluster joined through
        /// the Redis at this URL (`redis://HOST:PORT`): socketioxide-redis's
        /// adapter, the count in Redis (`INCR siosim-count`).
        #[arg(long, value_name = "URL")]
        redis: Option<String>,
        #[command(flatten)]
        config: siosim_server::Config,
    },
    /// Run a built-in scenario, `swarm` (drawn from the seed) or a scenario
    /// file in simulation, print its trace and check every invariant. Exits
    /// 1 if an expectation or an invariant failed.
    Run(siosim::run::RunArgs),
    /// Run many seeds of a scenario in parallel and stop at the first that
    /// breaks an invariant, printing how to replay it. Exits 1 if one did.
    Explore(siosim::explore::ExploreArgs),
    /// Shrink a failing seed to a smaller scenario file that still breaks
    /// the same invariant.
    Shrink(siosim::shrink::ShrinkArgs),
    /// List the built-in scenarios.
    List,
}

/// Counts each thread's heap, so the conformance suite can see what a
/// simulated server holds (`robustness::fan_out::*`).
#[global_allocator]
static HEAP: siosim_harness::heap::CountingAllocator = siosim_harness::heap::CountingAllocator;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match run(cli, &matches) {
        Ok(exit) => exit.into(),
        Err(error) => {
            eprintln!("siosim: {error:#}");
            Exit::Usage.into()
        }
    }
}

fn run(cli: Cli, matches: &ArgMatches) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Check(args) => {
            let given = matches
                .subcommand_matches("check")
                .context("the check subcommand's arguments")?;
            siosim::check::check(args, given)
        }
        Command::Serve {
            server_variant,
            redis,
            config,
        } => serve(&server_variant, redis.as_deref(), config),
        Command::Run(args) => {
            let given = matches
                .subcommand_matches("run")
                .context("the run subcommand's arguments")?;
            siosim::run::run(args, given)
        }
        Command::Explore(args) => {
            let given = matches
                .subcommand_matches("explore")
                .context("the explore subcommand's arguments")?;
            siosim::explore::explore(args, given)
        }
        Command::Shrink(args) => {
            let given = matches
                .subcommand_matches("shrink")
                .context("the shrink subcommand's arguments")?;
            siosim::shrink::shrink(args, given)
        }
        Command::List => {
            for built_in in scenarios::BUILT_INS {
                println!("{:<12} {}", built_in.name, built_in.about);
            }
            Ok(Exit::Passed)
        }
    }
}

fn serve(
    server_variant: &str,
    redis: Option<&str>,
    config: siosim_server::Config,
) -> anyhow::Result<Exit> {
    if redis.is_some() && server_variant != siosim::run::REFERENCE {
        anyhow::bail!(
            "--redis serves the reference app as a cluster node; --server {server_variant} has no cluster mode"
        );
    }
    let server = siosim::run::served(server_variant, &config)?;
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
        tracing::info!(%local, path = %config.socketio_path, server = server_variant, "siosim server listening");
        println!("listening on http://{local}");
        match redis {
            None => server.serve_tcp(listener, shutdown_signal()).await?,
            Some(url) => {
                tracing::info!(redis = url, "a cluster node");
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                siosim_server::cluster::serve_on_redis(&config, url, listener, shutdown_signal())
                    .await?;
            }
        }
        Ok(Exit::Passed)
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
