//! `onramp codify APP --out DIR`: writes the plan's artifacts as files.

use crate::cli::config::Config;
use crate::cli::{CodifyArgs, OutputFormat};
use crate::commands::{Outcome, print, print_json};
use crate::error::{Error, Result};
use crate::pipeline::{Planned, Request};
use crate::sink::files as codify;
use crate::sink::grafana as grafana_sync;
use crate::sink::summary;

/// Builds the plan (with the dashboards as they are in Grafana, for
/// `--from-live`) and writes it.
pub async fn run(args: &CodifyArgs, config: &Config) -> Result<Outcome> {
    check_out_is_folder(&args.out)?;
    let client = if args.from_live {
        Some(live_grafana(&args.grafana, config)?)
    } else {
        None
    };
    let mut planned = Planned::new(Request {
        grafana: Some(&args.grafana),
        ..Request::new(&args.selection, config, "codify")
    })
    .await?;
    if let Some(client) = &client {
        planned.replan_with_dashboards(pull_live(client, &planned.plan).await?)?;
        planned.plan.notes.extend(v2_note(&planned.plan));
    }
    let plan = &planned.plan;
    let report = codify::write(plan, &args.out, args.force)?;
    match args.output {
        OutputFormat::Text => {
            let mut text = summary::codified(&plan.workload, &plan.namespace, &report);
            for note in &plan.notes {
                text.push_str(&format!("note: {note}\n"));
            }
            print(&text)?;
        }
        OutputFormat::Json => print_json("codify report", &report)?,
    }
    Ok(Outcome::Success)
}

/// The Grafana `--from-live` pulls from; without one, what to pass.
pub fn live_grafana(
    grafana: &crate::cli::GrafanaArgs,
    config: &Config,
) -> Result<crate::client::grafana::Client> {
    grafana.client(config)?.ok_or_else(|| {
        Error::Usage("--from-live needs Grafana: pass --grafana-url (or set GRAFANA_URL, or grafana.url in onramp.yaml)".to_string())
    })
}

/// `--from-live`: `plan`'s dashboards as they are in Grafana now, by uid,
/// to plan with in place of the rendered ones; prints how many were pulled
/// and which are not in Grafana yet.
pub async fn pull_live(
    client: &crate::client::grafana::Client,
    plan: &crate::plan::Plan,
) -> Result<std::collections::BTreeMap<String, String>> {
    let desired = grafana_sync::desired(plan)?;
    let (pulled, missing) = grafana_sync::pull(client, &desired).await?;
    print(&format!(
        "Pulled {} dashboard(s) from {}{}\n",
        pulled.len(),
        client.config().url(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(
                "; not in Grafana yet (rendered instead): {}",
                missing.join(", ")
            )
        }
    ))?;
    Ok(pulled.into_iter().collect())
}

/// The note for a plan holding v2 dashboards pulled from Grafana, if any.
pub fn v2_note(plan: &crate::plan::Plan) -> Option<String> {
    let v2 = grafana_sync::v2_dashboards(plan);
    (!v2.is_empty()).then(|| grafana_sync::v2_provisioning_note(&v2))
}

/// Refuses an `--out` that is (or lies under) a file before any work, so the
/// user reads "not a folder" rather than an I/O error from deep in the write.
pub fn check_out_is_folder(out: &std::path::Path) -> Result<()> {
    let existing = out.ancestors().find(|p| p.exists() || p.is_symlink());
    match existing {
        Some(path) if !path.as_os_str().is_empty() && !path.is_dir() => Err(Error::Usage(format!(
            "--out {}: {} is a file, not a folder; codify writes several files into a folder (created when missing), so name a folder",
            out.display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}
