//! What the sinks did, for people: the one place their reports become text,
//! every change in the one vocabulary of [`Change`] — files and dashboards
//! in onramp's words, cluster objects in `kubectl apply`'s (`configured`,
//! `pruned`). Commands print these; sinks only report.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Change;
use super::files::WriteReport;
use super::grafana::PushReport;
use super::kubernetes::ApplyReport;
use super::prometheus_files::Outcome;

/// What the files sink wrote (`codify`, `onboard`), for people.
pub fn codified(workload: &str, namespace: &str, report: &WriteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Codified {workload} (namespace {namespace}) into {}:",
        report.out.display()
    );
    for (path, change) in &report.files {
        let word = change.word();
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

/// What the plain-Prometheus sink did, for people.
pub fn plain_prometheus(workload: &str, dir: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Applied {workload} to the plain Prometheus config folder {dir}:"
    );
    for f in &outcome.files {
        let word = f.change.word();
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

/// What the cluster sink did in one namespace, for people, in `kubectl
/// apply`'s words.
pub fn cluster(report: &ApplyReport, context: &str) -> String {
    let mut out = String::new();
    let dry = if report.dry_run {
        ", server dry run: nothing stored"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Kubernetes namespace {} (context {context}{dry}):",
        report.namespace
    );
    if report.objects.is_empty() {
        let _ = writeln!(out, "  nothing to apply");
    }
    for object in &report.objects {
        let _ = writeln!(
            out,
            "  {:<10}  {} {}",
            object.change.kubectl_word(),
            object.kind,
            object.name
        );
        for (manager, fields) in grouped(&object.conflicts) {
            let _ = writeln!(
                out,
                "              fields owned by field manager \"{manager}\": {}",
                fields.join(", ")
            );
        }
    }
    if report.conflicted() {
        let _ = writeln!(
            out,
            "Objects in conflict were not changed, and nothing was pruned. To take those fields over knowingly (the other manager's values are replaced by onramp's), run again with --force-conflicts."
        );
    }
    if report.forced {
        let _ = writeln!(
            out,
            "--force-conflicts: fields other field managers owned with other values now belong to onramp."
        );
    }
    if !report.dashboard_config_maps {
        let _ = writeln!(
            out,
            "The dashboards go to Grafana's API, not through ConfigMaps for its sidecar."
        );
    }
    out
}

/// What the Grafana sink did, for people: one line per dashboard.
pub fn grafana(report: &PushReport) -> String {
    let mut out = String::new();
    let width = report
        .dashboards
        .iter()
        .map(|d| d.title.chars().count())
        .max()
        .unwrap_or(0);
    for d in &report.dashboards {
        let _ = write!(
            out,
            "  {:<11}  {:<width$}  {}",
            d.result.word(),
            d.title,
            d.url
        );
        if let Some(v) = d.version {
            let _ = write!(out, " (version {v})");
        }
        let _ = writeln!(out);
        if let Some(path) = &d.backup {
            let _ = writeln!(
                out,
                "               the live copy was saved first to {}",
                path.display()
            );
        }
        if let Some(detail) = &d.detail {
            let _ = writeln!(out, "               {detail}");
        }
    }
    out
}

/// Conflicts grouped by manager, fields in the server's order.
fn grouped(conflicts: &[(String, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (manager, field) in conflicts {
        by.entry(manager).or_default().push(field);
    }
    by
}
