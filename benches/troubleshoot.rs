//! Benchmark: `troubleshoot`'s cluster checks against a big namespace.
//!
//! Run with `cargo bench --bench troubleshoot`. The Kubernetes stand-in (TLS,
//! a real kubeconfig, server-side label and field selectors, pagination)
//! holds the namespace `shop` with 2,000 pods of 200 apps and 20,000 warning
//! events; the app `checkout` has 10 of those pods: the healthy case's 2 and
//! 8 crash-looping ones. It
//! prints the wall time of one troubleshoot run (workload, pods, ReplicaSets,
//! Services, EndpointSlices, events, logs), the requests it sent and the
//! objects they returned, against the target of 2 s.

// The 80-line limit (clippy.toml) is for the product's code in src/.
#![allow(clippy::too_many_lines)]

#[path = "../tests/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use onramp::app::AppRef;
use onramp::check::troubleshoot::workload_state;
use onramp::client::kube::{ClusterRef, KubeClient};
use support::kube::{Scenario, Standin};

const APPS: usize = 200;
const PODS_PER_APP: usize = 10;
const EVENTS: usize = 20_000;
const ROUNDS: usize = 7;
const TARGET: Duration = Duration::from_secs(2);

/// One crash-looping pod of `app`, as `kubectl get pod -o yaml` shows it.
fn pod(app: &str, i: usize, now: &str) -> Value {
    let name = format!("{app}-5c7d9b8f4d-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "shop", "uid": format!("b0000000-0000-4000-8000-{:012x}", uid(app, i)),
            "labels": {"app.kubernetes.io/name": app, "pod-template-hash": "5c7d9b8f4d"},
            "creationTimestamp": now
        },
        "spec": {"containers": [{"name": app, "image": format!("ghcr.io/acme/{app}:1.0.0"),
            "resources": {"limits": {"memory": "256Mi"}}}]},
        "status": {
            "phase": "Running", "podIP": format!("10.245.{}.{}", i / 250, i % 250),
            "containerStatuses": [{
                "name": app, "image": format!("ghcr.io/acme/{app}:1.0.0"), "imageID": "", "ready": false,
                "restartCount": 4, "started": false,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}}
            }]
        }
    })
}

/// A number per pod, for uids.
fn uid(app: &str, i: usize) -> usize {
    let n: usize = app.bytes().map(usize::from).sum();
    n * 100_000 + i
}

fn event(pod: &Value, n: usize, now: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{}.{n:016x}", pod["metadata"]["name"].as_str().unwrap_or_default()), "namespace": "shop"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "shop",
            "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
        "reason": "BackOff", "type": "Warning", "count": 3,
        "message": "Back-off restarting failed container",
        "source": {"component": "kubelet"}, "firstTimestamp": now, "lastTimestamp": now
    })
}

/// The namespace: the healthy case's checkout (2 pods) plus 8 crashing
/// pods, 199 other apps of 10 pods, 20,000 events spread over the new pods.
fn populate(standin: &Standin, now: &str) {
    let mut items = Vec::new();
    let mut pods = Vec::new();
    for a in 0..APPS {
        let app = if a == 0 {
            "checkout".to_string()
        } else {
            format!("app-{a:03}")
        };
        // The healthy case already runs 2 checkout pods.
        let count = if a == 0 {
            PODS_PER_APP - 2
        } else {
            PODS_PER_APP
        };
        for i in 0..count {
            pods.push(pod(&app, i, now));
        }
    }
    for n in 0..EVENTS {
        items.push(event(&pods[n % pods.len()], n, now));
    }
    items.extend(pods);
    standin.insert(items);
}

fn main() {
    let standin = Standin::start(Scenario::Troubleshoot("healthy"));
    let now = k8s_openapi::jiff::Timestamp::now();
    let stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let setup = Instant::now();
    populate(&standin, &stamp);
    println!(
        "stand-in: {} pods ({} of checkout), {EVENTS} events, loaded in {} ms",
        APPS * PODS_PER_APP,
        PODS_PER_APP,
        setup.elapsed().as_millis()
    );
    let settings = ClusterRef {
        kubeconfig: Some(standin.kubeconfig()),
        context: None,
        grant: "onramp rbac troubleshoot".into(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = AppRef::parse("checkout", Some("shop".into())).expect("an app");
    let options = workload_state::LookBack {
        since: Duration::from_secs(1800),
        now,
        grafana: None,
    };
    let mut times = Vec::new();
    let mut findings = 0;
    for round in 0..=ROUNDS {
        let before = standin.request_log().len();
        let started = Instant::now();
        let report = runtime.block_on(async {
            let client = KubeClient::connect(&settings).await.expect("connect");
            workload_state::check(&client, &app, &options)
                .await
                .expect("troubleshoot")
        });
        let took = started.elapsed();
        findings = report.findings.len();
        assert!(
            report.findings[0]
                .title
                .starts_with("Container checkout crash-loops"),
            "{:?}",
            report.findings[0].title
        );
        if round == 0 {
            println!(
                "requests per run: {} (first finding: {})",
                standin.request_log().len() - before,
                report.findings[0].title
            );
            continue; // warm-up
        }
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "troubleshoot wall time over {ROUNDS} runs: min {} ms, median {} ms, max {} ms ({findings} findings); target < {} ms: {}",
        times[0].as_millis(),
        median.as_millis(),
        times[times.len() - 1].as_millis(),
        TARGET.as_millis(),
        if median < TARGET { "met" } else { "MISSED" }
    );
}
