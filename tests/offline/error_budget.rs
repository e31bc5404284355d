//! What a person sees of an objective that is on: the error budget row of
//! the service-health dashboard and the runbook section its burn-rate
//! alerts link to. With the demo app and an onramp.yaml turning on
//! `availability` and `latency`; with none turned on, neither appears.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::support::{codify_demo_with_config, fenced, read, yaml_documents};

/// The objectives the tests turn on: (id, title, sloth_id, budget as PromQL
/// writes it).
const OBJECTIVES: [(&str, &str, &str, &str); 2] = [
    (
        "availability",
        "Availability",
        "checkout-availability",
        "0.005",
    ),
    ("latency", "Latency", "checkout-latency", "0.01"),
];

/// The windows the burn rate graph shows, one series each.
const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

fn codify_with_objectives() -> tempfile::TempDir {
    codify_demo_with_config("objectives:\n  availability: {}\n  latency: {target: 99}\n")
}

fn out(dir: &tempfile::TempDir, file: &str) -> String {
    read(dir.path().join("out").join(file))
}

fn service_health(dir: &tempfile::TempDir) -> Value {
    serde_json::from_str(&out(dir, "dashboards/service-health.json")).expect("dashboard JSON")
}

fn panel<'d>(dashboard: &'d Value, title: &str) -> &'d Value {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .find(|p| p["title"] == title)
        .unwrap_or_else(|| panic!("no panel {title:?}"))
}

