//! verify: the smoke test CI runs against a live Prometheus. For one app it
//! checks that the scrape target is up, that every signal its needs read has
//! series, that every dashboard query returns data, that its rule groups are
//! loaded and healthy, and which of its alerts are pending or firing.
//!
//! It reads the same [`Plan`] every sink consumes, so it checks exactly the
//! queries the dashboards run. It owns the checks and the report (table, JSON,
//! JUnit); talking HTTP is [`crate::client::prometheus`]'s job.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::prometheus::{
    AlertState, PrometheusClient, QueryResult, RuleHealth, TargetHealth,
};
use crate::plan::{Plan, SignalReport};

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It works.
    Pass,
    /// It does not; verify exits 1.
    Fail,
    /// It returned nothing, for a reason that is not a fault (for example no errors to count).
    Warn,
    /// It does not apply here (for example Kubernetes series on a plain Prometheus).
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The scrape target.
    Target,
    /// A signal a need reads.
    Signal,
    /// A dashboard panel query.
    Panel,
    /// A rule group.
    Rules,
    /// An alert's state.
    Alert,
}

impl Category {
    fn word(self) -> &'static str {
        match self {
            Category::Target => "target",
            Category::Signal => "signal",
            Category::Panel => "panel",
            Category::Rules => "rules",
            Category::Alert => "alert",
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What it is about.
    pub category: Category,
    /// Its name (`service-health/requests`, `checkout · Service health/Request rate/A`…).
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// What was found, and for a failure what to do.
    pub detail: String,
    /// True when waiting may change the outcome (a query with no data yet).
    #[serde(skip)]
    pub transient: bool,
}

/// The outcome of a verify run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The app (`namespace/name`).
    pub app: String,
    /// The Prometheus checked.
    pub prometheus: String,
    /// True when no check failed.
    pub passed: bool,
    /// How many rounds were run (more than one with `--wait`).
    pub rounds: u32,
    /// Wall time of the whole run (every round and every wait), in milliseconds.
    pub duration_ms: u128,
    /// Every check.
    pub checks: Vec<Check>,
}

impl Report {
    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// How verify runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Queries in flight at once.
    pub concurrency: usize,
    /// When the run started: the report's time is the whole run.
    pub started: Instant,
    /// Retry until everything passes or this moment has passed (`--wait`).
    pub deadline: Option<Instant>,
    /// Pause between rounds while waiting.
    pub interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 8,
            started: Instant::now(),
            deadline: None,
            interval: Duration::from_secs(2),
        }
    }
}

/// The app's series now (names, label names, histogram buckets), for
/// resolving each signal to the convention the app really exposes.
pub async fn exposed_metrics(
    client: &PrometheusClient,
    app: &crate::app::App,
) -> crate::client::prometheus::Result<crate::needs::resolve::Exposed> {
    let selector = format!(
        "{{namespace={},job={}}}",
        crate::needs::promql::quote(&app.namespace),
        crate::needs::promql::quote(&app.name)
    );
    // An instant query rather than /api/v1/series: it sees only series
    // scraped in the last five minutes, not ones that went stale long ago.
    let result = client.query(&selector, None).await?;
    Ok(crate::needs::resolve::Exposed::from_series(
        result.samples().iter().map(|s| &s.labels),
    ))
}

/// Distinct queries, each sent once, addressed by slot.
#[derive(Default)]
struct Batch {
    exprs: Vec<String>,
    slots: std::collections::HashMap<String, usize>,
}

impl Batch {
    /// The slot of `expr`, adding it when new.
    fn add(&mut self, expr: String) -> usize {
        if let Some(slot) = self.slots.get(&expr) {
            return *slot;
        }
        self.exprs.push(expr.clone());
        self.slots.insert(expr, self.exprs.len() - 1);
        self.exprs.len() - 1
    }
}

/// Replaces Grafana's variables by values Prometheus accepts: the range
/// variables by durations, the dashboard's own variables by "any value".
pub fn instant_query(expr: &str, variables: &[String]) -> String {
    let mut out = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "10m");
    for name in variables {
        out = out
            .replace(&format!("${{{name}}}"), ".+")
            .replace(&format!("${name}"), ".+");
    }
    out
}

