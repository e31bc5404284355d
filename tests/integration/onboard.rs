//! `onramp onboard` end to end: the demo shop from nothing to scraped,
//! dashboarded, codified and verified, against the Kubernetes and Grafana
//! stand-ins and a real Prometheus scraping the real shop. No Operator runs
//! here, so the test plays its part: once onramp has applied the
//! ServiceMonitor, Prometheus scrapes the shop with the labels the monitor
//! gives its series; once the PrometheusRule is there, its groups are
//! loaded as the Operator's reloader would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::cluster::{Cluster, Target, assert_refused, on_both};
use crate::support::grafana::{EDITOR_TOKEN, GrafanaStandIn};
use crate::support::kube::{Scenario, Standin};
use crate::support::prometheus::{PrometheusOptions, PrometheusServer};
use crate::support::shop::Shop;
use crate::support::{Run, read};

/// What the Operator would do with onramp's objects, until `done`.
fn play_the_operator(
    standin: &Standin,
    prometheus: &PrometheusServer,
    shop: &Shop,
    done: &AtomicBool,
) {
    let stored = |kind: &str| standin.object("monitoring.coreos.com/v1", kind, "shop", "checkout");
    operate(&stored, prometheus, shop, done);
}

/// The Operator's part, reading onramp's objects through `stored(KIND)`:
/// once the ServiceMonitor is there, Prometheus scrapes the shop; each
/// PrometheusRule spec is loaded as the reloader would.
fn operate(
    stored: &(dyn Fn(&str) -> Option<Value> + Sync),
    prometheus: &PrometheusServer,
    shop: &Shop,
    done: &AtomicBool,
) {
    let (mut scraping, mut rules) = (false, None);
    while !done.load(Ordering::SeqCst) {
        if !scraping && stored("ServiceMonitor").is_some() {
            let labels = [
                ("job", "checkout"),
                ("namespace", "shop"),
                ("container", "shop"),
            ];
            prometheus.write_target("checkout", &shop.address(), &labels);
            scraping = true;
        }
        if let Some(spec) = stored("PrometheusRule").map(|r| r["spec"].clone())
            && rules.as_ref() != Some(&spec)
        {
            let yaml = serde_saphyr::to_string(&spec).expect("YAML");
            prometheus.write_rules("checkout", &yaml);
            prometheus.reload();
            rules = Some(spec);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn onboard(
    standin: &Standin,
    prometheus: &PrometheusServer,
    grafana: &GrafanaStandIn,
    out: &str,
) -> Run {
    onboard_with(standin, prometheus, grafana, out, &["--wait", "90s"])
}

/// `onramp onboard checkout -n shop --out OUT ARGS` against the stand-ins.
fn onboard_with(
    standin: &Standin,
    prometheus: &PrometheusServer,
    grafana: &GrafanaStandIn,
    out: &str,
    extra: &[&str],
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    // No --prometheus-url: the cluster's Prometheus, through the API
    // server's service proxy.
    let address = prometheus.address().parse().expect("an address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let grafana_url = grafana.url();
    let args = vec![
        "onboard",
        "checkout",
        "-n",
        "shop",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "--grafana-url",
        &grafana_url,
        "--out",
        out,
    ];
    let args = [&args[..], extra].concat();
    crate::support::kube::run_env(dir.path(), &args, &[("GRAFANA_TOKEN", EDITOR_TOKEN)])
}

#[test]
#[cfg_attr(
    not(all(shared_crds, prometheus)),
    ignore = "needs ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn onboard_takes_the_shop_from_nothing_to_scraped_dashboarded_codified_and_verified() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let shop = Shop::start(2, Duration::from_millis(200));
    let grafana = GrafanaStandIn::start();
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let out = out.to_str().expect("utf-8");
    let done = AtomicBool::new(false);
    let run = std::thread::scope(|scope| {
        scope.spawn(|| play_the_operator(&standin, &prometheus, &shop, &done));
        let run = onboard(&standin, &prometheus, &grafana, out);
        done.store(true, Ordering::SeqCst);
        run
    });
    run.expect_status(0);

    // Read from the cluster, applied with the label its Prometheus selects
    // on — found by asking the cluster, not given.
    let monitor = standin
        .object(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "shop",
            "checkout",
        )
        .expect("the ServiceMonitor");
    assert_eq!(
        monitor["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout"
    );
    // Dashboarded through Grafana's API, so no sidecar ConfigMaps.
    assert!(
        standin
            .object(
                "v1",
                "ConfigMap",
                "shop",
                "checkout-service-health-dashboard"
            )
            .is_none()
    );
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    assert!(grafana.dashboard(&uid).is_some(), "not in Grafana");
    assert_eq!(
        run.stdout_line("checkout · Service health:").trim(),
        format!(
            "checkout · Service health: {}/d/{uid}",
            grafana.url().trim_end_matches('/')
        )
    );
    // Codified: the same files `codify` writes.
    let runbook = std::path::Path::new(out).join("runbook.md");
    assert!(read(&runbook).contains("CheckoutHighErrorRate"));
    assert_eq!(
        run.stdout_line("Runbook:"),
        format!("Runbook: {}", runbook.display())
    );
    let codified = read(std::path::Path::new(out).join("servicemonitor.yaml"));
    assert!(
        codified.contains("release: kube-prometheus-stack"),
        "{codified}"
    );
    // Verified against the real Prometheus.
    assert!(run.stdout_line("PASSED: ").contains(" 0 failed"));
    assert!(
        run.stdout_line("pass  rules").contains("shop.checkout."),
        "the rules were not loaded"
    );
    // The shop exports every signal a need reads.
    assert_eq!(
        run.stdout_line("Missing instrumentation"),
        "Missing instrumentation: none, every signal has series.",
        "{}",
        run.stdout
    );

    // Safe to run again: nothing changes.
    let done = AtomicBool::new(false);
    let again = std::thread::scope(|scope| {
        scope.spawn(|| play_the_operator(&standin, &prometheus, &shop, &done));
        let run = onboard(&standin, &prometheus, &grafana, out);
        done.store(true, Ordering::SeqCst);
        run
    });
    again.expect_status(0);
    assert_eq!(
        again.stdout_line(" ServiceMonitor checkout").trim(),
        "unchanged   ServiceMonitor checkout"
    );
    assert!(
        again.stdout.contains("0 created, 0 updated"),
        "{}",
        again.stdout
    );
}

#[test]
#[cfg_attr(
    not(all(shared_crds, prometheus)),
    ignore = "needs ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn onboard_stops_at_a_conflict_before_codifying_and_exits_1() {
    let standin = Standin::start(Scenario::ForeignMonitor);
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let grafana = GrafanaStandIn::start();
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let run = onboard(
        &standin,
        &prometheus,
        &grafana,
        out.to_str().expect("utf-8"),
    );
    run.expect_status(1);
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "conflict    ServiceMonitor checkout"
    );
    assert!(
        run.stdout
            .contains("Stopped: nothing was codified or verified.")
    );
    assert!(!out.exists(), "codified despite the conflict");
    assert_eq!(grafana.dashboard_count(), 0, "pushed despite the conflict");
}

#[test]
#[cfg_attr(
    not(all(shared_crds, prometheus)),
    ignore = "needs ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn onboard_names_the_instrumentation_a_signal_without_series_needs() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let shop = Shop::start(2, Duration::from_millis(200));
    let grafana = GrafanaStandIn::start();
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let out = out.to_str().expect("utf-8");
    let done = AtomicBool::new(false);
    let extra = [
        "--wait",
        "5s",
        "--need",
        "service-health",
        "--signal",
        "requests=checkout_orders_total",
    ];
    let run = std::thread::scope(|scope| {
        scope.spawn(|| play_the_operator(&standin, &prometheus, &shop, &done));
        let run = onboard_with(&standin, &prometheus, &grafana, out, &extra);
        done.store(true, Ordering::SeqCst);
        run
    });
    run.expect_status(1);
    assert_eq!(
        run.stdout_line("Missing instrumentation"),
        "Missing instrumentation:"
    );
    let line = run.stdout_line("  service-health/requests (checkout_orders_total): ");
    // The need's instrumentation hint for the signal, whole.
    assert!(
        line.contains("`http_requests_total{route, method, status}`"),
        "{line}"
    );
    assert!(std::path::Path::new(out).join("runbook.md").is_file());
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn onboard_dry_run_plans_and_runs_the_servers_dry_run_storing_pushing_and_codifying_nothing() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let grafana = GrafanaStandIn::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("observability");
    let kubeconfig = standin.kubeconfig();
    let grafana_url = grafana.url();
    let run = crate::support::kube::run_env(
        dir.path(),
        &[
            "onboard",
            "checkout",
            "-n",
            "shop",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
            "--grafana-url",
            &grafana_url,
            "--out",
            out.to_str().expect("utf-8"),
            "--dry-run",
        ],
        &[("GRAFANA_TOKEN", EDITOR_TOKEN)],
    );
    run.expect_status(0);
    assert_eq!(
        run.stdout_line("Kubernetes namespace"),
        "Kubernetes namespace shop (context standin, server dry run: nothing stored):"
    );
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout"
    );
    assert_eq!(
        run.stdout_line("Dry run:"),
        format!(
            "Dry run: nothing was stored in the cluster, pushed to Grafana, codified into {} or verified. Run it again without --dry-run to onboard.",
            out.display()
        )
    );
    assert!(!run.stdout.contains("2/4"), "{}", run.stdout);
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        assert_eq!(
            standin.object("monitoring.coreos.com/v1", kind, "shop", "checkout"),
            None,
            "{kind} was stored"
        );
    }
    assert!(
        standin
            .request_log()
            .iter()
            .filter(|r| r.starts_with("PATCH ") || r.starts_with("DELETE "))
            .all(|r| r.contains("dryRun=All")),
        "{:#?}",
        standin.request_log()
    );
    assert!(!out.exists(), "codified into {}", out.display());
    assert_eq!(grafana.dashboard_count(), 0, "a dashboard was pushed");
}

