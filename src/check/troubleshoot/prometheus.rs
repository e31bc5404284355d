//! troubleshoot's Prometheus checks: the app's scrape targets, its error
//! ratio and latency now against the baseline before, CPU throttling and
//! memory against the limit (when cAdvisor and kube-state-metrics series
//! exist), its alerts pending or firing, and the feature flags whose variant
//! mix changed (see [`super::feature_flags`]). The queries are the ones the app's
//! dashboards use, from the plan, so they read the app's real metric and
//! label names. A check that cannot run is reported as not checked, with
//! why; an unreachable Prometheus is never fatal.

use std::time::{Duration, SystemTime};

use super::feature_flags::{self as flags, Rise};
use super::trend::{self, Shift, Window};
use super::{Finding, NotChecked, Panel, Role, Severity, TroubleshootReport};
use crate::check::alerts::{self, LoadedAlert};
use crate::check::result::number;
use crate::client::prometheus::{
    Alert, AlertState, Point, PrometheusClient, QueryResult, RangeSeries, Target, TargetHealth,
};
use crate::client::secret::redact_userinfo;
use crate::plan::{NeedReport, Plan};

/// The need whose dashboard has the golden signals.
const SERVICE_HEALTH: &str = "service-health";
/// The need whose dashboard has targets and saturation.
const TROUBLESHOOTING: &str = "troubleshooting";
/// The need whose dashboard has the flag evaluations.
const FLAGS: &str = "feature-flag-engagement";

/// What the Prometheus checks are called when none of them can run.
pub const CHECKS: &str =
    "Prometheus: scrape targets, errors, latency, saturation, alerts, feature flags";

/// An error ratio at or above this is critical (the HighErrorRate alert's level).
const CRITICAL_ERROR_RATIO: f64 = 0.05;
/// An error ratio below this is noise, whatever it was before.
const NOTICEABLE_ERROR_RATIO: f64 = 0.01;
/// A p95 latency rise smaller than this (seconds) is noise.
const NOTICEABLE_LATENCY_RISE: f64 = 0.1;
/// A p95 latency at or above this (seconds) is critical.
const CRITICAL_LATENCY: f64 = 1.0;
/// Throttled in this share of CPU periods or more: the limit slows the app.
const THROTTLING_RATIO: f64 = 0.25;
/// Working set at this share of the memory limit or more: an OOM kill is near.
const MEMORY_RATIO: f64 = 0.9;
/// The scrape interval assumed when the app has no target to read it from.
const DEFAULT_SCRAPE: Duration = Duration::from_secs(30);

/// What the checks need: the client, the plan with the dashboards' queries,
/// the window, and Grafana's URL for panel links.
struct Ctx<'a> {
    client: &'a PrometheusClient,
    plan: &'a Plan,
    window: Window,
    grafana_url: Option<&'a str>,
}

/// Runs the Prometheus checks for the planned app over the last `since`
/// and reports what they found (unranked: the caller ranks the whole report).
pub async fn check(
    client: &PrometheusClient,
    plan: &Plan,
    since: Duration,
    grafana_url: Option<&str>,
) -> TroubleshootReport {
    let mut report = TroubleshootReport::default();
    let end = SystemTime::now();
    let scrape = match targets(client, plan, &mut report).await {
        Ok(scrape) => scrape,
        Err(not_checked) => {
            report.not_checked.push(not_checked);
            return report;
        }
    };
    let ctx = Ctx {
        client,
        plan,
        window: Window::new(end, since, scrape),
        grafana_url,
    };
    let ((errors, error_rise), (latency, latency_rise), saturation, alerts, changes) = tokio::join!(
        ctx.errors(),
        ctx.latency(),
        ctx.saturation(),
        ctx.alerts(),
        ctx.flag_changes()
    );
    for part in [errors, latency, saturation, alerts] {
        report.merge(part);
    }
    let rises: Vec<Rise> = error_rise.into_iter().chain(latency_rise).collect();
    match changes {
        Ok(changes) => {
            report.checked.push(format!(
                "feature flags: {} changed their variant mix in the last {}",
                changes.len(),
                trend::span(ctx.window.since.as_secs_f64())
            ));
            let panel = ctx.panel(FLAGS, "Share of evaluations by variant");
            let found = flags::explain(&changes, &rises, &ctx.window, panel.as_ref());
            report.findings.extend(found);
        }
        Err(gap) => report.not_checked.push(gap),
    }
    report
}

