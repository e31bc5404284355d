//! Resolving a need for one app: each signal gets its real metric and label
//! names (the default, an accepted alternative, or the user's `--signal`
//! mapping), and the need's templates expand into PromQL scoped to the app.
//!
//! Template syntax (in `expr`, `legend` and annotation `text`):
//! - `{{requests}}` — the metric with the app's selector:
//!   `http_requests_total{namespace="shop",job="checkout"}`;
//! - `{{requests|status=~"5.."}}` — with extra matchers on logical labels;
//! - `{{duration:bucket}}` — a histogram series (`bucket`, `sum`, `count`);
//! - `{{requests.status}}` — the real name of a logical label (in a legend it
//!   becomes Grafana's `{{status}}`).

use std::collections::BTreeMap;

use crate::app::{App, WorkloadKind};
use crate::error::{Error, Location, Result};
use crate::needs::promql;
use crate::needs::{CatalogEntry, Need, Signal, SignalSource, SignalType};
use serde_saphyr::Spanned;

/// What scopes a query to the app: namespace, job, workload and pods.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The namespace.
    pub namespace: String,
    /// The `job` label onramp's scrape objects give the app's series (the app name).
    pub job: String,
    /// The workload kind.
    pub kind: WorkloadKind,
    /// The workload name.
    pub workload: String,
    /// The main container's name.
    pub container: String,
    /// Paths that serve machines, not users: the metrics path and the HTTP
    /// probe paths. `@internal_routes` in a matcher excludes them.
    pub internal_routes: Vec<String>,
}

impl Scope {
    /// The scope of a discovered app.
    pub fn of(app: &App) -> Scope {
        Scope {
            namespace: app.namespace.clone(),
            job: app.name.clone(),
            kind: app.kind,
            workload: app.name.clone(),
            container: app
                .main_container()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            internal_routes: internal_routes(app),
        }
    }

    /// The stand-in scope every expression is checked in: the same kind,
    /// fixed names. An app's own names only ever land inside PromQL string
    /// literals, escaped by [`promql::quote`] and [`promql::regex_escape`], so
    /// they cannot change whether an expression parses: checking the
    /// expression in this scope checks it for every app (and once per process).
    pub fn canonical(kind: WorkloadKind) -> Scope {
        Scope {
            namespace: "ns".to_string(),
            job: "app".to_string(),
            kind,
            workload: "app".to_string(),
            container: "app".to_string(),
            internal_routes: vec!["/metrics".to_string()],
        }
    }

    /// An RE2 regex matching the names of the workload's pods.
    pub fn pod_regex(&self) -> String {
        let name = promql::regex_escape(&self.workload);
        match self.kind {
            WorkloadKind::Deployment => format!("{name}-[a-z0-9]+-[a-z0-9]+"),
            WorkloadKind::StatefulSet => format!("{name}-[0-9]+"),
            WorkloadKind::DaemonSet => format!("{name}-[a-z0-9]+"),
        }
    }

    /// The label matchers (without braces) that scope a signal from `source`.
    pub fn matchers(&self, source: SignalSource) -> String {
        let ns = format!("namespace={}", promql::quote(&self.namespace));
        match source {
            SignalSource::App | SignalSource::Scrape => {
                format!("{ns},job={}", promql::quote(&self.job))
            }
            SignalSource::Pod => format!("{ns},pod=~{}", promql::quote(&self.pod_regex())),
            SignalSource::Container => format!(
                "{ns},pod=~{},container={}",
                promql::quote(&self.pod_regex()),
                promql::quote(&self.container)
            ),
            SignalSource::Workload => format!(
                "{ns},{}={}",
                self.kind.resource(),
                promql::quote(&self.workload)
            ),
        }
    }
}

/// The app's metrics path and HTTP probe paths, sorted and without repeats:
/// requests to them are Prometheus and the kubelet, not users, and on a quiet
/// service they would dilute the error ratio.
fn internal_routes(app: &App) -> Vec<String> {
    let probes = app.containers.iter().flat_map(|c| {
        [&c.liveness_probe, &c.readiness_probe, &c.startup_probe]
            .into_iter()
            .flatten()
            .filter_map(|p| p.http_get.as_ref()?.path.clone())
    });
    let mut routes: Vec<String> = app
        .metrics
        .iter()
        .map(|m| m.path.clone())
        .chain(probes)
        .filter(|p| !p.is_empty())
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

/// The matcher value that stands for the app's internal routes.
const INTERNAL_ROUTES: &str = "@internal_routes";

/// Where a signal's resolved name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// The need's default name.
    Default,
    /// One of the need's accepted alternatives.
    Alternative(String),
    /// The user's mapping; the text says where it came from (`--signal` or
    /// the config file).
    User(String),
}

