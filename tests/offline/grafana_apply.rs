//! Click first in Grafana: `apply` pushes the dashboards, never loses a human
//! edit, and `codify --from-live` brings edits back into code — against the
//! strict Grafana stand-in.

use serde_json::Value;

use crate::support::grafana::{EDITOR_TOKEN, GrafanaStandIn};
use crate::support::{Run, demo_manifests, onramp, onramp_env, read};

const NEEDS: [&str; 3] = [
    "service-health",
    "troubleshooting",
    "feature-flag-engagement",
];

pub(crate) fn uid(need: &str) -> String {
    onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        need,
    )
    .to_string()
}

pub(crate) fn apply(grafana: &GrafanaStandIn, extra: &[&str]) -> Run {
    let manifests = demo_manifests();
    let url = grafana.url();
    let mut args = vec!["apply", "checkout", "-f", &manifests, "--grafana-url", &url];
    args.extend_from_slice(extra);
    onramp_env(&args, &[("GRAFANA_TOKEN", EDITOR_TOKEN)])
}

pub(crate) fn codify_live(grafana: &GrafanaStandIn, out: &std::path::Path) -> Run {
    let manifests = demo_manifests();
    let url = grafana.url();
    let out = out.display().to_string();
    onramp_env(
        &[
            "codify",
            "checkout",
            "-f",
            &manifests,
            "--out",
            &out,
            "--from-live",
            "--grafana-url",
            &url,
        ],
        &[("GRAFANA_TOKEN", EDITOR_TOKEN)],
    )
}

/// The one file in the backup folder `dir`.
pub(crate) fn only_backup(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir).expect("backups").flatten().collect();
    assert_eq!(files.len(), 1, "one backup: {files:?}");
    files[0].path()
}

fn rename_first_panel(d: &mut Value) {
    let panels = d["panels"].as_array_mut().expect("panels");
    let panel = panels
        .iter_mut()
        .find(|p| p["type"] != "row")
        .expect("a panel");
    panel["title"] = Value::from("Requests per second (edited by Alice)");
}

#[test]
fn apply_pushes_every_dashboard_and_a_repush_makes_no_new_version() {
    let grafana = GrafanaStandIn::start();
    let run = apply(&grafana, &[]);
    run.expect_status(0);
    for need in NEEDS {
        let uid = uid(need);
        assert_eq!(grafana.version(&uid), Some(1), "{need}");
        assert!(
            run.stdout
                .contains(&format!("{}/d/{uid}/", grafana.url().trim_end_matches('/'))),
            "full URL for {need}: {}",
            run.stdout
        );
        let tags = grafana.dashboard(&uid).expect("pushed")["tags"].clone();
        assert!(
            tags.as_array().expect("tags").iter().any(|t| t == need),
            "{tags}"
        );
    }
    assert_eq!(run.stdout.matches("created").count(), 3, "{}", run.stdout);
    let meta = grafana.meta(&uid("service-health")).expect("pushed");
    assert_eq!(meta["folderTitle"], "checkout (shop)");

    let again = apply(&grafana, &[]);
    again.expect_status(0);
    assert_eq!(
        again.stdout.matches("unchanged").count(),
        3,
        "{}",
        again.stdout
    );
    for need in NEEDS {
        assert_eq!(
            grafana.version(&uid(need)),
            Some(1),
            "no new version for {need}"
        );
    }
}

