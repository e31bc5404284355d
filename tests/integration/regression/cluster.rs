//! Regressions of reading the app and its Prometheus from the cluster.

use std::time::{Duration, Instant};

use crate::detect::detect_in;
use crate::support::kube::{Scenario, Standin};

/// kube's client retries a 503 up to 15 times with a backoff of up to 1000 s;
/// through the service proxy a 503 is the Service's own answer ("no
/// endpoints available"), so `plan` sat for minutes before planning.
#[test]
fn a_503_through_the_service_proxy_is_not_retried_for_minutes() {
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
    assert_eq!(proxied, 1, "{:?}", standin.request_log());
}
