//! Regressions of reading the app and its Prometheus from the cluster.

use std::time::{Duration, Instant};

use crate::detect::detect_in;
use crate::support::Run;
use crate::support::cluster::{Cluster, on_both};
use crate::support::kube::{Scenario, Standin};

/// kube's client retries a 503 up to 15 times with a backoff of up to 1000 s;
/// through the service proxy a 503 is the Service's own answer ("no
/// endpoints available"), so `plan` sat for minutes before planning. Since
/// issue 19 the proxy follows the one transport policy: the 3 attempts, a
/// second or so apart, that a request sent to Prometheus directly gets.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_503_through_the_service_proxy_was_retried_for_minutes() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    let started = Instant::now();
    let run = detect_in(
        dir.path(),
        &[
            "plan",
            "checkout",
            "-n",
            "shop",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(0);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "plan took {:?}",
        started.elapsed()
    );
    let proxied = standin
        .request_log()
        .iter()
        .filter(|r| r.contains("/services/prometheus-operated:9090/proxy/"))
        .count();
    assert_eq!(proxied, 3, "{:?}", standin.request_log());
}

/// `troubleshoot` without `--prometheus-url` left Prometheus unchecked even
/// when the cluster runs one: `plan` and `verify` reach it through the API
/// server's service proxy, and so must troubleshoot, with exactly the rules
/// `onramp rbac troubleshoot` prints, saying which way it was reached.
#[test]
#[cfg_attr(
    not(all(shared_crds, prometheus)),
    ignore = "needs ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn troubleshoot_without_a_url_left_the_clusters_prometheus_unchecked() {
    let stack = crate::live::Stack::with_sessions(
        crate::support::prometheus::Version::V2,
        10,
        Duration::from_millis(200),
    );
    stack.apply(&stack.shop.address(), &[]).expect_status(0);
    // The shop scraped once, so the target troubleshoot reads is there.
    let scraped = Instant::now();
    while stack
        .prometheus
        .query("up{namespace=\"shop\",job=\"checkout\"} == 1")
        .is_empty()
    {
        assert!(scraped.elapsed() < Duration::from_secs(60), "never scraped");
        std::thread::sleep(Duration::from_millis(200));
    }
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let address = stack.prometheus.address().parse().expect("an address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let printed = crate::detect::printed_rules_of("troubleshoot");
    standin.set_rbac(crate::detect::as_rules(&printed));
    let run = crate::troubleshoot::troubleshoot(&standin, &["--since", "5m", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}\n{}", run.stdout, run.stderr));
    // Prometheus was asked: what is left unchecked is what needs traffic,
    // never Prometheus as a whole.
    let unchecked = report["not_checked"].as_array().expect("not_checked");
    assert!(
        !unchecked.iter().any(|gap| gap["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("Prometheus"))),
        "{report:#}"
    );
    let checked: Vec<&str> = report["checked"]
        .as_array()
        .expect("checked")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    let reached = format!(
        "Prometheus reached at service monitoring/prometheus-operated:9090 through the Kubernetes API server {} (context standin)",
        standin.url()
    );
    assert!(checked.contains(&reached.as_str()), "{checked:#?}");
    let text = crate::troubleshoot::troubleshoot(&standin, &["--since", "5m"]);
    assert!(text.stdout.contains(&reached), "{}", text.stdout);
    assert!(
        checked.contains(&"scrape targets: 1 of 1 up"),
        "{checked:#?}"
    );
    let proxied = standin
        .request_log()
        .iter()
        .filter(|r| {
            r.contains(
                "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/",
            )
        })
        .count();
    assert!(proxied > 0, "{:?}", standin.request_log());
}

/// Sets the env of the Grafana sidecar container of kube-prometheus-stack
/// to `env` (`NAME`, value), as a chart with other `sidecar.dashboards`
/// values would.
fn set_sidecar_env(standin: &Standin, env: &[(&str, &str)]) {
    let env: Vec<serde_json::Value> = env
        .iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect();
    standin.edit(
        "apps/v1",
        "Deployment",
        "monitoring",
        "kube-prometheus-stack-grafana",
        |d| d["spec"]["template"]["spec"]["containers"][0]["env"] = serde_json::json!(env),
    );
}

/// `onramp apply checkout -n shop --kubeconfig …` in `dir`.
fn apply_from_cluster(standin: &Standin, dir: &std::path::Path) -> Run {
    let kubeconfig = standin.kubeconfig();
    detect_in(
        dir,
        &[
            "apply",
            "checkout",
            "-n",
            "shop",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    )
}

/// `onramp apply checkout -n shop` from the cluster (no Grafana: the
/// dashboards go as sidecar ConfigMaps), in `dir`; the stored ConfigMap of
/// the service-health dashboard.
fn applied_dashboard_config_map(standin: &Standin, dir: &std::path::Path) -> serde_json::Value {
    apply_from_cluster(standin, dir).expect_status(0);
    standin
        .object(
            "v1",
            "ConfigMap",
            "shop",
            "checkout-service-health-dashboard",
        )
        .expect("the dashboard's ConfigMap")
}

/// The dashboards' ConfigMaps always carried `grafana_dashboard: "1"` and
/// `grafana_folder`, so a Grafana sidecar watching another label never
/// loaded them: they must carry the label and folder annotation the
/// cluster's sidecar names, unless onramp.yaml names the label.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn dashboard_config_maps_lacked_the_label_the_clusters_grafana_sidecar_watches() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    set_sidecar_env(
        &standin,
        &[
            ("LABEL", "team_dashboard"),
            ("LABEL_VALUE", "shop"),
            ("FOLDER_ANNOTATION", "k8s-sidecar-target-directory"),
        ],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let config_map = applied_dashboard_config_map(&standin, dir.path());
    let metadata = &config_map["metadata"];
    assert_eq!(metadata["labels"]["team_dashboard"], "shop", "{metadata:#}");
    assert!(
        metadata["labels"].get("grafana_dashboard").is_none(),
        "{metadata:#}"
    );
    assert_eq!(
        metadata["annotations"]["k8s-sidecar-target-directory"], "checkout (shop)",
        "{metadata:#}"
    );

    // onramp.yaml's grafana.sidecar_label wins over the cluster's, as
    // labels: does over the Prometheus selector.
    std::fs::write(
        dir.path().join("onramp.yaml"),
        "grafana:\n  sidecar_label: mine=yes\n",
    )
    .expect("onramp.yaml");
    let config_map = applied_dashboard_config_map(&standin, dir.path());
    let labels = &config_map["metadata"]["labels"];
    assert_eq!(labels["mine"], "yes", "{labels:#}");
    assert!(labels.get("team_dashboard").is_none(), "{labels:#}");
}

/// A dashboard ConfigMap without the label Grafana's sidecar watches is
/// never loaded, and nobody is told: `apply -f … --cluster` (whose labels
/// come from the manifests' defaults) and an onramp.yaml naming another
/// label must say so, naming the sidecar and the label it watches.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_dashboard_config_map_the_sidecar_ignores_was_applied_silently() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    set_sidecar_env(
        &standin,
        &[
            ("LABEL", "team_dashboard"),
            ("LABEL_VALUE", "shop"),
            ("NAMESPACE", "ALL"),
        ],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    let manifests = crate::support::repo().join("examples/shop/k8s/checkout.yaml");
    let run = detect_in(
        dir.path(),
        &[
            "apply",
            "checkout",
            "-f",
            manifests.to_str().expect("utf-8"),
            "--cluster",
            "--label",
            "release=kube-prometheus-stack",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("loads ConfigMaps labelled team_dashboard=shop")
            && run
                .stdout
                .contains("checkout-service-health-dashboard, checkout-troubleshooting-dashboard"),
        "{}",
        run.stdout
    );

    // Read from the cluster, the ConfigMaps carry the watched label: no
    // warning.
    let run = apply_from_cluster(&standin, dir.path());
    run.expect_status(0);
    assert!(!run.stdout.contains("dashboard sidecar"), "{}", run.stdout);

    // A sidecar without NAMESPACE searches only its own namespace (the
    // grafana chart's default, searchNamespace: null): the app's ConfigMaps
    // in shop are never loaded, whatever their labels.
    set_sidecar_env(&standin, &[("LABEL", "grafana_dashboard")]);
    let run = apply_from_cluster(&standin, dir.path());
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("loads ConfigMaps in namespace monitoring only (its NAMESPACE setting), so it would not load the dashboard ConfigMaps in namespace shop")
            && run.stdout.contains("searchNamespace: ALL"),
        "{}",
        run.stdout
    );
}

/// `apply` and `onboard` read the app from the cluster with `plan`'s
/// settings, so a refused read (or write) pointed at `onramp rbac plan`,
/// whose rules cannot write: it must point at the command's own role,
/// `onramp rbac apply` or `onramp rbac onboard`.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_refused_read_during_apply_or_onboard_did_not_point_at_onramp_rbac_apply_or_onboard() {
    let out = tempfile::tempdir().expect("temp dir");
    let out = out.path().join("observability");
    for (rbac, command) in [
        ("apply", vec!["apply", "checkout", "-n", "shop"]),
        (
            "onboard",
            vec![
                "onboard",
                "checkout",
                "-n",
                "shop",
                "--out",
                out.to_str().expect("utf-8"),
            ],
        ),
    ] {
        let without_deployments: Vec<_> = crate::detect::printed_rules_of(rbac)
            .into_iter()
            .filter(|(_, _, resource)| resource != "deployments")
            .collect();
        let standin = Standin::start(Scenario::KubePrometheusStack);
        standin.set_rbac(crate::detect::as_rules(&without_deployments));
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = standin.kubeconfig();
        let mut args = command.clone();
        args.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
        let run = detect_in(dir.path(), &args);
        run.expect_status(4);
        let grant = format!("grant it with: the ClusterRole printed by `onramp rbac {rbac}`");
        assert!(
            run.stderr
                .contains("refused to let onramp get deployments.apps in namespace shop")
                && run.stderr.trim_end().ends_with(&grant),
            "{command:?}: {}",
            run.stderr
        );
    }
}

/// `apply --dry-run` sent its prune as `DELETE …?dryRun=All` with a
/// DeleteOptions body; the real API server reads the options from the body
/// alone when there is one, so the dry run deleted the dashboards it only
/// said it would prune. Found by running against the real kube-apiserver;
/// the stand-in now reads DELETE options as it does.
fn a_dry_run_prune_deleted_the_dashboard_config_maps(cluster: &Cluster) {
    crate::kube_apply::apply(cluster, &[]).expect_status(0);
    let name = "checkout-troubleshooting-dashboard";
    let run = crate::kube_apply::apply(cluster, &["--dry-run", "--need", "service-health"]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line(name).trim(),
        format!("pruned      ConfigMap {name}")
    );
    assert!(
        cluster.object("v1", "ConfigMap", "shop", name).is_some(),
        "the dry run deleted {name}"
    );
}
on_both!(
    a_dry_run_prune_deleted_the_dashboard_config_maps,
    Scenario::KubePrometheusStack
);
