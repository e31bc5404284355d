//! The plan: every artifact onboarding an app produces, in order, each with a
//! stable identity and its rendered content. Every sink consumes the same plan,
//! so what `codify` writes is byte for byte what `apply` sends.
//!
//! Building a plan decides *which* artifacts an app gets (ServiceMonitor or
//! PodMonitor or none, which needs, which panels and alerts survive a missing
//! metrics endpoint); [`crate::render`] decides how each one looks; [`stamp`]
//! marks every artifact as onramp's, and reads those marks back for the sinks.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::{App, ScrapeVia};
use crate::util::shell::shell_word;
// Sinks address an app through the plan.
pub use crate::app::AppId;
// The labels that make an object onramp's, and the app's: what the cluster
// sink prunes by and what `cluster::fleet` selects onramp's objects by.
use crate::error::{Error, Result};
use crate::needs::resolve::{Mapping, ResolvedNeed, Scope, SignalOverrides};
use crate::needs::{Need, PanelDef, SignalSource, SignalType};
use crate::render::dashboard::{DashboardFile, DashboardUid};
use crate::render::monitor::{self, MonitorKind};
use crate::render::rules::{Alert, RuleGroups};
use crate::render::{self, Context, dashboard, rules, runbook};
pub use crate::render::{APP_LABEL, MANAGED_BY, NEED_LABEL};

use crate::needs::objective::Tier;

pub mod platform;
pub mod stamp;

use stamp::{Format, Stamp};

/// What an artifact is, and how a sink addresses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A Kubernetes object (server-side applied by the cluster sink).
    Kubernetes {
        /// `monitoring.coreos.com/v1`, `v1`…
        api_version: String,
        /// `ServiceMonitor`, `PodMonitor`, `PrometheusRule`, `ConfigMap`.
        kind: String,
        /// Its namespace.
        namespace: String,
        /// Its name (several, for a multi-document file).
        names: Vec<String>,
    },
    /// A Grafana dashboard (pushed by uid).
    Dashboard {
        /// The dashboard uid.
        uid: DashboardUid,
        /// Its title.
        title: String,
        /// The need it answers.
        need: String,
    },
    /// The runbook.
    Runbook,
    /// The kustomization.
    Kustomization,
    /// A plain Prometheus scrape config fragment.
    ScrapeConfig,
    /// A plain Prometheus rules file.
    RulesFile,
    /// A plain Prometheus file_sd target file (the app at a fixed address).
    Targets,
    /// `promtool test rules` cases of the objectives' rules (never loaded
    /// as rules: a team runs them in its CI).
    RulesTests,
}

/// One generated artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    /// The path it is written to, relative to the codify folder (always `/`-separated, never `..`).
    pub path: String,
    /// What it is.
    #[serde(flatten)]
    pub kind: ArtifactKind,
    /// The rendered text.
    #[serde(skip)]
    pub content: String,
}

/// How a signal was resolved, for the plan summary.
#[derive(Debug, Clone, Serialize)]
pub struct SignalReport {
    /// The signal name.
    pub name: String,
    /// The metric name used.
    pub metric: String,
    /// `default`, `alternative (CONVENTION)` or `--signal`.
    pub mapping: String,
    /// Where the series come from: `app`, `pod`, `container`, `workload`.
    pub source: String,
    /// True when the need works without it.
    pub optional: bool,
    /// True when it is used by a panel or alert that was kept.
    pub used: bool,
    /// Why it cannot have series for this app, if so.
    pub unavailable: Option<String>,
    /// What to add to the app when the signal is missing.
    pub instrumentation: String,
    /// The PromQL selector of its series for this app (histograms: the `_count` series).
    pub selector: String,
    /// True when its series come from Kubernetes (kube-state-metrics, cAdvisor).
    pub kubernetes: bool,
    /// The metric type of the chosen convention.
    #[serde(rename = "type")]
    pub kind: SignalType,
    /// The unit of the chosen convention (`milliseconds`…), empty when the panel's.
    pub unit: String,
    /// Logical label → the real label name it maps to.
    pub labels: BTreeMap<String, String>,
    /// Why this convention was chosen (when Prometheus was consulted).
    pub why: String,
    /// Each convention tried and why it did not fit, when none did.
    pub tried: Vec<String>,
    /// Every convention the signal accepts, in order.
    pub conventions: Vec<String>,
}

/// One query of a dashboard panel, and the signals it reads.
#[derive(Debug, Clone, Serialize)]
pub struct PanelQuery {
    /// The panel title.
    pub panel: String,
    /// The query's refId.
    pub ref_id: String,
    /// The PromQL, with Grafana's variables still in it.
    pub expr: String,
    /// The signals it reads.
    pub signals: Vec<String>,
}

/// A need as the plan uses it.
#[derive(Debug, Clone, Serialize)]
pub struct NeedReport {
    /// The need id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its story.
    pub story: String,
    /// Panels on its dashboard.
    pub panels: usize,
    /// Alerts it adds.
    pub alerts: Vec<String>,
    /// The same alerts as their rules carry them: what the checks that read
    /// an alert back (verify, troubleshoot) take its severity and runbook
    /// section from.
    #[serde(skip)]
    pub alert_rules: Vec<PlannedAlert>,
    /// Its signals.
    pub signals: Vec<SignalReport>,
    /// Panels and alerts left out, and why.
    pub left_out: Vec<String>,
    /// The uid of its dashboard.
    pub dashboard_uid: DashboardUid,
    /// Every query of its dashboard.
    pub queries: Vec<PanelQuery>,
    /// Its service level objectives: on (with their rule group), off, or
    /// refused with the reason.
    pub objectives: Vec<PlannedObjective>,
    /// The name of its rule group, when it has alerts.
    pub rule_group: Option<String>,
    /// The names of its dashboard's own variables (`flag`).
    pub variables: Vec<String>,
}

