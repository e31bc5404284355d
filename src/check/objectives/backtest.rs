//! The backtest of an objective's burn-rate alerts: what they would have
//! done over the app's last week, told before anything is applied.
//!
//! The recording rules do not exist yet when `plan` runs, so it reads the
//! raw series: two range queries, the 5-minute error ratio and the 5-minute
//! events per second, one point a minute. [`evaluate`] then replays what the
//! generated rules compute when Prometheus evaluates them every minute: the
//! error ratio over a window W is the mean of the 5-minute ratios in
//! (t − W, t] (`sum_over_time(…[W]) / count_over_time(…[W])`), a window pair
//! of [`BURN_WINDOWS`] holds when both ratios are above its factor times the
//! error budget and the long window saw at least `min_events` events, and a
//! tier fires while any of its pairs holds. The means are prefix sums, so a
//! week costs as much as reading it.
//!
//! It owns the replay and its report ([`Backtest`]); it does not decide
//! the PromQL (the objective's resolution does) nor print (the commands do).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use crate::client::prometheus::{Point, PrometheusClient, QueryRange, QueryResult};
use crate::error::{Error, Result};
use crate::needs::objective::{BURN_WINDOWS, BurnWindow, Tier};

/// One evaluation a minute, as the generated rule groups are evaluated.
pub const STEP: Duration = Duration::from_secs(60);

/// How far back a backtest looks when Prometheus holds that much.
pub const LOOK_BACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// The window of the two expressions read: the shortest window of the
/// rules, the one the longer windows are averaged from.
const RATE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The most points one range query asks for: Prometheus refuses more than
/// 11,000 per series.
const MAX_POINTS: u64 = 10_000;

/// What a backtest reads: two expressions on the raw series (the recording
/// rules do not exist yet) and the objective they are held to.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestQuery {
    /// The 5-minute error ratio, already divided by `(total > 0)` so that
    /// there is no sample while there is no traffic. One series.
    pub error_ratio_5m: String,
    /// The 5-minute events per second (all events, good and bad). One series.
    pub events_rate_5m: String,
    /// The share of good events promised, for example `0.995`; below 1
    /// (the objective's validation refuses 1 and more: no budget to burn).
    pub objective: f64,
    /// The minimum-traffic guard: no alert while the long window holds
    /// fewer events than this.
    pub min_events: f64,
}

/// A run of minutes during which one tier would have fired.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    /// The first minute it would have fired (UTC).
    #[serde(serialize_with = "rfc3339")]
    pub start: SystemTime,
    /// How long it would have fired, to the minute.
    #[serde(rename = "duration_seconds", serialize_with = "seconds")]
    pub duration: Duration,
    /// The highest short-window burn rate while it fired (the error ratio
    /// over the error budget): 14.4 burns 2 % of a 30-day budget in an hour.
    pub peak_burn_rate: f64,
    /// Still firing at the end of the backtest.
    pub ongoing: bool,
}

/// What the burn-rate alerts would have done over the backtest's span.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backtest {
    /// The first minute replayed: now − look-back, or when the data starts
    /// if Prometheus holds less.
    #[serde(serialize_with = "rfc3339")]
    pub from: SystemTime,
    /// The last minute replayed.
    #[serde(serialize_with = "rfc3339")]
    pub to: SystemTime,
    /// Time between evaluations.
    #[serde(rename = "step_seconds", serialize_with = "seconds")]
    pub step: Duration,
    /// How far back it was asked to look.
    #[serde(rename = "look_back_seconds", serialize_with = "seconds")]
    pub look_back: Duration,
    /// The data starts after now − look-back: the backtest covers only what
    /// Prometheus holds.
    pub shortened: bool,
    /// Whether the SLI had any sample in the span.
    pub has_data: bool,
    /// The pages it would have sent, oldest first.
    pub pages: Vec<Incident>,
    /// The tickets it would have opened, oldest first.
    pub tickets: Vec<Incident>,
    /// Minutes a page would have fired but for the minimum-traffic guard.
    pub guarded_minutes: u64,
}

