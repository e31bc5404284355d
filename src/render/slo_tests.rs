//! Unit tests of an objective's rules for `promtool test rules`, shipped
//! beside the rules file so a team can run them in its own CI.
//!
//! Each objective gets four cases, fed on the raw series its SLI reads (a
//! bad and a good series of an availability objective, `_count`, `_bucket`
//! at the chosen `le` and `le="+Inf"` of a latency one), after hours of
//! healthy traffic as a real app has:
//!
//! 1. errors at 15x the budget: the page fires (the 1h/5m pair, 14.4x);
//! 2. errors at 10x for 90 minutes: no page;
//! 3. errors at 3.2x for long enough: the ticket fires, no page;
//!
//! (a budget so large that errors cannot reach 15x or 10x of it, 10 % say,
//! is burnt with every event failing instead, and a case the rules cannot
//! show, a page at a 20 % budget, is left out with a plan note);
//!
//! 4. a quiet app whose every request fails, fewer events than the
//!    minimum-traffic guard's: nothing fires (left out when the guard is
//!    under 6 events, which a test of a few hours cannot show).
//!
//! When an alert fires is not guessed: [`Model`] replays the rules' maths
//! minute by minute (the 5-minute ratio, the long windows averaging it, the
//! guard, `for:`), and each case is asserted where that answer holds for
//! five minutes either side, so a sample more or less in a window, as
//! Prometheus 2 and 3 count them, changes nothing.

mod example;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::needs::objective::{BURN_WINDOWS, ResolvedObjective, Sli, Split, Tier, parse_duration};
use crate::render::slo::{PAGE_FOR, TICKET_FOR, alert_name, group, number};
use crate::render::{Context, to_yaml};

use example::Series;

/// The test file: `rule_files` relative to the file itself.
#[derive(Debug, Serialize)]
struct TestFile {
    rule_files: Vec<String>,
    evaluation_interval: &'static str,
    tests: Vec<TestGroup>,
}

#[derive(Debug, Serialize)]
struct TestGroup {
    name: String,
    interval: &'static str,
    input_series: Vec<InputSeries>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alert_rule_test: Vec<AlertRuleTest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    promql_expr_test: Vec<PromqlExprTest>,
}

#[derive(Debug, Serialize)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Debug, Serialize)]
struct AlertRuleTest {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct PromqlExprTest {
    expr: String,
    eval_time: String,
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Serialize)]
struct ExpSample {
    labels: String,
    value: u8,
}

/// The `promtool test rules` file for `objectives`, reading the rules from
/// `rules_file` (relative to the test file), and a note for each objective
/// whose tests cannot be made (its rules are generated all the same). No
/// file when none can.
pub fn render(
    ctx: &Context<'_>,
    objectives: &[&ResolvedObjective],
    rules_file: &str,
) -> Result<(Option<String>, Vec<String>)> {
    let mut tests = Vec::new();
    let mut notes = Vec::new();
    for objective in objectives {
        match objective_tests(ctx, objective) {
            Ok((cases, left_out)) => {
                tests.extend(cases);
                notes.extend(left_out.into_iter().map(|why| {
                    format!(
                        "Objective {} has one promtool test case fewer in prometheus/slo-tests.yaml: {why}.",
                        objective.id
                    )
                }));
            }
            Err(reason) => notes.push(format!(
                "Objective {} has no promtool tests in prometheus/slo-tests.yaml: {reason}. Its rules are generated all the same.",
                objective.id
            )),
        }
    }
    if tests.is_empty() {
        return Ok((None, notes));
    }
    let file = TestFile {
        rule_files: vec![rules_file.to_string()],
        evaluation_interval: "1m",
        tests,
    };
    Ok((Some(to_yaml(&file, "promtool tests")?), notes))
}

/// The raw series an objective's SLI reads: the bad events, the good ones
/// and every event (an availability objective's total is the bad and the
/// good series together; a latency objective's is `_count` and `+Inf`).
struct SliSeries {
    bad: Option<Series>,
    good: Series,
    total: Vec<Series>,
}