/// One objective of a need, as the plan has it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedObjective {
    /// Its id (`availability`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// On, off or refused.
    #[serde(flatten)]
    pub status: ObjectiveStatus,
}

/// Whether an objective is generated.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ObjectiveStatus {
    /// Generated: its own rule group, with two alerts of one name.
    On {
        /// The objective resolved for the app.
        objective: Box<crate::needs::objective::ResolvedObjective>,
        /// Its rule group.
        rule_group: String,
        /// The name of its page and ticket alerts.
        alert: String,
        /// Its runbook section (`runbook.md#checkoutavailabilityerrorbudgetburn`).
        runbook_section: String,
        /// How many recording rules its group has (each writes one series
        /// per series of the SLI).
        recording_rules: usize,
    },
    /// Not turned on: how to turn it on.
    Off {
        /// The onramp.yaml line that turns it on (`objectives: {availability: {}}`).
        turn_on: String,
    },
    /// Turned on but not generated: why.
    Refused {
        /// Why.
        reason: String,
    },
}

impl PlannedObjective {
    /// Its page and its ticket, when it is on: one alert name, told apart by
    /// their severity (and `tier`).
    pub fn alerts(&self) -> Vec<PlannedAlert> {
        match &self.status {
            ObjectiveStatus::On {
                alert,
                runbook_section,
                ..
            } => [Tier::Page, Tier::Ticket]
                .into_iter()
                .map(|tier| PlannedAlert {
                    name: alert.clone(),
                    severity: tier.severity(),
                    runbook_section: runbook_section.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Its rule group, when it is on.
    pub fn rule_group(&self) -> Option<&str> {
        match &self.status {
            ObjectiveStatus::On { rule_group, .. } => Some(rule_group),
            _ => None,
        }
    }

    /// The resolved objective, when it is on.
    pub fn resolved(&self) -> Option<&crate::needs::objective::ResolvedObjective> {
        match &self.status {
            ObjectiveStatus::On { objective, .. } => Some(objective),
            _ => None,
        }
    }
}

/// One alert of the plan, by the name its rule carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAlert {
    /// The full alert name (`CheckoutHighErrorRate`).
    pub name: String,
    /// Its `severity` label.
    pub severity: crate::needs::Severity,
    /// Its runbook section (`runbook.md#checkouthigherrorrate`).
    pub runbook_section: String,
}

/// The whole plan for one app.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The app (`namespace/name` in JSON).
    pub app: AppId,
    /// `deployment/checkout` (for readers of the JSON; the same as `app.workload()`).
    pub workload: String,
    /// The namespace (for readers of the JSON; the same as `app.namespace()`).
    pub namespace: String,
    /// How the metrics endpoint was found, or why not.
    pub metrics: String,
    /// The needs used.
    pub needs: Vec<NeedReport>,
    /// Needs skipped because the app cannot satisfy them, with the reason.
    pub skipped_needs: Vec<String>,
    /// The artifacts, in apply order.
    pub artifacts: Vec<Artifact>,
    /// Things the user should know (missing labels, missing instrumentation…).
    pub notes: Vec<String>,
    /// The Grafana folder of the app's dashboards, for the sidecar ConfigMaps
    /// and for `apply`.
    pub grafana_folder: GrafanaFolder,
    /// The labels every Kubernetes object of the app carries
    /// (`app.kubernetes.io/managed-by: onramp` and the app's name): what the
    /// cluster sink prunes by, and nothing else.
    #[serde(skip)]
    pub owner_labels: BTreeMap<String, String>,
}

/// The Grafana folder an app's dashboards go to, decided once: the sidecar
/// ConfigMaps name it by title, `apply` creates it by uid and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrafanaFolder {
    /// Its uid: `onramp_HASH`, from the title, so that apps a team puts in the
    /// same folder share it. The `_` keeps it apart from every dashboard uid
    /// (`APP-NEED-HASH`: app names and need ids have no `_`), so no need id
    /// can collide with it.
    pub uid: String,
    /// Its title: `grafana.folder` from onramp.yaml, else `APP (NAMESPACE)`.
    pub title: String,
}

impl GrafanaFolder {
    /// The folder of `app`, titled `title` when the team chose one.
    pub fn of(app: &AppId, title: Option<&str>) -> GrafanaFolder {
        use sha2::{Digest, Sha256};
        let title = title
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} ({})", app.name(), app.namespace()));
        let digest = Sha256::digest(format!("folder\0{title}"));
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        GrafanaFolder {
            uid: format!("onramp_{hash}"),
            title,
        }
    }
}

impl Plan {
    /// The dashboards of the plan.
    pub fn dashboards(&self) -> impl Iterator<Item = (&Artifact, &str)> {
        self.artifacts.iter().filter_map(|a| match &a.kind {
            ArtifactKind::Dashboard { uid, .. } => Some((a, uid.as_str())),
            _ => None,
        })
    }

    /// The artifact written at `path`, if any.
    pub fn artifact(&self, path: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.path == path)
    }
}

