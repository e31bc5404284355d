//! `onramp apply --cluster` against the Kubernetes stand-in and the real
//! kube-apiserver (`support::cluster`): server-side
//! apply as field manager `onramp`, idempotent to the `resourceVersion`,
//! the server's dry run, conflicts with another field manager, forbidden
//! requests, and pruning only what onramp owns for this app. Every applied
//! body passes the stand-in's CRD schema validation (422 otherwise).

use serde_json::{Value, json};

use crate::support::cluster::{Cluster, Target, assert_refused, on_both};
use crate::support::kube::Scenario;
use crate::support::{Run, repo_path};

/// The demo shop's checkout manifests.
fn checkout() -> String {
    repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string()
}

/// `onramp apply checkout -n shop -f checkout.yaml --cluster ARGS` against
/// the stand-in, with the kube-prometheus-stack release label.
pub(crate) fn apply(cluster: &Cluster, extra: &[&str]) -> Run {
    let manifests = checkout();
    apply_from(cluster, &["-f", &manifests, "--cluster"], extra)
}

/// `onramp apply checkout -n shop SOURCE ARGS` against the cluster.
fn apply_from(cluster: &Cluster, source: &[&str], extra: &[&str]) -> Run {
    apply_as(cluster, &cluster.kubeconfig(), source, extra)
}

/// [`apply_from`] with the identity of `kubeconfig`.
fn apply_as(
    cluster: &Cluster,
    kubeconfig: &std::path::Path,
    source: &[&str],
    extra: &[&str],
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    apply_in(cluster, dir.path(), kubeconfig, source, extra)
}

/// `onramp apply checkout -n shop SOURCE ARGS` run in `dir` (where an
/// onramp.yaml may be) with the identity of `kubeconfig`, and the label
/// kube-prometheus-stack's Prometheus selects by.
pub(crate) fn apply_in(
    cluster: &Cluster,
    dir: &std::path::Path,
    kubeconfig: &std::path::Path,
    source: &[&str],
    extra: &[&str],
) -> Run {
    let mut args = vec!["apply", "checkout", "-n", "shop"];
    args.extend_from_slice(source);
    args.extend_from_slice(&[
        "--label",
        "release=kube-prometheus-stack",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
    ]);
    args.extend_from_slice(extra);
    cluster.run(dir, &args)
}

fn resource_version(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("a resourceVersion")
        .to_string()
}

/// The objects `apply` writes for the checkout, as (apiVersion, kind, name).
const OBJECTS: [(&str, &str, &str); 5] = [
    ("monitoring.coreos.com/v1", "ServiceMonitor", "checkout"),
    ("monitoring.coreos.com/v1", "PrometheusRule", "checkout"),
    ("v1", "ConfigMap", "checkout-service-health-dashboard"),
    ("v1", "ConfigMap", "checkout-troubleshooting-dashboard"),
    (
        "v1",
        "ConfigMap",
        "checkout-feature-flag-engagement-dashboard",
    ),
];

fn stored(cluster: &Cluster, (api_version, kind, name): (&str, &str, &str)) -> Option<Value> {
    cluster.object(api_version, kind, "shop", name)
}

