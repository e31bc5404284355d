//! Service level objectives: what a need's `objectives:` promise, and the
//! multiwindow, multi-burn-rate alerting every objective gets.
//!
//! An objective says which share of the app's events must be good over a
//! rolling period (99.5 % of requests not 5xx over 28 days). What may fail is
//! its error budget (0.5 %). The alerts watch how fast the budget burns, as
//! the Google SRE workbook and Sloth do: a page when 2 % of the budget burns
//! in an hour or 5 % in six hours, a ticket when 10 % burns in a day or three.
//! Each is two windows at once: the long one says the burn is real, the short
//! one that it is still going on.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::needs::resolve::{Exposed, ResolvedNeed};
use crate::needs::{SignalType, Unit};

/// Who an alert calls: Alertmanager routes on it, and a page inhibits the
/// ticket of the same objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Someone is woken up.
    Page,
    /// Someone looks during working hours.
    Ticket,
}

impl Tier {
    /// The label value (`tier` and `sloth_severity`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }

    /// The alert's `severity` label.
    pub fn severity(self) -> crate::needs::Severity {
        match self {
            Tier::Page => crate::needs::Severity::Critical,
            Tier::Ticket => crate::needs::Severity::Warning,
        }
    }
}

/// One window pair of a burn-rate alert: it holds when the error ratio over
/// both windows is above `factor` times the error budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    /// Who it calls.
    pub tier: Tier,
    /// How many times faster than "exactly used up at the end of the period".
    pub factor: f64,
    /// The window that says the burn goes on now.
    pub short: Duration,
    /// The window that says the burn is real.
    pub long: Duration,
    /// The share of a 30-day budget burnt when the condition first holds
    /// (shown in the runbook).
    pub budget_share: f64,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The window pairs, most urgent first: the page's two, then the ticket's.
pub const BURN_WINDOWS: [BurnWindow; 4] = [
    BurnWindow {
        tier: Tier::Page,
        factor: 14.4,
        short: Duration::from_secs(5 * MINUTE),
        long: Duration::from_secs(HOUR),
        budget_share: 0.02,
    },
    BurnWindow {
        tier: Tier::Page,
        factor: 6.0,
        short: Duration::from_secs(30 * MINUTE),
        long: Duration::from_secs(6 * HOUR),
        budget_share: 0.05,
    },
    BurnWindow {
        tier: Tier::Ticket,
        factor: 3.0,
        short: Duration::from_secs(2 * HOUR),
        long: Duration::from_secs(DAY),
        budget_share: 0.10,
    },
    BurnWindow {
        tier: Tier::Ticket,
        factor: 1.0,
        short: Duration::from_secs(6 * HOUR),
        long: Duration::from_secs(3 * DAY),
        budget_share: 0.10,
    },
];

/// Every window a recording rule is kept for, shortest first (the
/// objective's period is added to these).
pub fn recorded_windows() -> Vec<Duration> {
    let mut windows: Vec<Duration> = BURN_WINDOWS
        .iter()
        .flat_map(|w| [w.short, w.long])
        .collect();
    windows.sort();
    windows.dedup();
    windows
}

/// A duration as Prometheus writes it: the largest unit that divides it
/// (`5m`, `1h`, `28d`).
pub fn prometheus_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    [("d", DAY), ("h", HOUR), ("m", MINUTE)]
        .into_iter()
        .find(|(_, size)| secs > 0 && secs.is_multiple_of(*size))
        .map(|(unit, size)| format!("{}{unit}", secs / size))
        .unwrap_or_else(|| format!("{secs}s"))
}

/// An objective of a need file (`objectives:`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveDef {
    /// Its id (`availability`): the `sloth_slo` label and the key of
    /// onramp.yaml's `objectives:`. Unique among the app's needs.
    pub id: String,
    /// Its title (`Availability`).
    pub title: String,
    /// What a good event is, for the app's users.
    pub description: String,
    /// False when the app must turn it on (onramp.yaml's `objectives:` or
    /// the workload's `onramp.dev/objectives` annotation).
    #[serde(default = "on")]
    pub enabled: bool,
    /// The share of events that must be good, in percent (`99.5`).
    pub target: f64,
    /// The rolling period the error budget is counted over (`28d`).
    #[serde(default = "default_period")]
    pub period: String,
    /// No alert while the long window holds fewer events than this; by
    /// default the least number at which one failed event cannot alert.
    #[serde(default)]
    pub min_events: Option<u64>,
    /// An availability objective: good or bad events of a counter.
    #[serde(default)]
    pub events: Option<EventsSli>,
    /// A latency objective: events of a histogram under a threshold.
    #[serde(default)]
    pub latency: Option<LatencySli>,
}