/// Everything a plan is built from besides the app and the needs.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The user's signal mappings.
    pub overrides: SignalOverrides,
    /// Where the runbook will be published; alerts link to `URL#alertname`.
    pub runbook_base_url: Option<String>,
    /// Labels the Prometheus custom resource selects on (`release: …`).
    pub selector_labels: BTreeMap<String, String>,
    /// Grafana's base URL, for absolute dashboard links in the runbook.
    pub grafana_url: Option<String>,
    /// The Grafana folder the dashboards go to.
    pub grafana_folder: Option<String>,
    /// The name of the Prometheus datasource the dashboards default to.
    pub grafana_datasource: Option<String>,
    /// The label (key, value) Grafana's dashboard sidecar loads ConfigMaps
    /// by: onramp.yaml's `grafana.sidecar_label`, else the cluster's sidecar,
    /// else `grafana_dashboard: "1"`.
    pub sidecar_label: Option<(String, String)>,
    /// The annotation the cluster's sidecar reads a dashboard's folder from
    /// (`FOLDER_ANNOTATION`); `grafana_folder` when unset.
    pub sidecar_folder_annotation: Option<String>,
    /// True when the user named the needs (a need that cannot work is then an error).
    pub needs_explicit: bool,
    /// `HOST:PORT` where a plain Prometheus scrapes the app directly (file_sd).
    pub static_target: Option<String>,
    /// The app's series in a live Prometheus (names, labels, buckets): each
    /// signal maps to the accepted convention they fit.
    pub available_metrics: Option<crate::needs::resolve::Exposed>,
    /// Dashboard JSON to use instead of the rendered one, by uid (pulled from
    /// Grafana by `codify --from-live`, or read from files by `apply --from`).
    pub dashboard_overrides: BTreeMap<String, String>,
    /// The subcommand that writes the artifacts (`codify`, `apply`): their
    /// stamps name the command that really wrote them. `codify` when unset.
    pub subcommand: Option<&'static str>,
    /// The `-f` arguments the app was read from, so commands printed into
    /// files name the same inputs and run as shown.
    pub manifests: Vec<String>,
    /// onramp.yaml's `objectives:`: which objectives are on for the app,
    /// and what they change.
    pub objectives: BTreeMap<String, crate::needs::objective::ObjectiveSettings>,
    /// True when the app's cluster has no Prometheus Operator: nothing would
    /// read a ServiceMonitor, PodMonitor or PrometheusRule, so the plan has
    /// none and points at the plain-Prometheus files instead.
    pub without_operator: bool,
}

/// The arguments that select the app for any onramp command, with the
/// inputs it was read from: `deployment/checkout -n shop -f k8s/checkout.yaml`.
pub fn app_args(app: &App, manifests: &[String]) -> String {
    let mut words = vec![app.workload(), "-n".to_string(), shell_word(&app.namespace)];
    for manifest in manifests {
        words.push("-f".to_string());
        words.push(shell_word(manifest));
    }
    words.join(" ")
}

/// Names the checks quote without rendering anything: where an app's
/// dashboards and runbook sections are, and the runbook's Markdown escaping
/// for reports that quote the same values.
pub mod names {
    pub use crate::render::runbook::escape_markdown;

    /// The Grafana uid of an app's dashboard for `need`.
    pub fn dashboard_uid(app: &crate::app::AppId, need: &str) -> String {
        crate::render::dashboard::uid(app, need).to_string()
    }

    /// `runbook.md#checkoutcrashlooping`: the runbook section of one of an
    /// app's alerts (`alert` as the need names it, without the app's prefix).
    pub fn runbook_section(app: &str, alert: &str) -> String {
        let name = format!("{}{alert}", crate::render::camel_case(app));
        format!("{}#{}", super::paths::RUNBOOK, name.to_ascii_lowercase())
    }
}

/// Paths of the artifacts inside the codify folder.
pub mod paths {
    /// The ServiceMonitor or PodMonitor.
    pub const MONITOR_SERVICE: &str = "servicemonitor.yaml";
    /// The PodMonitor.
    pub const MONITOR_POD: &str = "podmonitor.yaml";
    /// The PrometheusRule.
    pub const PROMETHEUS_RULE: &str = "prometheusrule.yaml";
    /// The sidecar ConfigMaps.
    pub const DASHBOARD_CONFIGMAPS: &str = "grafana-dashboards.yaml";
    /// The runbook.
    pub const RUNBOOK: &str = "runbook.md";
    /// The kustomization.
    pub const KUSTOMIZATION: &str = "kustomization.yaml";
    /// The plain Prometheus scrape config.
    pub const SCRAPE_CONFIG: &str = "prometheus/scrape-config.yaml";
    /// The plain Prometheus rules file.
    pub const RULES_FILE: &str = "prometheus/rules.yaml";
    /// The plain Prometheus file_sd target file.
    pub const TARGETS_FILE: &str = "prometheus/targets.yaml";
    /// The promtool unit tests of the objectives' rules, beside the rules file.
    pub const SLO_TESTS: &str = "prometheus/slo-tests.yaml";

    /// The folder of the dashboard JSON files.
    pub const DASHBOARDS_DIR: &str = "dashboards";
    /// Every path a plan can hold besides the dashboards.
    pub const FIXED: &[&str] = &[
        MONITOR_SERVICE,
        MONITOR_POD,
        PROMETHEUS_RULE,
        DASHBOARD_CONFIGMAPS,
        RUNBOOK,
        KUSTOMIZATION,
        SCRAPE_CONFIG,
        RULES_FILE,
        TARGETS_FILE,
        SLO_TESTS,
    ];

    /// The dashboard JSON of a need.
    pub fn dashboard(need: &str) -> String {
        format!("{DASHBOARDS_DIR}/{need}.json")
    }
}

/// A dashboard of the plan, stamped.
struct PlannedDashboard {
    uid: DashboardUid,
    title: String,
    need: String,
    json: String,
}

/// What planning the needs one by one collects.
#[derive(Default)]
struct NeedsPlanned {
    reports: Vec<NeedReport>,
    alerts: Vec<Alert>,
    objective_groups: Vec<rules::RuleGroup>,
    dashboards: Vec<PlannedDashboard>,
    runbook: Vec<runbook::RunbookDashboard>,
}

