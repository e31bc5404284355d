//! Bad input: each case gets a clear message naming what and where, exit
//! status 2, no panic, and no artifact.

use crate::support::{bad_fixture, demo_manifests, onramp, onramp_in, repo_path};

#[track_caller]
fn fails_with(args: &[&str], expected: &[&str]) {
    let run = onramp(args);
    run.expect_status(2);
    for part in expected {
        assert!(
            run.stderr.contains(part),
            "stderr lacks {part:?}:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "nothing is printed as a result: {}",
        run.stdout
    );
}

#[test]
fn broken_yaml_names_file_and_line() {
    let f = bad_fixture("broken-yaml.yaml");
    fails_with(&["plan", "broken", "-f", &f], &[&format!("{f}:6:")]);
}

#[test]
fn a_name_with_a_quote_is_refused() {
    fails_with(
        &["plan", "evil\"name", "-f", &bad_fixture("quote-name.yaml")],
        &[
            "quote-name.yaml:1",
            r#"Deployment name "evil\"name""#,
            "lower-case letters, digits and '-'",
        ],
    );
}

#[test]
fn a_label_value_with_braces_is_refused() {
    fails_with(
        &["plan", "braces", "-f", &bad_fixture("brace-label.yaml")],
        &["brace-label.yaml:1", r#"the value "{x}""#],
    );
}

#[test]
fn a_metrics_path_with_newline_backslash_and_quote_is_refused() {
    fails_with(
        &["plan", "newline", "-f", &bad_fixture("newline-path.yaml")],
        &[
            "newline-path.yaml:1",
            "prometheus.io/path",
            "must not contain spaces, quotes, backslashes or braces",
        ],
    );
}

#[test]
fn no_artifact_is_written_on_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out").display().to_string();
    let run = onramp(&[
        "codify",
        "braces",
        "-f",
        &bad_fixture("brace-label.yaml"),
        "--out",
        &out,
    ]);
    run.expect_status(2);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_broken_need_file_names_file_and_line() {
    let dir = repo_path("tests/fixtures/needs-bad");
    let needs_dir = dir.display().to_string();
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--needs-dir",
            &needs_dir,
        ],
        &[
            "bad-need.yaml:15:",
            r#"unknown signal "thingz""#,
            "this need's signals: things",
        ],
    );
}

#[test]
fn a_need_file_with_a_typo_in_a_field_names_the_field() {
    let dir = crate::support::dir_with(
        "mine.yaml",
        "id: mine\ntitle: Mine\nstory: s\nsignals: {}\npanels: []\nwalkthrough: w\nalertz: []\n",
    );
    let needs_dir = dir.path().display().to_string();
    fails_with(
        &["needs", "--needs-dir", &needs_dir],
        &["mine.yaml:7:", "alertz"],
    );
}

#[test]
fn an_unknown_need_lists_the_catalog() {
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--need",
            "latency",
        ],
        &[
            r#"unknown need "latency""#,
            "service-health, troubleshooting, feature-flag-engagement",
        ],
    );
}

#[test]
fn a_signal_mapped_to_an_invalid_metric_name_is_refused() {
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--signal",
            "requests=http requests{}",
        ],
        &["--signal", "not a valid Prometheus metric name"],
    );
}

#[test]
fn a_mapping_for_an_unknown_signal_lists_the_signals() {
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--signal",
            "reqs=x_total",
        ],
        &[r#"no need in use has a signal "reqs""#, "requests"],
    );
}

#[test]
fn a_missing_manifest_file_is_named() {
    fails_with(
        &["plan", "checkout", "-f", "/no/such/dir"],
        &["cannot read /no/such/dir"],
    );
}

#[test]
fn no_manifests_says_what_to_pass() {
    fails_with(&["plan", "checkout"], &["pass -f FILE|DIR|-"]);
}

#[test]
fn a_manifest_without_kind_is_reported() {
    let run = onramp_in(
        None,
        &["plan", "x", "-f", "-"],
        Some("metadata:\n  name: x\n"),
    );
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("<stdin>:1: this document has no `apiVersion` or `kind`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_config_file_names_file_and_line() {
    let dir = crate::support::dir_with(
        "onramp.yaml",
        "labels:\n  release: kps\nrunbook_base_ulr: x\n",
    );
    let manifests = demo_manifests();
    let run = onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", &manifests],
        None,
    );
    run.expect_status(2);
    assert!(run.stderr.contains("onramp.yaml:3:"), "{}", run.stderr);
    assert!(run.stderr.contains("runbook_base_ulr"), "{}", run.stderr);
}

#[test]
fn an_invalid_label_flag_is_refused() {
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--label",
            "release",
        ],
        &["--label \"release\": write KEY=VALUE"],
    );
    fails_with(
        &[
            "plan",
            "checkout",
            "-f",
            &demo_manifests(),
            "--label",
            "release=a\"b",
        ],
        &["--label"],
    );
}

#[test]
fn a_malformed_sidecar_label_in_the_config_file_names_file_and_setting() {
    let dir = crate::support::dir_with("onramp.yaml", "grafana:\n  sidecar_label: \"a b=1\"\n");
    let manifests = demo_manifests();
    let run = onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", &manifests],
        None,
    );
    run.expect_status(2);
    assert!(
        run.stderr.contains("onramp.yaml")
            && run.stderr.contains("grafana.sidecar_label \"a b=1\"")
            && run
                .stderr
                .contains("write KEY=VALUE, e.g. grafana_dashboard=1"),
        "{}",
        run.stderr
    );
}
