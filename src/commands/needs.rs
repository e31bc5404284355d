//! `onramp needs [show ID]`.

use std::fmt::Write;

use crate::cli::config::Config;
use crate::cli::{NeedsAction, NeedsArgs};
use crate::commands::Outcome;
use crate::error::Result;
use crate::needs::{Catalog, CatalogEntry, Origin};

/// Lists the catalog or shows one need.
pub fn run(args: &NeedsArgs, config: &Config) -> Result<Outcome> {
    let mut dirs = args.needs_dirs.clone();
    dirs.extend(config.file.needs_dirs.iter().cloned());
    let catalog = Catalog::load(&dirs)?;
    match &args.action {
        None => crate::commands::print(&list(&catalog))?,
        Some(NeedsAction::Show { id }) => crate::commands::print(&show(catalog.get(id)?))?,
    }
    Ok(Outcome::Success)
}

/// The catalog as a table.
pub fn list(catalog: &Catalog) -> String {
    let mut out = String::new();
    let width = catalog
        .entries()
        .iter()
        .map(|e| e.need.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let _ = writeln!(out, "{:width$}  {:28}  ORIGIN", "ID", "TITLE");
    for entry in catalog.entries() {
        let origin = match (&entry.origin, entry.overrides_built_in) {
            (Origin::BuiltIn, _) => "built-in".to_string(),
            (Origin::File(p), true) => format!("{} (replaces the built-in)", p.display()),
            (Origin::File(p), false) => p.display().to_string(),
        };
        let _ = writeln!(
            out,
            "{:width$}  {:28}  {origin}",
            entry.need.id, entry.need.title
        );
    }
    let _ = writeln!(
        out,
        "\n`onramp needs show ID` tells the story and the signals of one need."
    );
    out
}

/// One need in full.
pub fn show(entry: &CatalogEntry) -> String {
    let need = &entry.need;
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}\n", need.id, need.title);
    let _ = writeln!(out, "Story: {}\n", need.story);
    let _ = writeln!(out, "Defined in {}", entry.file);
    if need.scope == crate::needs::NeedScope::Platform {
        let _ = writeln!(
            out,
            "Scope: platform (one dashboard over every app, in no app's plan; `onramp adoption --dashboard --out DIR` writes it)"
        );
    }
    let _ = writeln!(out, "\nSignals:");
    for (name, s) in &need.signals {
        let _ = writeln!(
            out,
            "  {name}: {}{}",
            s.description,
            if s.optional { " (optional)" } else { "" }
        );
        let _ = writeln!(out, "      conventions accepted, tried in this order:");
        let _ = writeln!(
            out,
            "      - {}",
            convention_line(&s.metric, s.kind, s.unit, &s.labels, &s.convention)
        );
        for alt in &s.alternatives {
            let labels = crate::needs::resolve::merged(&s.labels, &alt.labels);
            let kind = alt.kind.unwrap_or(s.kind);
            let unit = alt.unit.unwrap_or(s.unit);
            let line = convention_line(&alt.metric, kind, unit, &labels, &alt.convention);
            let _ = writeln!(out, "      - {line}");
        }
    }
    let _ = writeln!(out, "\nPanels:");
    for p in &need.panels {
        let _ = writeln!(out, "  {} ({})", p.title, p.unit);
    }
    if !need.alerts.is_empty() {
        let _ = writeln!(out, "\nAlerts:");
        for a in &need.alerts {
            let _ = writeln!(
                out,
                "  {} ({}, for {}): {}",
                a.name, a.severity, a.for_.value, a.summary
            );
        }
    }
    out
}

/// One convention: `counter http_requests_total {route=handler} in milliseconds — FastAPI`.
fn convention_line(
    metric: &str,
    kind: crate::needs::SignalType,
    unit: crate::needs::Unit,
    labels: &std::collections::BTreeMap<String, String>,
    convention: &str,
) -> String {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut line = format!("{} {metric}", kind.word());
    if !labels.is_empty() {
        line.push_str(&format!(" {{{}}}", labels.join(", ")));
    }
    if !unit.word().is_empty() {
        line.push_str(&format!(" in {}", unit.word()));
    }
    if !convention.is_empty() {
        line.push_str(&format!(" — {convention}"));
    }
    line
}