fn sli_series(objective: &ResolvedObjective) -> std::result::Result<SliSeries, String> {
    match &objective.sli {
        Sli::Events { total, split } => {
            let (chosen, other_is_bad) = match split {
                Split::Bad(bad) => (bad, false),
                Split::Good(good) => (good, true),
            };
            let (_, total_matchers) = example::selector(total)?;
            let (_, chosen_matchers) = example::selector(chosen)?;
            let extra = chosen_matchers
                .iter()
                .find(|m| !total_matchers.contains(m))
                .ok_or_else(|| format!("{chosen} selects every event of {total}"))?;
            let picked = example::series(chosen, None)?;
            let other = example::series(chosen, Some(extra))?;
            let (bad, good) = if other_is_bad {
                (other, picked)
            } else {
                (picked, other)
            };
            Ok(SliSeries {
                bad: Some(bad),
                good,
                total: Vec::new(),
            })
        }
        Sli::Latency { total, good, .. } => {
            let count = example::series(total, None)?;
            let bucket = example::series(good, None)?;
            let mut inf = bucket.clone();
            inf.labels.insert("le".to_string(), "+Inf".to_string());
            Ok(SliSeries {
                bad: None,
                good: bucket,
                total: vec![count, inf],
            })
        }
    }
}

/// The traffic of a case, per minute: `healthy` minutes without errors,
/// then `burning` minutes where `bad` of every `events` fail.
#[derive(Debug, Clone, Copy)]
struct Traffic {
    healthy: u64,
    burning: u64,
    events: u64,
    bad: u64,
}

impl Traffic {
    /// Counters start high, as a running app's do: a counter starting at
    /// zero would change how `rate()` extrapolates it.
    fn start(self) -> (u64, u64) {
        (100 * self.events, self.events)
    }

    fn length(self) -> u64 {
        self.healthy + self.burning
    }

    /// promtool's expanding notation of a counter growing by `healthy_step`
    /// a minute, then by `burning_step`.
    fn counter(self, start: u64, healthy_step: u64, burning_step: u64) -> String {
        let burn_start = start + healthy_step * self.healthy;
        let mut text = format!("{start}+{healthy_step}x{}", self.healthy);
        if self.burning > 0 {
            text.push_str(&format!(
                " {}+{burning_step}x{}",
                burn_start + burning_step,
                self.burning - 1
            ));
        }
        text
    }

    fn input(self, series: &SliSeries) -> Vec<InputSeries> {
        let (total0, bad0) = self.start();
        let total = self.counter(total0, self.events, self.events);
        let good = self.counter(total0 - bad0, self.events, self.events - self.bad);
        let mut input: Vec<InputSeries> = series
            .bad
            .iter()
            .map(|s| InputSeries {
                series: s.text(),
                values: self.counter(bad0, 0, self.bad),
            })
            .collect();
        input.push(InputSeries {
            series: series.good.text(),
            values: good,
        });
        input.extend(series.total.iter().map(|s| InputSeries {
            series: s.text(),
            values: total.clone(),
        }));
        input
    }
}

/// The events of a busy case a minute, and how many of them fail a minute
/// at exactly the budget: busy enough for the guard of the shortest window
/// twice over, and whole numbers of failed events at 15x, 10x and 3.2x.
fn busy_traffic(objective: &ResolvedObjective) -> (u64, u64) {
    let base = (10.0 / objective.budget()).round().max(10.0) as u64;
    let scale = (2 * objective.min_events).div_ceil(60 * base).max(1);
    (base * scale, 10 * scale)
}

/// What a busy case shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The page fires.
    Page,
    /// The burn goes on and no page fires.
    NoPage,
    /// The ticket fires and no page does.
    Ticket,
}

/// The busy cases: errors at `tenths` tenths of the budget after `healthy`
/// minutes without errors, burning up to `burning` minutes.
const BUSY_CASES: [(u64, u64, u64, Expect); 3] = [
    (150, 3 * 60, 8 * 60, Expect::Page),
    (100, 2 * 60, 90, Expect::NoPage),
    (32, 2 * 60, 6 * 60, Expect::Ticket),
];

/// The objective's cases, and why any of them is left out; an error when
/// its SLI's series cannot be made.
fn objective_tests(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
) -> std::result::Result<(Vec<TestGroup>, Vec<String>), String> {
    let series = sli_series(objective)?;
    let (mut groups, mut left_out) = (Vec::new(), Vec::new());
    for (tenths, healthy, burning, expect) in BUSY_CASES {
        match busy_case(ctx, objective, &series, tenths, (healthy, burning), expect) {
            Ok(group) => groups.push(group),
            Err(why) => left_out.push(why),
        }
    }
    groups.extend(quiet_case(ctx, objective, &series));
    Ok((groups, left_out))
}

