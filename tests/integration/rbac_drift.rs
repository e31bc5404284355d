//! `onramp rbac COMMAND` cannot drift from what the command does: each
//! command that reads the cluster runs on the stand-in with every
//! permission, and every request in the stand-in's log must be allowed by
//! the rules `onramp rbac COMMAND` prints (apply's and onboard's writes by
//! the Role of `-n shop`, in that namespace only). A request the role does
//! not list fails the test, naming it.
//!
//! The rules of a request are read from its method and path as the API
//! server's `RequestInfoFactory` reads them (k8s.io/apiserver
//! `pkg/endpoints/request/requestinfo.go`): `/api/v1` or `/apis/GROUP/
//! VERSION`, then `namespaces/NS`, the resource, the name and a
//! subresource; GET of a collection is `list`, of an object `get`; POST
//! `create`, PATCH `patch`, DELETE `delete`. Discovery documents (`/api`,
//! `/apis`, `/apis/GROUP/VERSION`) are granted to every identity by
//! `system:discovery` and need no rule. The real API server tier runs the
//! same commands with exactly these rules in the `…works_with_exactly_the_
//! rules…` tests of each command.

use serde_json::json;

use crate::support::cluster::{Cluster, rules_of};
use crate::support::kube::{Rule, Scenario, Standin};
use crate::support::{Run, repo_path};

/// What RBAC authorizes a request as.
#[derive(Debug, PartialEq, Eq)]
struct Attributes {
    verb: String,
    group: String,
    /// `pods/log` for a subresource.
    resource: String,
    /// Empty for a cluster-wide request.
    namespace: String,
}

/// The attributes of a logged `METHOD /path?query`; `None` for a discovery
/// document (a non-resource URL every identity may read).
fn attributes(logged: &str) -> Option<Attributes> {
    let (method, target) = logged.split_once(' ').expect("METHOD PATH");
    let path = target.split('?').next().unwrap_or(target);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
        ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
        _ => {
            assert!(
                matches!(
                    parts.as_slice(),
                    ["api" | "apis" | "version"] | ["api", _] | ["apis", _] | ["apis", _, _]
                ),
                "{logged}: neither a discovery document nor a resource"
            );
            return None;
        }
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (ns.to_string(), tail),
        _ => (String::new(), rest),
    };
    let resource = match rest {
        [resource] | [resource, _] => resource.to_string(),
        [resource, _, sub, ..] => format!("{resource}/{sub}"),
        [] => unreachable!("a resource request names a resource"),
    };
    let collection = rest.len() == 1;
    let verb = match (method, collection) {
        ("GET", true) => "list",
        ("GET", false) => "get",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "deletecollection",
        ("DELETE", false) => "delete",
        (other, _) => panic!("{logged}: a method onramp never sends ({other})"),
    };
    Some(Attributes {
        verb: verb.to_string(),
        group: group.to_string(),
        resource,
        namespace,
    })
}

/// Every logged request no rule allows.
fn uncovered(log: &[String], rules: &[Rule]) -> Vec<String> {
    log.iter()
        .filter(|logged| {
            attributes(logged).is_some_and(|a| {
                !rules
                    .iter()
                    .any(|r| r.allows(&a.verb, &a.group, &a.resource, &a.namespace))
            })
        })
        .cloned()
        .collect()
}

/// Asserts every request the stand-in received is allowed by the roles
/// `onramp rbac ARGS` prints, and that the run sent `expected` (a
/// fragment of a logged request per thing the command must have read).
#[track_caller]
fn assert_covered(standin: &Standin, rbac: &[&str], expected: &[&str]) {
    let rules = rules_of(&crate::kube_apply::printed_roles(rbac));
    let log = standin.request_log();
    for fragment in expected {
        assert!(
            log.iter().any(|r| r.contains(fragment)),
            "no request {fragment:?} in {log:#?}"
        );
    }
    let outside = uncovered(&log, &rules);
    assert!(
        outside.is_empty(),
        "requests `onramp rbac {}` does not allow:\n{}",
        rbac.join(" "),
        outside.join("\n")
    );
}

/// Runs `onramp ARGS --kubeconfig K` in a fresh folder, as every permission.
fn run(cluster: &Cluster, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let mut all = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
    cluster.run(dir.path(), &all)
}

