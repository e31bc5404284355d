//! The plan: every artifact onboarding an app produces, in order, each with a
//! stable identity and its rendered content. Every sink consumes the same plan,
//! so what `codify` writes is byte for byte what `apply` sends.
//!
//! Building a plan decides *which* artifacts an app gets (ServiceMonitor or
//! PodMonitor or none, which needs, which panels and alerts survive a missing
//! metrics endpoint); [`crate::render`] decides how each one looks.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::{App, ScrapeVia};
use crate::error::{Error, Result};
use crate::needs::resolve::{Mapping, ResolvedNeed, Scope, SignalOverrides};
use crate::needs::{Need, SignalSource, SignalType};
use crate::render::dashboard::DashboardUid;
use crate::render::monitor::{self, MonitorKind};
use crate::render::{self, Context, dashboard, rules, runbook};

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
    /// Its signals.
    pub signals: Vec<SignalReport>,
    /// Panels and alerts left out, and why.
    pub left_out: Vec<String>,
    /// The uid of its dashboard.
    pub dashboard_uid: DashboardUid,
    /// Every query of its dashboard.
    pub queries: Vec<PanelQuery>,
    /// The name of its rule group, when it has alerts.
    pub rule_group: Option<String>,
    /// The names of its dashboard's own variables (`flag`).
    pub variables: Vec<String>,
}

/// The whole plan for one app.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `namespace/name`.
    pub app: String,
    /// `deployment/checkout`.
    pub workload: String,
    /// The namespace.
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
    /// True when the user named the needs (a need that cannot work is then an error).
    pub needs_explicit: bool,
    /// `HOST:PORT` where a plain Prometheus scrapes the app directly (file_sd).
    pub static_target: Option<String>,
    /// The metric names the app exposes now (from a live Prometheus): a signal
    /// whose default name is missing maps to an accepted alternative that exists.
    pub available_metrics: Option<std::collections::BTreeSet<String>>,
    /// Dashboard JSON to use instead of the rendered one, by uid (pulled from
    /// Grafana by `codify --from-live`, or read from files by `apply --from`).
    pub dashboard_overrides: BTreeMap<String, String>,
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

    /// The dashboard JSON of a need.
    pub fn dashboard(need: &str) -> String {
        format!("dashboards/{need}.json")
    }
}

