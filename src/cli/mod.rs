//! The command line, in two stages: clap structs (`*Args`) describe what can
//! be typed; [`AppSettings`] is the validated result, merged with onramp.yaml
//! ([`config`]), built before any work starts. The clients' own
//! configurations (`client::grafana::GrafanaConfig`, …) are built from both.

pub mod config;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::app::source::Source;
use crate::app::{AppRef, MetricsOverride};
use crate::cli::config::Config;
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

    /// Log every HTTP request to stderr: method, URL (without credentials), status, time.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// A PEM file of CA certificates to trust for Grafana and Prometheus, besides the system's.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Do not verify the TLS certificates of Grafana and Prometheus.
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,

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
    /// Click first: server-side apply APP's monitors and rules to the cluster
    /// (without -f, or with --cluster), push its dashboards to Grafana (never
    /// over a person's edit) and/or its target and rules to a plain
    /// Prometheus (with a confirmed reload). Idempotent.
    Apply(ApplyArgs),
    /// The one command: apply APP to the cluster (and Grafana), codify it into
    /// a folder, verify it against Prometheus, then print the dashboards, the
    /// runbook and the instrumentation still missing. Safe to run again.
    Onboard(OnboardArgs),
    /// CI smoke test against a live Prometheus: the target is up, every signal
    /// has series, every dashboard query returns data, rules are loaded and
    /// healthy, no alert of the app is pending or firing.
    Verify(VerifyArgs),
    /// Read the cluster's monitoring stack: the Prometheus Operator, the
    /// labels each Prometheus selects monitors and rules on, Grafana's
    /// dashboard sidecar, where both are reached. `--write` saves it to onramp.yaml.
    Detect(DetectArgs),
    /// Run APP's runbook live: rollout, pods, crashes, OOM kills, image pulls,
    /// scheduling, probes, events, the last crash's log — ranked findings, the
    /// real cause first, each with its evidence and the next step.
    Troubleshoot(TroubleshootArgs),
    /// Where every app of the cluster stands, from live evidence, per team:
    /// 0 not onboarded, 1 scraped, 2 alerted, 3 needs answered, 4 verified —
    /// with what stops each app and the one command that moves it up; the
    /// team to take next (--next), the needs backlog (--needs).
    Adoption(AdoptionArgs),
    /// Print the least-privilege RBAC rules (a ClusterRole) a command needs.
    Rbac(RbacArgs),
    /// A local kind cluster with kube-prometheus-stack and the demo shop,
    /// onboarded, ready to break and troubleshoot (needs Docker, kind,
    /// kubectl and helm).
    Demo(DemoArgs),
    /// Print shell completions for onramp, e.g. `onramp completions bash >
    /// ~/.local/share/bash-completion/completions/onramp`.
    Completions(CompletionsArgs),
}

/// How to reach the Kubernetes cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the pod's service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    /// The client settings; `command` is the subcommand whose RBAC rules a
    /// refused request points at (`onramp rbac COMMAND`).
    pub fn settings(&self, command: RbacCommand) -> crate::client::kube::ClusterRef {
        crate::client::kube::ClusterRef {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            grant: format!(
                "the ClusterRole printed by `onramp rbac {}`",
                command.name()
            ),
        }
    }
}

/// `onramp detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Save what was found into onramp.yaml (or --config FILE): labels, the sidecar label, the services.
    #[arg(long)]
    pub write: bool,
    /// With --write: change settings a person wrote in onramp.yaml (the refusal shows which).
    #[arg(long, requires = "write")]
    pub force: bool,
}

/// `onramp troubleshoot`.
#[derive(Debug, Args)]
pub struct TroubleshootArgs {
    /// The workload: NAME (a Deployment) or KIND/NAME (statefulset/NAME, daemonset/NAME).
    pub app: String,
    /// The namespace (default: the kubeconfig context's, else default).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    /// How far back restarts and events count (e.g. 30m, 2h).
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = parse_since)]
    pub since: std::time::Duration,
    /// Output format: text, markdown (for an incident channel) or json.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

