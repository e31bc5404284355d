//! The onramp command lines the end-to-end suite runs, kept in one place:
//! the suite runs them on kind, and the offline test
//! `an_onramp_line_of_the_demo_or_the_e2e_suite_did_not_parse` feeds each to
//! onramp's own parser, so a line that no longer parses fails here, not
//! only on a kind runner.

/// The demo's kind context (`kind-config.yaml`'s cluster).
pub const CONTEXT: &str = "kind-onramp";
/// Where the demo publishes Prometheus.
pub const PROMETHEUS: &str = "http://localhost:9090";
/// Where the demo publishes Grafana.
pub const GRAFANA: &str = "http://localhost:3000";
/// The demo shop's checkout manifests.
pub const MANIFESTS: &str = "examples/shop/k8s/checkout.yaml";

/// Each `demo break` scenario, the words troubleshoot's first finding must
/// name, and how many minutes it may take.
pub const BREAKS: [(&str, &[&str], u64); 6] = [
    ("errors", &["fail-error-rate"], 8),
    ("latency", &["fail-latency"], 8),
    ("crashloop", &["CrashLoopBackOff"], 5),
    ("oom", &["OOMKilled"], 5),
    ("bad-config", &["api-token"], 5),
    ("bad-image", &["v0.0.0-does-not-exist"], 5),
];

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_string()).collect()
}

/// `onramp demo ARGS`.
pub fn demo(args: &[&str]) -> Vec<String> {
    owned(&[&["demo"], args].concat())
}

/// `verify` of the checkout's manifests against the demo's Prometheus.
pub fn verify() -> Vec<String> {
    owned(&[
        "verify",
        "checkout",
        "-f",
        MANIFESTS,
        "--prometheus-url",
        PROMETHEUS,
        "--wait",
        "10m",
    ])
}

/// `troubleshoot` of the checkout on the demo cluster, as JSON.
pub fn troubleshoot() -> Vec<String> {
    owned(&[
        "troubleshoot",
        "checkout",
        "-n",
        "shop",
        "--context",
        CONTEXT,
        "--prometheus-url",
        PROMETHEUS,
        "--output",
        "json",
    ])
}

/// `codify` of the checkout's manifests into `out`.
pub fn codify(out: &str) -> Vec<String> {
    owned(&["codify", "checkout", "-f", MANIFESTS, "--out", out])
}

/// `apply` of the checkout's dashboards to the demo's Grafana.
pub fn apply_to_grafana() -> Vec<String> {
    owned(&[
        "apply",
        "checkout",
        "-f",
        MANIFESTS,
        "--grafana-url",
        GRAFANA,
    ])
}

/// `codify --from-live`: the dashboards as Grafana holds them, into `out`.
pub fn codify_from_live(out: &str) -> Vec<String> {
    owned(&[
        "codify",
        "checkout",
        "-f",
        MANIFESTS,
        "--from-live",
        "--grafana-url",
        GRAFANA,
        "--out",
        out,
    ])
}

/// Every onramp line the suite runs, in its order (with `out` for the
/// folders it codifies into).
pub fn all(out: &str) -> Vec<Vec<String>> {
    let mut lines = vec![demo(&["up"]), verify()];
    for (scenario, _, _) in BREAKS {
        lines.extend([demo(&["break", scenario]), troubleshoot(), demo(&["fix"])]);
    }
    lines.extend([
        codify(out),
        apply_to_grafana(),
        codify_from_live(out),
        demo(&["down"]),
    ]);
    lines
}