/// `onramp onboard checkout -n shop --out OUT ARGS` as the identity of
/// `kubeconfig` (no Grafana: the dashboards go to the cluster as the
/// sidecar's ConfigMaps).
fn onboard_as(cluster: &Cluster, kubeconfig: &std::path::Path, out: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec![
        "onboard",
        "checkout",
        "-n",
        "shop",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    cluster.run(dir.path(), &args)
}

/// [`onboard_as`] while the Operator's part is played on `cluster`'s
/// objects for `prometheus` and `shop`.
fn onboard_operated(
    cluster: &Cluster,
    kubeconfig: &std::path::Path,
    (prometheus, shop): (&PrometheusServer, &Shop),
    out: &str,
    extra: &[&str],
) -> Run {
    let stored = |kind: &str| cluster.object("monitoring.coreos.com/v1", kind, "shop", "checkout");
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| operate(&stored, prometheus, shop, &done));
        let run = onboard_as(cluster, kubeconfig, out, extra);
        done.store(true, Ordering::SeqCst);
        run
    })
}

fn onboard_works_with_exactly_the_rules_of_onramp_rbac_onboard_and_forbidden_names_verb_and_resource(
    target: Target,
) {
    let roles = crate::kube_apply::printed_roles(&["onboard", "-n", "shop"]);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole", "Role"]);
    assert_eq!(roles[0]["metadata"]["name"], "onramp-onboard");
    assert_eq!(roles[1]["metadata"]["namespace"], "shop");
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&roles);
    // A real Prometheus (the API server's service proxy cannot reach one
    // without kubelets), scraping the shop once the monitor is applied.
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let shop = Shop::start(2, Duration::from_millis(200));
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let out = out.to_str().expect("utf-8");
    let url = prometheus.url();
    let extra = ["--prometheus-url", &url, "--wait", "90s"];
    let run = onboard_operated(&cluster, &granted, (&prometheus, &shop), out, &extra);
    run.expect_status(0);
    for (kind, name) in [
        ("ServiceMonitor", "checkout"),
        ("PrometheusRule", "checkout"),
        ("ConfigMap", "checkout-service-health-dashboard"),
    ] {
        assert_eq!(
            run.stdout_line(&format!(" {kind} {name}")).trim(),
            format!("created     {kind} {name}")
        );
    }
    assert!(
        cluster
            .object(
                "v1",
                "ConfigMap",
                "shop",
                "checkout-service-health-dashboard"
            )
            .is_some(),
        "the dashboard's ConfigMap was not stored"
    );
    assert!(std::path::Path::new(out).join("runbook.md").is_file());
    assert!(
        run.stdout_line("PASSED: ").contains(" 0 failed"),
        "{}",
        run.stdout
    );

    // Without `create` on ConfigMaps the dashboards cannot reach the sidecar.
    let fresh = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = fresh.grant(&crate::kube_apply::without(&roles, "create", "configmaps"));
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let out = folder.path().join("refused");
    let url = prometheus.url();
    let run = onboard_as(
        &fresh,
        &granted,
        out.to_str().expect("utf-8"),
        &["--prometheus-url", &url],
    );
    assert_refused(&run, "create configmaps in namespace shop", "onboard");
    assert!(!out.exists(), "codified despite the refusal");
    assert_eq!(
        fresh.object(
            "v1",
            "ConfigMap",
            "shop",
            "checkout-service-health-dashboard"
        ),
        None
    );
}
on_both!(
    prometheus;
    onboard_works_with_exactly_the_rules_of_onramp_rbac_onboard_and_forbidden_names_verb_and_resource
);

