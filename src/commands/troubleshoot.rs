//! `onramp troubleshoot APP`: runs the app's runbook against the cluster and
//! prints the ranked findings (text, Markdown or JSON). Exit 0 when nothing
//! is at warning or worse, 1 when something is.

use crate::app::AppRef;
use crate::check::troubleshoot::{self, NotChecked, Report, cluster};
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
    let mut report = cluster::check(&client, &app, &options).await?;
    report.not_checked.push(prometheus_gap(args, config));
    publish(args, &report)?;
    Ok(if report.alarming() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

/// What the Prometheus half would have checked, and why it did not.
fn prometheus_gap(args: &TroubleshootArgs, config: &Config) -> NotChecked {
    let configured =
        args.prometheus.prometheus_url.is_some() || config.file.prometheus.url.is_some();
    NotChecked {
        what: "Prometheus: scrape target, error ratio, latency, saturation, the app's alerts"
            .into(),
        why: if configured {
            "this build runs the cluster checks only".into()
        } else {
            "no Prometheus configured: pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)".into()
        },
    }
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
