//! `onramp troubleshoot` against the Kubernetes stand-in: for each broken
//! `checkout` (fixtures in `tests/fixtures/kube/troubleshoot/`, beside a
//! healthy `cart` and a crash-looping `checkout-db` as noise), the first
//! finding a developer reads is the real cause, with its evidence and the
//! step that fixes it; a healthy app says so in one line and exits 0.

use serde_json::Value;

use crate::support::kube::{Fault, Rule, Scenario, Standin, TOKEN};
use crate::support::{Run, onramp_env};

/// Runs `onramp troubleshoot checkout -n shop --kubeconfig … ARGS`.
pub(crate) fn troubleshoot(standin: &Standin, extra: &[&str]) -> Run {
    let kubeconfig = standin.kubeconfig();
    let mut args = vec![
        "troubleshoot",
        "checkout",
        "-n",
        "shop",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let run = onramp_env(&args, &[("KUBECONFIG", "")]);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token leaked"
    );
    run
}

/// The JSON report of a case, after checking the exit status.
fn report(case: &'static str, status: i32) -> Value {
    let standin = Standin::start(Scenario::Troubleshoot(case));
    let run = troubleshoot(&standin, &["--output", "json"]);
    run.expect_status(status);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", run.stdout))
}

/// The first finding, and its evidence as one text.
fn first(report: &Value) -> (&Value, String) {
    let finding = &report["findings"][0];
    let evidence = finding["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|l| l.as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    (finding, evidence)
}

/// Every finding's title, in order.
fn titles(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["title"].as_str())
        .collect()
}

