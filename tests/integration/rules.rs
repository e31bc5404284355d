//! The generated alerting rules, checked by the real `promtool`: every group
//! passes `promtool check rules`, and every alert has a `promtool test rules`
//! case whose input series make it fire (and, for the main ones, a healthy
//! input that keeps it quiet). Each runs with the promtool of Prometheus 2.42
//! and of 3.x: the rules must give the same answer on both.

use serde_json::{Value, json};

use crate::support::prometheus::on_both_prometheus;
use crate::support::{codify_demo, promtool, read, yaml_documents};

on_both_prometheus! {
    fn the_rules_file_and_the_prometheusrule_groups_pass_promtool_check_rules(version) {
        let dir = codify_demo(&[]);
        let (ok, out) = promtool(version, dir.path(), &["check", "rules", "prometheus/rules.yaml"]);
        assert!(ok, "{out}");
        assert!(out.contains("SUCCESS: 9 rules found"), "{out}");
        // The PrometheusRule's spec is the same shape as a rules file.
        let rule = yaml_documents(&read(dir.path().join("prometheusrule.yaml")));
        let groups = serde_json::to_string(&rule[0]["spec"]).expect("spec as JSON");
        std::fs::write(dir.path().join("spec-groups.yaml"), groups).expect("write");
        let (ok, out) = promtool(version, dir.path(), &["check", "rules", "spec-groups.yaml"]);
        assert!(ok, "{out}");
    }
}

const NS: &str = r#"namespace="shop""#;
const JOB: &str = r#"job="checkout""#;
const POD: &str = r#"pod="checkout-7d9f8b6c5d-x2k4q""#;

fn series(name: &str, labels: &str, values: &str) -> Value {
    json!({"series": format!("{name}{{{labels}}}"), "values": values})
}

