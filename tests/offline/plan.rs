//! `onramp plan`: a readable summary, and JSON for machines.

use serde_json::Value;

use crate::support::{demo_manifests, onramp};

#[test]
fn plan_summarises_endpoint_needs_signals_and_artifacts() {
    let run = onramp(&["plan", "checkout", "-f", &demo_manifests()]);
    run.expect_status(0);
    let out = &run.stdout;
    assert!(
        out.starts_with("Plan for deployment/checkout in namespace shop"),
        "{out}"
    );
    assert!(
        out.contains("port http (8080) from the prometheus.io/port annotation"),
        "{out}"
    );
    assert!(out.contains("service-health — Service health: 12 panels, alerts CheckoutHighErrorRate, CheckoutHighLatency"), "{out}");
    assert!(out.contains("servicemonitor.yaml"), "{out}");
    assert!(
        out.contains("release: <helm release>"),
        "warns about the release label trap: {out}"
    );
}

#[test]
fn plan_json_lists_artifacts_with_identities() {
    let run = onramp(&["plan", "checkout", "-f", &demo_manifests(), "-o", "json"]);
    run.expect_status(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("json");
    let artifacts = plan["artifacts"].as_array().expect("artifacts");
    assert_eq!(artifacts.len(), 10);
    let dashboards: Vec<&Value> = artifacts
        .iter()
        .filter(|a| a["type"] == "dashboard")
        .collect();
    assert_eq!(dashboards.len(), 3);
    assert!(
        dashboards
            .iter()
            .all(|d| d["uid"].as_str().is_some_and(|u| u.len() <= 40))
    );
    let rule = artifacts
        .iter()
        .find(|a| a["kind"] == "PrometheusRule")
        .expect("rule");
    assert_eq!(rule["namespace"], "shop");
    assert_eq!(rule["names"][0], "checkout");
}

#[test]
fn plan_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifests = crate::support::repo_path(&demo_manifests())
        .display()
        .to_string();
    crate::support::onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", &manifests],
        None,
    )
    .expect_status(0);
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn onramp_yaml_settings_shape_the_artifacts() {
    let dir = crate::support::dir_with(
        "onramp.yaml",
        "labels: {release: kps}\nrunbook_base_url: https://git.example.com/runbook.md\nneeds: [service-health]\nsignals: {requests.route: handler}\ngrafana: {datasource: Prom (EU), folder: Shop}\n",
    );
    let out = dir.path().join("out").display().to_string();
    let manifests = crate::support::repo_path(&demo_manifests())
        .display()
        .to_string();
    crate::support::onramp_in(
        Some(dir.path()),
        &["codify", "checkout", "-f", &manifests, "--out", &out],
        None,
    )
    .expect_status(0);
    let read = |f: &str| crate::support::read(dir.path().join("out").join(f));
    assert!(read("servicemonitor.yaml").contains("release: kps"));
    assert!(
        read("prometheusrule.yaml")
            .contains("runbook_url: https://git.example.com/runbook.md#checkouthigherrorrate")
    );
    assert!(
        !dir.path()
            .join("out/dashboards/troubleshooting.json")
            .exists(),
        "only the needs listed"
    );
    let dashboard: Value =
        serde_json::from_str(&read("dashboards/service-health.json")).expect("json");
    assert_eq!(
        dashboard["templating"]["list"][0]["regex"],
        r"/^Prom \(EU\)$/"
    );
    assert!(
        dashboard.to_string().contains("sum by (handler)"),
        "the label mapping from onramp.yaml"
    );
    assert!(read("grafana-dashboards.yaml").contains("grafana_folder: Shop"));
}

#[test]
fn help_matches_its_snapshot() {
    let run = onramp(&["--help"]);
    run.expect_status(0);
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("help", run.stdout);
    });
}

#[test]
fn no_app_plan_took_the_platform_adoption_need_and_naming_it_for_an_app_was_refused() {
    let run = onramp(&["plan", "checkout", "-f", &demo_manifests(), "-o", "json"]);
    run.expect_status(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("json");
    let needs = crate::support::plan_need_ids(&plan);
    assert_eq!(
        needs,
        [
            "service-health",
            "troubleshooting",
            "feature-flag-engagement"
        ]
    );
    assert!(
        !run.stdout.contains("platform-adoption") && !run.stdout.contains("onramp_adoption_level"),
        "{}",
        run.stdout
    );
    let refused = onramp(&[
        "plan",
        "checkout",
        "-f",
        &demo_manifests(),
        "--need",
        "platform-adoption",
    ]);
    refused.expect_status(2);
    assert!(
        refused.stderr.contains(
            "need \"platform-adoption\" is the platform's (scope: platform), not an app's: `onramp adoption --dashboard --out DIR` writes its dashboard; an app's needs are: service-health, troubleshooting, feature-flag-engagement"
        ),
        "{}",
        refused.stderr
    );
}
