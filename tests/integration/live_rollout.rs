//! The feature-flag engagement story in every state of a rollout (issue 9),
//! against the real Prometheus (1 s scrape and evaluation) and the demo shop,
//! which re-reads its flags file: steady 50/50 → a third variant at 25/25/50
//! → full rollout of that variant → rollback to `off`. After each step the
//! codified dashboard's variable, panels and annotations, and the alert, are
//! evaluated the way Grafana and Prometheus run them and compared with the
//! shop's own counters.
//!
//! Time is scaled so the walk takes about three minutes: the need's fixed
//! windows (`[2m]`, `offset 10m`, `[30m]`) are read with one minute as
//! [`MINUTE`] seconds, Grafana's annotation step likewise, and
//! `$__rate_interval` is what Grafana makes of a 1 s scrape interval. The
//! expressions are otherwise exactly the codified ones. The walk runs against
//! Prometheus 2.42 and 3.x.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use onramp::client::prometheus::{PrometheusClient, PrometheusConfig, QueryRange, QueryResult};
use serde_json::{Value, json};

use crate::live::{Stack, check, report};
use crate::support::prometheus::{Version, on_both_prometheus};
use crate::support::shop::Engagement;
use crate::support::{demo_manifests, dir_with, onramp, read, yaml_documents};

/// Seconds of test time for one minute of the need's windows.
const MINUTE: u64 = 4;

/// Grafana's `$__rate_interval` for a 1 s scrape interval (four scrapes).
const RATE_INTERVAL: &str = "4s";

/// The shop's engagement flag.
const FLAG: &str = "new-checkout-button";

