//! `onramp plan APP`: what onboarding produces, and why. Changes nothing.

use std::fmt::Write;

use crate::cli::config::Config;
use crate::cli::{OutputFormat, PlanArgs};
use crate::commands::{Outcome, print, print_json};
use crate::error::{Error, Result};
use crate::pipeline::{Planned, Request};
use crate::plan::{ArtifactKind, Plan};
use crate::sink::grafana::{self as grafana_sync, Action};

/// Builds the plan and prints it; with Grafana configured, also what
/// applying would do to each dashboard there.
pub async fn run(args: &PlanArgs, config: &Config) -> Result<Outcome> {
    let planned = Planned::new(Request {
        grafana: Some(&args.grafana),
        ..Request::new(&args.selection, config, "codify")
    })
    .await?;
    let consulted = consulted(&planned);
    let prometheus_via = planned.prometheus.as_ref().map(|p| p.reached_via());
    let objectives = match &planned.prometheus {
        Some(client) if has_objectives(&planned.plan) => Some(
            crate::check::objectives::live::check(client, &planned.plan)
                .await
                .map_err(Error::from)?,
        ),
        _ => None,
    };
    let plan = planned.plan;
    let grafana = match args.grafana.client(config)? {
        Some(client) => Some(grafana_actions(&client, &plan).await?),
        None => None,
    };
    match args.output {
        OutputFormat::Text => {
            let mut text = summary(&plan);
            text.push_str(&format!("\n{}\n", consulted.sentence));
            if let Some(objectives) = &objectives {
                text.push_str(&live_objectives_text(objectives));
            }
            if let Some(view) = &grafana {
                text.push_str(&grafana_summary(view));
            }
            print(&text)?;
        }
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&plan).map_err(|e| Error::Render {
                artifact: "plan".to_string(),
                message: format!("cannot serialise it as JSON: {e}"),
            })?;
            if let Some(view) = &grafana {
                value["grafana"] = serde_json::json!({
                    "url": view.url,
                    "server": view.server,
                    "dashboards": view.actions,
                });
            }
            value["prometheus"] = serde_json::json!({
                "url": consulted.url,
                "reached_via": prometheus_via,
                "consulted": consulted.url.is_some(),
                "metric_names_found": consulted.found,
            });
            if let Some(objectives) = &objectives {
                value["objectives"] = serde_json::json!(objectives);
            }
            print_json("plan", &value)?;
        }
    }
    Ok(Outcome::Success)
}

/// Whether Prometheus was asked for the names the app exposes, and what it said.
struct Consulted {
    /// Its URL, when it was asked.
    url: Option<String>,
    /// How many metric names the app's series have there.
    found: Option<usize>,
    /// The same, for people.
    sentence: String,
}

fn consulted(planned: &Planned) -> Consulted {
    let (Some(client), Some(found)) = (
        &planned.prometheus,
        &planned.settings.plan.available_metrics,
    ) else {
        return Consulted {
            url: None,
            found: None,
            sentence: "Prometheus was not consulted: signals use the needs' default names; pass --prometheus-url to map them to the names the app really exposes.".to_string(),
        };
    };
    let app = &planned.loaded.app;
    let url = client.base_url().to_string();
    let reached = client.reached_via();
    let what = if found.is_empty() {
        "it has no series of the app yet (not scraped?), so signals use the needs' default names"
            .to_string()
    } else {
        format!(
            "the app's series have {} metric names there; signals map to the ones that exist",
            found.len()
        )
    };
    Consulted {
        sentence: format!(
            "Prometheus {reached} was consulted for namespace=\"{}\", job=\"{}\": {what}.",
            app.namespace, app.name
        ),
        url: Some(url),
        found: Some(found.len()),
    }
}

/// One dashboard and what applying would do to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DashboardAction {
    /// Its title.
    pub title: String,
    /// Its uid.
    pub uid: String,
    /// What apply would do.
    #[serde(flatten)]
    pub action: Action,
}

/// What Grafana was asked: its URL, what it serves, and each dashboard's action.
pub struct GrafanaView {
    /// Its URL.
    pub url: String,
    /// Its version and the dashboard APIs it serves.
    pub server: crate::client::grafana::ServerInfo,
    /// What apply would do to each dashboard.
    pub actions: Vec<DashboardAction>,
}

