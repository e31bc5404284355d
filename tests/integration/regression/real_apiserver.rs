//! Regressions a real kube-apiserver showed and no stand-in did (issue 17):
//! a 403 that was not RBAC reported as RBAC, a log that could not be read
//! vanishing from troubleshoot's report, and one resource type the server
//! does not serve ending the whole report. Each case is injected into the
//! stand-in worded as the real server words it ([`Fault`]).

use serde_json::{Value, json};

use crate::support::Run;
use crate::support::kube::{Fault, Scenario, Standin};
use crate::troubleshoot::troubleshoot;

/// The two crash-looping pods of the `crashloop` case.
const FIRST_POD: &str = "checkout-5c7d9b8f4d-h8xkq";
const SECOND_POD: &str = "checkout-5c7d9b8f4d-m2vtn";

/// The previous log's path of one of its pods.
fn log_path(pod: &str) -> String {
    format!("/api/v1/namespaces/shop/pods/{pod}/log")
}

/// `onramp ARGS --kubeconfig …` in a fresh folder.
fn against(standin: &Standin, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
    crate::detect::detect_in(dir.path(), &all)
}

/// The JSON report of a troubleshoot run that exited `status` (what it
/// printed shown with `--nocapture`).
fn json_report(standin: &Standin, status: i32) -> Value {
    let run = troubleshoot(standin, &["--output", "json"]);
    println!("--- troubleshoot: exit {}\n{}", run.status, run.stderr);
    run.expect_status(status);
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", run.stdout));
    println!("--- not_checked: {:#}", report["not_checked"]);
    report
}

/// The `not_checked` entry about `what`.
fn gap<'a>(report: &'a Value, what: &str) -> &'a Value {
    report["not_checked"]
        .as_array()
        .expect("not_checked")
        .iter()
        .find(|g| g["what"] == what)
        .unwrap_or_else(|| panic!("no not_checked entry {what:?} in {report:#}"))
}

/// Through the service proxy the destination was refused by the network
/// (403, plain text `resolve_deny: denied destination`): onramp told a
/// cluster admin to bind `services/proxy` from `onramp rbac plan`.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_proxy_refusal_by_the_network_was_reported_as_missing_rbac() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    standin.proxy_answers(
        "monitoring",
        "prometheus-operated",
        "9090",
        Fault::text(403, "resolve_deny: denied destination"),
    );
    let run = against(&standin, &["verify", "checkout", "-n", "shop"]);
    println!("--- verify: exit {}\n{}", run.status, run.stderr);
    run.expect_status(3);
    assert!(
        run.stderr.contains("was refused (HTTP 403: resolve_deny: denied destination), and not by the API server's authorization (that answers a Status with reason Forbidden)")
            && run.stderr.contains("pass --prometheus-url to reach Prometheus another way"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("onramp rbac") && !run.stderr.contains("needs get and create"),
        "{}",
        run.stderr
    );
}

/// The same refusal on a request to the API server itself (a plain-text
/// 403 from something in front of it): troubleshoot said "forbidden … grant
/// it with `onramp rbac troubleshoot`".
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_plain_text_403_on_a_list_was_reported_as_missing_rbac() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    for path in [
        "/api/v1/namespaces/shop/services",
        "/api/v1/namespaces/shop/events",
    ] {
        standin.fail(path, Fault::text(403, "resolve_deny: denied destination"));
    }
    let report = json_report(&standin, 1);
    // Two checks refused alike are two entries, not one.
    for what in ["the Services", "the events"] {
        assert_eq!(
            gap(&report, what)["why"],
            "refused with HTTP 403 (resolve_deny: denied destination), which is not the API server's authorization refusing onramp (that is a Status with reason Forbidden): something between onramp and the API server refused the request"
        );
    }
    // And neither is claimed as checked.
    let checked = report["checked"].to_string();
    assert!(
        !checked.contains("Service(s) selecting") && !checked.contains("warning event(s)"),
        "{checked}"
    );
}