/// Builds the plan for `app` with `needs`.
pub fn build(app: &App, needs: &[&Need], options: &PlanOptions) -> Result<Plan> {
    let id = app.id()?;
    let (stamp, dashboard_stamp) = stamps(&id, app, options);
    let ctx = context(app, id.clone(), options);
    let mut notes = Vec::new();
    let (usable, skipped_needs) = usable_needs(app, needs, options)?;
    let scope = Scope::of(app);
    let available = options.available_metrics.as_ref();
    let resolved: Vec<ResolvedNeed<'_>> = usable
        .iter()
        .map(|n| ResolvedNeed::new(n, scope.clone(), &options.overrides, available))
        .collect();

    let mut artifacts = Vec::new();
    if let Some(endpoint) = &app.metrics {
        if !options.without_operator {
            artifacts.push(monitor_artifact(&ctx, &stamp, endpoint, &mut notes)?);
        }
    } else {
        notes.push(format!("No scrape object: {}", app.metrics_reason));
    }
    check_objective_settings(&resolved, options)?;
    let planned = plan_needs(&ctx, &dashboard_stamp, &resolved, options)?;
    let mut groups = rules::groups(&ctx, &planned.alerts);
    groups
        .groups
        .extend(planned.objective_groups.iter().cloned());
    notes.extend(objective_notes(&planned.reports));
    // Without the Operator the alerts go to the plain rules file only.
    let no_rules = RuleGroups { groups: Vec::new() };
    let rule_groups = if options.without_operator {
        &no_rules
    } else {
        &groups
    };
    artifacts.extend(kubernetes_artifacts(
        &ctx,
        &stamp,
        rule_groups,
        &planned.dashboards,
    )?);
    let kube_resources: Vec<String> = artifacts
        .iter()
        .filter(|a| matches!(a.kind, ArtifactKind::Kubernetes { .. }))
        .map(|a| a.path.clone())
        .collect();
    // The dashboards go between the PrometheusRule and their ConfigMaps.
    let at = artifacts
        .iter()
        .position(|a| a.path == paths::DASHBOARD_CONFIGMAPS)
        .unwrap_or(artifacts.len());
    artifacts.splice(at..at, planned.dashboards.iter().map(dashboard_artifact));
    artifacts.push(runbook_artifact(&ctx, &stamp, &artifacts, &planned)?);
    artifacts.push(text_artifact(
        &stamp,
        paths::KUSTOMIZATION,
        ArtifactKind::Kustomization,
        render::kustomize::render(&kube_resources)?,
    ));
    artifacts.extend(prometheus_artifacts(&ctx, &stamp, &groups, options)?);
    let (slo_tests, slo_test_notes) = slo_tests_artifact(&ctx, &stamp, &planned.reports)?;
    artifacts.extend(slo_tests);
    notes.extend(slo_test_notes);
    notes.extend(closing_notes(&ctx, options, !planned.dashboards.is_empty()));
    Ok(Plan {
        workload: id.workload(),
        namespace: id.namespace().to_string(),
        grafana_folder: GrafanaFolder::of(&id, options.grafana_folder.as_deref()),
        app: id,
        metrics: app.metrics_reason.clone(),
        needs: planned.reports,
        skipped_needs,
        artifacts,
        notes,
        owner_labels: ctx.object_labels(),
    })
}

/// The stamps of the artifacts: the files' (naming the command that really
/// writes them) and the dashboards' (always naming codify).
fn stamps(id: &AppId, app: &App, options: &PlanOptions) -> (Stamp, Stamp) {
    let onramp_args = app_args(app, &options.manifests);
    // `--out DIR` stays a placeholder: whatever folder a codify run named,
    // the bytes are the same.
    let codify = format!("onramp codify {onramp_args} --out DIR");
    // Dashboards always name codify: pulled back from Grafana, they must be
    // byte for byte what codify writes. Files apply drops into a plain
    // Prometheus' folder name apply, which really wrote them.
    let dashboard_stamp = Stamp {
        generator: stamp::generator(),
        app: id.clone(),
        command: codify.clone(),
    };
    let stamp = Stamp {
        command: match options.subcommand.unwrap_or("codify") {
            "codify" => codify,
            other => format!(
                "onramp {other} {onramp_args} --prometheus-config-dir DIR --prometheus-url URL"
            ),
        },
        ..dashboard_stamp.clone()
    };
    (stamp, dashboard_stamp)
}

fn context<'a>(app: &'a App, id: AppId, options: &PlanOptions) -> Context<'a> {
    Context {
        app,
        grafana_folder: GrafanaFolder::of(&id, options.grafana_folder.as_deref()).title,
        id,
        onramp_args: app_args(app, &options.manifests),
        runbook_url: options
            .runbook_base_url
            .clone()
            .unwrap_or_else(|| paths::RUNBOOK.to_string()),
        selector_labels: options.selector_labels.clone(),
        grafana_datasource: options.grafana_datasource.clone(),
        sidecar: sidecar_labels(options),
    }
}

/// The sidecar's label and folder annotation: what was set or detected,
/// kube-prometheus-stack's defaults for the rest.
fn sidecar_labels(options: &PlanOptions) -> crate::render::dashboard::SidecarLabels {
    let mut sidecar = crate::render::dashboard::SidecarLabels::default();
    if let Some((label, value)) = &options.sidecar_label {
        sidecar.label = label.clone();
        sidecar.value = value.clone();
    }
    if let Some(annotation) = &options.sidecar_folder_annotation {
        sidecar.folder_annotation = annotation.clone();
    }
    sidecar
}