/// Replays the burn-rate alerts of `query` over `look_back` (capped to what
/// Prometheus holds) up to `now`: four range queries, two per expression
/// (the look-back and the longest window before it, which the first minutes'
/// windows read), one point a minute, then [`evaluate`].
pub async fn run(
    client: &PrometheusClient,
    query: &BacktestQuery,
    now: SystemTime,
    look_back: Duration,
) -> Result<Backtest> {
    let to = UNIX_EPOCH + Duration::from_secs(unix(now) / STEP.as_secs() * STEP.as_secs());
    let from = to.checked_sub(look_back).unwrap_or(UNIX_EPOCH);
    let start = from.checked_sub(longest_window()).unwrap_or(UNIX_EPOCH);
    let (ratio, events) = futures::try_join!(
        fetch(client, &query.error_ratio_5m, start, to),
        fetch(client, &query.events_rate_5m, start, to),
    )?;
    let span = QueryRange {
        start: from,
        end: to,
        step: STEP,
    };
    Ok(evaluate(
        &ratio,
        &events,
        query.objective,
        query.min_events,
        span,
    ))
}

/// The points of `expr` from `start` to `end`, one a minute, in as many
/// range queries as Prometheus' point limit needs.
async fn fetch(
    client: &PrometheusClient,
    expr: &str,
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<Point>> {
    let mut points = Vec::new();
    let chunk = STEP * (MAX_POINTS as u32 - 1);
    let mut from = start;
    while from <= end {
        let to = (from + chunk).min(end);
        let range = QueryRange {
            start: from,
            end: to,
            step: STEP,
        };
        let series = match client.query_range(expr, range).await? {
            QueryResult::Matrix(series) => series,
            _ => Vec::new(),
        };
        if series.len() > 1 {
            return Err(Error::Usage(format!(
                "the backtest needs one series from `{expr}`, Prometheus returned {}: \
                 wrap it in sum(…)",
                series.len()
            )));
        }
        points.extend(series.into_iter().flat_map(|s| s.values));
        from = to + STEP;
    }
    Ok(points)
}

/// The longest window a pair reads.
fn longest_window() -> Duration {
    BURN_WINDOWS
        .iter()
        .map(|w| w.long)
        .max()
        .unwrap_or_default()
}

/// Replays the burn-rate alerts every `span.step` from `span.start` to
/// `span.end`, from the 5-minute error ratio and events-per-second points
/// (oldest first, on the step's grid). Points before `span.start` are read
/// by the first minutes' windows, not reported. Pure: no clock, no network.
pub fn evaluate(
    ratio: &[Point],
    events: &[Point],
    objective: f64,
    min_events: f64,
    span: QueryRange,
) -> Backtest {
    let step = span.step.as_secs().max(1);
    let first_data = ratio
        .iter()
        .chain(events)
        .map(|p| p.timestamp)
        .fold(f64::INFINITY, f64::min);
    let from_secs = unix(span.start);
    let origin = (first_data.min(from_secs as f64).max(0.0) as u64) / step * step;
    let grid = Grid {
        origin,
        step,
        len: ((unix(span.end).saturating_sub(origin)) / step + 1) as usize,
    };
    let ratio = grid.prefix(ratio);
    let events = grid.prefix(events);
    // The first minute with data, when it is later than asked.
    let shortened = first_data.is_finite() && first_data > from_secs as f64;
    let first = grid
        .index(if shortened {
            first_data.ceil() as u64
        } else {
            from_secs
        })
        .min(grid.len);
    let from = grid.origin + first as u64 * step;
    let has_data =
        events.count[grid.len] > events.count[first] || ratio.count[grid.len] > ratio.count[first];
    let replay = Replay {
        ratio: &ratio,
        events: &events,
        budget: 1.0 - objective,
        min_events,
        step,
    };
    let mut pages = Runs::default();
    let mut tickets = Runs::default();
    let mut guarded_minutes = 0;
    for i in first..grid.len {
        let at = grid.origin + i as u64 * step;
        let page = replay.tier(Tier::Page, i);
        pages.minute(at, page.peak, step);
        tickets.minute(at, replay.tier(Tier::Ticket, i).peak, step);
        if page.peak.is_none() && page.guarded {
            guarded_minutes += 1;
        }
    }
    Backtest {
        from: UNIX_EPOCH + Duration::from_secs(from),
        to: UNIX_EPOCH + Duration::from_secs(grid.origin + (grid.len as u64 - 1) * step),
        step: Duration::from_secs(step),
        look_back: span.end.duration_since(span.start).unwrap_or_default(),
        shortened,
        has_data,
        pages: pages.finish(),
        tickets: tickets.finish(),
        guarded_minutes,
    }
}

/// The evaluation times: `origin + i × step` for `i < len` (Unix seconds).
struct Grid {
    origin: u64,
    step: u64,
    len: usize,
}

/// Running sums of one series on the grid: `sum[i]` and `count[i]` cover
/// the points before index `i`, so any window's mean is two subtractions.
struct Prefix {
    sum: Vec<f64>,
    count: Vec<u32>,
}

impl Grid {
    /// The index of the evaluation at or after `secs`.
    fn index(&self, secs: u64) -> usize {
        (secs.saturating_sub(self.origin)).div_ceil(self.step) as usize
    }

    /// The prefix sums of `points`, each on its nearest evaluation; points
    /// off the grid or not finite (NaN from 0/0) are no sample.
    fn prefix(&self, points: &[Point]) -> Prefix {
        let mut value = vec![None; self.len];
        for point in points.iter().filter(|p| p.value.is_finite()) {
            let offset = point.timestamp - self.origin as f64;
            let i = (offset / self.step as f64).round();
            if i >= 0.0 && (i as usize) < self.len {
                value[i as usize] = Some(point.value);
            }
        }
        let mut prefix = Prefix {
            sum: Vec::with_capacity(self.len + 1),
            count: Vec::with_capacity(self.len + 1),
        };
        let (mut sum, mut count) = (0.0, 0);
        prefix.sum.push(sum);
        prefix.count.push(count);
        for v in value {
            if let Some(v) = v {
                sum += v;
                count += 1;
            }
            prefix.sum.push(sum);
            prefix.count.push(count);
        }
        prefix
    }
}

impl Prefix {
    /// The mean of the samples in the `points` evaluations ending at index
    /// `i` (the window (t − W, t]); `None` when it holds none.
    fn sum(&self, i: usize, points: usize) -> f64 {
        let lo = (i + 1).saturating_sub(points);
        self.sum[i + 1] - self.sum[lo]
    }

    fn mean(&self, i: usize, points: usize) -> Option<f64> {
        let lo = (i + 1).saturating_sub(points);
        let count = self.count[i + 1] - self.count[lo];
        (count > 0).then(|| (self.sum[i + 1] - self.sum[lo]) / f64::from(count))
    }
}

/// The rules' arithmetic at one evaluation.
struct Replay<'a> {
    ratio: &'a Prefix,
    events: &'a Prefix,
    budget: f64,
    min_events: f64,
    step: u64,
}