fn apply_gives_monitors_and_rules_the_release_label_and_a_second_run_changes_nothing(
    cluster: &Cluster,
) {
    let first = apply(cluster, &[]);
    first.expect_status(0);
    assert_eq!(
        first.stdout_line("Kubernetes namespace"),
        format!("Kubernetes namespace shop (context {}):", cluster.context())
    );
    for (_, kind, name) in OBJECTS {
        assert_eq!(
            first.stdout_line(&format!(" {kind} {name}")).trim(),
            format!("created     {kind} {name}")
        );
    }
    let mut versions = Vec::new();
    for object in OBJECTS {
        let live = stored(cluster, object).expect("applied");
        let labels = &live["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/managed-by"], "onramp");
        assert_eq!(labels["onramp.dev/app"], "checkout");
        if object.0 == "monitoring.coreos.com/v1" {
            assert_eq!(labels["release"], "kube-prometheus-stack", "{object:?}");
        }
        let managers: Vec<(&str, &str)> = live["metadata"]["managedFields"]
            .as_array()
            .expect("managedFields")
            .iter()
            .map(|e| {
                (
                    e["manager"].as_str().unwrap_or_default(),
                    e["operation"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(managers, [("onramp", "Apply")], "{object:?}");
        versions.push(resource_version(&live));
    }

    let second = apply(cluster, &[]);
    second.expect_status(0);
    for (_, kind, name) in OBJECTS {
        assert_eq!(
            second.stdout_line(&format!(" {kind} {name}")).trim(),
            format!("unchanged   {kind} {name}")
        );
    }
    let again: Vec<String> = OBJECTS
        .iter()
        .map(|o| resource_version(&stored(cluster, *o).expect("still there")))
        .collect();
    assert_eq!(again, versions, "a second apply changed a resourceVersion");
}
on_both!(
    apply_gives_monitors_and_rules_the_release_label_and_a_second_run_changes_nothing,
    Scenario::KubePrometheusStack
);

fn dry_run_reports_what_would_change_and_stores_nothing(cluster: &Cluster) {
    let run = apply(cluster, &["--dry-run"]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line("Kubernetes namespace"),
        format!(
            "Kubernetes namespace shop (context {}, server dry run: nothing stored):",
            cluster.context()
        )
    );
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout"
    );
    for object in OBJECTS {
        assert_eq!(stored(cluster, object), None, "{object:?} was stored");
    }

    if let Some(standin) = cluster.standin() {
        assert!(
            standin
                .request_log()
                .iter()
                .filter(|r| r.starts_with("PATCH "))
                .all(|r| r.contains("dryRun=All")),
            "{:#?}",
            standin.request_log()
        );
    }

    // Over objects that exist: what would change, change and go — nothing does.
    apply(cluster, &[]).expect_status(0);
    let before: Vec<Option<Value>> = OBJECTS.iter().map(|o| stored(cluster, *o)).collect();
    let run = apply(cluster, &["--dry-run", "--need", "service-health"]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line(" PrometheusRule checkout").trim(),
        "configured  PrometheusRule checkout"
    );
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "unchanged   ServiceMonitor checkout"
    );
    assert_eq!(
        run.stdout_line("checkout-troubleshooting-dashboard").trim(),
        "pruned      ConfigMap checkout-troubleshooting-dashboard"
    );
    for (object, before) in OBJECTS.iter().zip(before) {
        let after = stored(cluster, *object);
        assert_eq!(
            after.as_ref().map(|o| &o["metadata"]),
            before.as_ref().map(|o| &o["metadata"]),
            "a dry run changed {object:?}"
        );
        assert_eq!(after, before, "a dry run changed {object:?}");
    }
}
on_both!(
    dry_run_reports_what_would_change_and_stores_nothing,
    Scenario::KubePrometheusStack
);

fn a_monitor_created_with_kubectl_is_a_conflict_naming_the_manager_and_fields_and_stays_untouched(
    cluster: &Cluster,
) {
    let monitor = OBJECTS[0];
    let before = stored(cluster, monitor).expect("the foreign monitor");
    let run = apply(cluster, &[]);
    run.expect_status(1);
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "conflict    ServiceMonitor checkout"
    );
    assert_eq!(
        run.stdout_line("fields owned by").trim(),
        "fields owned by field manager \"kubectl-client-side-apply\": .spec.endpoints, .spec.selector"
    );
    assert!(
        run.stdout.contains("run again with --force-conflicts"),
        "{}",
        run.stdout
    );
    assert_eq!(
        stored(cluster, monitor),
        Some(before),
        "the monitor changed"
    );

    let forced = apply(cluster, &["--force-conflicts"]);
    forced.expect_status(0);
    assert_eq!(
        forced.stdout_line(" ServiceMonitor checkout").trim(),
        "configured  ServiceMonitor checkout"
    );
    assert!(
        forced
            .stdout
            .contains("--force-conflicts: fields other field managers owned")
    );
    let live = stored(cluster, monitor).expect("the monitor");
    assert_eq!(
        live["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    assert_eq!(live["spec"]["endpoints"][0]["path"], "/metrics");
    let owners: Vec<(&str, bool)> = live["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default(),
                e["fieldsV1"]["f:spec"]["f:endpoints"].is_object(),
            )
        })
        .collect();
    assert!(owners.contains(&("onramp", true)), "{owners:?}");
    assert!(
        !owners.contains(&("kubectl-client-side-apply", true)),
        "{owners:?}"
    );
}
on_both!(
    a_monitor_created_with_kubectl_is_a_conflict_naming_the_manager_and_fields_and_stays_untouched,
    Scenario::ForeignMonitor
);

/// The roles `onramp rbac ARGS` prints.
pub(crate) fn printed_roles(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["rbac"];
    all.extend_from_slice(args);
    let run = crate::support::onramp(&all);
    run.expect_status(0);
    crate::support::yaml_documents(&run.stdout)
}

/// `roles` without `verb` on `resource` (of any group): one rule taken away.
pub(crate) fn without(roles: &[Value], verb: &str, resource: &str) -> Vec<Value> {
    let mut roles = roles.to_vec();
    for role in &mut roles {
        for rule in role["rules"].as_array_mut().expect("rules") {
            if rule["resources"][0] == resource {
                rule["verbs"]
                    .as_array_mut()
                    .expect("verbs")
                    .retain(|v| v != verb);
            }
        }
        role["rules"]
            .as_array_mut()
            .expect("rules")
            .retain(|r| r["verbs"].as_array().is_some_and(|v| !v.is_empty()));
    }
    roles
}

