//! `onramp troubleshoot APP`: runs the app's runbook against the cluster and
//! prints the ranked findings (text, Markdown or JSON). Exit 0 when nothing
//! is at warning or worse, 1 when something is.

use crate::app::AppRef;
use crate::check::troubleshoot::diagnose::Gathered;
use crate::check::troubleshoot::{self, NotChecked, Report, app_plan, cluster, prometheus};
use crate::cli::config::Config;
use crate::cli::{GrafanaArgs, RbacCommand, ReportFormat, TroubleshootArgs};
use crate::client::kube::KubeClient;
use crate::commands::{Outcome, print, print_json};
use crate::error::Result;

/// Runs `troubleshoot`.
pub async fn run(args: &TroubleshootArgs, config: &Config) -> Result<Outcome> {
    let mut app = AppRef::parse(&args.app, args.namespace.clone())?;
    // Panels link to Grafana when it is configured: flag, environment or onramp.yaml.
    let from_file = GrafanaArgs {
        grafana_url: config.file.grafana.url.clone(),
    };
    let grafana = match args.grafana.link_base()? {
        Some(url) => Some(url),
        None => from_file.link_base()?,
    };
    let client = KubeClient::connect(&args.cluster.settings(RbacCommand::Troubleshoot)).await?;
    if app.namespace.is_none() {
        app.namespace = Some(client.default_namespace().to_string());
    }
    let options = cluster::Options {
        since: args.since,
        now: k8s_openapi::jiff::Timestamp::now(),
        grafana,
    };
    let gathered = cluster::gather_app(&client, &app).await?;
    let mut report = troubleshoot::diagnose::report(&gathered, &options);
    report.merge(prometheus_checks(args, config, &app, &gathered, options.grafana).await?);
    report.rank();
    publish(args, &report)?;
    Ok(if report.alarming() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

/// The Prometheus checks, on the plan of the app as the cluster runs it;
/// without a Prometheus URL, or when it cannot be reached, a gap in the
/// report: the cluster checks still stand.
async fn prometheus_checks(
    args: &TroubleshootArgs,
    config: &Config,
    app: &AppRef,
    gathered: &Gathered,
    grafana: Option<String>,
) -> Result<Report> {
    let Some(client) = args.prometheus.client(config)? else {
        return Ok(Report {
            not_checked: vec![NotChecked {
                what: prometheus::CHECKS.to_string(),
                why: "no Prometheus configured: pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)".to_string(),
            }],
            ..Report::default()
        });
    };
    let objects = app_plan::objects_of(gathered);
    let plan = match app_plan::plan(&objects, app, &client, grafana.clone()).await {
        Ok(plan) => plan,
        Err(gap) => {
            return Ok(Report {
                not_checked: vec![gap],
                ..Report::default()
            });
        }
    };
    Ok(prometheus::check(&client, &plan, args.since, grafana.as_deref()).await)
}

/// Prints the report in the chosen format.
fn publish(args: &TroubleshootArgs, report: &Report) -> Result<()> {
    let since = humantime::format_duration(args.since).to_string();
    let text = match args.output {
        ReportFormat::Text => troubleshoot::text(report, &since),
        ReportFormat::Markdown => troubleshoot::markdown(report, &since),
        ReportFormat::Json => return print_json("troubleshoot report", report),
    };
    print(&text)
}
