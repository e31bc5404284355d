//! The catalog of needs: what a developer wants to see, as data.
//!
//! A need (a YAML file under `dashboards/`, embedded in the binary, or one of
//! the user's own from `--needs-dir`) names its story, the signals it reads,
//! the panels and alerts built on them, the runbook text for each alert and
//! the instrumentation hint for each signal. This module parses and checks
//! need files; [`resolve`] maps their signals onto an app's real metric names,
//! as [`exposed`] finds them in Prometheus.

pub mod check;
pub mod draft;
pub mod exposed;
pub mod objective;
pub mod promql;
pub mod resolve;
pub mod story;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::error::{Error, Location, Result};

/// The built-in needs: the file name shown in messages, and the need as the
/// build script converted it from `dashboards/NAME.yaml` to JSON (parsing
/// JSON at start-up costs a fraction of parsing the YAML).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "service-health.yaml",
        include_str!(concat!(env!("OUT_DIR"), "/needs/service-health.json")),
    ),
    (
        "troubleshooting.yaml",
        include_str!(concat!(env!("OUT_DIR"), "/needs/troubleshooting.json")),
    ),
    (
        "feature-flag-engagement.yaml",
        include_str!(concat!(
            env!("OUT_DIR"),
            "/needs/feature-flag-engagement.json"
        )),
    ),
    (
        "platform-adoption.yaml",
        include_str!(concat!(env!("OUT_DIR"), "/needs/platform-adoption.json")),
    ),
];

/// An alert's `severity` label: who must act, and how soon. Also the
/// severity of a `troubleshoot` finding. Ordered most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Someone must act now (pages).
    Critical,
    /// Someone must look soon (a ticket).
    Warning,
    /// Context for whoever is looking; nobody is called.
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of series a signal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalType {
    /// A monotonically increasing counter (`*_total`): only inside rate/increase.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A classic histogram: `_bucket`, `_sum`, `_count` series.
    Histogram,
}

impl SignalType {
    /// Its name in messages and need files.
    pub fn word(self) -> &'static str {
        match self {
            SignalType::Counter => "counter",
            SignalType::Gauge => "gauge",
            SignalType::Histogram => "histogram",
        }
    }
}

/// Where a signal's series come from, which decides the selector that scopes it to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalSource {
    /// Scraped from the app itself: `{namespace, job}`.
    #[default]
    App,
    /// Recorded by Prometheus about its scrapes of the app (`up`, `scrape_*`): `{namespace, job}`.
    Scrape,
    /// Per-pod series from kube-state-metrics: `{namespace, pod=~"<app pods>"}`.
    Pod,
    /// Per-container series from kube-state-metrics or cAdvisor: adds `container`.
    Container,
    /// Per-workload series from kube-state-metrics: `{namespace, deployment|statefulset|daemonset}`.
    Workload,
    /// Fleet-wide series about every app, such as `onramp adoption -o
    /// openmetrics` writes: no selector (the dashboard's variables filter
    /// them). Only a need of [`NeedScope::Platform`] reads them.
    Fleet,
}

impl SignalSource {
    /// True when the series only exist inside Kubernetes (kube-state-metrics, cAdvisor).
    pub fn needs_kubernetes(self) -> bool {
        matches!(
            self,
            SignalSource::Pod | SignalSource::Container | SignalSource::Workload
        )
    }

    /// True when the series exist only once Prometheus scrapes the app's metrics endpoint.
    pub fn needs_metrics_endpoint(self) -> bool {
        matches!(self, SignalSource::App | SignalSource::Scrape)
    }
}

/// The unit a signal's values are in, when a convention's differs from
/// another's: a duration in milliseconds is divided by 1000 wherever a
/// template asks for seconds (`{{signal:seconds}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Whatever the panel says: no conversion.
    #[default]
    Base,
    /// Seconds (Prometheus' base unit for durations).
    Seconds,
    /// Milliseconds: converted to seconds.
    Milliseconds,
}

