//! `verify --wait` shows its progress on a terminal — a spinner with the round
//! and what still fails — and nothing extra when its output is piped.

use std::process::Command;

use crate::support::prometheus::{PrometheusOptions, PrometheusServer};
use crate::support::{demo_manifests, repo_path};

/// The verify command line against `url`, waiting `wait`.
fn verify_args(url: &str, wait: &str) -> Vec<String> {
    [
        "verify",
        "checkout",
        "-f",
        &demo_manifests(),
        "--prometheus-url",
        url,
        "--wait",
        wait,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
#[cfg_attr(
    not(prometheus),
    ignore = "needs prometheus and promtool 2.x: apt-get install prometheus (ONRAMP_TEST_PROMETHEUS)"
)]
fn verify_wait_on_a_terminal_shows_the_round_and_what_still_fails() {
    // A real Prometheus that does not scrape the app: every round fails.
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let mut line = vec![env!("CARGO_BIN_EXE_onramp").to_string()];
    line.extend(verify_args(&prometheus.url(), "5s"));
    // `script` runs the command on a pseudo-terminal and copies what it
    // shows, spinner frames included.
    let out = Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(repo_path(""))
        .env_remove("NO_COLOR")
        .output()
        .expect("script (util-linux) runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("round 2: ") && shown.contains("not passing yet"),
        "the spinner names the round and what still fails:\n{shown}"
    );
    assert!(shown.contains("target"), "{shown}");
    assert!(shown.contains("FAILED"), "the report follows: {shown}");
}

#[test]
#[cfg_attr(
    not(prometheus),
    ignore = "needs prometheus and promtool 2.x: apt-get install prometheus (ONRAMP_TEST_PROMETHEUS)"
)]
fn verify_wait_piped_prints_no_progress() {
    let prometheus = PrometheusServer::start(PrometheusOptions::default());
    let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(verify_args(&prometheus.url(), "3s"))
        .current_dir(repo_path(""))
        .output()
        .expect("onramp runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(!stderr.contains("round"), "no spinner when piped: {stderr}");
    assert!(!stdout.contains("round 2:"), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
}