/// Ten sessions a minute on variant `on` of the engagement flag, with `exits` page exits.
fn engagement(app: &str, exits: &str) -> Vec<Value> {
    let labels =
        format!(r#"{app},feature_flag_key="new-checkout-button",feature_flag_result_variant="on""#);
    vec![
        series("user_page_exits_total", &labels, exits),
        series("user_sessions_total", &labels, "0+10x90"),
    ]
}

/// Input series that make each alert of the demo app fire, and when to look.
fn firing_cases() -> Vec<(&'static str, Vec<Value>, &'static str)> {
    let app = format!("{NS},{JOB}");
    let container = format!("{NS},{POD},container=\"shop\"");
    let workload = format!(r#"{NS},deployment="checkout""#);
    vec![
        (
            "CheckoutHighErrorRate",
            vec![
                series(
                    "http_requests_total",
                    &format!(r#"{app},route="/checkout",method="POST",status="500""#),
                    "0+6x40",
                ),
                series(
                    "http_requests_total",
                    &format!(r#"{app},route="/checkout",method="POST",status="200""#),
                    "0+60x40",
                ),
            ],
            "20m",
        ),
        (
            "CheckoutHighLatency",
            vec![
                series(
                    "http_request_duration_seconds_bucket",
                    &format!(r#"{app},route="/cart",le="0.5""#),
                    "0+1x60",
                ),
                series(
                    "http_request_duration_seconds_bucket",
                    &format!(r#"{app},route="/cart",le="1""#),
                    "0+10x60",
                ),
                series(
                    "http_request_duration_seconds_bucket",
                    &format!(r#"{app},route="/cart",le="+Inf""#),
                    "0+10x60",
                ),
            ],
            "30m",
        ),
        (
            "CheckoutCrashLooping",
            vec![series(
                "kube_pod_container_status_waiting_reason",
                &format!(r#"{container},reason="CrashLoopBackOff""#),
                "1x30",
            )],
            "15m",
        ),
        (
            "CheckoutOOMKilled",
            vec![
                series(
                    "kube_pod_container_status_restarts_total",
                    &container,
                    "0 0 0 1 1 1 1 1 1 1 1",
                ),
                series(
                    "kube_pod_container_status_last_terminated_reason",
                    &format!(r#"{container},reason="OOMKilled""#),
                    "1x10",
                ),
            ],
            "5m",
        ),
        (
            "CheckoutReplicasUnavailable",
            vec![
                series("kube_deployment_spec_replicas", &workload, "2x40"),
                series(
                    "kube_deployment_status_replicas_available",
                    &workload,
                    "1x40",
                ),
            ],
            "30m",
        ),
        (
            "CheckoutImagePullFailing",
            vec![series(
                "kube_pod_container_status_waiting_reason",
                &format!(r#"{container},reason="ImagePullBackOff""#),
                "1x30",
            )],
            "15m",
        ),
        (
            "CheckoutMetricsTargetDown",
            vec![series(
                "up",
                &format!(r#"{app},instance="10.0.0.7:8080""#),
                "0x30",
            )],
            "15m",
        ),
        (
            "CheckoutProcessRestarting",
            vec![series(
                "process_start_time_seconds",
                &format!(r#"{app},instance="10.0.0.7:8080""#),
                "100 160 220 280 340 400 460 520",
            )],
            "6m",
        ),
        (
            "CheckoutVariantHighExitShare",
            engagement(&app, "0+6x90"),
            "60m",
        ),
    ]
}

/// Healthy input for the alerts a healthy app must not fire.
fn quiet_cases() -> Vec<(&'static str, Vec<Value>, &'static str)> {
    let app = format!("{NS},{JOB}");
    vec![
        (
            "CheckoutHighErrorRate",
            vec![
                series(
                    "http_requests_total",
                    &format!(r#"{app},route="/checkout",method="POST",status="500""#),
                    "0+1x40",
                ),
                series(
                    "http_requests_total",
                    &format!(r#"{app},route="/checkout",method="POST",status="200""#),
                    "0+100x40",
                ),
            ],
            "20m",
        ),
        (
            "CheckoutMetricsTargetDown",
            vec![series(
                "up",
                &format!(r#"{app},instance="10.0.0.7:8080""#),
                "1x30",
            )],
            "15m",
        ),
        (
            "CheckoutVariantHighExitShare",
            engagement(&app, "0+2x90"),
            "60m",
        ),
    ]
}

fn test_case(alert: &str, input: Vec<Value>, at: &str, firing: bool) -> Value {
    let expr = format!(r#"max(ALERTS{{alertname="{alert}",alertstate="firing"}})"#);
    let check = if firing {
        json!({"expr": expr, "eval_time": at, "exp_samples": [{"labels": "{}", "value": 1}]})
    } else {
        // absent() keeps the equality matchers as the labels of its result.
        json!({
            "expr": format!("absent({})", &expr[4..expr.len() - 1]),
            "eval_time": at,
            "exp_samples": [{"labels": format!(r#"{{alertname="{alert}",alertstate="firing"}}"#), "value": 1}],
        })
    };
    json!({"interval": "1m", "input_series": input, "promql_expr_test": [check]})
}

on_both_prometheus! {
    fn every_generated_alert_fires_on_its_promtool_test_case(version) {
        let dir = codify_demo(&[]);
        let rules = yaml_documents(&read(dir.path().join("prometheus/rules.yaml")));
        let mut generated: Vec<String> = rules[0]["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules").iter())
            .map(|r| r["alert"].as_str().expect("alert").to_string())
            .collect();
        generated.sort();
        let cases = firing_cases();
        let mut covered: Vec<String> = cases.iter().map(|(a, _, _)| a.to_string()).collect();
        covered.sort();
        assert_eq!(
            generated, covered,
            "every generated alert needs a firing test case here"
        );

        let mut tests: Vec<Value> = cases
            .into_iter()
            .map(|(a, input, at)| test_case(a, input, at, true))
            .collect();
        tests.extend(
            quiet_cases()
                .into_iter()
                .map(|(a, input, at)| test_case(a, input, at, false)),
        );
        let file = json!({"rule_files": ["prometheus/rules.yaml"], "evaluation_interval": "1m", "tests": tests});
        std::fs::write(
            dir.path().join("rules-test.yaml"),
            serde_json::to_string_pretty(&file).expect("json"),
        )
        .expect("write");
        let (ok, out) = promtool(version, dir.path(), &["test", "rules", "rules-test.yaml"]);
        assert!(ok, "promtool test rules failed:\n{out}");
        assert!(out.contains("SUCCESS"), "{out}");
    }
}

on_both_prometheus! {
    fn a_case_that_should_not_fire_is_caught_by_promtool(version) {
        // Guards the test above: a firing expectation on healthy input must fail.
        let dir = codify_demo(&[]);
        let (alert, input, at) = quiet_cases().remove(0);
        let file = json!({"rule_files": ["prometheus/rules.yaml"], "evaluation_interval": "1m", "tests": [test_case(alert, input, at, true)]});
        std::fs::write(
            dir.path().join("rules-test.yaml"),
            serde_json::to_string(&file).expect("json"),
        )
        .expect("write");
        let (ok, out) = promtool(version, dir.path(), &["test", "rules", "rules-test.yaml"]);
        assert!(!ok, "healthy traffic must not fire {alert}:\n{out}");
    }
}