/// A YAML or Markdown artifact, stamped.
fn text_artifact(stamp: &Stamp, path: &str, kind: ArtifactKind, body: String) -> Artifact {
    Artifact {
        path: path.to_string(),
        kind,
        content: stamp.text(Format::of(path), &body),
    }
}

/// Whether `need` can work for an app with (or without) a metrics
/// endpoint: the rule by which a plan takes a need of the catalog by
/// default (a need of the app's own metrics needs its endpoint).
pub fn need_applies(need: &Need, has_metrics_endpoint: bool) -> bool {
    !need.requires_app_metrics || has_metrics_endpoint
}

/// The needs that can work for this app, and why the others were skipped.
fn usable_needs<'n>(
    app: &App,
    needs: &[&'n Need],
    options: &PlanOptions,
) -> Result<(Vec<&'n Need>, Vec<String>)> {
    let mut usable = Vec::new();
    let mut skipped = Vec::new();
    for need in needs {
        if !need_applies(need, app.metrics.is_some()) {
            if options.needs_explicit {
                return Err(Error::NeedUnsatisfiable {
                    need: need.id.clone(),
                    app: app.workload(),
                    reason: app.metrics_reason.clone(),
                });
            }
            skipped.push(format!(
                "{}: needs the app's own metrics, and {} has no metrics endpoint",
                need.id,
                app.workload()
            ));
            continue;
        }
        usable.push(*need);
    }
    Ok((usable, skipped))
}

fn monitor_artifact(
    ctx: &Context<'_>,
    stamp: &Stamp,
    endpoint: &crate::app::MetricsEndpoint,
    notes: &mut Vec<String>,
) -> Result<Artifact> {
    let monitor = render::monitor::render(ctx, endpoint)?;
    let path = match monitor.kind {
        MonitorKind::ServiceMonitor => paths::MONITOR_SERVICE,
        MonitorKind::PodMonitor => paths::MONITOR_POD,
    };
    if let (ScrapeVia::Service { service, .. }, MonitorKind::PodMonitor) =
        (&endpoint.via, monitor.kind)
    {
        notes.push(format!(
            "Service {service} has no labels for a ServiceMonitor to select, so a PodMonitor scrapes the pods instead"
        ));
    }
    Ok(text_artifact(
        stamp,
        path,
        ArtifactKind::Kubernetes {
            api_version: monitor::API_VERSION.to_string(),
            kind: monitor.kind.as_str().to_string(),
            namespace: ctx.app.namespace.clone(),
            names: vec![monitor.name],
        },
        monitor.yaml,
    ))
}

/// Why a signal from `source` cannot have series for this app, if so.
fn unavailable(ctx: &Context<'_>, source: SignalSource) -> Option<String> {
    (source.needs_metrics_endpoint() && ctx.app.metrics.is_none())
        .then(|| "the app has no metrics endpoint".to_string())
}

fn plan_needs(
    ctx: &Context<'_>,
    stamp: &Stamp,
    resolved: &[ResolvedNeed<'_>],
    options: &PlanOptions,
) -> Result<NeedsPlanned> {
    let siblings: Vec<(DashboardUid, String)> = resolved
        .iter()
        .map(|r| {
            (
                dashboard::uid(&ctx.id, &r.need.id),
                format!("{} · {}", ctx.id.name(), r.need.title),
            )
        })
        .collect();
    let mut planned = NeedsPlanned::default();
    for need in resolved {
        plan_need(ctx, stamp, need, &siblings, options, &mut planned)?;
    }
    Ok(planned)
}

/// The panels and alerts of a need that can work for this app, and what was left out.
struct Kept<'a> {
    panels: Vec<&'a PanelDef>,
    alerts: Vec<Alert>,
    left_out: Vec<String>,
}

fn kept<'a>(ctx: &Context<'_>, need: &'a ResolvedNeed<'a>) -> Result<Kept<'a>> {
    let usable = |template: &str| {
        need.signals_used(template)
            .iter()
            .all(|s| unavailable(ctx, need.signals[s].source).is_none())
    };
    let mut left_out = Vec::new();
    let mut panels = Vec::new();
    for p in &need.need.panels {
        if p.queries.iter().all(|q| usable(&q.expr.value)) {
            panels.push(p);
        } else {
            left_out.push(format!(
                "panel {:?}: the app has no metrics endpoint",
                p.title
            ));
        }
    }
    let mut alerts = Vec::new();
    for def in &need.need.alerts {
        if usable(&def.expr.value) {
            alerts.push(rules::alert(ctx, need, def)?);
        } else {
            left_out.push(format!(
                "alert {}: the app has no metrics endpoint",
                def.name
            ));
        }
    }
    Ok(Kept {
        panels,
        alerts,
        left_out,
    })
}