fn on() -> bool {
    true
}

fn default_period() -> String {
    "28d".to_string()
}

/// The events of an availability objective: a counter signal, the matchers
/// that pick every event that counts (`total`), and those that pick the bad
/// ones (`bad`) or the good ones (`good`), on the signal's logical labels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSli {
    /// The counter signal (`requests`).
    pub signal: String,
    /// Matchers every counted event has (`route!~@internal_routes`).
    #[serde(default)]
    pub total: String,
    /// Matchers of the failed events (`status=~"5.."`).
    #[serde(default)]
    pub bad: Option<String>,
    /// Matchers of the good events, when easier to say.
    #[serde(default)]
    pub good: Option<String>,
}

/// The events of a latency objective: a histogram signal and the duration
/// a good event stays under.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySli {
    /// The histogram signal (`latency`).
    pub signal: String,
    /// A good event takes at most this long (`300ms`, `1s`).
    pub threshold: String,
}

/// What onramp.yaml's `objectives.ID` changes for one app: naming an
/// objective turns it on unless `enabled: false`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectiveSettings {
    /// On or off (on when the objective is named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The target in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// The period (`30d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The minimum-traffic guard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_events: Option<u64>,
    /// A latency objective's threshold (`250ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
}

/// The recorded error ratio's name without its window (`…rate5m`, `…rate1h`):
/// Sloth's, so dashboards built for Sloth keep working.
pub const ERROR_RATIO_RECORD: &str = "slo:sli_error:ratio_rate";

/// The workload annotation that turns objectives on from the app's own
/// manifest: `onramp.dev/objectives: availability,latency`.
pub const ANNOTATION: &str = "onramp.dev/objectives";

/// How the app's events are counted, resolved to PromQL selectors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Sli {
    /// Good or bad events of a counter.
    Events {
        /// Every counted event.
        total: String,
        /// The failed events, or the good ones.
        split: Split,
    },
    /// Events of a histogram at or under a bucket boundary.
    Latency {
        /// The `_count` series: every event.
        total: String,
        /// The `_bucket` series at the chosen boundary: the good events.
        good: String,
        /// The boundary chosen, as the app writes it (`0.25`).
        le: String,
        /// Which boundary was chosen and why.
        why: String,
    },
}

/// Which part of an availability objective's events the need names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The selector of the failed events.
    Bad(String),
    /// The selector of the good events.
    Good(String),
}

/// An objective resolved for one app: everything its rules, tests, checks
/// and runbook section are made from.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedObjective {
    /// The need it belongs to.
    pub need: String,
    /// Its id (`sloth_slo`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// What a good event is.
    pub description: String,
    /// The share of good events promised, as a ratio (`0.995`).
    pub objective: f64,
    /// The period, as written (`28d`).
    pub period: String,
    /// The period.
    #[serde(skip)]
    pub period_length: Duration,
    /// The minimum-traffic guard: events the long window must hold.
    pub min_events: u64,
    /// Where the guard's number comes from.
    pub min_events_why: String,
    /// The events.
    pub sli: Sli,
    /// `sloth_id`, `sloth_service`, `sloth_slo` and `namespace`: what every
    /// series of its rules carries.
    pub labels: BTreeMap<String, String>,
    /// Window pairs that can never hold at this target (their threshold is
    /// 100 % of the events or more), for people.
    pub never_alerts: Vec<String>,
}

/// What became of one objective of a need for the app.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Off: neither the need nor the app turned it on.
    Off,
    /// On, resolved.
    On(Box<ResolvedObjective>),
    /// On, but it cannot be generated: why (the need's other objectives
    /// and alerts are generated all the same).
    Refused(String),
}

/// Resolves `def` of `need` for the app, with onramp.yaml's `settings` for
/// it and whether the workload's annotation names it.
pub fn resolve(
    need: &ResolvedNeed<'_>,
    def: &ObjectiveDef,
    settings: Option<&ObjectiveSettings>,
    annotated: bool,
    exposed: Option<&Exposed>,
) -> Outcome {
    let enabled = match settings {
        Some(s) => s.enabled.unwrap_or(true),
        None => def.enabled || annotated,
    };
    if !enabled {
        return Outcome::Off;
    }
    match resolved(need, def, settings.cloned().unwrap_or_default(), exposed) {
        Ok(objective) => Outcome::On(Box::new(objective)),
        Err(reason) => Outcome::Refused(reason),
    }
}

