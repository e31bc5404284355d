//! A service's request history for the objective tests and benchmark:
//! `http_requests_total{namespace="shop",job="checkout",status=…}` as
//! OpenMetrics text with timestamps, one sample a minute, for
//! `PrometheusOptions::backfill`.

use std::fmt::Write as _;

/// The selector of the series [`requests_history`] writes.
pub const SELECTOR: &str = r#"namespace="shop",job="checkout""#;

/// The two counters (`status="200"` and `"500"`), one sample a minute for
/// `minutes` up to `end` (Unix seconds, a whole minute): `per_minute`
/// requests in each minute, the share `failing(ago)` of them failing in the
/// minute that ends `ago` minutes before `end`.
pub fn requests_history(
    end: u64,
    minutes: u64,
    per_minute: f64,
    failing: impl Fn(u64) -> f64,
) -> String {
    let mut text = String::new();
    for (status, failed) in [("200", false), ("500", true)] {
        let series = format!("http_requests_total{{{SELECTOR},status=\"{status}\"}}");
        let mut total = 0.0;
        for ago in (0..=minutes).rev() {
            let share = failing(ago);
            total += per_minute * if failed { share } else { 1.0 - share };
            let _ = writeln!(text, "{series} {total} {}", end - ago * 60);
        }
    }
    text.push_str("# EOF\n");
    text
}

/// The objective's two expressions on those series: the 5-minute error
/// ratio (no sample without traffic) and the 5-minute requests per second.
pub fn backtest_expressions() -> (String, String) {
    let total = format!("sum(rate(http_requests_total{{{SELECTOR}}}[5m]))");
    let ratio =
        format!("sum(rate(http_requests_total{{{SELECTOR},status=~\"5..\"}}[5m])) / ({total} > 0)");
    (ratio, total)
}
