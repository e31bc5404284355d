//! The app read from the live cluster (no `-f`), against the Kubernetes
//! stand-in: the plan equals the plan of the same app's manifests, monitors
//! and rules carry the labels the cluster's Prometheus selects on, the plan
//! warns when nothing would select them, and Prometheus is reached through
//! the API server's service proxy. Reads stay in the app's namespace.

use std::collections::BTreeMap;
use std::path::Path;

use crate::detect::detect_in;
use crate::support::kube::{Scenario, Standin};
use crate::support::{Run, demo_manifests, read};

/// Runs `onramp COMMAND ARGS --kubeconfig K` in a fresh folder (no
/// onramp.yaml, no machine kubeconfig).
fn against(standin: &Standin, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
    detect_in(dir.path(), &all)
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
/// across all namespaces.
fn cluster_wide_reads_of_pods_or_events(standin: &Standin) -> Vec<String> {
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

#[test]
fn plan_from_the_cluster_equals_plan_from_the_shop_manifests() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let label = ["--label", "release=kube-prometheus-stack"];
    let live_out = tempfile::tempdir().expect("temp dir");
    let live_dir = live_out.path().to_str().expect("utf-8");
    let codify = ["codify", "checkout", "-n", "shop", "--out", live_dir];
    against(&standin, &[&codify[..], &label].concat()).expect_status(0);
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
    assert!(
        cluster_wide_reads_of_pods_or_events(&standin).is_empty(),
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

#[test]
fn an_unknown_app_names_kind_namespace_and_context_and_exits_2() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let run = against(&standin, &["plan", "statefulset/payments", "-n", "shop"]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "no StatefulSet \"payments\" in namespace shop of the cluster at https://127.0.0.1:"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(context standin)"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("deployment/payments or daemonset/payments"),
        "{}",
        run.stderr
    );
}

#[test]
fn reading_the_app_when_services_are_forbidden_names_the_verb_and_the_rbac_line() {
    use crate::support::kube::Rule;
    let standin = Standin::start(Scenario::KubePrometheusStack);
    standin.set_rbac(vec![Rule::new(
        &["get"],
        "apps",
        "deployments",
        Some("shop"),
    )]);
    let run = against(&standin, &["plan", "checkout", "-n", "shop"]);
    run.expect_status(4);
    assert!(
        run.stderr
            .contains("refused to let onramp list services in namespace shop"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("onramp rbac plan"), "{}", run.stderr);
}