#[track_caller]
fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in:\n{text}");
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_crash_loop_from_a_bad_env_var_is_explained_by_the_previous_log() {
    let report = report("crashloop", 1);
    let (f, evidence) = first(&report);
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        f["title"],
        "Container checkout crash-loops: FATAL invalid configuration: PAYMENT_TIMEOUT=\"3 seconds\" is not a duration (write e.g. 3s or 500ms)"
    );
    assert_contains(
        &evidence,
        "exit code 1: the application exited with an error (Error)",
    );
    assert_contains(&evidence, "previous log (last 5 lines):");
    assert_contains(
        &evidence,
        "the same on 1 more pod(s): checkout-5c7d9b8f4d-m2vtn",
    );
    assert_eq!(
        f["next_step"],
        "fix the environment variable PAYMENT_TIMEOUT of container checkout that the crash names: kubectl -n shop set env deployment/checkout -c checkout PAYMENT_TIMEOUT=…, or roll back: kubectl -n shop rollout undo deployment/checkout"
    );
    assert_eq!(f["runbook_section"], "runbook.md#checkoutcrashlooping");
    assert_eq!(f["panel"]["title"], "Troubleshooting › Container restarts");
    // Its effects and symptoms come after the cause, and the noise is not there.
    assert_eq!(
        titles(&report)[1..],
        [
            "deployment/checkout has 0 of 2 replicas available",
            "Service checkout has no ready endpoints: requests to it fail"
        ]
    );
    assert!(!report.to_string().contains("checkout-db"), "{report:#}");
    assert!(!report.to_string().contains("cart"), "{report:#}");
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_oom_kill_names_the_memory_limit_and_how_to_raise_it() {
    let report = report("oomkilled", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Container checkout is OOM-killed at its memory limit of 64Mi"
    );
    assert_contains(
        &evidence,
        "last termination OOMKilled (exit code 137: SIGKILL",
    );
    assert_contains(&evidence, "memory limit 64Mi");
    assert_eq!(
        f["next_step"],
        "raise the memory limit: kubectl -n shop set resources deployment/checkout -c checkout --limits=memory=128Mi — or, if usage grows without end, find the leak on the Memory working set panel"
    );
    assert_eq!(f["runbook_section"], "runbook.md#checkoutoomkilled");
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_image_tag_that_does_not_exist_quotes_the_kubelet() {
    let report = report("image-not-found", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Image ghcr.io/acme/checkout:1.4.3 of container checkout cannot be pulled: the tag or repository does not exist"
    );
    assert_contains(
        &evidence,
        "waiting, ImagePullBackOff: Back-off pulling image \"ghcr.io/acme/checkout:1.4.3\"",
    );
    assert_contains(
        &evidence,
        "event Failed on pod/checkout-79b6c5d8f9-p4r9s: 6× over 19m, last 3m ago: Failed to pull image \"ghcr.io/acme/checkout:1.4.3\": rpc error: code = NotFound",
    );
    assert_eq!(
        f["next_step"],
        "set an image that exists: kubectl -n shop set image deployment/checkout checkout=ghcr.io/acme/checkout:TAG (list the tags in the registry), or roll back: kubectl -n shop rollout undo deployment/checkout"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_missing_secret_key_names_the_key_the_secret_and_the_env_var() {
    let report = report("missing-secret-key", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Container checkout cannot start: couldn't find key password in Secret shop/checkout-db"
    );
    assert_contains(&evidence, "waiting, CreateContainerConfigError");
    assert_eq!(
        f["next_step"],
        "add the key password to Secret checkout-db (env DB_PASSWORD of container checkout refers to it): kubectl -n shop edit secret checkout-db — or fix the reference in deployment/checkout"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_pod_too_big_for_every_node_quotes_the_scheduler() {
    let report = report("pending", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Pods cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory"
    );
    assert_contains(
        &evidence,
        "container checkout requests cpu 100m, memory 32Gi",
    );
    assert_contains(
        &evidence,
        "event FailedScheduling on pod/checkout-5f4b8c6d7a-t6q2w: 3×",
    );
    assert_contains(
        f["next_step"].as_str().unwrap_or_default(),
        "lower the memory request of container checkout to what a node can offer",
    );
    // Both pods fail the same way: one finding.
    let titles: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["title"].as_str())
        .collect();
    assert_eq!(
        titles
            .iter()
            .filter(|t| t.starts_with("Pods cannot"))
            .count(),
        1
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_pod_that_never_gets_ready_shows_the_dependency_timeout_from_its_log() {
    let report = report("never-ready", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Container checkout runs but never becomes ready: ERROR dependency check failed: GET http://payments.shop.svc:8080/healthz: context deadline exceeded (Client.Timeout exceeded while awaiting headers) after 5s"
    );
    assert_contains(&evidence, "readiness probe GET :http/readyz");
    assert_contains(
        &evidence,
        "event Unhealthy on pod/checkout-68d5b7c9f4-c4x8v: 298×",
    );
    assert_contains(
        f["next_step"].as_str().unwrap_or_default(),
        "find what the app waits for in its log (kubectl -n shop logs checkout-68d5b7c9f4-c4x8v -c checkout --tail=100)",
    );
    assert_eq!(
        titles(&report)[1..],
        [
            "deployment/checkout has 0 of 2 replicas available",
            "Service checkout has no ready endpoints: requests to it fail"
        ]
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_unready_pod_whose_log_cannot_be_read_says_so_and_what_to_run() {
    let standin = Standin::start(Scenario::Troubleshoot("never-ready"));
    for pod in ["checkout-68d5b7c9f4-c4x8v", "checkout-68d5b7c9f4-n2p7k"] {
        standin.fail(
            &format!("/api/v1/namespaces/shop/pods/{pod}/log"),
            Fault::kubelet_failed(502, pod, "502 Bad Gateway"),
        );
    }
    let run = troubleshoot(&standin, &["--output", "json"]);
    run.expect_status(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "Container checkout runs but is not ready; its log, which would say why, could not be read"
    );
    assert_contains(
        &evidence,
        "the log of checkout-68d5b7c9f4-c4x8v/checkout could not be read: the API server answered 502: an error on the server (\"502 Bad Gateway\")",
    );
    assert_contains(
        f["next_step"].as_str().unwrap_or_default(),
        "kubectl -n shop logs checkout-68d5b7c9f4-c4x8v -c checkout --tail=100",
    );
    assert_eq!(
        report["not_checked"][0]["what"],
        "the log of checkout-68d5b7c9f4-c4x8v/checkout"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_stuck_rollout_puts_the_new_versions_crash_first_and_the_rollback_in_the_next_step() {
    let report = report("rollout-stuck", 1);
    let (f, evidence) = first(&report);
    assert_eq!(
        f["title"],
        "New version fails: Container checkout crash-loops: FATAL migration 0042_add_discount_code failed: column \"discount_code\" of relation \"orders\" already exists"
    );
    assert_contains(
        &evidence,
        "old ReplicaSet checkout-7c9d8f6b5d (ghcr.io/acme/checkout:1.4.2): 2/2 ready",
    );
    assert_contains(
        &evidence,
        "new ReplicaSet checkout-6b8f9d7c4f (ghcr.io/acme/checkout:1.5.0): 0/1 ready",
    );
    assert!(
        f["next_step"].as_str().unwrap_or_default().starts_with(
            "roll back while you fix it: kubectl -n shop rollout undo deployment/checkout; then"
        ),
        "{f:#}"
    );
    assert_eq!(
        report["findings"][1]["title"],
        "Rollout of deployment/checkout is stuck (ProgressDeadlineExceeded)"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_healthy_app_says_so_in_one_line_and_exits_0() {
    let standin = Standin::start(Scenario::Troubleshoot("healthy"));
    let run = troubleshoot(&standin, &[]);
    run.expect_status(0);
    assert_eq!(
        run.stdout,
        "shop/deployment/checkout is healthy: 2/2 pods ready, 2 desired, no crash, no warning event (since 30m).\n\
         Not checked: Prometheus: scrape targets, errors, latency, saturation, alerts, feature flags — no Prometheus configured and none found in the cluster (`onramp detect` shows what it sees): pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)\n"
    );
    let run = troubleshoot(&standin, &["--output", "json"]);
    run.expect_status(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report.as_object().expect("an object").len(), 4);
    // Exactly these keys, in this order.
    let at: Vec<usize> = ["app", "findings", "checked", "not_checked"]
        .iter()
        .map(|k| run.stdout.find(&format!("\n  \"{k}\": ")).expect("the key"))
        .collect();
    assert!(at.is_sorted(), "{}", run.stdout);
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn forbidden_logs_are_reported_as_not_checked_naming_the_permission() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    let rules: Vec<Rule> = [
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("", "pods"),
        ("", "services"),
        ("", "events"),
        ("discovery.k8s.io", "endpointslices"),
    ]
    .iter()
    .map(|(group, resource)| Rule::new(&["get", "list"], group, resource, Some("shop")))
    .collect();
    standin.set_rbac(rules);
    let run = troubleshoot(&standin, &["--output", "json"]);
    run.expect_status(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report["not_checked"][0],
        serde_json::json!({
            "what": "the previous log of checkout-5c7d9b8f4d-h8xkq/checkout",
            "why": "forbidden: onramp may not get pods/log in namespace shop; grant it with the ClusterRole printed by `onramp rbac troubleshoot`",
            "allowed_by": "get pods/log in namespace shop"
        })
    );
    assert_eq!(report["not_checked"].as_array().map(Vec::len), Some(2));
    // Without the log the cause is still the crash loop, by exit code, and
    // it says that the log that would explain it could not be read.
    assert_eq!(
        report["findings"][0]["title"],
        "Container checkout crash-loops: exit code 1 (Error); its previous log, which would say why, could not be read"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn markdown_output_pastes_into_an_incident_channel() {
    let standin = Standin::start(Scenario::Troubleshoot("oomkilled"));
    let run = troubleshoot(&standin, &["--output", "markdown"]);
    run.expect_status(1);
    assert!(
        run.stdout
            .starts_with("### onramp troubleshoot shop/deployment/checkout (since 30m)\n"),
        "{}",
        run.stdout
    );
    assert_contains(
        &run.stdout,
        "**1. CRITICAL** — Container checkout is OOM-killed at its memory limit of 64Mi",
    );
    assert_contains(&run.stdout, "- runbook: runbook.md\\#checkoutoomkilled");
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn only_the_apps_own_events_are_asked_for() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    troubleshoot(&standin, &[]).expect_status(1);
    let log = standin.request_log();
    let events: Vec<&String> = log.iter().filter(|r| r.contains("/events")).collect();
    assert!(!events.is_empty());
    for request in &events {
        assert!(
            request.contains("fieldSelector=involvedObject%2Euid%3D"),
            "an events request without the object's uid: {request}"
        );
    }
    let pods: Vec<&String> = log.iter().filter(|r| r.contains("/pods?")).collect();
    assert!(
        pods.iter()
            .all(|r| r.contains("labelSelector=app%2Ekubernetes%2Eio%2Fname%3Dcheckout")),
        "{pods:?}"
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_workload_that_does_not_exist_is_bad_input_and_an_unreachable_cluster_exits_3() {
    let standin = Standin::start(Scenario::Troubleshoot("healthy"));
    let kubeconfig = standin.kubeconfig();
    let run = onramp_env(
        &[
            "troubleshoot",
            "statefulset/checkout",
            "-n",
            "shop",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
        &[("KUBECONFIG", "")],
    );
    run.expect_status(2);
    assert_contains(
        &run.stderr,
        "no statefulset \"checkout\" in namespace \"shop\"",
    );
    let run = troubleshoot(&standin, &["--since", "soon"]);
    run.expect_status(2);
    assert_contains(&run.stderr, "--since \"soon\" is not a duration");
    let dir = tempfile::tempdir().expect("temp dir");
    let unreachable = dir.path().join("kubeconfig");
    let text = std::fs::read_to_string(&kubeconfig)
        .expect("kubeconfig")
        .replace(standin.url(), "https://127.0.0.1:9");
    std::fs::write(&unreachable, text).expect("write");
    let run = onramp_env(
        &[
            "troubleshoot",
            "checkout",
            "-n",
            "shop",
            "--kubeconfig",
            unreachable.to_str().expect("utf-8"),
        ],
        &[("KUBECONFIG", "")],
    );
    run.expect_status(3);
    assert_contains(&run.stderr, "cannot reach the Kubernetes API server");
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn troubleshoot_works_with_exactly_the_rules_onramp_rbac_prints() {
    let printed = crate::detect::printed_rules_of("troubleshoot");
    let resources: Vec<String> = printed
        .iter()
        .map(|(verbs, group, resource)| format!("{group}/{resource}: {}", verbs.join(",")))
        .collect();
    assert_eq!(
        resources,
        [
            "/events: list",
            "/pods: list",
            "/pods/log: get",
            "/services: get,list",
            "/services/proxy: create,get",
            "apps/daemonsets: get",
            "apps/deployments: get,list",
            "apps/replicasets: list",
            "apps/statefulsets: get",
            "discovery.k8s.io/endpointslices: list",
            "monitoring.coreos.com/prometheuses: list",
        ]
    );
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    standin.set_rbac(crate::detect::as_rules(&printed));
    let run = troubleshoot(&standin, &["--output", "json"]);
    run.expect_status(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    // Only Prometheus, which this run was not given, is left unchecked.
    assert_eq!(
        report["not_checked"][0]["what"],
        "Prometheus: scrape targets, errors, latency, saturation, alerts, feature flags"
    );
    assert_eq!(report["not_checked"].as_array().map(Vec::len), Some(1));
    assert_contains(
        report["findings"][0]["title"].as_str().unwrap_or_default(),
        "PAYMENT_TIMEOUT",
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn pods_it_may_not_list_make_no_healthy_claim() {
    let standin = Standin::start(Scenario::Troubleshoot("healthy"));
    standin.set_rbac(vec![Rule::new(
        &["get"],
        "apps",
        "deployments",
        Some("shop"),
    )]);
    let run = troubleshoot(&standin, &[]);
    run.expect_status(1);
    assert!(!run.stdout.contains("is healthy"), "{}", run.stdout);
    assert_contains(
        &run.stdout,
        "1. WARNING  The pods of deployment/checkout could not be read: their health is unknown\n     | forbidden: onramp may not list pods in namespace shop",
    );
    assert_contains(
        &run.stdout,
        "Not checked: the events — forbidden: onramp may not list events in namespace shop",
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn with_grafana_configured_the_panel_is_a_link() {
    let standin = Standin::start(Scenario::Troubleshoot("pending"));
    let run = troubleshoot(
        &standin,
        &[
            "--output",
            "markdown",
            "--grafana-url",
            "https://admin:s3cret@grafana.example/",
        ],
    );
    run.expect_status(1);
    assert_contains(
        &run.stdout,
        "- panel: [Troubleshooting › Pods not ready and pending](<https://grafana.example/d/checkout-troubleshooting-779842e8>)",
    );
    assert!(!run.stdout.contains("s3cret"), "{}", run.stdout);
    // The same from onramp.yaml.
    let dir = crate::support::dir_with("onramp.yaml", "grafana:\n  url: https://grafana.example\n");
    let config = dir.path().join("onramp.yaml");
    let run = troubleshoot(
        &standin,
        &[
            "--output",
            "json",
            "--config",
            config.to_str().expect("utf-8"),
        ],
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report["findings"][0]["panel"]["url"],
        "https://grafana.example/d/checkout-troubleshooting-779842e8"
    );
}
