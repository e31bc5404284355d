//! verify: the smoke test CI runs against a live Prometheus. For one app it
//! checks that the scrape target is up, that every signal its needs read has
//! series, that every dashboard query returns data, that its rule groups are
//! loaded and healthy, and which of its alerts are pending or firing.
//!
//! It reads the same [`Plan`] every sink consumes, so it checks exactly the
//! queries the dashboards run. It owns the checks; the result model and
//! its outputs (text, JSON, JUnit) are [`crate::check::result`]'s, finding
//! the app's alerts is [`crate::check::alerts`]'s, and talking HTTP is
//! [`crate::client::prometheus`]'s.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::check::alerts::{self, LoadedAlert};
pub use crate::check::result::{Category, Check, Status, VerifyReport};
use crate::check::result::{CheckedApp, number};
use crate::client::prometheus::{
    AlertState, PrometheusClient, QueryResult, RuleHealth, TargetHealth,
};
use crate::plan::{Plan, SignalReport};

/// How verify runs.
#[derive(Debug, Clone)]
pub struct VerifyRun {
    /// Queries in flight at once.
    pub concurrency: usize,
    /// When the run started: the report's time is the whole run.
    pub started: Instant,
    /// Retry until everything passes or this moment has passed (`--wait`).
    pub deadline: Option<Instant>,
    /// Pause between rounds while waiting.
    pub interval: Duration,
}