/// One tier at one evaluation.
struct TierState {
    /// The highest short-window burn rate of the pairs that hold; `None`
    /// when none holds.
    peak: Option<f64>,
    /// A pair's ratios held but its long window had too few events.
    guarded: bool,
}

impl Replay<'_> {
    /// Whether `tier` fires at evaluation `i`.
    fn tier(&self, tier: Tier, i: usize) -> TierState {
        let mut state = TierState {
            peak: None,
            guarded: false,
        };
        for pair in BURN_WINDOWS.iter().filter(|w| w.tier == tier) {
            let Some(short) = self.burning(pair, pair.short, i) else {
                continue;
            };
            if self.burning(pair, pair.long, i).is_none() {
                continue;
            }
            if self.events(pair.long, i) >= self.min_events {
                let burn = short / self.budget;
                state.peak = Some(state.peak.map_or(burn, |p: f64| p.max(burn)));
            } else {
                state.guarded = true;
            }
        }
        state
    }

    /// The error ratio over `window` at `i`, when above the pair's threshold.
    fn burning(&self, pair: &BurnWindow, window: Duration, i: usize) -> Option<f64> {
        self.ratio
            .mean(i, self.points(window))
            .filter(|ratio| *ratio > pair.factor * self.budget)
    }

    /// The events in `window` up to `i`, as the rules count them: the sum
    /// of the rate samples it holds times the evaluation interval (only
    /// what the window holds, however short the data).
    fn events(&self, window: Duration, i: usize) -> f64 {
        self.events.sum(i, self.points(window)) * self.step as f64
    }

    /// How many evaluations a window spans: the 5-minute window is the
    /// 5-minute rule itself, one sample.
    fn points(&self, window: Duration) -> usize {
        if window <= RATE_WINDOW {
            return 1;
        }
        (window.as_secs() / self.step) as usize
    }
}