fn apply_works_with_exactly_the_rules_of_onramp_rbac_apply_and_forbidden_names_verb_and_resource(
    target: Target,
) {
    // Without -f the app is read from the cluster, then applied to it.
    let roles = printed_roles(&["apply", "-n", "shop"]);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole", "Role"]);
    assert_eq!(roles[1]["metadata"]["namespace"], "shop");
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&roles);
    let run = apply_as(&cluster, &granted, &[], &[]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout"
    );
    assert!(stored(&cluster, OBJECTS[0]).is_some());

    // Without `create`, a new object cannot come into being through apply.
    let fresh = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = fresh.grant(&without(&roles, "create", "servicemonitors"));
    let manifests = checkout();
    let run = apply_as(&fresh, &granted, &["-f", &manifests, "--cluster"], &[]);
    assert_refused(
        &run,
        "create servicemonitors.monitoring.coreos.com in namespace shop",
        "apply",
    );
    assert_eq!(stored(&fresh, OBJECTS[0]), None);
}
on_both!(
    apply_works_with_exactly_the_rules_of_onramp_rbac_apply_and_forbidden_names_verb_and_resource
);

fn apply_cluster_wide_works_with_exactly_the_rules_of_onramp_rbac_apply(target: Target) {
    let roles = printed_roles(&["apply"]);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole"]);
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&roles);
    let run = apply_as(&cluster, &granted, &[], &[]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line(" PrometheusRule checkout").trim(),
        "created     PrometheusRule checkout"
    );

    let fresh = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = fresh.grant(&without(&roles, "list", "deployments"));
    let run = apply_as(&fresh, &granted, &[], &[]);
    assert_refused(&run, "list deployments.apps in all namespaces", "apply");
}
on_both!(apply_cluster_wide_works_with_exactly_the_rules_of_onramp_rbac_apply);

/// A ConfigMap labelled as `labels` says, in `shop`.
fn config_map(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop", "labels": labels},
        "data": {"x": "y"},
    })
}

fn prune_deletes_only_onramp_objects_of_this_app_that_the_plan_no_longer_holds(cluster: &Cluster) {
    apply(cluster, &[]).expect_status(0);
    let foreign = config_map(
        "checkout-feature-flag-engagement-copy",
        json!({"app.kubernetes.io/name": "checkout", "grafana_dashboard": "1"}),
    );
    let other_app = config_map(
        "cart-service-health-dashboard",
        json!({"app.kubernetes.io/managed-by": "onramp", "onramp.dev/app": "cart"}),
    );
    cluster.insert(vec![foreign]);
    cluster.insert(vec![other_app]);

    let run = apply(cluster, &["--need", "service-health"]);
    run.expect_status(0);
    for gone in [
        "checkout-troubleshooting-dashboard",
        "checkout-feature-flag-engagement-dashboard",
    ] {
        assert_eq!(
            run.stdout_line(gone).trim(),
            format!("pruned      ConfigMap {gone}")
        );
        assert_eq!(stored(cluster, ("v1", "ConfigMap", gone)), None);
    }
    for kept in [
        "checkout-service-health-dashboard",
        "checkout-feature-flag-engagement-copy",
        "cart-service-health-dashboard",
    ] {
        assert!(
            stored(cluster, ("v1", "ConfigMap", kept)).is_some(),
            "{kept} was deleted"
        );
    }
    // Service health still has alerts: the rule stays, changed.
    assert_eq!(
        run.stdout_line(" PrometheusRule checkout").trim(),
        "configured  PrometheusRule checkout"
    );
}
on_both!(
    prune_deletes_only_onramp_objects_of_this_app_that_the_plan_no_longer_holds,
    Scenario::KubePrometheusStack
);

fn without_the_operator_apply_says_so_and_points_at_the_plain_prometheus_path(cluster: &Cluster) {
    let run = apply(cluster, &[]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "cannot apply ServiceMonitor checkout in namespace shop: the API server answered 404"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("is the Prometheus Operator installed (`onramp detect` says)?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--prometheus-config-dir DIR"),
        "{}",
        run.stderr
    );
}
on_both!(
    without_the_operator_apply_says_so_and_points_at_the_plain_prometheus_path,
    Scenario::NoOperator
);

fn apply_from_manifests_without_the_release_label_says_the_prometheus_would_ignore_the_monitor(
    cluster: &Cluster,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let manifests = checkout();
    let run = cluster.run(
        dir.path(),
        &[
            "apply",
            "checkout",
            "-n",
            "shop",
            "-f",
            &manifests,
            "--cluster",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(0);
    assert_eq!(
        run.stdout_line(
            "note: monitoring/kube-prometheus-stack-prometheus selects ServiceMonitors"
        ),
        "note: monitoring/kube-prometheus-stack-prometheus selects ServiceMonitors with release=kube-prometheus-stack, and ServiceMonitor shop/checkout does not match, so it would be ignored; add --label release=kube-prometheus-stack"
    );
    assert!(
        run.stdout
            .contains("selects PrometheusRules with release=kube-prometheus-stack"),
        "{}",
        run.stdout
    );
}
on_both!(
    apply_from_manifests_without_the_release_label_says_the_prometheus_would_ignore_the_monitor,
    Scenario::KubePrometheusStack
);
