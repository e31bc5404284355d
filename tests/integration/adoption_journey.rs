//! The platform engineer's loop on one app, end to end: `onramp adoption`
//! says the demo shop's checkout is not onboarded and names the command;
//! that command (`onramp apply`) writes its objects into the cluster (the
//! stand-in or the real API server); a real Prometheus scrapes the real shop
//! process and loads the rules of the PrometheusRule `apply` wrote, as the
//! Operator would; and `onramp adoption` run again places checkout on the
//! level its evidence earns, saying what still stops it.

use std::time::{Duration, Instant};

use serde_json::Value;

use onramp::client::prometheus::RuleHealth;

use crate::support::Run;
use crate::support::cluster::{Cluster, on_both};
use crate::support::kube::Scenario;
use crate::support::prometheus::{PrometheusOptions, PrometheusServer};
use crate::support::shop::Shop;

/// `onramp adoption -n shop --prometheus-url URL -o json`, parsed.
fn adoption(cluster: &Cluster, prometheus: &PrometheusServer) -> (Run, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let url = prometheus.url();
    let run = cluster.run(
        dir.path(),
        &[
            "adoption",
            "-n",
            "shop",
            "--prometheus-url",
            &url,
            "-o",
            "json",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("adoption's JSON: {e}\n{}\n{}", run.stdout, run.stderr));
    (run, report)
}

/// The report's line for checkout.
fn checkout(report: &Value) -> &Value {
    report["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["app"] == "shop/deployment/checkout")
        .unwrap_or_else(|| panic!("checkout in {report:#}"))
}

/// What the Operator does with a PrometheusRule: its groups become a rule
/// file of the Prometheus that selects it.
fn load_rules_as_the_operator_would(cluster: &Cluster, prometheus: &PrometheusServer) {
    let rule = cluster
        .object(
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            "shop",
            "checkout",
        )
        .expect("apply wrote the PrometheusRule");
    let groups = serde_json::json!({"groups": rule["spec"]["groups"]});
    let yaml = serde_saphyr::to_string(&groups).expect("rules as YAML");
    prometheus.write_rules("shop-checkout", &yaml);
    prometheus.reload();
}

/// Waits until Prometheus has scraped the shop and evaluated checkout's
/// rules as last written: every rule's runbook starting with `runbook`.
fn wait_for_evidence(prometheus: &PrometheusServer, runbook: &str) {
    let evaluated = || {
        let groups = prometheus.rules();
        let rules: Vec<_> = groups.iter().flat_map(|g| &g.rules).collect();
        !rules.is_empty()
            && rules.iter().all(|r| {
                r.health == RuleHealth::Ok
                    && r.annotations
                        .get("runbook_url")
                        .is_none_or(|url| url.starts_with(runbook))
            })
    };
    let scraped = || {
        let rate = r#"sum(rate(http_requests_total{namespace="shop",job="checkout"}[1m])) > 0"#;
        !prometheus.query(rate).is_empty()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(scraped() && evaluated()) {
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape the shop and evaluate its rules in 60 s:\n{}",
            prometheus.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn checkout_climbed_from_not_onboarded_once_the_command_adoption_named_was_run(cluster: &Cluster) {
    let shop = Shop::start(4, Duration::from_millis(100));
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    // Scraped as onramp's ServiceMonitor labels the target: the app's
    // namespace, and its name as the job.
    prometheus.write_target(
        "shop-checkout",
        &shop.address(),
        &[("namespace", "shop"), ("job", "checkout")],
    );
    prometheus.reload();

    let (before, report) = adoption(cluster, &prometheus);
    before.expect_status(0);
    let app = checkout(&report);
    assert_eq!(app["level"], 0, "{app:#}");
    assert_eq!(app["next"], "onramp onboard checkout -n shop", "{app:#}");

    // The command an engineer runs for it, here with the demo's manifests
    // and the label this Prometheus selects by.
    let dir = tempfile::tempdir().expect("temp dir");
    apply(cluster, dir.path());
    load_rules_as_the_operator_would(cluster, &prometheus);
    wait_for_evidence(&prometheus, "runbook.md#");

    // Scraped, but its alerts link to a runbook nobody can open yet.
    let (after, report) = adoption(cluster, &prometheus);
    after.expect_status(0);
    let app = checkout(&report);
    assert_eq!(app["level"], 1, "{app:#}");
    assert_eq!(passed(app), ["target", "target", "rules"], "{app:#}");
    let stops = app["stops"].as_str().expect("what stops it");
    assert!(
        stops.starts_with("alert(s) without a runbook_url a person can open: CheckoutHighErrorRate (runbook.md#checkouthigherrorrate)")
            && stops.ends_with("; publish the runbook and set runbook_base_url in onramp.yaml, then apply"),
        "{stops}"
    );
    assert_eq!(app["next"], "onramp apply checkout -n shop");

    // What the stop says: the runbook's address in onramp.yaml, then apply.
    std::fs::write(
        dir.path().join("onramp.yaml"),
        "runbook_base_url: https://git.example.com/shop/blob/main/observability/checkout/runbook.md\n",
    )
    .expect("write onramp.yaml");
    apply(cluster, dir.path());
    load_rules_as_the_operator_would(cluster, &prometheus);
    wait_for_evidence(&prometheus, "https://git.example.com/shop/");

    // Alerted; the troubleshooting need's Kubernetes signals have no series
    // (this Prometheus scrapes no kube-state-metrics or cAdvisor).
    let (last, report) = adoption(cluster, &prometheus);
    last.expect_status(0);
    let app = checkout(&report);
    assert_eq!(app["level"], 2, "{app:#}");
    assert_eq!(
        passed(app),
        ["target", "target", "rules", "alert", "panel"],
        "{app:#}"
    );
    assert_eq!(
        app["stops"],
        "need troubleshooting: signal available has no series (kube_deployment_status_replicas_available)"
    );
    // Nothing to add to the app: the series come from kube-state-metrics.
    assert_eq!(
        app["next"],
        "have the cluster's Prometheus scrape it: Comes from kube-state-metrics; nothing to add to the app"
    );
    let answered: Vec<(&str, bool)> = app["needs"]
        .as_array()
        .expect("needs")
        .iter()
        .map(|n| (n["need"].as_str().expect("need"), n["answered"] == true))
        .collect();
    assert_eq!(
        answered,
        [
            ("feature-flag-engagement", true),
            ("service-health", true),
            ("troubleshooting", false)
        ]
    );
}

/// `onramp apply checkout` of the demo's manifests into the cluster, run
/// in `dir` (where an onramp.yaml may be), as kube_apply's tests run it.
fn apply(cluster: &Cluster, dir: &std::path::Path) {
    let manifests = crate::support::repo_path("examples/shop/k8s/checkout.yaml");
    let source = ["-f", manifests.to_str().expect("utf-8"), "--cluster"];
    crate::kube_apply::apply_in(cluster, dir, &cluster.kubeconfig(), &source, &[]).expect_status(0);
}

/// The categories of an app's passed checks, in order.
fn passed(app: &Value) -> Vec<&str> {
    app["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "pass")
        .filter_map(|c| c["category"].as_str())
        .collect()
}
on_both!(
    prometheus;
    checkout_climbed_from_not_onboarded_once_the_command_adoption_named_was_run,
    Scenario::KubePrometheusStack
);