/// The incidents of one tier, built minute by minute.
#[derive(Default)]
struct Runs {
    done: Vec<Incident>,
    open: Option<Incident>,
}

impl Runs {
    /// The evaluation at `at` (Unix seconds): firing with `peak`, or not.
    fn minute(&mut self, at: u64, peak: Option<f64>, step: u64) {
        match (peak, &mut self.open) {
            (Some(peak), Some(open)) => {
                open.duration += Duration::from_secs(step);
                open.peak_burn_rate = open.peak_burn_rate.max(peak);
            }
            (Some(peak), None) => {
                self.open = Some(Incident {
                    start: UNIX_EPOCH + Duration::from_secs(at),
                    duration: Duration::from_secs(step),
                    peak_burn_rate: peak,
                    ongoing: false,
                });
            }
            (None, _) => self.done.extend(self.open.take()),
        }
    }

    /// The incidents, the last one marked ongoing when still open.
    fn finish(mut self) -> Vec<Incident> {
        if let Some(mut open) = self.open.take() {
            open.ongoing = true;
            self.done.push(open);
        }
        self.done
    }
}

impl Backtest {
    /// One line for people: "would have paged twice: 2026-11-30 14:02 for
    /// 18 min, …; would have opened 1 ticket: …" (then "; backtested since
    /// … (as far back as Prometheus holds)" when the data starts later),
    /// "would not have paged or opened a ticket over the last 7 days", or
    /// "no data: …"; and how long the minimum-traffic guard held a page
    /// back, if it did.
    pub fn summary(&self) -> String {
        let period = if self.shortened {
            format!(
                "since {} (as far back as Prometheus holds)",
                minute(self.from)
            )
        } else {
            format!("over the last {}", span(self.look_back))
        };
        if !self.has_data {
            let period = period.replacen("over the", "in the", 1);
            return format!("no data: the SLI has no samples {period}");
        }
        let mut parts = Vec::new();
        if !self.pages.is_empty() {
            let times = match self.pages.len() {
                1 => "once".to_string(),
                2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            parts.push(format!("would have paged {times}: {}", list(&self.pages)));
        }
        if !self.tickets.is_empty() {
            let n = self.tickets.len();
            let noun = if n == 1 { "ticket" } else { "tickets" };
            parts.push(format!(
                "would have opened {n} {noun}: {}",
                list(&self.tickets)
            ));
        }
        let mut line = if parts.is_empty() {
            format!("would not have paged or opened a ticket {period}")
        } else if self.shortened {
            format!("{}; backtested {period}", parts.join("; "))
        } else {
            parts.join("; ")
        };
        if self.guarded_minutes > 0 {
            let held = span(Duration::from_secs(self.guarded_minutes * 60));
            line.push_str(&format!(
                "; the minimum-traffic guard held a page back for {held}"
            ));
        }
        line
    }
}

/// `2026-11-30 14:02 for 18 min, 2026-12-02 03:10 for 6 min (still on)`.
fn list(incidents: &[Incident]) -> String {
    incidents
        .iter()
        .map(|incident| {
            let still = if incident.ongoing { " (still on)" } else { "" };
            format!(
                "{} for {}{still}",
                minute(incident.start),
                span(incident.duration)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2026-11-30 14:02` (UTC).
fn minute(time: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(time).to_string();
    // 2026-11-30T14:02:00Z
    text.get(..16).unwrap_or(&text).replacen('T', " ", 1)
}

/// `18 min`, `3 h 10 min`, `2 h`, `7 days`, `1 d 4 h`, to the minute.
fn span(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (1, 0, 0) => "1 day".to_string(),
        (d, 0, 0) => format!("{d} days"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Unix seconds, 0 before 1970.
fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A time as RFC 3339 (`2026-11-30T14:02:00Z`).
fn rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_rfc3339_seconds(*time))
}

/// A duration as whole seconds.
fn seconds<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first synthetic minute: the series start here, 3 days (the
    /// longest window) before the replayed span.
    const T0: &str = "2026-11-23T00:00:00Z";
    const WARM_UP: usize = 3 * 1440;

    fn at(minute: usize) -> SystemTime {
        humantime::parse_rfc3339(T0).expect("a time") + Duration::from_secs(minute as u64 * 60)
    }

    /// The two series an app serving `traffic(m)` = (requests, errors) in
    /// minute (m − 1, m] gives: the 5-minute error ratio (no sample without
    /// traffic) and the 5-minute requests per second, for `minutes` minutes.
    fn series(minutes: usize, traffic: impl Fn(usize) -> (f64, f64)) -> (Vec<Point>, Vec<Point>) {
        let per_minute: Vec<(f64, f64)> = (0..=minutes).map(&traffic).collect();
        let (mut ratio, mut events) = (Vec::new(), Vec::new());
        for m in 0..=minutes {
            let window = &per_minute[m.saturating_sub(4)..=m];
            let requests: f64 = window.iter().map(|w| w.0).sum();
            let errors: f64 = window.iter().map(|w| w.1).sum();
            let timestamp = unix(at(m)) as f64;
            if requests > 0.0 {
                ratio.push(Point {
                    timestamp,
                    value: errors / requests,
                });
            }
            events.push(Point {
                timestamp,
                value: requests / 300.0,
            });
        }
        (ratio, events)
    }

    /// The backtest of `traffic` held to 99.5 %, replayed from the end of
    /// the warm-up to minute `minutes`.
    fn replay(minutes: usize, min_events: f64, traffic: impl Fn(usize) -> (f64, f64)) -> Backtest {
        let (ratio, events) = series(minutes, traffic);
        let span = QueryRange {
            start: at(WARM_UP),
            end: at(minutes),
            step: STEP,
        };
        evaluate(&ratio, &events, 0.995, min_events, span)
    }

    /// 10 requests a second, a share `burst` of them failing in minutes
    /// `first..first + length` (1-based ends), none otherwise.
    fn burst(first: usize, length: usize, burst: f64) -> impl Fn(usize) -> (f64, f64) {
        move |m| {
            let failing = m > first && m <= first + length;
            (600.0, if failing { 600.0 * burst } else { 0.0 })
        }
    }

    #[test]
    fn a_30_minute_burst_of_20_percent_errors_paged_once_from_the_minute_the_1h_window_crossed() {
        let b = WARM_UP + 600;
        let backtest = replay(b + 240, 100.0, burst(b, 30, 0.2));
        // The 5-minute ratio climbs 0.04 a minute to 0.2, so the sum of the
        // last hour's ratios k minutes in is 0.2 × (k − 2); the 1h mean passes
        // 14.4 × 0.005 = 0.072 (a sum of 4.32) at k = 24. After the burst the
        // 5-minute ratio falls 0.04 a minute: above 0.072 for 3 minutes more
        // (0.08), so the page lasts from k = 24 to k = 33: 10 minutes.
        assert_eq!(
            backtest.pages,
            [Incident {
                start: at(b + 24),
                duration: Duration::from_secs(10 * 60),
                peak_burn_rate: 0.2 / 0.005,
                ongoing: false,
            }],
            "{}",
            backtest.summary()
        );
        assert!(backtest.tickets.is_empty(), "{:?}", backtest.tickets);
        assert_eq!(
            backtest.summary(),
            "would have paged once: 2026-11-26 10:24 for 10 min"
        );
    }

    #[test]
    fn ten_times_the_budget_for_an_hour_or_20_minutes_of_20_percent_did_not_page() {
        let b = WARM_UP + 600;
        // 5 % is under 14.4 × 0.005; the 6h window needs 216 minutes of it.
        let tenfold = replay(b + 600, 100.0, burst(b, 60, 0.05));
        // 20 minutes × 40 times the budget burns 1.85 % of a 30-day budget:
        // the page is at 2 %.
        let short = replay(b + 600, 100.0, burst(b, 20, 0.2));
        for backtest in [tenfold, short] {
            assert!(backtest.pages.is_empty(), "{:?}", backtest.pages);
            assert!(backtest.tickets.is_empty(), "{:?}", backtest.tickets);
            assert_eq!(
                backtest.summary(),
                "would not have paged or opened a ticket over the last 20 h"
            );
        }
    }

    #[test]
    fn a_day_of_2_percent_errors_opened_one_ticket_and_paged_nobody() {
        let b = WARM_UP + 600;
        let backtest = replay(b + 1440 + 600, 100.0, burst(b, 1440, 0.021));
        // Ticket pairs: 1x over 3d/6h and 3x over 1d/2h both need a window
        // sum of ratios above 21.6 (0.005 × 4320 = 0.015 × 1440), which
        // 0.021 × (k − 2) passes at k = 1031. After the day ends the 6h
        // window's sum is 0.021 × (362 − j): above 1.8 until j = 276.
        assert_eq!(backtest.tickets.len(), 1, "{:?}", backtest.tickets);
        let ticket = &backtest.tickets[0];
        assert_eq!(ticket.start, at(b + 1031));
        assert_eq!(
            ticket.start + ticket.duration,
            at(b + 1440 + 276 + 1),
            "{}",
            backtest.summary()
        );
        assert!((ticket.peak_burn_rate - 4.2).abs() < 1e-9, "{ticket:?}");
        assert!(backtest.pages.is_empty(), "{:?}", backtest.pages);
        assert_eq!(
            backtest.summary(),
            "would have opened 1 ticket: 2026-11-27 03:11 for 11 h 26 min"
        );
    }

    #[test]
    fn one_failed_request_of_a_quiet_app_paged_nobody_the_guard_held_it() {
        // One request every 10 minutes; the one at minute q fails.
        let q = WARM_UP + 600;
        let quiet = |m: usize| {
            let request = if m.is_multiple_of(10) { 1.0 } else { 0.0 };
            (request, if m == q { 1.0 } else { 0.0 })
        };
        // The 1h window holds 30 ratios (half the minutes see a request):
        // from q + 2 three of them are 1, a mean of 0.1 > 0.072, and the
        // 5-minute ratio is 1 until q + 4. The hour saw 6 requests.
        let unguarded = replay(q + 120, 0.0, quiet);
        assert_eq!(unguarded.pages.len(), 1, "{:?}", unguarded.pages);
        assert_eq!(unguarded.pages[0].start, at(q + 2));
        assert_eq!(unguarded.pages[0].duration, Duration::from_secs(3 * 60));

        let guarded = replay(q + 120, 20.0, quiet);
        assert!(guarded.pages.is_empty(), "{:?}", guarded.pages);
        assert_eq!(guarded.guarded_minutes, 3);
        assert_eq!(
            guarded.summary(),
            "would not have paged or opened a ticket over the last 12 h; \
             the minimum-traffic guard held a page back for 3 min"
        );
    }

    #[test]
    fn a_prometheus_holding_two_days_said_since_when_and_one_holding_nothing_said_no_data() {
        let now = at(WARM_UP + 7 * 1440);
        let week = QueryRange {
            start: now - LOOK_BACK,
            end: now,
            step: STEP,
        };
        let empty = evaluate(&[], &[], 0.995, 100.0, week);
        assert!(!empty.has_data);
        let later = [Point {
            timestamp: unix(now) as f64 + 3600.0,
            value: 1.0,
        }];
        let after = evaluate(&later, &later, 0.995, 100.0, week);
        assert!(!after.has_data && after.pages.is_empty(), "{after:?}");
        assert_eq!(
            empty.summary(),
            "no data: the SLI has no samples in the last 7 days"
        );

        let (ratio, events) = series(WARM_UP + 7 * 1440, |_| (600.0, 0.6));
        let since = 5 * 1440 + WARM_UP;
        let recent = |p: &&Point| p.timestamp >= unix(at(since)) as f64;
        let ratio: Vec<Point> = ratio.iter().filter(recent).cloned().collect();
        let events: Vec<Point> = events.iter().filter(recent).cloned().collect();
        let two_days = evaluate(&ratio, &events, 0.995, 100.0, week);
        assert_eq!(two_days.from, at(since));
        assert_eq!(
            two_days.summary(),
            "would not have paged or opened a ticket since 2026-12-01 00:00 \
             (as far back as Prometheus holds)"
        );
    }

    #[test]
    fn the_summary_listed_every_incident_and_the_json_kept_times_and_durations() {
        let incident = |time: &str, minutes: u64| Incident {
            start: humantime::parse_rfc3339(time).expect("a time"),
            duration: Duration::from_secs(minutes * 60),
            peak_burn_rate: 20.0,
            ongoing: false,
        };
        let backtest = Backtest {
            from: at(0),
            to: at(7 * 1440),
            step: STEP,
            look_back: LOOK_BACK,
            shortened: false,
            has_data: true,
            pages: vec![
                incident("2026-11-30T14:02:00Z", 18),
                incident("2026-12-02T03:10:00Z", 6),
            ],
            tickets: vec![incident("2026-12-01T09:00:00Z", 190)],
            guarded_minutes: 0,
        };
        assert_eq!(
            backtest.summary(),
            "would have paged twice: 2026-11-30 14:02 for 18 min, 2026-12-02 03:10 for 6 min; \
             would have opened 1 ticket: 2026-12-01 09:00 for 3 h 10 min"
        );
        let shortened = Backtest {
            shortened: true,
            tickets: Vec::new(),
            ..backtest.clone()
        };
        assert_eq!(
            shortened.summary(),
            "would have paged twice: 2026-11-30 14:02 for 18 min, 2026-12-02 03:10 for 6 min; \
             backtested since 2026-11-23 00:00 (as far back as Prometheus holds)"
        );
        let json = serde_json::to_value(&backtest).expect("JSON");
        assert_eq!(json["from"], "2026-11-23T00:00:00Z");
        assert_eq!(json["look_back_seconds"], 7 * 24 * 3600);
        assert_eq!(json["pages"][1]["start"], "2026-12-02T03:10:00Z");
        assert_eq!(json["tickets"][0]["duration_seconds"], 190 * 60);
    }
}
