//! Reading a time series the way a person reads a graph: the level in the
//! recent part of the window against the baseline before it, and when the
//! series left the baseline. Plus the words troubleshoot's evidence uses for
//! times, durations and shares. Pure functions: querying is the caller's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client::prometheus::{Point, QueryRange};

/// The time span troubleshoot looks at and how it is cut up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    /// The last evaluation time (now).
    pub end: SystemTime,
    /// How far back the window reaches (`--since`).
    pub since: Duration,
    /// Time between the points of a range query.
    pub step: Duration,
    /// The recent part compared with the rest of the window.
    pub recent: Duration,
    /// The `rate()` window: four scrapes or four steps, whichever is longer,
    /// so every rate has enough samples yet a change shows within it.
    pub rate: Duration,
}

impl Window {
    /// The window ending at `end`, reaching back `since`, for series
    /// scraped every `scrape`.
    pub fn new(end: SystemTime, since: Duration, scrape: Duration) -> Window {
        let since = since.max(Duration::from_secs(10));
        // About 120 points: fine enough to date a change, few enough to stay cheap.
        let step = Duration::from_secs((since.as_secs() / 120).max(1));
        // "Now" is the last quarter of the window, at most five minutes: long
        // enough to average out noise, short enough to be what is happening.
        let recent = (since / 4).min(Duration::from_secs(300));
        let rate = (step * 4).max(scrape * 4);
        Window {
            end,
            since,
            step,
            recent,
            rate,
        }
    }

    /// The whole window as a range query.
    pub fn range(&self) -> QueryRange {
        QueryRange {
            start: self.end - self.since,
            end: self.end,
            step: self.step,
        }
    }

    /// Where the recent part starts, in Unix seconds.
    pub fn split(&self) -> f64 {
        unix(self.end) - self.recent.as_secs_f64()
    }

    /// How long the baseline part is.
    pub fn baseline(&self) -> Duration {
        self.since - self.recent
    }

    /// The longest delay between a change and what it causes that still
    /// counts as "moved with it": a third of the window, at least two rate
    /// windows (a rate needs that long to show a step).
    pub fn max_lag(&self) -> f64 {
        (self.since.as_secs_f64() / 3.0).max(2.0 * self.rate.as_secs_f64())
    }

    /// How much earlier than its cause a rate-smeared effect may appear to start.
    pub fn slack(&self) -> f64 {
        self.rate.as_secs_f64() + 2.0 * self.step.as_secs_f64()
    }
}

/// A series' level before and in the recent part of the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shift {
    /// The mean before the recent part; `None` when there was no data.
    pub baseline: Option<f64>,
    /// The mean in the recent part.
    pub recent: f64,
}

impl Shift {
    /// The baseline, 0 when there was none (no traffic, no errors).
    pub fn before(&self) -> f64 {
        self.baseline.unwrap_or(0.0)
    }
}

/// The means of the finite points before `split` and from `split` on;
/// `None` when the recent part has no finite point.
pub(crate) fn shift(points: &[Point], split: f64) -> Option<Shift> {
    let (before, after): (Vec<&Point>, Vec<&Point>) = points
        .iter()
        .filter(|p| p.value.is_finite())
        .partition(|p| p.timestamp < split);
    Some(Shift {
        baseline: mean(&before),
        recent: mean(&after)?,
    })
}

fn mean(points: &[&Point]) -> Option<f64> {
    (!points.is_empty()).then(|| points.iter().map(|p| p.value).sum::<f64>() / points.len() as f64)
}

/// When the series reached its recent level: the first point of the last
/// run of finite points above `threshold`, `None` when the last finite point
/// is not above it. A run survives gaps (NaN, no traffic) but not a point
/// back below the threshold.
pub(crate) fn onset(points: &[Point], threshold: f64) -> Option<f64> {
    let mut start = None;
    for point in points.iter().rev().filter(|p| p.value.is_finite()) {
        if point.value > threshold {
            start = Some(point.timestamp);
        } else {
            break;
        }
    }
    start
}

/// Unix seconds of a time.
pub(crate) fn unix(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `14:03:07 UTC`.
pub(crate) fn clock(unix_seconds: f64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs(unix_seconds.max(0.0) as u64);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    // 2026-11-27T14:03:07Z: the date is today's, the time is what a person matches.
    format!("{} UTC", text.get(11..19).unwrap_or(&text))
}

/// `40 s`, `90 s`, `2 min`, `1 h 5 min`.
pub(crate) fn span(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..120 => format!("{seconds} s"),
        120..3600 => format!("{} min", (seconds + 30) / 60),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// `31.2 %`, `100 %`, `0 %`.
pub(crate) fn percent(share: f64) -> String {
    let value = share * 100.0;
    if (value - value.round()).abs() < 0.05 {
        format!("{:.0} %", value.round())
    } else {
        format!("{value:.1} %")
    }
}

/// `12 ms`, `1.25 s`.
pub(crate) fn seconds(value: f64) -> String {
    if !value.is_finite() {
        "no value".to_string()
    } else if value < 1.0 {
        format!("{:.0} ms", value * 1000.0)
    } else {
        format!("{value:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[(f64, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(timestamp, value)| Point { timestamp, value })
            .collect()
    }

    #[test]
    fn a_step_up_shows_as_a_shift_dated_at_the_first_point_above_half_way() {
        let points = series(&[
            (0.0, 0.0),
            (10.0, 0.0),
            (20.0, f64::NAN),
            (30.0, 0.1),
            (40.0, 0.3),
            (50.0, 0.3),
        ]);
        let shift = shift(&points, 35.0).expect("recent points");
        assert_eq!(shift.baseline, Some(0.1 / 3.0));
        assert_eq!(shift.recent, 0.3);
        assert_eq!(onset(&points, 0.15), Some(40.0));
        assert_eq!(onset(&points, 0.35), None, "never above: no onset");
    }

    #[test]
    fn no_recent_data_is_no_shift_and_no_baseline_is_none() {
        let empty = series(&[(0.0, 1.0), (10.0, f64::NAN)]);
        assert_eq!(shift(&empty, 5.0), None);
        let new = series(&[(10.0, 2.0)]);
        assert_eq!(
            shift(&new, 5.0),
            Some(Shift {
                baseline: None,
                recent: 2.0
            })
        );
    }

    #[test]
    fn a_two_minute_window_compares_the_last_30_s_with_the_90_s_before() {
        let end = UNIX_EPOCH + Duration::from_secs(1_000);
        let window = Window::new(end, Duration::from_secs(120), Duration::from_secs(1));
        assert_eq!(window.step, Duration::from_secs(1));
        assert_eq!(window.recent, Duration::from_secs(30));
        assert_eq!(window.baseline(), Duration::from_secs(90));
        assert_eq!(window.rate, Duration::from_secs(4));
        assert_eq!(window.split(), 970.0);
        let default = Window::new(end, Duration::from_secs(1800), Duration::from_secs(30));
        assert_eq!(default.step, Duration::from_secs(15));
        assert_eq!(default.recent, Duration::from_secs(300));
        assert_eq!(default.rate, Duration::from_secs(120));
    }

    #[test]
    fn numbers_read_the_way_people_write_them() {
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.3124), "31.2 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(seconds(0.0123), "12 ms");
        assert_eq!(seconds(1.254), "1.25 s");
        assert_eq!(span(40.0), "40 s");
        assert_eq!(span(90.0), "90 s");
        assert_eq!(span(125.0), "2 min");
        assert_eq!(clock(50_587.0), "14:03:07 UTC");
    }
}
