//! `onramp apply APP`: click first — the plan goes to the configured sinks.

use std::fmt::Write;

use crate::cli::{AppSettings, ApplyArgs};
use crate::codify::Change;
use crate::commands::{Outcome, load};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::{plain_prometheus, plan};

/// Builds the plan and applies it.
pub async fn run(args: &ApplyArgs, config: &Config) -> Result<Outcome> {
    let settings = AppSettings::new(&args.app, &args.needs, &args.render, config)?;
    let config_dir = args
        .prometheus_config_dir
        .clone()
        .or_else(|| config.file.prometheus.config_dir.clone());
    let Some(config_dir) = config_dir else {
        return Err(Error::Usage(
            "nothing to apply to: pass --prometheus-config-dir DIR for a plain Prometheus (or set prometheus.config_dir in onramp.yaml); to write files for Git, use `onramp codify`".to_string(),
        ));
    };
    let loaded = load(&settings)?;
    let plan = plan::build(&loaded.app, &loaded.needs(), &settings.plan)?;
    let client = args.prometheus.client(config)?;
    let outcome = plain_prometheus::apply(&plan, &config_dir, client.as_ref()).await?;
    print!(
        "{}",
        summary(&plan.workload, &config_dir.display().to_string(), &outcome)
    );
    Ok(Outcome::Success)
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