fn plan_need(
    ctx: &Context<'_>,
    stamp: &Stamp,
    need: &ResolvedNeed<'_>,
    siblings: &[(DashboardUid, String)],
    options: &PlanOptions,
    planned: &mut NeedsPlanned,
) -> Result<()> {
    let kept = kept(ctx, need)?;
    let objectives = plan_objectives(ctx, need, options, &mut planned.objective_groups);
    let on: Vec<_> = objectives
        .iter()
        .filter_map(PlannedObjective::resolved)
        .collect();
    let signals = signal_reports(ctx, need, &kept.panels)?;
    let rendered = dashboard::render(
        ctx,
        &dashboard::DashboardInput {
            need,
            panels: kept.panels.clone(),
            siblings,
            objectives: on.clone(),
        },
    )?;
    let planned_dashboard = stamped_dashboard(stamp, &rendered, options)?;
    let mut runbook = runbook_dashboard(ctx, need, &rendered, &signals, options);
    runbook.objectives = runbook::objectives(ctx, need, &on);
    planned.runbook.push(runbook);
    let query_signals = kept
        .panels
        .iter()
        .flat_map(|p| p.queries.iter().map(|q| need.signals_used(&q.expr.value)));
    let queries = rendered
        .queries
        .iter()
        .zip(query_signals)
        .map(|(q, signals)| PanelQuery {
            panel: q.panel.clone(),
            ref_id: q.ref_id.clone(),
            expr: q.expr.clone(),
            signals,
        })
        .collect();
    planned.reports.push(NeedReport {
        dashboard_uid: rendered.uid.clone(),
        queries,
        rule_group: (!kept.alerts.is_empty()).then(|| rules::group_name(ctx, &need.need.id)),
        objectives: objectives.clone(),
        variables: need.need.variables.iter().map(|v| v.name.clone()).collect(),
        id: need.need.id.clone(),
        title: need.need.title.clone(),
        story: need.need.story.clone(),
        panels: kept.panels.len(),
        alerts: kept.alerts.iter().map(|a| a.name.clone()).collect(),
        alert_rules: kept
            .alerts
            .iter()
            .map(|a| PlannedAlert {
                name: a.name.clone(),
                severity: a.severity,
                runbook_section: format!("{}#{}", paths::RUNBOOK, a.anchor),
            })
            .chain(objectives.iter().flat_map(PlannedObjective::alerts))
            .collect(),
        signals,
        left_out: kept.left_out,
    });
    planned.alerts.extend(kept.alerts);
    planned.dashboards.push(planned_dashboard);
    Ok(())
}

/// The objectives of a need for the app: each on (its rule group added to
/// `groups`), off or refused — one refused never stops the others.
fn plan_objectives(
    ctx: &Context<'_>,
    need: &ResolvedNeed<'_>,
    options: &PlanOptions,
    groups: &mut Vec<rules::RuleGroup>,
) -> Vec<PlannedObjective> {
    use crate::needs::objective::{self, Outcome};
    let annotated: Vec<&str> = ctx
        .app
        .annotations
        .get(objective::ANNOTATION)
        .map(|v| v.split(',').map(str::trim).collect())
        .unwrap_or_default();
    need.need
        .objectives
        .iter()
        .map(|def| {
            let outcome = objective::resolve(
                need,
                def,
                options.objectives.get(&def.id),
                annotated.contains(&def.id.as_str()),
                options.available_metrics.as_ref(),
            );
            let status = match outcome {
                Outcome::Off => ObjectiveStatus::Off {
                    turn_on: format!("objectives: {{{}: {{}}}}", def.id),
                },
                Outcome::Refused(reason) => ObjectiveStatus::Refused { reason },
                Outcome::On(resolved) => {
                    let group = render::slo::group(ctx, &resolved, &ctx.runbook_url);
                    let alert = render::slo::alert_name(ctx, &resolved);
                    let status = ObjectiveStatus::On {
                        recording_rules: group.rules.iter().filter(|r| r.record.is_some()).count(),
                        rule_group: group.name.clone(),
                        runbook_section: format!(
                            "{}#{}",
                            paths::RUNBOOK,
                            alert.to_ascii_lowercase()
                        ),
                        alert,
                        objective: resolved,
                    };
                    groups.push(group);
                    status
                }
            };
            PlannedObjective {
                id: def.id.clone(),
                title: def.title.clone(),
                status,
            }
        })
        .collect()
}

