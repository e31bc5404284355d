//! Regressions of dashboards in Grafana: a person's edits and folders, the
//! sidecar's folder, need folders, and links Grafana cannot open.

use std::path::Path;

use super::{demo_env, edited_need};
use crate::support::{Run, onramp, onramp_in, read, repo_path};

#[test]
fn the_diff_of_a_grafana_edit_did_not_label_grafana_as_the_side_with_the_edit() {
    use crate::support::grafana::GrafanaStandIn;
    let grafana = GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    grafana
        .edit_as("alice", &uid, |d| {
            let panel = d["panels"]
                .as_array_mut()
                .and_then(|p| p.iter_mut().find(|p| p["type"] != "row"))
                .expect("a panel");
            panel["title"] = serde_json::Value::from("Added by Alice");
        })
        .expect("edit");
    let run = against_grafana(&grafana, &["plan"]);
    run.expect_status(0);
    let diff: Vec<&str> = run
        .stdout
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("---"))
        .collect();
    assert_eq!(diff.first(), Some(&"--- onramp"), "{}", run.stdout);
    assert_eq!(diff.get(1), Some(&"+++ grafana"), "{}", run.stdout);
    let added = diff.iter().find(|l| l.contains("Added by Alice"));
    assert!(
        added.is_some_and(|l| l.starts_with('+')),
        "Alice's line is on the grafana (+) side: {}",
        run.stdout
    );
}

/// `onramp COMMAND` for the demo app against the Grafana stand-in, as an editor.
fn against_grafana(grafana: &crate::support::grafana::GrafanaStandIn, args: &[&str]) -> Run {
    let url = grafana.url();
    let mut extra = vec!["--grafana-url", &url];
    extra.extend_from_slice(&args[1..]);
    let token = ("GRAFANA_TOKEN", crate::support::grafana::EDITOR_TOKEN);
    demo_env(args[0], &extra, &[token])
}

#[test]
fn apply_moved_back_a_dashboard_a_person_moved_to_another_folder_without_a_word() {
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    let moved_to = grafana.move_as("alice", &uid, "Team SRE").expect("move");
    // A new runbook URL changes the dashboards' links: apply saves them again.
    let run = against_grafana(
        &grafana,
        &["apply", "--runbook-url", "https://wiki/checkout"],
    );
    run.expect_status(0);
    let meta = grafana.meta(&uid).expect("still there");
    assert_eq!(meta["folderUid"], moved_to.as_str(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("kept in folder \"Team SRE\", where it was moved in Grafana"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_sidecar_configmaps_and_apply_used_different_folders() {
    let out = crate::support::codify_demo(&[]);
    let configmaps = read(out.path().join("grafana-dashboards.yaml"));
    let folders: Vec<String> = crate::support::yaml_documents(&configmaps)
        .iter()
        .map(|d| {
            d["metadata"]["annotations"]["grafana_folder"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(!folders.is_empty(), "{configmaps}");
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    let title = grafana.meta(&uid).expect("pushed")["folderTitle"].clone();
    for folder in &folders {
        assert_eq!(
            title,
            folder.as_str(),
            "apply's folder and the ConfigMaps' differ"
        );
    }
    assert_eq!(title, "checkout (shop)");
}

#[test]
fn a_need_with_id_folder_took_the_grafana_folders_uid() {
    let (dir, _) = edited_need("service-health", "id: service-health", "id: folder");
    let needs_dir = dir.path().display().to_string();
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    let run = against_grafana(
        &grafana,
        &["apply", "--needs-dir", &needs_dir, "--need", "folder"],
    );
    run.expect_status(0);
    let dashboard = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "folder",
    )
    .to_string();
    assert!(grafana.dashboard(&dashboard).is_some(), "{}", run.stdout);
    assert_eq!(
        grafana.folder_title(&dashboard),
        None,
        "a folder has the dashboard's uid: {}",
        run.stdout
    );
}

#[test]
fn dashboard_links_pointed_at_what_grafana_cannot_open() {
    let manifests = repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    let codify = |config: &str| {
        let dir = crate::support::dir_with("onramp.yaml", config);
        let run = onramp_in(
            Some(dir.path()),
            &["codify", "checkout", "-f", &manifests, "--out", "out"],
            None,
        );
        run.expect_status(0);
        (dir, run)
    };
    let links = |dir: &Path| -> Vec<serde_json::Value> {
        let d: serde_json::Value =
            serde_json::from_str(&read(dir.join("out/dashboards/service-health.json")))
                .expect("dashboard JSON");
        d["links"].as_array().expect("links").clone()
    };

    let (bare, run) = codify("{}\n");
    assert!(links(bare.path()).iter().all(|l| l["title"] != "Runbook"));
    assert!(
        run.stdout
            .contains("note: The runbook has no address a person can open")
    );
    assert!(
        run.stdout
            .contains("note: The runbook names the dashboards by uid, without links")
    );
    let runbook = read(bare.path().join("out/runbook.md"));
    assert!(!runbook.contains("](dashboards/"), "links to JSON files");
    assert!(runbook.contains("search for uid `checkout-service-health-df9c7e84`"));

    let (published, run) = codify(
        "runbook_base_url: https://git.example.com/runbook.md\ngrafana: {url: https://grafana.example.com}\n",
    );
    assert!(
        links(published.path())
            .iter()
            .any(|l| l["title"] == "Runbook" && l["url"] == "https://git.example.com/runbook.md")
    );
    assert!(!run.stdout.contains("The runbook has no address"));
    let runbook = read(published.path().join("out/runbook.md"));
    assert!(runbook.contains(
        "[Open the dashboard](https://grafana.example.com/d/checkout-service-health-df9c7e84)"
    ));

    // A Grafana URL on the command line links too, never with its password.
    let out = tempfile::tempdir().expect("temp dir");
    let run = onramp(&[
        "codify",
        "checkout",
        "-f",
        &manifests,
        "--out",
        &out.path().display().to_string(),
        "--grafana-url",
        "http://admin:s3cret@grafana.example.com/grafana",
    ]);
    run.expect_status(0);
    let runbook = read(out.path().join("runbook.md"));
    assert!(runbook.contains(
        "[Open the dashboard](http://grafana.example.com/grafana/d/checkout-service-health-df9c7e84)"
    ));
    assert!(!runbook.contains("s3cret") && !run.stdout.contains("s3cret"));
}
