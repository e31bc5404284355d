//! `onramp codify APP --out DIR`: writes the plan's artifacts as files.

use std::fmt::Write;

use crate::cli::config::Config;
use crate::cli::{CodifyArgs, OutputFormat};
use crate::commands::{Outcome, print, print_json};
use crate::error::{Error, Result};
use crate::pipeline::{Planned, Request};
use crate::sink::Change;
use crate::sink::files::{self as codify, Report};
use crate::sink::grafana as grafana_sync;

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
            let mut text = summary(&plan.workload, &plan.namespace, &report);
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

/// The report for people.
pub fn summary(workload: &str, namespace: &str, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Codified {workload} (namespace {namespace}) into {}:",
        report.out.display()
    );
    for (path, change) in &report.files {
        let word = match change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
        };
        let _ = writeln!(out, "  {word:<9}  {path}");
    }
    let count = |c: Change| report.files.iter().filter(|(_, x)| *x == c).count();
    let _ = writeln!(
        out,
        "{} created, {} updated, {} unchanged, {} removed.",
        count(Change::Created),
        count(Change::Updated),
        count(Change::Unchanged),
        count(Change::Removed)
    );
    out
}
