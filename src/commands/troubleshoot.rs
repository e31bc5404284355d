//! `onramp troubleshoot APP`: runs the app's runbook against the cluster and
//! prints the ranked findings (text, Markdown or JSON). Exit 0 when nothing
//! is at warning or worse, 1 when something is.

use crate::app::AppRef;
use crate::check::troubleshoot::{self, Report, cluster};
use crate::cli::config::Config;
use crate::cli::{RbacCommand, ReportFormat, TroubleshootArgs};
use crate::client::kube::KubeClient;
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};

/// Runs `troubleshoot`.
pub async fn run(args: &TroubleshootArgs, _config: &Config) -> Result<Outcome> {
    let mut app = AppRef::parse(&args.app, args.namespace.clone())?;
    let grafana = args.grafana.link_base()?;
    let client = KubeClient::connect(&args.cluster.settings(RbacCommand::Troubleshoot)).await?;
    if app.namespace.is_none() {
        app.namespace = Some(client.default_namespace().to_string());
    }
    let options = cluster::Options {
        since: args.since,
        now: k8s_openapi::jiff::Timestamp::now(),
        grafana,
    };
    let report = cluster::check(&client, &app, &options).await?;
    publish(args, &report)?;
    Ok(if report.alarming() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

/// Prints the report in the chosen format.
fn publish(args: &TroubleshootArgs, report: &Report) -> Result<()> {
    let since = humantime::format_duration(args.since).to_string();
    let text = match args.output {
        ReportFormat::Text => troubleshoot::text(report, &since),
        ReportFormat::Markdown => troubleshoot::markdown(report, &since),
        ReportFormat::Json => troubleshoot::json(report).map_err(|e| Error::Render {
            artifact: "troubleshoot report".to_string(),
            message: format!("cannot serialise it as JSON: {e}"),
        })?,
    };
    print(&text)
}