/// Builds the plan for `app` with `needs`.
pub fn build(app: &App, needs: &[&Need], options: &PlanOptions) -> Result<Plan> {
    let command = format!("onramp codify {} -n {}", app.workload(), app.namespace);
    let runbook_url = options
        .runbook_base_url
        .clone()
        .unwrap_or_else(|| paths::RUNBOOK.to_string());
    let ctx = Context {
        app,
        command,
        runbook_url,
        selector_labels: options.selector_labels.clone(),
        grafana_folder: options
            .grafana_folder
            .clone()
            .unwrap_or_else(|| app.namespace.clone()),
        grafana_datasource: options.grafana_datasource.clone(),
    };
    let has_metrics = app.metrics.is_some();
    let mut notes = Vec::new();
    let mut skipped_needs = Vec::new();

    // Which needs can work for this app.
    let mut usable: Vec<&Need> = Vec::new();
    for need in needs {
        if need.requires_app_metrics && !has_metrics {
            if options.needs_explicit {
                return Err(Error::NeedUnsatisfiable {
                    need: need.id.clone(),
                    app: app.workload(),
                    reason: app.metrics_reason.clone(),
                });
            }
            skipped_needs.push(format!(
                "{}: needs the app's own metrics, and {} has no metrics endpoint",
                need.id,
                app.workload()
            ));
            continue;
        }
        usable.push(need);
    }

    let scope = Scope::of(app);
    let exposed = options
        .available_metrics
        .as_ref()
        .map(|names| move |metric: &str| names.contains(metric));
    let available = exposed.as_ref().map(|f| f as &dyn Fn(&str) -> bool);
    let resolved: Vec<ResolvedNeed<'_>> = usable
        .iter()
        .map(|n| ResolvedNeed::new(n, scope.clone(), &options.overrides, available))
        .collect();
    let siblings: Vec<(DashboardUid, String)> = resolved
        .iter()
        .map(|r| {
            (
                dashboard::uid(&app.namespace, &app.name, &r.need.id),
                format!("{} · {}", app.name, r.need.title),
            )
        })
        .collect();

    let unavailable = |source: SignalSource| -> Option<String> {
        (source.needs_metrics_endpoint() && !has_metrics)
            .then(|| "the app has no metrics endpoint".to_string())
    };

    let mut artifacts = Vec::new();
    let mut kube_resources = Vec::new();
    if let Some(endpoint) = &app.metrics {
        let monitor = render::monitor::render(&ctx, endpoint)?;
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
        kube_resources.push(path.to_string());
        artifacts.push(Artifact {
            path: path.to_string(),
            kind: ArtifactKind::Kubernetes {
                api_version: monitor::API_VERSION.to_string(),
                kind: monitor.kind.as_str().to_string(),
                namespace: app.namespace.clone(),
                names: vec![monitor.name],
            },
            content: monitor.yaml,
        });
    } else {
        notes.push(format!("No scrape object: {}", app.metrics_reason));
    }

    let mut need_reports = Vec::new();
    let mut alerts = Vec::new();
    let mut dashboards = Vec::new();
    let mut runbook_dashboards = Vec::new();
    for need in &resolved {
        let usable_template = |template: &str| {
            need.signals_used(template)
                .iter()
                .all(|s| unavailable(need.signals[s].source).is_none())
        };
        let mut left_out = Vec::new();
        let panels: Vec<_> = need
            .need
            .panels
            .iter()
            .filter(|p| {
                let keep = p.queries.iter().all(|q| usable_template(&q.expr.value));
                if !keep {
                    left_out.push(format!(
                        "panel {:?}: the app has no metrics endpoint",
                        p.title
                    ));
                }
                keep
            })
            .collect();
        let mut need_alerts = Vec::new();
        for def in &need.need.alerts {
            if usable_template(&def.expr.value) {
                need_alerts.push(rules::alert(&ctx, need, def)?);
            } else {
                left_out.push(format!(
                    "alert {}: the app has no metrics endpoint",
                    def.name
                ));
            }
        }
        let mut used: Vec<String> = panels
            .iter()
            .flat_map(|p| {
                p.queries
                    .iter()
                    .flat_map(|q| need.signals_used(&q.expr.value))
            })
            .collect();
        used.extend(
            need.need
                .alerts
                .iter()
                .flat_map(|a| need.signals_used(&a.expr.value)),
        );
        let signals: Vec<SignalReport> = need
            .signals
            .values()
            .map(|s| {
                let def = &need.need.signals[&s.name];
                Ok(SignalReport {
                    name: s.name.clone(),
                    metric: s.series_name(),
                    mapping: match &s.mapping {
                        Mapping::Default => "default".to_string(),
                        Mapping::Alternative(c) => format!("alternative ({c})"),
                        Mapping::User => "--signal".to_string(),
                    },
                    source: format!("{:?}", s.source).to_ascii_lowercase(),
                    optional: s.optional,
                    used: used.contains(&s.name),
                    unavailable: unavailable(s.source),
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
                })
            })
            .collect::<Result<_>>()?;
        let mut rendered = dashboard::render(
            &ctx,
            &dashboard::DashboardInput {
                need,
                panels: panels.clone(),
                siblings: &siblings,
            },
        )?;
        if let Some(json) = options.dashboard_overrides.get(rendered.uid.as_str()) {
            rendered.json = json.clone();
        }
        runbook_dashboards.push(runbook::RunbookDashboard {
            need: need.need.id.clone(),
            title: rendered.title.clone(),
            url: match &options.grafana_url {
                Some(base) => format!("{}/d/{}", base.trim_end_matches('/'), rendered.uid),
                None => paths::dashboard(&need.need.id),
            },
            story: need.need.story.clone(),
            walkthrough: render::prose(&ctx, need.need.walkthrough.trim_end()),
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
        });
        let query_signals = panels
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
        need_reports.push(NeedReport {
            dashboard_uid: rendered.uid.clone(),
            queries,
            rule_group: (!need_alerts.is_empty()).then(|| rules::group_name(&ctx, &need.need.id)),
            variables: need.need.variables.iter().map(|v| v.name.clone()).collect(),
            id: need.need.id.clone(),
            title: need.need.title.clone(),
            story: need.need.story.clone(),
            panels: panels.len(),
            alerts: need_alerts.iter().map(|a| a.name.clone()).collect(),
            signals,
            left_out,
        });
        alerts.extend(need_alerts);
        dashboards.push(rendered);
    }

    let groups = rules::groups(&ctx, &alerts);
    if !groups.groups.is_empty() {
        let names = vec![app.name.clone()];
        kube_resources.push(paths::PROMETHEUS_RULE.to_string());
        artifacts.push(Artifact {
            path: paths::PROMETHEUS_RULE.to_string(),
            kind: ArtifactKind::Kubernetes {
                api_version: "monitoring.coreos.com/v1".to_string(),
                kind: "PrometheusRule".to_string(),
                namespace: app.namespace.clone(),
                names,
            },
            content: rules::prometheus_rule(&ctx, &groups)?,
        });
    }
    for d in &dashboards {
        artifacts.push(Artifact {
            path: paths::dashboard(&d.need),
            kind: ArtifactKind::Dashboard {
                uid: d.uid.clone(),
                title: d.title.clone(),
                need: d.need.clone(),
            },
            content: d.json.clone(),
        });
    }
    if !dashboards.is_empty() {
        kube_resources.push(paths::DASHBOARD_CONFIGMAPS.to_string());
        artifacts.push(Artifact {
            path: paths::DASHBOARD_CONFIGMAPS.to_string(),
            kind: ArtifactKind::Kubernetes {
                api_version: "v1".to_string(),
                kind: "ConfigMap".to_string(),
                namespace: app.namespace.clone(),
                names: dashboards
                    .iter()
                    .map(|d| format!("{}-{}-dashboard", app.name, d.need))
                    .collect(),
            },
            content: dashboard::config_maps(&ctx, &dashboards)?,
        });
    }
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
    artifacts.push(Artifact {
        path: paths::RUNBOOK.to_string(),
        kind: ArtifactKind::Runbook,
        content: runbook::render(
            &ctx,
            &metrics_line,
            &scraped_by,
            &runbook_dashboards,
            &alerts,
        )?,
    });
    artifacts.push(Artifact {
        path: paths::KUSTOMIZATION.to_string(),
        kind: ArtifactKind::Kustomization,
        content: render::kustomize::render(&ctx, &kube_resources)?,
    });
    if let Some(endpoint) = &app.metrics {
        artifacts.push(Artifact {
            path: paths::SCRAPE_CONFIG.to_string(),
            kind: ArtifactKind::ScrapeConfig,
            content: render::scrape::render(&ctx, endpoint)?,
        });
    }
    if let (Some(endpoint), Some(target)) = (&app.metrics, &options.static_target) {
        artifacts.push(Artifact {
            path: paths::TARGETS_FILE.to_string(),
            kind: ArtifactKind::Targets,
            content: render::scrape::static_targets(&ctx, endpoint, target)?,
        });
    }
    if !groups.groups.is_empty() {
        artifacts.push(Artifact {
            path: paths::RULES_FILE.to_string(),
            kind: ArtifactKind::RulesFile,
            content: rules::rules_file(&ctx, &groups)?,
        });
    }

    if options.selector_labels.is_empty() && app.metrics.is_some() {
        notes.push(
            "No Prometheus selector labels are set. kube-prometheus-stack only picks up ServiceMonitors, PodMonitors and PrometheusRules labelled `release: <helm release>` (see the Prometheus resource's serviceMonitorSelector and ruleSelector); pass --label release=NAME or set `labels:` in onramp.yaml.".to_string(),
        );
    }
    if options.runbook_base_url.is_none() {
        notes.push(format!(
            "Alerts link to the runbook at the relative path {}; set runbook_base_url in onramp.yaml (or --runbook-url) to where the runbook is published so the links work from Alertmanager.",
            paths::RUNBOOK
        ));
    }
    Ok(Plan {
        app: app.id(),
        workload: app.workload(),
        namespace: app.namespace.clone(),
        metrics: app.metrics_reason.clone(),
        needs: need_reports,
        skipped_needs,
        artifacts,
        notes,
    })
}