/// The stand-in of a cluster test (these tests need its request log).
fn on_standin(scenario: Scenario) -> Cluster {
    Cluster::StandIn(Standin::start(scenario))
}

#[test]
fn a_request_the_role_does_not_list_is_caught() {
    let rules = vec![
        Rule::new(&["get"], "apps", "deployments", None),
        Rule::new(&["get"], "", "pods/log", Some("shop")),
    ];
    let log: Vec<String> = [
        "GET /apis",
        "GET /apis/apps/v1",
        "GET /apis/apps/v1/namespaces/shop/deployments/checkout",
        "GET /api/v1/namespaces/shop/pods/checkout-1/log?container=app",
        "GET /apis/apps/v1/namespaces/shop/deployments?limit=250",
        "GET /api/v1/namespaces/other/pods/checkout-1/log",
        "PATCH /api/v1/namespaces/shop/configmaps/x?fieldManager=onramp",
        "GET /api/v1/namespaces/shop",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        uncovered(&log, &rules),
        [
            "GET /apis/apps/v1/namespaces/shop/deployments?limit=250",
            "GET /api/v1/namespaces/other/pods/checkout-1/log",
            "PATCH /api/v1/namespaces/shop/configmaps/x?fieldManager=onramp",
            "GET /api/v1/namespaces/shop",
        ]
    );
    assert_eq!(
        attributes("GET /api/v1/namespaces/shop"),
        Some(Attributes {
            verb: "get".into(),
            group: String::new(),
            resource: "namespaces".into(),
            namespace: String::new(),
        })
    );
    assert_eq!(
        attributes(
            "POST /api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/query"
        )
        .map(|a| (a.verb, a.resource)),
        Some(("create".into(), "services/proxy".into()))
    );
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn detect_made_no_request_outside_onramp_rbac_detect_standin_only() {
    let cluster = on_standin(Scenario::KubePrometheusStack);
    run(&cluster, &["detect"]).expect_status(0);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["detect"],
        &[
            "GET /apis/monitoring.coreos.com/v1/prometheuses?",
            "GET /api/v1/namespaces/monitoring/services/prometheus-operated",
            "GET /apis/apps/v1/deployments?",
        ],
    );

    let cluster = on_standin(Scenario::NoOperator);
    run(&cluster, &["detect"]).expect_status(0);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(standin, &["detect"], &["GET /api/v1/services?"]);
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn plan_and_verify_from_the_cluster_made_no_request_outside_onramp_rbac_plan_standin_only() {
    // No Prometheus behind the proxy: the API server answers 503, and the
    // request is in the log all the same.
    let cluster = on_standin(Scenario::KubePrometheusStack);
    run(&cluster, &["plan", "checkout", "-n", "shop"]).expect_status(0);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["plan"],
        &[
            "GET /apis/apps/v1/namespaces/shop/deployments/checkout",
            "GET /api/v1/namespaces/shop/services?",
            "/services/prometheus-operated:9090/proxy/api/v1/",
        ],
    );

    // Verify reads the app and reaches Prometheus as plan does (its
    // refusals name `onramp rbac plan`).
    let cluster = on_standin(Scenario::KubePrometheusStack);
    let verify = run(
        &cluster,
        &["verify", "checkout", "-n", "shop", "--wait", "1s"],
    );
    assert_eq!(verify.status, 3, "{}\n{}", verify.stdout, verify.stderr);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["plan"],
        &["/services/prometheus-operated:9090/proxy/api/v1/"],
    );
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn apply_from_the_cluster_made_no_request_outside_onramp_rbac_apply_standin_only() {
    let cluster = on_standin(Scenario::KubePrometheusStack);
    let label = ["--label", "release=kube-prometheus-stack"];
    let apply = [&["apply", "checkout", "-n", "shop"][..], &label].concat();
    run(&cluster, &apply).expect_status(0);
    // A dashboard of this app's that the next plan no longer holds: pruned.
    cluster.insert(vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "checkout-old-dashboard",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "onramp", "onramp.dev/app": "checkout"},
        },
        "data": {"x": "y"},
    })]);
    let again = run(&cluster, &apply);
    again.expect_status(0);
    assert_eq!(
        again.stdout_line("checkout-old-dashboard").trim(),
        "pruned      ConfigMap checkout-old-dashboard"
    );
    let manifests = repo_path("examples/shop/k8s/checkout.yaml");
    let manifests = manifests.to_str().expect("utf-8");
    let dry = [&apply[..], &["-f", manifests, "--cluster", "--dry-run"]].concat();
    run(&cluster, &dry).expect_status(0);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["apply", "-n", "shop"],
        &[
            "GET /api/v1/namespaces/shop",
            "PATCH /apis/monitoring.coreos.com/v1/namespaces/shop/servicemonitors/checkout",
            "GET /api/v1/namespaces/shop/configmaps?",
            "DELETE /api/v1/namespaces/shop/configmaps/checkout-old-dashboard",
        ],
    );
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn onboard_made_no_request_outside_onramp_rbac_onboard_standin_only() {
    // No Prometheus behind the proxy: onboard applies and codifies, then
    // verify cannot reach it (3); every request up to there is checked.
    let cluster = on_standin(Scenario::KubePrometheusStack);
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("observability");
    let out = out.to_str().expect("utf-8");
    let args = [
        "onboard", "checkout", "-n", "shop", "--out", out, "--wait", "1s",
    ];
    let onboard = run(&cluster, &args);
    assert_eq!(
        onboard.stdout_line(" ServiceMonitor checkout").trim(),
        "created     ServiceMonitor checkout",
        "{}\n{}",
        onboard.stdout,
        onboard.stderr
    );
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["onboard", "-n", "shop"],
        &[
            "PATCH /api/v1/namespaces/shop/configmaps/checkout-service-health-dashboard",
            "/services/prometheus-operated:9090/proxy/api/v1/",
        ],
    );
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn troubleshoot_made_no_request_outside_onramp_rbac_troubleshoot_standin_only() {
    let cluster = on_standin(Scenario::Troubleshoot("crashloop"));
    let args = ["troubleshoot", "checkout", "-n", "shop", "--output", "json"];
    run(&cluster, &args).expect_status(1);
    let standin = cluster.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["troubleshoot"],
        &[
            "GET /api/v1/namespaces/shop/pods?",
            "GET /api/v1/namespaces/shop/events?",
            "GET /apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?",
            "/log?container=",
        ],
    );
}