/// `onramp adoption`.
#[derive(Debug, Args)]
pub struct AdoptionArgs {
    /// Every namespace (the default when no -n is given).
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Only this namespace (repeat for several).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Vec<String>,
    /// Only this team's apps and line (a team is the workload's
    /// app.kubernetes.io/part-of label, or adoption.team_label of
    /// onramp.yaml, else its namespace).
    #[arg(long, value_name = "TEAM")]
    pub team: Option<String>,
    /// Only the team to take next and why (the most apps at level 0–1, ties
    /// by traffic), with the first three commands to run.
    #[arg(long, conflicts_with = "needs")]
    pub next: bool,
    /// The needs backlog instead: for each need (its story), the apps that
    /// answer it, the apps missing which signal, the instrumentation to add.
    #[arg(long)]
    pub needs: bool,
    /// Instead of a report, the platform-adoption dashboard (adoption over
    /// time, from the series -o openmetrics writes): --out DIR writes it with
    /// its sidecar ConfigMap, --grafana-url pushes it; reads no cluster and
    /// no Prometheus.
    #[arg(long, conflicts_with_all = ["next", "needs", "team", "namespace", "all_namespaces", "output"])]
    pub dashboard: bool,
    /// With --dashboard: the folder to write into (created when missing).
    #[arg(long, value_name = "DIR", requires = "dashboard")]
    pub out: Option<PathBuf>,
    /// With --dashboard: the namespace of the sidecar ConfigMap (one
    /// Grafana's dashboard sidecar watches).
    #[arg(long, value_name = "NAMESPACE", requires = "dashboard", default_value = crate::plan::platform::DEFAULT_NAMESPACE)]
    pub dashboard_namespace: String,
    /// With --dashboard --out: take the dashboard as it is in Grafana now
    /// (a person's edit brought into code), not as the need renders it.
    #[arg(long, requires_all = ["dashboard", "out"])]
    pub from_live: bool,
    /// With --dashboard: overwrite files of onramp's edited by hand, and the
    /// dashboard a person edited in Grafana (saved to --backup-dir first).
    #[arg(long, requires = "dashboard")]
    pub force: bool,
    /// With --dashboard --force: where the overwritten live copy is saved.
    #[arg(long, value_name = "DIR", default_value = "onramp-backups")]
    pub backup_dir: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub prometheus: PrometheusArgs,
    /// Output format: text, json (the schema README documents), markdown
    /// (a wiki page or an issue), or openmetrics (gauges for a textfile
    /// collector or a Pushgateway).
    #[arg(long, short = 'o', value_enum, default_value_t = AdoptionFormat::Text)]
    pub output: AdoptionFormat,
}

/// How adoption writes its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdoptionFormat {
    /// For people at a terminal.
    Text,
    /// For machines: the report README documents.
    Json,
    /// For a wiki page or an issue.
    Markdown,
    /// `onramp_adoption_level` and `onramp_need_answered` gauges.
    Openmetrics,
}

/// How troubleshoot writes its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people at a terminal.
    Text,
    /// To paste into an incident channel.
    Markdown,
    /// For machines: {"app", "findings", "checked", "not_checked"}.
    Json,
}

/// Parses `--since` like `--wait`, naming the right flag.
fn parse_since(text: &str) -> std::result::Result<std::time::Duration, String> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err(format!("--since {text:?} is empty: write e.g. 30m or 2h")),
        Ok(d) => Ok(d),
        Err(e) => Err(e.replace("--wait", "--since")),
    }
}

/// The commands `onramp rbac` knows the rules of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RbacCommand {
    /// `onramp detect`.
    Detect,
    /// `onramp troubleshoot` (in the app's namespace).
    Troubleshoot,
    /// `onramp plan`, `codify` and `verify` of an app read from the cluster
    /// (no `-f`): the app's workload and Services, what `detect` reads, and
    /// Prometheus through the API server's service proxy.
    Plan,
    /// `onramp apply` to the cluster.
    Apply,
    /// `onramp onboard`: apply's reads and writes, and verify's queries
    /// through the service proxy.
    Onboard,
    /// `onramp adoption`: every workload and onramp's monitors, rules and
    /// dashboard ConfigMaps (across namespaces; with -n, in that namespace
    /// only), what `detect` reads, and Prometheus through the service proxy.
    Adoption,
}

impl RbacCommand {
    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            RbacCommand::Detect => "detect",
            RbacCommand::Troubleshoot => "troubleshoot",
            RbacCommand::Plan => "plan",
            RbacCommand::Apply => "apply",
            RbacCommand::Onboard => "onboard",
            RbacCommand::Adoption => "adoption",
        }
    }
}