async fn grafana_actions(
    client: &crate::client::grafana::Client,
    plan: &Plan,
) -> Result<GrafanaView> {
    let server = client.server().await?;
    let mut actions = Vec::new();
    for d in grafana_sync::desired(plan)? {
        let live = client.get_dashboard(&d.uid).await?;
        actions.push(DashboardAction {
            action: grafana_sync::decide(&d, live.as_ref()),
            title: d.title,
            uid: d.uid,
        });
    }
    Ok(GrafanaView {
        url: client.config().url().to_string(),
        server,
        actions,
    })
}

/// What apply would do in Grafana, for people.
pub fn grafana_summary(view: &GrafanaView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nGrafana {} ({}):", view.url, view.server);
    for a in &view.actions {
        let (word, detail) = match &a.action {
            Action::Create => ("create", String::new()),
            Action::Update { diff } => ("update", indent(diff)),
            Action::Unchanged { adopt: false } => ("unchanged", String::new()),
            Action::Unchanged { adopt: true } => (
                "adopt",
                "      the content is the same; onramp's marker is refreshed\n".to_string(),
            ),
            Action::Provisioned => (
                "provisioned",
                "      owned by file provisioning; apply leaves it alone\n".to_string(),
            ),
            Action::PulledEdit { version, diff } => (
                "CODIFIED",
                format!(
                    "      version {version} in Grafana is an edit brought into code with `codify --from-live`; apply it with --from DIR — plain apply refuses to replace it:\n{}",
                    indent(diff)
                ),
            ),
            Action::HumanEdit {
                by,
                at,
                version,
                schema,
                diff,
            } => (
                "EDITED",
                format!(
                    "      changed in Grafana by {by} at {at} (version {version}{}); apply refuses to overwrite it — bring it into code with `codify --from-live`, or apply --force\n      what the person changed, against what onramp would write:\n{}",
                    grafana_sync::v2_words(*schema),
                    indent(diff)
                ),
            ),
        };
        let _ = writeln!(out, "  {word:<11}  {} ({})", a.title, a.uid);
        out.push_str(&detail);
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}\n")).collect()
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
        ArtifactKind::RulesTests => "promtool unit tests of the objectives' rules".to_string(),
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
            signal_lines(&mut out, s);
        }
        for left in &need.left_out {
            let _ = writeln!(out, "      left out: {left}");
        }
        for objective in &need.objectives {
            objective_line(&mut out, objective);
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

/// True when an objective of the plan is on.
fn has_objectives(plan: &Plan) -> bool {
    plan.needs
        .iter()
        .any(|n| n.objectives.iter().any(|o| o.resolved().is_some()))
}

/// What Prometheus said of each objective, for people.
fn live_objectives_text(objectives: &[crate::check::objectives::live::LiveObjective]) -> String {
    let mut out = String::from("\nObjectives against Prometheus, before anything pages:\n");
    for o in objectives {
        let _ = writeln!(out, "  {}/{}: {}", o.need, o.id, o.summary());
        if let Some(problem) = &o.problem {
            let _ = writeln!(out, "      problem: {problem}");
        }
        let _ = writeln!(out, "      backtest: {}", o.backtest_line());
    }
    out
}

/// One objective of the plan for people: on (what it promises and alerts
/// on), off (how to turn it on) or refused (why).
fn objective_line(out: &mut String, planned: &crate::plan::PlannedObjective) {
    use crate::needs::objective::{Sli, percent};
    use crate::plan::ObjectiveStatus;
    let what = match &planned.status {
        ObjectiveStatus::On {
            objective, alert, ..
        } => {
            let latency = match &objective.sli {
                Sli::Latency { why, .. } => format!("; bucket {why}"),
                Sli::Events { .. } => String::new(),
            };
            format!(
                "on: {} good over {}; alert {alert} (page, ticket); no alert under {} events in the long window{latency}",
                percent(objective.objective),
                objective.period,
                objective.min_events
            )
        }
        ObjectiveStatus::Off { turn_on } => {
            format!("off: turn it on with this line in onramp.yaml: `{turn_on}`")
        }
        ObjectiveStatus::Refused { reason } => format!("REFUSED: {reason}"),
    };
    let _ = writeln!(out, "      objective {:<16} {what}", planned.id);
}

/// One signal of the plan for people: its metric and how it was mapped, and
/// with Prometheus consulted why that convention, or which were tried.
fn signal_lines(out: &mut String, s: &crate::plan::SignalReport) {
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
    if !s.why.is_empty() {
        let _ = writeln!(out, "      {:<16} chosen: {}", "", s.why);
    }
    if !s.tried.is_empty() {
        let _ = writeln!(
            out,
            "      {:<16} no convention matched the app's series; tried:",
            ""
        );
        for t in &s.tried {
            let _ = writeln!(out, "      {:<16}   - {t}", "");
        }
    }
}
