//! onramp: onboard one application at a time into the Prometheus and Grafana a
//! team already runs. Click first, codify later.
//!
//! The flow, module by module: [`app`] discovers the workload from manifests,
//! [`needs`] holds the catalog of developer needs and resolves their signals,
//! [`plan`] decides every artifact and [`render`] renders each one; the sinks
//! consume the plan: [`codify`] (files), [`grafana`] (HTTP API), [`prometheus`]
//! (plain Prometheus, and the queries of verify). [`cli`] and [`commands`] are
//! the thin layer on top.

pub mod app;
pub mod cli;
pub mod codify;
pub mod commands;
pub mod config;
pub mod error;
pub mod grafana;
pub mod grafana_sync;
pub mod needs;
pub mod plain_prometheus;
pub mod plan;
pub mod prometheus;
pub mod promql;
pub mod render;
pub mod secret;
pub mod verify;

pub use commands::Outcome;

/// Runs one command line.
pub fn run(cli: cli::Cli) -> error::Result<Outcome> {
    let config = config::Config::load(cli.config.as_deref())?;
    match &cli.command {
        cli::Command::Needs(args) => commands::needs::run(args, &config),
        cli::Command::Plan(args) => runtime()?.block_on(commands::plan::run(args, &config)),
        cli::Command::Codify(args) => runtime()?.block_on(commands::codify::run(args, &config)),
        cli::Command::Apply(args) => runtime()?.block_on(commands::apply::run(args, &config)),
        cli::Command::Verify(args) => runtime()?.block_on(commands::verify::run(args, &config)),
    }
}

/// The async runtime for the commands that talk to services: multi-threaded,
/// so that decoding the answers of concurrent queries uses every core.
fn runtime() -> error::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::Usage(format!("cannot start the async runtime: {e}")))
}
