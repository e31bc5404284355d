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

use std::collections::{BTreeMap, BTreeSet};

use crate::app::{App, WorkloadKind};
use crate::error::{Error, Location, Result};
use crate::needs::promql;
use crate::needs::{CatalogEntry, Need, NeedScope, Signal, SignalSource, SignalType, Unit};
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
            SignalSource::Fleet => String::new(),
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
    /// The unit of its values (milliseconds are converted by `{{signal:seconds}}`).
    pub unit: Unit,
    /// Why this convention was chosen, when Prometheus was consulted.
    pub why: String,
    /// When Prometheus was consulted and no convention fit: each one tried and why not.
    pub tried: Vec<String>,
    /// Every convention the signal accepts, `metric (convention)`, in order.
    pub conventions: Vec<String>,
}

impl ResolvedSignal {
    /// The series name the selector uses (histograms: `_count`, the series every histogram has).
    pub fn series_name(&self) -> String {
        series_name(&self.metric, self.kind)
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

/// What the app's series in Prometheus look like: for each series name, the
/// label names it carries and (for `_bucket` series) its distinct `le` bounds.
/// Signals resolve against it by name, labels and histogram resolution.
#[derive(Debug, Clone, Default)]
pub struct Exposed {
    series: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Exposed {
    /// Builds it from the label sets of the app's series (`/api/v1/series`).
    pub fn from_series<'a>(series: impl IntoIterator<Item = &'a BTreeMap<String, String>>) -> Self {
        let mut out = Exposed::default();
        for labels in series {
            let Some(name) = labels.get("__name__") else {
                continue;
            };
            let entry = out.series.entry(name.clone()).or_default();
            entry
                .0
                .extend(labels.keys().filter(|k| *k != "__name__").cloned());
            if let Some(le) = labels.get("le") {
                entry.1.insert(le.clone());
            }
        }
        out
    }

    /// How many metric names the app's series have.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when the app has no series at all.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The distinct `le` bounds of a `_bucket` series, as the app writes
    /// them (`None` when the app has no such series).
    pub fn buckets(&self, series: &str) -> Option<&BTreeSet<String>> {
        self.series
            .get(series)
            .map(|(_, les)| les)
            .filter(|les| !les.is_empty())
    }

    /// True when a series of this name exists for the app.
    pub fn contains(&self, name: &str) -> bool {
        self.series.contains_key(name)
    }

    /// Whether `candidate` is what the app exposes: its series exist and carry
    /// every label it maps to. Ok holds the histogram's bucket count (0 for
    /// other types), Err why it does not fit.
    fn fit(&self, candidate: &Candidate) -> std::result::Result<usize, String> {
        let series = series_name(&candidate.metric, candidate.kind);
        let Some((labels, _)) = self.series.get(&series) else {
            return Err(format!("no series {series}"));
        };
        let missing: Vec<&str> = candidate
            .labels
            .values()
            .filter(|l| !labels.contains(*l))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(format!("{series} has no label {}", missing.join(", ")));
        }
        Ok(match candidate.kind {
            SignalType::Histogram => self
                .series
                .get(&format!("{}_bucket", candidate.metric))
                .map_or(0, |(_, le)| le.len()),
            _ => 0,
        })
    }
}

fn series_name(metric: &str, kind: SignalType) -> String {
    match kind {
        SignalType::Histogram => format!("{metric}_count"),
        _ => metric.to_string(),
    }
}

/// One convention a signal accepts: the default or an alternative.
#[derive(Debug, Clone)]
struct Candidate {
    metric: String,
    labels: BTreeMap<String, String>,
    kind: SignalType,
    unit: Unit,
    convention: String,
    alternative: bool,
}

impl Candidate {
    /// How it is named in messages: `metric (convention)`.
    fn describe(&self) -> String {
        if self.convention.is_empty() {
            self.metric.clone()
        } else {
            format!("{} ({})", self.metric, self.convention)
        }
    }
}

/// The default convention, then the alternatives, in the need's order.
fn candidates(signal: &Signal, kind: WorkloadKind) -> Vec<Candidate> {
    let default = Candidate {
        metric: signal
            .metric_by_kind
            .get(kind.resource())
            .unwrap_or(&signal.metric)
            .clone(),
        labels: signal.labels.clone(),
        kind: signal.kind,
        unit: signal.unit,
        convention: signal.convention.clone(),
        alternative: false,
    };
    let alternatives = signal.alternatives.iter().map(|a| Candidate {
        metric: a.metric.clone(),
        labels: merged(&signal.labels, &a.labels),
        kind: a.kind.unwrap_or(signal.kind),
        unit: a.unit.unwrap_or(signal.unit),
        convention: a.convention.clone(),
        alternative: true,
    });
    std::iter::once(default).chain(alternatives).collect()
}

/// Picks the convention the app exposes: the first that fits, or among
/// histograms the finest (most buckets) — an app may have a coarse
/// per-route histogram and a fine one without routes. Returns the choice
/// and why, or every candidate tried and why it did not fit.
fn choose(
    candidates: &[Candidate],
    exposed: &Exposed,
) -> std::result::Result<(usize, String), Vec<String>> {
    let fits: Vec<std::result::Result<usize, String>> =
        candidates.iter().map(|c| exposed.fit(c)).collect();
    let mut best: Option<(usize, usize)> = None;
    for (i, fit) in fits.iter().enumerate() {
        if let Ok(buckets) = fit
            && best.is_none_or(|(_, b)| *buckets > b)
        {
            best = Some((i, *buckets));
        }
    }
    let Some((i, buckets)) = best else {
        return Err(candidates
            .iter()
            .zip(&fits)
            .map(|(c, fit)| format!("{}: {}", c.describe(), fit.as_ref().err().map_or("", |e| e)))
            .collect());
    };
    let chosen = &candidates[i];
    let series = series_name(&chosen.metric, chosen.kind);
    let mut why = if chosen.labels.is_empty() {
        format!("the app exposes {series}")
    } else {
        let labels: Vec<&str> = chosen.labels.values().map(String::as_str).collect();
        format!("the app exposes {series} with label {}", labels.join(", "))
    };
    let histograms = fits.iter().filter(|f| f.is_ok()).count();
    if chosen.kind == SignalType::Histogram && histograms > 1 {
        why.push_str(&format!(
            "; the finest of {histograms} histograms present ({buckets} buckets)"
        ));
    }
    Ok((i, why))
}

/// Resolves one signal: the user's mapping wins, then (when `exposed` is
/// given) the convention the app's series fit (see `choose`), else the default.
pub fn resolve_signal(
    name: &str,
    signal: &Signal,
    kind: WorkloadKind,
    overrides: &SignalOverrides,
    exposed: Option<&Exposed>,
) -> ResolvedSignal {
    let all = candidates(signal, kind);
    let (mut chosen, mapping, why, tried) =
        if let Some((user, origin)) = overrides.metrics.get(name) {
            // The user's name takes the labels, type and unit of the convention
            // that spells it so; a name no convention has keeps the default's.
            let mut c = all
                .iter()
                .find(|c| &c.metric == user)
                .unwrap_or(&all[0])
                .clone();
            c.metric = user.clone();
            let why = format!("mapped by {origin}");
            (c, Mapping::User(origin.clone()), why, Vec::new())
        } else {
            match exposed.map(|e| choose(&all, e)) {
                Some(Ok((i, why))) => {
                    let c = all[i].clone();
                    let mapping = if c.alternative {
                        Mapping::Alternative(c.convention.clone())
                    } else {
                        Mapping::Default
                    };
                    (c, mapping, why, Vec::new())
                }
                Some(Err(tried)) => (all[0].clone(), Mapping::Default, String::new(), tried),
                None => (all[0].clone(), Mapping::Default, String::new(), Vec::new()),
            }
        };
    for ((sig, label), (real, _)) in &overrides.labels {
        if sig == name && chosen.labels.contains_key(label) {
            chosen.labels.insert(label.clone(), real.clone());
        }
    }
    ResolvedSignal {
        name: name.to_string(),
        kind: chosen.kind,
        unit: chosen.unit,
        metric: chosen.metric,
        labels: chosen.labels,
        source: signal.source,
        optional: signal.optional,
        mapping,
        why,
        tried,
        conventions: all.iter().map(Candidate::describe).collect(),
    }
}

/// An alternative's labels: the signal's, with the alternative's spellings over them.
pub fn merged(
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
        exposed: Option<&Exposed>,
    ) -> ResolvedNeed<'a> {
        let signals = need
            .signals
            .iter()
            .map(|(name, s)| {
                (
                    name.clone(),
                    resolve_signal(name, s, scope.kind, overrides, exposed),
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
        let (canonical, gauges) = self.checked_as(template)?;
        promql::check_cached_except(&canonical, &gauges)?;
        Ok(expr)
    }

    /// What [`ResolvedNeed::checked_expr`] checks for `template`: the
    /// expression in the canonical scope, and the metrics that are gauges
    /// whatever their names say.
    fn checked_as(&self, template: &str) -> std::result::Result<(String, Vec<String>), String> {
        let canonical = self.expand_in(template, Target::Promql, &self.canonical)?;
        let gauges: Vec<String> = self
            .signals
            .values()
            .filter(|s| s.kind == SignalType::Gauge)
            .map(|s| s.metric.clone())
            .collect();
        Ok((canonical, gauges))
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
        if suffix == Some("seconds") {
            return Ok(signal.unit.to_base().to_string());
        }
        let per_second = match suffix.and_then(|s| s.strip_prefix("per_second")) {
            Some(range) => Some(per_second_range(name, range)?),
            None => None,
        };
        let suffix = if per_second.is_some() { None } else { suffix };
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
        let mut parts = vec![scope.matchers(signal.source)];
        parts.retain(|p| !p.is_empty());
        if let Some(matchers) = matchers {
            parts.extend(self.extra_matchers(signal, matchers, scope)?);
        }
        // A fleet-wide signal without matchers is the bare metric name.
        let selector = if parts.is_empty() {
            metric
        } else {
            format!("{metric}{{{}}}", parts.join(","))
        };
        match per_second {
            None => Ok(selector),
            Some(range) => per_second_of(signal, &selector, range),
        }
    }

    /// The matchers of `{{signal|a="x",b!~@internal_routes}}` on real label
    /// names; `@internal_routes` is left out when the app has none.
    fn extra_matchers(
        &self,
        signal: &ResolvedSignal,
        matchers: &str,
        scope: &Scope,
    ) -> std::result::Result<Vec<String>, String> {
        let mut out = Vec::new();
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
            out.push(format!("{}{op}{value}", self.label(signal, label)?));
        }
        Ok(out)
    }
}

/// The `[range]` of `{{signal:per_second[range]}}`.
fn per_second_range<'t>(name: &str, text: &'t str) -> std::result::Result<&'t str, String> {
    let text = text.trim();
    if text.len() > 2 && text.starts_with('[') && text.ends_with(']') {
        Ok(text)
    } else {
        Err(format!(
            "{{{{{name}:per_second[RANGE]}}}} needs a range in brackets, such as [5m] or [$__rate_interval]"
        ))
    }
}