#[test]
fn a_human_edit_is_never_overwritten_silently() {
    let grafana = GrafanaStandIn::start();
    apply(&grafana, &[]).expect_status(0);
    let target = uid("service-health");
    let edited_version = grafana
        .edit_as("alice", &target, rename_first_panel)
        .expect("edit");
    let edited = grafana.dashboard(&target).expect("dashboard");

    let run = apply(&grafana, &[]);
    run.expect_status(1);
    let line = run.stdout_line("refused");
    assert!(line.contains("checkout · Service health"), "{line}");
    assert!(
        run.stdout.contains("changed in Grafana by alice at"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--from-live"),
        "suggests codify --from-live: {}",
        run.stdout
    );
    assert_eq!(
        grafana.version(&target),
        Some(edited_version),
        "nothing changed in Grafana"
    );
    assert_eq!(grafana.dashboard(&target), Some(edited));
    // The other dashboards are unaffected and reported.
    assert_eq!(run.stdout.matches("unchanged").count(), 2, "{}", run.stdout);
}

#[test]
fn force_saves_the_live_copy_then_overwrites() {
    let grafana = GrafanaStandIn::start();
    apply(&grafana, &[]).expect_status(0);
    let target = uid("service-health");
    grafana
        .edit_as("alice", &target, rename_first_panel)
        .expect("edit");
    let live = grafana.dashboard(&target).expect("dashboard");
    let backups = tempfile::tempdir().expect("temp dir");
    let dir = backups.path().display().to_string();
    let run = apply(&grafana, &["--force", "--backup-dir", &dir]);
    run.expect_status(0);
    let backup_path = only_backup(backups.path());
    assert!(
        run.stdout.contains(&backup_path.display().to_string()),
        "prints the backup path: {}",
        run.stdout
    );
    let backup: Value = serde_json::from_str(&read(&backup_path)).expect("backup JSON");
    assert_eq!(backup, live, "the backup is the edited live copy");
    let now = grafana.dashboard(&target).expect("dashboard");
    assert!(!now.to_string().contains("edited by Alice"), "overwritten");
}

#[test]
fn codify_from_live_brings_the_edit_into_code_and_the_next_apply_is_clean() {
    let grafana = GrafanaStandIn::start();
    apply(&grafana, &[]).expect_status(0);

    // Pulling right after pushing gives no diff.
    let rendered = crate::support::codify_demo(&[]);
    let pulled = tempfile::tempdir().expect("temp dir");
    codify_live(&grafana, pulled.path()).expect_status(0);
    for need in NEEDS {
        let file = format!("dashboards/{need}.json");
        assert_eq!(
            read(pulled.path().join(&file)),
            read(rendered.path().join(&file)),
            "{file}"
        );
    }

    // A UI edit shows up as exactly that edit.
    let target = uid("service-health");
    grafana
        .edit_as("alice", &target, rename_first_panel)
        .expect("edit");
    let run = codify_live(&grafana, pulled.path());
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("updated    dashboards/service-health.json"),
        "{}",
        run.stdout
    );
    let before = read(rendered.path().join("dashboards/service-health.json"));
    let after = read(pulled.path().join("dashboards/service-health.json"));
    // The content differs by exactly the edit; the marker records the new
    // hash and that the content came from Grafana.
    let mut before_v: Value = serde_json::from_str(&before).expect("json");
    let mut after_v: Value = serde_json::from_str(&after).expect("json");
    assert_eq!(after_v["onramp"]["source"], "grafana");
    assert_ne!(after_v["onramp"]["hash"], before_v["onramp"]["hash"]);
    before_v.as_object_mut().expect("object").remove("onramp");
    after_v.as_object_mut().expect("object").remove("onramp");
    // What the UI adds on save (plugin versions, option defaults) is either
    // normalised away or already in what onramp renders; only Grafana's
    // schema migration stays, as it is the live dashboard's model version.
    assert!(!after.contains("pluginVersion"), "{after}");
    rename_first_panel(&mut before_v);
    before_v["schemaVersion"] = serde_json::json!(crate::support::grafana::UI_SCHEMA_VERSION);
    assert_eq!(
        after_v, before_v,
        "the file differs from the rendering by the edit and the UI's schema migration alone"
    );
    let diff = similar::TextDiff::from_lines(&before, &after);
    let removed: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete)
        .map(|c| c.value().trim().to_string())
        .collect();
    assert!(
        removed.contains(&r#""title": "Request rate","#.to_string()),
        "{removed:?}"
    );

    // From now on the edit is protected in code too: rendering from the
    // needs again neither overwrites the file nor the dashboard.
    let manifests = demo_manifests();
    let out = pulled.path().display().to_string();
    let regenerate = onramp(&["codify", "checkout", "-f", &manifests, "--out", &out]);
    regenerate.expect_status(1);
    assert!(
        regenerate
            .stderr
            .contains("dashboards/service-health.json (it holds an edit pulled from Grafana"),
        "{}",
        regenerate.stderr
    );
    assert_eq!(
        read(pulled.path().join("dashboards/service-health.json")),
        after
    );
    assert!(
        read(pulled.path().join("grafana-dashboards.yaml")).contains("edited by Alice"),
        "the ConfigMap carries the edit too"
    );

    // Applying the codified files pushes without complaint, then is clean.
    let from = pulled.path().display().to_string();
    let run = apply(&grafana, &["--from", &from]);
    run.expect_status(0);
    let again = apply(&grafana, &["--from", &from]);
    again.expect_status(0);
    assert_eq!(
        again.stdout.matches("unchanged").count(),
        3,
        "{}",
        again.stdout
    );
    let rendered_again = apply(&grafana, &[]);
    rendered_again.expect_status(1);
    assert!(rendered_again.stdout.contains("is an edit brought into code with `codify --from-live`; push the codified files with `apply --from DIR`"), "{}", rendered_again.stdout);
    assert!(
        grafana
            .dashboard(&target)
            .expect("dashboard")
            .to_string()
            .contains("edited by Alice")
    );
}