/// `onramp demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// What to do with the demo.
    #[command(subcommand)]
    pub command: DemoCommand,
    /// The checkout of onramp's repository: kind-config.yaml, charts/shop, deploy/demo, examples/shop.
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub source: PathBuf,
    /// Print every step's commands and run nothing (no preflight either).
    #[arg(long, global = true)]
    pub dry_run: bool,
}

/// The demo's subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum DemoCommand {
    /// Check the tools, then create (or reuse) the kind cluster, install
    /// kube-prometheus-stack, build and load the shop's image, install the
    /// shop, wait until ready and onboard it. Run it again after a failure:
    /// it continues where it stopped.
    Up,
    /// Break the shop in one way, for `onramp troubleshoot` to find.
    Break {
        /// How to break it.
        #[arg(value_enum)]
        scenario: crate::demo::Scenario,
    },
    /// Undo every break: flags off, the chart's values back, fresh pods.
    Fix,
    /// Show the demo cluster, the shop's pods and the monitoring stack.
    Status,
    /// Delete the demo's kind cluster (and nothing else).
    Down,
}

/// `onramp rbac`.
#[derive(Debug, Args)]
pub struct RbacArgs {
    /// The command (default: every command that talks to the cluster).
    #[arg(value_enum)]
    pub command: Option<RbacCommand>,
    /// For `apply` and `onboard`: grant their writes in this namespace only (a Role), and their reads cluster-wide; for `adoption -n NAMESPACE`: its reads of that namespace's apps (a Role), and what it reads cluster-wide.
    #[arg(short = 'n', long, value_name = "NAMESPACE", requires = "command")]
    pub namespace: Option<String>,
}

/// Arguments of `onramp completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How to reach Prometheus. When given, the signals resolve to the metric
/// names the app really exposes (the need's default or an accepted alternative).
#[derive(Debug, Clone, Args)]
pub struct PrometheusArgs {
    /// Prometheus' base URL (credentials: PROMETHEUS_TOKEN, or PROMETHEUS_USER and PROMETHEUS_PASSWORD); signals then map to the names the app exposes.
    // The URL may carry a password: never print its value in --help.
    #[arg(
        long,
        env = "PROMETHEUS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub prometheus_url: Option<String>,
}

/// How to reach Grafana.
#[derive(Debug, Args)]
pub struct GrafanaArgs {
    /// Grafana's base URL (credentials: GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD; org: GRAFANA_ORG_ID).
    // The URL may carry a password: never print its value in --help.
    #[arg(long, env = "GRAFANA_URL", hide_env_values = true, value_name = "URL")]
    pub grafana_url: Option<String>,
}

/// Grafana's base URL as it may be printed into files: without user info
/// (`http://admin:pw@host` would put a password into the runbook).
fn printable_grafana_url(raw: &str) -> Result<String> {
    Ok(crate::client::grafana::GrafanaConfig::new(raw)?
        .url()
        .to_string())
}

impl GrafanaArgs {
    /// Grafana's base URL from the flag or the environment, without user
    /// info, for links people open (the runbook's `GRAFANA/d/UID`).
    pub fn link_base(&self) -> Result<Option<String>> {
        self.grafana_url
            .as_deref()
            .map(printable_grafana_url)
            .transpose()
    }

    /// As [`GrafanaArgs::link_base`], else `grafana.url` of onramp.yaml.
    pub fn link_base_or_file(&self, config: &Config) -> Result<Option<String>> {
        match self.link_base()? {
            Some(url) => Ok(Some(url)),
            None => config
                .file
                .grafana
                .url
                .as_deref()
                .map(printable_grafana_url)
                .transpose(),
        }
    }

    /// The Grafana client, from the flag, the environment or onramp.yaml.
    pub fn client(&self, config: &Config) -> Result<Option<crate::client::grafana::Client>> {
        let Some(url) = self
            .grafana_url
            .clone()
            .or_else(|| config.file.grafana.url.clone())
        else {
            return Ok(None);
        };
        let settings = crate::client::grafana::GrafanaConfig::from_env(Some(&url))?
            .with_tls(config.tls.clone());
        Ok(Some(crate::client::grafana::Client::new(settings)?))
    }
}

