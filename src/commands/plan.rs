//! `onramp plan APP`: what onboarding produces, and why. Changes nothing.

use std::fmt::Write;

use crate::cli::{AppSettings, OutputFormat, PlanArgs};
use crate::commands::{Outcome, load};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::plan::{self, ArtifactKind, Plan};

/// Builds the plan and prints it.
pub fn run(args: &PlanArgs, config: &Config) -> Result<Outcome> {
    let settings = AppSettings::new(&args.app, &args.needs, &args.render, config)?;
    let loaded = load(&settings)?;
    let plan = plan::build(&loaded.app, &loaded.needs(), &settings.plan)?;
    match args.output {
        OutputFormat::Text => print!("{}", summary(&plan)),
        OutputFormat::Json => println!("{}", to_json(&plan)?),
    }
    Ok(Outcome::Success)
}

/// The plan as JSON (typed, serialised — never templated).
pub fn to_json(plan: &Plan) -> Result<String> {
    serde_json::to_string_pretty(plan).map_err(|e| Error::Render {
        artifact: "plan".to_string(),
        message: e.to_string(),
    })
}

/// A one-line description of an artifact.
pub fn describe(kind: &ArtifactKind) -> String {
    match kind {
        ArtifactKind::Kubernetes {
            kind,
            namespace,
            names,
            ..
        } => format!("{kind} {namespace}/{}", names.join(", ")),
        ArtifactKind::Dashboard { uid, title, .. } => {
            format!("Grafana dashboard {title:?} (uid {uid})")
        }
        ArtifactKind::Runbook => "runbook".to_string(),
        ArtifactKind::Kustomization => "kustomization".to_string(),
        ArtifactKind::ScrapeConfig => "scrape config for a plain Prometheus".to_string(),
        ArtifactKind::RulesFile => "rules file for a plain Prometheus".to_string(),
        ArtifactKind::Targets => "file_sd targets for a plain Prometheus".to_string(),
    }
}

/// The plan for people.
pub fn summary(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan for {} in namespace {}",
        plan.workload, plan.namespace
    );
    let _ = writeln!(out, "\nMetrics endpoint: {}", plan.metrics);
    let _ = writeln!(out, "\nNeeds:");
    for need in &plan.needs {
        let alerts = if need.alerts.is_empty() {
            "no alerts".to_string()
        } else {
            format!("alerts {}", need.alerts.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} — {}: {} panels, {alerts}",
            need.id, need.title, need.panels
        );
        for s in &need.signals {
            let state = match (&s.unavailable, s.used) {
                (Some(why), _) => format!("  [not available: {why}]"),
                (None, false) => "  [unused]".to_string(),
                (None, true) => String::new(),
            };
            let _ = writeln!(
                out,
                "      {:<16} {} ({}{}){state}",
                s.name,
                s.metric,
                s.mapping,
                if s.optional { ", optional" } else { "" }
            );
        }
        for left in &need.left_out {
            let _ = writeln!(out, "      left out: {left}");
        }
    }
    for skipped in &plan.skipped_needs {
        let _ = writeln!(out, "  skipped {skipped}");
    }
    let _ = writeln!(out, "\nArtifacts ({}):", plan.artifacts.len());
    let width = plan
        .artifacts
        .iter()
        .map(|a| a.path.len())
        .max()
        .unwrap_or(0);
    for artifact in &plan.artifacts {
        let _ = writeln!(
            out,
            "  {:width$}  {}",
            artifact.path,
            describe(&artifact.kind)
        );
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in &plan.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let missing: Vec<String> = plan
        .needs
        .iter()
        .flat_map(|n| n.signals.iter().filter(|s| s.used).map(move |s| (n, s)))
        .filter(|(_, s)| s.source == "app")
        .map(|(n, s)| format!("{}/{}: {}", n.id, s.name, s.metric))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "\nThe app's own metrics these artifacts read (check them with `onramp verify` once scraped; `onramp needs show ID` says how to add a missing one):\n  {}",
            missing.join("\n  ")
        );
    }
    out
}