impl Unit {
    /// The PromQL suffix that turns a value in this unit into the base unit.
    pub fn to_base(self) -> &'static str {
        match self {
            Unit::Milliseconds => " / 1000",
            Unit::Base | Unit::Seconds => "",
        }
    }

    /// Its name in messages.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Base => "",
            Unit::Seconds => "seconds",
            Unit::Milliseconds => "milliseconds",
        }
    }
}

/// Another accepted name for a signal, with its own label spellings, metric
/// type and unit (a framework may expose as a gauge what another counts).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    /// The metric name.
    pub metric: String,
    /// Logical label → label name in this convention (missing ones keep the signal's default).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its metric type, when it differs from the signal's.
    #[serde(rename = "type", default)]
    pub kind: Option<SignalType>,
    /// Its unit, when it differs from the signal's.
    #[serde(default)]
    pub unit: Option<Unit>,
    /// Who uses this convention (shown in `needs show`).
    #[serde(default)]
    pub convention: String,
}

/// A named metric a need reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// What it measures.
    pub description: String,
    /// Counter, gauge or histogram.
    #[serde(rename = "type")]
    pub kind: SignalType,
    /// The expected metric name (for histograms, the base name without `_bucket`).
    pub metric: String,
    /// Metric names per workload kind, for kube-state-metrics series that differ by kind.
    #[serde(default)]
    pub metric_by_kind: BTreeMap<String, String>,
    /// Logical label → label name in the default convention.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The unit of the default metric (`seconds`, `milliseconds`).
    #[serde(default)]
    pub unit: Unit,
    /// Who uses the default convention (shown in `needs show` and `plan`).
    #[serde(default)]
    pub convention: String,
    /// Other accepted names, tried in order.
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
    /// Where the series come from.
    #[serde(default)]
    pub source: SignalSource,
    /// A need still works, with fewer panels, when an optional signal is missing.
    #[serde(default)]
    pub optional: bool,
    /// What to add to the app when the signal is missing.
    pub instrumentation: String,
}

/// A PromQL query of a panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryDef {
    /// The expression, with `{{signal}}` placeholders.
    pub expr: Spanned<String>,
    /// The legend, with `{{signal.label}}` placeholders.
    #[serde(default)]
    pub legend: String,
}

/// A Grafana panel type onramp renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    /// A time series graph.
    #[default]
    Timeseries,
    /// A single big number.
    Stat,
    /// A gauge.
    Gauge,
    /// A bar gauge (one bar per series).
    Bargauge,
    /// A table: one row per series, its labels as columns (an instant query).
    Table,
}

/// A threshold step of a panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The value from which the colour applies (`null` for the base step).
    pub value: Option<f64>,
    /// A Grafana colour name.
    pub color: String,
}

/// A panel of a need's dashboard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelDef {
    /// The panel title.
    pub title: String,
    /// What the panel answers and how to read it.
    pub description: String,
    /// A Grafana unit id (`reqps`, `percentunit`, `s`, `bytes`, `short`…).
    pub unit: String,
    /// The panel type.
    #[serde(rename = "type", default)]
    pub kind: PanelKind,
    /// The queries.
    pub queries: Vec<QueryDef>,
    /// Width in grid columns (1–24); defaults by type.
    #[serde(default)]
    pub width: Option<u8>,
    /// Height in grid units; defaults by type.
    #[serde(default)]
    pub height: Option<u8>,
    /// Minimum of the axis.
    #[serde(default)]
    pub min: Option<f64>,
    /// Maximum of the axis.
    #[serde(default)]
    pub max: Option<f64>,
    /// Threshold steps.
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
    /// Starts a new row with this title before the panel.
    #[serde(default)]
    pub row: Option<String>,
}

/// The runbook text for one alert, in the prometheus-operator runbooks shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRunbook {
    /// What fired.
    pub meaning: String,
    /// Who notices, and how.
    pub impact: String,
    /// What to look at, in order.
    pub diagnosis: Vec<String>,
    /// What to do.
    pub mitigation: Vec<String>,
}

/// A query shown in a runbook's Diagnosis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookQuery {
    /// What the query shows.
    pub title: String,
    /// The expression, with `{{signal}}` placeholders.
    pub expr: Spanned<String>,
}