fn exprs(panel: &Value) -> Vec<&str> {
    panel["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["expr"].as_str().expect("expr"))
        .collect()
}

fn steps(panel: &Value) -> Vec<(Option<f64>, String)> {
    panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["value"].as_f64(),
                s["color"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every rule of prometheus/rules.yaml, as parsed JSON.
fn rules(dir: &tempfile::TempDir) -> Vec<Value> {
    let docs = yaml_documents(&out(dir, "prometheus/rules.yaml"));
    docs[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .collect()
}

/// The labels of the recording rule `record` of the objective `sloth_id`
/// (and `window`, when given).
fn recorded(rules: &[Value], record: &str, sloth_id: &str, window: Option<&str>) -> bool {
    rules.iter().any(|r| {
        r["record"] == record
            && r["labels"]["sloth_id"] == sloth_id
            && window.is_none_or(|w| r["labels"]["sloth_window"] == w)
    })
}

#[test]
fn objectives_on_give_service_health_an_error_budget_row_per_objective() {
    let dir = codify_with_objectives();
    let dashboard = service_health(&dir);
    let rules = rules(&dir);
    let panels = dashboard["panels"].as_array().expect("panels");
    let row = panels
        .iter()
        .position(|p| p["type"] == "row" && p["title"] == "Error budget")
        .expect("an Error budget row");
    assert_eq!(
        panels.len() - row - 1,
        3 * OBJECTIVES.len(),
        "three panels per objective after the row"
    );
    for (id, title, sloth_id, budget) in OBJECTIVES {
        let scoped = format!(r#"sloth_id="{sloth_id}""#);

        let remaining = panel(&dashboard, &format!("{title}: error budget remaining"));
        assert_eq!(remaining["type"], "stat");
        assert_eq!(remaining["fieldConfig"]["defaults"]["unit"], "percentunit");
        let [expr] = exprs(remaining)[..] else {
            panic!("one query: {remaining}")
        };
        assert!(
            expr.starts_with("slo:period_error_budget_remaining:ratio{") && expr.contains(&scoped),
            "{expr}"
        );
        assert!(recorded(
            &rules,
            "slo:period_error_budget_remaining:ratio",
            sloth_id,
            None
        ));
        assert_eq!(
            steps(remaining),
            [
                (None, "red".to_string()),
                (Some(0.0), "orange".to_string()),
                (Some(0.25), "green".to_string()),
            ],
            "red under 0, orange under 25 %, else green"
        );

        let objective = panel(&dashboard, &format!("{title}: objective"));
        let [expr] = exprs(objective)[..] else {
            panic!("one query: {objective}")
        };
        assert!(
            expr.starts_with("slo:objective:ratio{") && expr.contains(&scoped),
            "{expr}"
        );
        let target = if id == "latency" { "99 %" } else { "99.5 %" };
        let description = objective["description"].as_str().expect("description");
        assert!(
            description.contains(&format!("{target} of the events good over a rolling 28d")),
            "{description}"
        );

        let burn = panel(&dashboard, &format!("{title}: burn rate by window"));
        assert_eq!(burn["type"], "timeseries");
        let legends: Vec<&str> = burn["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .map(|t| t["legendFormat"].as_str().expect("legend"))
            .collect();
        assert_eq!(legends, WINDOWS, "one series per window, named by it");
        for (expr, window) in exprs(burn).into_iter().zip(WINDOWS) {
            assert!(
                expr.starts_with(&format!("slo:sli_error:ratio_rate{window}{{"))
                    && expr.contains(&scoped)
                    && expr.ends_with(&format!("/ {budget}")),
                "the {window} error ratio divided by the budget: {expr}"
            );
            assert!(
                recorded(
                    &rules,
                    &format!("slo:sli_error:ratio_rate{window}"),
                    sloth_id,
                    Some(window)
                ),
                "the rules record what the {window} series reads"
            );
        }
        let lines: Vec<f64> = steps(burn).into_iter().filter_map(|(v, _)| v).collect();
        assert_eq!(
            lines,
            [1.0, 3.0, 6.0, 14.4],
            "the ticket and page burn rates"
        );
        // Each alert's two windows in the colour of its threshold line, the
        // short one dashed.
        let line_colour = |factor: f64| {
            steps(burn)
                .into_iter()
                .find(|(v, _)| *v == Some(factor))
                .map(|(_, c)| c)
                .expect("a threshold line")
        };
        let style = |window: &str, id: &str| {
            burn["fieldConfig"]["overrides"]
                .as_array()
                .expect("overrides")
                .iter()
                .find(|o| o["matcher"]["options"] == window)
                .and_then(|o| o["properties"].as_array())
                .and_then(|ps| ps.iter().find(|p| p["id"] == id))
                .map(|p| p["value"].clone())
                .unwrap_or(Value::Null)
        };
        for (long, short, factor) in [("1h", "5m", 14.4), ("6h", "30m", 6.0), ("1d", "2h", 3.0)] {
            for window in [long, short] {
                assert_eq!(
                    style(window, "color")["fixedColor"],
                    line_colour(factor).as_str(),
                    "{window} in the colour of the {factor} line"
                );
            }
            assert_eq!(style(short, "custom.lineStyle")["fill"], "dash");
            assert!(style(long, "custom.lineStyle").is_null());
        }
        assert_eq!(
            burn["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"], "line",
            "drawn as lines"
        );
        let how = burn["description"].as_str().expect("description");
        for pair in [
            "the 1h and 5m lines are both above 14.4",
            "the 6h and 30m lines are both above 6",
            "the 1d and 2h lines are both above 3",
            "the 3d and 6h lines are both above 1",
        ] {
            assert!(how.contains(pair), "{pair:?} in {how}");
        }
    }
    crate::artifacts::lint_panels(&dashboard, "service-health", r#"namespace="shop""#);
}

/// The anchor a Markdown renderer (GitHub, GitLab) gives a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The runbook's section (its `###` heading to the next) whose anchor is
/// `fragment`.
fn section<'r>(runbook: &'r str, fragment: &str) -> &'r str {
    let start = runbook
        .match_indices("\n### ")
        .map(|(i, _)| i + 1)
        .find(|&i| {
            let heading = runbook[i + 4..].lines().next().unwrap_or_default();
            anchor(heading) == fragment
        })
        .unwrap_or_else(|| panic!("no runbook heading with anchor #{fragment}"));
    let end = runbook[start + 4..]
        .find("\n### ")
        .or_else(|| runbook[start + 4..].find("\n## "))
        .map_or(runbook.len(), |e| start + 4 + e);
    &runbook[start..end]
}

/// The fenced code blocks of `lang` in `text`, each line trimmed (a
/// block in a list item is indented).
fn blocks(text: &str, lang: &str) -> Vec<String> {
    fenced(text, lang)
        .iter()
        .map(|b| {
            b.lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn objectives_on_give_the_runbook_a_section_at_each_alerts_runbook_url() {
    let dir = codify_with_objectives();
    let runbook = out(&dir, "runbook.md");
    let rules = rules(&dir);
    for (id, title, sloth_id, _) in OBJECTIVES {
        let alerts: Vec<&Value> = rules
            .iter()
            .filter(|r| {
                r["alert"]
                    .as_str()
                    .is_some_and(|a| a.ends_with("ErrorBudgetBurn"))
            })
            .filter(|r| r["expr"].as_str().is_some_and(|e| e.contains(sloth_id)))
            .collect();
        assert_eq!(alerts.len(), 2, "page and ticket of {id}");
        let url = alerts[0]["annotations"]["runbook_url"]
            .as_str()
            .expect("runbook_url");
        assert_eq!(url, alerts[1]["annotations"]["runbook_url"]);
        let fragment = url
            .strip_prefix("runbook.md#")
            .expect("the runbook's section");
        let name = alerts[0]["alert"].as_str().expect("alert name");
        assert_eq!(fragment, name.to_ascii_lowercase());
        let text = section(&runbook, fragment);
        assert!(
            text.starts_with(&format!("### {name}\n")),
            "titled with the alert"
        );
        assert!(
            runbook.contains(&format!("[{name}](#{fragment})")),
            "listed with the alerts at a glance"
        );

        let (target, budget, outage, one_in) = match id {
            "availability" => ("99.5 %", "0.5 %", "3 h 22 min", "200"),
            _ => ("99 %", "1 %", "6 h 43 min", "100"),
        };
        for promise in [
            format!("{target} of the events good over a rolling 28d"),
            format!(
                "The error budget is the {budget} that may fail: one event in {one_in}, or {outage} of full outage per 28d"
            ),
            "| page | 14.4× | 1h and 5m | 2.1 % | 1 d 22 h 40 min | 2m |".to_string(),
            "| ticket | 1× | 3d and 6h | 10.7 % | 28 d | 15m |".to_string(),
            format!("fewer than {one_in} events"),
            "#### First five minutes".to_string(),
            format!("*{title}: error budget remaining*"),
            format!("*{title}: burn rate by window*"),
            "The red 1h and 5m lines above 14.4".to_string(),
            "`kubectl -n shop rollout undo deployment/checkout`".to_string(),
            "`kubectl -n shop rollout history deployment/checkout`".to_string(),
        ] {
            assert!(
                text.contains(&promise),
                "{promise:?} in the {id} section:\n{text}"
            );
        }

        // The first query is the raw 5-minute error ratio, exactly what the
        // objective's 5m recording rule computes.
        let queries = blocks(text, "promql");
        let five = rules
            .iter()
            .find(|r| {
                r["record"] == "slo:sli_error:ratio_rate5m" && r["labels"]["sloth_id"] == sloth_id
            })
            .expect("the 5m recording rule");
        assert!(
            queries
                .iter()
                .any(|q| q == five["expr"].as_str().expect("expr")),
            "the 5m error ratio in {queries:#?}"
        );
        for q in &queries {
            onramp::needs::promql::check(q).unwrap_or_else(|e| panic!("{e}: {q}"));
        }
        assert_eq!(
            text.contains(r#"Counted with the bucket le="0.25""#),
            id == "latency",
            "a latency objective says which bucket counts a request fast"
        );
        let by_route = queries.iter().any(|q| q.contains("sum by (route)"));
        assert_eq!(
            by_route,
            id == "availability",
            "by route where the signal has routes (the latency histogram has none)"
        );
        // Every command runs as shown: no placeholder to fill in.
        for command in text
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|c| c.starts_with("kubectl "))
        {
            assert!(
                !command
                    .split_whitespace()
                    .any(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase())),
                "a placeholder in {command:?}"
            );
        }
    }
}

/// One inhibition rule, as Alertmanager's configuration reads it: strict,
/// so a misspelt key fails here as it fails Alertmanager's loading.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitRule {
    source_matchers: Vec<String>,
    target_matchers: Vec<String>,
    #[serde(default)]
    equal: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inhibitions {
    inhibit_rules: Vec<InhibitRule>,
}

/// A matcher of Alertmanager's syntax, `name="value"` (or `!=`, `=~`,
/// `!~`), as (name, operator, value).
fn matcher(text: &str) -> (String, String, String) {
    let re =
        regex::Regex::new(r#"^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"$"#)
            .expect("regex");
    let caps = re
        .captures(text)
        .unwrap_or_else(|| panic!("{text:?} is not an Alertmanager matcher"));
    (
        caps[1].to_string(),
        caps[2].to_string(),
        caps[3].to_string(),
    )
}

/// Whether `matchers` select an alert with `labels`.
fn selects(matchers: &[String], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| {
        let (name, op, value) = matcher(m);
        let have = labels.get(&name).map(String::as_str).unwrap_or_default();
        match op.as_str() {
            "=" => have == value,
            "!=" => have != value,
            "=~" => regex::Regex::new(&format!("^(?:{value})$"))
                .expect("regex")
                .is_match(have),
            _ => !regex::Regex::new(&format!("^(?:{value})$"))
                .expect("regex")
                .is_match(have),
        }
    })
}

/// The inhibition rule the runbook prints for objective `fragment`, as
/// printed (one YAML snippet in the section).
fn printed_inhibition(runbook: &str, fragment: &str) -> String {
    let [snippet] = &fenced(section(runbook, fragment), "yaml")[..] else {
        panic!("one YAML snippet in #{fragment}")
    };
    snippet.clone()
}

#[test]
fn the_runbooks_inhibition_rule_lets_the_page_silence_the_ticket_of_its_objective_only() {
    let dir = codify_with_objectives();
    let runbook = out(&dir, "runbook.md");
    let rules = rules(&dir);
    let snippet = printed_inhibition(&runbook, "checkoutavailabilityerrorbudgetburn");
    let parsed: Inhibitions = serde_saphyr::from_str(&snippet)
        .expect("the snippet parses as Alertmanager's inhibit_rules");
    let [rule] = &parsed.inhibit_rules[..] else {
        panic!("one rule: {parsed:?}")
    };
    assert_eq!(rule.source_matchers, [r#"tier="page""#]);
    assert_eq!(rule.target_matchers, [r#"tier="ticket""#]);
    assert!(
        rule.equal.contains(&"sloth_id".to_string()),
        "{:?}",
        rule.equal
    );

    // The alerts as Alertmanager gets them: the rule's labels and the
    // series' own (sloth_id and namespace come from the recorded series).
    let firing = |sloth_id: &str, tier: &str| -> BTreeMap<String, String> {
        let rule = rules
            .iter()
            .find(|r| {
                r["labels"]["tier"] == tier
                    && r["expr"]
                        .as_str()
                        .is_some_and(|e| e.contains(&format!(r#"sloth_id="{sloth_id}""#)))
            })
            .unwrap_or_else(|| panic!("the {tier} alert of {sloth_id}"));
        let mut labels: BTreeMap<String, String> = rule["labels"]
            .as_object()
            .expect("labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        labels.insert("sloth_id".to_string(), sloth_id.to_string());
        labels
    };
    let inhibits = |source: &BTreeMap<String, String>, target: &BTreeMap<String, String>| {
        selects(&rule.source_matchers, source)
            && selects(&rule.target_matchers, target)
            && rule.equal.iter().all(|l| source.get(l) == target.get(l))
    };
    let (page, ticket) = (
        firing("checkout-availability", "page"),
        firing("checkout-availability", "ticket"),
    );
    assert!(inhibits(&page, &ticket), "the page silences its ticket");
    assert!(!inhibits(&ticket, &page), "never the other way");
    assert!(
        !inhibits(&page, &firing("checkout-latency", "ticket")),
        "nor another objective's ticket"
    );
    assert_eq!(
        printed_inhibition(&runbook, "checkoutlatencyerrorbudgetburn"),
        snippet,
        "one rule for every objective"
    );
}

#[test]
fn objectives_off_leave_no_error_budget_panels_or_runbook_sections() {
    let dir = codify_demo_with_config("needs: [service-health]\n");
    let dashboard = service_health(&dir);
    let text = dashboard.to_string();
    assert!(
        !text.contains("Error budget") && !text.contains("slo:"),
        "{text}"
    );
    let runbook = out(&dir, "runbook.md");
    assert!(!runbook.contains("ErrorBudgetBurn"), "{runbook}");
    assert!(!runbook.contains("inhibit_rules"));
}
