//! `onramp detect`: asks the cluster what monitoring stack it runs, prints
//! it, and with `--write` saves it into onramp.yaml without changing what a
//! person wrote there unless `--force` says so.

use std::path::PathBuf;

use crate::cli::config::{self, Config, Detected};
use crate::cli::{DetectArgs, OutputFormat, RbacCommand};
use crate::client::kube::KubeClient;
use crate::cluster::stack::{self, Stack};
use crate::commands::{Outcome, print, print_err, print_json};
use crate::error::{Error, Result};

/// Runs `detect`.
pub async fn run(args: &DetectArgs, config: &Config) -> Result<Outcome> {
    let client = KubeClient::connect(&args.cluster.settings(RbacCommand::Detect)).await?;
    let found = stack::detect(&client).await?;
    match args.output {
        OutputFormat::Json => print_json("detect", &found)?,
        OutputFormat::Text => {
            print(&found.text())?;
            if !args.write && !detected(&found).is_empty() {
                print("\nSave this into onramp.yaml: onramp detect --write\n")?;
            }
        }
    }
    if args.write {
        let said = write(&found, config, args.force)?;
        // Keep stdout pure JSON with --output json.
        match args.output {
            OutputFormat::Json => print_err(&format!("{said}\n"))?,
            OutputFormat::Text => print(&format!("\n{said}\n"))?,
        }
    }
    Ok(Outcome::Success)
}

/// What onramp.yaml should say after this run.
fn detected(found: &Stack) -> Detected {
    Detected {
        labels: found.required_labels(),
        sidecar_label: found.sidecar().map(|(_, s)| s.selector()),
        prometheus_service: found.prometheus_service().map(|e| e.reference()),
    }
}

/// Saves the findings into onramp.yaml (or `--config FILE`); returns what it did.
fn write(found: &Stack, config: &Config, force: bool) -> Result<String> {
    let path = config
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(config::DEFAULT_FILE));
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Usage(format!(
            "{} is a symbolic link: onramp does not write through links; pass --config with the real file",
            path.display()
        )));
    }
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(Error::Read { path, source }),
    };
    let update = config::merge_detected(existing.as_deref(), &path, &detected(found))?;
    if update.unchanged {
        return Ok(format!("{} already says this; unchanged", path.display()));
    }
    if let Some(diff) = update.loses
        && !force
    {
        return Err(Error::ConfigEdited { path, diff });
    }
    crate::sink::write_atomic(&path, &update.text)?;
    Ok(format!("wrote {}", path.display()))
}