/// An alerting rule of a need.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertDef {
    /// The alert name without the app prefix (`HighErrorRate` → `CheckoutHighErrorRate`).
    pub name: String,
    /// The expression, with `{{signal}}` placeholders.
    pub expr: Spanned<String>,
    /// How long the condition must hold (a Prometheus duration; its position
    /// is kept for messages).
    #[serde(rename = "for")]
    pub for_: Spanned<String>,
    /// How urgent a firing alert is.
    pub severity: Severity,
    /// A static one-line summary (placeholders `{app}`, `{namespace}`, `{workload}`).
    pub summary: String,
    /// A templated description (Prometheus template syntax plus the placeholders).
    pub description: String,
    /// The runbook section.
    pub runbook: AlertRunbook,
    /// Queries to run while diagnosing.
    #[serde(default)]
    pub queries: Vec<RunbookQuery>,
}

/// A dashboard variable whose values are a label of a signal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    /// The variable name (`$flag`).
    pub name: String,
    /// Its label in the dashboard.
    pub label: String,
    /// The signal whose label values it lists.
    pub signal: String,
    /// The signal's logical label.
    pub signal_label: String,
    /// List the values busiest first — by the signal's increase over the
    /// dashboard's time range — so the dashboard opens on the value with the
    /// most data instead of the first in alphabetical order. Counters only.
    #[serde(default)]
    pub busiest_first: bool,
    /// Let the reader pick several values, or All (the default selection):
    /// a platform dashboard opens on every team.
    #[serde(default)]
    pub all: bool,
}

/// An annotation query: marks moments on every panel's time axis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnotationDef {
    /// Its name in the dashboard.
    pub name: String,
    /// The expression; a point is drawn where it returns a value.
    pub expr: Spanned<String>,
    /// The text shown, with `{{signal.label}}` placeholders.
    #[serde(default)]
    pub text: String,
    /// A Grafana colour.
    #[serde(default = "default_annotation_color")]
    pub color: String,
}

fn default_annotation_color() -> String {
    "orange".to_string()
}

/// Whose need it is: one app's (planned for every app), or the platform's
/// (one dashboard over the whole fleet, never in an app's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeedScope {
    /// A developer's need for their app: every app's plan takes it.
    #[default]
    App,
    /// A platform engineer's need over every app: its signals are
    /// [`SignalSource::Fleet`], it has no alerts, and `onramp adoption
    /// --dashboard` writes its one dashboard.
    Platform,
}

/// A developer need: a story, the signals that answer it, a dashboard, alerts and runbook text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    /// Stable id (`service-health`), used in uids, file names and `--need`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// The user story the need answers.
    pub story: String,
    /// An app's need (the default) or the platform's.
    #[serde(default)]
    pub scope: NeedScope,
    /// False when the need still works without the app's own metrics endpoint.
    #[serde(default = "yes")]
    pub requires_app_metrics: bool,
    /// Signals by name.
    pub signals: BTreeMap<String, Signal>,
    /// Dashboard variables.
    #[serde(default)]
    pub variables: Vec<VariableDef>,
    /// Dashboard annotations.
    #[serde(default)]
    pub annotations: Vec<AnnotationDef>,
    /// The dashboard's panels, in order.
    pub panels: Vec<PanelDef>,
    /// Alerting rules.
    #[serde(default)]
    pub alerts: Vec<AlertDef>,
    /// Service level objectives: burn-rate alerts on an error budget
    /// (see [`objective`]).
    #[serde(default)]
    pub objectives: Vec<objective::ObjectiveDef>,
    /// The runbook's walkthrough of troubleshooting with this dashboard.
    pub walkthrough: String,
}

fn yes() -> bool {
    true
}

/// Where a need came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary.
    BuiltIn,
    /// A user's file.
    File(PathBuf),
}

impl Origin {
    /// The file name to show in messages.
    pub fn display(&self, need_file: &str) -> String {
        match self {
            Origin::BuiltIn => format!("<built-in>/dashboards/{need_file}"),
            Origin::File(path) => path.display().to_string(),
        }
    }
}

/// A need and where it came from.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    /// The need.
    pub need: Need,
    /// Built-in or the user's file.
    pub origin: Origin,
    /// The file name shown in messages.
    pub file: String,
    /// True when a user's need replaced a built-in with the same id.
    pub overrides_built_in: bool,
}