/// The checks' inputs: every distinct query of a round, addressed by slot.
struct Round<'a> {
    /// `need/signal` and its report, for the signals the needs read.
    signals: Vec<(String, &'a SignalReport)>,
    /// Each dashboard query, with its need.
    panels: Vec<(&'a crate::plan::NeedReport, &'a crate::plan::PanelQuery)>,
    batch: Batch,
    kube_probe: usize,
    signal_slots: Vec<usize>,
    panel_slots: Vec<usize>,
}

impl<'a> Round<'a> {
    /// Everything that depends on nothing else goes out at once: the
    /// Kubernetes probe, a count per signal, every panel query.
    fn of(plan: &'a Plan) -> Round<'a> {
        let signals: Vec<(String, &SignalReport)> = plan
            .needs
            .iter()
            .flat_map(|need| {
                need.signals
                    .iter()
                    .filter(|s| s.used && s.unavailable.is_none())
                    .map(move |s| (format!("{}/{}", need.id, s.name), s))
            })
            .collect();
        let panels: Vec<_> = plan
            .needs
            .iter()
            .flat_map(|need| need.queries.iter().map(move |q| (need, q)))
            .collect();
        let mut batch = Batch::default();
        let kube_probe = batch.add("count(kube_pod_info)".to_string());
        let signal_slots = signals
            .iter()
            .map(|(_, s)| batch.add(signal_count(s)))
            .collect();
        let panel_slots = panels
            .iter()
            .map(|(need, q)| batch.add(instant_query(&q.expr, &need.variables)))
            .collect();
        Round {
            signals,
            panels,
            batch,
            kube_probe,
            signal_slots,
            panel_slots,
        }
    }
}

/// The count of a signal's series, by every label it maps to: one query
/// says whether it has series and which of its labels they carry.
fn signal_count(signal: &SignalReport) -> String {
    let mut labels: Vec<&str> = signal.labels.values().map(String::as_str).collect();
    labels.sort_unstable();
    labels.dedup();
    format!("count by ({}) ({})", labels.join(", "), signal.selector)
}

/// The labels a signal maps to that none of its series carries: a by-route
/// panel over a label that does not exist draws one line for all routes.
fn missing_labels(signal: &SignalReport, found: &QueryResult) -> Vec<String> {
    signal
        .labels
        .iter()
        .filter(|(_, real)| !found.samples().iter().any(|s| s.labels.contains_key(*real)))
        .map(|(logical, real)| {
            if logical == real {
                real.clone()
            } else {
                format!("{real} (its {logical})")
            }
        })
        .collect()
}

/// A signal with series: it passes when they carry every label it maps to.
fn judge_signal(signal: &SignalReport, found: &QueryResult) -> (Status, String) {
    let n: f64 = found.samples().iter().map(|s| s.value).sum();
    let missing = missing_labels(signal, found);
    if missing.is_empty() {
        return (Status::Pass, format!("{n} series of {}", signal.metric));
    }
    let status = if signal.optional {
        Status::Warn
    } else {
        Status::Fail
    };
    (
        status,
        format!(
            "label missing: {n} series of {}, but none has the label {}; panels split by it show one line for everything. Map the app's label with --signal {}.LABEL=NAME",
            signal.metric,
            missing.join(", "),
            signal.name
        ),
    )
}

type Answers = Vec<crate::client::prometheus::Result<QueryResult>>;

/// Runs the checks once.
pub async fn run_once(
    client: &PrometheusClient,
    plan: &Plan,
    options: &Options,
) -> crate::client::prometheus::Result<Report> {
    let started = Instant::now();
    let (namespace, app_name) = (plan.app.namespace(), plan.app.name());
    let round = Round::of(plan);
    let (targets, groups, mut results) = tokio::join!(
        client.targets(),
        client.rules(),
        client.query_all(round.batch.exprs.clone(), options.concurrency),
    );
    let (targets, groups) = (targets?, groups?);
    // A query error other than Prometheus rejecting the query (unreachable, 5xx) ends the round.
    if let Some(pos) = results.iter().position(
        |r| matches!(r, Err(e) if !matches!(e, crate::client::prometheus::Error::Api { .. })),
    ) && let Some(err) = results.swap_remove(pos).err()
    {
        return Err(err);
    }
    let mut checks = vec![target_check(&targets, namespace, app_name)];
    let signal_state = signal_checks(client, &round, &results, options, &mut checks).await?;
    checks.extend(panel_checks(&round, &results, &signal_state));
    checks.extend(rule_checks(plan, &groups));
    let passed = !checks.iter().any(|c| c.status == Status::Fail);
    Ok(Report {
        app: plan.app.to_string(),
        prometheus: client.reached_via(),
        passed,
        rounds: 1,
        duration_ms: started.elapsed().as_millis(),
        checks,
    })
}

/// What to do when Prometheus 3 refuses a `/metrics` answer without a
/// `Content-Type` (its error names `fallback_scrape_protocol`); Prometheus 2
/// read such an answer as text.
const BLANK_CONTENT_TYPE: &str = " — the app answers /metrics without a Content-Type, which Prometheus 3 refuses (Prometheus 2 read it as text): have the app send `Content-Type: text/plain; version=0.0.4`, or set `fallback_scrape_protocol: PrometheusText0.0.4` on the scrape job (`fallbackScrapeProtocol` on the ServiceMonitor)";

/// The scrape target: Prometheus scrapes the app, and every target is up.
fn target_check(
    targets: &[crate::client::prometheus::Target],
    namespace: &str,
    app_name: &str,
) -> Check {
    let check = |status, transient, detail| Check {
        category: Category::Target,
        name: format!("{namespace}/{app_name}"),
        status,
        detail,
        transient,
    };
    let found: Vec<_> = targets
        .iter()
        .filter(|t| {
            t.labels.get("namespace").map(String::as_str) == Some(namespace)
                && t.labels.get("job").map(String::as_str) == Some(app_name)
        })
        .collect();
    if found.is_empty() {
        return check(
            Status::Fail,
            false,
            format!(
                "no scrape target has job=\"{app_name}\" and namespace=\"{namespace}\": Prometheus does not scrape the app. With the Operator, check that the ServiceMonitor/PodMonitor exists and carries the labels the Prometheus resource selects (release); with a plain Prometheus, run `onramp apply` with --prometheus-config-dir."
            ),
        );
    }
    let down: Vec<String> = found
        .iter()
        .filter(|t| t.health != TargetHealth::Up)
        .map(|t| {
            let why = if t.last_error.is_empty() {
                "not scraped yet".to_string()
            } else if t.last_error.contains("fallback_scrape_protocol") {
                format!("{}{BLANK_CONTENT_TYPE}", t.last_error)
            } else {
                t.last_error.clone()
            };
            let health = format!("{:?}", t.health).to_lowercase();
            format!("{} is {health}: {why}", t.scrape_url)
        })
        .collect();
    if !down.is_empty() {
        return check(Status::Fail, true, down.join("; "));
    }
    let urls: Vec<&str> = found.iter().map(|t| t.scrape_url.as_str()).collect();
    check(
        Status::Pass,
        false,
        format!("{} target(s) up: {}", found.len(), urls.join(", ")),
    )
}

/// Each signal's outcome by `need/signal`, for the panels that read it.
type SignalState = BTreeMap<String, (Status, String)>;

/// Signals: one count() per selector, then a diagnosis for the empty ones.
/// Pushes one check per signal and returns their states.
async fn signal_checks(
    client: &PrometheusClient,
    round: &Round<'_>,
    results: &Answers,
    options: &Options,
    checks: &mut Vec<Check>,
) -> crate::client::prometheus::Result<SignalState> {
    let result = |slot: usize| results.get(slot).and_then(|r| r.as_ref().ok());
    // Is this Prometheus fed by Kubernetes (kube-state-metrics)?
    let kubernetes = result(round.kube_probe).is_some_and(|r| !r.is_empty());
    let mut state = SignalState::new();
    let mut to_diagnose = Vec::new();
    for ((name, signal), slot) in round.signals.iter().zip(&round.signal_slots) {
        let found = result(*slot).filter(|r| !r.samples().is_empty());
        if let Some(found) = found {
            state.insert(name.clone(), judge_signal(signal, found));
        } else if signal.kubernetes && !kubernetes {
            let why = "this Prometheus has no kube-state-metrics series (not in Kubernetes)";
            state.insert(name.clone(), (Status::Skip, why.to_string()));
        } else {
            to_diagnose.push((name, *signal));
        }
    }
    let diagnoses = client
        .query_all(
            to_diagnose
                .iter()
                .map(|(_, s)| format!("count by (namespace, job) ({{__name__=\"{}\"}})", s.metric)),
            options.concurrency,
        )
        .await;
    for ((name, signal), result) in to_diagnose.into_iter().zip(diagnoses) {
        state.insert(name.clone(), diagnose(signal, &result?));
    }
    for (name, _) in &round.signals {
        if let Some((status, detail)) = state.get(name) {
            checks.push(Check {
                category: Category::Signal,
                name: name.clone(),
                status: *status,
                detail: detail.clone(),
                transient: false,
            });
        }
    }
    Ok(state)
}

/// Why a signal has no series for the app: the metric exists nowhere, or
/// only for other apps — either way it is missing for this one, and the
/// message names the conventions tried.
fn diagnose(signal: &SignalReport, found: &QueryResult) -> (Status, String) {
    let elsewhere: Vec<String> = found
        .samples()
        .iter()
        .map(|s| {
            format!(
                "namespace={:?} job={:?}",
                s.labels.get("namespace").cloned().unwrap_or_default(),
                s.labels.get("job").cloned().unwrap_or_default()
            )
        })
        .collect();
    let detail = if elsewhere.is_empty() {
        format!(
            "metric missing: no series named {} at all. Conventions tried: {}. {}",
            signal.metric,
            signal.conventions.join("; "),
            signal.instrumentation
        )
    } else {
        format!(
            "metric missing for this app: {} has series only for other apps ({}), none for {}. Conventions tried: {}. {}",
            signal.metric,
            elsewhere.join(", "),
            signal.selector,
            signal.conventions.join("; "),
            signal.instrumentation
        )
    };
    let status = if signal.optional {
        Status::Warn
    } else {
        Status::Fail
    };
    (status, detail)
}

/// Panels: every query, as the dashboard runs it; an empty one is explained
/// by the signals it reads.
fn panel_checks(round: &Round<'_>, results: &Answers, signals: &SignalState) -> Vec<Check> {
    let mut checks = Vec::new();
    for ((need, q), slot) in round.panels.iter().zip(&round.panel_slots) {
        let check = |status, detail: String| Check {
            category: Category::Panel,
            name: format!("{}/{} [{}]", need.id, q.panel, q.ref_id),
            status,
            detail,
            transient: false,
        };
        match results.get(*slot) {
            Some(Ok(r)) if !r.is_empty() => {
                let (status, detail) = judge_values(r);
                checks.push(check(status, detail));
            }
            Some(Ok(_)) => {
                let states: Vec<_> = q
                    .signals
                    .iter()
                    .map(|s| (s, signals.get(&format!("{}/{s}", need.id))))
                    .collect();
                let (status, detail, transient) = empty_panel(&states);
                checks.push(Check {
                    transient,
                    ..check(status, detail)
                });
            }
            Some(Err(err)) => {
                let why = match err {
                    crate::client::prometheus::Error::Api { error, .. } => error.clone(),
                    other => other.to_string(),
                };
                checks.push(check(
                    Status::Fail,
                    format!("Prometheus rejects the query: {why}"),
                ));
            }
            None => {}
        }
    }
    checks
}

/// The outcome of a panel query that returned nothing, from the states of the
/// signals it reads: (status, detail, whether waiting may change it).
fn empty_panel(states: &[(&String, Option<&(Status, String)>)]) -> (Status, String, bool) {
    let failing: Vec<String> = states
        .iter()
        .filter(|(_, st)| matches!(st, Some((Status::Fail | Status::Warn, _))))
        .map(|(s, st)| format!("{s}: {}", st.map(|x| x.1.as_str()).unwrap_or_default()))
        .collect();
    if states
        .iter()
        .any(|(_, st)| matches!(st, Some((Status::Skip, _))))
    {
        let why = "reads Kubernetes series this Prometheus does not have";
        return (Status::Skip, why.to_string(), false);
    }
    if !failing.is_empty() {
        let optional_only = states
            .iter()
            .all(|(_, st)| !matches!(st, Some((Status::Fail, _))));
        let status = if optional_only {
            Status::Warn
        } else {
            Status::Fail
        };
        return (status, format!("no data: {}", failing.join("; ")), false);
    }
    let why = "no data yet: its signals have series, but the query returns nothing now (no traffic yet, or nothing to count such as no errors)";
    (Status::Warn, why.to_string(), true)
}

/// Rules and alerts: each need's group is loaded and healthy, and none of its
/// alerts is pending or firing.
fn rule_checks(plan: &Plan, groups: &[crate::client::prometheus::RuleGroup]) -> Vec<Check> {
    let mut checks = Vec::new();
    for need in &plan.needs {
        let Some(group_name) = &need.rule_group else {
            continue;
        };
        let Some(group) = groups.iter().find(|g| &g.name == group_name) else {
            checks.push(Check {
                transient: true,
                category: Category::Rules,
                name: group_name.clone(),
                status: Status::Fail,
                detail: "the rule group is not loaded. With the Operator, check that the PrometheusRule carries the labels the Prometheus ruleSelector wants (release); with a plain Prometheus, run `onramp apply` with --prometheus-config-dir.".to_string(),
            });
            continue;
        };
        let broken: Vec<String> = group
            .rules
            .iter()
            .filter(|r| r.health == RuleHealth::Err)
            .map(|r| format!("{}: {}", r.name, r.last_error.clone().unwrap_or_default()))
            .collect();
        let (status, detail) = if broken.is_empty() {
            let loaded = format!(
                "{} rules loaded from {}, all healthy",
                group.rules.len(),
                group.file
            );
            (Status::Pass, loaded)
        } else {
            let errors = format!("evaluation errors: {}", broken.join("; "));
            (Status::Fail, errors)
        };
        checks.push(Check {
            transient: false,
            category: Category::Rules,
            name: group_name.clone(),
            status,
            detail,
        });
        let alerts = group.rules.iter().filter(|r| need.alerts.contains(&r.name));
        checks.extend(alerts.map(alert_check));
    }
    checks
}

/// An alert passes while inactive.
fn alert_check(rule: &crate::client::prometheus::Rule) -> Check {
    let (status, detail) = match rule.state {
        Some(AlertState::Firing) => (
            Status::Fail,
            format!("FIRING ({}): {}", alert_values(rule), rule_summary(rule)),
        ),
        Some(AlertState::Pending) => (
            Status::Fail,
            format!(
                "pending ({}): fires if it holds for {}s — {}",
                alert_values(rule),
                rule.duration,
                rule_summary(rule)
            ),
        ),
        _ => (Status::Pass, "inactive".to_string()),
    };
    Check {
        category: Category::Alert,
        name: rule.name.clone(),
        status,
        detail,
        transient: false,
    }
}

fn rule_summary(rule: &crate::client::prometheus::Rule) -> String {
    rule.annotations
        .get("summary")
        .cloned()
        .unwrap_or_else(|| rule.query.clone())
}

fn alert_values(rule: &crate::client::prometheus::Rule) -> String {
    let values: Vec<String> = rule
        .alerts
        .iter()
        .map(|a| format!("value {}", trim_number(a.value)))
        .collect();
    if values.is_empty() {
        "no instances".to_string()
    } else {
        values.join(", ")
    }
}

fn trim_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn describe_result(result: &QueryResult) -> String {
    let samples = result.samples();
    match samples {
        [] => match result.first_value() {
            Some(v) => format!("value {}", trim_number(v)),
            None => "data".to_string(),
        },
        [one] => format!("value {}", trim_number(one.value)),
        many => format!("{} series", many.len()),
    }
}

/// A non-empty result is data only when its values are real numbers: a
/// result made only of NaN or ±Inf is a division by zero, what a panel draws
/// as nothing — a failure, with how many series were real numbers. Some
/// NaN among real numbers is a warning naming how many.
fn judge_values(result: &QueryResult) -> (Status, String) {
    // One flag per series: is it a real number (a range series: has one)?
    let series: Vec<bool> = match result {
        QueryResult::Vector(samples) => samples.iter().map(|s| s.value.is_finite()).collect(),
        QueryResult::Scalar(point) => vec![point.value.is_finite()],
        QueryResult::Matrix(series) => series
            .iter()
            .map(|s| s.values.iter().any(|p| p.value.is_finite()))
            .collect(),
        QueryResult::String { .. } => Vec::new(),
    };
    let real = series.iter().filter(|real| **real).count();
    let total = series.len();
    if total == 0 || real == total {
        (Status::Pass, describe_result(result))
    } else if real == 0 {
        (
            Status::Fail,
            format!(
                "no real number: {total} series, 0 of them real numbers, all NaN or ±Inf — a division by zero (or a quantile of nothing): the denominator counted nothing in the window, for a ratio by variant no sessions for that variant. Divide by `(… > 0)` so that such a series has no value instead"
            ),
        )
    } else {
        (
            Status::Warn,
            format!(
                "{real} of {total} series are real numbers; the others are NaN or ±Inf (a division by zero: nothing counted in the denominator in the window)"
            ),
        )
    }
}

/// True for a failure that waiting may cure, by the transport policy's rule
/// (no answer, or 429/502/503/504: Prometheus not listening yet, or starting).
/// A rejected query or bad credentials are not retried.
pub fn worth_retrying(err: &crate::client::prometheus::Error) -> bool {
    err.is_transient()
}

/// When `--wait` ends, counted from `started`; `None` without `--wait`.
pub fn deadline(started: Instant, wait: Option<Duration>) -> Option<Instant> {
    // `--wait` is bounded (cli::MAX_WAIT), so this only fails on a broken clock:
    // then there is no time to wait.
    wait.map(|w| started.checked_add(w).unwrap_or(started))
}

/// Calls `attempt` until it succeeds, fails in a way waiting cannot cure, or
/// the deadline leaves no time for another try: the transport policy's
/// waiting ([`crate::client::retry::until`]).
pub async fn until_reachable<T, F, Fut>(
    deadline: Option<Instant>,
    interval: Duration,
    attempt: F,
) -> crate::client::prometheus::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::client::prometheus::Result<T>>,
{
    let deadline = crate::client::retry::Deadline {
        until: deadline,
        interval,
    };
    crate::client::retry::until(deadline, attempt, worth_retrying).await
}

/// Runs the checks, again and again until `options.deadline`, until they
/// pass and no query is still waiting for its first data. An unreachable
/// Prometheus is retried until the deadline too.
pub async fn run(
    client: &PrometheusClient,
    plan: &Plan,
    options: &Options,
) -> crate::client::prometheus::Result<Report> {
    run_with_progress(client, plan, options, &|_, _| {}).await
}

/// As [`run`], telling `on_round` after every round that is not the last
/// (its number, and its report) — what a progress display shows while
/// `--wait` waits.
pub async fn run_with_progress(
    client: &PrometheusClient,
    plan: &Plan,
    options: &Options,
    on_round: &(dyn Fn(u32, &Report) + Sync),
) -> crate::client::prometheus::Result<Report> {
    let mut rounds = 0;
    loop {
        rounds += 1;
        let outcome = run_once(client, plan, options).await;
        let more_time = crate::client::retry::Deadline {
            until: options.deadline,
            interval: options.interval,
        }
        .room_for_a_round();
        match outcome {
            Ok(mut report)
                if (report.passed && !report.checks.iter().any(|c| c.transient)) || !more_time =>
            {
                report.rounds = rounds;
                report.duration_ms = options.started.elapsed().as_millis();
                return Ok(report);
            }
            Err(err) if !more_time || !worth_retrying(&err) => return Err(err),
            Ok(report) => {
                on_round(rounds, &report);
                tokio::time::sleep(options.interval).await;
            }
            Err(_) => tokio::time::sleep(options.interval).await,
        }
    }
}

/// One line saying what still keeps a round from passing: the failing checks
/// (first few by name) and those still waiting for their first data.
pub fn still_failing(report: &Report) -> String {
    let failing: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail || c.transient)
        .map(|c| c.name.as_str())
        .collect();
    let shown = failing
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    match failing.len() {
        0 => "everything passes".to_string(),
        n if n > 3 => format!("{n} checks not passing yet: {shown}, …"),
        n => format!("{n} check(s) not passing yet: {shown}"),
    }
}

