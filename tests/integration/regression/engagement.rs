//! What broke in the feature-flag engagement story and the error ratio
//! (issue 9), checked on the codified demo app by promtool's rule tests. The
//! checks of the files alone are in `tests/offline/regression/engagement.rs`;
//! the behaviour over a whole rollout, against the real Prometheus and shop,
//! is in `live_rollout`.

use serde_json::Value;

use serde_json::json;

use crate::support::codified_dashboard as dashboard;
use crate::support::codify_demo;
use crate::support::prometheus::{Version, on_both_prometheus};

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
