//! `onramp adoption --dashboard`: the platform-adoption dashboard pushed to
//! Grafana as `apply` pushes an app's (the strict Grafana stand-in), a
//! person's edit there refused, then brought into code with `--from-live`
//! as `codify --from-live` brings an app's.

use serde_json::Value;

use crate::support::grafana::{EDITOR_TOKEN, GrafanaStandIn};
use crate::support::{Run, onramp, onramp_env, read};

/// `onramp adoption --dashboard ARGS --grafana-url URL` as an editor.
fn dashboard(grafana: &GrafanaStandIn, args: &[&str]) -> Run {
    let url = grafana.url();
    let mut all = vec!["adoption", "--dashboard", "--grafana-url", &url];
    all.extend_from_slice(args);
    onramp_env(&all, &[("GRAFANA_TOKEN", EDITOR_TOKEN)])
}

#[test]
fn the_platform_dashboard_was_pushed_a_grafana_edit_refused_then_brought_into_code() {
    let grafana = GrafanaStandIn::start();
    let uid = onramp::render::dashboard::platform_uid("platform-adoption").to_string();
    let pushed = dashboard(&grafana, &[]);
    pushed.expect_status(0);
    assert_eq!(grafana.version(&uid), Some(1), "{}", pushed.stdout);
    assert!(
        pushed.stdout.contains("folder \"Platform\""),
        "{}",
        pushed.stdout
    );
    let live = grafana.dashboard(&uid).expect("pushed");
    assert_eq!(live["title"], "Platform adoption");
    let again = dashboard(&grafana, &[]);
    again.expect_status(0);
    assert_eq!(
        grafana.version(&uid),
        Some(1),
        "a re-push makes no new version"
    );
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);

    // The files and the push are the same dashboard.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("platform").display().to_string();
    dashboard(&grafana, &["--out", &out, "--from-live"]).expect_status(0);
    let file = dir
        .path()
        .join("platform/dashboards/platform-adoption.json");
    let codified: Value = serde_json::from_str(&read(&file)).expect("json");
    assert_eq!(
        codified["onramp"]["command"],
        "onramp adoption --dashboard --out DIR"
    );
    assert!(
        codified["onramp"]["source"].is_null(),
        "no edit yet: {codified}"
    );

    grafana
        .edit_as("alice", &uid, |d| {
            d["panels"][1]["title"] = Value::from("Where the teams stand (edited by Alice)");
        })
        .expect("edit");
    let refused = dashboard(&grafana, &[]);
    refused.expect_status(1);
    assert!(
        refused.stdout.contains("changed in Grafana by alice at")
            && refused.stdout.contains(&format!(
                "onramp adoption --dashboard --from-live --grafana-url {}/ --out DIR",
                grafana.url().trim_end_matches('/')
            )),
        "{}",
        refused.stdout
    );
    let pulled = dashboard(&grafana, &["--out", &out, "--from-live"]);
    pulled.expect_status(0);
    assert!(
        pulled
            .stdout
            .contains("updated    dashboards/platform-adoption.json"),
        "{}",
        pulled.stdout
    );
    let edited = read(&file);
    let edited_v: Value = serde_json::from_str(&edited).expect("json");
    assert_eq!(edited_v["onramp"]["source"], "grafana");
    assert!(edited.contains("edited by Alice"), "{edited}");
    assert!(
        read(dir.path().join("platform/grafana-dashboards.yaml")).contains("edited by Alice"),
        "the ConfigMap carries the edit too"
    );
}

#[test]
fn the_dashboard_without_out_or_grafana_and_from_live_without_grafana_were_refused() {
    let none = onramp(&["adoption", "--dashboard"]);
    none.expect_status(2);
    assert!(
        none.stderr.contains(
            "--dashboard needs somewhere to put the dashboard: --out DIR writes its files, --grafana-url (or GRAFANA_URL) pushes it"
        ),
        "{}",
        none.stderr
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().display().to_string();
    let live = onramp(&["adoption", "--dashboard", "--out", &out, "--from-live"]);
    live.expect_status(2);
    assert!(
        live.stderr
            .contains("--from-live needs Grafana: pass --grafana-url"),
        "{}",
        live.stderr
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn the_cronjob_example_ran_an_adoption_onramp_accepts_as_the_account_rbac_adoption_binds() {
    let docs = crate::support::yaml_documents(&read(crate::support::repo_path(
        "examples/adoption/cronjob.yaml",
    )));
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let role = crate::support::yaml_documents(&onramp(&["rbac", "adoption"]).stdout)
        .into_iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("the ClusterRole");
    let binding = kind("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    let account = kind("ServiceAccount");
    assert_eq!(binding["subjects"][0]["name"], account["metadata"]["name"]);
    assert_eq!(
        binding["subjects"][0]["namespace"],
        account["metadata"]["namespace"]
    );
    let pod = &kind("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    let script = pod["containers"][0]["args"][0]
        .as_str()
        .expect("the script");
    let command = script.split(" >").next().expect("the onramp command");
    assert_eq!(command, "onramp adoption -A -o openmetrics");
    let words: Vec<&str> = command.split_whitespace().collect();
    let parsed = <onramp::cli::Cli as clap::Parser>::try_parse_from(&words);
    assert!(parsed.is_ok(), "{command}: {:?}", parsed.err());
    assert!(
        script.contains("-X PUT --data-binary @/tmp/adoption.prom")
            && script.contains("\"$PUSHGATEWAY_URL/metrics/job/onramp_adoption\""),
        "{script}"
    );
}