/// The app's scrape targets: a finding when one is down or there is none;
/// the scrape interval to size rates with. An error means Prometheus could
/// not be asked at all, so nothing else can be checked.
async fn targets(
    client: &PrometheusClient,
    plan: &Plan,
    report: &mut TroubleshootReport,
) -> Result<Duration, NotChecked> {
    // The client's errors name the URL, without its credentials.
    let all = client
        .targets()
        .await
        .map_err(|err| NotChecked::new(CHECKS, err.to_string()))?;
    let name = app_name(plan);
    let mine: Vec<&Target> = all
        .iter()
        .filter(|t| {
            t.labels.get("namespace") == Some(&plan.namespace)
                && t.labels.get("job").map(String::as_str) == Some(name)
        })
        .collect();
    let down: Vec<&&Target> = mine
        .iter()
        .filter(|t| t.health == TargetHealth::Down)
        .collect();
    report.checked.push(format!(
        "scrape targets: {} of {} up",
        mine.len() - down.len(),
        mine.len()
    ));
    if mine.is_empty() {
        report.findings.push(no_target(plan, name));
    } else if !down.is_empty() {
        report.findings.push(targets_down(plan, &down, mine.len()));
    }
    let scrape = mine
        .iter()
        .find_map(|t| humantime::parse_duration(&t.scrape_interval).ok())
        .unwrap_or(DEFAULT_SCRAPE);
    Ok(scrape)
}

/// The app's name (`checkout` of `shop/checkout`).
fn app_name(plan: &Plan) -> &str {
    plan.app.name()
}

fn no_target(plan: &Plan, name: &str) -> Finding {
    Finding::new(
        Severity::Critical,
        Role::Symptom,
        format!("Prometheus has no scrape target for {}", plan.app),
    )
    .evidence(format!(
        "no active target with namespace=\"{}\" and job=\"{name}\" in /api/v1/targets",
        plan.namespace
    ))
    .next(format!(
        "onramp verify {name} -n {} --prometheus-url URL  (names the missing ServiceMonitor/PodMonitor or scrape config)",
        plan.namespace
    ))
}

fn targets_down(plan: &Plan, down: &[&&Target], total: usize) -> Finding {
    let mut finding = Finding::new(
        Severity::Critical,
        Role::Symptom,
        format!(
            "{} of {total} scrape targets of {} are down",
            down.len(),
            plan.app
        ),
    );
    for target in down {
        finding = finding.evidence(format!(
            "{}: {}",
            redact_userinfo(&target.scrape_url),
            target.last_error
        ));
    }
    finding.next(format!(
        "kubectl get pods -n {} -o wide  (is the pod running, and does it listen on the metrics port?)",
        plan.namespace
    ))
}

