//! The app read from the live cluster (no `-f`), against the Kubernetes
//! stand-in and the real kube-apiserver (`on_both!`): the plan equals the plan of the same app's manifests, monitors
//! and rules carry the labels the cluster's Prometheus selects on, the plan
//! warns when nothing would select them, and Prometheus is reached through
//! the API server's service proxy. Reads stay in the app's namespace.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::detect::detect_in;
use crate::support::cluster::{Cluster, Target, assert_refused, on_both};
use crate::support::kube::{Scenario, Standin};
use crate::support::{Run, demo_manifests, read, yaml_documents};

/// Runs `onramp COMMAND ARGS --kubeconfig K` in a fresh folder (no
/// onramp.yaml, no machine kubeconfig).
fn against(cluster: &Cluster, args: &[&str]) -> Run {
    against_as(cluster, &cluster.kubeconfig(), args)
}

/// [`against`] with the identity of `kubeconfig`.
fn against_as(cluster: &Cluster, kubeconfig: &Path, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
    let run = detect_in(dir.path(), &all);
    cluster.run_checked(run)
}

/// Every file under `dir`, relative path → content, with the `-f` the
/// manifests were read from taken out of the stamps' command lines (an app
/// read from the cluster names no file) and without the stamps' hashes.
fn files_in(dir: &Path, manifests: Option<&str>) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let mut text = read(&path);
            if let Some(file) = manifests {
                text = text.replace(&format!(" -f {file}"), "");
            }
            // The stamps' hashes cover the command line too.
            let text: Vec<&str> = text
                .lines()
                .filter(|l| !l.contains("onramp-sha256:") && !l.trim().starts_with("\"hash\":"))
                .collect();
            let rel = path.strip_prefix(dir).expect("under dir");
            found.insert(rel.display().to_string(), text.join("\n"));
        }
    }
    found
}

/// Every request the stand-in saw that lists pods or events (or anything)
/// across all namespaces (none known off the stand-in).
fn cluster_wide_reads_of_pods_or_events(cluster: &Cluster) -> Vec<String> {
    let Some(standin) = cluster.standin() else {
        return Vec::new();
    };
    standin
        .request_log()
        .into_iter()
        .filter(|r| {
            let path = r.split(['?', ' ']).nth(1).unwrap_or_default();
            path == "/api/v1/pods"
                || path == "/api/v1/events"
                || path == "/apis/events.k8s.io/v1/events"
        })
        .collect()
}

fn plan_from_the_cluster_equals_plan_from_the_shop_manifests(cluster: &Cluster) {
    let label = ["--label", "release=kube-prometheus-stack"];
    let live_out = tempfile::tempdir().expect("temp dir");
    let live_dir = live_out.path().to_str().expect("utf-8");
    let codify = ["codify", "checkout", "-n", "shop", "--out", live_dir];
    against(cluster, &[&codify[..], &label].concat()).expect_status(0);
    let manifests = demo_manifests();
    let files_out = crate::support::codify_app(
        "checkout",
        &manifests,
        &[&["-n", "shop"][..], &label].concat(),
    );
    let from_cluster = files_in(live_out.path(), None);
    let from_files = files_in(files_out.path(), Some(&manifests));
    assert_eq!(
        from_cluster.keys().collect::<Vec<_>>(),
        from_files.keys().collect::<Vec<_>>()
    );
    assert!(from_cluster.contains_key("servicemonitor.yaml"));
    for (path, live) in &from_cluster {
        let differing = live
            .lines()
            .zip(from_files[path].lines())
            .find(|(a, b)| a != b);
        assert_eq!(
            differing, None,
            "{path} differs between the cluster and the manifests"
        );
        assert_eq!(live.len(), from_files[path].len(), "{path}");
    }
    let Some(standin) = cluster.standin() else {
        return;
    };
    assert!(
        cluster_wide_reads_of_pods_or_events(cluster).is_empty(),
        "{:?}",
        standin.request_log()
    );
    assert!(
        standin
            .request_log()
            .iter()
            .any(|r| r.starts_with("GET /apis/apps/v1/namespaces/shop/deployments/checkout")),
        "{:?}",
        standin.request_log()
    );
}
on_both!(
    plan_from_the_cluster_equals_plan_from_the_shop_manifests,
    Scenario::KubePrometheusStack
);

fn an_unknown_app_names_kind_namespace_and_context_and_exits_2(cluster: &Cluster) {
    let run = against(cluster, &["plan", "statefulset/payments", "-n", "shop"]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "no StatefulSet \"payments\" in namespace shop of the cluster at https://127.0.0.1:"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("(context {})", cluster.context())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("deployment/payments or daemonset/payments"),
        "{}",
        run.stderr
    );
}
on_both!(
    an_unknown_app_names_kind_namespace_and_context_and_exits_2,
    Scenario::KubePrometheusStack
);

