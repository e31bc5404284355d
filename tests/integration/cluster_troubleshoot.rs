//! `onramp troubleshoot` on the real kube-apiserver beside the stand-in:
//! the role `onramp rbac troubleshoot` prints is enough and minimal under
//! the real authorizer, and for every troubleshoot fixture the first
//! finding is the stand-in's — except where the cause is only in a log,
//! which the real server cannot serve (no kubelet: the fixtures hold no
//! Node objects, so the server never dials one).

use serde_json::Value;

use crate::support::Run;
use crate::support::cluster::{Cluster, Target, assert_refused, on_both};
use crate::support::kube::Scenario;

/// The troubleshoot fixtures (`tests/fixtures/kube/troubleshoot/CASE.yaml`).
const CASES: [&str; 8] = [
    "crashloop",
    "healthy",
    "image-not-found",
    "missing-secret-key",
    "never-ready",
    "oomkilled",
    "pending",
    "rollout-stuck",
];

/// `onramp troubleshoot checkout -n shop --output json` with `kubeconfig`.
fn troubleshoot(cluster: &Cluster, kubeconfig: &std::path::Path) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "troubleshoot",
        "checkout",
        "-n",
        "shop",
        "--output",
        "json",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
    ];
    cluster.run(dir.path(), &args)
}

/// The JSON report of a run.
fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}\n{}", run.stdout, run.stderr))
}

fn troubleshoot_works_with_exactly_the_rules_onramp_rbac_troubleshoot_prints(target: Target) {
    let roles = crate::kube_apply::printed_roles(&["troubleshoot"]);
    let cluster = Cluster::start(Scenario::Troubleshoot("oomkilled"), target);
    let granted = cluster.grant(&roles);
    let run = troubleshoot(&cluster, &granted);
    run.expect_status(1);
    assert_eq!(
        report(&run)["findings"][0]["title"],
        "Container checkout is OOM-killed at its memory limit of 64Mi"
    );
    assert!(
        !run.stdout.contains("forbidden") && !run.stderr.contains("forbidden"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );

    // One rule taken away: reading the workload stops the run, exit 4
    // naming the verb and the resource.
    let fresh = Cluster::start(Scenario::Troubleshoot("oomkilled"), target);
    let granted = fresh.grant(&crate::kube_apply::without(&roles, "get", "deployments"));
    let run = troubleshoot(&fresh, &granted);
    assert_refused(
        &run,
        "get deployments.apps in namespace shop",
        "troubleshoot",
    );

    // A check it may not make is reported as not checked, naming the rule.
    let fresh = Cluster::start(Scenario::Troubleshoot("oomkilled"), target);
    let granted = fresh.grant(&crate::kube_apply::without(&roles, "list", "pods"));
    let run = troubleshoot(&fresh, &granted);
    run.expect_status(1);
    let found = report(&run);
    let why: Vec<&str> = found["not_checked"]
        .as_array()
        .expect("not_checked")
        .iter()
        .filter_map(|n| n["why"].as_str())
        .collect();
    assert!(
        why.iter()
            .any(|w| w.contains("onramp may not list pods in namespace shop")),
        "{why:#?}"
    );
}
on_both!(troubleshoot_works_with_exactly_the_rules_onramp_rbac_troubleshoot_prints);

/// On the real kube-apiserver only (`…::apiserver::…` like the `on_both!`
/// halves, so one filter runs the whole tier).
mod apiserver {
    use super::*;

    /// The cases whose cause the stand-in reads in a log. The real server has
    /// no node to read it from, so its first finding says the log could not
    /// be read (and what to run instead), and `not_checked` names the read.
    const LOG_ONLY: [(&str, &str); 3] = [
        (
            "crashloop",
            "Container checkout crash-loops: exit code 1 (Error); its previous log, which would say why, could not be read",
        ),
        (
            "never-ready",
            "Container checkout runs but is not ready; its log, which would say why, could not be read",
        ),
        (
            "rollout-stuck",
            "New version fails: Container checkout crash-loops: exit code 2 (Error); its previous log, which would say why, could not be read",
        ),
    ];

    #[test]
    #[cfg_attr(
        not(all(apiserver, shared_crds)),
        ignore = "needs kube-apiserver and etcd (make deps) and ../shared/reference/crds (ONRAMP_TEST_APISERVER, ONRAMP_TEST_SHARED)"
    )]
    fn every_troubleshoot_fixture_has_the_standins_first_finding_on_the_real_api_server() {
        for case in CASES {
            let scenario = Scenario::Troubleshoot(case);
            let standin = Cluster::start(scenario, Target::StandIn);
            let run = troubleshoot(&standin, &standin.kubeconfig());
            let expected = report(&run);
            let real = Cluster::start(scenario, Target::ApiServer);
            let real_run = troubleshoot(&real, &real.kubeconfig());
            assert_eq!(real_run.status, run.status, "{case}: {}", real_run.stderr);
            let found = report(&real_run);
            let title = &found["findings"][0]["title"];
            match LOG_ONLY.iter().find(|(c, _)| *c == case) {
                Some((_, without_log)) => {
                    assert_eq!(title, without_log, "{case}");
                    assert_log_read_is_not_checked(&found, case);
                }
                None => assert_eq!(title, &expected["findings"][0]["title"], "{case}"),
            }
        }
    }

    /// The report lists the log read the real server refused: what, and the
    /// server's answer.
    fn assert_log_read_is_not_checked(report: &Value, case: &str) {
        let gaps = report["not_checked"].as_array().expect("not_checked");
        assert!(
            gaps.iter().any(|g| {
                let what = g["what"].as_str().unwrap_or_default();
                let why = g["why"].as_str().unwrap_or_default();
                what.contains("log of ") && why.starts_with("the API server answered 404")
            }),
            "{case}: no not_checked entry for the log read in {gaps:#?}"
        );
    }

    #[test]
    #[cfg_attr(
        not(all(apiserver, shared_crds)),
        ignore = "needs kube-apiserver and etcd (make deps) and ../shared/reference/crds (ONRAMP_TEST_APISERVER, ONRAMP_TEST_SHARED)"
    )]
    fn the_real_api_server_cannot_serve_a_log_without_a_node() {
        let real = Cluster::start(Scenario::Troubleshoot("crashloop"), Target::ApiServer);
        let Cluster::ApiServer(server) = &real else {
            unreachable!("started as a real API server")
        };
        let (code, body) =
            server.get("/api/v1/namespaces/shop/pods/checkout-5c7d9b8f4d-h8xkq/log?previous=true");
        eprintln!("{code} {body}");
        assert!(code >= 400, "{code} {body}");
    }
}