/// `onramp apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub selection: AppSelection,
    /// A plain Prometheus's folder for onramp's files: DIR/targets/*.yaml (file_sd) and DIR/rules/*.yaml.
    #[arg(long, value_name = "DIR")]
    pub prometheus_config_dir: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    /// Push the dashboards as codified in DIR (dashboards/NEED.json, e.g. after `codify --from-live`) instead of rendering them.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Overwrite dashboards people edited in Grafana (the live copy is saved to --backup-dir first),
    /// and target or rules files edited by hand in --prometheus-config-dir.
    #[arg(long)]
    pub force: bool,
    /// Where --force saves the live copies it overwrites.
    #[arg(long, value_name = "DIR", default_value = "onramp-backups")]
    pub backup_dir: PathBuf,
    /// With -f: also server-side apply the monitors, rules and dashboard ConfigMaps to the cluster
    /// (without -f, apply always does).
    #[arg(long = "cluster")]
    pub to_cluster: bool,
    /// The cluster's server-side dry run: every object is validated and compared, nothing is stored;
    /// Grafana and a plain Prometheus are left alone.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields another field manager (e.g. `kubectl apply`) owns in onramp's objects,
    /// replacing their values with onramp's.
    #[arg(long)]
    pub force_conflicts: bool,
}

impl ApplyArgs {
    /// Whether the plan goes to the cluster: always when the app is read
    /// from it, with `-f` only when asked.
    pub fn to_cluster(&self) -> bool {
        self.to_cluster || self.selection.app.filenames.is_empty()
    }
}

/// `onramp onboard`.
#[derive(Debug, Args)]
pub struct OnboardArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub selection: AppSelection,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    /// The folder to codify into (default: observability/APP).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// How long verify waits for every check to pass (e.g. 2m, 90s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2m")]
    pub wait: std::time::Duration,
    /// Take over fields another field manager (e.g. `kubectl apply`) owns in onramp's objects.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Overwrite dashboards people edited in Grafana (saved to --backup-dir first) and codified
    /// files edited by hand.
    #[arg(long)]
    pub force: bool,
    /// Where --force saves the live dashboards it overwrites.
    #[arg(long, value_name = "DIR", default_value = "onramp-backups")]
    pub backup_dir: PathBuf,
    /// Plan, then only the cluster's server-side dry run: nothing is stored in the cluster,
    /// nothing pushed to Grafana, codified or verified.
    #[arg(long)]
    pub dry_run: bool,
}

/// `onramp verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub selection: AppSelection,
    /// Retry until every check passes or this much time has passed (e.g. 2m, 90s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as JUnit XML (one test case per check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
}

/// The longest `--wait` onramp accepts: a CI job that waits longer is stuck,
/// and a bound keeps `Instant + wait` from overflowing.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Parses `--wait`: `90s`, `2m`, `1m30s`, `1h 30m` (humantime's grammar) or a
/// number of seconds, at most [`MAX_WAIT`].
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let bound = "at most 24h";
    let parsed = match text.trim().parse::<u64>() {
        Ok(secs) => Ok(std::time::Duration::from_secs(secs)),
        Err(_) => humantime::parse_duration(text.trim()),
    };
    match parsed {
        Ok(wait) if wait <= MAX_WAIT => Ok(wait),
        Ok(_) => Err(format!("--wait {text:?} is too long: {bound}")),
        Err(humantime::DurationError::NumberOverflow) => {
            Err(format!("--wait {text:?} is too long: {bound}"))
        }
        Err(e) => Err(format!(
            "--wait {text:?} is not a duration ({e}); write e.g. 90s, 2m or 1m30s, {bound}"
        )),
    }
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

/// `onramp needs show`, `onramp needs check`.
#[derive(Debug, Subcommand)]
pub enum NeedsAction {
    /// Show one need.
    Show {
        /// The need id.
        id: String,
    },
    /// Check need files, for a needs repository's CI: the schema, every
    /// placeholder, every expression with each signal's alternatives, the
    /// walkthrough, ids unique and not a built-in's. Each problem with its
    /// file, line and column; exit 0 when there is none, 2 otherwise.
    Check(NeedsCheckArgs),
    /// From a developer's story to a need for APP: reads what the app
    /// exposes from Prometheus, proposes the metrics that fit the story
    /// (ranked, with why), drafts the panels, an alert and the walkthrough,
    /// writes ID.yaml into the first needs_dirs folder of onramp.yaml, checks
    /// it and shows what `onramp plan APP --need ID` makes of it.
    New(Box<NeedsNewArgs>),
}