/// A per-second value over `range`, whatever the convention's type: a
/// counter through `rate`, a gauge that already holds the per-second value
/// (Micrometer's CPU usage) averaged over the range, then converted to the
/// base unit.
fn per_second_of(
    signal: &ResolvedSignal,
    selector: &str,
    range: &str,
) -> std::result::Result<String, String> {
    let inner = match signal.kind {
        SignalType::Counter => format!("rate({selector}{range})"),
        SignalType::Gauge => format!("avg_over_time({selector}{range})"),
        SignalType::Histogram => {
            return Err(format!(
                "{{{{{}:per_second}}}} reads a counter or gauge; a histogram reads :bucket, :sum or :count",
                signal.name
            ));
        }
    };
    Ok(match signal.unit.to_base() {
        "" => inner,
        to_base => format!("({inner}{to_base})"),
    })
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
/// a broken expression in a need file is caught when the catalog loads: the
/// first of [`need_findings`], with the file and the line when known.
pub fn check_need(entry: &CatalogEntry) -> Result<()> {
    match need_findings(&entry.need).into_iter().next() {
        None => Ok(()),
        Some(finding) => Err(Error::NeedFile {
            location: match finding.at {
                At::Span(l) if l.line() > 0 => {
                    Location::at(&entry.file, l.line() as usize, Some(l.column() as usize))
                }
                _ => Location::file(&entry.file),
            },
            message: finding.message,
        }),
    }
}

/// Where in a need file a finding is: a position the parser kept, or the
/// path of the node (`["panels", "0", "unit"]`) for whoever has the file's
/// text to place (`needs::check`).
#[derive(Debug, Clone, PartialEq)]
pub enum At {
    /// A position in the file.
    Span(serde_saphyr::Location),
    /// The keys (and sequence indices) from the top of the file to the node.
    Path(Vec<String>),
    /// Inside the string at `path`, after the text `before`.
    Text {
        /// The keys (and sequence indices) from the top of the file to the string.
        path: Vec<String>,
        /// The string's text before the place.
        before: String,
    },
}

/// One problem the checks found in a need.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Where it is.
    pub at: At,
    /// The part of the need and what is wrong with it.
    pub message: String,
}