/// One busy case, its title saying the burn (capped where every event
/// fails: at a 10 % budget, errors cannot reach 15x) and what it shows.
fn busy_case(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
    series: &SliSeries,
    tenths: u64,
    (healthy, burning): (u64, u64),
    expect: Expect,
) -> std::result::Result<TestGroup, String> {
    let (events, unit) = busy_traffic(objective);
    let bad = (unit * tenths / 10).min(events);
    let burn = if bad == events {
        format!(
            "every event failing ({}x the budget)",
            number((1.0 / objective.budget() * 10.0).round() / 10.0)
        )
    } else {
        format!("errors at {}x the budget", number(tenths as f64 / 10.0))
    };
    let traffic = Traffic {
        healthy,
        burning,
        events,
        bad,
    };
    let model = Model::new(objective, traffic);
    let hours = healthy / 60;
    let (title, checks) = match expect {
        Expect::NoPage => {
            model.never(Tier::Page)?;
            let end = traffic.length();
            (
                format!("{burn} for {burning} minutes: no page"),
                [(end.saturating_sub(60), false), (end - 10, false)],
            )
        }
        Expect::Page | Expect::Ticket => {
            let tier = if expect == Expect::Page {
                Tier::Page
            } else {
                model.never(Tier::Page)?;
                Tier::Ticket
            };
            let fires = model
                .first_firing(tier)
                .ok_or_else(|| format!("{burn} never fires the {}", tier.as_str()))?;
            let shows = match tier {
                Tier::Page => "the page fires",
                Tier::Ticket => "the ticket fires, no page",
            };
            (
                format!("{burn} after {hours} healthy hours: {shows}"),
                [(fires.saturating_sub(8), false), (fires + 8, true)],
            )
        }
    };
    case(ctx, objective, series, &title, (traffic, &model), &checks)
}

/// How long an alert must hold before it fires, in minutes.
fn for_minutes(tier: Tier) -> u64 {
    let text = match tier {
        Tier::Page => PAGE_FOR,
        Tier::Ticket => TICKET_FOR,
    };
    parse_duration(text).map_or(0, |d| d.as_secs() / 60)
}

/// An alert firing: its tier, and the short window (in minutes) of the pair
/// that holds — the alert does not carry it, the case titles say it.
type Firing = (Tier, u64);

/// The rules' maths replayed minute by minute for one case's traffic.
struct Model {
    /// Which alerts fire at each minute: their tier and the pair's short window.
    firing: Vec<Vec<Firing>>,
}

impl Model {
    fn new(objective: &ResolvedObjective, traffic: Traffic) -> Model {
        let length = traffic.length() as usize;
        let bad_until = |t: usize| traffic.bad * (t as u64).saturating_sub(traffic.healthy);
        // The 5-minute ratio (Prometheus 3 leaves out the sample at the
        // window's start), and its running sum for the long windows.
        let mut sums = vec![0.0];
        for t in 1..=length {
            let from = t.saturating_sub(4).min(t - 1);
            let ratio = (bad_until(t) - bad_until(from)) as f64
                / (traffic.events * (t - from) as u64) as f64;
            sums.push(sums[t - 1] + ratio);
        }
        let average = |window: u64, t: usize| {
            let from = t.saturating_sub(window as usize);
            (sums[t] - sums[from]) / (t - from) as f64
        };
        let budget = objective.budget();
        let holding = |tier: Tier, t: usize| {
            BURN_WINDOWS
                .iter()
                .filter(|w| w.tier == tier)
                .find(|w| {
                    let (short, long) = (w.short.as_secs() / 60, w.long.as_secs() / 60);
                    average(short, t) > w.factor * budget
                        && average(long, t) > w.factor * budget
                        // The guard counts only what the window holds.
                        && traffic.events * long.min(t as u64) >= objective.min_events
                })
                .map(|w| w.short.as_secs() / 60)
        };
        let mut pending: Vec<Vec<Option<u64>>> = vec![vec![None]; 2];
        let mut firing = vec![Vec::new()];
        for t in 1..=length {
            let mut now = Vec::new();
            for (i, tier) in [Tier::Page, Tier::Ticket].into_iter().enumerate() {
                let window = holding(tier, t);
                pending[i].push(window);
                let since = (t as u64).saturating_sub(for_minutes(tier)) as usize;
                // The alert keeps one identity whichever pair holds: its
                // `for` runs on while any does.
                if window.is_some()
                    && since >= 1
                    && pending[i][since..=t].iter().all(Option::is_some)
                {
                    now.push((tier, window.unwrap_or_default()));
                }
            }
            firing.push(now);
        }
        Model { firing }
    }

    /// The first minute an alert of `tier` fires.
    fn first_firing(&self, tier: Tier) -> Option<u64> {
        self.firing
            .iter()
            .position(|now| now.iter().any(|(t, _)| *t == tier))
            .map(|t| t as u64)
    }

