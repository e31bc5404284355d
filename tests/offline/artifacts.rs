//! The artifacts of the demo app: snapshots of every file and the dashboard
//! rules Grafana's linter checks. Every generated file is parsed back. Their
//! conformance to the Operator's CRD schemas and promtool's reading of every
//! dashboard query need those tools: `tests/integration/artifacts.rs`.

use serde_json::Value;

use crate::support::{codified_dashboard, codify_demo, onramp, read, yaml_documents};

fn snapshot(name: &str, content: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        filters => vec![(r"onramp \d+\.\d+\.\d+", "onramp [VERSION]")],
    }, {
        insta::assert_snapshot!(name, content);
    });
}

#[test]
fn every_artifact_of_the_demo_app_matches_its_snapshot() {
    let dir = codify_demo(&[]);
    for (name, file) in [
        ("demo-servicemonitor", "servicemonitor.yaml"),
        ("demo-prometheusrule", "prometheusrule.yaml"),
        (
            "demo-dashboard-service-health",
            "dashboards/service-health.json",
        ),
        (
            "demo-dashboard-troubleshooting",
            "dashboards/troubleshooting.json",
        ),
        (
            "demo-dashboard-feature-flag-engagement",
            "dashboards/feature-flag-engagement.json",
        ),
        ("demo-runbook", "runbook.md"),
        ("demo-kustomization", "kustomization.yaml"),
        ("demo-scrape-config", "prometheus/scrape-config.yaml"),
        ("demo-rules-file", "prometheus/rules.yaml"),
    ] {
        snapshot(name, &read(dir.path().join(file)));
    }
}

fn all_panels(dashboard: &Value) -> Vec<&Value> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .collect()
}

