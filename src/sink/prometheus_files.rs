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
use crate::plan::{Plan, paths};
use crate::sink::{Change, write_atomic};

/// The sub-folder of the config dir holding file_sd target files.
pub const TARGETS_DIR: &str = "targets";
/// The sub-folder of the config dir holding rules files.
pub const RULES_DIR: &str = "rules";

/// The lines `prometheus.yml` needs once so that onramp's files are read.
pub fn config_snippet(config_dir: &Path) -> String {
    let dir = config_dir.display();
    format!(
        "scrape_configs:\n  - job_name: onramp\n    file_sd_configs:\n      - files: ['{dir}/{TARGETS_DIR}/*.yaml']\n        refresh_interval: 10s\nrule_files:\n  - '{dir}/{RULES_DIR}/*.yaml'\n"
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

struct Pending {
    path: PathBuf,
    previous: Option<String>,
    content: String,
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Checks the rules with promtool before anything is written.
fn check_rules(app: &str, content: &str, config_dir: &Path) -> Result<Option<String>> {
    let dir = tempfile_dir(config_dir)?;
    let path = dir.join("rules-check.yaml");
    write_atomic(&path, content)?;
    let outcome = crate::client::prometheus::promtool_check_rules(&path);
    let _ = std::fs::remove_dir_all(&dir);
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

fn tempfile_dir(config_dir: &Path) -> Result<PathBuf> {
    let dir = config_dir.join(format!(".onramp-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// Applies the plan's plain-Prometheus files to `config_dir`, then reloads
/// `client`'s Prometheus (when given) and confirms it.
pub async fn apply(
    plan: &Plan,
    config_dir: &Path,
    client: Option<&PrometheusClient>,
) -> Result<Outcome> {
    let file_name = format!("{}.yaml", plan.app.replace('/', "-"));
    let mut notes = Vec::new();
    let mut pending = Vec::new();
    match plan.artifact(paths::TARGETS_FILE) {
        Some(targets) => pending.push((config_dir.join(TARGETS_DIR).join(&file_name), targets)),
        None => notes.push(
            "no target file: pass --target HOST:PORT where Prometheus reaches the app's metrics (inside Kubernetes, use prometheus/scrape-config.yaml from `onramp codify` instead)".to_string(),
        ),
    }
    if let Some(rules) = plan.artifact(paths::RULES_FILE) {
        if let Some(note) = check_rules(&plan.app, &rules.content, config_dir)? {
            notes.push(note);
        }
        pending.push((config_dir.join(RULES_DIR).join(&file_name), rules));
    }
    let mut staged = Vec::new();
    for (path, artifact) in pending {
        staged.push(Pending {
            previous: read_optional(&path)?,
            path,
            content: artifact.content.clone(),
        });
    }
    let mut files = Vec::new();
    for p in &staged {
        let change = match &p.previous {
            None => Change::Created,
            Some(old) if *old == p.content => Change::Unchanged,
            Some(_) => Change::Updated,
        };
        if change != Change::Unchanged {
            write_atomic(&p.path, &p.content)?;
        }
        files.push(FileChange {
            path: p.path.clone(),
            change,
        });
    }
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
        notes.push(format!(
            "Prometheus' configuration does not mention {}; add this to prometheus.yml once:\n{}",
            config_dir.display(),
            config_snippet(config_dir)
        ));
    }
    match client.reload_and_confirm().await {
        Ok(_) => Ok(Outcome {
            files,
            reload: Some("Prometheus reloaded its configuration successfully".to_string()),
            notes,
        }),
        Err(err) => Err(roll_back(client, &staged, err).await),
    }
}

/// After a failed reload, never leaves files Prometheus rejects active: puts
/// the previous ones back and reloads again. Returns the error to report.
async fn roll_back(
    client: &PrometheusClient,
    staged: &[Pending],
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
        reload: err.to_string(),
        failures,
    }
}

/// Puts the previous files back (removes the ones that did not exist);
/// returns what could not be restored.
fn restore(staged: &[Pending]) -> Vec<String> {
    let mut failures = Vec::new();
    for p in staged {
        let outcome = match &p.previous {
            Some(old) => write_atomic(&p.path, old).map_err(|e| crate::error::report(&e)),
            None => match std::fs::remove_file(&p.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(format!("cannot remove {}: {e}", p.path.display()))
                }
                _ => Ok(()),
            },
        };
        if let Err(why) = outcome {
            failures.push(why);
        }
    }
    failures
}