#[test]
fn a_provisioned_dashboard_is_left_alone() {
    let grafana = GrafanaStandIn::start();
    let rendered = crate::support::codify_demo(&[]);
    let dashboard: Value = serde_json::from_str(&read(
        rendered.path().join("dashboards/troubleshooting.json"),
    ))
    .expect("json");
    grafana.provision(dashboard);
    let target = uid("troubleshooting");
    let version = grafana.version(&target);
    let run = apply(&grafana, &[]);
    run.expect_status(0);
    assert!(run.stdout.contains("provisioned"), "{}", run.stdout);
    assert!(
        run.stdout.contains("owned by file provisioning"),
        "{}",
        run.stdout
    );
    assert_eq!(grafana.version(&target), version);
}

#[test]
fn grafana_down_is_exit_3_and_the_summary_says_what_was_not_pushed() {
    let grafana = GrafanaStandIn::start();
    grafana.down();
    let run = apply(&grafana, &[]);
    run.expect_status(3);
    assert!(
        run.stderr.contains(grafana.url().trim_end_matches('/')),
        "names the URL: {}",
        run.stderr
    );
    assert_eq!(
        run.stdout.matches("not pushed").count(),
        3,
        "{}",
        run.stdout
    );
}

#[test]
fn a_few_503s_are_retried_and_a_failing_grafana_stops_with_a_summary() {
    let grafana = GrafanaStandIn::start();
    grafana.fail_next(2, 503);
    apply(&grafana, &[]).expect_status(0);
    assert_eq!(grafana.version(&uid("service-health")), Some(1));

    let broken = GrafanaStandIn::start();
    broken.fail_next(1000, 503);
    let run = apply(&broken, &[]);
    run.expect_status(3);
    assert!(run.stdout.contains("not pushed"), "{}", run.stdout);
    assert_eq!(broken.dashboard_count(), 0);
    assert!(
        broken.request_log().len() < 20,
        "retries are bounded: {} requests",
        broken.request_log().len()
    );
}

#[test]
fn a_bad_token_is_exit_4_rejected_credentials_without_the_token_in_the_message() {
    let grafana = GrafanaStandIn::start();
    let manifests = demo_manifests();
    let url = grafana.url();
    let secret = "glsa_not_a_real_token_abcdef0123456789";
    let run = onramp_env(
        &["apply", "checkout", "-f", &manifests, "--grafana-url", &url],
        &[("GRAFANA_TOKEN", secret)],
    );
    run.expect_status(4);
    assert!(
        run.stderr.to_lowercase().contains("unauthorized") || run.stderr.contains("401"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(secret) && !run.stdout.contains(secret),
        "the token leaked"
    );
}

#[test]
fn plan_shows_what_apply_would_do_in_grafana_and_flags_human_edits() {
    let grafana = GrafanaStandIn::start();
    let manifests = demo_manifests();
    let url = grafana.url();
    let plan = || {
        onramp_env(
            &["plan", "checkout", "-f", &manifests, "--grafana-url", &url],
            &[("GRAFANA_TOKEN", EDITOR_TOKEN)],
        )
    };
    let before = plan();
    before.expect_status(0);
    assert_eq!(
        before.stdout.matches("  create  ").count(),
        3,
        "{}",
        before.stdout
    );
    apply(&grafana, &[]).expect_status(0);
    grafana
        .edit_as("alice", &uid("service-health"), rename_first_panel)
        .expect("edit");
    let after = plan();
    after.expect_status(0);
    assert!(after.stdout.contains("EDITED"), "{}", after.stdout);
    assert!(
        after
            .stdout
            .contains("+panel \"Requests per second (edited by Alice)\""),
        "{}",
        after.stdout
    );
    assert!(
        after.stdout.contains("-panel \"Request rate\""),
        "{}",
        after.stdout
    );
    assert_eq!(
        after.stdout.matches("unchanged").count(),
        2,
        "{}",
        after.stdout
    );
}

#[test]
fn rendered_dashboards_are_already_normalised() {
    // What makes "pull right after push gives no diff" hold.
    let dir = crate::support::codify_demo(&[]);
    for need in NEEDS {
        let text = read(dir.path().join(format!("dashboards/{need}.json")));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            onramp::plan::stamp::to_json(&onramp::client::grafana::normalize(&value)),
            text,
            "{need}"
        );
    }
}

#[test]
fn apply_without_any_sink_says_what_to_pass() {
    let run = onramp(&["apply", "checkout", "-f", &demo_manifests()]);
    run.expect_status(2);
    assert!(run.stderr.contains("--grafana-url"), "{}", run.stderr);
}
