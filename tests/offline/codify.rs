//! `onramp codify`: writes files atomically, idempotently, and never touches
//! a file it did not write.

use std::path::Path;

use crate::support::{codify_demo, demo_manifests, onramp, read};

const DEMO_FILES: &[&str] = &[
    "servicemonitor.yaml",
    "prometheusrule.yaml",
    "dashboards/service-health.json",
    "dashboards/troubleshooting.json",
    "dashboards/feature-flag-engagement.json",
    "grafana-dashboards.yaml",
    "runbook.md",
    "kustomization.yaml",
    "prometheus/scrape-config.yaml",
    "prometheus/rules.yaml",
];

fn codify(out: &Path) -> crate::support::Run {
    let out = out.display().to_string();
    onramp(&["codify", "checkout", "-f", &demo_manifests(), "--out", &out])
}

#[test]
fn codify_writes_every_artifact_of_the_demo_app() {
    let dir = codify_demo(&[]);
    for file in DEMO_FILES {
        assert!(dir.path().join(file).is_file(), "{file} was not written");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("out dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn codify_twice_changes_nothing() {
    let dir = codify_demo(&[]);
    let path = dir.path().join("runbook.md");
    let before = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let run = codify(dir.path());
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("0 created, 0 updated, 10 unchanged, 0 removed."),
        "{}",
        run.stdout
    );
    let after = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after, "an unchanged file was rewritten");
}

#[test]
fn codify_refuses_to_overwrite_a_file_it_did_not_write_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mine = "# my own hand-written rule file\ngroups: []\n";
    std::fs::write(dir.path().join("prometheusrule.yaml"), mine).expect("write");
    let run = codify(dir.path());
    run.expect_status(1);
    assert!(
        run.stderr.contains("refusing to overwrite"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("prometheusrule.yaml (it has no onramp stamp"),
        "{}",
        run.stderr
    );
    assert_eq!(read(dir.path().join("prometheusrule.yaml")), mine);
    assert!(
        !dir.path().join("servicemonitor.yaml").exists(),
        "a refusal must leave the folder untouched"
    );
}

#[test]
fn codify_refuses_files_it_wrote_for_another_app() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().display().to_string();
    let podinfo = crate::support::fixture("podinfo.yaml");
    onramp(&["codify", "podinfo", "-f", &podinfo, "--out", &out]).expect_status(0);
    let run = codify(dir.path());
    run.expect_status(1);
    assert!(
        run.stderr.contains("onramp wrote it for web/podinfo"),
        "{}",
        run.stderr
    );
}

#[test]
fn codify_updates_its_own_files_and_removes_what_the_plan_dropped() {
    let dir = codify_demo(&[]);
    let runbook = dir.path().join("runbook.md");
    let before = read(&runbook);
    let out = dir.path().display().to_string();
    let run = onramp(&[
        "codify",
        "checkout",
        "-f",
        &demo_manifests(),
        "--out",
        &out,
        "--need",
        "troubleshooting",
    ]);
    run.expect_status(0);
    assert!(
        run.stdout.contains("updated    runbook.md"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("removed    dashboards/service-health.json"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("dashboards/service-health.json").exists());
    assert!(dir.path().join("dashboards/troubleshooting.json").exists());
    let after = read(&runbook);
    assert_ne!(after, before);
    assert!(!after.contains("dashboards/service-health.json"), "{after}");
}

#[test]
fn codify_leaves_unrelated_files_alone() {
    let dir = crate::support::dir_with("NOTES.md", "team notes\n");
    codify(dir.path()).expect_status(0);
    codify(dir.path()).expect_status(0);
    assert_eq!(read(dir.path().join("NOTES.md")), "team notes\n");
}

#[test]
fn dashboard_configmaps_carry_exactly_the_dashboard_files() {
    let dir = codify_demo(&[]);
    let docs = crate::support::yaml_documents(&read(dir.path().join("grafana-dashboards.yaml")));
    assert_eq!(docs.len(), 3);
    for doc in &docs {
        assert_eq!(doc["metadata"]["labels"]["grafana_dashboard"], "1");
        assert_eq!(
            doc["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "onramp"
        );
        let need = doc["metadata"]["labels"]["onramp.dev/need"]
            .as_str()
            .expect("need label");
        let data = doc["data"].as_object().expect("data");
        assert_eq!(data.len(), 1, "one dashboard per ConfigMap");
        let json = data
            .values()
            .next()
            .and_then(|v| v.as_str())
            .expect("json text");
        assert_eq!(
            json,
            read(dir.path().join(format!("dashboards/{need}.json")))
        );
    }
}