impl Ctx<'_> {
    /// The need of the plan, or why it is not there.
    fn need(&self, id: &str) -> Result<&NeedReport, String> {
        if let Some(need) = self.plan.needs.iter().find(|n| n.id == id) {
            return Ok(need);
        }
        let skipped = self.plan.skipped_needs.iter().find(|s| s.contains(id));
        Err(match skipped {
            Some(why) => why.clone(),
            None => format!("the plan does not use the {id} need (add it with --need {id})"),
        })
    }

    /// The `index`th query of a dashboard panel, with `$__rate_interval`
    /// replaced by `rate`, and the panel; or why the panel is not in the plan.
    fn query(
        &self,
        need: &str,
        title: &str,
        index: usize,
        rate: Duration,
    ) -> Result<String, String> {
        let report = self.need(need)?;
        let Some(query) = report
            .queries
            .iter()
            .filter(|q| q.panel == title)
            .nth(index)
        else {
            let left_out = report.left_out.iter().find(|l| l.contains(title));
            return Err(match left_out {
                Some(why) => why.clone(),
                None => format!("the {need} dashboard has no `{title}` panel"),
            });
        };
        let window = format!("{}s", rate.as_secs().max(1));
        Ok(query.expr.replace("$__rate_interval", &window))
    }

    /// A panel's `first` query and the one after it (p95 and p99; used and limit).
    fn query_pair(
        &self,
        need: &str,
        title: &str,
        first: usize,
    ) -> Result<(String, String), String> {
        let rate = self.window.rate;
        Ok((
            self.query(need, title, first, rate)?,
            self.query(need, title, first + 1, rate)?,
        ))
    }

    /// The panel to open, with its URL when Grafana is configured.
    fn panel(&self, need: &str, title: &str) -> Option<Panel> {
        let report = self.need(need).ok()?;
        let uid = report.dashboard_uid.as_str().to_string();
        Some(Panel {
            url: self
                .grafana_url
                .map(|base| format!("{}/d/{uid}", base.trim_end_matches('/'))),
            dashboard_uid: uid,
            title: title.to_string(),
        })
    }

    /// A range query over the window: the first series' points.
    async fn range(&self, expr: &str) -> Result<Vec<Point>, String> {
        let series = self.range_all(expr).await?;
        Ok(series
            .into_iter()
            .next()
            .map(|s| s.values)
            .unwrap_or_default())
    }

    /// A range query over the window: every series.
    async fn range_all(&self, expr: &str) -> Result<Vec<RangeSeries>, String> {
        match self.client.query_range(expr, self.window.range()).await {
            Ok(QueryResult::Matrix(series)) => Ok(series),
            Ok(_) => Ok(Vec::new()),
            Err(err) => Err(err.to_string()),
        }
    }

    /// An instant query at the window's end: each series' labels and value.
    async fn instant(
        &self,
        expr: &str,
    ) -> Result<Vec<(crate::client::prometheus::Labels, f64)>, String> {
        let result = self
            .client
            .query(expr, Some(self.window.end))
            .await
            .map_err(|err| err.to_string())?;
        Ok(result
            .samples()
            .iter()
            .filter(|s| s.value.is_finite())
            .map(|s| (s.labels.clone(), s.value))
            .collect())
    }

    /// A check that could not run.
    fn gap(what: &str, why: impl Into<String>) -> TroubleshootReport {
        TroubleshootReport::gap(NotChecked::new(what, why))
    }

    /// "over the last 30 s … over the 90 s before".
    fn compare(&self, now: &str, before: &str) -> String {
        format!(
            "{now} over the last {}, {before} over the {} before",
            trend::span(self.window.recent.as_secs_f64()),
            trend::span(self.window.baseline().as_secs_f64())
        )
    }
}

impl Ctx<'_> {
    /// The error ratio now against the baseline.
    async fn errors(&self) -> (TroubleshootReport, Option<Rise>) {
        const WHAT: &str = "error ratio";
        let expr = match self.query(SERVICE_HEALTH, "Error ratio", 0, self.window.rate) {
            Ok(expr) => expr,
            Err(why) => return (Self::gap(WHAT, why), None),
        };
        let points = match self.range(&expr).await {
            Ok(points) => points,
            Err(why) => return (Self::gap(WHAT, why), None),
        };
        let Some(shift) = trend::shift(&points, self.window.split()) else {
            let why = "no requests in the recent part of the window (the ratio needs traffic)";
            return (Self::gap(WHAT, why), None);
        };
        let numbers = self.compare(
            &trend::percent(shift.recent),
            &trend::percent(shift.before()),
        );
        let mut report = TroubleshootReport {
            checked: vec![format!("error ratio: {numbers}")],
            ..TroubleshootReport::default()
        };
        let evidence = vec![format!("error ratio {numbers}"), format!("query: {expr}")];
        let Some((severity, rose)) = error_judgement(&shift) else {
            return (report, None);
        };
        let (now, before) = (trend::percent(shift.recent), trend::percent(shift.before()));
        let title = if rose {
            format!("Errors rose: {now} of requests fail now, {before} before")
        } else {
            format!("{now} of requests fail now, {before} before too")
        };
        let next = format!(
            "kubectl logs -n {} {} --since={}s | grep -iE 'error|panic|exception'  (which requests fail, and why)",
            self.plan.namespace,
            self.plan.workload,
            self.window.recent.as_secs()
        );
        let (finding, rise) = Movement {
            what: "Errors",
            severity,
            title,
            evidence,
            panel: self.panel(SERVICE_HEALTH, "Error ratio"),
            next,
        }
        .finding(rose.then_some((&points, &shift)));
        report.findings.push(finding);
        (report, rise)
    }
}

