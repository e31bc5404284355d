//! `onramp apply APP`: click first — the plan goes to the configured sinks:
//! the cluster (server-side apply of monitors, rules and, when Grafana's
//! sidecar is the way in, the dashboards' ConfigMaps), Grafana (dashboards,
//! never over a human edit) and a plain Prometheus (target and rules files,
//! with a confirmed reload).

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::config::Config;
use crate::cli::{ApplyArgs, ClusterArgs, RbacCommand};
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};
use crate::pipeline::{Planned, Request};
use crate::plan;
use crate::sink::grafana::{self as grafana_sync, PushOptions};
use crate::sink::kubernetes as kube_sink;
use crate::sink::prometheus_files as plain_prometheus;
use crate::sink::summary;

/// Reads the codified dashboards in `dir` as plan overrides (by uid).
fn codified_dashboards(dir: &Path, plan: &plan::Plan) -> Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for (artifact, uid) in plan.dashboards() {
        let path = dir.join(&artifact.path);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::Manifest {
                location: crate::error::Location::at(
                    path.display().to_string(),
                    e.line(),
                    Some(e.column()),
                ),
                message: format!("the dashboard is not valid JSON: {e}"),
            })?;
        // A v2 dashboard (a resource) names its uid in metadata.name.
        let found = crate::client::grafana::resource::uid_of(&value);
        if found != Some(uid) {
            return Err(Error::Usage(format!(
                "{} has uid {}, but onramp's dashboard for this need is {uid}; was it codified for another app?",
                path.display(),
                found.unwrap_or("(none)")
            )));
        }
        overrides.insert(uid.to_string(), text);
    }
    Ok(overrides)
}

/// Builds the plan and applies it.
pub async fn run(args: &ApplyArgs, config: &Config) -> Result<Outcome> {
    let config_dir = args
        .prometheus_config_dir
        .clone()
        .or_else(|| config.file.prometheus.config_dir.clone());
    let grafana = args.grafana.client(config)?;
    check_targets(args, config_dir.is_some(), grafana.is_some())?;
    let mut planned = Planned::new(Request {
        grafana: Some(&args.grafana),
        rbac: Some(RbacCommand::Apply),
        ..Request::new(&args.selection, config, "apply")
    })
    .await?;
    if let Some(dir) = &args.from {
        let codified = codified_dashboards(dir, &planned.plan)?;
        planned.replan_with_dashboards(codified)?;
    }
    let v2 = grafana_sync::v2_dashboards(&planned.plan);
    if args.to_cluster() && grafana.is_none() && !v2.is_empty() {
        return Err(Error::Usage(format!(
            "{}; add --grafana-url (the dashboards then go to Grafana's API, not into ConfigMaps)",
            grafana_sync::v2_provisioning_note(&v2)
        )));
    }
    let mut outcome = Outcome::Success;
    if args.to_cluster() {
        let options = kube_sink::ApplyMode {
            dry_run: args.dry_run,
            force_conflicts: args.force_conflicts,
            dashboard_config_maps: grafana.is_none(),
        };
        outcome = apply_to_cluster(
            &planned,
            &args.selection.cluster,
            &options,
            RbacCommand::Apply,
        )
        .await?;
    }
    if args.dry_run {
        if config_dir.is_some() || grafana.is_some() {
            print(
                "--dry-run: Grafana and the plain Prometheus folder were left alone (only the cluster has a dry run).\n",
            )?;
        }
        return Ok(outcome);
    }
    let plan = &planned.plan;
    if let Some(dir) = &config_dir {
        let applied =
            plain_prometheus::apply(plan, dir, planned.prometheus.as_ref(), args.force).await?;
        print(&summary::plain_prometheus(
            &plan.workload,
            &dir.display().to_string(),
            &applied,
        ))?;
    }
    if let Some(client) = &grafana {
        let pushed = push_dashboards(client, &planned, &edit_policy(args), config).await?;
        if pushed == Outcome::CheckFailed {
            outcome = pushed;
        }
    }
    Ok(outcome)
}