/// A refused service proxy named `onramp rbac plan` whatever the command
/// (onboard, troubleshoot): it must name the role of the command that ran.
fn a_refused_service_proxy_during_onboard_pointed_at_rbac_plan_not_rbac_onboard(target: Target) {
    // No --prometheus-url: verify asks the cluster's Prometheus through the
    // API server's service proxy, which these roles do not allow.
    let roles = crate::kube_apply::printed_roles(&["onboard", "-n", "shop"]);
    let roles = crate::kube_apply::without(&roles, "get", "services/proxy");
    let roles = crate::kube_apply::without(&roles, "create", "services/proxy");
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&roles);
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let run = onboard_as(
        &cluster,
        &granted,
        out.to_str().expect("utf-8"),
        &["--wait", "5s"],
    );
    run.expect_status(4);
    assert!(
        run.stderr
            .contains("the Kubernetes API server refused to proxy to Prometheus at")
            && run.stderr.contains("(HTTP 403: ")
            && run.stderr.contains("onramp rbac onboard"),
        "{}",
        run.stderr
    );
    // Every step before verify got past the cluster.
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout"
    );
    assert!(out.join("runbook.md").is_file());
}
on_both!(a_refused_service_proxy_during_onboard_pointed_at_rbac_plan_not_rbac_onboard);

#[test]
#[cfg_attr(
    any(real_cluster, not(all(shared_crds, prometheus))),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn onboard_through_the_service_proxy_works_with_exactly_the_rules_of_onramp_rbac_onboard_standin_only()
 {
    let roles = crate::kube_apply::printed_roles(&["onboard", "-n", "shop"]);
    let cluster = Cluster::start(Scenario::KubePrometheusStack, Target::StandIn);
    let Some(standin) = cluster.standin() else {
        return; // ONRAMP_TEST_KUBECONFIG: no proxy to point.
    };
    let granted = cluster.grant(&roles);
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let address = prometheus.address().parse().expect("an address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let shop = Shop::start(2, Duration::from_millis(200));
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let out = out.to_str().expect("utf-8");
    let extra = ["--wait", "90s"];
    let run = onboard_operated(&cluster, &granted, (&prometheus, &shop), out, &extra);
    run.expect_status(0);
    assert!(
        run.stdout_line("PASSED: ").contains(" 0 failed"),
        "{}",
        run.stdout
    );
    assert!(
        standin
            .request_log()
            .iter()
            .any(|r| r.contains("/services/prometheus-operated:9090/proxy/")),
        "{:#?}",
        standin.request_log()
    );
}