/// An error or latency finding before it is dated.
struct Movement {
    what: &'static str,
    severity: Severity,
    title: String,
    evidence: Vec<String>,
    panel: Option<Panel>,
    next: String,
}

impl Movement {
    /// The symptom finding; with the series of a rise, dated (when it rose)
    /// and as a [`Rise`] a flag change may explain.
    fn finding(self, rose: Option<(&[Point], &Shift)>) -> (Finding, Option<Rise>) {
        let at = rose.and_then(|(points, shift)| {
            trend::onset(points, (shift.recent + shift.before()) / 2.0)
        });
        let mut finding = Finding::new(self.severity, Role::Symptom, self.title).next(self.next);
        finding.evidence = self.evidence.clone();
        finding.panel = self.panel.clone();
        if let Some(at) = at {
            // After the headline numbers, before the query.
            let index = finding.evidence.len().saturating_sub(1);
            finding
                .evidence
                .insert(index, format!("rose at {}", trend::clock(at)));
        }
        let rise = at.map(|at| Rise {
            what: self.what,
            at,
            severity: self.severity,
            evidence: self.evidence,
            panel: self.panel,
        });
        (finding, rise)
    }
}

/// Which of the two error findings, if any: a rise (at least 1 % and more
/// than twice the baseline), or a high level that was already there.
fn error_judgement(ratio: &Shift) -> Option<(Severity, bool)> {
    let rose = ratio.recent >= NOTICEABLE_ERROR_RATIO
        && ratio.recent >= 2.0 * ratio.before() + NOTICEABLE_ERROR_RATIO / 2.0;
    let critical = ratio.recent >= CRITICAL_ERROR_RATIO;
    let severity = if critical {
        Severity::Critical
    } else {
        Severity::Warning
    };
    (rose || critical).then_some((severity, rose))
}

/// Which of the two latency findings, if any: a rise, or a high level that
/// was already there.
fn latency_judgement(p95: &Shift) -> Option<(Severity, bool)> {
    let rose = p95.baseline.is_some_and(|before| {
        p95.recent >= 1.5 * before && p95.recent - before >= NOTICEABLE_LATENCY_RISE
    });
    let severity = if p95.recent >= CRITICAL_LATENCY {
        Severity::Critical
    } else {
        Severity::Warning
    };
    // The HighLatency alert's level: slow, whatever it was before.
    let slow = p95.recent >= 0.5;
    (rose || slow).then_some((severity, rose))
}

impl Ctx<'_> {
    /// The p95 (and p99) latency now against the baseline.
    async fn latency(&self) -> (TroubleshootReport, Option<Rise>) {
        const WHAT: &str = "latency";
        const PANEL: &str = "Latency percentiles";
        let (p95_expr, p99_expr) = match self.query_pair(SERVICE_HEALTH, PANEL, 1) {
            Ok(pair) => pair,
            Err(why) => return (Self::gap(WHAT, why), None),
        };
        let (p95, p99) = tokio::join!(self.range(&p95_expr), self.range(&p99_expr));
        let (p95_points, p99_points) = match (p95, p99) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(why), _) | (_, Err(why)) => return (Self::gap(WHAT, why), None),
        };
        let split = self.window.split();
        let (Some(p95), Some(p99)) = (
            trend::shift(&p95_points, split),
            trend::shift(&p99_points, split),
        ) else {
            let why = "no requests in the recent part of the window (percentiles need traffic)";
            return (Self::gap(WHAT, why), None);
        };
        let text = |s: &Shift| {
            self.compare(
                &trend::seconds(s.recent),
                &s.baseline.map_or("no data".to_string(), trend::seconds),
            )
        };
        let evidence = vec![
            format!("p95 latency {}", text(&p95)),
            format!("p99 latency {}", text(&p99)),
            format!("query: {p95_expr}"),
        ];
        let mut report = TroubleshootReport {
            checked: vec![format!("latency: p95 {}", text(&p95))],
            ..TroubleshootReport::default()
        };
        let Some((severity, rose)) = latency_judgement(&p95) else {
            return (report, None);
        };
        let title = if rose {
            format!(
                "Latency rose: p95 is {} now, {} before",
                trend::seconds(p95.recent),
                trend::seconds(p95.before())
            )
        } else {
            format!("Requests are slow: p95 is {}", trend::seconds(p95.recent))
        };
        let (finding, rise) = Movement {
            what: "Latency",
            severity,
            title,
            evidence,
            panel: self.panel(SERVICE_HEALTH, PANEL),
            next: "Open the `95th percentile latency by route` panel to find the slow route, then the slow dependency behind it".to_string(),
        }
        .finding(rose.then_some((&p95_points, &p95)));
        report.findings.push(finding);
        (report, rise)
    }
}

