//! The error budget panels of the service-health dashboard, evaluated by the
//! real promtool over the objectives' own recording rules: with one request
//! in ten failing, the burn rate of every window reads 20 (0.1 over the
//! 0.5 % budget) and the budget remaining is far below zero; with none
//! failing, the burn rate is 0 and the whole budget is left. The queries the
//! runbook's sections print run as printed and read the same. Each runs with
//! the promtool of Prometheus 2.42 and of 3.x.

use serde_json::{Value, json};

use crate::support::prometheus::on_both_prometheus;
use crate::support::{codify_demo_with_config, fenced, promtool, read};

const APP: &str = r#"namespace="shop",job="checkout""#;

/// Every query of the dashboard panel titled `title`.
fn panel_exprs(dashboard: &Value, title: &str) -> Vec<String> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .find(|p| p["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title:?}"))["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["expr"].as_str().expect("expr").to_string())
        .collect()
}

/// A promtool check that `expr` has exactly one series, between `low` and
/// `high`, at `at`.
fn reads(expr: &str, low: f64, high: f64, at: &str) -> Value {
    json!({
        "expr": format!("count(({expr}) > {low} < {high})"),
        "eval_time": at,
        "exp_samples": [{"labels": "{}", "value": 1}],
    })
}

/// The checks of one objective's panels: the burn rate of every window and
/// the budget left, as the panels show them after `at`.
fn panel_checks(dashboard: &Value, title: &str, burn: f64, at: &str) -> Vec<Value> {
    let mut checks: Vec<Value> = panel_exprs(dashboard, &format!("{title}: burn rate by window"))
        .iter()
        .map(|e| reads(e, burn - 0.01, burn + 0.01, at))
        .collect();
    assert_eq!(checks.len(), 7, "one series per window");
    let left = 1.0 - burn;
    for e in panel_exprs(dashboard, &format!("{title}: error budget remaining")) {
        checks.push(reads(&e, left - 0.01, left + 0.01, at));
    }
    checks
}

/// The PromQL blocks of the runbook's section `### heading`, in order,
/// each as one would paste it (list indentation removed).
fn runbook_queries(runbook: &str, heading: &str) -> Vec<String> {
    let section = runbook
        .split("\n### ")
        .find(|s| s.starts_with(&format!("{heading}\n")))
        .unwrap_or_else(|| panic!("no runbook section {heading}"));
    fenced(section, "promql")
        .iter()
        .map(|q| {
            q.lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .to_string()
        })
        .collect()
}

/// Checks of the queries of an objective's runbook section, in the order it
/// prints them: the budget in events (some), the 5-minute error ratio, by
/// route when there is one, and the events per second.
fn runbook_checks(queries: &[String], ratio: f64, at: &str) -> Vec<Value> {
    let (budget, rest) = queries.split_first().expect("the budget in events first");
    let (rate, ratios) = rest.split_last().expect("the events per second last");
    let mut checks = vec![reads(budget, 0.0, 1e9, at), reads(rate, 0.99, 1.01, at)];
    checks.extend(
        ratios
            .iter()
            .map(|q| reads(q, ratio - 0.001, ratio + 0.001, at)),
    );
    checks
}

fn requests(failing_per_minute: u32) -> Vec<Value> {
    let series = |status: &str, per_minute: u32| {
        json!({
            "series": format!(r#"http_requests_total{{{APP},route="/checkout",method="POST",status="{status}"}}"#),
            "values": format!("0+{per_minute}x90"),
        })
    };
    vec![
        series("500", failing_per_minute),
        series("200", 60 - failing_per_minute),
    ]
}

/// 60 requests a minute, `slow` of them over 250 ms.
fn durations(slow_per_minute: u32) -> Vec<Value> {
    vec![
        json!({"series": format!(r#"http_request_duration_seconds_bucket{{{APP},le="0.25"}}"#), "values": format!("0+{}x90", 60 - slow_per_minute)}),
        json!({"series": format!(r#"http_request_duration_seconds_count{{{APP}}}"#), "values": "0+60x90"}),
    ]
}

on_both_prometheus! {
    fn the_error_budget_panels_and_the_runbook_queries_read_the_burn(version) {
        let dir = codify_demo_with_config("objectives:\n  availability: {}\n  latency: {target: 99}\n");
        let dashboard: Value = serde_json::from_str(&read(dir.path().join("out/dashboards/service-health.json")))
            .expect("dashboard JSON");
        let at = "80m";
        // One request in ten fails (20x the 0.5 % budget); 3 in 60 are slow
        // (5x the 1 % budget of the latency objective at 99 %).
        let mut burning = requests(6);
        burning.extend(durations(3));
        let mut checks = panel_checks(&dashboard, "Availability", 20.0, at);
        checks.extend(panel_checks(&dashboard, "Latency", 5.0, at));
        // The runbook's queries run as printed and read the same burn.
        let runbook = read(dir.path().join("out/runbook.md"));
        let availability = runbook_queries(&runbook, "CheckoutAvailabilityErrorBudgetBurn");
        assert_eq!(availability.len(), 4, "budget, ratio, ratio by route, traffic");
        checks.extend(runbook_checks(&availability, 0.1, at));
        let latency = runbook_queries(&runbook, "CheckoutLatencyErrorBudgetBurn");
        assert_eq!(latency.len(), 3, "budget, ratio, traffic");
        checks.extend(runbook_checks(&latency, 0.05, at));
        // Nothing fails: no burn, the whole budget left.
        let mut healthy = requests(0);
        healthy.extend(durations(0));
        let mut quiet = panel_checks(&dashboard, "Availability", 0.0, at);
        quiet.extend(panel_checks(&dashboard, "Latency", 0.0, at));
        let objective = panel_exprs(&dashboard, "Availability: objective");
        quiet.push(reads(&objective[0], 0.9949, 0.9951, at));
        let file = json!({
            "rule_files": ["out/prometheus/rules.yaml"],
            "evaluation_interval": "1m",
            "tests": [
                {"interval": "1m", "input_series": burning, "promql_expr_test": checks},
                {"interval": "1m", "input_series": healthy, "promql_expr_test": quiet},
            ],
        });
        std::fs::write(dir.path().join("panels-test.yaml"), serde_json::to_string_pretty(&file).expect("json"))
            .expect("write");
        let (ok, out) = promtool(version, dir.path(), &["test", "rules", "panels-test.yaml"]);
        assert!(ok, "promtool test rules failed:\n{out}");
        assert!(out.contains("SUCCESS"), "{out}");
    }
}
