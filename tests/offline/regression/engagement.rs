//! What broke in the feature-flag engagement story and the error ratio
//! (issue 9), checked on the codified demo app's files. The promtool cases
//! are in `tests/integration/regression/engagement.rs`; the behaviour over a
//! whole rollout, against the real Prometheus and shop, is in `live_rollout`.

use serde_json::Value;

use crate::support::codified_dashboard as dashboard;
use crate::support::{codify_demo, read, yaml_documents};

fn panel_exprs(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| {
            p["targets"].as_array().into_iter().flatten().map(move |t| {
                (
                    p["title"].as_str().unwrap_or_default().to_string(),
                    t["expr"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
        .collect()
}

/// Every alert expression and runbook query of the rules file, by alert.
fn alert_exprs(dir: &tempfile::TempDir) -> Vec<(String, String)> {
    let rules = yaml_documents(&read(dir.path().join("prometheus/rules.yaml")));
    rules[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").iter())
        .map(|r| {
            (
                r["alert"].as_str().unwrap_or_default().to_string(),
                r["expr"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The text after the last top-level ` / `: what a ratio divides by.
fn denominator(expr: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut split = None;
    for (i, c) in expr.char_indices() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            '/' if depth == 0 && expr[i..].starts_with("/ ") => split = Some(i),
            _ => {}
        }
    }
    split.map(|i| expr[i + 1..].trim())
}

#[test]
fn ratio_panels_and_alerts_divided_by_zero_sessions_into_nan() {
    let dir = codify_demo(&[]);
    let d = dashboard(&dir, "feature-flag-engagement");
    let mut ratios = 0;
    for (title, expr) in panel_exprs(&d) {
        if let Some(divisor) = denominator(&expr) {
            ratios += 1;
            assert!(
                divisor.ends_with("> 0)"),
                "panel {title:?} divides by an unguarded denominator: {divisor}"
            );
        }
    }
    assert_eq!(
        ratios, 5,
        "four engagement ratios and the share of evaluations"
    );
    let (name, expr) = alert_exprs(&dir)
        .into_iter()
        .find(|(name, _)| name == "CheckoutVariantHighExitShare")
        .expect("the exit-share alert");
    assert!(
        expr.contains("[30m])) > 0) > 0.5"),
        "{name} divides by an unguarded denominator: {expr}"
    );
}

#[test]
fn the_flag_variable_offered_flags_without_sessions_in_alphabetical_order() {
    let dir = codify_demo(&[]);
    let d = dashboard(&dir, "feature-flag-engagement");
    let variable = d["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .find(|v| v["name"] == "flag")
        .expect("the flag variable");
    let query = variable["definition"].as_str().expect("definition");
    assert!(
        query.contains("user_sessions_total{") && !query.contains("evaluation"),
        "lists the flags that have sessions: {query}"
    );
    assert!(query.starts_with("query_result(sort_desc("), "{query}");
    assert_eq!(variable["sort"], 0, "Grafana keeps the busiest-first order");
}

#[test]
fn panels_said_users_where_they_count_sessions() {
    let dir = codify_demo(&[]);
    let d = dashboard(&dir, "feature-flag-engagement");
    for panel in d["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().unwrap_or_default();
        assert!(!title.contains("users leaving"), "{title}");
        if title.contains("leaving the page") {
            let description = panel["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("per session, not per user"),
                "{description}"
            );
        }
    }
}

#[test]
fn the_error_ratio_counted_scrapes_and_probes() {
    let dir = codify_demo(&[]);
    let d = dashboard(&dir, "service-health");
    // The demo app's metrics path and its liveness and readiness probe paths.
    let internal = r#"route!~"/healthz|/metrics|/readyz""#;
    for (title, expr) in panel_exprs(&d) {
        if title.contains("Error ratio") || title.contains("Availability") {
            assert_eq!(
                expr.matches(internal).count(),
                expr.matches("http_requests_total{").count(),
                "panel {title:?} counts scrapes or probes: {expr}"
            );
        }
    }
    let (_, alert) = alert_exprs(&dir)
        .into_iter()
        .find(|(name, _)| name == "CheckoutHighErrorRate")
        .expect("the error-rate alert");
    assert_eq!(alert.matches(internal).count(), 2, "{alert}");
}