/// onramp.yaml's `objectives:` name only objectives of the needs in use,
/// each once among them.
fn check_objective_settings(resolved: &[ResolvedNeed<'_>], options: &PlanOptions) -> Result<()> {
    let mut ids: Vec<(&str, &str)> = Vec::new();
    for need in resolved {
        for def in &need.need.objectives {
            if let Some((_, other)) = ids.iter().find(|(id, _)| *id == def.id) {
                return Err(Error::Usage(format!(
                    "objective {:?} is in both need {other} and need {}: an app's objective ids must be unique (they are its `sloth_slo` label)",
                    def.id, need.need.id
                )));
            }
            ids.push((&def.id, &need.need.id));
        }
    }
    for id in options.objectives.keys() {
        if !ids.iter().any(|(known, _)| known == id) {
            let known: Vec<&str> = ids.iter().map(|(id, _)| *id).collect();
            return Err(Error::Usage(format!(
                "onramp.yaml objectives.{id}: none of the app's needs has an objective {id:?}; they have: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    Ok(())
}

/// A note for each objective turned on but refused.
fn objective_notes(reports: &[NeedReport]) -> Vec<String> {
    reports
        .iter()
        .flat_map(|need| {
            need.objectives.iter().flat_map(move |o| match &o.status {
                ObjectiveStatus::Refused { reason } => vec![format!(
                    "Objective {} of need {} is not generated: {reason}. The need's other objectives and alerts are.",
                    o.id, need.id
                )],
                ObjectiveStatus::On { objective, .. } => objective
                    .never_alerts
                    .iter()
                    .map(|why| format!("Objective {} of need {}: {why}; raise its target to have it.", o.id, need.id))
                    .collect(),
                ObjectiveStatus::Off { .. } => Vec::new(),
            })
        })
        .collect()
}

/// The rendered dashboard (or the one given instead, by uid), stamped.
fn stamped_dashboard(
    stamp: &Stamp,
    rendered: &dashboard::RenderedDashboard,
    options: &PlanOptions,
) -> Result<PlannedDashboard> {
    let given;
    let value = match options.dashboard_overrides.get(rendered.uid.as_str()) {
        Some(json) => {
            given = serde_json::from_str(json).map_err(|e| Error::Render {
                artifact: format!("dashboard {}", rendered.uid),
                message: format!(
                    "the dashboard given instead of the need's is not valid JSON: {e}"
                ),
            })?;
            &given
        }
        None => &rendered.dashboard,
    };
    Ok(PlannedDashboard {
        uid: rendered.uid.clone(),
        title: rendered.title.clone(),
        need: rendered.need.clone(),
        json: stamp.dashboard_json(value, &rendered.need),
    })
}

fn signal_reports(
    ctx: &Context<'_>,
    need: &ResolvedNeed<'_>,
    panels: &[&PanelDef],
) -> Result<Vec<SignalReport>> {
    let mut used: Vec<String> = panels
        .iter()
        .flat_map(|p| {
            p.queries
                .iter()
                .flat_map(|q| need.signals_used(&q.expr.value))
        })
        .collect();
    // Only the alerts generated: a left-out alert's signals are not read.
    used.extend(
        need.need
            .alerts
            .iter()
            .map(|a| need.signals_used(&a.expr.value))
            .filter(|names| {
                names
                    .iter()
                    .all(|n| unavailable(ctx, need.signals[n].source).is_none())
            })
            .flatten(),
    );
    need.signals
        .values()
        .map(|s| {
            let def = &need.need.signals[&s.name];
            Ok(SignalReport {
                name: s.name.clone(),
                metric: s.series_name(),
                mapping: match &s.mapping {
                    Mapping::Default => "default".to_string(),
                    Mapping::Alternative(c) => format!("alternative ({c})"),
                    Mapping::User(origin) => origin.clone(),
                },
                source: format!("{:?}", s.source).to_ascii_lowercase(),
                optional: s.optional,
                used: used.contains(&s.name),
                unavailable: unavailable(ctx, s.source),
                instrumentation: def.instrumentation.clone(),
                selector: need
                    .expr(&match s.kind {
                        SignalType::Histogram => format!("{{{{{}:count}}}}", s.name),
                        _ => format!("{{{{{}}}}}", s.name),
                    })
                    .map_err(|message| Error::Render {
                        artifact: format!("signal {} of need {}", s.name, need.need.id),
                        message,
                    })?,
                kubernetes: s.source.needs_kubernetes(),
                kind: s.kind,
                unit: s.unit.word().to_string(),
                labels: s.labels.clone(),
                why: s.why.clone(),
                tried: s.tried.clone(),
                conventions: s.conventions.clone(),
            })
        })
        .collect()
}

fn runbook_dashboard(
    ctx: &Context<'_>,
    need: &ResolvedNeed<'_>,
    rendered: &dashboard::RenderedDashboard,
    signals: &[SignalReport],
    options: &PlanOptions,
) -> runbook::RunbookDashboard {
    runbook::RunbookDashboard {
        need: need.need.id.clone(),
        title: rendered.title.clone(),
        url: options
            .grafana_url
            .as_ref()
            .map(|base| format!("{}/d/{}", base.trim_end_matches('/'), rendered.uid)),
        uid: rendered.uid.to_string(),
        path: paths::dashboard(&need.need.id),
        story: need.need.story.clone(),
        walkthrough: runbook::walkthrough(
            &render::prose(ctx, need.need.walkthrough.trim_end()),
            |name| {
                need.signals
                    .get(name)
                    .is_some_and(|s| unavailable(ctx, s.source).is_none())
            },
        ),
        signals: signals
            .iter()
            .filter(|s| s.used)
            .map(|s| runbook::RunbookSignal {
                name: s.name.clone(),
                metric: s.metric.clone(),
                description: need.need.signals[&s.name].description.clone(),
                instrumentation: s.instrumentation.clone(),
            })
            .collect(),
        objectives: Vec::new(),
    }
}

/// The PrometheusRule and the dashboards' ConfigMaps.
fn kubernetes_artifacts(
    ctx: &Context<'_>,
    stamp: &Stamp,
    groups: &RuleGroups,
    dashboards: &[PlannedDashboard],
) -> Result<Vec<Artifact>> {
    let app = ctx.app;
    let mut artifacts = Vec::new();
    if !groups.groups.is_empty() {
        artifacts.push(text_artifact(
            stamp,
            paths::PROMETHEUS_RULE,
            ArtifactKind::Kubernetes {
                api_version: "monitoring.coreos.com/v1".to_string(),
                kind: "PrometheusRule".to_string(),
                namespace: app.namespace.clone(),
                names: vec![app.name.clone()],
            },
            rules::prometheus_rule(ctx, groups)?,
        ));
    }
    if !dashboards.is_empty() {
        let files: Vec<DashboardFile<'_>> = dashboards
            .iter()
            .map(|d| DashboardFile {
                uid: d.uid.as_str(),
                need: &d.need,
                json: &d.json,
            })
            .collect();
        artifacts.push(text_artifact(
            stamp,
            paths::DASHBOARD_CONFIGMAPS,
            ArtifactKind::Kubernetes {
                api_version: "v1".to_string(),
                kind: "ConfigMap".to_string(),
                namespace: app.namespace.clone(),
                names: dashboards
                    .iter()
                    .map(|d| format!("{}-{}-dashboard", app.name, d.need))
                    .collect(),
            },
            dashboard::config_maps(ctx, &files)?,
        ));
    }
    Ok(artifacts)
}

fn dashboard_artifact(d: &PlannedDashboard) -> Artifact {
    Artifact {
        path: paths::dashboard(&d.need),
        kind: ArtifactKind::Dashboard {
            uid: d.uid.clone(),
            title: d.title.clone(),
            need: d.need.clone(),
        },
        content: d.json.clone(),
    }
}

fn runbook_artifact(
    ctx: &Context<'_>,
    stamp: &Stamp,
    artifacts: &[Artifact],
    planned: &NeedsPlanned,
) -> Result<Artifact> {
    let app = ctx.app;
    let (metrics_line, scraped_by) = match &app.metrics {
        Some(m) => (
            format!(
                "container {} port {} ({}), path {}",
                m.container,
                m.port_name.clone().unwrap_or_else(|| m.port.to_string()),
                m.port,
                m.path
            ),
            match artifacts.first().map(|a| &a.kind) {
                Some(ArtifactKind::Kubernetes { kind, names, .. }) => {
                    format!("{kind} {} (job label {})", names.join(", "), app.name)
                }
                _ => "nothing".to_string(),
            },
        ),
        None => (
            "none found".to_string(),
            format!("nothing yet: {}", app.metrics_reason),
        ),
    };
    let body = runbook::render(
        ctx,
        &metrics_line,
        &scraped_by,
        &planned.runbook,
        &planned.alerts,
    )?;
    Ok(text_artifact(
        stamp,
        paths::RUNBOOK,
        ArtifactKind::Runbook,
        body,
    ))
}

/// The plain-Prometheus files: scrape config, file_sd targets, rules.
fn prometheus_artifacts(
    ctx: &Context<'_>,
    stamp: &Stamp,
    groups: &RuleGroups,
    options: &PlanOptions,
) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    if let Some(endpoint) = &ctx.app.metrics {
        artifacts.push(text_artifact(
            stamp,
            paths::SCRAPE_CONFIG,
            ArtifactKind::ScrapeConfig,
            render::scrape::render(ctx, endpoint)?,
        ));
        if let Some(target) = &options.static_target {
            artifacts.push(text_artifact(
                stamp,
                paths::TARGETS_FILE,
                ArtifactKind::Targets,
                render::scrape::static_targets(ctx, endpoint, target)?,
            ));
        }
    }
    if !groups.groups.is_empty() {
        artifacts.push(text_artifact(
            stamp,
            paths::RULES_FILE,
            ArtifactKind::RulesFile,
            rules::rules_file(groups)?,
        ));
    }
    Ok(artifacts)
}

/// The promtool unit tests of the objectives turned on, when any is: they
/// read the rules file beside them. With a note for each objective whose
/// tests cannot be made.
fn slo_tests_artifact(
    ctx: &Context<'_>,
    stamp: &Stamp,
    reports: &[NeedReport],
) -> Result<(Option<Artifact>, Vec<String>)> {
    let objectives: Vec<&crate::needs::objective::ResolvedObjective> = reports
        .iter()
        .flat_map(|need| {
            need.objectives
                .iter()
                .filter_map(PlannedObjective::resolved)
        })
        .collect();
    let rules_file = paths::RULES_FILE
        .rsplit('/')
        .next()
        .unwrap_or(paths::RULES_FILE);
    let (text, notes) = render::slo_tests::render(ctx, &objectives, rules_file)?;
    let artifact =
        text.map(|body| text_artifact(stamp, paths::SLO_TESTS, ArtifactKind::RulesTests, body));
    Ok((artifact, notes))
}

/// Without the Operator: why the plan has no monitors or rules, the
/// plain-Prometheus path, and whether the pods are already scraped by
/// annotation.
fn without_operator_note(ctx: &Context<'_>) -> String {
    let mut note = format!(
        "The cluster has no Prometheus Operator (no monitoring.coreos.com API group), so nothing would read a ServiceMonitor, PodMonitor or PrometheusRule: the plan has none. For a plain Prometheus, let onramp write the app's scrape config and rules into the folder its config includes: onramp apply {} --prometheus-config-dir DIR",
        ctx.onramp_args
    );
    if ctx
        .app
        .annotations
        .get("prometheus.io/scrape")
        .map(String::as_str)
        == Some("true")
    {
        let port = ctx.app.annotations.get("prometheus.io/port");
        let path = ctx.app.annotations.get("prometheus.io/path");
        note.push_str(&format!(
            ". The pods already carry prometheus.io/scrape: \"true\"{}{}: a Prometheus with the common annotation-based kubernetes_sd job (as the prometheus Helm chart ships) already scrapes them; onramp's scrape config is for one without such a job",
            port.map(|p| format!(", port {p}")).unwrap_or_default(),
            path.map(|p| format!(", path {p}")).unwrap_or_default()
        ));
    }
    note
}

fn closing_notes(ctx: &Context<'_>, options: &PlanOptions, has_dashboards: bool) -> Vec<String> {
    let app = ctx.app;
    let mut notes = Vec::new();
    if options.without_operator {
        notes.push(without_operator_note(ctx));
    } else if options.selector_labels.is_empty() && app.metrics.is_some() {
        notes.push(
            "No Prometheus selector labels are set. kube-prometheus-stack only picks up ServiceMonitors, PodMonitors and PrometheusRules labelled `release: <helm release>` (see the Prometheus resource's serviceMonitorSelector and ruleSelector); pass --label release=NAME or set `labels:` in onramp.yaml.".to_string(),
        );
    }
    if !ctx.runbook_published() {
        notes.push(format!(
            "The runbook has no address a person can open: alerts' runbook_url is the relative path {}, which Alertmanager and its notifications cannot open, and the dashboards carry no runbook link (Grafana cannot open a relative path either). Set runbook_base_url in onramp.yaml (or --runbook-url) to the runbook's published URL, e.g. its page on your Git host.",
            ctx.runbook_url
        ));
    }
    if options.grafana_url.is_none() && has_dashboards {
        notes.push(
            "The runbook names the dashboards by uid, without links: Grafana's URL is not known. Pass --grafana-url (or set GRAFANA_URL, or grafana.url in onramp.yaml) for links to GRAFANA/d/UID.".to_string(),
        );
    }
    notes
}
