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
        Some(args.grafana.client(config)?.ok_or_else(|| {
            Error::Usage("--from-live needs Grafana: pass --grafana-url (or set GRAFANA_URL, or grafana.url in onramp.yaml)".to_string())
        })?)
    } else {
        None
    };
    let mut planned = Planned::new(Request {
        grafana: Some(&args.grafana),
        ..Request::new(&args.selection, config, "codify")
    })
    .await?;
    if let Some(client) = &client {
        let desired = grafana_sync::desired(&planned.plan)?;
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
        planned.replan_with_dashboards(pulled.into_iter().collect())?;
        let v2 = grafana_sync::v2_dashboards(&planned.plan);
        if !v2.is_empty() {
            planned
                .plan
                .notes
                .push(grafana_sync::v2_provisioning_note(&v2));
        }
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