fn resolved(
    need: &ResolvedNeed<'_>,
    def: &ObjectiveDef,
    settings: ObjectiveSettings,
    exposed: Option<&Exposed>,
) -> std::result::Result<ResolvedObjective, String> {
    if !valid_id(&def.id) {
        return Err(format!(
            "id {:?} is not 1–40 of a-z, 0-9 and '-', starting with a letter (it becomes a label value, a rule group and an alert name)",
            def.id
        ));
    }
    let target = settings.target.unwrap_or(def.target);
    if !(target > 0.0 && target < 100.0) {
        return Err(format!(
            "target {target} is not a percentage between 0 and 100 (exclusive): 100 % leaves no error budget to alert on"
        ));
    }
    let period = settings.period.unwrap_or_else(|| def.period.clone());
    let period_length = parse_duration(&period).map_err(|e| format!("period: {e}"))?;
    if period_length < Duration::from_secs(DAY) {
        return Err(format!(
            "period {period} is shorter than a day: the budget would be used up before the 3-day ticket window closes"
        ));
    }
    let objective = target / 100.0;
    let budget = 1.0 - objective;
    let sli = match (&def.events, &def.latency) {
        (Some(events), None) => events_sli(need, events)?,
        (None, Some(latency)) => {
            let threshold = settings.threshold.as_deref().unwrap_or(&latency.threshold);
            latency_sli(need, &latency.signal, threshold, exposed)?
        }
        _ => return Err("give exactly one of `events:` and `latency:`".to_string()),
    };
    let (min_events, min_events_why) = guard(settings.min_events.or(def.min_events), budget);
    let ratio = error_ratio_of(&sli, "5m");
    crate::needs::promql::check_cached_except(&ratio, &[])
        .map_err(|e| format!("its error ratio does not parse as PromQL: {e}: {ratio}"))?;
    let app = &need.scope.job;
    let labels = BTreeMap::from([
        ("sloth_id".to_string(), format!("{app}-{}", def.id)),
        ("sloth_service".to_string(), app.clone()),
        ("sloth_slo".to_string(), def.id.clone()),
        ("namespace".to_string(), need.scope.namespace.clone()),
    ]);
    Ok(ResolvedObjective {
        never_alerts: unreachable_pairs(budget),
        need: need.need.id.clone(),
        id: def.id.clone(),
        title: def.title.clone(),
        description: def.description.clone(),
        objective,
        period,
        period_length,
        min_events,
        min_events_why,
        sli,
        labels,
    })
}

/// The window pairs whose threshold (factor × budget) no error ratio can
/// exceed: at a target under 93.06 % the fastest page never fires.
fn unreachable_pairs(budget: f64) -> Vec<String> {
    BURN_WINDOWS
        .iter()
        .filter(|w| w.factor * budget >= 1.0)
        .map(|w| {
            format!(
                "the {} at {}x over {} never fires: {}x the {} budget is every event failing or more",
                w.tier.as_str(),
                w.factor,
                prometheus_duration(w.long),
                w.factor,
                percent(budget)
            )
        })
        .collect()
}

/// The minimum-traffic guard: the number set, else the least at which one
/// failed event cannot alert; with where it comes from.
fn guard(set: Option<u64>, budget: f64) -> (u64, String) {
    match set {
        Some(n) => (n, "set for this objective".to_string()),
        None => {
            let n = least_events_one_failure_cannot_alert(budget);
            (
                n,
                format!(
                    "the default: with {n} events or more in the long window, one failed event is at most {} of them, not above the lowest burn threshold (1x the {} budget)",
                    percent(1.0 / n as f64),
                    percent(budget)
                ),
            )
        }
    }
}

fn valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Every problem of a need's objectives, each checked as if turned on, for
/// `onramp needs check`. Loading a need does not stop at them: at plan time
/// a broken objective is refused with its reason and the others are made.
pub fn findings(need: &crate::needs::Need) -> Vec<crate::needs::resolve::Finding> {
    use crate::needs::resolve::{At, Finding, Scope, SignalOverrides};
    let canonical = ResolvedNeed::new(
        need,
        Scope::canonical(crate::app::WorkloadKind::Deployment),
        &SignalOverrides::default(),
        None,
    );
    let mut out = Vec::new();
    for (i, def) in need.objectives.iter().enumerate() {
        let at = At::Path(vec!["objectives".to_string(), i.to_string()]);
        let message = if need.objectives[..i].iter().any(|o| o.id == def.id) {
            Some("is defined twice in this need; ids must be unique".to_string())
        } else {
            resolved(&canonical, def, ObjectiveSettings::default(), None).err()
        };
        if let Some(message) = message {
            out.push(Finding {
                at,
                message: format!("objective {:?}: {message}", def.id),
            });
        }
    }
    out
}

