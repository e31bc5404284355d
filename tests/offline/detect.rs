//! `onramp detect` and `onramp rbac` without a cluster: no kubeconfig found
//! (what onramp looked at and how to point at one) and `rbac --help`. The
//! tests against the Kubernetes stand-in and the real kube-apiserver are in
//! `tests/integration/detect.rs`.

use crate::support::kube::run as detect_in;

#[test]
fn no_kubeconfig_says_where_onramp_looked_and_how_to_point_at_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = detect_in(dir.path(), &["detect"]);
    run.expect_status(2);
    assert!(run.stderr.contains("no Kubernetes cluster configured: looked at --kubeconfig (not given), KUBECONFIG (not set), "), "{}", run.stderr);
    assert!(run.stderr.contains(".kube/config (not found)"));
    assert!(
        run.stderr
            .contains("pass --kubeconfig FILE, set KUBECONFIG")
    );
}

#[test]
fn rbac_help_matches_its_snapshot_and_lists_every_command_with_a_role() {
    let run = crate::support::onramp(&["rbac", "--help"]);
    run.expect_status(0);
    for command in ["detect", "troubleshoot", "plan", "apply", "onboard"] {
        assert!(
            run.stdout.contains(&format!("- {command}:")),
            "{command} in:\n{}",
            run.stdout
        );
    }
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("rbac-help", run.stdout);
    });
}
