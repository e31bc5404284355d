//! The rules of a service level objective: one rule group per objective,
//! with Sloth's recording rules (so dashboards built for Sloth keep
//! working) and the two multiwindow, multi-burn-rate alerts, page and
//! ticket, each guarded against pages on the few events of a quiet app.
//!
//! Only the 5-minute error ratio and event rate read the app's raw series;
//! every longer window averages the 5-minute rule, which keeps the rules
//! cheap however many series the app has.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::needs::objective::{
    BURN_WINDOWS, BurnWindow, ResolvedObjective, Tier, percent, prometheus_duration,
    recorded_windows,
};
use crate::render::rules::{Rule, RuleGroup};
use crate::render::{Context, camel_case};

/// The recorded error ratio, without its window.
pub const ERROR_RATIO: &str = crate::needs::objective::ERROR_RATIO_RECORD;
/// Events per second over 5 minutes (for the minimum-traffic guard).
pub const EVENTS_RATE: &str = "slo:sli_events:rate5m";
/// The label naming a recorded window.
pub const WINDOW_LABEL: &str = "sloth_window";
/// How long a page's condition must hold before it fires.
pub const PAGE_FOR: &str = "2m";
/// How long a ticket's condition must hold before it fires.
pub const TICKET_FOR: &str = "15m";

/// The rule group of one objective: `namespace.app.slo-ID`.
pub fn group_name(ctx: &Context<'_>, objective: &ResolvedObjective) -> String {
    format!(
        "{}.{}.slo-{}",
        ctx.app.namespace, ctx.app.name, objective.id
    )
}

/// The name of both of the objective's alerts (page and ticket, told
/// apart by `tier`), as Sloth names them: `CheckoutAvailabilityErrorBudgetBurn`.
pub fn alert_name(ctx: &Context<'_>, objective: &ResolvedObjective) -> String {
    format!(
        "{}{}ErrorBudgetBurn",
        ctx.alert_prefix(),
        camel_case(&objective.id)
    )
}

/// The objective's rule group: recordings first (a group evaluates in
/// order), then the page and the ticket.
pub fn group(ctx: &Context<'_>, objective: &ResolvedObjective, runbook_url: &str) -> RuleGroup {
    let mut rules = sli_recordings(objective);
    rules.extend(metadata_recordings(objective));
    for tier in [Tier::Page, Tier::Ticket] {
        rules.push(alert(ctx, objective, tier, runbook_url));
    }
    RuleGroup {
        name: group_name(ctx, objective),
        rules,
    }
}

fn record(name: String, expr: String, labels: BTreeMap<String, String>) -> Rule {
    Rule {
        record: Some(name),
        alert: None,
        expr,
        for_: None,
        labels,
        annotations: BTreeMap::new(),
    }
}

fn with_window(objective: &ResolvedObjective, window: &str) -> BTreeMap<String, String> {
    let mut labels = objective.labels.clone();
    labels.insert(WINDOW_LABEL.to_string(), window.to_string());
    labels
}

/// The windows recorded for the objective: the alerts' and its period.
pub fn windows(objective: &ResolvedObjective) -> Vec<Duration> {
    let mut windows = recorded_windows();
    windows.push(objective.period_length);
    windows.sort();
    windows.dedup();
    windows
}

fn sli_recordings(objective: &ResolvedObjective) -> Vec<Rule> {
    let filter = objective.filter();
    let five = format!("{ERROR_RATIO}5m");
    let mut rules = vec![
        record(
            five.clone(),
            objective.error_ratio("5m"),
            with_window(objective, "5m"),
        ),
        record(
            EVENTS_RATE.to_string(),
            objective.events_rate("5m"),
            with_window(objective, "5m"),
        ),
    ];
    for window in windows(objective).into_iter().skip(1) {
        let w = prometheus_duration(window);
        rules.push(record(
            format!("{ERROR_RATIO}{w}"),
            format!(
                "sum_over_time({five}{filter}[{w}]) / ignoring ({WINDOW_LABEL}) count_over_time({five}{filter}[{w}])"
            ),
            with_window(objective, &w),
        ));
    }
    rules
}