    /// An error when an alert of `tier` fires at any minute.
    fn never(&self, tier: Tier) -> std::result::Result<(), String> {
        match self.first_firing(tier) {
            Some(t) => Err(format!(
                "the case was made for no {} alert, but the maths fires one at minute {t}",
                tier.as_str()
            )),
            None => Ok(()),
        }
    }

    /// The minute nearest `t`, going `later` or earlier, where what fires
    /// is what fires five minutes either side too (so that a sample more or
    /// less in a window changes nothing), and what fires then.
    fn settled(&self, t: u64, later: bool) -> std::result::Result<(u64, &[Firing]), String> {
        let steady = |t: usize| {
            let around = self.firing.get(t.checked_sub(5)?..=t + 5)?;
            around.iter().all(|now| *now == self.firing[t]).then_some(t)
        };
        let t = t as usize;
        (0..60)
            .filter_map(|step| {
                if later {
                    Some(t + step)
                } else {
                    t.checked_sub(step)
                }
            })
            .find_map(steady)
            .map(|t| (t as u64, self.firing[t].as_slice()))
            .ok_or_else(|| {
                format!("what fires keeps changing around minute {t}: no settled answer to test")
            })
    }
}

/// One case: its input series up to the last check (and a few minutes
/// more), and at each minute of `checks` what the model says fires.
fn case(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
    series: &SliSeries,
    title: &str,
    (traffic, model): (Traffic, &Model),
    checks: &[(u64, bool)],
) -> std::result::Result<TestGroup, String> {
    let checks = checks
        .iter()
        .map(|&(t, later)| model.settled(t, later))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let last = checks.iter().map(|(t, _)| *t).max().unwrap_or_default();
    let traffic = Traffic {
        burning: (last + 6).saturating_sub(traffic.healthy),
        ..traffic
    };
    let mut group = TestGroup {
        name: format!("{}: {title}", objective.labels["sloth_id"]),
        interval: "1m",
        input_series: traffic.input(series),
        alert_rule_test: Vec::new(),
        promql_expr_test: Vec::new(),
    };
    for (t, firing) in checks {
        expect(ctx, objective, &mut group, t, firing);
    }
    Ok(group)
}

/// Adds the check that exactly `firing` fires at minute `t`: nothing (an
/// `alert_rule_test` with no alerts), or each alert's `ALERTS` series with
/// every label (its annotations quote the burn rate, which `$value` carries
/// to more digits than a test can promise).
fn expect(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
    group: &mut TestGroup,
    t: u64,
    firing: &[Firing],
) {
    let name = alert_name(ctx, objective);
    let eval_time = format!("{t}m");
    if firing.is_empty() {
        group.alert_rule_test.push(AlertRuleTest {
            eval_time,
            alertname: name,
            exp_alerts: Vec::new(),
        });
        return;
    }
    let rules = group_rules(ctx, objective);
    let exp_samples = firing
        .iter()
        .map(|(tier, _)| {
            let mut labels = objective.labels.clone();
            labels.extend(rules.get(tier).cloned().unwrap_or_default());
            labels.insert("alertname".to_string(), name.clone());
            labels.insert("alertstate".to_string(), "firing".to_string());
            ExpSample {
                labels: Series {
                    name: "ALERTS".to_string(),
                    labels,
                }
                .text(),
                value: 1,
            }
        })
        .collect();
    group.promql_expr_test.push(PromqlExprTest {
        // The comment names the case where promtool reports a failure.
        expr: format!(
            "ALERTS{{alertname={},alertstate=\"firing\"}} # {}",
            crate::needs::promql::quote(&name),
            group.name
        ),
        eval_time,
        exp_samples,
    });
}

/// The labels of the objective's page and ticket alerts, as its rule group
/// sets them.
fn group_rules(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
) -> BTreeMap<Tier, BTreeMap<String, String>> {
    group(ctx, objective, &ctx.runbook_url)
        .rules
        .into_iter()
        .filter(|r| r.alert.is_some())
        .filter_map(|r| {
            let tier = match r.labels.get("tier").map(String::as_str) {
                Some("page") => Tier::Page,
                Some("ticket") => Tier::Ticket,
                _ => return None,
            };
            Some((tier, r.labels))
        })
        .collect()
}

