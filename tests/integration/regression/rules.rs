//! Regressions of the alert rules, evaluated by Prometheus' own promtool.

use crate::support::prometheus::on_both_prometheus;

on_both_prometheus! {
    fn metrics_target_down_never_fired_when_the_target_disappeared_entirely(version) {
        let demo = crate::support::codify_demo(&[]);
        let alert = r#"ALERTS{alertname="CheckoutMetricsTargetDown",alertstate="firing"}"#;
        let up = r#"up{namespace="shop",job="checkout",instance="10.0.0.7:8080"}"#;
        let other = r#"up{namespace="shop",job="cart",instance="10.0.0.8:8080"}"#;
        let case = |series: &str, values: &str, firing: bool| {
            let check = if firing {
                serde_json::json!({"expr": format!("count({alert})"), "eval_time": "15m",
                    "exp_samples": [{"labels": "{}", "value": 1}]})
            } else {
                serde_json::json!({"expr": format!("absent({alert})"), "eval_time": "15m",
                    "exp_samples": [{"labels": r#"{alertname="CheckoutMetricsTargetDown",alertstate="firing"}"#, "value": 1}]})
            };
            serde_json::json!({"interval": "1m",
                "input_series": [{"series": series, "values": values}],
                "promql_expr_test": [check]})
        };
        let tests = serde_json::json!({
            "rule_files": ["prometheus/rules.yaml"],
            "evaluation_interval": "1m",
            "tests": [
                case(up, "0x30", true),     // the target is there and down
                case(other, "1x30", true),  // no `up` series of checkout at all
                case(up, "1x30", false),    // the target is up
            ],
        });
        std::fs::write(
            demo.path().join("target-down-test.yaml"),
            serde_json::to_string_pretty(&tests).expect("json"),
        )
        .expect("write the promtool test");
        let (ok, out) =
            crate::support::promtool(version, demo.path(), &["test", "rules", "target-down-test.yaml"]);
        assert!(ok, "promtool test rules:\n{out}");
    }
}

on_both_prometheus! {
    fn one_failed_request_of_a_quiet_app_paged_a_freshly_loaded_objective(version) {
        // The guard took the mean events rate times the long window: on six
        // minutes of data the 6h window "held" 360 times a minute's traffic.
        let demo = crate::support::codify_demo_with_config("objectives: {availability: {}}\n");
        let labels = r#"namespace="shop",job="checkout",route="/checkout",method="POST""#;
        let quiet = |t: &str| {
            serde_json::json!({"eval_time": t, "alertname": "CheckoutAvailabilityErrorBudgetBurn", "exp_alerts": []})
        };
        let tests = serde_json::json!({
            "rule_files": ["out/prometheus/rules.yaml"],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": [
                    // Three requests a minute; one of them fails at minute 2.
                    {"series": format!(r#"http_requests_total{{{labels},status="200"}}"#), "values": "100+3x22"},
                    {"series": format!(r#"http_requests_total{{{labels},status="500"}}"#), "values": "0 0 1x20"},
                ],
                "alert_rule_test": [quiet("6m"), quiet("10m"), quiet("20m")],
            }],
        });
        std::fs::write(
            demo.path().join("quiet-test.yaml"),
            serde_json::to_string_pretty(&tests).expect("json"),
        )
        .expect("write the promtool test");
        let (ok, out) =
            crate::support::promtool(version, demo.path(), &["test", "rules", "quiet-test.yaml"]);
        assert!(ok, "promtool test rules:\n{out}");
    }
}