fn reading_the_app_when_services_are_forbidden_names_the_verb_and_the_rbac_line(target: Target) {
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let only_deployments = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "onramp-deployments", "namespace": "shop"},
        "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}],
    });
    let granted = cluster.grant(&[only_deployments]);
    let run = against_as(&cluster, &granted, &["plan", "checkout", "-n", "shop"]);
    assert_refused(&run, "list services in namespace shop", "plan");
}
on_both!(reading_the_app_when_services_are_forbidden_names_the_verb_and_the_rbac_line);

/// Sets one field of the kube-prometheus-stack Prometheus' spec, as an
/// administrator's edit would.
fn set_prometheus_spec(cluster: &Cluster, key: &str, value: Value) {
    cluster.edit(
        "monitoring.coreos.com/v1",
        "Prometheus",
        "monitoring",
        "kube-prometheus-stack-prometheus",
        |p| p["spec"][key] = value,
    );
}

/// `plan checkout -n shop` from the cluster, as text.
fn plan_text(cluster: &Cluster, extra: &[&str]) -> Run {
    let run = against(
        cluster,
        &[&["plan", "checkout", "-n", "shop"][..], extra].concat(),
    );
    run.expect_status(0);
    run
}

/// The notes of a plan's text output.
fn notes(run: &Run) -> Vec<&str> {
    run.stdout
        .split("\nNotes:\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("  - "))
        .collect()
}

fn kube_prometheus_stack_gives_monitors_and_rules_the_release_label(cluster: &Cluster) {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().to_str().expect("utf-8");
    against(cluster, &["codify", "checkout", "-n", "shop", "--out", dir]).expect_status(0);
    for file in ["servicemonitor.yaml", "prometheusrule.yaml"] {
        let object = &yaml_documents(&read(out.path().join(file)))[0];
        assert_eq!(
            object["metadata"]["labels"]["release"], "kube-prometheus-stack",
            "{file}"
        );
    }
    let run = plan_text(cluster, &[]);
    let notes = notes(&run);
    assert!(
        notes.contains(&"Monitors and rules carry release=kube-prometheus-stack: the cluster's Prometheus monitoring/kube-prometheus-stack-prometheus selects them by it (read from the cluster; --label or labels: in onramp.yaml override it)."),
        "{notes:#?}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("would be ignored") || n.contains("No Prometheus selector labels")),
        "{notes:#?}"
    );
    assert!(cluster_wide_reads_of_pods_or_events(cluster).is_empty());
}
on_both!(
    kube_prometheus_stack_gives_monitors_and_rules_the_release_label,
    Scenario::KubePrometheusStack
);

fn a_label_the_prometheus_does_not_select_is_named_with_the_label_it_needs(cluster: &Cluster) {
    let run = plan_text(cluster, &["--label", "release=prod"]);
    let notes = notes(&run);
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        let expected = format!(
            "monitoring/kube-prometheus-stack-prometheus selects {kind}s with release=kube-prometheus-stack, and {kind} shop/checkout does not match, so it would be ignored; add --label release=kube-prometheus-stack"
        );
        assert!(notes.contains(&expected.as_str()), "{notes:#?}");
    }
}
on_both!(
    a_label_the_prometheus_does_not_select_is_named_with_the_label_it_needs,
    Scenario::KubePrometheusStack
);

fn a_namespace_the_prometheus_does_not_watch_is_a_warning_naming_the_selector(cluster: &Cluster) {
    let watched = serde_json::json!({"matchLabels": {"monitoring": "enabled"}});
    set_prometheus_spec(cluster, "serviceMonitorNamespaceSelector", watched.clone());
    set_prometheus_spec(cluster, "ruleNamespaceSelector", watched);
    let run = plan_text(cluster, &[]);
    let notes = notes(&run);
    for kind in ["ServiceMonitor", "PrometheusRule"] {
        let expected = format!(
            "monitoring/kube-prometheus-stack-prometheus watches {kind}s only in namespaces labelled monitoring=enabled, and namespace shop is not; label it: kubectl label namespace shop monitoring=enabled, so it would ignore {kind} shop/checkout"
        );
        assert!(notes.contains(&expected.as_str()), "{notes:#?}");
    }
    if let Some(standin) = cluster.standin() {
        assert_eq!(standin.requests_to("/api/v1/namespaces/shop"), 1);
    }
}
on_both!(
    a_namespace_the_prometheus_does_not_watch_is_a_warning_naming_the_selector,
    Scenario::KubePrometheusStack
);

