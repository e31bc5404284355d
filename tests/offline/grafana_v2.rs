//! Click first on Grafana 12/13, where a person's edit is saved as a v2
//! dashboard: `apply` refuses to clobber it, `plan` shows it, `codify
//! --from-live` brings it into code as the v2 resource, and `apply --from`
//! pushes it back — against the Grafana 13 stand-in, asserting nothing is lost.

use serde_json::Value;

use crate::grafana_apply::{apply, codify_live, only_backup, uid};
use crate::support::grafana::{EDITOR_TOKEN, GrafanaStandIn};
use crate::support::{demo_manifests, onramp_env, read};

/// The title Alice gives the first panel in Grafana 13's UI.
const EDITED_TITLE: &str = "Requests per second (edited by Alice in Grafana 13)";

/// Alice's edit in the v2 editor: renames a panel and puts the layout into a
/// tab — something the classic schema cannot hold.
fn alice_edits(spec: &mut Value) {
    let rate = spec["elements"]
        .as_object_mut()
        .and_then(|e| {
            e.values_mut()
                .find(|p| p["spec"]["title"] == "Request rate")
        })
        .expect("the request rate panel");
    rate["spec"]["title"] = Value::from(EDITED_TITLE);
    let layout = spec["layout"].take();
    spec["layout"] = serde_json::json!({"kind": "TabsLayout", "spec": {"tabs": [
        {"kind": "TabsLayoutTab", "spec": {"title": "Overview", "layout": layout}}
    ]}});
}

fn plan(grafana: &GrafanaStandIn) -> crate::support::Run {
    plan_with(grafana, &[], &[])
}

/// `onramp [pre…] plan checkout -f DEMO --grafana-url URL [extra…]` as an Editor.
fn plan_with(grafana: &GrafanaStandIn, pre: &[&str], extra: &[&str]) -> crate::support::Run {
    let manifests = demo_manifests();
    let url = grafana.url();
    let args = [
        pre,
        &["plan", "checkout", "-f", &manifests, "--grafana-url", &url][..],
        extra,
    ]
    .concat();
    onramp_env(&args, &[("GRAFANA_TOKEN", EDITOR_TOKEN)])
}

