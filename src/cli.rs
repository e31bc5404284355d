//! The command line, in two stages: clap structs describe what can be typed;
//! [`Settings`] is the validated result, built before any work starts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::manifest::Source;
use crate::app::{AppRef, MetricsOverride};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::needs::resolve::SignalOverrides;
use crate::plan::PlanOptions;

/// onramp onboards one application at a time into the Prometheus and Grafana
/// you already run: click first, codify later.
#[derive(Debug, Parser)]
#[command(name = "onramp", version, propagate_version = true)]
pub struct Cli {
    /// The config file (default: ./onramp.yaml when it exists).
    #[arg(long, global = true, env = "ONRAMP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the catalog of needs (built-in and your own), or show one.
    Needs(NeedsArgs),
    /// Show what onboarding APP produces: the metrics endpoint, the needs and
    /// their signals, every artifact. Changes nothing.
    Plan(PlanArgs),
    /// Write APP's artifacts into a folder: monitors, rules, dashboards, their
    /// ConfigMaps, the runbook, a kustomization and plain-Prometheus files.
    Codify(CodifyArgs),
}

/// `onramp needs`.
#[derive(Debug, Args)]
pub struct NeedsArgs {
    /// `show ID` prints one need with its story, signals, panels and alerts.
    #[command(subcommand)]
    pub action: Option<NeedsAction>,
    /// A folder with your own needs (YAML); repeatable.
    #[arg(long = "needs-dir", value_name = "DIR", global = true)]
    pub needs_dirs: Vec<PathBuf>,
}

/// `onramp needs show`.
#[derive(Debug, Subcommand)]
pub enum NeedsAction {
    /// Show one need.
    Show {
        /// The need id.
        id: String,
    },
}

/// Which app, and where to read it from.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// The workload: NAME (a Deployment, StatefulSet or DaemonSet) or KIND/NAME.
    pub app: String,
    /// The namespace (also the default for manifests without one).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Manifests: a file, a folder, or - for stdin (kustomize build / helm template output works); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    pub filenames: Vec<String>,
    /// The container port serving metrics (name or number), when onramp cannot infer it.
    #[arg(long, value_name = "NAME|NUMBER")]
    pub metrics_port: Option<String>,
    /// The metrics path (default /metrics, or the prometheus.io/path annotation).
    #[arg(long, value_name = "PATH", requires = "metrics_port")]
    pub metrics_path: Option<String>,
}

/// Which needs, and how their signals map.
#[derive(Debug, Args)]
pub struct NeedSelection {
    /// A need to use (default: every need in the catalog); repeatable.
    #[arg(long = "need", value_name = "ID")]
    pub needs: Vec<String>,
    /// A folder with your own needs (YAML); repeatable.
    #[arg(long = "needs-dir", value_name = "DIR")]
    pub needs_dirs: Vec<PathBuf>,
    /// Map a signal: SIGNAL=metric_name or SIGNAL.LABEL=label_name; repeatable.
    #[arg(long = "signal", value_name = "MAPPING")]
    pub signals: Vec<String>,
}

/// How artifacts are rendered.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A label your Prometheus selects monitors and rules on (e.g. release=kube-prometheus-stack); repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Where the runbook is published; alerts link to URL#alertname.
    #[arg(long = "runbook-url", value_name = "URL")]
    pub runbook_url: Option<String>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// For machines.
    Json,
}

/// `onramp plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub app: AppArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub needs: NeedSelection,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub render: RenderArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `onramp codify`.
#[derive(Debug, Args)]
pub struct CodifyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub app: AppArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub needs: NeedSelection,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub render: RenderArgs,
    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Validated settings for commands that work on one app.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The app.
    pub app: AppRef,
    /// The manifest sources.
    pub sources: Vec<Source>,
    /// `--metrics-port`/`--metrics-path`.
    pub metrics: Option<MetricsOverride>,
    /// Need ids to use; empty means all.
    pub need_ids: Vec<String>,
    /// Needs folders (command line, then config file).
    pub needs_dirs: Vec<PathBuf>,
    /// Plan options.
    pub plan: PlanOptions,
}

fn parse_label(spec: &str) -> Result<(String, String)> {
    let (k, v) = spec.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--label {spec:?}: write KEY=VALUE, e.g. release=kube-prometheus-stack"
        ))
    })?;
    crate::app::validate::label(k, v)
        .map_err(|m| Error::Usage(format!("--label {spec:?}: {m}")))?;
    Ok((k.to_string(), v.to_string()))
}

impl AppSettings {
    /// Validates the command line against the config file.
    pub fn new(
        app: &AppArgs,
        needs: &NeedSelection,
        render: &RenderArgs,
        config: &Config,
    ) -> Result<AppSettings> {
        if app.filenames.is_empty() {
            return Err(Error::Usage(
                "no manifests given: pass -f FILE|DIR|- with the app's Kubernetes manifests (reading the app from a live cluster is not available in this build)".to_string(),
            ));
        }
        if let Some(ns) = &app.namespace {
            crate::app::validate::namespace(ns)
                .map_err(|m| Error::Usage(format!("-n {ns:?}: {m}")))?;
        }
        let app_ref = AppRef::parse(&app.app, app.namespace.clone())?;
        let file = &config.file;
        let mut overrides = SignalOverrides::default();
        for (k, v) in &file.signals {
            overrides.add(&format!("{k}={v}"), &config.origin())?;
        }
        for spec in &needs.signals {
            overrides.add(spec, "--signal")?;
        }
        let mut selector_labels: BTreeMap<String, String> = file.labels.clone();
        for (k, v) in &selector_labels {
            crate::app::validate::label(k, v).map_err(|m| Error::Config {
                location: crate::error::Location::file(config.origin()),
                message: format!("labels.{k}: {m}"),
            })?;
        }
        for spec in &render.labels {
            let (k, v) = parse_label(spec)?;
            selector_labels.insert(k, v);
        }
        let runbook_base_url = render
            .runbook_url
            .clone()
            .or_else(|| file.runbook_base_url.clone());
        if let Some(url) = &runbook_base_url
            && url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::Usage(format!(
                "runbook URL {url:?} must not contain spaces"
            )));
        }
        let metrics = app.metrics_port.as_ref().map(|port| MetricsOverride {
            port: port.clone(),
            path: app.metrics_path.clone(),
        });
        if let Some(path) = metrics.as_ref().and_then(|m| m.path.as_ref()) {
            crate::app::validate::metrics_path(path)
                .map_err(|m| Error::Usage(format!("--metrics-path {path:?}: {m}")))?;
        }
        let need_ids = if needs.needs.is_empty() {
            file.needs.clone()
        } else {
            needs.needs.clone()
        };
        let mut needs_dirs = needs.needs_dirs.clone();
        needs_dirs.extend(file.needs_dirs.iter().cloned());
        Ok(AppSettings {
            app: app_ref,
            sources: app.filenames.iter().map(|f| Source::parse(f)).collect(),
            metrics,
            plan: PlanOptions {
                overrides,
                runbook_base_url,
                selector_labels,
                grafana_url: file.grafana.url.clone(),
                grafana_folder: file.grafana.folder.clone(),
                needs_explicit: !need_ids.is_empty(),
            },
            need_ids,
            needs_dirs,
        })
    }
}
