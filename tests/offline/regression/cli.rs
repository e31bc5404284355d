//! Regressions of the command line's own output: a closed pipe, an `--out`
//! that is a file, and what `plan` says about Prometheus.

use std::process::{Command, Stdio};

use super::{demo, prometheus_whose_reload_breaks};
use crate::support::{demo_manifests, onramp, read};

#[test]
fn writing_the_plan_into_a_closed_pipe_failed_with_a_message() {
    let manifests = demo_manifests();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(["plan", "checkout", "-f", &manifests, "-o", "json"])
        .current_dir(crate::support::repo())
        .env_remove("PROMETHEUS_URL")
        .env_remove("GRAFANA_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("onramp runs");
    // Close the reading end before onramp writes, as `| true` does.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("onramp finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "no message for a closed pipe: {stderr}");
}

#[test]
fn out_pointing_at_a_file_did_not_say_it_is_not_a_folder() {
    let dir = crate::support::dir_with("out.txt", "mine\n");
    let out = dir.path().join("out.txt").display().to_string();
    let run = onramp(&[
        "codify",
        "checkout",
        "-f",
        &crate::support::demo_manifests(),
        "--out",
        &out,
    ]);
    run.expect_status(2);
    assert!(
        run.stderr
            .contains(&format!("--out {out}: {out} is a file, not a folder")),
        "{}",
        run.stderr
    );
    assert_eq!(read(&out), "mine\n");
}

#[test]
fn plan_did_not_say_whether_prometheus_was_consulted_and_what_it_found() {
    let run = demo("plan", &[]);
    run.expect_status(0);
    assert!(
        run.stdout.contains("Prometheus was not consulted"),
        "{}",
        run.stdout
    );
    let nowhere = tempfile::tempdir().expect("temp dir");
    let url = prometheus_whose_reload_breaks(nowhere.path().join("unused"));
    let run = demo("plan", &["--prometheus-url", &url]);
    run.expect_status(0);
    assert!(
        run.stdout.contains(&format!("Prometheus {url}/ was consulted for namespace=\"shop\", job=\"checkout\": it has no series of the app yet")),
        "{}",
        run.stdout
    );
    let run = demo("plan", &["--prometheus-url", &url, "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(plan["prometheus"]["consulted"], true);
    assert_eq!(plan["prometheus"]["metric_names_found"], 0);
}

#[test]
fn rbac_n_for_a_command_that_writes_nothing_was_ignored_silently() {
    let run = crate::support::onramp(&["rbac", "troubleshoot", "-n", "shop"]);
    run.expect_status(0);
    assert!(
        run.stdout.contains(
            "# -n shop narrows only what apply and onboard write: `onramp troubleshoot` writes nothing, and it reads the monitoring stack and Prometheus outside shop, so its role stays a ClusterRole.\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kind: ClusterRole"), "{}", run.stdout);
    assert!(!run.stdout.contains("kind: Role\n"), "{}", run.stdout);
    // Without -n, no such line.
    let plain = crate::support::onramp(&["rbac", "troubleshoot"]);
    assert!(!plain.stdout.contains("narrows only"), "{}", plain.stdout);
}
