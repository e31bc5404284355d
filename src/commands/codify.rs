//! `onramp codify APP --out DIR`: writes the plan's artifacts as files.

use std::fmt::Write;

use crate::cli::{AppSettings, CodifyArgs, OutputFormat};
use crate::codify::{self, Change, Report};
use crate::commands::{Outcome, load};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::plan;

/// Builds the plan and writes it.
pub fn run(args: &CodifyArgs, config: &Config) -> Result<Outcome> {
    let settings = AppSettings::new(&args.app, &args.needs, &args.render, config)?;
    let loaded = load(&settings)?;
    let plan = plan::build(&loaded.app, &loaded.needs(), &settings.plan)?;
    let report = codify::write(&plan, &args.out)?;
    match args.output {
        OutputFormat::Text => {
            print!("{}", summary(&plan.workload, &plan.namespace, &report));
            for note in &plan.notes {
                println!("note: {note}");
            }
        }
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Render {
                artifact: "codify report".to_string(),
                message: e.to_string(),
            })?
        ),
    }
    Ok(Outcome::Success)
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