/// The catalog: the built-in needs, then the user's (a user need with a built-in's id replaces it).
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// Loads the built-in needs and those in each of `user_dirs` (`*.yaml`, `*.yml`).
    pub fn load(user_dirs: &[PathBuf]) -> Result<Catalog> {
        let mut entries = Vec::new();
        for (file, json) in BUILT_IN {
            let need = parse_built_in(&Origin::BuiltIn.display(file), json)?;
            entries.push(CatalogEntry {
                need,
                origin: Origin::BuiltIn,
                file: Origin::BuiltIn.display(file),
                overrides_built_in: false,
            });
        }
        for dir in user_dirs {
            for path in need_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                let file = path.display().to_string();
                let need = parse_need(&file, &text)?;
                let entry = CatalogEntry {
                    need,
                    origin: Origin::File(path.clone()),
                    file,
                    overrides_built_in: false,
                };
                match entries.iter_mut().find(|e| e.need.id == entry.need.id) {
                    Some(existing) if existing.origin == Origin::BuiltIn => {
                        *existing = CatalogEntry {
                            overrides_built_in: true,
                            ..entry
                        };
                    }
                    Some(existing) => {
                        return Err(Error::NeedFile {
                            location: Location::file(entry.file),
                            message: format!(
                                "need id {:?} is already defined in {}; ids must be unique",
                                entry.need.id, existing.file
                            ),
                        });
                    }
                    None => entries.push(entry),
                }
            }
        }
        let catalog = Catalog { entries };
        // The built-in needs are constant and checked by the test suite
        // (`every_built_in_need_passes_the_catalog_checks`); checking them again
        // at every start was most of `onramp`'s start-up time. The user's own
        // needs are checked as they load.
        for entry in catalog
            .entries
            .iter()
            .filter(|e| e.origin != Origin::BuiltIn)
        {
            resolve::check_need(entry)?;
        }
        Ok(catalog)
    }

    /// All needs, built-ins first.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The ids of the apps' needs, in catalog order: what an app's plan
    /// takes by default, and what adoption checks an app against. The
    /// platform's needs are not among them ([`Catalog::platform`]).
    pub fn ids(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.need.scope == NeedScope::App)
            .map(|e| e.need.id.clone())
            .collect()
    }

    /// The need with this id, or an error listing the ids that exist.
    pub fn get(&self, id: &str) -> Result<&CatalogEntry> {
        self.entries
            .iter()
            .find(|e| e.need.id == id)
            .ok_or_else(|| Error::UnknownNeed {
                id: id.to_string(),
                known: self.entries.iter().map(|e| e.need.id.clone()).collect(),
            })
    }

    /// The app's need with this id (`--need ID`): an unknown id, or a
    /// platform need, is refused naming the apps' needs.
    pub fn get_for_app(&self, id: &str) -> Result<&CatalogEntry> {
        let entry = self.get(id)?;
        if entry.need.scope == NeedScope::Platform {
            return Err(Error::Usage(format!(
                "need {id:?} is the platform's (scope: platform), not an app's: `onramp adoption --dashboard --out DIR` writes its dashboard; an app's needs are: {}",
                self.ids().join(", ")
            )));
        }
        Ok(entry)
    }

    /// The platform's needs (`scope: platform`), in catalog order.
    pub fn platform(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries
            .iter()
            .filter(|e| e.need.scope == NeedScope::Platform)
    }
}

fn need_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let read_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Parses one need file; errors name the file and line.
pub fn parse_need(file: &str, text: &str) -> Result<Need> {
    let need: Need = serde_saphyr::from_str(text).map_err(|err| {
        let location = match err.location() {
            Some(l) => Location::at(file, l.line() as usize, Some(l.column() as usize)),
            None => Location::file(file),
        };
        Error::NeedFile {
            location,
            message: crate::util::yaml::yaml_message(&err),
        }
    })?;
    check_id(file, need)
}