/// `GET pods/NAME/log?previous=true` answered 404 (the pod was gone):
/// troubleshoot printed no log and neither `Checked:` nor `Not checked:`
/// mentioned it; the crash's first finding did not say the log was missing.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_log_that_could_not_be_read_vanished_from_the_report() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    for pod in [FIRST_POD, SECOND_POD] {
        standin.fail(&log_path(pod), Fault::pod_gone(pod));
    }
    let report = json_report(&standin, 1);
    println!("--- first finding: {:#}", report["findings"][0]);
    assert_eq!(
        gap(
            &report,
            &format!("the previous log of {FIRST_POD}/checkout")
        )["why"],
        format!("the API server answered 404: pods \"{FIRST_POD}\" not found")
    );
    let first = &report["findings"][0];
    assert_eq!(
        first["title"],
        "Container checkout crash-loops: exit code 1 (Error); its previous log, which would say why, could not be read"
    );
    assert!(
        first["evidence"].as_array().expect("evidence").contains(&json!(format!(
            "the previous log of {FIRST_POD}/checkout could not be read: the API server answered 404: pods \"{FIRST_POD}\" not found"
        ))),
        "{first:#}"
    );
    assert_eq!(
        first["next_step"],
        format!(
            "read the log of the crash: kubectl -n shop logs {FIRST_POD} -c checkout --previous, or your cluster's log store if the API server cannot serve it; kubectl -n shop describe pod {FIRST_POD} shows the last state and the events"
        )
    );

    let text = troubleshoot(&standin, &[]);
    text.expect_status(1);
    let line = format!(
        "Not checked: the previous log of {FIRST_POD}/checkout — the API server answered 404: pods \"{FIRST_POD}\" not found"
    );
    assert!(text.stdout.contains(&line), "{}", text.stdout);
    let markdown = troubleshoot(&standin, &["--output", "markdown"]);
    markdown.expect_status(1);
    assert!(
        markdown.stdout.contains(&format!(
            "Not checked: the previous log of {FIRST_POD}/checkout"
        )),
        "{}",
        markdown.stdout
    );
}

/// The API server could not dial the kubelet for a log (500 with the dial
/// error; 502 when the kubelet's tunnel answered): troubleshoot exited 3
/// with no report at all.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_kubelet_that_could_not_be_reached_ended_the_report() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    let dial = format!(
        "https://172.18.0.2:10250/containerLogs/shop/{FIRST_POD}/checkout?previous=true&tailLines=20"
    );
    standin.fail(
        &log_path(FIRST_POD),
        Fault::kubelet_unreachable(
            &dial,
            "dial tcp 172.18.0.2:10250: connect: connection refused",
        ),
    );
    standin.fail(
        &log_path(SECOND_POD),
        Fault::kubelet_failed(502, SECOND_POD, "502 Bad Gateway"),
    );
    let report = json_report(&standin, 1);
    assert_eq!(
        gap(
            &report,
            &format!("the previous log of {FIRST_POD}/checkout")
        )["why"],
        format!(
            "the API server answered 500: Get \"{dial}\": dial tcp 172.18.0.2:10250: connect: connection refused"
        )
    );
    assert_eq!(
        gap(
            &report,
            &format!("the previous log of {SECOND_POD}/checkout")
        )["why"],
        format!(
            "the API server answered 502: an error on the server (\"502 Bad Gateway\") has prevented the request from succeeding ( pods/log {SECOND_POD})"
        )
    );
    assert!(
        report["findings"][0]["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("could not be read")),
        "{report:#}"
    );
}

/// A list answered 404 for a whole resource type (discovery.k8s.io/v1 not
/// served, or an aggregated API down): troubleshoot exited 3, no report.
#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_resource_type_the_server_does_not_serve_ended_the_whole_report() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    standin.fail(
        "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices",
        Fault::not_served(),
    );
    let report = json_report(&standin, 1);
    assert_eq!(
        gap(&report, "the endpoints of Service checkout")["why"],
        "the API server does not serve endpointslices.discovery.k8s.io (v1) (404: 404 page not found): an API it does not serve, or an aggregated API that is down; `kubectl api-resources` lists what it serves"
    );
    // Everything else is still reported: the cause first, from the log.
    assert_eq!(
        report["findings"][0]["title"],
        "Container checkout crash-loops: FATAL invalid configuration: PAYMENT_TIMEOUT=\"3 seconds\" is not a duration (write e.g. 3s or 500ms)"
    );
    let checked = report["checked"].as_array().expect("checked");
    assert!(
        !checked.contains(&json!("endpoints of Service checkout"))
            && checked.contains(&json!("1 Service(s) selecting the pods"))
            && checked.contains(&json!("1 ReplicaSet(s) of the rollout")),
        "{report:#}"
    );
}
