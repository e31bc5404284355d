//! onramp: onboard one application at a time into the Prometheus and Grafana a
//! team already runs. Click first, codify later.
//!
//! The modules follow the flow of data: [`cli`] turns the command line into
//! validated settings; [`app`] discovers the workload; [`needs`] holds the
//! catalog of developer needs and resolves their signals against what
//! Prometheus exposes; [`plan`] decides every artifact and calls [`render`]
//! for each one; [`cluster`] reads the monitoring stack a cluster runs and
//! whether it picks up a plan; [`pipeline`] runs these from arguments and
//! onramp.yaml to the plan, the same way for every command; the [`sink`]s
//! consume the plan (files, Grafana, a plain Prometheus' config folder)
//! through the [`client`]s; [`check`] reads the live services back
//! (`verify`, `troubleshoot`); [`commands`] holds one thin entry point per
//! subcommand; [`util`] is the leaf of small helpers (shell words, `PATH`,
//! YAML messages) any of them uses.

pub mod app;
pub mod check;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod commands;
pub mod demo;
pub mod error;
pub mod needs;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod sink;
pub mod util;

pub use commands::Outcome;

/// Runs one command line.
pub fn run(cli: cli::Cli) -> error::Result<Outcome> {
    // Completions describe the command line only: no config file is read,
    // so a broken onramp.yaml cannot keep a shell from completing.
    if let cli::Command::Completions(args) = &cli.command {
        return commands::completions::run(args);
    }
    let mut config = cli::config::Config::load(cli.config.as_deref())?;
    config.tls = client::http::Tls {
        ca_cert: cli.ca_cert.clone(),
        insecure_skip_verify: cli.insecure_skip_tls_verify,
    };
    match &cli.command {
        cli::Command::Needs(args) => commands::needs::run(args, &config),
        cli::Command::Plan(args) => runtime()?.block_on(commands::plan::run(args, &config)),
        // One app's files: start-up dominates, so no worker threads to spawn.
        cli::Command::Codify(args) => {
            current_thread_runtime()?.block_on(commands::codify::run(args, &config))
        }
        cli::Command::Apply(args) => runtime()?.block_on(commands::apply::run(args, &config)),
        cli::Command::Onboard(args) => runtime()?.block_on(commands::onboard::run(args, &config)),
        cli::Command::Verify(args) => runtime()?.block_on(commands::verify::run(args, &config)),
        cli::Command::Detect(args) => runtime()?.block_on(commands::detect::run(args, &config)),
        cli::Command::Troubleshoot(args) => {
            runtime()?.block_on(commands::troubleshoot::run(args, &config))
        }
        cli::Command::Adoption(args) => runtime()?.block_on(commands::adoption::run(args, &config)),
        cli::Command::Rbac(args) => commands::rbac::run(args),
        cli::Command::Demo(args) => commands::demo::run(args),
        cli::Command::Completions(args) => commands::completions::run(args),
    }
}

/// The async runtime for the commands that talk to services: multi-threaded,
/// so that decoding the answers of concurrent queries uses every core.
fn runtime() -> error::Result<tokio::runtime::Runtime> {
    started(tokio::runtime::Builder::new_multi_thread())
}

/// A runtime on the calling thread, for commands whose network work is a few
/// requests at most (`codify --from-live`, `--prometheus-url`).
fn current_thread_runtime() -> error::Result<tokio::runtime::Runtime> {
    started(tokio::runtime::Builder::new_current_thread())
}

fn started(mut builder: tokio::runtime::Builder) -> error::Result<tokio::runtime::Runtime> {
    builder
        .enable_all()
        .build()
        .map_err(|e| error::Error::Usage(format!("cannot start the async runtime: {e}")))
}
