//! The runbook: Markdown an on-call engineer can follow at 3 a.m. For each
//! alert, Meaning / Impact / Diagnosis / Mitigation with the app's real names,
//! commands and queries; for each dashboard, a walkthrough of troubleshooting
//! with it; for each objective that is on, a section at its burn-rate alerts'
//! anchor: what it promises, what burning its budget means for the app, the
//! first five minutes of a page, and the Alertmanager inhibition rule. Prose
//! goes through the `templates/runbook.md.j2` template (Jinja syntax,
//! rendered with minijinja); values that come from input pass the `md`
//! escaping filter.

use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::needs::Severity;
use crate::needs::objective::{
    BURN_WINDOWS, ResolvedObjective, Sli, Split, Tier, percent, prometheus_duration,
};
use crate::needs::resolve::ResolvedNeed;
use crate::render::Context;
use crate::render::rules::Alert;
use crate::render::slo::number;

const TEMPLATE: &str = include_str!("../../templates/runbook.md.j2");

/// A dashboard as the runbook shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookDashboard {
    /// The need it answers.
    pub need: String,
    /// Its title.
    pub title: String,
    /// Its URL in Grafana (`GRAFANA/d/UID`), when Grafana's URL is known.
    pub url: Option<String>,
    /// Its uid, to find it in Grafana when there is no URL.
    pub uid: String,
    /// Its JSON file in the codify folder.
    pub path: String,
    /// The need's story.
    pub story: String,
    /// The walkthrough (Markdown, already filled with the app's names).
    pub walkthrough: String,
    /// The signals it reads.
    pub signals: Vec<RunbookSignal>,
    /// The need's objectives that are on, each with its runbook section.
    pub objectives: Vec<RunbookObjective>,
}

/// An objective that is on, as its runbook section shows it: what it
/// promises, what its alerts mean, and what to do when one pages.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookObjective {
    /// The name of its page and ticket alerts (the section's title).
    pub alert: String,
    /// The section's anchor: the alerts' `runbook_url` ends in `#anchor`.
    pub anchor: String,
    /// Its title (`Availability`).
    pub title: String,
    /// What a good event is (Markdown from the need).
    pub description: String,
    /// How a latency objective counts a good event: the bucket boundary
    /// chosen, and why.
    pub counted: Option<String>,
    /// The target (`99.5 %`).
    pub target: String,
    /// The period (`28d`).
    pub period: String,
    /// The error budget (`0.5 %`).
    pub budget: String,
    /// One event in how many may fail (`200`).
    pub one_in: String,
    /// The budget as time of full outage per period (`3 h 22 min`).
    pub outage: String,
    /// The budget in events over the last period, from the raw series.
    pub budget_events: String,
    /// The burn-rate alerts' window pairs, most urgent first.
    pub windows: Vec<RunbookWindow>,
    /// The minimum-traffic guard: events the long window must hold.
    pub min_events: u64,
    /// Where the guard's number comes from.
    pub min_events_why: String,
    /// Queries to run (title, PromQL), from the raw series.
    pub queries: Vec<(String, String)>,
    /// The Alertmanager inhibition rule: page inhibits ticket.
    pub inhibition: String,
}

/// One window pair of an objective's alerts, as the runbook's table shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookWindow {
    /// `page` or `ticket`.
    pub tier: &'static str,
    /// The burn rate factor (`14.4`).
    pub factor: String,
    /// The long window (`1h`).
    pub long: String,
    /// The short window (`5m`).
    pub short: String,
    /// The share of the period's budget burnt when it first holds (`2.1 %`).
    pub share: String,
    /// How long the whole budget lasts at this rate (`1 d 22 h 40 min`).
    pub gone: String,
    /// How long the condition must hold before the alert fires (`2m`).
    pub for_: &'static str,
    /// Its colour on the burn rate graph.
    pub colour: &'static str,
}