/// Every problem of a need: its signals, panels, alerts, variables,
/// annotations, prose placeholders and walkthrough. Every expression is
/// expanded and parsed with each signal's default convention, then again with
/// each of its alternatives (which may differ in labels, type and unit); a
/// problem only an alternative has says which.
pub fn need_findings(need: &Need) -> Vec<Finding> {
    let mut out = Vec::new();
    let checker = NeedChecker::new(need, &SignalOverrides::default(), String::new());
    checker.structure(&mut out);
    checker.expressions(&mut out);
    for (name, signal) in &need.signals {
        for alt in &signal.alternatives {
            let mut overrides = SignalOverrides::default();
            // An invalid alternative name is already a finding of `structure`.
            if overrides
                .add(&format!("{name}={}", alt.metric), "needs check")
                .is_err()
            {
                continue;
            }
            let with = format!(" (with signal {name:?} as its alternative {})", alt.metric);
            let mut found = Vec::new();
            NeedChecker::new(need, &overrides, with).expressions(&mut found);
            for finding in found {
                if !out.iter().any(|f| f.at == finding.at) {
                    out.push(finding);
                }
            }
        }
    }
    out
}

/// The prose placeholders of need texts (`render::prose` substitutes them).
pub const PROSE_PLACEHOLDERS: &[&str] = &[
    "app",
    "namespace",
    "workload",
    "kind",
    "container",
    "selector",
    "prefix",
    "onramp_args",
];