#[test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn adoption_made_no_request_outside_onramp_rbac_adoption_and_no_more_for_more_apps_standin_only() {
    // No Prometheus behind the proxy: the API server answers 503 (exit 3),
    // and the requests are in the log all the same.
    let fleet = on_standin(Scenario::Fleet);
    run(&fleet, &["adoption"]).expect_status(3);
    let standin = fleet.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["adoption"],
        &[
            "GET /api/v1/namespaces?",
            "GET /apis/apps/v1/statefulsets?",
            "GET /apis/apps/v1/daemonsets?",
            "GET /apis/monitoring.coreos.com/v1/podmonitors?",
            "GET /apis/monitoring.coreos.com/v1/prometheusrules?",
            "/services/prometheus-operated:9090/proxy/api/v1/",
        ],
    );
    // The same requests for one app as for seven: one list per resource
    // type, never one per app; and at most six questions to Prometheus,
    // each tried as often as the retry policy allows a 503 (the first
    // refused one cancels the others, so how many went out varies).
    let attempts = onramp::client::retry::RetryPolicy::default().max_attempts as usize;
    let api_requests = |log: Vec<String>| {
        let (proxied, api): (Vec<String>, Vec<String>) =
            log.into_iter().partition(|r| r.contains("/proxy/"));
        assert!((1..=6 * attempts).contains(&proxied.len()), "{proxied:#?}");
        api
    };
    let fleet_requests = api_requests(standin.request_log());
    let one_app = on_standin(Scenario::KubePrometheusStack);
    run(&one_app, &["adoption"]).expect_status(3);
    let one_app = api_requests(one_app.standin().expect("the stand-in").request_log());
    assert_eq!(fleet_requests, one_app);
    assert_eq!(fleet_requests.len(), 13, "{fleet_requests:#?}");

    let fleet = on_standin(Scenario::Fleet);
    run(&fleet, &["adoption", "-n", "shop"]).expect_status(3);
    let standin = fleet.standin().expect("the stand-in");
    assert_covered(
        standin,
        &["adoption", "-n", "shop"],
        &[
            "GET /api/v1/namespaces/shop",
            "GET /apis/apps/v1/namespaces/shop/deployments?",
            "GET /apis/monitoring.coreos.com/v1/namespaces/shop/servicemonitors?",
        ],
    );
}
