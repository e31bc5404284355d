//! `onramp verify APP`: the smoke test, against a live Prometheus.

use std::time::Instant;

use crate::check::result::{CheckedApp, VerifyReport, output};
use crate::check::verify;
use crate::cli::VerifyArgs;
use crate::cli::config::Config;
use crate::client::secret::redact;
use crate::commands::Outcome;
use crate::error::{Error, Result};
use crate::pipeline::{Planned, Request};
use crate::sink::write_atomic;

/// How to name a Prometheus, for the messages that find none.
const NO_PROMETHEUS: &str =
    "pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)";

/// Runs the checks and reports them. When Prometheus cannot be reached (after
/// retrying until `--wait` ends), the report still goes out, with one failing
/// check saying so, and the exit status is the error's (3).
pub async fn run(args: &VerifyArgs, config: &Config) -> Result<Outcome> {
    let started = Instant::now();
    let url = args
        .selection
        .prometheus
        .prometheus_url
        .clone()
        .or_else(|| config.file.prometheus.url.clone());
    // Without -f the app is read from the cluster, whose Prometheus is
    // reached through the API server when no URL is given.
    let from_cluster = args.selection.app.filenames.is_empty();
    let url = match url {
        Some(url) => crate::client::secret::redact_userinfo(&url),
        None if from_cluster => {
            "the cluster's Prometheus (through the Kubernetes API server)".to_string()
        }
        None => {
            return Err(Error::Usage(format!(
                "no Prometheus to verify against: {NO_PROMETHEUS}"
            )));
        }
    };
    let options = verify::VerifyRun {
        concurrency: args.concurrency.max(1),
        started,
        deadline: verify::deadline(started, args.wait),
        ..verify::VerifyRun::default()
    };
    let (report, error) = match checked(args, config, &options).await {
        Ok(report) => (report, None),
        Err(Error::Prometheus(err)) => {
            let app = CheckedApp::named(
                args.selection.app.namespace.as_deref(),
                &args.selection.app.app,
            );
            let report = verify::unreachable_report(app, &url, &err, started);
            (report, Some(Error::Prometheus(err)))
        }
        Err(other) => return Err(other),
    };
    publish(args, &report)?;
    match error {
        Some(err) => Err(err),
        None if report.passed => Ok(Outcome::Success),
        None => Ok(Outcome::CheckFailed),
    }
}

/// Plans the app with Prometheus consulted, then runs the checks.
async fn checked(
    args: &VerifyArgs,
    config: &Config,
    options: &verify::VerifyRun,
) -> Result<VerifyReport> {
    let planned = Planned::new(Request {
        deadline: options.deadline,
        ..Request::new(&args.selection, config, "codify")
    })
    .await?;
    let (Some(client), plan) = (&planned.prometheus, &planned.plan) else {
        return Err(Error::Usage(format!(
            "no Prometheus to verify against: the cluster has no Prometheus Service onramp can find (`onramp detect` shows what it sees); {NO_PROMETHEUS}"
        )));
    };
    checks(client, plan, options, args.wait.is_some()).await
}

/// Runs the checks of `plan`, with a spinner while `waiting` on a terminal.
pub async fn checks(
    client: &crate::client::prometheus::PrometheusClient,
    plan: &crate::plan::Plan,
    options: &verify::VerifyRun,
    waiting: bool,
) -> Result<VerifyReport> {
    let progress = Progress::start(waiting);
    let report = verify::run_with_progress(client, plan, options, &|round, report| {
        progress.round(round, report);
    })
    .await;
    progress.finish();
    Ok(report?)
}

/// A spinner on stderr while `--wait` waits, only on a terminal: piped or
/// redirected output gets nothing extra, so logs and CI stay clean.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(waiting: bool) -> Progress {
        use std::io::IsTerminal;
        if !waiting || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        // No colours in the template: NO_COLOR or not, the spinner is plain.
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message("round 1: asking Prometheus");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn round(&self, round: u32, report: &VerifyReport) {
        if let Some(bar) = &self.0 {
            bar.set_message(format!(
                "round {round}: {}; waiting",
                verify::still_failing(report)
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Writes the report: `--junit FILE`, then JSON or the table on stdout.
fn publish(args: &VerifyArgs, report: &VerifyReport) -> Result<()> {
    if let Some(path) = &args.junit {
        write_atomic(path, &redact(&output::verify_junit(report)?))?;
    }
    if args.json {
        return crate::commands::print_json("verify report", report);
    }
    crate::commands::print(&output::verify_text(report))
}