fn without_the_operator_the_plan_has_no_monitors_and_points_at_plain_prometheus(cluster: &Cluster) {
    let run = plan_text(cluster, &[]);
    for absent in [
        "servicemonitor.yaml",
        "podmonitor.yaml",
        "prometheusrule.yaml",
    ] {
        assert!(!run.stdout.contains(absent), "{absent}:\n{}", run.stdout);
    }
    for present in ["prometheus/scrape-config.yaml", "prometheus/rules.yaml"] {
        assert!(run.stdout.contains(present), "{present}:\n{}", run.stdout);
    }
    let notes = notes(&run);
    let note = notes
        .iter()
        .find(|n| n.starts_with("The cluster has no Prometheus Operator"))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(
        note.contains("onramp apply deployment/checkout -n shop --prometheus-config-dir DIR"),
        "{note}"
    );
    assert!(
        note.contains(
            "The pods already carry prometheus.io/scrape: \"true\", port 8080, path /metrics"
        ),
        "{note}"
    );
    assert!(
        !notes
            .iter()
            .any(|n| n.contains("No Prometheus selector labels")),
        "{notes:#?}"
    );
}
on_both!(
    without_the_operator_the_plan_has_no_monitors_and_points_at_plain_prometheus,
    Scenario::NoOperator
);

#[test]
#[cfg_attr(
    any(real_cluster, not(all(shared_crds, prometheus))),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
