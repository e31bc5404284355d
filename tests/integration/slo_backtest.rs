//! The backtest of an objective's burn-rate alerts against a real
//! Prometheus (2.42 and 3) holding ten days of a checkout service's
//! `http_requests_total`, backfilled with `promtool tsdb create-blocks-from
//! openmetrics`: 10 requests a second, 0.1 % failing, but for one day of
//! 2 % errors five days ago and 25 minutes of 30 % errors twelve hours ago.
//! The backtest over the last 7 days reports exactly one page and one
//! ticket, starting and ending within two minutes of what the burn-rate
//! maths says.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use onramp::check::objectives::backtest::{self, Backtest, BacktestQuery, Incident};
use onramp::client::prometheus::{PrometheusClient, PrometheusConfig};

use crate::support::prometheus::{
    PrometheusOptions, PrometheusServer, Version, on_both_prometheus,
};
use crate::support::slo::{backtest_expressions, requests_history};

const MINUTE: u64 = 60;
const DAY: u64 = 1440;
/// Requests per minute, and the share failing outside the incidents.
const REQUESTS: f64 = 600.0;
const BASELINE: f64 = 0.001;
/// Held to 99.5 %: an error budget of 0.5 %.
const OBJECTIVE: f64 = 0.995;
const BUDGET: f64 = 1.0 - OBJECTIVE;
/// The page: 25 minutes of 30 %, from 12 hours before the end.
const BURST: f64 = 0.3;
const BURST_MINUTES: u64 = 25;
const BURST_AGO: u64 = 12 * 60;
/// The ticket: a day of 2 %, from 5 days before the end.
const BURN: f64 = 0.02;
const BURN_MINUTES: u64 = DAY;
const BURN_AGO: u64 = 5 * DAY;
/// How far back the series go: the week and the longest window (3 days)
/// before it, and an hour more.
const HISTORY: u64 = 10 * DAY + 60;
/// Half the 5-minute rate window: a ratio over a window lags a step by
/// this much on average.
const LAG: f64 = 2.0;
/// How far a start or an end may be from the maths, in minutes: the 5-minute
/// rate spans 5 sample intervals on Prometheus 2 and 4 on Prometheus 3
/// (left-open ranges).
const TOLERANCE: f64 = 2.0;

/// The share of requests failing in the minute that ends `minutes_ago`
/// minutes before the end.
fn failing(minutes_ago: u64) -> f64 {
    let within = |ago: u64, length: u64| minutes_ago < ago && minutes_ago >= ago - length;
    if within(BURST_AGO, BURST_MINUTES) {
        BURST
    } else if within(BURN_AGO, BURN_MINUTES) {
        BURN
    } else {
        BASELINE
    }
}

/// How many minutes of `share` a ratio over `window` minutes needs (the
/// rest of it at `BASELINE`) to pass `factor` times the budget.
fn minutes_to_pass(window: f64, factor: f64, share: f64) -> f64 {
    window * (factor * BUDGET - BASELINE) / (share - BASELINE)
}

fn unix(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// Asserts that `incident` starts and last fires within [`TOLERANCE`] of
/// `start` and `last` (Unix seconds).
fn assert_near(what: &str, incident: &Incident, start: f64, last: f64) {
    let started = unix(incident.start);
    let ended = started + incident.duration.as_secs_f64() - 60.0;
    assert!(
        (started - start).abs() <= TOLERANCE * 60.0,
        "{what} started {:+.1} min from the maths: {incident:?}",
        (started - start) / 60.0
    );
    assert!(
        (ended - last).abs() <= TOLERANCE * 60.0,
        "{what} last fired {:+.1} min from the maths: {incident:?}",
        (ended - last) / 60.0
    );
}

/// The backtest of the checkout's objective over the last 7 days, on a
/// Prometheus `version` holding `minutes` of its requests up to `end`, the
/// last whole minute (Unix seconds).
async fn backtest_of(version: Version, minutes: u64) -> (Backtest, u64, PrometheusServer) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let end = now / MINUTE * MINUTE;
    let server = PrometheusServer::start(PrometheusOptions {
        version,
        backfill: Some(requests_history(end, minutes, REQUESTS, failing)),
        ..PrometheusOptions::default()
    });
    let client = client_of(&server);
    let (error_ratio_5m, events_rate_5m) = backtest_expressions();
    let query = BacktestQuery {
        error_ratio_5m,
        events_rate_5m,
        objective: OBJECTIVE,
        min_events: 100.0,
    };
    let at = UNIX_EPOCH + Duration::from_secs(end);
    let report = backtest::run(&client, &query, at, backtest::LOOK_BACK)
        .await
        .expect("the backtest");
    (report, end, server)
}