/// The whole click-first loop on `grafana`, whose UI saves in `v2` and
/// which discovery describes as `serves`.
fn click_first_loop(grafana: &GrafanaStandIn, v2: &str, serves: &str) {
    let target = uid("service-health");

    // Push: onramp writes classic dashboards.
    apply(grafana, &[]).expect_status(0);
    assert_eq!(grafana.stored_version(&target).as_deref(), Some("v1beta1"));

    // A person edits it in Grafana 13's UI, which saves it as v2.
    let generation = grafana
        .ui_save_v2("alice", &target, alice_edits)
        .expect("the UI saves");
    let edited = grafana.resource(&target, v2).expect("stored");
    assert_eq!(grafana.stored_version(&target).as_deref(), Some(v2));

    // apply refuses to clobber it, naming the dashboard, who and when.
    let refused = apply(grafana, &[]);
    refused.expect_status(1);
    let line = refused.stdout_line("refused");
    assert!(line.contains("checkout · Service health"), "{line}");
    assert!(
        refused
            .stdout
            .contains("changed in Grafana by user:alice at 20"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains(&format!(
            "(version {generation}, saved as a v2 dashboard: its rows, tabs and layout would be lost to a classic one)"
        )),
        "{}",
        refused.stdout
    );
    assert_eq!(grafana.resource(&target, v2), Some(edited.clone()));

    // plan says what apply would do, with the panel titles and queries.
    let planned = plan(grafana);
    planned.expect_status(0);
    assert!(planned.stdout.contains(serves), "{}", planned.stdout);
    assert!(
        planned
            .stdout_line("EDITED")
            .contains(&format!("checkout · Service health ({target})")),
        "{}",
        planned.stdout
    );
    assert!(
        planned
            .stdout
            .contains("+panel \"Overview\" (tab, no unit)"),
        "{}",
        planned.stdout
    );
    assert!(
        planned
            .stdout
            .contains(&format!("+panel \"{EDITED_TITLE}\" (stat, reqps)")),
        "{}",
        planned.stdout
    );

    // codify --from-live writes the v2 resource, normalised and marked.
    let out = tempfile::tempdir().expect("temp dir");
    let codified = codify_live(grafana, out.path());
    codified.expect_status(0);
    assert!(
        codified
            .stdout
            .contains("note: dashboards/service-health.json hold(s) a v2 dashboard resource"),
        "{}",
        codified.stdout
    );
    let text = read(out.path().join("dashboards/service-health.json"));
    let file: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(file["apiVersion"], format!("dashboard.grafana.app/{v2}"));
    assert_eq!(file["kind"], "Dashboard");
    assert_eq!(file["metadata"], serde_json::json!({"name": target}));
    assert_eq!(file["spec"], edited["spec"], "the person's spec, whole");
    assert_eq!(file["onramp"]["source"], "grafana");
    assert_eq!(file.get("status"), None);
    let config_maps = read(out.path().join("grafana-dashboards.yaml"));
    assert!(
        config_maps.contains(&format!("\"apiVersion\": \"dashboard.grafana.app/{v2}\"")),
        "the sidecar ConfigMap holds the same v2 resource"
    );

    // apply --from pushes it back as v2, in the app's folder, same uid.
    let from = out.path().display().to_string();
    let pushed = apply(grafana, &["--from", &from]);
    pushed.expect_status(0);
    let now = grafana.resource(&target, v2).expect("stored");
    assert_eq!(grafana.stored_version(&target).as_deref(), Some(v2));
    assert_eq!(now["spec"], edited["spec"], "nothing of the edit was lost");
    assert_eq!(
        now["metadata"]["annotations"]["grafana.app/folder"],
        edited["metadata"]["annotations"]["grafana.app/folder"]
    );
    assert!(now["metadata"]["annotations"]["onramp/marker"].is_string());

    // Again: nothing to do (compared by content, not resourceVersion).
    let again = apply(grafana, &["--from", &from]);
    again.expect_status(0);
    assert_eq!(
        again.stdout.matches("unchanged").count(),
        3,
        "{}",
        again.stdout
    );
    assert_eq!(grafana.resource(&target, v2), Some(now));

    // Plain apply still will not replace the codified v2 edit.
    let rendered = apply(grafana, &[]);
    rendered.expect_status(1);
    assert!(
        rendered.stdout.contains("is an edit brought into code"),
        "{}",
        rendered.stdout
    );
}

#[test]
fn the_click_first_loop_on_grafana_13_loses_nothing_of_a_v2_edit() {
    let grafana = GrafanaStandIn::builder().grafana_13().start();
    click_first_loop(
        &grafana,
        "v2",
        "(Grafana 13.0.1: serves dashboard.grafana.app v0alpha1, v1beta1, v2beta1, v2",
    );
}

#[test]
fn the_click_first_loop_on_grafana_12_with_dynamic_dashboards_keeps_v2beta1() {
    let grafana = GrafanaStandIn::builder().grafana_12().start();
    click_first_loop(
        &grafana,
        "v2beta1",
        "(Grafana 12.3.1: serves dashboard.grafana.app v0alpha1, v1beta1, v2alpha1, v2beta1",
    );
}

/// A Grafana 13 stand-in where onramp pushed the dashboards, Alice saved the
/// service-health one as v2, and `codify --from-live` wrote it into the
/// returned folder; with that dashboard's uid.
fn codified_v2_edit() -> (GrafanaStandIn, String, tempfile::TempDir) {
    let grafana = GrafanaStandIn::builder().grafana_13().start();
    let target = uid("service-health");
    apply(&grafana, &[]).expect_status(0);
    grafana
        .ui_save_v2("alice", &target, alice_edits)
        .expect("the UI saves");
    let out = tempfile::tempdir().expect("temp dir");
    codify_live(&grafana, out.path()).expect_status(0);
    (grafana, target, out)
}

#[test]
fn force_saves_the_live_v2_resource_exactly_then_writes_classic() {
    let grafana = GrafanaStandIn::builder().grafana_13().start();
    let target = uid("service-health");
    apply(&grafana, &[]).expect_status(0);
    grafana
        .ui_save_v2("alice", &target, alice_edits)
        .expect("the UI saves");
    let live = grafana.resource(&target, "v2").expect("stored");

    let backups = tempfile::tempdir().expect("temp dir");
    let dir = backups.path().display().to_string();
    let run = apply(&grafana, &["--force", "--backup-dir", &dir]);
    run.expect_status(0);
    let backup: Value = serde_json::from_str(&read(only_backup(backups.path()))).expect("JSON");
    assert_eq!(
        backup, live,
        "the v2 resource exactly as Grafana returned it"
    );
    assert_eq!(grafana.stored_version(&target).as_deref(), Some("v1beta1"));
    let classic = grafana.dashboard(&target).expect("stored");
    assert!(!classic.to_string().contains("edited by Alice"));
    assert!(classic["panels"].is_array(), "a classic dashboard again");
}

#[test]
fn a_codified_v2_dashboard_is_refused_where_nothing_loads_it() {
    let (_grafana13, target, out) = codified_v2_edit();

    // The sidecar's file provisioning does not load v2: no ConfigMap for it.
    let manifests = demo_manifests();
    let cluster = onramp_env(
        &[
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--cluster",
            "--from",
            &out.path().display().to_string(),
        ],
        &[],
    );
    cluster.expect_status(2);
    assert!(
        cluster
            .stderr
            .contains("does not load v2 dashboards in Grafana 12.x–13.0")
            && cluster.stderr.contains("add --grafana-url"),
        "{}",
        cluster.stderr
    );

    let grafana11 = GrafanaStandIn::start();
    let from = out.path().display().to_string();
    let run = apply(&grafana11, &["--from", &from]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(&format!(
            "dashboard {target} is a dashboard.grafana.app/v2 resource, but Grafana 11.3.0: classic dashboard API only (/api/dashboards)"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(grafana11.stored_version(&target), None);
}

#[test]
fn verbose_says_which_dashboard_apis_grafana_serves() {
    for (grafana, said) in [
        (
            GrafanaStandIn::builder().grafana_13().start(),
            "Grafana 13.0.1: serves dashboard.grafana.app v0alpha1, v1beta1, v2beta1, v2",
        ),
        (
            GrafanaStandIn::start(),
            "Grafana 11.3.0: classic dashboard API only (/api/dashboards)",
        ),
    ] {
        let run = plan_with(&grafana, &["-v"], &[]);
        run.expect_status(0);
        assert!(run.stderr.contains(said), "{}", run.stderr);
    }
}

#[test]
fn a_save_in_grafana_while_apply_pushes_a_v2_dashboard_is_a_refusal_not_an_overwrite() {
    let (grafana, target, out) = codified_v2_edit();

    // Bob saves between apply's read and its write: the write is a 409.
    grafana.ui_save_v2_before_next_write("bob", &target, "Bob's title");
    let from = out.path().display().to_string();
    let run = apply(&grafana, &["--from", &from]);
    run.expect_status(1);
    let line = run.stdout_line("refused");
    assert!(line.contains("checkout · Service health"), "{line}");
    assert!(
        run.stdout.contains(
            "someone saved it in Grafana while onramp was pushing (version conflict); nothing was overwritten"
        ),
        "{}",
        run.stdout
    );
    let now = grafana.resource(&target, "v2").expect("stored");
    assert_eq!(now["spec"]["title"], "Bob's title");
    assert_eq!(
        now["metadata"]["annotations"]["grafana.app/updatedBy"],
        "user:bob"
    );
}

#[test]
fn plan_json_names_the_server_and_the_v2_edit() {
    let (grafana, target, _out) = codified_v2_edit();
    let run = plan_with(&grafana, &[], &["-o", "json"]);
    run.expect_status(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let server = &plan["grafana"]["server"];
    assert_eq!(server["version"], "13.0.1");
    assert_eq!(
        server["dashboard_versions"],
        serde_json::json!(["v0alpha1", "v1beta1", "v2beta1", "v2"])
    );
    let edited = plan["grafana"]["dashboards"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["uid"] == target.as_str()))
        .expect("the edited dashboard");
    assert_eq!(edited["action"], "human-edit");
    assert_eq!(edited["schema"], "v2");
    assert_eq!(edited["by"], "user:alice");
}