/// The checks of one need, with its signals resolved one way, each finding
/// naming the part of the need.
struct NeedChecker<'a> {
    need: &'a Need,
    resolved: ResolvedNeed<'a>,
    variables: Vec<String>,
    /// Appended to expression findings: which alternative was in use.
    with: String,
}

/// A path in a need file.
fn path(parts: &[&dyn std::fmt::Display]) -> At {
    At::Path(parts.iter().map(|p| p.to_string()).collect())
}

impl<'a> NeedChecker<'a> {
    fn new(need: &'a Need, overrides: &SignalOverrides, with: String) -> NeedChecker<'a> {
        NeedChecker {
            need,
            resolved: ResolvedNeed::new(
                need,
                Scope::canonical(WorkloadKind::Deployment),
                overrides,
                None,
            ),
            variables: need.variables.iter().map(|v| v.name.clone()).collect(),
            with,
        }
    }

    /// The checks that do not depend on how signals resolve.
    fn structure(&self, out: &mut Vec<Finding>) {
        self.signals(out);
        self.panels(out);
        for (i, alert) in self.need.alerts.iter().enumerate() {
            self.alert(i, alert, out);
        }
        self.variables(out);
        self.prose(out);
    }

    /// The expressions, legends and label references, expanded and parsed.
    fn expressions(&self, out: &mut Vec<Finding>) {
        for panel in &self.need.panels {
            let what = format!("panel {:?}", panel.title);
            for q in &panel.queries {
                self.dashboard_query(&q.expr, &q.legend, &what, out);
            }
        }
        for alert in &self.need.alerts {
            let what = format!("alert {:?}", alert.name);
            if let Some(expr) = self.rule_expr(&alert.expr, &what, out)
                && expr.contains("$__")
            {
                out.push(Finding {
                    at: At::Span(alert.expr.referenced),
                    message: format!("{what}: Grafana variables like $__rate_interval do not exist in Prometheus rules; use a fixed range such as [5m]"),
                });
            }
            for q in &alert.queries {
                self.rule_expr(&q.expr, &what, out);
            }
        }
        for ann in &self.need.annotations {
            let what = format!("annotation {:?}", ann.name);
            self.dashboard_query(&ann.expr, &ann.text, &what, out);
        }
    }

    fn signals(&self, out: &mut Vec<Finding>) {
        let mut fail = |at: At, what: String, why: String| {
            out.push(Finding {
                at,
                message: format!("{what}: {why}"),
            });
        };
        let platform = self.need.scope == NeedScope::Platform;
        if platform && !self.need.alerts.is_empty() {
            let why = "a platform need has no alerts: its dashboard is not an app's, and no app's runbook would explain them";
            fail(path(&[&"alerts"]), "alerts".into(), why.into());
        }
        for (name, signal) in &self.need.signals {
            if platform != (signal.source == SignalSource::Fleet) {
                let why = if platform {
                    "a platform need (scope: platform) reads fleet-wide series: write `source: fleet`"
                } else {
                    "`source: fleet` series are not an app's: only a need with `scope: platform` reads them"
                };
                let at = path(&[&"signals", name, &"source"]);
                fail(at, format!("signal {name:?}"), why.into());
            }
            if !promql::is_metric_name(&signal.metric) {
                let why = format!("{:?} is not a valid metric name", signal.metric);
                fail(
                    path(&[&"signals", name, &"metric"]),
                    format!("signal {name:?}"),
                    why,
                );
            }
            for (i, alt) in signal.alternatives.iter().enumerate() {
                let at = |key: &dyn std::fmt::Display| {
                    path(&[&"signals", name, &"alternatives", &i, key])
                };
                if !promql::is_metric_name(&alt.metric) {
                    let why = format!("{:?} is not a valid metric name", alt.metric);
                    fail(at(&"metric"), format!("signal {name:?} alternative"), why);
                }
                for (logical, real) in &alt.labels {
                    if !promql::is_label_name(real) {
                        let what = format!("signal {name:?} label {logical:?}");
                        let why = format!("{real:?} is not a valid label name");
                        let at = path(&[&"signals", name, &"alternatives", &i, &"labels", logical]);
                        fail(at, what, why);
                    }
                }
            }
            for (logical, real) in &signal.labels {
                if !promql::is_label_name(real) {
                    let what = format!("signal {name:?} label {logical:?}");
                    let why = format!("{real:?} is not a valid label name");
                    fail(path(&[&"signals", name, &"labels", logical]), what, why);
                }
            }
        }
    }

    fn panels(&self, out: &mut Vec<Finding>) {
        if self.need.panels.is_empty() {
            out.push(Finding {
                at: path(&[&"panels"]),
                message: "panels: a need has at least one panel".into(),
            });
        }
        for (i, panel) in self.need.panels.iter().enumerate() {
            let mut fail = |key: &str, why: String| {
                out.push(Finding {
                    at: path(&[&"panels", &i, &key]),
                    message: format!("panel {:?}: {why}", panel.title),
                });
            };
            if panel.description.trim().is_empty() {
                fail("description", "needs a description".into());
            }
            if !UNITS.contains(&panel.unit.as_str()) {
                let units = UNITS.join(", ");
                fail(
                    "unit",
                    format!("unknown unit {:?}; use one of: {units}", panel.unit),
                );
            }
            if panel.width.is_some_and(|w| !(1..=24).contains(&w)) {
                fail("width", "width must be 1 to 24".into());
            }
            if panel.queries.is_empty() {
                fail("queries", "needs at least one query".into());
            }
        }
    }

    /// A query Grafana runs: it expands and parses, its legend expands, and
    /// the dashboard's variables are matched as regexes.
    fn dashboard_query(
        &self,
        expr: &Spanned<String>,
        legend: &str,
        what: &str,
        out: &mut Vec<Finding>,
    ) {
        let checked = self
            .resolved
            .checked_expr(&expr.value)
            .and_then(|expanded| {
                promql::check_variable_matchers(&expanded, &self.variables)?;
                self.resolved.legend(legend).map(|_| ())
            });
        if let Err(why) = checked {
            out.push(self.expr_finding(expr, what, why));
        }
    }

    fn expr_finding(&self, expr: &Spanned<String>, what: &str, why: String) -> Finding {
        Finding {
            at: At::Span(expr.referenced),
            message: format!("{what}: {why}{}", self.with),
        }
    }

    fn alert(&self, i: usize, alert: &crate::needs::AlertDef, out: &mut Vec<Finding>) {
        let what = format!("alert {:?}", alert.name);
        if alert.name.is_empty() || !alert.name.chars().all(|c| c.is_ascii_alphanumeric()) {
            out.push(Finding {
                at: path(&[&"alerts", &i, &"name"]),
                message: format!("{what}: alert names are CamelCase letters and digits"),
            });
        }
        // The severity is typed: an unknown one is refused where the file is parsed.
        if let Err(why) = promql::check_duration(&alert.for_.value) {
            out.push(Finding {
                at: At::Span(alert.for_.referenced),
                message: format!("{what}: `for: {}` {why}", alert.for_.value),
            });
        }
    }

    /// An expression Prometheus evaluates: it expands and parses, as the
    /// rules are rendered (`render::rules`).
    fn rule_expr(
        &self,
        expr: &Spanned<String>,
        what: &str,
        out: &mut Vec<Finding>,
    ) -> Option<String> {
        self.resolved
            .checked_expr(&expr.value)
            .map_err(|why| out.push(self.expr_finding(expr, what, why)))
            .ok()
    }

    fn variables(&self, out: &mut Vec<Finding>) {
        for (i, var) in self.need.variables.iter().enumerate() {
            let mut fail = |key: &str, why: String| {
                out.push(Finding {
                    at: path(&[&"variables", &i, &key]),
                    message: format!("variable {:?}: {why}", var.name),
                });
            };
            let Some(signal) = self.need.signals.get(&var.signal) else {
                fail("signal", format!("unknown signal {:?}", var.signal));
                continue;
            };
            if !signal.labels.contains_key(&var.signal_label) {
                let why = format!(
                    "signal {:?} has no label {:?}",
                    var.signal, var.signal_label
                );
                fail("signal_label", why);
            }
            if var.busiest_first && signal.kind != SignalType::Counter {
                let why = format!(
                    "busiest_first ranks values by the increase of a counter; signal {:?} is not a counter",
                    var.signal
                );
                fail("busiest_first", why);
            }
        }
    }

    /// The walkthrough is there, and the placeholders of every text are ones
    /// onramp substitutes.
    fn prose(&self, out: &mut Vec<Finding>) {
        let need = self.need;
        if need.walkthrough.trim().is_empty() {
            out.push(Finding {
                at: path(&[&"walkthrough"]),
                message: "walkthrough: a need tells how to troubleshoot with its dashboard, step by step; it is empty".into(),
            });
        }
        let walkthrough = vec!["walkthrough".to_string()];
        self.placeholders(&walkthrough, &need.walkthrough, "walkthrough", out);
        for (i, alert) in need.alerts.iter().enumerate() {
            let r = &alert.runbook;
            let mut texts: Vec<(Vec<&str>, &str)> = vec![
                (vec!["summary"], &alert.summary),
                (vec!["description"], &alert.description),
                (vec!["runbook", "meaning"], &r.meaning),
                (vec!["runbook", "impact"], &r.impact),
            ];
            let steps = [("diagnosis", &r.diagnosis), ("mitigation", &r.mitigation)];
            let indices: Vec<String> = (0..r.diagnosis.len().max(r.mitigation.len()))
                .map(|j| j.to_string())
                .collect();
            for (key, list) in steps {
                for (j, text) in list.iter().enumerate() {
                    texts.push((vec!["runbook", key, &indices[j]], text));
                }
            }
            let what = format!("alert {:?}", alert.name);
            for (keys, text) in texts {
                let mut at = vec!["alerts".to_string(), i.to_string()];
                at.extend(keys.iter().map(|k| k.to_string()));
                self.placeholders(&at, text, &what, out);
            }
        }
    }

    /// The findings of the placeholders of one text (at `at` in the file),
    /// each placed at its `{`.
    fn placeholders(&self, at: &[String], text: &str, what: &str, out: &mut Vec<Finding>) {
        let in_alert = at.first().is_some_and(|k| k == "alerts");
        let found =
            crate::needs::check::placeholder_problems(text, |p| self.placeholder(p, in_alert));
        for (offset, why) in found {
            out.push(Finding {
                at: At::Text {
                    path: at.to_vec(),
                    before: text[..offset].to_string(),
                },
                message: format!("{what}: {why}"),
            });
        }
    }

    /// Whether one `{…}` of a text is a placeholder onramp substitutes there:
    /// `Ok(true)` it is, `Ok(false)` it is not one of onramp's (a route's
    /// `{id}`), `Err` a broken one.
    fn placeholder(&self, text: &str, alert: bool) -> std::result::Result<bool, String> {
        if let Some(reference) = text.strip_prefix("label:") {
            if !alert {
                return Err(format!("{{{text}}} is only substituted in alert texts"));
            }
            return self
                .resolved
                .expr(&format!("{{{{{reference}}}}}"))
                .map(|_| true);
        }
        if let Some(signal) = text.strip_prefix("if:") {
            if alert {
                return Err(format!("{{{text}}} only applies to walkthrough lines"));
            }
            if !self.need.signals.contains_key(signal) {
                let known: Vec<&str> = self.need.signals.keys().map(String::as_str).collect();
                return Err(format!(
                    "{{{text}}} names no signal of this need; signals: {}",
                    known.join(", ")
                ));
            }
            return Ok(true);
        }
        if PROSE_PLACEHOLDERS.contains(&text) {
            return Ok(true);
        }
        match crate::needs::check::near(text, PROSE_PLACEHOLDERS) {
            Some(known) => Err(format!(
                "{{{text}}} is not a placeholder; did you mean {{{known}}}?"
            )),
            None => Ok(false),
        }
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

    /// The checks of a need file `text` as the catalog runs them on a user's.
    fn checked(text: &str) -> Result<()> {
        let need = crate::needs::parse_need("mine.yaml", text).expect("parses");
        check_need(&CatalogEntry {
            need,
            origin: crate::needs::Origin::File("mine.yaml".into()),
            file: "mine.yaml".to_string(),
            overrides_built_in: false,
        })
    }

    #[test]
    fn fleet_signals_were_refused_outside_a_platform_need_and_app_signals_inside_one() {
        let need = |scope: &str, source: &str, alerts: &str| {
            format!(
                "id: mine\ntitle: Mine\nstory: s\nscope: {scope}\nsignals:\n  levels: {{description: d, type: gauge, metric: onramp_adoption_level, labels: {{team: team}}, source: {source}, instrumentation: i}}\npanels:\n  - {{title: T, description: D, unit: short, queries: [{{expr: 'count({{{{levels|team=~\"$team\"}}}})'}}]}}\n{alerts}walkthrough: w\n"
            )
        };
        assert!(checked(&need("platform", "fleet", "")).is_ok());
        let app_source = checked(&need("platform", "app", "")).expect_err("an app's signal");
        assert!(
            app_source.to_string().contains(
                "signal \"levels\": a platform need (scope: platform) reads fleet-wide series: write `source: fleet`"
            ),
            "{app_source}"
        );
        let fleet_in_app = checked(&need("app", "fleet", "")).expect_err("a fleet signal");
        assert!(
            fleet_in_app
                .to_string()
                .contains("only a need with `scope: platform` reads them"),
            "{fleet_in_app}"
        );
        let alert = "alerts:\n  - {name: Low, expr: 'count({{levels}}) < 1', for: 5m, severity: info, summary: s, description: d, runbook: {meaning: m, impact: i, diagnosis: [d], mitigation: [m]}}\n";
        let alerted = checked(&need("platform", "fleet", alert)).expect_err("alerts");
        assert!(
            alerted
                .to_string()
                .contains("alerts: a platform need has no alerts"),
            "{alerted}"
        );
    }

    #[test]
    fn a_fleet_signal_expanded_without_a_selector_or_with_the_variables_only() {
        let catalog = Catalog::load(&[]).expect("catalog");
        let need = &catalog.get("platform-adoption").expect("need").need;
        let resolved = ResolvedNeed::new(need, scope(), &SignalOverrides::default(), None);
        assert_eq!(
            resolved.expr("count({{levels}})"),
            Ok("count(onramp_adoption_level)".to_string())
        );
        assert_eq!(
            resolved.expr(r#"{{answered|team=~"$team",need="x"}}"#),
            Ok(r#"onramp_need_answered{team=~"$team",need="x"}"#.to_string())
        );
    }

    #[test]
    fn pod_regex_escapes_the_workload_name() {
        let mut s = scope();
        s.workload = "a.b".into();
        assert_eq!(s.pod_regex(), r"a\.b-[a-z0-9]+-[a-z0-9]+");
        assert!(s.matchers(SignalSource::Pod).contains(r#"pod=~"a\\.b-"#));
    }

    /// Every expression of the built-in apps' needs, as `checked_expr`
    /// checks it, passes the real check, and `promql::KNOWN_GOOD` holds
    /// exactly these: what every app's plan expands. A platform need's
    /// dashboard is rendered once, not per app: its expressions are checked
    /// as it renders.
    #[test]
    fn the_known_good_expressions_are_current() {
        let catalog = Catalog::load(&[]).expect("built-in needs");
        let mut keys = BTreeSet::new();
        let apps_needs = catalog
            .entries()
            .iter()
            .filter(|e| e.need.scope == NeedScope::App);
        for entry in apps_needs {
            let need = &entry.need;
            let templates = need
                .panels
                .iter()
                .flat_map(|p| p.queries.iter().map(|q| &q.expr))
                .chain(need.annotations.iter().map(|a| &a.expr))
                .chain(need.alerts.iter().map(|a| &a.expr))
                .chain(
                    need.alerts
                        .iter()
                        .flat_map(|a| a.queries.iter().map(|q| &q.expr)),
                );
            let templates: Vec<&str> = templates.map(|t| t.value.as_str()).collect();
            for kind in [
                WorkloadKind::Deployment,
                WorkloadKind::StatefulSet,
                WorkloadKind::DaemonSet,
            ] {
                let scope = Scope::canonical(kind);
                let resolved = ResolvedNeed::new(need, scope, &SignalOverrides::default(), None);
                for template in &templates {
                    let (expr, gauges) = resolved.checked_as(template).expect("expands");
                    assert_eq!(promql::check_except(&expr, &gauges), Ok(()), "{expr}");
                    keys.insert(promql::check_key(&expr, &gauges));
                }
            }
        }
        let current = serde_json::to_string_pretty(&keys).expect("strings serialise") + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/needs/known_good.json");
        if std::env::var_os("ONRAMP_UPDATE_KNOWN_GOOD").is_some() {
            std::fs::write(path, &current).expect("write known_good.json");
        }
        assert!(
            promql::KNOWN_GOOD == current,
            "{path} is not what the built-in needs expand to; update it with \
             ONRAMP_UPDATE_KNOWN_GOOD=1 cargo test --lib known_good, then read the diff"
        );
    }
}