fn verify_without_a_url_reaches_the_real_prometheus_through_the_service_proxy_standin_only() {
    let stack = crate::live::Stack::with_sessions(
        crate::support::prometheus::Version::V2,
        10,
        std::time::Duration::from_millis(200),
    );
    stack.apply(&stack.shop.address(), &[]).expect_status(0);
    let cluster = Cluster::StandIn(Standin::start(Scenario::KubePrometheusStack));
    let standin = cluster.standin().expect("the stand-in");
    let address = stack.prometheus.address().parse().expect("an address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let run = against(
        &cluster,
        &["verify", "checkout", "-n", "shop", "--wait", "60s"],
    );
    run.expect_status(0);
    assert!(
        run.stdout.starts_with(&format!(
            "verify shop/checkout against service monitoring/prometheus-operated:9090 through the Kubernetes API server {} (context standin)",
            standin.url()
        )),
        "{}",
        run.stdout
    );
    let proxied = standin
        .request_log()
        .into_iter()
        .filter(|r| {
            r.contains(
                "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/",
            )
        })
        .count();
    assert!(proxied > 0, "{:?}", standin.request_log());
    assert!(
        cluster_wide_reads_of_pods_or_events(&cluster).is_empty(),
        "{:?}",
        standin.request_log()
    );

    let json = plan_text(&cluster, &["-o", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).expect("plan -o json");
    assert_eq!(
        json["prometheus"]["reached_via"],
        format!(
            "service monitoring/prometheus-operated:9090 through the Kubernetes API server {} (context standin)",
            standin.url()
        )
    );
    assert_eq!(json["prometheus"]["consulted"], true);
    let plan = plan_text(&cluster, &[]);
    assert!(
        plan.stdout.contains(&format!(
            "Prometheus service monitoring/prometheus-operated:9090 through the Kubernetes API server {} (context standin) was consulted for namespace=\"shop\", job=\"checkout\"",
            standin.url()
        )),
        "{}",
        plan.stdout
    );
}

fn plan_says_when_the_clusters_prometheus_cannot_be_asked_and_plans_without_it(cluster: &Cluster) {
    // No proxy target: the API server answers 503, no endpoints.
    let run = plan_text(cluster, &[]);
    let notes = notes(&run);
    assert!(
        notes.iter().any(|n| n.starts_with(
            "Prometheus (service monitoring/prometheus-operated:9090 through the Kubernetes API server"
        ) && n.contains("could not be asked for the app's metric names")
            && n.contains("503")),
        "{notes:#?}"
    );
}
on_both!(
    plan_says_when_the_clusters_prometheus_cannot_be_asked_and_plans_without_it,
    Scenario::KubePrometheusStack
);

fn plan_from_the_cluster_works_with_exactly_the_rules_onramp_rbac_plan_prints(target: Target) {
    let printed = crate::detect::printed_rules_of("plan");
    let resources: Vec<(&str, &str, Vec<&str>)> = printed
        .iter()
        .map(|(verbs, group, resource)| {
            (
                group.as_str(),
                resource.as_str(),
                verbs.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    for wanted in [
        ("apps", "deployments", vec!["get", "list"]),
        ("", "namespaces", vec!["get"]),
        ("", "services", vec!["get", "list"]),
        ("", "services/proxy", vec!["create", "get"]),
    ] {
        assert!(resources.contains(&wanted), "{wanted:?} in {resources:?}");
    }
    assert!(
        !resources
            .iter()
            .any(|(_, r, _)| *r == "pods" || *r == "events")
    );
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    set_prometheus_spec(
        &cluster,
        "ruleNamespaceSelector",
        serde_json::json!({"matchLabels": {"kubernetes.io/metadata.name": "shop"}}),
    );
    let granted = cluster.grant(&crate::kube_apply::printed_roles(&["plan"]));
    let run = against_as(&cluster, &granted, &["plan", "checkout", "-n", "shop"]);
    run.expect_status(0);
    assert!(
        !notes(&run).iter().any(|n| n.contains("would ignore")),
        "{}",
        run.stdout
    );
    for app in ["statefulset/checkout", "daemonset/checkout"] {
        let run = against_as(&cluster, &granted, &["plan", app, "-n", "shop"]);
        run.expect_status(2);
    }

    // One rule taken away: the refusal names the verb and the resource.
    let fresh = Cluster::start(Scenario::KubePrometheusStack, target);
    let roles = crate::kube_apply::printed_roles(&["plan"]);
    let granted = fresh.grant(&crate::kube_apply::without(&roles, "get", "deployments"));
    let run = against_as(&fresh, &granted, &["plan", "checkout", "-n", "shop"]);
    assert_refused(&run, "get deployments.apps in namespace shop", "plan");
}
on_both!(plan_from_the_cluster_works_with_exactly_the_rules_onramp_rbac_plan_prints);

fn a_refused_service_proxy_names_the_rbac_that_grants_it_and_verify_exits_4(target: Target) {
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let roles = crate::kube_apply::printed_roles(&["plan"]);
    let without_proxy = crate::kube_apply::without(&roles, "get", "services/proxy");
    let granted = cluster.grant(&crate::kube_apply::without(
        &without_proxy,
        "create",
        "services/proxy",
    ));
    let run = against_as(&cluster, &granted, &["verify", "checkout", "-n", "shop"]);
    run.expect_status(4);
    assert!(
        run.stderr
            .contains("the Kubernetes API server refused to proxy to Prometheus at")
            && run.stderr.contains("(HTTP 403: ")
            && run.stderr.contains("onramp rbac plan"),
        "{}",
        run.stderr
    );
}
on_both!(a_refused_service_proxy_names_the_rbac_that_grants_it_and_verify_exits_4);

fn labels_from_onramp_yaml_win_over_the_clusters_and_the_flag_wins_over_both(cluster: &Cluster) {
    let config = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(config.path(), "labels:\n  release: kps-prod\n").expect("write onramp.yaml");
    let path = config.path().to_str().expect("utf-8");
    let from_file = plan_text(cluster, &["--config", path]);
    assert!(
        notes(&from_file).iter().any(|n| n.starts_with(
            "monitoring/kube-prometheus-stack-prometheus selects ServiceMonitors with release=kube-prometheus-stack, and ServiceMonitor shop/checkout does not match"
        )),
        "{}",
        from_file.stdout
    );
    let flag = plan_text(
        cluster,
        &["--config", path, "--label", "release=kube-prometheus-stack"],
    );
    assert!(
        !notes(&flag).iter().any(|n| n.contains("would be ignored")),
        "{}",
        flag.stdout
    );
}
on_both!(
    labels_from_onramp_yaml_win_over_the_clusters_and_the_flag_wins_over_both,
    Scenario::KubePrometheusStack
);

fn prometheus_service_in_onramp_yaml_picks_the_prometheus_behind_the_proxy(cluster: &Cluster) {
    let config = tempfile::NamedTempFile::new().expect("temp file");
    let path = config.path().to_str().expect("utf-8");
    std::fs::write(
        config.path(),
        "prometheus:\n  service: monitoring/kube-prometheus-stack-prometheus:9090\n",
    )
    .expect("write onramp.yaml");
    let run = plan_text(cluster, &["--config", path]);
    assert!(
        notes(&run).iter().any(|n| n.starts_with(
            "Prometheus (service monitoring/kube-prometheus-stack-prometheus:9090 through the Kubernetes API server"
        )),
        "{}",
        run.stdout
    );
    if let Some(standin) = cluster.standin() {
        assert_eq!(
            standin.requests_to(
                "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/series"
            ),
            0
        );
    }

    std::fs::write(
        config.path(),
        "prometheus:\n  service: prometheus-operated\n",
    )
    .expect("write onramp.yaml");
    let bad = against(
        cluster,
        &["plan", "checkout", "-n", "shop", "--config", path],
    );
    bad.expect_status(2);
    assert!(
        bad.stderr.contains(&format!(
            "{path}: prometheus.service \"prometheus-operated\" is not NAMESPACE/NAME:PORT"
        )),
        "{}",
        bad.stderr
    );
}
on_both!(
    prometheus_service_in_onramp_yaml_picks_the_prometheus_behind_the_proxy,
    Scenario::KubePrometheusStack
);