fn metadata_recordings(objective: &ResolvedObjective) -> Vec<Rule> {
    let filter = objective.filter();
    let labels = objective.labels.clone();
    let period = prometheus_duration(objective.period_length);
    let burn = |window: &str| {
        format!(
            "{ERROR_RATIO}{window}{filter} / on (sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{filter}"
        )
    };
    let mut info = labels.clone();
    info.extend([
        ("sloth_mode".to_string(), "cli-gen-prom".to_string()),
        ("sloth_spec".to_string(), "onramp/objective".to_string()),
        (
            "sloth_version".to_string(),
            format!("onramp-{}", env!("CARGO_PKG_VERSION")),
        ),
        (
            "sloth_objective".to_string(),
            number(objective.objective * 100.0),
        ),
    ]);
    vec![
        record(
            "slo:objective:ratio".to_string(),
            format!("vector({})", number(objective.objective)),
            labels.clone(),
        ),
        record(
            "slo:error_budget:ratio".to_string(),
            format!("vector({})", number(objective.budget())),
            labels.clone(),
        ),
        record(
            "slo:time_period:days".to_string(),
            format!(
                "vector({})",
                number(objective.period_length.as_secs_f64() / 86400.0)
            ),
            labels.clone(),
        ),
        record(
            "slo:current_burn_rate:ratio".to_string(),
            burn("5m"),
            labels.clone(),
        ),
        record(
            "slo:period_burn_rate:ratio".to_string(),
            burn(&period),
            labels.clone(),
        ),
        record(
            "slo:period_error_budget_remaining:ratio".to_string(),
            format!("1 - slo:period_burn_rate:ratio{filter}"),
            labels,
        ),
        record("sloth_slo_info".to_string(), "vector(1)".to_string(), info),
    ]
}