/// The fewest events at which one failed event stays at or under the
/// lowest burn threshold of every window pair.
fn least_events_one_failure_cannot_alert(budget: f64) -> u64 {
    let lowest = BURN_WINDOWS
        .iter()
        .map(|w| w.factor)
        .fold(f64::INFINITY, f64::min);
    // Rounded first so that 1 / 0.005 is 200, not 200.00000000000003.
    let exact = 1.0 / (lowest * budget);
    ((exact * 1e6).round() / 1e6).ceil() as u64
}

/// A ratio as a percentage for prose (`0.5 %`, `99.5 %`).
pub fn percent(ratio: f64) -> String {
    let value = ratio * 100.0;
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} %")
}

fn events_sli(need: &ResolvedNeed<'_>, events: &EventsSli) -> std::result::Result<Sli, String> {
    let signal = need
        .signals
        .get(&events.signal)
        .ok_or_else(|| format!("unknown signal {:?}", events.signal))?;
    if signal.kind != SignalType::Counter {
        return Err(format!(
            "signal {:?} is a {}: an availability objective counts events of a counter",
            events.signal,
            signal.kind.word()
        ));
    }
    let selector = |extra: Option<&str>| {
        let matchers: Vec<&str> = [Some(events.total.as_str()), extra]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .collect();
        let template = if matchers.is_empty() {
            format!("{{{{{}}}}}", events.signal)
        } else {
            format!("{{{{{}|{}}}}}", events.signal, matchers.join(","))
        };
        need.expr(&template)
    };
    match (&events.bad, &events.good) {
        (Some(bad), None) => Ok(Sli::Events {
            total: selector(None)?,
            split: Split::Bad(selector(Some(bad))?),
        }),
        (None, Some(good)) => Ok(Sli::Events {
            total: selector(None)?,
            split: Split::Good(selector(Some(good))?),
        }),
        _ => Err("give exactly one of `bad:` and `good:` matchers".to_string()),
    }
}

/// The bucket boundaries the Prometheus clients use by default, in seconds.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_sli(
    need: &ResolvedNeed<'_>,
    name: &str,
    threshold: &str,
    exposed: Option<&Exposed>,
) -> std::result::Result<Sli, String> {
    let signal = need
        .signals
        .get(name)
        .ok_or_else(|| format!("unknown signal {name:?}"))?;
    if signal.kind != SignalType::Histogram {
        return Err(format!(
            "signal {name:?} is a {}: a latency objective needs a histogram",
            signal.kind.word()
        ));
    }
    let limit = parse_duration_f64(threshold).map_err(|e| format!("threshold: {e}"))?;
    let scale = if signal.unit == Unit::Milliseconds {
        1000.0
    } else {
        1.0
    };
    let bucket_series = format!("{}_bucket", signal.metric);
    let (boundaries, from) = match exposed.and_then(|e| e.buckets(&bucket_series)) {
        Some(les) => (
            les.iter()
                .filter_map(|le| le.parse::<f64>().ok().map(|v| (le.clone(), v)))
                .filter(|(_, v)| v.is_finite())
                .collect::<Vec<_>>(),
            format!("the app's {bucket_series}"),
        ),
        None => (
            DEFAULT_BUCKETS
                .iter()
                .map(|b| (format!("{}", b * scale), b * scale))
                .collect(),
            "the Prometheus clients' default buckets (assumed: plan with --prometheus-url to pick from the app's own)".to_string(),
        ),
    };
    let (le, why) = pick_boundary(&boundaries, limit * scale, threshold, &from)?;
    let count = need.expr(&format!("{{{{{name}:count}}}}"))?;
    let bucket = need.expr(&format!("{{{{{name}:bucket}}}}"))?;
    let good = match bucket.strip_suffix('}') {
        Some(open) => format!("{open},le={}}}", crate::needs::promql::quote(&le)),
        None => format!("{bucket}{{le={}}}", crate::needs::promql::quote(&le)),
    };
    Ok(Sli::Latency {
        total: count,
        good,
        le,
        why,
    })
}