/// A duration for a person, to the minute: `3 h 22 min`, `1 d 22 h 40 min`.
pub fn human_duration(duration: std::time::Duration) -> String {
    let minutes = (duration.as_secs_f64() / 60.0).round() as u64;
    let parts: Vec<String> = [
        (minutes / 1440, "d"),
        (minutes / 60 % 24, "h"),
        (minutes % 60, "min"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}"))
    .collect();
    if parts.is_empty() {
        "under a minute".to_string()
    } else {
        parts.join(" ")
    }
}

/// The objective's error budget as time of full outage over its period
/// (0.5 % of 28 days: `3 h 22 min`).
pub fn outage_time(objective: &ResolvedObjective) -> String {
    human_duration(objective.period_length.mul_f64(objective.budget()))
}

/// The Alertmanager inhibition rule for every objective's alerts: while an
/// objective pages, its ticket (same namespace and `sloth_id`) stays quiet.
pub const INHIBITION: &str = r#"inhibit_rules:
  - source_matchers:
      - tier="page"
    target_matchers:
      - tier="ticket"
    equal: [namespace, sloth_id]
"#;

/// The runbook sections of a need's objectives that are on.
pub fn objectives(
    ctx: &Context<'_>,
    need: &ResolvedNeed<'_>,
    on: &[&ResolvedObjective],
) -> Vec<RunbookObjective> {
    on.iter().map(|o| objective(ctx, need, o)).collect()
}

fn objective(
    ctx: &Context<'_>,
    need: &ResolvedNeed<'_>,
    o: &ResolvedObjective,
) -> RunbookObjective {
    let alert = crate::render::slo::alert_name(ctx, o);
    let period = o.period_length.as_secs_f64();
    let windows = BURN_WINDOWS
        .iter()
        .zip(crate::render::dashboard::PAIR_COLOURS)
        .map(|(w, colour)| RunbookWindow {
            colour,
            tier: w.tier.as_str(),
            factor: number(w.factor),
            long: prometheus_duration(w.long),
            short: prometheus_duration(w.short),
            share: percent_rounded(w.factor * w.long.as_secs_f64() / period),
            gone: human_duration(o.period_length.div_f64(w.factor)),
            for_: match w.tier {
                Tier::Page => crate::render::slo::PAGE_FOR,
                Tier::Ticket => crate::render::slo::TICKET_FOR,
            },
        })
        .collect();
    RunbookObjective {
        anchor: alert.to_ascii_lowercase(),
        alert,
        title: o.title.clone(),
        description: o.description.clone(),
        counted: match &o.sli {
            Sli::Latency { why, .. } => Some(why.clone()),
            Sli::Events { .. } => None,
        },
        target: percent(o.objective),
        period: o.period.clone(),
        budget: percent(o.budget()),
        one_in: number((1.0 / o.budget()).round()),
        outage: outage_time(o),
        budget_events: format!(
            "sum(increase({}[{}])) * {}",
            match &o.sli {
                Sli::Events { total, .. } | Sli::Latency { total, .. } => total,
            },
            o.period,
            number(o.budget())
        ),
        windows,
        min_events: o.min_events,
        min_events_why: o.min_events_why.clone(),
        queries: objective_queries(need, o),
        inhibition: INHIBITION.to_string(),
    }
}

/// A share as a percentage to one decimal (`2.1 %`).
fn percent_rounded(ratio: f64) -> String {
    percent((ratio * 1000.0).round() / 1000.0)
}

/// The queries of an objective's section: its 5-minute error ratio and
/// traffic from the raw series, by route when its signal has routes.
fn objective_queries(need: &ResolvedNeed<'_>, o: &ResolvedObjective) -> Vec<(String, String)> {
    let mut queries = vec![(
        format!(
            "{} error ratio over the last 5 minutes (the burn rate is this divided by {})",
            o.title,
            number(o.budget())
        ),
        o.error_ratio("5m"),
    )];
    if let Some(route) = route_label(need, o) {
        queries.push((
            format!(
                "{} error ratio by route — where do the bad events come from?",
                o.title
            ),
            error_ratio_by(o, &route, "5m"),
        ));
    }
    queries.push((
        "Events per second (few events: the guard holds the alerts back)".to_string(),
        o.events_rate("5m"),
    ));
    queries
}

/// The app's label for `route` on the objective's signal, if it has one.
fn route_label(need: &ResolvedNeed<'_>, o: &ResolvedObjective) -> Option<String> {
    let def = need.need.objectives.iter().find(|d| d.id == o.id)?;
    let signal = match (&def.events, &def.latency) {
        (Some(events), _) => &events.signal,
        (_, Some(latency)) => &latency.signal,
        _ => return None,
    };
    need.signals.get(signal)?.labels.get("route").cloned()
}

/// The error ratio over `window` per value of `label`, from the raw series;
/// a value without bad events shows 0.
fn error_ratio_by(o: &ResolvedObjective, label: &str, window: &str) -> String {
    let rate = |selector: &str| format!("sum by ({label}) (rate({selector}[{window}]))");
    let (total, errors) = match &o.sli {
        Sli::Events {
            total,
            split: Split::Bad(bad),
        } => (
            rate(total),
            format!("({} or 0 * {})", rate(bad), rate(total)),
        ),
        Sli::Events {
            total,
            split: Split::Good(good),
        }
        | Sli::Latency { total, good, .. } => (
            rate(total),
            format!(
                "({} - ({} or 0 * {}))",
                rate(total),
                rate(good),
                rate(total)
            ),
        ),
    };
    format!("{errors} / ({total} > 0)")
}

/// A signal as the runbook lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookSignal {
    /// The signal name.
    pub name: String,
    /// The metric it maps to.
    pub metric: String,
    /// What it is.
    pub description: String,
    /// What to add when it is missing.
    pub instrumentation: String,
}

