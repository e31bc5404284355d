//! What broke in the feature-flag engagement story and the error ratio
//! (issue 9), checked on the codified demo app. The behaviour over a whole
//! rollout, against the real Prometheus and shop, is in `live_rollout`.

use serde_json::Value;

use serde_json::json;

use crate::support::prometheus::{Version, on_both_prometheus};
use crate::support::{codify_demo, read, yaml_documents};

fn dashboard(dir: &tempfile::TempDir, need: &str) -> Value {
    serde_json::from_str(&read(dir.path().join(format!("dashboards/{need}.json")))).expect("json")
}

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

/// The codified dashboard's annotation or panel query as Grafana sends it
/// for the engagement flag, with `$__range` at 5 minutes.
fn grafana_expr(dashboard: &Value, section: &str, name: &str) -> String {
    let items: Vec<&Value> = match section {
        "annotations" => dashboard["annotations"]["list"]
            .as_array()
            .expect("annotations")
            .iter()
            .collect(),
        _ => dashboard["panels"]
            .as_array()
            .expect("panels")
            .iter()
            .collect(),
    };
    let (key, expr) = if section == "annotations" {
        ("name", "expr")
    } else {
        ("title", "")
    };
    let item = items
        .into_iter()
        .find(|i| i[key] == name)
        .unwrap_or_else(|| panic!("no {section} entry {name}"));
    let expr = if expr.is_empty() {
        &item["targets"][0]["expr"]
    } else {
        &item[expr]
    };
    expr.as_str()
        .expect("expr")
        .replace("$flag", "new-checkout-button")
        .replace("$__range", "5m")
}

/// Evaluations per minute of the engagement flag's variants, one promtool
/// series notation per variant.
fn evaluations(variants: &[(&str, &str)]) -> Vec<Value> {
    variants
        .iter()
        .map(|(variant, values)| {
            json!({
                "series": format!(r#"feature_flag_evaluation_requests_total{{namespace="shop",job="checkout",feature_flag_key="new-checkout-button",feature_flag_result_variant="{variant}"}}"#),
                "values": values,
            })
        })
        .collect()
}

/// One promtool case: `count by (LABELS) (EXPR)` at each time, expecting
/// one series per listed label value (or none).
fn marks_case(input: Vec<Value>, expr: &str, by: &str, expected: &[(&str, &[&str])]) -> Value {
    let tests: Vec<Value> = expected
        .iter()
        .map(|(at, values)| {
            let samples: Vec<Value> = values
                .iter()
                .map(|v| json!({"labels": format!(r#"{{{by}="{v}"}}"#), "value": 1}))
                .collect();
            json!({"expr": format!("count by ({by}) ({expr})"), "eval_time": at, "exp_samples": samples})
        })
        .collect();
    json!({"interval": "1m", "input_series": input, "promql_expr_test": tests})
}

/// Runs promtool test rules on the cases; fails with promtool's report.
fn promtool_cases(version: Version, cases: Vec<Value>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = json!({"rule_files": [], "evaluation_interval": "1m", "tests": cases});
    std::fs::write(
        dir.path().join("cases.yaml"),
        serde_json::to_string_pretty(&file).expect("json"),
    )
    .expect("write");
    let (ok, out) = crate::support::promtool(version, dir.path(), &["test", "rules", "cases.yaml"]);
    assert!(ok, "{out}");
}

on_both_prometheus! {
    fn the_variant_appeared_mark_fired_for_every_variant_in_the_first_10_minutes_and_after_a_gap(version) {
        let dir = codify_demo(&[]);
        let appeared = grafana_expr(
            &dashboard(&dir, "feature-flag-engagement"),
            "annotations",
            "Flag variant appeared",
        );
        let by = "feature_flag_result_variant";
        promtool_cases(version, vec![
            // A steady 50/50 flag on a fresh Prometheus: never a mark.
            marks_case(
                evaluations(&[("on", "0+30x40"), ("off", "0+30x40")]),
                &appeared,
                by,
                &[("3m", &[]), ("9m", &[]), ("12m", &[]), ("30m", &[])],
            ),
            // The app was down for 15 minutes: coming back is not a new variant.
            marks_case(
                evaluations(&[
                    ("on", "0+30x10 _x15 300+30x10"),
                    ("off", "0+30x10 _x15 300+30x10"),
                ]),
                &appeared,
                by,
                &[("28m", &[]), ("33m", &[])],
            ),
            // A third variant after 20 steady minutes: marked, and only it.
            marks_case(
                evaluations(&[
                    ("on", "0+30x40"),
                    ("off", "0+30x40"),
                    ("bold", "_x20 0+30x20"),
                ]),
                &appeared,
                by,
                &[("19m", &[]), ("24m", &["bold"]), ("35m", &[])],
            ),
        ]);
    }
}

on_both_prometheus! {
    fn enabling_a_flag_for_more_users_was_not_marked(version) {
        let dir = codify_demo(&[]);
        let split = grafana_expr(
            &dashboard(&dir, "feature-flag-engagement"),
            "annotations",
            "Flag split changed",
        );
        let by = "feature_flag_key";
        let flag: &[&str] = &["new-checkout-button"];
        promtool_cases(version, vec![
            // Steady 50/50: nothing.
            marks_case(
                evaluations(&[("on", "0+30x40"), ("off", "0+30x40")]),
                &split,
                by,
                &[("4m", &[]), ("12m", &[]), ("30m", &[])],
            ),
            // 50/50 → 100 % on at minute 20: marked, then quiet once it is steady.
            marks_case(
                evaluations(&[("on", "0+30x20 660+60x20"), ("off", "0+30x20 600x20")]),
                &split,
                by,
                &[("19m", &[]), ("23m", flag), ("35m", &[])],
            ),
            // 10 % → 50 % at minute 20.
            marks_case(
                evaluations(&[("on", "0+6x20 150+30x20"), ("off", "0+54x20 1110+30x20")]),
                &split,
                by,
                &[("19m", &[]), ("23m", flag), ("35m", &[])],
            ),
        ]);
    }
}

on_both_prometheus! {
    fn a_retired_variant_showed_nan_clicks_per_session(version) {
        let dir = codify_demo(&[]);
        let d = dashboard(&dir, "feature-flag-engagement");
        let series = |metric: &str, variant: &str, values: &str| {
            json!({
                "series": format!(r#"{metric}{{namespace="shop",job="checkout",feature_flag_key="new-checkout-button",feature_flag_result_variant="{variant}"}}"#),
                "values": values,
            })
        };
        // `on` retired at minute 10, `bold` served since.
        let input = vec![
            series("user_sessions_total", "on", "0+10x10 100x20"),
            series("user_clicks_total", "on", "0+60x10 600x20"),
            series("user_page_exits_total", "on", "0+2x10 20x20"),
            series("user_sessions_total", "bold", "_x10 0+10x20"),
            series("user_clicks_total", "bold", "_x10 0+80x20"),
            series("user_page_exits_total", "bold", "_x10 0+1x20"),
        ];
        let by = "feature_flag_result_variant";
        let cases = [
            "Clicks per session by variant",
            "Share of sessions ending by leaving the page, by variant",
        ]
        .iter()
        .map(|title| {
            marks_case(
                input.clone(),
                &grafana_expr(&d, "panels", title),
                by,
                &[("25m", &["bold"])],
            )
        })
        .collect();
        promtool_cases(version, cases);
    }
}
