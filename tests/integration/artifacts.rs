//! The artifacts of the demo app against the real tools: conformance to the
//! Prometheus Operator CRD schemas (`../shared/reference/crds/`) and every
//! dashboard query read by Prometheus' own promtool. The rest of the
//! artifacts' checks need nothing: `tests/offline/artifacts.rs`.

use serde_json::Value;

use crate::support::prometheus::on_both_prometheus;
use crate::support::{codify_demo, crd, fixture, read, yaml_documents};

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn monitors_and_rules_conform_to_the_operator_crds() {
    let demo = codify_demo(&[]);
    let podinfo = crate::support::codify_app("podinfo", &fixture("podinfo.yaml"), &[]);
    let ledger = crate::support::codify_app("ledger", &fixture("unnamed-ports.yaml"), &[]);
    for (path, crd_file, kind) in [
        (
            demo.path().join("servicemonitor.yaml"),
            "monitoring.coreos.com_servicemonitors.yaml",
            "ServiceMonitor",
        ),
        (
            ledger.path().join("servicemonitor.yaml"),
            "monitoring.coreos.com_servicemonitors.yaml",
            "ServiceMonitor",
        ),
        (
            podinfo.path().join("podmonitor.yaml"),
            "monitoring.coreos.com_podmonitors.yaml",
            "PodMonitor",
        ),
        (
            demo.path().join("prometheusrule.yaml"),
            "monitoring.coreos.com_prometheusrules.yaml",
            "PrometheusRule",
        ),
    ] {
        let docs = yaml_documents(&read(&path));
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["kind"], kind);
        assert_eq!(docs[0]["apiVersion"], "monitoring.coreos.com/v1");
        let errors = crd::validate(&crd::schema(crd_file), &docs[0]);
        assert!(
            errors.is_empty(),
            "{} violates {crd_file}:\n{}",
            path.display(),
            errors.join("\n")
        );
    }
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn the_crd_validator_catches_a_wrong_field() {
    let schema = crd::schema("monitoring.coreos.com_servicemonitors.yaml");
    let bad: Value = serde_json::json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": 8080, "pathh": "/metrics"}]}
    });
    let errors = crd::validate(&schema, &bad);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(".spec.endpoints[0]: ") && e.contains("'pathh' was unexpected")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(".spec.endpoints[0].port: ") && e.contains("\"string\"")),
        "{errors:?}"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn the_crd_validator_checks_patterns_and_minimums() {
    let schema = crd::schema("monitoring.coreos.com_servicemonitors.yaml");
    let bad: Value = serde_json::json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {},
            "sampleLimit": -1,
            "endpoints": [{"port": "metrics", "interval": "5 minutes", "scheme": "ftp"}]
        }
    });
    let errors = crd::validate(&schema, &bad);
    for (path, words) in [
        (".spec.endpoints[0].interval: ", "does not match"),
        (".spec.sampleLimit: ", "minimum"),
        (".spec.endpoints[0].scheme: ", "\"https\""),
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(path) && e.contains(words)),
            "{path} {words}: {errors:#?}"
        );
    }
}

/// Every PromQL query of a dashboard: panel targets and annotation queries
/// (template variables' `label_values(…)` is Grafana's syntax, not PromQL).
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    let targets = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["expr"].as_str());
    let annotations = dashboard["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["expr"].as_str());
    targets.chain(annotations).map(str::to_string).collect()
}

/// Interpolates Grafana's variables as Grafana would before Prometheus sees
/// the query: the interval variables become durations, the others a value.
fn interpolate(expr: &str) -> String {
    let mut out = expr.to_string();
    for interval in ["$__rate_interval", "$__interval", "$__range"] {
        out = out.replace(interval, "5m");
    }
    let mut result = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '{')
        {
            while chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || matches!(n, '_' | '{' | '}'))
            {
                chars.next();
            }
            result.push_str("value");
        } else {
            result.push(c);
        }
    }
    result
}

on_both_prometheus! {
    fn every_dashboard_query_parses_with_prometheus_own_promtool(version) {
        let dir = codify_demo(&[]);
        let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
        let mut count = 0;
        for need in [
            "service-health",
            "troubleshooting",
            "feature-flag-engagement",
        ] {
            let text = read(dir.path().join(format!("dashboards/{need}.json")));
            let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON parses");
            let queries = dashboard_queries(&dashboard);
            assert!(!queries.is_empty(), "{need} has no queries");
            for query in queries {
                count += 1;
                let expr = serde_json::to_string(&interpolate(&query)).expect("a JSON string");
                rules.push_str(&format!(
                    "      - record: onramp:dashboard_query_{count}\n        expr: {expr}\n"
                ));
            }
        }
        let file = dir.path().join("dashboard-queries.rules.yaml");
        std::fs::write(&file, &rules).expect("rules file written");
        let out = std::process::Command::new(version.tool("promtool"))
            .args(["check", "rules"])
            .arg(&file)
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool refuses a dashboard query:\n{}\n{}\n{rules}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("SUCCESS: {count} rules found")),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