#[derive(Serialize)]
struct AppView {
    onramp_args: String,
    name: String,
    namespace: String,
    kind: String,
    workload: String,
    selector: String,
    container: String,
    containers: Vec<String>,
}

#[derive(Serialize)]
struct AlertView<'a> {
    name: &'a str,
    anchor: &'a str,
    severity: Severity,
    for_: &'a str,
    /// `for: 0m`: the alert fires on the first evaluation that matches.
    for_zero: bool,
    expr: &'a str,
    meaning: &'a str,
    impact: &'a str,
    diagnosis: &'a [String],
    mitigation: &'a [String],
    queries: &'a [(String, String)],
}

#[derive(Serialize)]
struct View<'a> {
    /// True when onramp generated a scrape object (the app has metrics).
    scraped: bool,
    app: AppView,
    metrics: String,
    scraped_by: String,
    dashboards: &'a [RunbookDashboard],
    alerts: Vec<AlertView<'a>>,
    /// Every objective that is on, with the dashboard that shows it.
    objectives: Vec<ObjectiveView<'a>>,
}

#[derive(Serialize)]
struct ObjectiveView<'a> {
    #[serde(flatten)]
    objective: &'a RunbookObjective,
    dashboard: &'a RunbookDashboard,
}

/// Escapes Markdown specials in a value that comes from input.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Makes Markdown fit one table cell: a `|` would end the cell and a newline
/// the row. Need texts are Markdown already (code spans, emphasis), so
/// nothing else is escaped — escaping them again shows literal backslashes.
pub fn table_cell(text: &str) -> String {
    text.replace('|', r"\|").replace(['\n', '\r'], " ")
}

/// The `cell` filter: Markdown made to fit one table cell.
fn cell_filter(value: minijinja::Value) -> String {
    match value.as_str() {
        Some(text) => table_cell(text),
        None => table_cell(&value.to_string()),
    }
}

/// True for a Prometheus duration of zero (`0m`, `0s`, `0h0m`).
fn is_zero_duration(duration: &str) -> bool {
    !duration.chars().any(|c| c.is_ascii_digit() && c != '0')
}

/// Keeps the walkthrough lines whose `{if:SIGNAL}` marker names a signal the
/// app has (`has`), and drops the others, so the runbook only sends readers
/// to rows and panels that were generated.
pub fn walkthrough(text: &str, has: impl Fn(&str) -> bool) -> String {
    const MARK: &str = "{if:";
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find(MARK) else {
            out.push(line.to_string());
            continue;
        };
        let after = &line[start + MARK.len()..];
        let Some(end) = after.find('}') else {
            out.push(line.to_string());
            continue;
        };
        if has(&after[..end]) {
            out.push(format!("{}{}", &line[..start], &after[end + 1..]));
        }
    }
    out.join("\n")
}

