//! `onramp apply APP`: click first — the plan goes to the configured sinks:
//! Grafana (dashboards, never over a human edit) and a plain Prometheus
//! (target and rules files, with a confirmed reload).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::cli::ApplyArgs;
use crate::cli::config::Config;
use crate::commands::{Outcome, Prepared};
use crate::error::{Error, Result};
use crate::plan;
use crate::render::dashboard;
use crate::sink::Change;
use crate::sink::grafana::{self as grafana_sync, PushOptions};
use crate::sink::prometheus_files as plain_prometheus;

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
        if value["uid"].as_str() != Some(uid) {
            return Err(Error::Usage(format!(
                "{} has uid {}, but onramp's dashboard for this need is {uid}; was it codified for another app?",
                path.display(),
                value["uid"]
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
    if config_dir.is_none() && grafana.is_none() {
        return Err(Error::Usage(
            "nothing to apply to: pass --grafana-url (or GRAFANA_URL) to push the dashboards, and/or --prometheus-config-dir DIR for a plain Prometheus; to write files for Git, use `onramp codify`".to_string(),
        ));
    }
    let mut prepared = Prepared::new(&args.selection, config).await?;
    if let Some(dir) = &args.from {
        let codified = codified_dashboards(dir, &prepared.plan)?;
        prepared.replan_with_dashboards(codified)?;
    }
    let (plan, loaded) = (&prepared.plan, &prepared.loaded);
    let mut outcome = Outcome::Success;
    if let Some(dir) = &config_dir {
        let applied = plain_prometheus::apply(plan, dir, prepared.prometheus.as_ref()).await?;
        print!(
            "{}",
            summary(&plan.workload, &dir.display().to_string(), &applied)
        );
    }
    if let Some(client) = &grafana {
        let app = &loaded.app;
        let desired = grafana_sync::desired(plan)?;
        let datasource = match client
            .prometheus_datasource_uid(config.file.grafana.datasource.as_deref())
            .await
        {
            Ok(uid) => uid,
            Err(err) => {
                println!("Grafana {}:", client.config().url());
                print!(
                    "{}",
                    grafana_sync::summary(&grafana_sync::PushReport {
                        dashboards: grafana_sync::not_pushed(client, &desired, &err.to_string()),
                        error: Some(err.to_string()),
                    })
                );
                return Err(err.into());
            }
        };
        let folder_title = config
            .file
            .grafana
            .folder
            .clone()
            .unwrap_or_else(|| format!("{} ({})", app.name, app.namespace));
        let options = PushOptions {
            force: args.force,
            backup_dir: args.backup_dir.clone(),
            folder: (
                dashboard::uid(&app.namespace, &app.name, crate::needs::RESERVED_ID).to_string(),
                folder_title.clone(),
            ),
            codify_hint: format!(
                "onramp codify {} -n {} --from-live --out DIR",
                app.workload(),
                app.namespace
            ),
        };
        let (report, error) = grafana_sync::push(client, &desired, &options).await;
        println!(
            "Grafana {} (Prometheus datasource uid {datasource}, folder {folder_title:?}):",
            client.config().url()
        );
        print!("{}", grafana_sync::summary(&report));
        if let Some(err) = error {
            return Err(err.into());
        }
        if report.incomplete() {
            outcome = Outcome::CheckFailed;
        }
    }
    Ok(outcome)
}

/// What the plain-Prometheus sink did, for people.
pub fn summary(workload: &str, dir: &str, outcome: &plain_prometheus::Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Applied {workload} to the plain Prometheus config folder {dir}:"
    );
    for f in &outcome.files {
        let word = match f.change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
        };
        let _ = writeln!(out, "  {word:<9}  {}", f.path.display());
    }
    if let Some(reload) = &outcome.reload {
        let _ = writeln!(out, "{reload}.");
    }
    for note in &outcome.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
