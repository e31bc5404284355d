//! Regressions of the metric conventions (issue 13): a convention's type
//! and unit decide the PromQL, not the metric's name.

use serde_json::Value;

use crate::support::{demo_manifests, onramp, service_health_plan};

/// `plan -o json` for service-health with these `--signal` mappings.
fn plan(signals: &[&str]) -> Value {
    let extra: Vec<&str> = signals.iter().flat_map(|s| ["--signal", *s]).collect();
    service_health_plan(&extra)
}

fn panel_expr(plan: &Value, title: &str) -> String {
    plan["needs"][0]["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .find(|q| q["panel"] == title)
        .unwrap_or_else(|| panic!("no panel {title}"))["expr"]
        .as_str()
        .expect("expr")
        .to_string()
}

#[test]
fn a_gauge_named_like_a_counter_stopped_the_plan() {
    // Micrometer's in-flight gauge ends in _count; it is read as the gauge it is.
    let plan = plan(&["inflight=http_server_requests_active_seconds_active_count"]);
    assert_eq!(
        panel_expr(&plan, "Requests in flight"),
        r#"sum(http_server_requests_active_seconds_active_count{namespace="shop",job="checkout"})"#
    );
}

#[test]
fn a_gauge_alternative_was_wrapped_in_rate() {
    let plan = plan(&["cpu=process_cpu_usage"]);
    assert_eq!(
        panel_expr(&plan, "CPU used (cores)"),
        r#"sum by (instance) (avg_over_time(process_cpu_usage{namespace="shop",job="checkout"}[$__rate_interval]))"#
    );
}

#[test]
fn a_milliseconds_histogram_was_read_as_seconds() {
    let plan = plan(&[
        "latency=http_server_duration_ms",
        "duration=http_server_duration_ms",
    ]);
    assert_eq!(
        panel_expr(&plan, "95th percentile latency"),
        r#"histogram_quantile(0.95, sum by (le) (rate(http_server_duration_ms_bucket{namespace="shop",job="checkout"}[$__rate_interval]))) / 1000"#
    );
    assert!(
        panel_expr(&plan, "95th percentile latency by route").starts_with(
            "histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_duration_ms_bucket{"
        ),
        "{}",
        panel_expr(&plan, "95th percentile latency by route")
    );
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().display().to_string();
    let manifests = demo_manifests();
    onramp(&[
        "codify",
        "checkout",
        "-f",
        &manifests,
        "--need",
        "service-health",
        "--signal",
        "latency=http_server_duration_ms",
        "--out",
        &out_dir,
    ])
    .expect_status(0);
    let rules = std::fs::read_to_string(out.path().join("prometheus/rules.yaml")).expect("rules");
    assert!(
        rules.contains(r#"[5m]))) / 1000 > 0.5"#),
        "the alert threshold stays in seconds:\n{rules}"
    );
}

#[test]
fn needs_show_did_not_say_the_type_and_unit_of_each_convention() {
    let run = onramp(&["needs", "show", "service-health"]);
    run.expect_status(0);
    for line in [
        "- histogram http_server_duration_ms {route=http_route} in milliseconds — OpenTelemetry .NET exporter (older HTTP conventions)",
        "- gauge process_cpu_usage — Spring Boot / Micrometer",
        "- counter http_requests_total {method=method, route=handler, status=status} — FastAPI (prometheus-fastapi-instrumentator)",
        "- histogram http_request_duration_highr_seconds in seconds — FastAPI",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
}
