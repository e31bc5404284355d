//! `onramp troubleshoot APP`: runs the app's runbook against the cluster and
//! prints the ranked findings (text, Markdown or JSON). Exit 0 when nothing
//! is at warning or worse, 1 when something is.

use crate::app::AppRef;
use crate::check::result::{NotChecked, TroubleshootReport, output};
use crate::check::troubleshoot::{self, prometheus, workload_state};
use crate::cli::config::Config;
use crate::cli::{RbacCommand, ReportFormat, TroubleshootArgs};
use crate::client::kube::KubeClient;
use crate::client::prometheus::PrometheusClient;
use crate::commands::{Outcome, print, print_json};
use crate::error::Result;

/// Runs `troubleshoot`.
pub async fn run(args: &TroubleshootArgs, config: &Config) -> Result<Outcome> {
    let mut app = AppRef::parse(&args.app, args.namespace.clone())?;
    // Panels link to Grafana when it is configured: flag, environment or onramp.yaml.
    let grafana = args.grafana.link_base_or_file(config)?;
    let client = KubeClient::connect(&args.cluster.settings(RbacCommand::Troubleshoot)).await?;
    if app.namespace.is_none() {
        app.namespace = Some(client.default_namespace().to_string());
    }
    let options = workload_state::LookBack {
        since: args.since,
        now: k8s_openapi::jiff::Timestamp::now(),
        grafana,
    };
    let gathered = workload_state::gather_app(&client, &app).await?;
    let mut report = troubleshoot::diagnose::report(&gathered, &options);
    report.merge(prometheus_checks(args, config, &client, &app, options.grafana).await?);
    report.rank();
    publish(args, &report)?;
    Ok(if report.alarming() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

/// The Prometheus checks, on the plan of the app as the cluster runs it
/// (the pipeline's [`crate::pipeline::plan_from_cluster`]);
/// without a Prometheus URL, the cluster's Prometheus through the API
/// server's service proxy (as `plan` and `verify` reach it). Without either,
/// or when it cannot be reached, a gap in the report: the cluster checks
/// still stand.
async fn prometheus_checks(
    args: &TroubleshootArgs,
    config: &Config,
    cluster: &KubeClient,
    app: &AppRef,
    grafana: Option<String>,
) -> Result<TroubleshootReport> {
    let client = match args.prometheus.client(config)? {
        Some(client) => client,
        None => match in_cluster(cluster, config).await? {
            Ok(client) => client,
            Err(gap) => return Ok(TroubleshootReport::gap(gap)),
        },
    };
    let plan =
        match crate::pipeline::plan_from_cluster(cluster, app, &client, grafana.clone()).await {
            Ok(plan) => plan,
            Err(err) => {
                return Ok(TroubleshootReport::gap(NotChecked::new(
                    prometheus::CHECKS,
                    err.to_string(),
                )));
            }
        };
    let mut report = prometheus::check(&client, &plan, args.since, grafana.as_deref()).await;
    // Which Prometheus answered: a URL, or a Service through the API server.
    let via = client.reached_via();
    report
        .checked
        .insert(0, format!("Prometheus reached at {via}"));
    report.prometheus = Some(via);
    Ok(report)
}

/// The Prometheus `detect` finds in the cluster (or onramp.yaml's
/// `prometheus.service`), through the service proxy; when there is none, or
/// detect may not read the cluster, the gap saying so. Only a bad
/// onramp.yaml is an error.
async fn in_cluster(
    cluster: &KubeClient,
    config: &Config,
) -> Result<std::result::Result<PrometheusClient, NotChecked>> {
    let gap = |why: String| NotChecked::new(prometheus::CHECKS, why);
    let stack = match crate::cluster::stack::detect(cluster).await {
        Ok(stack) => stack,
        Err(err) => {
            return Ok(Err(gap(format!(
                "no Prometheus configured, and the cluster's could not be looked for: {}",
                crate::error::report(&err)
            ))
            .allowed_by(PROMETHEUS_SETTING)));
        }
    };
    Ok(crate::pipeline::prometheus::in_cluster(cluster, &stack, config)?.ok_or_else(|| {
        gap("no Prometheus configured and none found in the cluster (`onramp detect` shows what it sees): pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)".to_string())
            .allowed_by(PROMETHEUS_SETTING)
    }))
}

/// The settings that name the Prometheus to ask.
const PROMETHEUS_SETTING: &str =
    "--prometheus-url, PROMETHEUS_URL or prometheus.url in onramp.yaml";

/// Prints the report in the chosen format.
fn publish(args: &TroubleshootArgs, report: &TroubleshootReport) -> Result<()> {
    let since = humantime::format_duration(args.since).to_string();
    let text = match args.output {
        ReportFormat::Text => output::troubleshoot_text(report, &since),
        ReportFormat::Markdown => output::troubleshoot_markdown(report, &since),
        ReportFormat::Json => return print_json("troubleshoot report", report),
    };
    print(&text)
}