impl Default for VerifyRun {
    fn default() -> Self {
        VerifyRun {
            concurrency: 8,
            started: Instant::now(),
            deadline: None,
            interval: Duration::from_secs(2),
        }
    }
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
    let n = number(n);
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
    options: &VerifyRun,
) -> crate::client::prometheus::Result<VerifyReport> {
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
    checks.extend(objective_checks(client, plan).await?);
    let passed = !checks.iter().any(|c| c.status == Status::Fail);
    Ok(VerifyReport {
        app: CheckedApp::app(&plan.app),
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
    options: &VerifyRun,
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
    for need in alerts::need_rules(plan, groups) {
        let Some(group) = need.loaded else {
            checks.push(Check {
                transient: true,
                category: Category::Rules,
                name: need.group_name.to_string(),
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
            name: need.group_name.to_string(),
            status,
            detail,
        });
        checks.extend(need.alerts().iter().map(alert_check));
    }
    checks
}

/// Each objective that is on: its SLI has events, and its recording rules
/// write the 5-minute error ratio the alerts read.
async fn objective_checks(
    client: &PrometheusClient,
    plan: &Plan,
) -> crate::client::prometheus::Result<Vec<Check>> {
    let live = crate::check::objectives::live::check(client, plan).await?;
    let mut checks = Vec::new();
    for (objective, found) in plan
        .needs
        .iter()
        .flat_map(|n| n.objectives.iter().filter_map(|o| o.resolved()))
        .zip(&live)
    {
        let name = format!("{}/{}", found.need, found.id);
        let (status, detail) = match &found.problem {
            Some(problem) => (Status::Fail, problem.clone()),
            None => (Status::Pass, found.summary()),
        };
        checks.push(Check {
            category: Category::Objective,
            name: format!("{name} SLI"),
            status,
            detail,
            transient: true,
        });
        let recorded = format!(
            "{}5m{}",
            crate::needs::objective::ERROR_RATIO_RECORD,
            objective.filter()
        );
        let value = client.query(&recorded, None).await?.first_value();
        let (status, detail) = match value {
            Some(v) => (
                Status::Pass,
                format!(
                    "{recorded} is recorded: {} of the events bad over the last 5 minutes",
                    crate::needs::objective::percent(v)
                ),
            ),
            None => (
                Status::Fail,
                format!(
                    "{recorded} has no value: its rule group is not loaded, or the SLI had no events in the last 5 minutes"
                ),
            ),
        };
        checks.push(Check {
            category: Category::Objective,
            name: format!("{name} recorded"),
            status,
            detail,
            transient: true,
        });
        checks.push(backtest_check(&name, found));
    }
    Ok(checks)
}

/// The objective's alerts replayed on the last week: a warning when they
/// would have paged or opened a ticket (worth a look before they do it
/// for real), skipped with why when Prometheus could not replay them or
/// holds no minute of the SLI yet.
fn backtest_check(name: &str, found: &crate::check::objectives::live::LiveObjective) -> Check {
    let status = match &found.backtest {
        // Nothing to replay yet is not a pass: it is said, and skipped.
        Some(done) if !done.has_data => Status::Skip,
        Some(done) if done.pages.is_empty() && done.tickets.is_empty() => Status::Pass,
        Some(_) => Status::Warn,
        None => Status::Skip,
    };
    Check {
        category: Category::Objective,
        name: format!("{name} backtest"),
        status,
        detail: found.backtest_line(),
        transient: false,
    }
}

/// An alert passes while inactive.
fn alert_check(alert: &LoadedAlert<'_>) -> Check {
    let rule = alert.rule;
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
    // An objective's page and ticket share a name: the tier tells them apart.
    let name = match rule.labels.get("tier") {
        Some(tier) => format!("{} ({tier})", rule.name),
        None => rule.name.clone(),
    };
    Check {
        category: Category::Alert,
        name,
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
        .map(|a| format!("value {}", number(a.value)))
        .collect();
    if values.is_empty() {
        "no instances".to_string()
    } else {
        values.join(", ")
    }
}

fn describe_result(result: &QueryResult) -> String {
    let samples = result.samples();
    match samples {
        [] => match result.first_value() {
            Some(v) => format!("value {}", number(v)),
            None => "data".to_string(),
        },
        [one] => format!("value {}", number(one.value)),
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

/// When `--wait` ends, counted from `started`; `None` without `--wait`.
pub fn deadline(started: Instant, wait: Option<Duration>) -> Option<Instant> {
    // `--wait` is bounded (cli::MAX_WAIT), so this only fails on a broken clock:
    // then there is no time to wait.
    wait.map(|w| started.checked_add(w).unwrap_or(started))
}

/// Runs the checks, again and again until `options.deadline`, until they
/// pass and no query is still waiting for its first data. An unreachable
/// Prometheus is retried until the deadline too.
pub async fn run(
    client: &PrometheusClient,
    plan: &Plan,
    options: &VerifyRun,
) -> crate::client::prometheus::Result<VerifyReport> {
    run_with_progress(client, plan, options, &|_, _| {}).await
}

/// As [`run`], telling `on_round` after every round that is not the last
/// (its number, and its report) — what a progress display shows while
/// `--wait` waits.
pub async fn run_with_progress(
    client: &PrometheusClient,
    plan: &Plan,
    options: &VerifyRun,
    on_round: &(dyn Fn(u32, &VerifyReport) + Sync),
) -> crate::client::prometheus::Result<VerifyReport> {
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
            Err(err) if !more_time || !crate::needs::exposed::worth_retrying(&err) => {
                return Err(err);
            }
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
pub fn still_failing(report: &VerifyReport) -> String {
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
    app: CheckedApp,
    prometheus: &str,
    err: &crate::client::prometheus::Error,
    started: Instant,
) -> VerifyReport {
    VerifyReport {
        app,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backtest_with_no_data_to_replay_was_reported_as_passed() {
        use crate::check::objectives::backtest::Backtest;
        use crate::check::objectives::live::LiveObjective;
        let now = std::time::SystemTime::now();
        let backtest = |has_data: bool| Backtest {
            from: now,
            to: now,
            step: Duration::from_secs(60),
            look_back: Duration::from_secs(7 * 86400),
            shortened: false,
            has_data,
            pages: Vec::new(),
            tickets: Vec::new(),
            guarded_minutes: 0,
        };
        let found = |has_data: bool| LiveObjective {
            need: "service-health".to_string(),
            id: "availability".to_string(),
            events_per_second: Some(10.0),
            error_ratio: Some(0.0),
            series_read: 4,
            series_written: 16,
            problem: None,
            backtest: Some(backtest(has_data)),
            backtest_not_done: None,
        };
        let empty = backtest_check("service-health/availability", &found(false));
        assert_eq!(empty.status, Status::Skip);
        assert_eq!(
            empty.detail,
            "no data: the SLI has no samples in the last 7 days"
        );
        let quiet = backtest_check("service-health/availability", &found(true));
        assert_eq!(quiet.status, Status::Pass);
        assert_eq!(
            quiet.detail,
            "would not have paged or opened a ticket over the last 7 days"
        );
    }
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