impl Ctx<'_> {
    /// CPU throttling and memory against the limit, averaged over the recent part.
    async fn saturation(&self) -> TroubleshootReport {
        let (cpu, memory) = tokio::join!(self.throttling(), self.memory());
        let mut report = cpu;
        report.merge(memory);
        report
    }

    async fn throttling(&self) -> TroubleshootReport {
        const WHAT: &str = "CPU throttling";
        const PANEL: &str = "CPU throttling";
        let expr = match self.query(TROUBLESHOOTING, PANEL, 0, self.window.recent) {
            Ok(expr) => expr,
            Err(why) => return Self::gap(WHAT, why),
        };
        let by_pod = match self.instant(&expr).await {
            Ok(by_pod) if by_pod.is_empty() => {
                return Self::gap(
                    WHAT,
                    "no cAdvisor series (container_cpu_cfs_periods_total) for the app's pods: cAdvisor is not scraped, or the container has no CPU limit",
                );
            }
            Ok(by_pod) => by_pod,
            Err(why) => return Self::gap(WHAT, why),
        };
        let Some((labels, worst)) = by_pod.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            return TroubleshootReport::default();
        };
        let pod = labels.values().next().cloned().unwrap_or_default();
        let mut report = TroubleshootReport {
            checked: vec![format!(
                "CPU throttling: at most {} of periods ({pod})",
                trend::percent(*worst)
            )],
            ..TroubleshootReport::default()
        };
        if *worst >= THROTTLING_RATIO {
            let mut finding = Finding::new(
                Severity::Warning,
                Role::Cause,
                format!(
                    "CPU throttled in {} of periods in {pod}",
                    trend::percent(*worst)
                ),
            )
            .evidence(format!(
                "throttled periods / periods over the last {}: {}",
                trend::span(self.window.recent.as_secs_f64()),
                trend::percent(*worst)
            ))
            .next(format!(
                "Raise resources.limits.cpu of {} (or remove the CPU limit) and watch the latency",
                self.plan.workload
            ));
            finding.panel = self.panel(TROUBLESHOOTING, PANEL);
            report.findings.push(finding);
        }
        report
    }
}

impl Ctx<'_> {
    async fn memory(&self) -> TroubleshootReport {
        const WHAT: &str = "memory against the limit";
        const PANEL: &str = "Memory working set vs limit";
        let (used_expr, limit_expr) = match self.query_pair(TROUBLESHOOTING, PANEL, 0) {
            Ok(pair) => pair,
            Err(why) => return Self::gap(WHAT, why),
        };
        let (used, limit) = tokio::join!(self.instant(&used_expr), self.instant(&limit_expr));
        let (used, limit) = match (used, limit) {
            (Ok(used), Ok(limit)) => (used, limit),
            (Err(why), _) | (_, Err(why)) => return Self::gap(WHAT, why),
        };
        let Some((labels, worst)) = used.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            return Self::gap(
                WHAT,
                "no cAdvisor series (container_memory_working_set_bytes) for the app's pods",
            );
        };
        let Some(limit) = limit.first().map(|l| l.1).filter(|l| *l > 0.0) else {
            return Self::gap(
                WHAT,
                "no memory limit (kube_pod_container_resource_limits{resource=\"memory\"}): kube-state-metrics is not scraped, or the container has no limit",
            );
        };
        let pod = labels.values().next().cloned().unwrap_or_default();
        let share = worst / limit;
        let numbers = format!(
            "{} MiB of {} MiB ({})",
            (worst / 1_048_576.0).round(),
            (limit / 1_048_576.0).round(),
            trend::percent(share)
        );
        let mut report = TroubleshootReport {
            checked: vec![format!(
                "memory: working set of {pod} {numbers} of its limit"
            )],
            ..TroubleshootReport::default()
        };
        if share >= MEMORY_RATIO {
            let mut finding = Finding::new(
                Severity::Warning,
                Role::Cause,
                format!("Memory of {pod} is at {} of its limit", trend::percent(share)),
            )
            .evidence(format!("working set {numbers}"))
            .next(format!(
                "Raise resources.limits.memory of {} or find what grows (a leak grows without more traffic)",
                self.plan.workload
            ));
            finding.panel = self.panel(TROUBLESHOOTING, PANEL);
            report.findings.push(finding);
        }
        report
    }
}