/// The guard's case: a quiet app, one event every so many minutes, each of
/// them failed. Without the guard the page would fire a few minutes after
/// the first event and the ticket a quarter of an hour after it.
fn quiet_case(
    ctx: &Context<'_>,
    objective: &ResolvedObjective,
    series: &SliSeries,
) -> Option<TestGroup> {
    let longest = BURN_WINDOWS.iter().map(|w| w.long.as_secs() / 60).max()?;
    // Half the guard's events in the longest window: `rate()` counts one
    // event up to about 1.4 times over the windows it falls in.
    let every = (2 * longest).div_ceil(objective.min_events.max(1));
    if every > 24 * 60 {
        return None;
    }
    let end = every + 24;
    let mut steps = Vec::new();
    let mut minute = 0;
    while minute <= end {
        let last = (minute + every - 1).min(end);
        steps.push(format!("{}x{}", minute / every, last - minute));
        minute = last + 1;
    }
    let counting = steps.join(" ");
    let flat = format!("0x{end}");
    let mut input: Vec<InputSeries> = series
        .bad
        .iter()
        .chain(&series.total)
        .map(|s| InputSeries {
            series: s.text(),
            values: counting.clone(),
        })
        .collect();
    input.push(InputSeries {
        series: series.good.text(),
        values: flat,
    });
    let mut group = TestGroup {
        name: format!(
            "{}: a quiet app, one event every {every} minutes, all failed: fewer than {} events, nothing fires",
            objective.labels["sloth_id"], objective.min_events
        ),
        interval: "1m",
        input_series: input,
        alert_rule_test: Vec::new(),
        promql_expr_test: Vec::new(),
    };
    for t in [every + 3, every + 20] {
        expect(ctx, objective, &mut group, t, &[]);
    }
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(target: f64, min_events: u64, sli: Sli) -> ResolvedObjective {
        ResolvedObjective::example(target, min_events, sli)
    }

    fn requests(split: Split) -> Sli {
        Sli::Events {
            total: r#"http_requests_total{job="checkout",route!~"/healthz|/metrics"}"#.to_string(),
            split,
        }
    }

    fn availability(min_events: u64) -> ResolvedObjective {
        let bad = r#"http_requests_total{job="checkout",route!~"/healthz|/metrics",status=~"5.."}"#;
        objective(0.995, min_events, requests(Split::Bad(bad.to_string())))
    }

    /// 2000 events a minute, `bad` of them failed while it burns (10 is 1x 0.5 %).
    fn traffic(healthy: u64, burning: u64, bad: u64) -> Traffic {
        Traffic {
            healthy,
            burning,
            events: 2000,
            bad,
        }
    }

    #[test]
    fn a_burn_at_15x_pages_about_an_hour_after_it_starts_through_the_1h_window() {
        let model = Model::new(&availability(200), traffic(180, 180, 150));
        let fires = model.first_firing(Tier::Page).expect("pages");
        // The 1h window averages the 5-minute ratio: it passes 14.4x once
        // 96 % of the hour burns, after the 5 minutes the ratio takes to
        // rise; then `for: 2m`.
        assert!((180 + 58..=180 + 66).contains(&fires), "{fires}");
        assert!(model.firing[fires as usize].contains(&(Tier::Page, 5)));
    }

    #[test]
    fn a_burn_at_10x_for_90_minutes_never_pages_and_3_2x_opens_a_ticket() {
        let objective = availability(200);
        assert_eq!(
            Model::new(&objective, traffic(120, 90, 100)).first_firing(Tier::Page),
            None
        );
        let model = Model::new(&objective, traffic(120, 360, 32));
        assert_eq!(model.first_firing(Tier::Page), None);
        let ticket = model.first_firing(Tier::Ticket).expect("a ticket");
        assert!(ticket > 120 + 15, "{ticket}");
    }

    #[test]
    fn below_the_guard_nothing_fires_however_bad_the_ratio() {
        let model = Model::new(&availability(10_000_000), traffic(0, 300, 2000));
        assert_eq!(model.first_firing(Tier::Page), None);
        assert_eq!(model.first_firing(Tier::Ticket), None);
    }

    #[test]
    fn a_good_events_objective_fails_a_good_matcher_for_its_bad_series() {
        let good =
            r#"http_requests_total{job="checkout",route!~"/healthz|/metrics",status=~"2..|3.."}"#;
        let series = sli_series(&objective(
            0.99,
            100,
            requests(Split::Good(good.to_string())),
        ))
        .expect("series");
        assert_eq!(series.good.labels["status"], "200");
        let bad = series.bad.expect("a bad series");
        assert!(!["2", "3"].contains(&&bad.labels["status"][..1]), "{bad:?}");
        assert_eq!(bad.labels["route"], "/example");
    }

    #[test]
    fn an_objective_whose_events_are_all_its_total_has_no_tests() {
        let total = r#"http_requests_total{job="checkout",route!~"/healthz|/metrics"}"#;
        let err = sli_series(&objective(
            0.99,
            100,
            requests(Split::Good(total.to_string())),
        ))
        .err()
        .expect("refused");
        assert!(err.contains("selects every event"), "{err}");
    }
}
