//! `onramp onboard APP`: the one command a developer runs — plan, apply to
//! the cluster (and Grafana when one is configured), codify into a folder,
//! verify against Prometheus (waiting until the checks pass), then say
//! where the dashboards and the runbook are and which instrumentation is
//! still missing. Every step is one that `apply`, `codify` and `verify` own;
//! this file only runs them in order. Safe to run again: each step is.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::check::result::{Category, Status, VerifyReport};
use crate::check::verify;
use crate::cli::config::Config;
use crate::cli::{OnboardArgs, RbacCommand};
use crate::commands::apply::{self, EditPolicy};
use crate::commands::{Outcome, codify, print};
use crate::error::Result;
use crate::pipeline::{Planned, Request};
use crate::plan::{ArtifactKind, Plan, paths};
use crate::sink::files;
use crate::sink::kubernetes as kube_sink;

/// Where the artifacts are codified when `--out` is not given.
pub fn default_out(app: &str) -> PathBuf {
    Path::new("observability").join(app)
}

/// Runs the four steps; stops at the first that fails.
pub async fn run(args: &OnboardArgs, config: &Config) -> Result<Outcome> {
    let started = Instant::now();
    let grafana = args.grafana.client(config)?;
    if let Some(out) = &args.out {
        codify::check_out_is_folder(out)?;
    }
    let planned = Planned::new(Request {
        grafana: Some(&args.grafana),
        rbac: Some(RbacCommand::Onboard),
        ..Request::new(&args.selection, config, "codify")
    })
    .await?;
    let plan = &planned.plan;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&planned.loaded.app.name));
    codify::check_out_is_folder(&out)?;

    print(&format!(
        "Onboarding {} in namespace {}.\n",
        plan.workload, plan.namespace
    ))?;
    if args.dry_run {
        return dry_run(args, &planned, &out, grafana.is_none()).await;
    }
    if click_first(args, config, &planned, grafana.as_ref()).await? == Outcome::CheckFailed {
        print("Stopped: nothing was codified or verified.\n")?;
        return Ok(Outcome::CheckFailed);
    }
    print("\n3/4 codify\n")?;
    let written = files::write(plan, &out, args.force)?;
    print(&crate::sink::summary::codified(
        &plan.workload,
        &plan.namespace,
        &written,
    ))?;
    print("\n4/4 verify\n")?;
    let report = match &planned.prometheus {
        Some(client) => {
            let options = verify::VerifyRun {
                started,
                deadline: verify::deadline(started, Some(args.wait)),
                ..verify::VerifyRun::default()
            };
            let report = crate::commands::verify::checks(client, plan, &options, true).await?;
            print(&crate::check::result::output::verify_text(&report))?;
            Some(report)
        }
        None => {
            print(
                "Not verified: no Prometheus given (--prometheus-url, PROMETHEUS_URL or prometheus.url in onramp.yaml).\n",
            )?;
            None
        }
    };
    let base = planned.settings.plan.grafana_url.as_deref();
    print(&closing(plan, base, &out, report.as_ref()))?;
    Ok(match report {
        Some(report) if !report.passed => Outcome::CheckFailed,
        _ => Outcome::Success,
    })
}

/// `--dry-run`: the cluster's server-side dry run of step 1, and what the
/// other steps would do, doing none of it.
async fn dry_run(
    args: &OnboardArgs,
    planned: &Planned,
    out: &Path,
    dashboard_config_maps: bool,
) -> Result<Outcome> {
    print("\n1/4 apply to the cluster (server-side dry run)\n")?;
    let applied = to_cluster(args, planned, true, dashboard_config_maps).await?;
    print(&format!(
        "\nDry run: nothing was stored in the cluster, pushed to Grafana, codified into {} or verified. Run it again without --dry-run to onboard.\n",
        out.display()
    ))?;
    Ok(applied)
}

/// Step 1 as `apply` runs it (the server's dry run when `dry_run`); a
/// refused request points at `onramp rbac onboard`.
async fn to_cluster(
    args: &OnboardArgs,
    planned: &Planned,
    dry_run: bool,
    dashboard_config_maps: bool,
) -> Result<Outcome> {
    let options = kube_sink::ApplyMode {
        dry_run,
        force_conflicts: args.force_conflicts,
        dashboard_config_maps,
    };
    let cluster = &args.selection.cluster;
    apply::apply_to_cluster(planned, cluster, &options, RbacCommand::Onboard).await
}

/// Steps 1 and 2: the objects to the cluster, the dashboards to Grafana
/// (or, without one, to its sidecar through ConfigMaps).
async fn click_first(
    args: &OnboardArgs,
    config: &Config,
    planned: &Planned,
    grafana: Option<&crate::client::grafana::Client>,
) -> Result<Outcome> {
    print("\n1/4 apply to the cluster\n")?;
    let applied = to_cluster(args, planned, false, grafana.is_none()).await?;
    if applied == Outcome::CheckFailed {
        return Ok(applied);
    }
    print("\n2/4 dashboards to Grafana\n")?;
    let Some(client) = grafana else {
        print(
            "Grafana's dashboard sidecar loads them from the ConfigMaps applied above (no Grafana URL given: --grafana-url or GRAFANA_URL pushes them through its API instead).\n",
        )?;
        return Ok(Outcome::Success);
    };
    let push = EditPolicy {
        force: args.force,
        backup_dir: &args.backup_dir,
    };
    apply::push_dashboards(client, planned, &push, config).await
}

/// The end of the run: each dashboard and where to open it, the runbook,
/// and the instrumentation still missing.
fn closing(plan: &Plan, base: Option<&str>, out: &Path, report: Option<&VerifyReport>) -> String {
    let mut text = String::from("\nDashboards:\n");
    let base = base.map(|u| u.trim_end_matches('/'));
    for artifact in &plan.artifacts {
        let ArtifactKind::Dashboard { uid, title, .. } = &artifact.kind else {
            continue;
        };
        let _ = match base {
            Some(base) => writeln!(text, "  {title}: {base}/d/{uid}"),
            None => writeln!(text, "  {title}: uid {uid}"),
        };
    }
    let _ = writeln!(text, "Runbook: {}", out.join(paths::RUNBOOK).display());
    if let Some(report) = report {
        text.push_str(&missing(plan, report));
    }
    text
}

/// The signals verify found no series for, with the instrumentation to add.
fn missing(plan: &Plan, report: &VerifyReport) -> String {
    let mut lines = Vec::new();
    for check in &report.checks {
        if check.category != Category::Signal
            || !matches!(check.status, Status::Fail | Status::Warn)
        {
            continue;
        }
        let Some((need, signal)) = check.name.split_once('/') else {
            continue;
        };
        let found = plan
            .needs
            .iter()
            .filter(|n| n.id == need)
            .flat_map(|n| n.signals.iter())
            .find(|s| s.name == signal);
        if let Some(s) = found {
            lines.push(format!(
                "  {need}/{signal} ({}): {}",
                s.metric,
                s.instrumentation.trim()
            ));
        }
    }
    if lines.is_empty() {
        "Missing instrumentation: none, every signal has series.\n".to_string()
    } else {
        format!("Missing instrumentation:\n{}\n", lines.join("\n"))
    }
}