/// A signal mapped onto real names for this app.
#[derive(Debug, Clone)]
pub struct ResolvedSignal {
    /// The signal's name in the need.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: SignalType,
    /// The real metric name (base name for histograms).
    pub metric: String,
    /// Logical label → real label name.
    pub labels: BTreeMap<String, String>,
    /// Where the series come from.
    pub source: SignalSource,
    /// Optional for the need.
    pub optional: bool,
    /// How the name was chosen.
    pub mapping: Mapping,
}

impl ResolvedSignal {
    /// The series name the selector uses (histograms: `_count`, the series every histogram has).
    pub fn series_name(&self) -> String {
        match self.kind {
            SignalType::Histogram => format!("{}_count", self.metric),
            _ => self.metric.clone(),
        }
    }
}

/// The user's signal mappings: `NAME=metric` and `NAME.LABEL=label`, each
/// with where it came from (`--signal` or the config file), for messages.
#[derive(Debug, Clone, Default)]
pub struct SignalOverrides {
    metrics: BTreeMap<String, (String, String)>,
    labels: BTreeMap<(String, String), (String, String)>,
}

impl SignalOverrides {
    /// Adds one `NAME=metric` or `NAME.LABEL=label` mapping; `origin` names where it came from.
    pub fn add(&mut self, spec: &str, origin: &str) -> Result<()> {
        let bad = |message: String| Error::SignalMapping {
            origin: origin.to_string(),
            message,
        };
        let (key, value) = spec.split_once('=').ok_or_else(|| {
            bad(format!(
                "{spec:?} is not a mapping; write SIGNAL=metric_name or SIGNAL.LABEL=label_name"
            ))
        })?;
        let (key, value) = (key.trim(), value.trim());
        match key.split_once('.') {
            Some((signal, label)) => {
                if !promql::is_label_name(value) {
                    return Err(bad(format!(
                        "{value:?} is not a valid Prometheus label name (letters, digits and '_', not starting with a digit)"
                    )));
                }
                self.labels.insert(
                    (signal.to_string(), label.to_string()),
                    (value.to_string(), origin.to_string()),
                );
            }
            None => {
                if !promql::is_metric_name(value) {
                    return Err(bad(format!(
                        "{value:?} is not a valid Prometheus metric name (letters, digits, '_' and ':', not starting with a digit)"
                    )));
                }
                self.metrics
                    .insert(key.to_string(), (value.to_string(), origin.to_string()));
            }
        }
        Ok(())
    }