/// Parses a built-in need as the build script embedded it (JSON). Its
/// positions are unknown, which only messages about a broken need would
/// show, and the test suite keeps the built-in needs whole.
fn parse_built_in(file: &str, json: &str) -> Result<Need> {
    let need: Need = serde_json::from_str(json).map_err(|err| Error::NeedFile {
        location: Location::file(file),
        message: err.to_string(),
    })?;
    check_id(file, need)
}

/// The embedded JSON of the built-in need with this id, if there is one.
pub fn built_in_source(id: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(file, _)| file.strip_suffix(".yaml") == Some(id))
        .map(|(_, json)| *json)
}

fn check_id(file: &str, need: Need) -> Result<Need> {
    let valid_id = !need.id.is_empty()
        && need.id.len() <= 40
        && need
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_id {
        return Err(Error::NeedFile {
            location: Location::file(file),
            message: format!(
                "need id {:?} must be 1–40 characters of a-z, 0-9 and '-'",
                need.id
            ),
        });
    }
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_loads_and_has_the_three_needs() {
        let catalog = Catalog::load(&[]).expect("built-in needs are valid");
        assert_eq!(
            catalog.ids(),
            vec![
                "service-health",
                "troubleshooting",
                "feature-flag-engagement"
            ]
        );
        let platform: Vec<&str> = catalog.platform().map(|e| e.need.id.as_str()).collect();
        assert_eq!(platform, ["platform-adoption"]);
    }

    #[test]
    fn a_platform_need_was_refused_for_an_app_naming_the_apps_needs() {
        let catalog = Catalog::load(&[]).expect("built-in needs are valid");
        let err = catalog
            .get_for_app("platform-adoption")
            .expect_err("not an app's need");
        assert_eq!(err.exit_status(), 2);
        assert!(
            err.to_string()
                .contains("onramp adoption --dashboard --out DIR")
                && err
                    .to_string()
                    .ends_with("service-health, troubleshooting, feature-flag-engagement"),
            "{err}"
        );
        assert!(catalog.get_for_app("service-health").is_ok());
    }

    #[test]
    fn every_built_in_need_passes_the_catalog_checks() {
        let catalog = Catalog::load(&[]).expect("built-in needs parse");
        for entry in catalog.entries() {
            assert_eq!(entry.origin, Origin::BuiltIn);
            if let Err(err) = resolve::check_need(entry) {
                panic!("built-in need {} fails its checks: {err}", entry.need.id);
            }
        }
    }

    /// `{:?}` of a need without the YAML positions, which JSON does not have.
    fn without_positions(need: &Need) -> String {
        let text = format!("{need:?}");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("Location {") {
            out.push_str(&rest[..at]);
            let mut depth = 0;
            let end = rest[at..]
                .char_indices()
                .find_map(|(i, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 1 => return Some(at + i + 1),
                        '}' => depth -= 1,
                        _ => {}
                    }
                    None
                })
                .expect("balanced braces");
            out.push_str("Location");
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_embedded_json_is_the_yaml_need() {
        let yaml = [
            include_str!("../../dashboards/service-health.yaml"),
            include_str!("../../dashboards/troubleshooting.yaml"),
            include_str!("../../dashboards/feature-flag-engagement.yaml"),
            include_str!("../../dashboards/platform-adoption.yaml"),
        ];
        assert_eq!(yaml.len(), BUILT_IN.len());
        for ((file, json), yaml) in BUILT_IN.iter().zip(yaml) {
            let from_json = parse_built_in(file, json).expect("embedded JSON parses");
            let from_yaml = parse_need(file, yaml).expect("YAML parses");
            assert_eq!(from_json.id, file.trim_end_matches(".yaml"));
            assert_eq!(
                without_positions(&from_json),
                without_positions(&from_yaml),
                "{file}"
            );
        }
    }

    #[test]
    fn an_unknown_field_is_reported_with_its_line() {
        let text =
            "id: x\ntitle: X\nstory: s\nsignals: {}\npanels: []\nwalkthrough: w\npanles: []\n";
        let err = parse_need("mine.yaml", text).expect_err("typo must be caught");
        let msg = err.to_string();
        assert!(msg.starts_with("mine.yaml:7:"), "{msg}");
        assert!(msg.contains("panles"), "{msg}");
    }
}