#[test]
fn dashboards_follow_the_grafana_linter_rules() {
    let dir = codify_demo(&[]);
    let mut uids = Vec::new();
    for need in [
        "service-health",
        "troubleshooting",
        "feature-flag-engagement",
    ] {
        let text = read(dir.path().join(format!("dashboards/{need}.json")));
        let d: Value = serde_json::from_str(&text).expect("dashboard JSON parses");
        let uid = d["uid"].as_str().expect("uid");
        assert!(
            uid.len() <= 40
                && uid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{uid}"
        );
        uids.push(uid.to_string());
        assert!(d["schemaVersion"].as_u64().expect("schemaVersion") >= 39);
        assert!(d["id"].is_null(), "no numeric id: sync is by uid");
        let tags: Vec<&str> = d["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            tags.contains(&"onramp") && tags.contains(&"checkout") && tags.contains(&need),
            "{tags:?}"
        );
        let vars = d["templating"]["list"].as_array().expect("variables");
        assert!(vars.iter().any(|v| v["type"] == "datasource"
            && v["name"] == "datasource"
            && v["query"] == "prometheus"));
        for var in vars.iter().filter(|v| v["type"] == "query") {
            assert_eq!(var["refresh"], 2, "template-on-time-change-reload");
        }
        let links = d["links"].as_array().expect("links");
        // The demo has no runbook_base_url: Grafana cannot open a relative
        // path, so there is no runbook link (the plan notes say so).
        assert!(!links.iter().any(|l| l["title"] == "Runbook"));
        assert!(links.iter().any(|l| {
            l["type"] == "dashboards"
                && l["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&Value::from("checkout")))
        }));
        lint_panels(&d, need, r#"namespace="shop""#);
    }
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3, "uids are distinct");
}

/// The panel rules of Grafana's dashboard linter every dashboard of
/// onramp's meets: a title, a place on the 24-column grid, a description,
/// a unit and the datasource variable on every panel (rows aside; a text
/// panel has content), queries that parse, rates over `$__rate_interval`
/// (or `$__range`), and every query containing `scoped` (the app's
/// selector, or the platform dashboard's team variable).
pub(crate) fn lint_panels(d: &Value, need: &str, scoped: &str) {
    for panel in all_panels(d) {
        let title = panel["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "a panel without title in {need}");
        let grid = &panel["gridPos"];
        let (x, w) = (
            grid["x"].as_u64().expect("x"),
            grid["w"].as_u64().expect("w"),
        );
        assert!(
            (1..=24).contains(&w) && x + w <= 24,
            "{need}/{title}: gridPos {grid}"
        );
        if panel["type"] == "row" {
            continue;
        }
        if panel["type"] == "text" {
            assert!(
                panel["options"]["content"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "{need}/{title}: an empty text panel"
            );
            continue;
        }
        assert!(
            panel["description"]
                .as_str()
                .is_some_and(|s| !s.trim().is_empty()),
            "{need}/{title}: no description"
        );
        assert!(
            panel["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{need}/{title}: no unit"
        );
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{need}/{title}"
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{need}/{title}: panel-no-targets");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{need}/{title}");
            let expr = t["expr"].as_str().expect("expr");
            onramp_promql_check(expr).unwrap_or_else(|e| panic!("{need}/{title}: {e}\n{expr}"));
            if expr.contains("rate(") {
                assert!(
                    expr.contains("[$__rate_interval]") || expr.contains("[$__range]"),
                    "{need}/{title}: rate without $__rate_interval: {expr}"
                );
            }
            assert!(
                expr.contains(scoped),
                "{need}/{title}: not scoped by {scoped}: {expr}"
            );
        }
    }
}

#[test]
fn the_platform_adoption_dashboard_follows_the_grafana_linter_rules_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().display().to_string();
    onramp(&["adoption", "--dashboard", "--out", &out]).expect_status(0);
    let d = codified_dashboard(&dir, "platform-adoption");
    lint_panels(&d, "platform-adoption", r#"{team=~"$team"}"#);
    assert!(d["id"].is_null(), "no numeric id: sync is by uid");
    assert!(d["schemaVersion"].as_u64().expect("schemaVersion") >= 39);
    assert_eq!(
        d["tags"],
        serde_json::json!(["onramp", "platform", "platform-adoption"])
    );
    assert_eq!(d["title"], "Platform adoption");
    let vars = d["templating"]["list"].as_array().expect("variables");
    assert!(vars.iter().any(|v| v["type"] == "datasource"));
    let team = vars
        .iter()
        .find(|v| v["name"] == "team")
        .expect("team variable");
    assert_eq!(
        team["definition"],
        "label_values(onramp_adoption_level, team)"
    );
    assert_eq!(team["refresh"], 2, "template-on-time-change-reload");
    assert_eq!(
        (&team["multi"], &team["includeAll"], &team["allValue"]),
        (&Value::from(true), &Value::from(true), &Value::from(".*"))
    );
    let panels = all_panels(&d);
    let walkthrough = panels[0]["options"]["content"]
        .as_str()
        .expect("text panel");
    assert!(
        walkthrough.starts_with("Start here when you plan which team to onboard next."),
        "{walkthrough}"
    );
    let table = panels
        .iter()
        .find(|p| p["type"] == "table")
        .expect("the apps below level 2");
    assert_eq!(table["title"], "Apps below level 2");
    assert_eq!(table["targets"][0]["format"], "table");
    assert_eq!(table["targets"][0]["instant"], true);
    let config_map = &yaml_documents(&read(dir.path().join("grafana-dashboards.yaml")))[0];
    assert_eq!(config_map["metadata"]["namespace"], "monitoring");
    assert_eq!(config_map["metadata"]["labels"]["grafana_dashboard"], "1");
    let file = format!("{}.json", d["uid"].as_str().expect("uid"));
    assert_eq!(
        config_map["data"][&file].as_str().expect("the dashboard"),
        read(dir.path().join("dashboards/platform-adoption.json")),
        "the ConfigMap carries the file's bytes"
    );
}

/// PromQL parses after Grafana's variables expand, and counters are rated.
fn onramp_promql_check(expr: &str) -> Result<(), String> {
    onramp::needs::promql::check(expr)
}

#[test]
fn the_feature_flag_dashboard_answers_the_story_by_variant() {
    let dir = codify_demo(&[]);
    let d: Value = serde_json::from_str(&read(
        dir.path().join("dashboards/feature-flag-engagement.json"),
    ))
    .expect("json");
    let panels = all_panels(&d);
    let clicks = panels
        .iter()
        .find(|p| p["title"] == "Clicks per session by variant")
        .expect("clicks panel");
    let expr = clicks["targets"][0]["expr"].as_str().expect("expr");
    assert!(
        expr.contains("sum by (feature_flag_result_variant) (increase(user_clicks_total{"),
        "{expr}"
    );
    assert!(
        expr.contains("/ (sum by (feature_flag_result_variant) (increase(user_sessions_total{")
            && expr.ends_with("[$__range])) > 0)"),
        "the denominator is guarded against 0/0: {expr}"
    );
    let exits = panels
        .iter()
        .find(|p| p["title"] == "Share of sessions ending by leaving the page, by variant")
        .expect("exits panel");
    assert_eq!(exits["fieldConfig"]["defaults"]["unit"], "percentunit");
    let annotations = d["annotations"]["list"].as_array().expect("annotations");
    assert!(
        annotations
            .iter()
            .any(|a| a["name"] == "Flag variant appeared"),
        "before/after marker"
    );
    let flag_var = d["templating"]["list"]
        .as_array()
        .expect("vars")
        .iter()
        .find(|v| v["name"] == "flag")
        .cloned()
        .expect("flag variable");
    // The flags with sessions, busiest first: Grafana keeps the order (sort 0)
    // and takes each flag out of the result line with the regex.
    assert_eq!(
        flag_var["definition"],
        r#"query_result(sort_desc(sum by (feature_flag_key) (increase(user_sessions_total{namespace="shop",job="checkout"}[$__range]))))"#
    );
    assert_eq!(flag_var["regex"], r#"/feature_flag_key="([^"]+)"/"#);
    assert_eq!(flag_var["sort"], 0);
}

#[test]
fn the_runbook_has_the_four_sections_for_every_alert_with_real_names() {
    let dir = codify_demo(&[]);
    let runbook = read(dir.path().join("runbook.md"));
    let rules = yaml_documents(&read(dir.path().join("prometheus/rules.yaml")));
    let alerts: Vec<String> = rules[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").iter())
        .map(|r| r["alert"].as_str().expect("alert").to_string())
        .collect();
    assert_eq!(alerts.len(), 9, "{alerts:?}");
    for alert in &alerts {
        let section = runbook
            .split(&format!("### {alert}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no section for {alert}"));
        let section = section.split("\n### ").next().unwrap_or_default();
        for heading in [
            "#### Meaning",
            "#### Impact",
            "#### Diagnosis",
            "#### Mitigation",
        ] {
            assert!(section.contains(heading), "{alert} lacks {heading}");
        }
        assert!(section.contains("```promql"), "{alert} shows no query");
    }
    assert!(runbook.contains("kubectl -n shop logs deployment/checkout -c shop --previous"));
    assert!(runbook.contains("kubectl -n shop get pods -l app.kubernetes.io/name=checkout"));
    assert!(runbook.contains("## Troubleshooting with the dashboards"));
    assert!(
        !runbook.contains("{app}") && !runbook.contains("{namespace}"),
        "unfilled placeholder"
    );
}

#[test]
fn every_alert_links_to_its_runbook_section_and_has_severity_summary_description() {
    let dir = codify_demo(&[
        "--runbook-url",
        "https://git.example.com/shop/blob/main/observability/runbook.md",
    ]);
    let docs = yaml_documents(&read(dir.path().join("prometheusrule.yaml")));
    let runbook = read(dir.path().join("runbook.md"));
    for group in docs[0]["spec"]["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            let alert = rule["alert"].as_str().expect("alert");
            assert!(
                ["critical", "warning", "info"]
                    .contains(&rule["labels"]["severity"].as_str().expect("severity"))
            );
            assert!(
                rule["annotations"]["summary"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{alert}"
            );
            assert!(
                rule["annotations"]["description"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{alert}"
            );
            let url = rule["annotations"]["runbook_url"]
                .as_str()
                .expect("runbook_url");
            let anchor = alert.to_ascii_lowercase();
            assert_eq!(
                url,
                format!("https://git.example.com/shop/blob/main/observability/runbook.md#{anchor}")
            );
            assert!(
                runbook.contains(&format!("### {alert}\n")),
                "the anchor #{anchor} has no heading"
            );
        }
    }
}

#[test]
fn selector_labels_go_on_monitors_and_rules_only() {
    let dir = codify_demo(&["--label", "release=kube-prometheus-stack"]);
    for file in ["servicemonitor.yaml", "prometheusrule.yaml"] {
        let docs = yaml_documents(&read(dir.path().join(file)));
        assert_eq!(
            docs[0]["metadata"]["labels"]["release"], "kube-prometheus-stack",
            "{file}"
        );
    }
    let maps = yaml_documents(&read(dir.path().join("grafana-dashboards.yaml")));
    assert!(maps[0]["metadata"]["labels"]["release"].is_null());
}

#[test]
fn the_kustomization_lists_the_kubernetes_files() {
    let dir = codify_demo(&[]);
    let docs = yaml_documents(&read(dir.path().join("kustomization.yaml")));
    assert_eq!(
        docs[0]["resources"],
        serde_json::json!([
            "servicemonitor.yaml",
            "prometheusrule.yaml",
            "grafana-dashboards.yaml"
        ])
    );
}