/// The report when Prometheus could not be asked: one failing check saying
/// so, so that CI still has a report to publish.
pub fn unreachable_report(
    app: &str,
    prometheus: &str,
    err: &crate::client::prometheus::Error,
    started: Instant,
) -> Report {
    Report {
        app: app.to_string(),
        prometheus: prometheus.to_string(),
        passed: false,
        rounds: 0,
        duration_ms: started.elapsed().as_millis(),
        checks: vec![Check {
            category: Category::Target,
            name: "prometheus".to_string(),
            status: Status::Fail,
            detail: format!("nothing was checked: {err}"),
            transient: false,
        }],
    }
}

/// The report for people: one line per check, failures first.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verify {} against {}", report.app, report.prometheus);
    let mut checks: Vec<&Check> = report.checks.iter().collect();
    checks.sort_by_key(|c| match c.status {
        Status::Fail => 0,
        Status::Warn => 1,
        Status::Pass => 2,
        Status::Skip => 3,
    });
    let width = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(10)
        .min(60);
    for c in checks {
        let _ = writeln!(
            out,
            "  {:<4}  {:<6}  {:<width$}  {}",
            c.status.word(),
            c.category.word(),
            c.name,
            c.detail
        );
    }
    let _ = writeln!(
        out,
        "{}: {} passed, {} failed, {} warnings, {} skipped ({} ms{})",
        if report.passed { "PASSED" } else { "FAILED" },
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::Warn),
        report.count(Status::Skip),
        report.duration_ms,
        if report.rounds > 1 {
            format!(", {} rounds", report.rounds)
        } else {
            String::new()
        }
    );
    out
}

