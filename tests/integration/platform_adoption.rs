//! The platform-adoption dashboard against a real Prometheus (2.42) holding
//! the real `onramp adoption -o openmetrics` output of the fleet fixture
//! over the last hour: the output is given timestamps every 5 minutes, the
//! levels climbing to today's (an app at level L is at most ⌊k/2⌋ at point
//! k of 12), backfilled with `promtool tsdb create-blocks-from
//! openmetrics`. Every panel query of the dashboard `onramp adoption
//! --dashboard` writes returns data, as Grafana runs it (the team variable
//! at All, and at one team), and the numbers are the fleet's, by value:
//! now and in the past.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::prometheus::{PrometheusOptions, PrometheusServer};

/// Points in time, 5 minutes apart: the last is now.
const POINTS: u64 = 12;
const STEP: u64 = 300;

/// Called by `adoption`'s fleet test with its `-o openmetrics` output: the
/// dashboard's every query returned data from it, and the fleet's numbers.
pub fn the_platform_adoption_dashboard_showed_the_fleet_over_time(
    openmetrics: &str,
    dir: &std::path::Path,
) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let prometheus = PrometheusServer::start(PrometheusOptions {
        backfill: Some(history(openmetrics, now)),
        ..PrometheusOptions::default()
    });
    let out = dir.join("platform");
    let written = crate::support::onramp(&[
        "adoption",
        "--dashboard",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    written.expect_status(0);
    let dashboard: Value = serde_json::from_str(&crate::support::read(
        out.join("dashboards/platform-adoption.json"),
    ))
    .expect("dashboard JSON");
    let queries = panel_queries(&dashboard);
    assert_eq!(queries.len(), 8, "{queries:?}");
    let at = |secs_ago: u64| Some(UNIX_EPOCH + Duration::from_secs(now - secs_ago));
    for (title, expr) in &queries {
        // Every team (All), and one with an app lacking a need.
        for team in [".*", "search"] {
            let expr = expr.replace("$team", team);
            let samples = prometheus.query_at(&expr, at(0));
            assert!(
                !samples.is_empty(),
                "{title} (team {team}): no data\n{expr}"
            );
        }
    }
    let by = |title: &str, team: &str, secs_ago: u64, label: &str| -> BTreeMap<String, f64> {
        let expr = queries
            .iter()
            .find(|(t, _)| t == title)
            .unwrap_or_else(|| panic!("no panel {title}"))
            .1
            .replace("$team", team);
        prometheus
            .query_at(&expr, at(secs_ago))
            .into_iter()
            .map(|(labels, value)| (labels.get(label).cloned().unwrap_or_default(), value))
            .collect()
    };
    let levels = |secs_ago| -> BTreeMap<String, f64> {
        by("Apps per level, per team", "shop", secs_ago, "level")
    };
    // Now: checkout verified, cart scraped, orders-db not onboarded.
    let count = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    assert_eq!(levels(0), count(&[("0", 1.0), ("1", 1.0), ("4", 1.0)]));
    // 25 minutes ago (point 6, levels at most 3): checkout at 3.
    assert_eq!(
        levels(5 * STEP),
        count(&[("0", 1.0), ("1", 1.0), ("3", 1.0)])
    );
    // 55 minutes ago (point 0): every app at 0.
    assert_eq!(levels(11 * STEP), count(&[("0", 3.0)]));
    let share = |secs_ago| {
        by(
            "Share of apps at level 3 or more, per team",
            ".*",
            secs_ago,
            "team",
        )
    };
    let shop = share(0)["shop"];
    assert!((shop - 1.0 / 3.0).abs() < 1e-9, "{shop}");
    let payments = share(0)["payments"];
    assert!(
        (payments - 1.0 / 3.0).abs() < 1e-9,
        "gateway of 3 apps: {payments}"
    );
    assert_eq!(share(11 * STEP)["shop"], 0.0);
    assert_eq!(by("Apps", "shop", 0, ""), count(&[("", 3.0)]));
    assert_eq!(
        by("Needs most often unanswered", "search", 0, "need"),
        count(&[("service-health", 1.0)]),
        "query lacks service-health's signals"
    );
    let below: Vec<String> = by("Apps below level 2", "shop", 0, "app")
        .into_keys()
        .collect();
    assert_eq!(below, ["cart", "orders-db"]);
    assert_eq!(
        by("Apps at level 0 or 1", "shop", 0, ""),
        count(&[("", 2.0)])
    );
}

/// The openmetrics output at `POINTS` times up to `now`, `STEP` apart: each
/// sample repeated with a timestamp (a series' samples together, oldest
/// first, as OpenMetrics wants), levels capped at ⌊k/2⌋ at point k.
fn history(openmetrics: &str, now: u64) -> String {
    let mut out = String::new();
    for line in openmetrics.lines() {
        if line.starts_with('#') {
            if line != "# EOF" {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("SERIES VALUE");
        let value: u64 = value.parse().expect("a level or 0/1");
        for k in 0..POINTS {
            let value = if series.starts_with("onramp_adoption_level{") {
                value.min(k / 2)
            } else {
                value
            };
            let time = now - (POINTS - 1 - k) * STEP;
            out.push_str(&format!("{series} {value} {time}\n"));
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Every panel's title and query, as the dashboard holds them.
fn panel_queries(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|panel| {
            let title = panel["title"].as_str().unwrap_or_default().to_string();
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |t| (title.clone(), t["expr"].as_str().expect("expr").to_string()))
        })
        .collect()
}
