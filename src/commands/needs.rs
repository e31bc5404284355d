//! `onramp needs [show ID | check FILE…]`.

use std::fmt::Write;

use crate::cli::config::Config;
use crate::cli::{NeedsAction, NeedsArgs, NeedsCheckArgs, OutputFormat};
use crate::commands::Outcome;
use crate::error::{Error, Result};
use crate::needs::check::{BuiltInIds, Problem};
use crate::needs::{Catalog, CatalogEntry, Origin};

/// Lists the catalog, shows one need, or checks need files.
pub fn run(args: &NeedsArgs, config: &Config) -> Result<Outcome> {
    let id = match &args.action {
        Some(NeedsAction::Check(check_args)) => return check(check_args),
        Some(NeedsAction::New(new)) => {
            return crate::commands::needs_new::run_blocking(new, &args.needs_dirs, config);
        }
        Some(NeedsAction::Show { id }) => Some(id),
        None => None,
    };
    let mut dirs = args.needs_dirs.clone();
    dirs.extend(config.file.needs_dirs.iter().cloned());
    let catalog = Catalog::load(&dirs)?;
    match id {
        None => crate::commands::print(&list(&catalog))?,
        Some(id) => crate::commands::print(&show(catalog.get(id)?))?,
    }
    Ok(Outcome::Success)
}

/// `needs check FILE…`: every problem, then a summary; exit 2 when any.
fn check(args: &NeedsCheckArgs) -> Result<Outcome> {
    let mut files = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        files.push((path.display().to_string(), text));
    }
    let built_in = if args.replace_built_in {
        BuiltInIds::Replace
    } else {
        BuiltInIds::Refuse
    };
    let problems = crate::needs::check::check_texts(&files, built_in);
    let text = match args.output {
        OutputFormat::Text => check_text(files.len(), &problems),
        OutputFormat::Json => check_json(files.len(), &problems)?,
    };
    crate::commands::print(&text)?;
    Ok(if problems.is_empty() {
        Outcome::Success
    } else {
        Outcome::BadInput
    })
}

/// The problems, one a line, and how many files were checked.
fn check_text(files: usize, problems: &[Problem]) -> String {
    let mut out = String::new();
    for p in problems {
        let _ = writeln!(out, "{p}");
    }
    let files = if files == 1 {
        "1 need file".to_string()
    } else {
        format!("{files} need files")
    };
    match problems.len() {
        0 => {
            let _ = writeln!(out, "{files} checked: no problems.");
        }
        1 => {
            let _ = writeln!(out, "{files} checked: 1 problem.");
        }
        n => {
            let _ = writeln!(out, "{files} checked: {n} problems.");
        }
    }
    out
}

/// `{"files": N, "problems": [{"file", "line", "column", "message"}]}`.
fn check_json(files: usize, problems: &[Problem]) -> Result<String> {
    let problems: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "file": p.location.file,
                "line": p.location.line,
                "column": p.location.column,
                "message": p.message,
            })
        })
        .collect();
    let report = serde_json::json!({ "files": files, "problems": problems });
    let mut text = serde_json::to_string_pretty(&report).map_err(|e| Error::Render {
        artifact: "needs check report".into(),
        message: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
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
