//! The plain-Prometheus sink: for a Prometheus without the Operator, drops the
//! app's file_sd target file and rules file into the folders its
//! `prometheus.yml` reads, asks it to reload and confirms the reload took.
//!
//! A rules file Prometheus would reject is never left active: it is checked
//! with `promtool` before it is written, and if the reload still fails the
//! previous files are put back and Prometheus is reloaded again.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::client::prometheus::{PrometheusClient, RuleCheckError};
use crate::error::{Error, Result};
use crate::plan::{AppId, Plan, paths};
use crate::sink::{
    Change, Decided, FileWrite, clean_stale_temps, decide_all, restore, write_all, write_atomic,
};

/// The sub-folder of the config dir holding file_sd target files.
pub const TARGETS_DIR: &str = "targets";
/// The sub-folder of the config dir holding rules files.
pub const RULES_DIR: &str = "rules";

/// What Prometheus 3 reads a `/metrics` answer without a `Content-Type` as
/// (`fallback_scrape_protocol`). Prometheus 2 read such an answer as this
/// text format; 3 refuses it unless told, and 2 refuses the setting itself.
pub const FALLBACK_SCRAPE_PROTOCOL: &str = "PrometheusText0.0.4";

/// The lines `prometheus.yml` needs once so that onramp's files are read, for
/// the Prometheus of major version `major` (when it said): from 3 on, with
/// the fallback that keeps scraping an app as Prometheus 2 did.
pub fn config_snippet(config_dir: &Path, major: Option<u32>) -> String {
    let dir = config_dir.display();
    let fallback = match major {
        Some(major) if major >= 3 => {
            format!("    fallback_scrape_protocol: {FALLBACK_SCRAPE_PROTOCOL}\n")
        }
        _ => String::new(),
    };
    format!(
        "scrape_configs:\n  - job_name: onramp\n{fallback}    file_sd_configs:\n      - files: ['{dir}/{TARGETS_DIR}/*.yaml']\n        refresh_interval: 10s\nrule_files:\n  - '{dir}/{RULES_DIR}/*.yaml'\n"
    )
}

/// What the sink did to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// The file written.
    pub path: PathBuf,
    /// Created, updated or unchanged.
    pub change: Change,
}

/// What the sink did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The files.
    pub files: Vec<FileChange>,
    /// The reload, when Prometheus was asked: a sentence for the user.
    pub reload: Option<String>,
    /// Things the user should know.
    pub notes: Vec<String>,
}

/// Checks the rules with promtool before anything is written.
fn check_rules(app: &AppId, content: &str, config_dir: &Path) -> Result<Option<String>> {
    let write_err = |source| Error::Write {
        path: config_dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(config_dir).map_err(write_err)?;
    // A fresh folder of a random name, created exclusively: a link planted at
    // a predictable name cannot redirect the check's file. Removed on drop.
    let dir = tempfile::Builder::new()
        .prefix(".onramp-check-")
        .tempdir_in(config_dir)
        .map_err(write_err)?;
    let path = dir.path().join("rules-check.yaml");
    write_atomic(&path, content)?;
    let outcome = crate::client::prometheus::promtool_check_rules(&path);
    match outcome {
        Ok(()) => Ok(None),
        Err(RuleCheckError::NotInstalled { .. }) => Ok(Some(
            "promtool is not installed, so the rules were not checked before the reload (install the prometheus package)".to_string(),
        )),
        Err(RuleCheckError::Rejected { message, .. }) => Err(Error::RulesRejected {
            app: app.to_string(),
            message,
        }),
        Err(other) => Err(Error::Usage(format!("cannot check the rules: {other}"))),
    }
}

/// Applies the plan's plain-Prometheus files to `config_dir`, then reloads
/// `client`'s Prometheus (when given) and confirms it. A file in the way that
/// onramp did not write for this app is refused as `codify` refuses it; one
/// edited by hand since is overwritten only with `force`.
pub async fn apply(
    plan: &Plan,
    config_dir: &Path,
    client: Option<&PrometheusClient>,
    force: bool,
) -> Result<Outcome> {
    let file_name = format!("{}-{}.yaml", plan.app.namespace(), plan.app.name());
    let mut notes = Vec::new();
    let mut pending = Vec::new();
    match plan.artifact(paths::TARGETS_FILE) {
        Some(targets) => pending.push((format!("{TARGETS_DIR}/{file_name}"), &targets.content)),
        None => notes.push(
            "no target file: pass --target HOST:PORT where Prometheus reaches the app's metrics (inside Kubernetes, use prometheus/scrape-config.yaml from `onramp codify` instead)".to_string(),
        ),
    }
    if let Some(rules) = plan.artifact(paths::RULES_FILE) {
        if let Some(note) = check_rules(&plan.app, &rules.content, config_dir)? {
            notes.push(note);
        }
        pending.push((format!("{RULES_DIR}/{file_name}"), &rules.content));
    }
    let pending: Vec<(&str, &str)> = pending
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let Decided { changes, writes } = decide_all(config_dir, &pending, &plan.app, force)?;
    for dir in [TARGETS_DIR, RULES_DIR] {
        clean_stale_temps(config_dir, Path::new(dir))?;
    }
    write_all(&writes)?;
    let files = changes
        .into_iter()
        .map(|(relative, change)| FileChange {
            path: config_dir.join(relative),
            change,
        })
        .collect();
    let Some(client) = client else {
        notes.push("Prometheus was not asked to reload: pass --prometheus-url, or reload it yourself (POST /-/reload or SIGHUP)".to_string());
        return Ok(Outcome {
            files,
            reload: None,
            notes,
        });
    };
    if let Ok(config) = client.config_yaml().await
        && !config.contains(&config_dir.display().to_string())
    {
        // What fits depends on the version: ask it.
        let major = client.build_info().await.ok().and_then(|info| info.major());
        notes.push(format!(
            "Prometheus' configuration does not mention {}; add this to prometheus.yml once:\n{}",
            config_dir.display(),
            config_snippet(config_dir, major)
        ));
    }
    match client.reload_and_confirm().await {
        Ok(_) => Ok(Outcome {
            files,
            reload: Some("Prometheus reloaded its configuration successfully".to_string()),
            notes,
        }),
        Err(err) => Err(roll_back(client, &writes, err).await),
    }
}

/// After a failed reload, never leaves files Prometheus rejects active: puts
/// the previous ones back and reloads again. Returns the error to report.
async fn roll_back(
    client: &PrometheusClient,
    staged: &[FileWrite],
    err: crate::client::prometheus::Error,
) -> Error {
    let mut failures = restore(staged);
    if failures.is_empty() {
        // The previous files are back; a failed reload keeps the previous
        // configuration active, so a second failure here loses nothing.
        let _ = client.reload().await;
        return Error::from(err);
    }
    if let Err(again) = client.reload().await {
        failures.push(format!("reloading Prometheus again: {again}"));
    }
    Error::RestoreFailed {
        cause: format!("{err}; Prometheus may load the rejected files at its next reload"),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippet_carries_the_scrape_fallback_only_for_prometheus_3() {
        let dir = Path::new("/etc/prometheus/onramp");
        let fallback = "fallback_scrape_protocol: PrometheusText0.0.4";
        assert!(!config_snippet(dir, Some(2)).contains(fallback));
        assert!(!config_snippet(dir, None).contains(fallback));
        let three = config_snippet(dir, Some(3));
        assert!(
            three.contains(&format!("  - job_name: onramp\n    {fallback}\n")),
            "{three}"
        );
    }
}
