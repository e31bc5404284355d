//! App discovery on real-world-shaped manifests: where the metrics are, and
//! whether a ServiceMonitor or a PodMonitor scrapes them.

use serde_json::Value;

use crate::support::{fixture, onramp, onramp_in, read};

fn plan_json(args: &[&str]) -> Value {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    let run = onramp(&all);
    run.expect_status(0);
    serde_json::from_str(&run.stdout).expect("plan JSON parses")
}

fn artifact<'a>(plan: &'a Value, path: &str) -> Option<&'a Value> {
    plan["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .find(|a| a["path"] == path)
}

#[test]
fn metrics_port_only_on_the_pod_gives_a_podmonitor() {
    let plan = plan_json(&["podinfo", "-f", &fixture("podinfo.yaml")]);
    let monitor = artifact(&plan, "podmonitor.yaml").expect("a PodMonitor");
    assert_eq!(monitor["kind"], "PodMonitor");
    assert!(artifact(&plan, "servicemonitor.yaml").is_none());
    let why = plan["metrics"].as_str().expect("reason");
    assert!(
        why.contains("http-metrics (9797)") && why.contains("no Service exposes that port"),
        "{why}"
    );
}

#[test]
fn the_podmonitor_names_the_container_port() {
    let dir = crate::support::codify_app("podinfo", &fixture("podinfo.yaml"), &[]);
    let docs = crate::support::yaml_documents(&read(dir.path().join("podmonitor.yaml")));
    let endpoint = &docs[0]["spec"]["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"], "http-metrics");
    assert_eq!(
        docs[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "podinfo"
    );
    assert_eq!(docs[0]["spec"]["namespaceSelector"]["matchNames"][0], "web");
}

#[test]
fn several_containers_pick_the_one_with_the_metrics_port() {
    let plan = plan_json(&["orders", "-f", &fixture("multi-container.yaml")]);
    let why = plan["metrics"].as_str().expect("reason");
    assert!(
        why.contains("on container orders")
            && why.contains("Service orders exposes it as port metrics"),
        "{why}"
    );
    assert_eq!(
        artifact(&plan, "servicemonitor.yaml").expect("ServiceMonitor")["kind"],
        "ServiceMonitor"
    );
}