/// A number as PromQL and labels write it: no float noise (`0.005`, not
/// `0.0050000000000000044`).
pub fn number(value: f64) -> String {
    let text = format!("{value:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// The condition of one window pair: both windows above the burn
/// threshold, and enough events in the long one.
pub fn pair_condition(objective: &ResolvedObjective, pair: &BurnWindow) -> String {
    let filter = objective.filter();
    let threshold = format!("({} * {})", number(pair.factor), number(objective.budget()));
    let short = prometheus_duration(pair.short);
    let long = prometheus_duration(pair.long);
    // Each operand drops the window label, as Sloth's do: the alert keeps
    // one identity (and its `for` clock) whichever pair holds.
    format!(
        "(\n  max without ({WINDOW_LABEL}) ({ERROR_RATIO}{short}{filter} > {threshold})\n  and max without ({WINDOW_LABEL}) ({ERROR_RATIO}{long}{filter} > {threshold})\n  and max without ({WINDOW_LABEL}) ({} >= {})\n)",
        events_in(objective, &long),
        objective.min_events
    )
}

/// The events the long window holds, from the 5-minute events rate: the
/// sum of its samples times the evaluation interval (300 s over the number
/// of samples in 5 minutes). Unlike the mean rate times the window, this
/// counts only what the window holds: on a freshly loaded objective one
/// failed request of a quiet app cannot pass for a full window's traffic.
pub fn events_in(objective: &ResolvedObjective, window: &str) -> String {
    let filter = objective.filter();
    format!(
        "sum_over_time({EVENTS_RATE}{filter}[{window}]) * 300 / count_over_time({EVENTS_RATE}{filter}[5m])"
    )
}

/// The expression of a tier's alert: any of its window pairs.
pub fn tier_condition(objective: &ResolvedObjective, tier: Tier) -> String {
    BURN_WINDOWS
        .iter()
        .filter(|w| w.tier == tier)
        .map(|w| pair_condition(objective, w))
        .collect::<Vec<_>>()
        .join("\nor\n")
}

fn alert(ctx: &Context<'_>, objective: &ResolvedObjective, tier: Tier, runbook_url: &str) -> Rule {
    let name = alert_name(ctx, objective);
    let pairs: Vec<String> = BURN_WINDOWS
        .iter()
        .filter(|w| w.tier == tier)
        .map(|w| {
            format!(
                "{}x over {} and {}",
                number(w.factor),
                prometheus_duration(w.long),
                prometheus_duration(w.short)
            )
        })
        .collect();
    let (summary, for_) = match tier {
        Tier::Page => (
            format!(
                "{} burns its {} error budget fast: at this rate it is gone within days.",
                ctx.app.name, objective.title
            ),
            PAGE_FOR,
        ),
        Tier::Ticket => (
            format!(
                "{} burns its {} error budget faster than the objective allows.",
                ctx.app.name, objective.title
            ),
            TICKET_FOR,
        ),
    };
    let description = format!(
        "{{{{ $value | humanizePercentage }}}} of the events of {} in namespace {} failed the {} objective over the short window of the pair that holds (the objective allows {} over {}; this alert holds at {}).",
        ctx.app.workload(),
        ctx.app.namespace,
        objective.title,
        percent(objective.budget()),
        objective.period,
        pairs.join(" or ")
    );
    Rule {
        record: None,
        alert: Some(name.clone()),
        expr: tier_condition(objective, tier),
        for_: Some(for_.to_string()),
        labels: BTreeMap::from([
            ("severity".to_string(), tier.severity().to_string()),
            ("tier".to_string(), tier.as_str().to_string()),
            ("sloth_severity".to_string(), tier.as_str().to_string()),
            ("namespace".to_string(), ctx.app.namespace.clone()),
            ("app".to_string(), ctx.app.name.clone()),
        ]),
        annotations: BTreeMap::from([
            ("summary".to_string(), summary),
            ("description".to_string(), description),
            (
                "runbook_url".to_string(),
                format!("{runbook_url}#{}", name.to_ascii_lowercase()),
            ),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needs::objective::{Sli, Split};
    use promql_parser::parser::{self, Expr, LabelModifier};

    fn availability() -> ResolvedObjective {
        let selector = |extra: &str| format!(r#"http_requests_total{{job="checkout"{extra}}}"#);
        ResolvedObjective::example(
            0.995,
            200,
            Sli::Events {
                total: selector(""),
                split: Split::Bad(selector(r#",status=~"5..""#)),
            },
        )
    }

    /// Whether the result of `expr` can carry `sloth_window` (every
    /// recorded series of an objective does): an aggregation that keeps it
    /// or selects straight from a series, an `or` on either side, an `and`
    /// on its left.
    fn carries_window(expr: &Expr) -> bool {
        match expr {
            Expr::Aggregate(a) => match &a.modifier {
                Some(LabelModifier::Exclude(l)) => {
                    !l.labels.iter().any(|x| x == WINDOW_LABEL) && carries_window(&a.expr)
                }
                Some(LabelModifier::Include(l)) => l.labels.iter().any(|x| x == WINDOW_LABEL),
                None => false,
            },
            Expr::Binary(b) => match b.op.to_string().as_str() {
                "and" | "unless" => carries_window(&b.lhs),
                _ => carries_window(&b.lhs) || carries_window(&b.rhs),
            },
            Expr::Paren(p) => carries_window(&p.expr),
            Expr::Call(c) => c.args.args.iter().any(|a| carries_window(a)),
            Expr::VectorSelector(_) | Expr::MatrixSelector(_) => true,
            _ => false,
        }
    }

    #[test]
    fn the_alert_kept_one_identity_when_the_burn_moved_from_one_window_pair_to_the_other() {
        // Before: `A or ignoring (sloth_window) B` kept sloth_window="30m"
        // while only the 6x pair held and "5m" once the 14.4x pair held
        // too, so Prometheus saw two alerts: the pending or firing one
        // resolved and the other started its `for` again.
        let old = r#"(slo:sli_error:ratio_rate5m{a="b"} > 1 and ignoring (sloth_window) slo:sli_error:ratio_rate1h{a="b"} > 1) or ignoring (sloth_window) (slo:sli_error:ratio_rate30m{a="b"} > 1)"#;
        assert!(carries_window(&parser::parse(old).expect("PromQL")));
        for tier in [Tier::Page, Tier::Ticket] {
            let expr = tier_condition(&availability(), tier);
            let parsed = parser::parse(&expr).unwrap_or_else(|e| panic!("{e}\n{expr}"));
            assert!(!carries_window(&parsed), "{tier:?}:\n{expr}");
        }
    }
}