/// Rewrites the need's fixed windows, `[Nm]` and `offset Nm`, to scaled seconds.
fn scaled(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(pos) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, tail) = rest.split_at(pos);
        out.push_str(before);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        let after = &tail[digits..];
        let window = (before.ends_with('[') || before.ends_with("offset "))
            && after.starts_with('m')
            && !after.starts_with("ms");
        if window {
            let minutes: u64 = tail[..digits].parse().expect("digits");
            out.push_str(&format!("{}s", minutes * MINUTE));
            rest = &after[1..];
        } else {
            out.push_str(&tail[..digits]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A dashboard expression as Grafana sends it: the flag variable on the
/// engagement flag, `$__range` the window looked at.
fn as_grafana(expr: &str, range: Duration) -> String {
    scaled(expr)
        .replace("$__rate_interval", RATE_INTERVAL)
        .replace("$__range", &format!("{}s", range.as_secs().max(1)))
        .replace("$flag", FLAG)
}

/// One mark Grafana draws: a run of consecutive points of one series.
#[derive(Debug)]
struct Mark {
    labels: BTreeMap<String, String>,
    start: f64,
}

/// The shop and Prometheus, the codified dashboard and alert, and what changed when.
struct Rollout {
    stack: Stack,
    client: PrometheusClient,
    runtime: tokio::runtime::Runtime,
    dashboard: Value,
    exit_share_alert: String,
    started: SystemTime,
    changes: Vec<SystemTime>,
    _codified: tempfile::TempDir,
}

impl Rollout {
    fn start(version: Version) -> Rollout {
        // ~170 sessions a second: enough evaluations that a steady split
        // never moves by 10 points within the scaled windows by chance.
        let stack = Stack::with_sessions(version, 25, Duration::from_millis(150));
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        let codified = tempfile::tempdir().expect("temp dir");
        let out = codified.path().display().to_string();
        onramp(&["codify", "checkout", "-f", &demo_manifests(), "--out", &out]).expect_status(0);
        let dashboard: Value = serde_json::from_str(&read(
            codified
                .path()
                .join("dashboards/feature-flag-engagement.json"),
        ))
        .expect("json");
        let rules = yaml_documents(&read(codified.path().join("prometheus/rules.yaml")));
        let exit_share_alert = rules[0]["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["rules"].as_array().expect("rules").iter())
            .find(|r| r["alert"] == "CheckoutVariantHighExitShare")
            .and_then(|r| r["expr"].as_str())
            .expect("the exit-share alert")
            .trim()
            .trim_end_matches("> 0.5")
            .to_string();
        let client =
            PrometheusClient::new(PrometheusConfig::new(&stack.prometheus.url()).expect("url"))
                .expect("client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let rollout = Rollout {
            stack,
            client,
            runtime,
            dashboard,
            exit_share_alert,
            started: SystemTime::now(),
            changes: Vec::new(),
            _codified: codified,
        };
        rollout.wait_for_sessions();
        rollout
    }

    fn wait_for_sessions(&self) {
        for _ in 0..60 {
            if !self.query("sum(user_sessions_total)").is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("Prometheus never scraped a session of the shop");
    }

    fn query(&self, expr: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let result = self
            .runtime
            .block_on(self.client.query(expr, None))
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        result
            .samples()
            .iter()
            .map(|s| (s.labels.clone().into_iter().collect(), s.value))
            .collect()
    }

    /// The marks an annotation query draws from the start of the test until
    /// now, with Grafana's step (60 s, scaled): consecutive points of a
    /// series are one mark.
    fn marks(&self, name: &str) -> Vec<Mark> {
        let annotation = self.dashboard["annotations"]["list"]
            .as_array()
            .expect("annotations")
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no annotation {name}"));
        let expr = as_grafana(annotation["expr"].as_str().expect("expr"), Duration::ZERO);
        let step = Duration::from_secs(MINUTE);
        let range = QueryRange {
            start: self.started,
            end: SystemTime::now(),
            step,
        };
        let result = self
            .runtime
            .block_on(self.client.query_range(&expr, range))
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        let QueryResult::Matrix(series) = result else {
            panic!("{name}: not a matrix: {result:?}");
        };
        let mut marks = Vec::new();
        for s in &series {
            let mut previous: Option<f64> = None;
            for point in &s.values {
                assert!(point.value.is_finite(), "{name} has a NaN point: {s:?}");
                if previous.is_none_or(|p| point.timestamp - p > step.as_secs_f64() + 0.5) {
                    marks.push(Mark {
                        labels: s.labels.clone().into_iter().collect(),
                        start: point.timestamp,
                    });
                }
                previous = Some(point.timestamp);
            }
        }
        marks.sort_by(|a, b| a.start.total_cmp(&b.start));
        marks
    }

    /// Replaces the flag's definition and returns once the shop and
    /// Prometheus have seen it (the file is polled every second, scraped
    /// every second), with the shop's counters at that moment.
    fn change(&mut self, definition: Value) -> (SystemTime, BTreeMap<String, Engagement>) {
        self.changes.push(SystemTime::now());
        self.stack.shop.define_flag(FLAG, definition);
        std::thread::sleep(Duration::from_secs(3));
        (SystemTime::now(), self.stack.shop.engagement())
    }

    /// The panel's first query as Grafana runs it over the window since `since`.
    fn panel(&self, title: &str, since: SystemTime) -> Vec<(BTreeMap<String, String>, f64)> {
        let panel = self.dashboard["panels"]
            .as_array()
            .expect("panels")
            .iter()
            .find(|p| p["title"] == title)
            .unwrap_or_else(|| panic!("no panel {title}"));
        let range = since.elapsed().expect("clock");
        self.query(&as_grafana(
            panel["targets"][0]["expr"].as_str().expect("expr"),
            range,
        ))
    }

    /// Asserts what every engagement number shows for the window since
    /// `since`: only the variants served, each matching the shop's counters.
    fn assert_engagement(
        &self,
        step: &str,
        since: (SystemTime, BTreeMap<String, Engagement>),
        split: &[(&str, f64)],
    ) {
        let now = self.stack.shop.engagement();
        let raw: BTreeMap<&str, Engagement> = now
            .iter()
            .map(|(v, e)| {
                (
                    v.as_str(),
                    e.since(since.1.get(v).unwrap_or(&Engagement::default())),
                )
            })
            .filter(|(_, e)| e.sessions > 0.0)
            .collect();
        let served: Vec<&str> = split.iter().map(|(v, _)| *v).collect();
        assert_eq!(
            raw.keys().copied().collect::<Vec<_>>(),
            sorted(&served),
            "{step}: the shop"
        );
        let by_variant = |samples: Vec<(BTreeMap<String, String>, f64)>| -> BTreeMap<String, f64> {
            samples
                .into_iter()
                .map(|(l, v)| {
                    (
                        l.get("feature_flag_result_variant")
                            .cloned()
                            .unwrap_or_default(),
                        v,
                    )
                })
                .collect()
        };
        let clicks = by_variant(self.panel("Clicks per session by variant", since.0));
        let leaving = by_variant(self.panel(
            "Share of sessions ending by leaving the page, by variant",
            since.0,
        ));
        let shares = by_variant(self.panel("Share of evaluations by variant", since.0));
        // A variant no longer served still has evaluations counted before:
        // its share of evaluations is a real 0, not missing.
        for (variant, share) in &shares {
            assert!(
                served.contains(&variant.as_str()) || *share < 0.02,
                "{step}: {variant} is not served but has {share} of the evaluations"
            );
        }
        for (name, shown) in [("clicks", &clicks), ("leaving", &leaving)] {
            assert_eq!(
                shown.keys().map(String::as_str).collect::<Vec<_>>(),
                sorted(&served),
                "{step}: {name} shows exactly the variants served: {shown:?}"
            );
        }
        for (variant, share) in split {
            let counted = raw[variant];
            let expected_clicks = counted.clicks / counted.sessions;
            let expected_leaving = counted.exits / counted.sessions;
            assert!(
                (clicks[*variant] - expected_clicks).abs() < 0.3,
                "{step}: clicks per session of {variant}: dashboard {} vs shop {expected_clicks}",
                clicks[*variant]
            );
            assert!(
                (leaving[*variant] - expected_leaving).abs() < 0.05,
                "{step}: share leaving of {variant}: dashboard {} vs shop {expected_leaving}",
                leaving[*variant]
            );
            assert!(
                (shares[*variant] - share).abs() < 0.08,
                "{step}: share of evaluations of {variant}: {} vs {share}",
                shares[*variant]
            );
        }
        self.assert_no_nan(step, since.0);
    }

    /// Every panel query and the exit-share alert return real numbers only.
    fn assert_no_nan(&self, step: &str, since: SystemTime) {
        let panels = self.dashboard["panels"].as_array().expect("panels");
        let mut exprs: Vec<(String, String)> = panels
            .iter()
            .flat_map(|p| {
                p["targets"].as_array().into_iter().flatten().map(move |t| {
                    (
                        p["title"].as_str().unwrap_or_default().to_string(),
                        t["expr"].as_str().unwrap_or_default().to_string(),
                    )
                })
            })
            .collect();
        exprs.push((
            "the exit-share alert".to_string(),
            self.exit_share_alert.clone(),
        ));
        let range = since.elapsed().expect("clock");
        for (title, expr) in exprs {
            let values = self.query(&as_grafana(&expr, range));
            assert!(
                values.iter().all(|(_, v)| v.is_finite()),
                "{step}: {title} shows NaN or Inf: {values:?}"
            );
        }
    }

    /// The flag variable as Grafana fills it: the query result, busiest
    /// first, each flag taken out of the line by the regex.
    fn flag_variable(&self) -> Vec<String> {
        let variable = self.dashboard["templating"]["list"]
            .as_array()
            .expect("variables")
            .iter()
            .find(|v| v["name"] == "flag")
            .expect("flag variable");
        let definition = variable["definition"].as_str().expect("definition");
        let inner = definition
            .strip_prefix("query_result(")
            .and_then(|q| q.strip_suffix(')'))
            .unwrap_or_else(|| panic!("not a query_result: {definition}"));
        let range = self.started.elapsed().expect("clock");
        // The result keeps Prometheus' order (sort_desc): the order Grafana shows.
        let result = self
            .runtime
            .block_on(self.client.query(&as_grafana(inner, range), None))
            .expect("variable query");
        result
            .samples()
            .iter()
            .filter_map(|s| s.labels.get("feature_flag_key").cloned())
            .collect()
    }

    fn hold(&self, since: SystemTime, seconds: u64) {
        let elapsed = since.elapsed().expect("clock");
        std::thread::sleep(Duration::from_secs(seconds).saturating_sub(elapsed));
    }

    /// Asserts the marks drawn so far: which variants appeared, in order,
    /// and one split mark per change of the split, each starting after its change.
    fn assert_marks(&self, step: &str, appeared: &[&str], split_changes: &[usize]) {
        let marks = self.marks("Flag variant appeared");
        let variants: Vec<&str> = marks
            .iter()
            .map(|m| m.labels["feature_flag_result_variant"].as_str())
            .collect();
        assert_eq!(
            variants, appeared,
            "{step}: variant-appeared marks {marks:?}"
        );
        let marks = self.marks("Flag split changed");
        assert_eq!(
            marks.len(),
            split_changes.len(),
            "{step}: split marks {marks:?}"
        );
        for (mark, change) in marks.iter().zip(split_changes) {
            let at = self.changes[*change]
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("clock")
                .as_secs_f64();
            assert!(
                mark.start >= at && mark.start <= at + 3.0 * MINUTE as f64,
                "{step}: the split mark at {} is not just after change {change} at {at}",
                mark.start
            );
            assert_eq!(mark.labels["feature_flag_key"], FLAG);
        }
    }
}

fn sorted<'a>(variants: &[&'a str]) -> Vec<&'a str> {
    let mut v = variants.to_vec();
    v.sort_unstable();
    v
}

/// The shop's flag with three variants and a split, or one variant for everyone.
fn definition(split: &[(&str, u32)]) -> Value {
    let variants = json!({"on": true, "off": false, "bold": "bold"});
    match split {
        [(only, _)] => json!({"state": "ENABLED", "variants": variants, "defaultVariant": only}),
        _ => {
            let mut fractional = vec![json!({"var": "targetingKey"})];
            fractional.extend(split.iter().map(|(v, w)| json!([v, w])));
            json!({
                "state": "ENABLED",
                "variants": variants,
                "defaultVariant": "off",
                "targeting": {"fractional": fractional},
            })
        }
    }
}

/// A need whose panel divides by a variant's sessions without a guard: once
/// the variant is retired, Prometheus answers NaN.
fn unguarded_need() -> tempfile::TempDir {
    dir_with(
        "retired.yaml",
        r#"id: retired-variant
title: Retired variant
story: As a developer I want to see the clicks per session of the variant I retired.
signals:
  sessions: {description: Sessions., type: counter, metric: user_sessions_total, labels: {variant: feature_flag_result_variant}, instrumentation: Count them.}
  clicks: {description: Clicks., type: counter, metric: user_clicks_total, labels: {variant: feature_flag_result_variant}, instrumentation: Count them.}
panels:
  - {title: Clicks per session of off, description: Divides without a guard., unit: short, type: stat, queries: [{expr: 'sum(increase({{clicks|variant="off"}}[20s])) / sum(increase({{sessions|variant="off"}}[20s]))'}]}
walkthrough: Look at it.
"#,
    )
}

on_both_prometheus! {
    fn the_engagement_dashboard_tells_the_truth_in_every_state_of_a_rollout(version) {
        let mut rollout = Rollout::start(version);
        let begin = (rollout.started, BTreeMap::new());

        // Steady 50/50 from the first sample on, for longer than the scaled 10
        // minutes the variant-appeared mark looks back: no mark at all.
        rollout.hold(rollout.started, 13 * MINUTE);
        assert_eq!(
            rollout.flag_variable(),
            [FLAG],
            "only the flag with sessions"
        );
        rollout.assert_engagement("steady 50/50", begin, &[("on", 0.5), ("off", 0.5)]);
        rollout.assert_marks("steady 50/50", &[], &[]);

        // A third variant takes half: it appeared, and the split moved.
        let since = rollout.change(definition(&[("on", 25), ("off", 25), ("bold", 50)]));
        rollout.hold(since.0, 8 * MINUTE);
        let split = [("on", 0.25), ("off", 0.25), ("bold", 0.5)];
        rollout.assert_engagement("25/25/50", since, &split);
        rollout.assert_marks("25/25/50", &["bold"], &[0]);

        // Full rollout of `bold`: no variant is new, the split moved; `on` and
        // `off` have no sessions and show no value, not NaN.
        let since = rollout.change(definition(&[("bold", 100)]));
        rollout.hold(since.0, 13 * MINUTE);
        rollout.assert_engagement("100 % bold", since, &[("bold", 1.0)]);
        rollout.assert_marks("100 % bold", &["bold"], &[0, 1]);
        assert_eq!(rollout.flag_variable(), [FLAG]);
        // A panel that divides by the retired variant's sessions is NaN only: verify fails it.
        let needs = unguarded_need();
        let needs_dir = needs.path().display().to_string();
        let run = rollout.stack.verify(&[
            "--needs-dir",
            &needs_dir,
            "--need",
            "retired-variant",
            "--json",
        ]);
        run.expect_status(1);
        let report = report(&run);
        let panel = check(
            &report,
            "panel",
            "retired-variant/Clicks per session of off [A]",
        );
        assert_eq!(panel["status"], "fail", "{panel}");
        let detail = panel["detail"].as_str().expect("detail");
        assert!(detail.contains("0 of them real numbers"), "{detail}");
        assert!(detail.contains("division by zero"), "{detail}");

        // Rollback: everyone back on `off`, which was not served for more than
        // the scaled 10 minutes — it appears again — and the split moved.
        let since = rollout.change(definition(&[("off", 100)]));
        rollout.hold(since.0, 8 * MINUTE);
        rollout.assert_engagement("rollback to off", since, &[("off", 1.0)]);
        rollout.assert_marks("rollback to off", &["bold", "off"], &[0, 1, 2]);
    }
}