/// `onramp needs new`.
#[derive(Debug, Args)]
pub struct NeedsNewArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub app: AppArgs,
    /// The story: "As a ROLE, I want WANT, so that REASON". Asked for when
    /// not given on a terminal; required elsewhere.
    #[arg(long, value_name = "STORY")]
    pub story: Option<String>,
    /// A signal of the need: NAME=METRIC, or NAME=METRIC.LABEL to split it by
    /// LABEL; repeatable. Without it, on a terminal, the person picks from
    /// the metrics that fit the story (arrow keys, type to filter; Esc exits
    /// 2, Ctrl-C 130, nothing written); elsewhere they are listed and
    /// nothing is written (exit 2).
    #[arg(long = "signal", value_name = "NAME=METRIC[.LABEL]")]
    pub signals: Vec<String>,
    /// The need id (default: from the story's want).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Overwrite the need file when it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cluster: ClusterArgs,
}

/// `onramp needs check`.
#[derive(Debug, Args)]
pub struct NeedsCheckArgs {
    /// The need files (YAML).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Allow a need with a built-in's id: it replaces the built-in wherever
    /// it is loaded (without this, only the built-in's own file may have it).
    #[arg(long)]
    pub replace_built_in: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Which app, and where to read it from.
#[derive(Debug, Clone, Args)]
pub struct AppArgs {
    /// The workload: NAME (a Deployment, StatefulSet or DaemonSet) or KIND/NAME.
    pub app: String,
    /// The namespace (also the default for manifests without one).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Manifests: a file, a folder, or - for stdin (kustomize build / helm template output works); repeatable. Without -f the app is read from the cluster (--kubeconfig, --context).
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
    /// Where a plain Prometheus reaches the app's metrics (HOST:PORT), for an app
    /// running outside Kubernetes: adds a file_sd target file.
    #[arg(long, value_name = "HOST:PORT")]
    pub target: Option<String>,
}

/// Everything that decides the plan for one app: which app, which needs, how rendered.
#[derive(Debug, Args)]
pub struct AppSelection {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub app: AppArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub needs: NeedSelection,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub render: RenderArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub prometheus: PrometheusArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub cluster: ClusterArgs,
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
    pub selection: AppSelection,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `onramp codify`.
#[derive(Debug, Args)]
pub struct CodifyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub selection: AppSelection,
    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write the dashboards as they are in Grafana now (normalised), bringing edits made there into code.
    #[arg(long)]
    pub from_live: bool,
    /// Overwrite generated files that were edited by hand since onramp wrote them (their content no
    /// longer matches the hash in their stamp) or that hold an edit pulled from Grafana. Files onramp
    /// did not write for this app are never overwritten.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub grafana: GrafanaArgs,
    /// Output format of the summary.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Validated settings for commands that work on one app.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The app.
    pub app: AppRef,
    /// The manifest sources (empty: the app is read from the cluster).
    pub sources: Vec<Source>,
    /// How to reach the cluster, when the app is read from it (no `-f`).
    pub cluster: Option<crate::client::kube::ClusterRef>,
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
    pub fn new(selection: &AppSelection, config: &Config) -> Result<AppSettings> {
        let (app, needs, render) = (&selection.app, &selection.needs, &selection.render);
        if let Some(ns) = &app.namespace {
            crate::app::validate::namespace(ns)
                .map_err(|m| Error::Usage(format!("-n {ns:?}: {m}")))?;
        }
        let app_ref = AppRef::parse(&app.app, app.namespace.clone())?;
        let file = &config.file;
        let metrics = metrics_override(app)?;
        if let Some(target) = &render.target {
            check_target(target)?;
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
            cluster: app
                .filenames
                .is_empty()
                .then(|| selection.cluster.settings(RbacCommand::Plan)),
            metrics,
            plan: PlanOptions {
                overrides: signal_overrides(needs, config)?,
                runbook_base_url: runbook_base_url(render, config)?,
                selector_labels: selector_labels(render, config)?,
                grafana_url: file
                    .grafana
                    .url
                    .as_deref()
                    .map(printable_grafana_url)
                    .transpose()?,
                grafana_folder: file.grafana.folder.clone(),
                grafana_datasource: file.grafana.datasource.clone(),
                sidecar_label: sidecar_label(config)?,
                sidecar_folder_annotation: None,
                needs_explicit: !need_ids.is_empty(),
                static_target: render.target.clone(),
                dashboard_overrides: BTreeMap::new(),
                available_metrics: None,
                subcommand: None,
                manifests: app.filenames.clone(),
                without_operator: false,
                objectives: file.objectives.clone(),
            },
            need_ids,
            needs_dirs,
        })
    }
}