/// The largest boundary at or under the threshold (a request counted good
/// surely finished in time), with why.
fn pick_boundary(
    boundaries: &[(String, f64)],
    limit: f64,
    threshold: &str,
    from: &str,
) -> std::result::Result<(String, String), String> {
    let tolerance = limit * 1e-9;
    let under = boundaries
        .iter()
        .filter(|(_, v)| *v <= limit + tolerance)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let next = boundaries
        .iter()
        .filter(|(_, v)| *v > limit + tolerance)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let Some((le, value)) = under else {
        return Err(format!(
            "no bucket boundary at or under {threshold} in {from}{}: add one to the histogram, or raise the threshold",
            next.map(|(le, _)| format!(" (the smallest is le=\"{le}\")"))
                .unwrap_or_default()
        ));
    };
    let why = if (value - limit).abs() <= tolerance {
        format!("le=\"{le}\" of {from}: a boundary exactly at {threshold}")
    } else {
        format!(
            "le=\"{le}\" of {from}: the largest boundary under {threshold}, so a request counted fast surely took less than {threshold}{}",
            next.map(|(n, _)| format!("; le=\"{n}\" would count slower requests as fast"))
                .unwrap_or_default()
        )
    };
    Ok((le.clone(), why))
}

/// A Prometheus duration (`5m`, `28d`, `1h30m`).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let seconds = parse_duration_f64(text)?;
    if seconds < 1.0 || seconds.fract() != 0.0 {
        return Err(format!("{text:?} is not a whole number of seconds"));
    }
    Ok(Duration::from_secs(seconds as u64))
}

/// A duration in seconds from Prometheus' syntax, milliseconds allowed
/// (`300ms`), read by the PromQL parser the rule checks use
/// ([`crate::needs::promql::check_duration`]).
fn parse_duration_f64(text: &str) -> std::result::Result<f64, String> {
    promql_parser::util::parse_duration(text.trim())
        .map(|d| d.as_secs_f64())
        .map_err(|_| format!("{text:?} is not a duration such as 300ms, 5m or 28d"))
}

impl ResolvedObjective {
    /// The service-health availability objective of `checkout` at
    /// `objective`, for the tests of what is made from an objective.
    #[cfg(test)]
    pub(crate) fn example(objective: f64, min_events: u64, sli: Sli) -> ResolvedObjective {
        ResolvedObjective {
            never_alerts: Vec::new(),
            need: "service-health".to_string(),
            id: "availability".to_string(),
            title: "Availability".to_string(),
            description: String::new(),
            objective,
            period: "28d".to_string(),
            period_length: Duration::from_secs(28 * DAY),
            min_events,
            min_events_why: String::new(),
            sli,
            labels: BTreeMap::from([
                ("sloth_id".to_string(), "checkout-availability".to_string()),
                ("sloth_service".to_string(), "checkout".to_string()),
                ("sloth_slo".to_string(), "availability".to_string()),
            ]),
        }
    }

    /// The error budget: the share of events that may fail (`0.005`).
    pub fn budget(&self) -> f64 {
        1.0 - self.objective
    }

    /// The selector of its recorded series: `{sloth_id="…", …}`.
    pub fn filter(&self) -> String {
        let matchers: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::needs::promql::quote(v)))
            .collect();
        format!("{{{}}}", matchers.join(","))
    }

    /// Events per second over `window` (`5m`), from the raw series.
    pub fn events_rate(&self, window: &str) -> String {
        events_rate_of(&self.sli, window)
    }

    /// Failed events per second over `window`, from the raw series: 0, not
    /// nothing, while none failed.
    pub fn errors_rate(&self, window: &str) -> String {
        errors_rate_of(&self.sli, window)
    }
}

fn events_rate_of(sli: &Sli, window: &str) -> String {
    let total = match sli {
        Sli::Events { total, .. } | Sli::Latency { total, .. } => total,
    };
    format!("sum(rate({total}[{window}]))")
}

fn errors_rate_of(sli: &Sli, window: &str) -> String {
    match sli {
        Sli::Events {
            split: Split::Bad(bad),
            ..
        } => format!("(sum(rate({bad}[{window}])) or vector(0))"),
        Sli::Events {
            split: Split::Good(good),
            ..
        }
        | Sli::Latency { good, .. } => format!(
            "({} - (sum(rate({good}[{window}])) or vector(0)))",
            events_rate_of(sli, window)
        ),
    }
}

fn error_ratio_of(sli: &Sli, window: &str) -> String {
    format!(
        "{} / ({} > 0)",
        errors_rate_of(sli, window),
        events_rate_of(sli, window)
    )
}

impl ResolvedObjective {
    /// The error ratio over `window`, from the raw series: no value while
    /// there are no events (never NaN, which would poison the longer
    /// windows' averages).
    pub fn error_ratio(&self, window: &str) -> String {
        error_ratio_of(&self.sli, window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_are_sloths_and_written_as_prometheus_writes_them() {
        let names: Vec<String> = recorded_windows()
            .into_iter()
            .map(prometheus_duration)
            .collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
        assert_eq!(prometheus_duration(Duration::from_secs(28 * DAY)), "28d");
    }
}