    /// Checks that every mapping names a signal (and label) of some need in use.
    pub fn check_against(&self, needs: &[&Need]) -> Result<()> {
        let known = |signal: &str| needs.iter().find_map(|n| n.signals.get(signal));
        let all_signals = || {
            let mut names: Vec<&str> = needs
                .iter()
                .flat_map(|n| n.signals.keys().map(String::as_str))
                .collect();
            names.sort();
            names.dedup();
            names.join(", ")
        };
        for (signal, (_, origin)) in &self.metrics {
            if known(signal).is_none() {
                return Err(Error::SignalMapping {
                    origin: origin.clone(),
                    message: format!(
                        "no need in use has a signal {signal:?}; signals: {}",
                        all_signals()
                    ),
                });
            }
        }
        for ((signal, label), (_, origin)) in &self.labels {
            let Some(def) = known(signal) else {
                return Err(Error::SignalMapping {
                    origin: origin.clone(),
                    message: format!(
                        "no need in use has a signal {signal:?}; signals: {}",
                        all_signals()
                    ),
                });
            };
            if !def.labels.contains_key(label) {
                return Err(Error::SignalMapping {
                    origin: origin.clone(),
                    message: format!(
                        "signal {signal:?} has no label {label:?}; its labels: {}",
                        def.labels.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Resolves one signal: the user's mapping wins, then (when `available` is
/// given) the first of the default and alternatives that exists, else the default.
pub fn resolve_signal(
    name: &str,
    signal: &Signal,
    kind: WorkloadKind,
    overrides: &SignalOverrides,
    available: Option<&dyn Fn(&str) -> bool>,
) -> ResolvedSignal {
    let default_metric = signal
        .metric_by_kind
        .get(kind.resource())
        .unwrap_or(&signal.metric)
        .clone();
    let alternative_for = |metric: &str| signal.alternatives.iter().find(|a| a.metric == metric);
    let (metric, mut labels, mapping) = if let Some((user, origin)) = overrides.metrics.get(name) {
        let labels = match alternative_for(user) {
            Some(alt) => merged(&signal.labels, &alt.labels),
            None => signal.labels.clone(),
        };
        (user.clone(), labels, Mapping::User(origin.clone()))
    } else {
        let exists = |m: &str| {
            let series = match signal.kind {
                SignalType::Histogram => format!("{m}_count"),
                _ => m.to_string(),
            };
            available.is_some_and(|f| f(&series))
        };
        match signal.alternatives.iter().find(|a| exists(&a.metric)) {
            Some(alt) if !exists(&default_metric) => (
                alt.metric.clone(),
                merged(&signal.labels, &alt.labels),
                Mapping::Alternative(alt.convention.clone()),
            ),
            _ => (default_metric, signal.labels.clone(), Mapping::Default),
        }
    };
    for ((sig, label), (real, _)) in &overrides.labels {
        if sig == name && labels.contains_key(label) {
            labels.insert(label.clone(), real.clone());
        }
    }
    ResolvedSignal {
        name: name.to_string(),
        kind: signal.kind,
        metric,
        labels,
        source: signal.source,
        optional: signal.optional,
        mapping,
    }
}

fn merged(
    base: &BTreeMap<String, String>,
    over: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = base.clone();
    out.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// A need with its signals resolved for one app: expands the need's templates.
#[derive(Debug, Clone)]
pub struct ResolvedNeed<'a> {
    /// The need.
    pub need: &'a Need,
    /// The signals by name.
    pub signals: BTreeMap<String, ResolvedSignal>,
    /// The app's scope.
    pub scope: Scope,
    /// The scope expressions are checked in (see [`Scope::canonical`]).
    canonical: Scope,
}

/// How a placeholder is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// PromQL: selectors and bare label names.
    Promql,
    /// A Grafana legend or annotation text: label references become `{{label}}`.
    Legend,
}

impl<'a> ResolvedNeed<'a> {
    /// Resolves every signal of `need` for the scope.
    pub fn new(
        need: &'a Need,
        scope: Scope,
        overrides: &SignalOverrides,
        available: Option<&dyn Fn(&str) -> bool>,
    ) -> ResolvedNeed<'a> {
        let signals = need
            .signals
            .iter()
            .map(|(name, s)| {
                (
                    name.clone(),
                    resolve_signal(name, s, scope.kind, overrides, available),
                )
            })
            .collect();
        ResolvedNeed {
            need,
            signals,
            canonical: Scope::canonical(scope.kind),
            scope,
        }
    }

    /// Expands a PromQL template.
    pub fn expr(&self, template: &str) -> std::result::Result<String, String> {
        self.expand(template, Target::Promql)
    }

    /// Expands a PromQL template and checks the result: it parses, and its
    /// counters are read through rate/irate/increase (see [`promql::check`]).
    pub fn checked_expr(&self, template: &str) -> std::result::Result<String, String> {
        let expr = self.expr(template)?;
        let canonical = self.expand_in(template, Target::Promql, &self.canonical)?;
        promql::check_cached(&canonical)?;
        Ok(expr)
    }

    /// Expands a legend or annotation-text template.
    pub fn legend(&self, template: &str) -> std::result::Result<String, String> {
        self.expand(template, Target::Legend)
    }

    /// The names of the signals a template refers to.
    pub fn signals_used(&self, template: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else {
                break;
            };
            let inner = rest[start + 2..start + end].trim();
            let name: String = inner
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if self.signals.contains_key(&name) && !names.contains(&name) {
                names.push(name);
            }
            rest = &rest[start + end + 2..];
        }
        names
    }

    fn expand(&self, template: &str, target: Target) -> std::result::Result<String, String> {
        self.expand_in(template, target, &self.scope)
    }

    fn expand_in(
        &self,
        template: &str,
        target: Target,
        scope: &Scope,
    ) -> std::result::Result<String, String> {
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("unclosed `{{{{` in {template:?}"))?;
            let placeholder = after[..end].trim();
            if target == Target::Legend && !placeholder.contains('.') {
                // A plain Grafana legend reference such as {{pod}}: keep it.
                out.push_str("{{");
                out.push_str(placeholder);
                out.push_str("}}");
            } else {
                out.push_str(&self.placeholder(placeholder, target, scope)?);
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn signal(&self, name: &str) -> std::result::Result<&ResolvedSignal, String> {
        self.signals.get(name).ok_or_else(|| {
            format!(
                "unknown signal {name:?}; this need's signals: {}",
                self.signals.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    fn label(&self, signal: &ResolvedSignal, logical: &str) -> std::result::Result<String, String> {
        signal.labels.get(logical).cloned().ok_or_else(|| {
            format!(
                "signal {:?} has no label {logical:?}; its labels: {}",
                signal.name,
                signal.labels.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    fn placeholder(
        &self,
        text: &str,
        target: Target,
        scope: &Scope,
    ) -> std::result::Result<String, String> {
        let (head, matchers) = match text.split_once('|') {
            Some((h, m)) => (h.trim(), Some(m.trim())),
            None => (text, None),
        };
        if let Some((name, label)) = head.split_once('.') {
            let signal = self.signal(name.trim())?;
            let real = self.label(signal, label.trim())?;
            return Ok(match target {
                Target::Promql => real,
                Target::Legend => format!("{{{{{real}}}}}"),
            });
        }
        let (name, suffix) = match head.split_once(':') {
            Some((n, s)) => (n.trim(), Some(s.trim())),
            None => (head, None),
        };
        let signal = self.signal(name)?;
        let metric = match (signal.kind, suffix) {
            (SignalType::Histogram, Some(s @ ("bucket" | "sum" | "count"))) => {
                format!("{}_{s}", signal.metric)
            }
            (SignalType::Histogram, _) => {
                return Err(format!(
                    "histogram signal {name:?} needs a series: {{{{{name}:bucket}}}}, {{{{{name}:sum}}}} or {{{{{name}:count}}}}"
                ));
            }
            (_, None) => signal.metric.clone(),
            (_, Some(s)) => {
                return Err(format!(
                    "only histogram signals take a series suffix; {name:?} is not a histogram (got :{s})"
                ));
            }
        };
        let mut selector = scope.matchers(signal.source);
        if let Some(matchers) = matchers {
            for m in split_matchers(matchers) {
                let (label, op, value) = parse_matcher(m)?;
                let value = if value == INTERNAL_ROUTES {
                    if scope.internal_routes.is_empty() {
                        continue;
                    }
                    let alternatives: Vec<String> = scope
                        .internal_routes
                        .iter()
                        .map(|r| promql::regex_escape(r))
                        .collect();
                    promql::quote(&alternatives.join("|"))
                } else {
                    value.to_string()
                };
                selector.push(',');
                selector.push_str(&self.label(signal, label)?);
                selector.push_str(op);
                selector.push_str(&value);
            }
        }
        Ok(format!("{metric}{{{selector}}}"))
    }
}

/// Splits `a="x",b=~"y,z"` on commas outside quotes.
fn split_matchers(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

fn parse_matcher(text: &str) -> std::result::Result<(&str, &str, &str), String> {
    for op in ["=~", "!~", "!=", "="] {
        if let Some(idx) = text.find(op) {
            let label = text[..idx].trim();
            let value = text[idx + op.len()..].trim();
            if value == INTERNAL_ROUTES && op == "!~" {
                return Ok((label, op, value));
            }
            if !(value.starts_with('"') && value.ends_with('"') && value.len() >= 2) {
                return Err(format!(
                    "matcher {text:?}: the value must be a double-quoted PromQL string (or {INTERNAL_ROUTES} after !~)"
                ));
            }
            return Ok((label, op, value));
        }
    }
    Err(format!(
        "matcher {text:?} has no operator (=, !=, =~ or !~)"
    ))
}

/// Units Grafana knows that onramp's needs may use.
const UNITS: &[&str] = &[
    "short",
    "none",
    "percent",
    "percentunit",
    "reqps",
    "ops",
    "s",
    "ms",
    "µs",
    "ns",
    "bytes",
    "decbytes",
    "bits",
    "Bps",
    "cps",
    "locale",
    "dtdurations",
    "dateTimeAsIso",
    "cores",
];

/// Checks a need as a whole, expanding every template for a sample app so that
/// a broken expression in a need file is caught when the catalog loads.
pub fn check_need(entry: &CatalogEntry) -> Result<()> {
    let need = &entry.need;
    let checker = NeedChecker {
        entry,
        resolved: ResolvedNeed::new(
            need,
            Scope::canonical(WorkloadKind::Deployment),
            &SignalOverrides::default(),
            None,
        ),
        variables: need.variables.iter().map(|v| v.name.clone()).collect(),
    };
    checker.signals()?;
    checker.panels()?;
    for alert in &need.alerts {
        checker.alert(alert)?;
    }
    checker.variables()?;
    checker.annotations()
}

/// The checks of one need file, each failing with the file, the line when
/// known, and the part of the need.
struct NeedChecker<'a> {
    entry: &'a CatalogEntry,
    resolved: ResolvedNeed<'a>,
    variables: Vec<String>,
}

impl NeedChecker<'_> {
    fn fail(&self, at: Option<&serde_saphyr::Location>, what: &str, message: String) -> Error {
        let file = &self.entry.file;
        Error::NeedFile {
            location: match at {
                Some(l) if l.line() > 0 => {
                    Location::at(file, l.line() as usize, Some(l.column() as usize))
                }
                _ => Location::file(file),
            },
            message: format!("{what}: {message}"),
        }
    }

    fn signals(&self) -> Result<()> {
        for (name, signal) in &self.entry.need.signals {
            if !promql::is_metric_name(&signal.metric) {
                let what = format!("signal {name:?}");
                let why = format!("{:?} is not a valid metric name", signal.metric);
                return Err(self.fail(None, &what, why));
            }
            for (logical, real) in &signal.labels {
                if !promql::is_label_name(real) {
                    let what = format!("signal {name:?} label {logical:?}");
                    let why = format!("{real:?} is not a valid label name");
                    return Err(self.fail(None, &what, why));
                }
            }
        }
        Ok(())
    }

    fn panels(&self) -> Result<()> {
        if self.entry.need.panels.is_empty() {
            let why = "a need has at least one panel".into();
            return Err(self.fail(None, "panels", why));
        }
        for panel in &self.entry.need.panels {
            let what = format!("panel {:?}", panel.title);
            let fail = |why: String| Err(self.fail(None, &what, why));
            if panel.description.trim().is_empty() {
                return fail("needs a description".into());
            }
            if !UNITS.contains(&panel.unit.as_str()) {
                let units = UNITS.join(", ");
                return fail(format!(
                    "unknown unit {:?}; use one of: {units}",
                    panel.unit
                ));
            }
            if panel.width.is_some_and(|w| !(1..=24).contains(&w)) {
                return fail("width must be 1 to 24".into());
            }
            if panel.queries.is_empty() {
                return fail("needs at least one query".into());
            }
            for q in &panel.queries {
                self.dashboard_query(&q.expr, &q.legend, &what)?;
            }
        }
        Ok(())
    }

    /// A query Grafana runs: it expands and parses, its legend expands, and
    /// the dashboard's variables are matched as regexes.
    fn dashboard_query(&self, expr: &Spanned<String>, legend: &str, what: &str) -> Result<()> {
        let at = Some(&expr.referenced);
        let expanded = self
            .resolved
            .checked_expr(&expr.value)
            .map_err(|m| self.fail(at, what, m))?;
        promql::check_variable_matchers(&expanded, &self.variables)
            .map_err(|m| self.fail(at, what, m))?;
        self.resolved
            .legend(legend)
            .map_err(|m| self.fail(at, what, m))?;
        Ok(())
    }

    fn alert(&self, alert: &crate::needs::AlertDef) -> Result<()> {
        let what = format!("alert {:?}", alert.name);
        let fail = |at, why: String| Err(self.fail(at, &what, why));
        if alert.name.is_empty() || !alert.name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return fail(None, "alert names are CamelCase letters and digits".into());
        }
        // The severity is typed: an unknown one is refused where the file is parsed.
        if let Err(why) = promql::check_duration(&alert.for_.value) {
            return fail(
                Some(&alert.for_.referenced),
                format!("`for: {}` {why}", alert.for_.value),
            );
        }
        let expr = self.rule_expr(&alert.expr, &what)?;
        if expr.contains("$__") {
            return fail(
                Some(&alert.expr.referenced),
                "Grafana variables like $__rate_interval do not exist in Prometheus rules; use a fixed range such as [5m]".into(),
            );
        }
        for q in &alert.queries {
            self.rule_expr(&q.expr, &what)?;
        }
        Ok(())
    }

    /// An expression Prometheus evaluates: it expands and parses.
    fn rule_expr(&self, expr: &Spanned<String>, what: &str) -> Result<String> {
        let at = Some(&expr.referenced);
        let expanded = self
            .resolved
            .expr(&expr.value)
            .map_err(|m| self.fail(at, what, m))?;
        promql::check_cached(&expanded).map_err(|m| self.fail(at, what, m))?;
        Ok(expanded)
    }

    fn variables(&self) -> Result<()> {
        let need = &self.entry.need;
        for var in &need.variables {
            let what = format!("variable {:?}", var.name);
            let Some(signal) = need.signals.get(&var.signal) else {
                let why = format!("unknown signal {:?}", var.signal);
                return Err(self.fail(None, &what, why));
            };
            if !signal.labels.contains_key(&var.signal_label) {
                let why = format!(
                    "signal {:?} has no label {:?}",
                    var.signal, var.signal_label
                );
                return Err(self.fail(None, &what, why));
            }
            if var.busiest_first && signal.kind != SignalType::Counter {
                let why = format!(
                    "busiest_first ranks values by the increase of a counter; signal {:?} is not a counter",
                    var.signal
                );
                return Err(self.fail(None, &what, why));
            }
        }
        Ok(())
    }

    fn annotations(&self) -> Result<()> {
        for ann in &self.entry.need.annotations {
            let what = format!("annotation {:?}", ann.name);
            self.dashboard_query(&ann.expr, &ann.text, &what)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needs::Catalog;

    fn scope() -> Scope {
        Scope {
            namespace: "shop".into(),
            job: "checkout".into(),
            kind: WorkloadKind::Deployment,
            workload: "checkout".into(),
            container: "app".into(),
            internal_routes: vec!["/healthz".into(), "/metrics".into()],
        }
    }

    #[test]
    fn internal_routes_expand_to_an_escaped_regex_or_to_nothing() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let need = &catalog.get("service-health").expect("need").need;
        let template = r#"{{requests|status=~"5..",route!~@internal_routes}}"#;
        let r = ResolvedNeed::new(need, scope(), &SignalOverrides::default(), None);
        assert_eq!(
            r.expr(template).expect("expands"),
            r#"http_requests_total{namespace="shop",job="checkout",status=~"5..",route!~"/healthz|/metrics"}"#
        );
        let bare = Scope {
            internal_routes: Vec::new(),
            ..scope()
        };
        let r = ResolvedNeed::new(need, bare, &SignalOverrides::default(), None);
        assert_eq!(
            r.expr(template).expect("expands"),
            r#"http_requests_total{namespace="shop",job="checkout",status=~"5.."}"#
        );
        // Only a regex can stand for several paths, and only to exclude them.
        let err = r
            .expr("{{requests|route=~@internal_routes}}")
            .expect_err("refused");
        assert!(err.contains("after !~"), "{err}");
    }

    #[test]
    fn placeholders_expand_to_scoped_selectors_and_mapped_labels() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let need = &catalog.get("service-health").expect("need").need;
        let mut overrides = SignalOverrides::default();
        overrides
            .add("requests=http_server_requests_seconds_count", "--signal")
            .expect("valid");
        let r = ResolvedNeed::new(need, scope(), &overrides, None);
        let expr = r
            .expr(r#"sum by ({{requests.route}}) (rate({{requests|status=~"5.."}}[5m]))"#)
            .expect("expands");
        assert_eq!(
            expr,
            r#"sum by (uri) (rate(http_server_requests_seconds_count{namespace="shop",job="checkout",status=~"5.."}[5m]))"#
        );
        assert_eq!(
            r.legend("{{requests.route}} {{pod}}").expect("legend"),
            "{{uri}} {{pod}}"
        );
    }

    #[test]
    fn an_invalid_metric_name_in_a_mapping_is_refused() {
        let mut overrides = SignalOverrides::default();
        let err = overrides
            .add("requests=http requests{}", "--signal")
            .expect_err("invalid");
        assert!(
            err.to_string()
                .contains("not a valid Prometheus metric name"),
            "{err}"
        );
    }

    #[test]
    fn pod_regex_escapes_the_workload_name() {
        let mut s = scope();
        s.workload = "a.b".into();
        assert_eq!(s.pod_regex(), r"a\.b-[a-z0-9]+-[a-z0-9]+");
        assert!(s.matchers(SignalSource::Pod).contains(r#"pod=~"a\\.b-"#));
    }
}