/// onramp's client for `server`, patient with a busy machine.
fn client_of(server: &PrometheusServer) -> PrometheusClient {
    let config = PrometheusConfig::new(&server.url())
        .expect("a URL")
        .with_timeout(Duration::from_secs(60));
    PrometheusClient::new(config).expect("a client")
}

on_both_prometheus! {
    async fn a_week_of_backfilled_requests_backtested_to_exactly_the_page_and_ticket_it_held(version) {
        let (report, end, _) = backtest_of(version, HISTORY).await;
        let at = UNIX_EPOCH + Duration::from_secs(end);
        let summary = report.summary();
        assert!(report.has_data && !report.shortened, "{summary}");
        assert_eq!(report.from, at - backtest::LOOK_BACK, "{summary}");
        assert_eq!(report.guarded_minutes, 0, "{summary}");
        assert_eq!(report.pages.len(), 1, "{summary}\n{:#?}", report.pages);
        assert_eq!(report.tickets.len(), 1, "{summary}\n{:#?}", report.tickets);

        // The page: 14.4 times the budget over 1h (and 5m). The 6h pair
        // needs 35 minutes of 30 %, the ticket's 1d and 3d windows more
        // than 25 minutes of it. The 5-minute ratio is the rate itself: it
        // falls under 14.4 × budget once too little of its window is left
        // in the burst.
        let burst_start = (end - BURST_AGO * MINUTE) as f64;
        let burst_end = burst_start + (BURST_MINUTES * MINUTE) as f64;
        let page = (
            burst_start + (LAG + minutes_to_pass(60.0, 14.4, BURST)) * 60.0,
            burst_end + (5.0 - minutes_to_pass(5.0, 14.4, BURST)) * 60.0,
        );
        // The ticket: 1 times the budget over 3d passes first (3 times over
        // 1d needs 1,061 minutes of 2 %), and it ends when the 6h window
        // falls under the budget.
        let burn_start = (end - BURN_AGO * MINUTE) as f64;
        let burn_end = burn_start + (BURN_MINUTES * MINUTE) as f64;
        let ticket = (
            burn_start + (LAG + minutes_to_pass(3.0 * DAY as f64, 1.0, BURN)) * 60.0,
            burn_end + (360.0 - minutes_to_pass(360.0, 1.0, BURN) + LAG) * 60.0,
        );
        for (what, incident, (start, last), peak) in [
            ("the page", &report.pages[0], page, BURST / BUDGET),
            ("the ticket", &report.tickets[0], ticket, BURN / BUDGET),
        ] {
            assert_near(what, incident, start, last);
            assert!((incident.peak_burn_rate / peak - 1.0).abs() < 0.01, "{what}: {incident:?}");
        }
        assert!(
            summary.starts_with("would have paged once: ")
                && summary.contains("; would have opened 1 ticket: "),
            "{summary}"
        );
    }
}

on_both_prometheus! {
    async fn a_prometheus_holding_two_days_backtested_them_and_said_since_when(version) {
        let (report, end, server) = backtest_of(version, 2 * DAY).await;
        let summary = report.summary();
        // The first 5-minute rate needs two samples: a minute after the first.
        let first = end - 2 * DAY * MINUTE + MINUTE;
        assert!(report.has_data && report.shortened, "{summary}");
        assert_eq!(report.from, UNIX_EPOCH + Duration::from_secs(first), "{summary}");
        // Two days at 0.1 % with the burst: the page only.
        assert_eq!(report.pages.len(), 1, "{summary}");
        assert!(report.tickets.is_empty(), "{summary}");
        let since = humantime::format_rfc3339_seconds(report.from).to_string();
        let since = since[..16].replacen('T', " ", 1);
        assert!(
            summary.starts_with("would have paged once: ")
                && summary.ends_with(&format!(
                    "; backtested since {since} (as far back as Prometheus holds)"
                )),
            "{summary}"
        );

        // An expression that is not one series (one per status) is refused.
        let per_status = BacktestQuery {
            error_ratio_5m: r#"rate(http_requests_total{job="checkout"}[5m])"#.into(),
            events_rate_5m: r#"sum(rate(http_requests_total{job="checkout"}[5m]))"#.into(),
            objective: OBJECTIVE,
            min_events: 100.0,
        };
        let at = UNIX_EPOCH + Duration::from_secs(end);
        let refused = backtest::run(&client_of(&server), &per_status, at, backtest::LOOK_BACK)
            .await
            .expect_err("two series");
        assert_eq!(refused.exit_status(), 2, "{refused}");
        assert!(
            refused.to_string().contains("Prometheus returned 2: wrap it in sum(…)"),
            "{refused}"
        );
    }
}