#[test]
fn unnamed_ports_use_the_annotation_and_target_port() {
    let dir = crate::support::codify_app("ledger", &fixture("unnamed-ports.yaml"), &[]);
    let docs = crate::support::yaml_documents(&read(dir.path().join("servicemonitor.yaml")));
    let endpoint = &docs[0]["spec"]["endpoints"][0];
    assert_eq!(endpoint["targetPort"], 8000);
    assert!(endpoint["port"].is_null());
    assert_eq!(endpoint["path"], "/internal/metrics");
    // A StatefulSet's pods are NAME-ORDINAL.
    let troubleshooting = read(dir.path().join("dashboards/troubleshooting.json"));
    assert!(
        troubleshooting.contains(r#"pod=~\"ledger-[0-9]+\""#),
        "StatefulSet pod regex"
    );
}

#[test]
fn a_grpc_service_without_metrics_gets_no_scrape_object_and_an_explanation() {
    let run = onramp(&["plan", "pricing", "-f", &fixture("grpc-no-metrics.yaml")]);
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("no metrics endpoint found for deployment/pricing"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--metrics-port"),
        "says what to do: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("skipped service-health"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("servicemonitor.yaml") && !run.stdout.contains("podmonitor.yaml"));
    let plan = plan_json(&["pricing", "-f", &fixture("grpc-no-metrics.yaml")]);
    let ids = crate::support::plan_need_ids(&plan);
    assert_eq!(
        ids,
        vec!["troubleshooting"],
        "only the need that works from kube-state-metrics"
    );
}

#[test]
fn asking_for_a_need_that_cannot_work_without_metrics_fails() {
    let run = onramp(&[
        "plan",
        "pricing",
        "-f",
        &fixture("grpc-no-metrics.yaml"),
        "--need",
        "service-health",
    ]);
    run.expect_status(2);
    assert!(
        run.stderr
            .contains(r#"need "service-health" cannot work for deployment/pricing"#),
        "{}",
        run.stderr
    );
}

#[test]
fn metrics_port_flag_overrides_inference() {
    let plan = plan_json(&[
        "pricing",
        "-f",
        &fixture("grpc-no-metrics.yaml"),
        "--metrics-port",
        "50051",
        "--metrics-path",
        "/stats",
    ]);
    assert!(
        plan["metrics"]
            .as_str()
            .expect("reason")
            .contains("from --metrics-port")
    );
    // The Service exposes the port but has no labels to select it by.
    assert!(artifact(&plan, "podmonitor.yaml").is_some());
    let notes = plan["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("Service pricing has no labels"))),
        "{notes:?}"
    );
}

#[test]
fn helm_template_output_with_comments_works_from_stdin() {
    let text = read(fixture("helm-rendered.yaml"));
    let run = onramp_in(
        None,
        &["plan", "cart", "-n", "shop", "-f", "-", "--output", "json"],
        Some(&text),
    );
    run.expect_status(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(plan["app"], "shop/cart");
    assert!(
        plan["metrics"]
            .as_str()
            .expect("reason")
            .contains("Service cart exposes it as port http-metrics")
    );
}

#[test]
fn a_name_in_two_namespaces_needs_a_namespace() {
    let run = onramp(&["plan", "api", "-f", &fixture("two-namespaces.yaml")]);
    run.expect_status(2);
    assert!(
        run.stderr.contains("deployment/api in namespace staging"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("deployment/api in namespace production"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("-n NAMESPACE"), "{}", run.stderr);
    let plan = plan_json(&[
        "api",
        "-n",
        "production",
        "-f",
        &fixture("two-namespaces.yaml"),
    ]);
    assert_eq!(plan["app"], "production/api");
}

#[test]
fn a_daemonset_is_found_by_kind() {
    let plan = plan_json(&[
        "daemonset/node-agent",
        "-f",
        &fixture("two-namespaces.yaml"),
    ]);
    assert_eq!(plan["workload"], "daemonset/node-agent");
}

#[test]
fn an_unknown_app_lists_the_apps_that_exist() {
    let run = onramp(&["plan", "checkout", "-f", &fixture("two-namespaces.yaml")]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(r#"no workload "checkout""#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("daemonset/node-agent (namespace monitoring)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_signal_mapped_to_another_convention_changes_metric_and_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().display().to_string();
    let demo = crate::support::demo_manifests();
    onramp(&[
        "codify",
        "checkout",
        "-f",
        &demo,
        "--out",
        &out,
        "--need",
        "service-health",
        "--signal",
        "requests=http_server_requests_seconds_count",
    ])
    .expect_status(0);
    let d = read(dir.path().join("dashboards/service-health.json"));
    assert!(d.contains(r#"sum by (uri) (rate(http_server_requests_seconds_count{namespace=\"shop\",job=\"checkout\"}"#), "Spring labels follow the alternative");
    assert!(!d.contains("http_requests_total"));
}

#[test]
fn the_demo_flags_configmap_carries_the_shops_flags_file() {
    let docs = crate::support::yaml_documents(&read(crate::support::repo_path(
        "examples/shop/k8s/flags.yaml",
    )));
    let in_cluster: Value =
        serde_json::from_str(docs[0]["data"]["flags.json"].as_str().expect("flags.json"))
            .expect("JSON");
    let local: Value =
        serde_json::from_str(&read(crate::support::repo_path("examples/shop/flags.json")))
            .expect("JSON");
    assert_eq!(
        in_cluster, local,
        "examples/shop/k8s/flags.yaml drifted from examples/shop/flags.json"
    );
}