/// Refuses a run with nowhere to apply to, or a dry run without the
/// cluster (the only sink with a server-side dry run).
fn check_targets(args: &ApplyArgs, prometheus: bool, grafana: bool) -> Result<()> {
    if !args.to_cluster() && !prometheus && !grafana {
        return Err(Error::Usage(
            "nothing to apply to: pass --cluster to server-side apply to the cluster, --grafana-url (or GRAFANA_URL) to push the dashboards, and/or --prometheus-config-dir DIR for a plain Prometheus; to write files for Git, use `onramp codify`".to_string(),
        ));
    }
    if args.dry_run && !args.to_cluster() {
        return Err(Error::Usage(
            "--dry-run is the cluster's server-side dry run: add --cluster (with -f), or leave out -f to read the app from the cluster".to_string(),
        ));
    }
    Ok(())
}

/// Server-side applies the plan's objects and prints what changed, after
/// the plan's notes — with the warning when no Prometheus would pick an
/// object up (the cluster is asked even when the app came from `-f`, so
/// the `release` label trap never goes unsaid). A conflict is a refused
/// write; a forbidden request points at `onramp rbac RBAC`.
pub async fn apply_to_cluster(
    planned: &Planned,
    cluster: &ClusterArgs,
    options: &kube_sink::ApplyMode,
    rbac: RbacCommand,
) -> Result<Outcome> {
    let plan = &planned.plan;
    let (client, notes) = planned.cluster(cluster, rbac).await?;
    let report = kube_sink::apply(&client, plan, options).await?;
    let mut text = summary::cluster(&report, client.context());
    for note in &notes {
        text.push_str(&format!("note: {note}\n"));
    }
    print(&text)?;
    Ok(if report.conflicted() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}

/// How `apply` pushes dashboards: over a person's edit only with
/// `--force`, saving the live copy first.
fn edit_policy(args: &ApplyArgs) -> EditPolicy<'_> {
    EditPolicy {
        force: args.force,
        backup_dir: &args.backup_dir,
    }
}

/// What a push does with a dashboard a person edited in Grafana: leaves it
/// (the default), or with `--force` overwrites it, saving the live copy first.
pub struct EditPolicy<'a> {
    /// Overwrite dashboards people edited in Grafana.
    pub force: bool,
    /// Where the live copies `force` overwrites are saved first.
    pub backup_dir: &'a Path,
}

/// Pushes the app's dashboards to Grafana and prints what happened.
pub async fn push_dashboards(
    client: &crate::client::grafana::Client,
    planned: &Planned,
    edits: &EditPolicy<'_>,
    config: &Config,
) -> Result<Outcome> {
    let codify_hint = format!(
        "onramp codify {} --from-live --grafana-url {} --out DIR",
        crate::plan::app_args(&planned.loaded.app, &planned.settings.plan.manifests),
        crate::util::shell::shell_word(client.config().url().as_str())
    );
    push_plan(client, &planned.plan, codify_hint, edits, config).await
}

/// Pushes a plan's dashboards (an app's, or the platform's) to Grafana and
/// prints what happened; `codify_hint` is the command that brings a
/// person's edit into code, shown when one is refused.
pub async fn push_plan(
    client: &crate::client::grafana::Client,
    plan: &crate::plan::Plan,
    codify_hint: String,
    edits: &EditPolicy<'_>,
    config: &Config,
) -> Result<Outcome> {
    let desired = grafana_sync::desired(plan)?;
    let datasource = match client
        .prometheus_datasource_uid(config.file.grafana.datasource.as_deref())
        .await
    {
        Ok(uid) => uid,
        Err(err) => {
            print(&format!(
                "Grafana {}:\n{}",
                client.config().url(),
                summary::grafana(&grafana_sync::PushReport {
                    dashboards: grafana_sync::not_pushed(client, &desired),
                    error: Some(err.to_string()),
                })
            ))?;
            return Err(err.into());
        }
    };
    let folder = plan.grafana_folder.clone();
    let options = PushOptions {
        force: edits.force,
        backup_dir: edits.backup_dir.to_path_buf(),
        folder: folder.clone(),
        codify_hint,
    };
    let (report, error) = grafana_sync::push(client, &desired, &options).await;
    print(&format!(
        "Grafana {} (Prometheus datasource uid {datasource}, folder {:?}):\n{}",
        client.config().url(),
        folder.title,
        summary::grafana(&report)
    ))?;
    if let Some(err) = error {
        return Err(err.into());
    }
    Ok(if report.incomplete() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    })
}