/// The report as JUnit XML: one test suite per category, one test case per check.
pub fn junit(report: &Report) -> crate::error::Result<String> {
    use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
    let mut junit = JReport::new(format!("onramp verify {}", report.app));
    for category in [
        Category::Target,
        Category::Signal,
        Category::Panel,
        Category::Rules,
        Category::Alert,
    ] {
        let mut suite = TestSuite::new(format!("{} {}", report.app, category.word()));
        for c in report.checks.iter().filter(|c| c.category == category) {
            let mut status = match c.status {
                Status::Pass | Status::Warn => TestCaseStatus::success(),
                Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Status::Skip => TestCaseStatus::skipped(),
            };
            if c.status != Status::Pass {
                status.set_message(c.detail.clone());
            }
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("onramp.verify.{}", category.word()));
            if c.status == Status::Pass || c.status == Status::Warn {
                case.set_system_out(c.detail.clone());
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().map_err(|e| crate::error::Error::Render {
        artifact: "the JUnit report".to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::prometheus::Sample;

    fn vector(values: &[f64]) -> QueryResult {
        QueryResult::Vector(
            values
                .iter()
                .map(|v| Sample {
                    labels: Default::default(),
                    timestamp: 0.0,
                    value: *v,
                })
                .collect(),
        )
    }

    #[test]
    fn a_result_of_only_nan_fails_and_says_why_and_how_many_were_real() {
        let (status, detail) = judge_values(&vector(&[f64::NAN, f64::INFINITY]));
        assert_eq!(status, Status::Fail);
        assert!(
            detail.contains("2 series, 0 of them real numbers"),
            "{detail}"
        );
        assert!(detail.contains("division by zero"), "{detail}");
        let (status, detail) = judge_values(&vector(&[f64::NAN, 0.25]));
        assert_eq!(status, Status::Warn);
        assert!(
            detail.starts_with("1 of 2 series are real numbers"),
            "{detail}"
        );
        assert_eq!(judge_values(&vector(&[0.0, 6.0])).0, Status::Pass);
    }

    #[test]
    fn grafana_variables_become_values_prometheus_accepts() {
        let q = instant_query(
            r#"sum(rate(x{flag=~"$flag"}[$__rate_interval])) / sum(increase(y[$__range]))"#,
            &["flag".to_string()],
        );
        assert_eq!(q, r#"sum(rate(x{flag=~".+"}[1m])) / sum(increase(y[10m]))"#);
    }
}