impl Ctx<'_> {
    /// The app's alerts pending or firing: the plan's alerts as Prometheus
    /// runs them (`/api/v1/rules`, see [`crate::check::alerts`]), each with
    /// the severity and runbook section the plan gave it.
    async fn alerts(&self) -> TroubleshootReport {
        let groups = match self.client.rules().await {
            Ok(groups) => groups,
            Err(err) => return Self::gap("alerts", err.to_string()),
        };
        let loaded = alerts::loaded(self.plan, &groups);
        let active: Vec<(&LoadedAlert<'_>, &Alert)> = loaded
            .iter()
            .flat_map(|alert| alert.active().map(move |instance| (alert, instance)))
            .collect();
        let mut report = TroubleshootReport {
            checked: vec![format!("alerts: {} pending or firing", active.len())],
            ..TroubleshootReport::default()
        };
        report.findings.extend(
            active
                .into_iter()
                .map(|(alert, instance)| alert_finding(alert, instance)),
        );
        report
    }

    /// The flags whose variant mix changed in the window.
    async fn flag_changes(&self) -> Result<Vec<flags::FlagChange>, NotChecked> {
        const WHAT: &str = "feature flags";
        let gap = |why: String| NotChecked::new(WHAT, why);
        let need = self.need(FLAGS).map_err(gap)?;
        let signal = need
            .signals
            .iter()
            .find(|s| s.name == "evaluations")
            .ok_or_else(|| gap(format!("the {FLAGS} need has no evaluations signal")))?;
        if let Some(why) = &signal.unavailable {
            return Err(gap(why.clone()));
        }
        let (Some(flag), Some(variant)) = (signal.labels.get("flag"), signal.labels.get("variant"))
        else {
            return Err(gap(
                "the evaluations signal has no flag or variant label".to_string()
            ));
        };
        let expr = self
            .query(FLAGS, "Flag evaluations per second", 0, self.window.rate)
            .map_err(gap)?;
        let series = self.range_all(&expr).await.map_err(gap)?;
        if series.is_empty() {
            return Err(gap(format!(
                "no flag evaluations in the window ({})",
                signal.selector
            )));
        }
        Ok(flags::changes(&series, flag, variant, self.window.split()))
    }
}