/// The `md` filter: input text made safe for Markdown.
fn md_filter(value: minijinja::Value) -> String {
    match value.as_str() {
        Some(text) => escape_markdown(text),
        None => escape_markdown(&value.to_string()),
    }
}

/// The parsed template, parsed once per process.
fn template() -> std::result::Result<&'static minijinja::Environment<'static>, &'static String> {
    static ENV: OnceLock<std::result::Result<minijinja::Environment<'static>, String>> =
        OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // Markdown, not HTML: escaping is the `md` filter's job, applied where input lands.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("md", md_filter);
        env.add_filter("cell", cell_filter);
        env.add_template("runbook.md", TEMPLATE)
            .map_err(|e| crate::error::report(&e))?;
        Ok(env)
    })
    .as_ref()
}

/// Renders the runbook.
pub fn render(
    ctx: &Context<'_>,
    metrics: &str,
    scraped_by: &str,
    dashboards: &[RunbookDashboard],
    alerts: &[Alert],
) -> Result<String> {
    let app = ctx.app;
    let view = View {
        scraped: app.metrics.is_some(),
        app: AppView {
            onramp_args: ctx.onramp_args.clone(),
            name: app.name.clone(),
            namespace: app.namespace.clone(),
            kind: app.kind.as_kind().to_string(),
            workload: app.workload(),
            selector: app.selector_arg(),
            container: app
                .main_container()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            containers: app.containers.iter().map(|c| c.name.clone()).collect(),
        },
        metrics: metrics.to_string(),
        scraped_by: scraped_by.to_string(),
        dashboards,
        alerts: alerts
            .iter()
            .map(|a| AlertView {
                name: &a.name,
                anchor: &a.anchor,
                severity: a.severity,
                for_: &a.for_,
                for_zero: is_zero_duration(&a.for_),
                expr: &a.expr,
                meaning: &a.meaning,
                impact: &a.impact,
                diagnosis: &a.diagnosis,
                mitigation: &a.mitigation,
                queries: &a.queries,
            })
            .collect(),
        objectives: dashboards
            .iter()
            .flat_map(|d| {
                d.objectives.iter().map(move |o| ObjectiveView {
                    objective: o,
                    dashboard: d,
                })
            })
            .collect(),
    };
    let fail = |e: minijinja::Error| Error::Render {
        artifact: "runbook".to_string(),
        message: crate::error::report(&e),
    };
    let env = template().map_err(|message| Error::Render {
        artifact: "runbook template".to_string(),
        message: message.clone(),
    })?;
    let text = env
        .get_template("runbook.md")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(fail)?;
    Ok(tidy(&text))
}

/// Collapses runs of blank lines that template control flow leaves behind.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(escape_markdown("a_b*c|d\ne"), r"a\_b\*c\|d e");
    }

    #[test]
    fn a_table_cell_keeps_markdown_and_escapes_only_the_cell_end() {
        assert_eq!(table_cell("a `x_y` | b\nc"), r"a `x_y` \| b c");
    }

    #[test]
    fn zero_durations_are_recognised() {
        assert!(is_zero_duration("0m") && is_zero_duration("0s") && is_zero_duration("0h0m"));
        assert!(!is_zero_duration("5m") && !is_zero_duration("10s"));
    }

    #[test]
    fn durations_read_to_the_minute() {
        let day = std::time::Duration::from_secs(86_400);
        // 0.5 % of 28 days, and 28 days at 14.4 times the allowed burn.
        assert_eq!(human_duration((28 * day).mul_f64(0.005)), "3 h 22 min");
        assert_eq!(human_duration((28 * day).div_f64(14.4)), "1 d 22 h 40 min");
        assert_eq!(human_duration(28 * day), "28 d");
        assert_eq!(
            human_duration(std::time::Duration::from_secs(20)),
            "under a minute"
        );
    }

    #[test]
    fn walkthrough_lines_for_missing_signals_are_dropped() {
        let text = "1. always\n2. {if:up}**Scrape health**\n3. {if:other}gone";
        assert_eq!(
            walkthrough(text, |s| s == "up"),
            "1. always\n2. **Scrape health**"
        );
    }
}