/// The signal mappings: onramp.yaml's first, then `--signal` (which wins),
/// each remembering where it came from.
fn signal_overrides(needs: &NeedSelection, config: &Config) -> Result<SignalOverrides> {
    let mut overrides = SignalOverrides::default();
    for (k, v) in &config.file.signals {
        overrides.add(&format!("{k}={v}"), &config.origin())?;
    }
    for spec in &needs.signals {
        overrides.add(spec, "--signal")?;
    }
    Ok(overrides)
}

/// The labels the Prometheus resource selects on: onramp.yaml's, then `--label`.
fn selector_labels(render: &RenderArgs, config: &Config) -> Result<BTreeMap<String, String>> {
    let mut labels: BTreeMap<String, String> = config.file.labels.clone();
    for (k, v) in &labels {
        crate::app::validate::label(k, v).map_err(|m| Error::Config {
            location: crate::error::Location::file(config.origin()),
            message: format!("labels.{k}: {m}"),
        })?;
    }
    for spec in &render.labels {
        let (k, v) = parse_label(spec)?;
        labels.insert(k, v);
    }
    Ok(labels)
}

/// The plan options of the platform's dashboard (`adoption --dashboard`):
/// onramp.yaml's Grafana folder, datasource and sidecar label.
pub fn platform_plan_options(config: &Config) -> Result<PlanOptions> {
    Ok(PlanOptions {
        grafana_folder: config.file.grafana.folder.clone(),
        grafana_datasource: config.file.grafana.datasource.clone(),
        sidecar_label: sidecar_label(config)?,
        subcommand: Some("adoption"),
        ..PlanOptions::default()
    })
}

/// onramp.yaml's `grafana.sidecar_label` (`KEY=VALUE`, or `KEY` for a
/// sidecar that watches any value, which then gets `1`), checked.
fn sidecar_label(config: &Config) -> Result<Option<(String, String)>> {
    let Some(spec) = &config.file.grafana.sidecar_label else {
        return Ok(None);
    };
    let (k, v) = spec.split_once('=').unwrap_or((spec.as_str(), "1"));
    crate::app::validate::label(k, v).map_err(|m| Error::Config {
        location: crate::error::Location::file(config.origin()),
        message: format!(
            "grafana.sidecar_label {spec:?}: {m} (write KEY=VALUE, e.g. grafana_dashboard=1)"
        ),
    })?;
    Ok(Some((k.to_string(), v.to_string())))
}

/// `--runbook-url`, else onramp.yaml's `runbook_base_url`.
fn runbook_base_url(render: &RenderArgs, config: &Config) -> Result<Option<String>> {
    let url = render
        .runbook_url
        .clone()
        .or_else(|| config.file.runbook_base_url.clone());
    if let Some(url) = &url
        && url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::Usage(format!(
            "runbook URL {url:?} must not contain spaces"
        )));
    }
    Ok(url)
}

/// `--metrics-port` and `--metrics-path`, checked.
fn metrics_override(app: &AppArgs) -> Result<Option<MetricsOverride>> {
    let metrics = app.metrics_port.as_ref().map(|port| MetricsOverride {
        port: port.clone(),
        path: app.metrics_path.clone(),
    });
    if let Some(path) = metrics.as_ref().and_then(|m| m.path.as_ref()) {
        crate::app::validate::metrics_path(path)
            .map_err(|m| Error::Usage(format!("--metrics-path {path:?}: {m}")))?;
    }
    Ok(metrics)
}

/// `--target HOST:PORT`: a host of letters, digits, dots, dashes or an IPv6
/// literal, and a port number.
fn check_target(target: &str) -> Result<()> {
    let valid = target.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && port.parse::<u16>().is_ok()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    });
    if valid {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--target {target:?}: write HOST:PORT, e.g. 127.0.0.1:8080"
        )))
    }
}

impl PrometheusArgs {
    /// The Prometheus client, from the flag, the environment or onramp.yaml.
    pub fn client(
        &self,
        config: &Config,
    ) -> Result<Option<crate::client::prometheus::PrometheusClient>> {
        let Some(url) = self
            .prometheus_url
            .clone()
            .or_else(|| config.file.prometheus.url.clone())
        else {
            return Ok(None);
        };
        let settings = crate::client::prometheus::PrometheusConfig::from_env(&url)?
            .with_tls(config.tls.clone());
        Ok(Some(crate::client::prometheus::PrometheusClient::new(
            settings,
        )?))
    }
}