/// A pending or firing instance of one of the app's alerts. Either is a
/// warning at least; a firing alert is as severe as the plan made it.
fn alert_finding(alert: &LoadedAlert<'_>, instance: &Alert) -> Finding {
    let name = &alert.planned.name;
    let firing = instance.state == AlertState::Firing;
    let severity = if firing {
        alert.planned.severity.min(Severity::Warning)
    } else {
        Severity::Warning
    };
    let state = if firing { "firing" } else { "pending" };
    // RFC 3339 with nanoseconds: the clock time is what a person matches.
    let since = instance
        .active_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .map_or_else(
            || "an unknown time".to_string(),
            |t| trend::clock(trend::unix(t)),
        );
    let annotation = |key: &str| {
        instance
            .annotations
            .get(key)
            .or_else(|| alert.rule.annotations.get(key))
    };
    let mut finding = Finding::new(
        severity,
        Role::Symptom,
        format!("Alert {name} is {state} (since {since})"),
    )
    .evidence(annotation("summary").cloned().unwrap_or_default())
    .evidence(format!("value {}", number(instance.value)))
    .runbook(alert.planned.runbook_section.clone())
    .next(format!(
        "Follow the mitigation of {name} in the runbook ({})",
        annotation("runbook_url").map_or("the app's runbook.md", String::as_str)
    ));
    finding.evidence.retain(|line| !line.is_empty());
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(baseline: Option<f64>, recent: f64) -> Shift {
        Shift { baseline, recent }
    }

    /// An alerting rule as `/api/v1/rules` answers it, its one instance in `state`.
    fn rule(state: &str) -> crate::client::prometheus::Rule {
        let json = format!(
            r#"{{"type":"alerting","name":"CheckoutHighErrorRate","query":"x > 0.05","health":"ok","state":"{state}","duration":300,
            "labels":{{"severity":"critical"}},
            "annotations":{{"summary":"checkout fails more than 5% of its requests.","runbook_url":"https://git.example/shop/runbook.md#checkouthigherrorrate"}},
            "alerts":[{{"labels":{{"alertname":"CheckoutHighErrorRate","severity":"critical"}},"annotations":{{"summary":"checkout fails more than 5% of its requests."}},
              "state":"{state}","activeAt":"2026-12-07T14:03:07.123456789Z","value":"7.38e-02"}}]}}"#
        );
        serde_json::from_str(&json).expect("a rules answer")
    }

    fn planned(severity: Severity) -> crate::plan::PlannedAlert {
        crate::plan::PlannedAlert {
            name: "CheckoutHighErrorRate".into(),
            severity,
            runbook_section: "runbook.md#checkouthigherrorrate".into(),
        }
    }

    #[test]
    fn an_alert_finding_takes_its_severity_and_runbook_section_from_the_plan() {
        let firing = rule("firing");
        let critical = planned(Severity::Critical);
        let alert = LoadedAlert {
            planned: &critical,
            rule: &firing,
        };
        let finding = alert_finding(&alert, &firing.alerts[0]);
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(
            finding.title,
            "Alert CheckoutHighErrorRate is firing (since 14:03:07 UTC)"
        );
        assert_eq!(
            finding.evidence,
            [
                "checkout fails more than 5% of its requests.",
                "value 0.0738"
            ]
        );
        assert_eq!(
            finding.runbook_section.as_deref(),
            Some("runbook.md#checkouthigherrorrate")
        );
        assert!(
            finding
                .next_step
                .ends_with("(https://git.example/shop/runbook.md#checkouthigherrorrate)"),
            "{}",
            finding.next_step
        );
        // An information alert that fires is still a warning; a pending one
        // is a warning whatever the plan says.
        let info = planned(Severity::Info);
        let alert = LoadedAlert {
            planned: &info,
            rule: &firing,
        };
        assert_eq!(
            alert_finding(&alert, &firing.alerts[0]).severity,
            Severity::Warning
        );
        let pending = rule("pending");
        let alert = LoadedAlert {
            planned: &critical,
            rule: &pending,
        };
        let finding = alert_finding(&alert, &pending.alerts[0]);
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.title.contains("is pending"), "{}", finding.title);
    }

    #[test]
    fn errors_count_when_they_rise_past_one_percent_or_stay_above_five() {
        assert_eq!(error_judgement(&shift(Some(0.0), 0.0)), None);
        assert_eq!(error_judgement(&shift(Some(0.0), 0.005)), None, "noise");
        assert_eq!(
            error_judgement(&shift(Some(0.02), 0.025)),
            None,
            "steady and low"
        );
        assert_eq!(
            error_judgement(&shift(Some(0.0), 0.02)),
            Some((Severity::Warning, true))
        );
        assert_eq!(
            error_judgement(&shift(None, 0.3)),
            Some((Severity::Critical, true))
        );
        assert_eq!(
            error_judgement(&shift(Some(0.06), 0.07)),
            Some((Severity::Critical, false)),
            "high but not new"
        );
    }

    #[test]
    fn latency_counts_when_p95_rises_by_half_and_100_ms_or_passes_half_a_second() {
        assert_eq!(latency_judgement(&shift(Some(0.005), 0.006)), None);
        assert_eq!(
            latency_judgement(&shift(Some(0.005), 0.05)),
            None,
            "under 100 ms more"
        );
        assert_eq!(
            latency_judgement(&shift(Some(0.005), 0.9)),
            Some((Severity::Warning, true))
        );
        assert_eq!(
            latency_judgement(&shift(Some(0.9), 1.2)),
            Some((Severity::Critical, false)),
            "slow already"
        );
        assert_eq!(
            latency_judgement(&shift(None, 0.2)),
            None,
            "no baseline, not slow"
        );
    }
}
