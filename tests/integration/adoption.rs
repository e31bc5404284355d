//! `onramp adoption` on the fleet fixture (`tests/fixtures/kube/fleet.yaml`:
//! apps of three teams in three namespaces, one at each level and each way
//! of stopping), on the Kubernetes stand-in and the real API server, with a
//! real Prometheus holding what the fixture's comment says of each app:
//! targets up (file_sd, labelled as onramp's monitors label them), one down,
//! rule groups loaded with an absolute and a relative `runbook_url`, one
//! not loaded. Every level, stop, next command and team line is asserted by
//! value, in JSON and text; bad input (a namespace that does not exist, an
//! unknown team) and no Prometheus (levels unknown, never 0) too; and the
//! rules `onramp rbac adoption` prints are exactly enough.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Run;
use crate::support::cluster::{Cluster, Target, assert_refused, on_both};
use crate::support::grafana::{self, GrafanaStandIn};
use crate::support::kube::Scenario;
use crate::support::prometheus::{PrometheusServer, Version};

/// Runs `onramp adoption ARGS` against the cluster as every permission.
fn adoption(cluster: &Cluster, dir: &std::path::Path, args: &[&str]) -> Run {
    let kubeconfig = cluster.kubeconfig();
    let mut all = vec!["adoption"];
    all.extend_from_slice(args);
    all.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
    cluster.run(dir, &all)
}

/// A Prometheus holding what the fleet fixture's comment says: checkout,
/// cart, indexer and query scraped and up, fraud's target down; the rule
/// groups of checkout and query (absolute runbook) and cart (relative
/// runbook) loaded and evaluated, indexer's not, gateway's firing;
/// checkout's and gateway's request series (recorded), query's not.
fn fleet_prometheus(version: Version) -> PrometheusServer {
    let prometheus = PrometheusServer::of(version);
    let up = prometheus.address();
    for (namespace, job) in [
        ("shop", "checkout"),
        ("shop", "cart"),
        ("search", "indexer"),
        ("search", "query"),
        ("payments", "gateway"),
    ] {
        prometheus.write_target(
            &format!("{namespace}-{job}"),
            &up,
            &[("namespace", namespace), ("job", job)],
        );
    }
    // Nothing listens on port 1: the scrape fails, `up` is 0.
    prometheus.write_target(
        "payments-fraud",
        "127.0.0.1:1",
        &[("namespace", "payments"), ("job", "fraud")],
    );
    let group = |namespace: &str, app: &str, alert: &str, runbook: &str| {
        json!({"groups": [{
            "name": format!("{namespace}.{app}.service-health"),
            "rules": [{
                "alert": alert,
                "expr": format!("up{{namespace=\"{namespace}\",job=\"{app}\"}} == 0"),
                "for": "5m",
                "labels": {"severity": "critical"},
                "annotations": {"summary": format!("{app} is down."), "runbook_url": runbook},
            }],
        }]})
    };
    let rules = [
        group(
            "shop",
            "checkout",
            "CheckoutDown",
            "https://runbooks.example.com/shop/checkout.md#checkoutdown",
        ),
        group("shop", "cart", "CartDown", "runbook.md#cartdown"),
        group(
            "search",
            "query",
            "QueryDown",
            "https://runbooks.example.com/search/query.md#querydown",
        ),
        // Firing from the first evaluation on.
        json!({"groups": [{
            "name": "payments.gateway.service-health",
            "rules": [{
                "alert": "GatewayHighErrorRate",
                "expr": "vector(1)",
                "labels": {"severity": "critical"},
                "annotations": {
                    "runbook_url": "https://runbooks.example.com/payments/gateway.md#gatewayhigherrorrate"
                },
            }],
        }]}),
        // checkout's and gateway's request series (Prometheus' own,
        // scraped as them, have the process_* ones service-health reads too).
        json!({"groups": [{
            "name": "requests",
            "rules": requests(&[("shop", "checkout"), ("payments", "gateway")]),
        }]}),
        // cart's traffic: a counter rising by one a second.
        json!({"groups": [{
            "name": "cart-traffic",
            "rules": [{"record": "http_requests_total", "expr": "vector(time())",
                       "labels": {"namespace": "shop", "job": "cart"}}],
        }]}),
    ];
    for (n, rule) in rules.iter().enumerate() {
        let yaml = serde_saphyr::to_string(rule).expect("rules as YAML");
        prometheus.write_rules(&format!("fleet-{n}"), &yaml);
    }
    prometheus.reload();
    wait_for(&prometheus);
    prometheus
}

/// Recording rules giving each `(namespace, job)` the request series
/// service-health reads.
fn requests(apps: &[(&str, &str)]) -> Vec<Value> {
    apps.iter()
        .flat_map(|(namespace, job)| {
            [
                json!({"record": "http_requests_total", "expr": "vector(1)",
                       "labels": {"namespace": namespace, "job": job}}),
                json!({"record": "http_request_duration_seconds_bucket", "expr": "vector(1)",
                       "labels": {"namespace": namespace, "job": job, "le": "+Inf"}}),
            ]
        })
        .collect()
}

/// Waits until every target was scraped once and every rule evaluated.
fn wait_for(prometheus: &PrometheusServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let targets = prometheus.query("count by (namespace, job) (up)").len();
        let evaluated = prometheus
            .query("count(prometheus_rule_group_last_evaluation_timestamp_seconds > 0)")
            .first()
            .map(|(_, v)| *v)
            .unwrap_or(0.0);
        let traffic = prometheus
            .query("rate(http_requests_total{job=\"cart\"}[5m]) > 0")
            .len();
        if targets == 6 && evaluated >= 6.0 && traffic == 1 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape the 6 targets, evaluate the 6 groups and rate cart's requests: {targets} targets, {evaluated} groups, {traffic} rate"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The app `namespace/kind/name` of a JSON report.
fn app<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["app"] == name)
        .unwrap_or_else(|| panic!("no app {name} in {report:#}"))
}

/// `(level, stops, next)` of an app.
fn placed(report: &Value, name: &str) -> (Value, String, String) {
    let app = app(report, name);
    let text = |key: &str| app[key].as_str().unwrap_or_default().to_string();
    (app["level"].clone(), text("stops"), text("next"))
}

fn every_app_of_the_fleet_stood_on_its_level_with_what_stops_it_and_the_next_command(
    cluster: &Cluster,
    version: Version,
) {
    let prometheus = fleet_prometheus(version);
    let url = prometheus.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let run = adoption(
        cluster,
        dir.path(),
        &["--prometheus-url", &url, "-o", "json"],
    );
    run.expect_status(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["max_level"], 4);
    // The URL as the client holds it (a base URL ends with `/`).
    let url = format!("{url}/");
    assert_eq!(report["prometheus"], url.as_str());

    assert_eq!(
        placed(&report, "shop/deployment/checkout"),
        (json!(4), String::new(), String::new())
    );
    assert_eq!(
        app(&report, "shop/deployment/checkout")["level_name"],
        "verified"
    );
    assert_eq!(
        placed(&report, "payments/deployment/gateway"),
        (
            json!(3),
            "alert(s) GatewayHighErrorRate is firing; dashboard(s) changed since onramp wrote them, not marked as a person's edit: gateway-service-health.json in ConfigMap gateway-service-health-dashboard".into(),
            "onramp troubleshoot gateway -n payments".into()
        )
    );
    assert_eq!(
        app(&report, "shop/deployment/checkout")["needs"],
        json!([{"need": "service-health", "answered": true}])
    );
    let (level, stops, next) = placed(&report, "search/deployment/query");
    assert_eq!(level, json!(2));
    assert!(
        stops.starts_with(
            "need service-health: signal duration has no series (http_request_duration_seconds_bucket, "
        ),
        "{stops}"
    );
    assert!(
        next.starts_with(
            "instrument the app: Observe each request's duration in seconds in a histogram `http_request_duration_seconds{route, method}`"
        ),
        "{next}"
    );
    assert_eq!(
        app(&report, "search/deployment/query")["needs"],
        json!([{"need": "service-health", "answered": false, "missing": ["duration", "latency", "requests"]}])
    );
    assert_eq!(
        placed(&report, "shop/deployment/cart"),
        (
            json!(1),
            "alert(s) without a runbook_url a person can open: CartDown (runbook.md#cartdown); publish the runbook and set runbook_base_url in onramp.yaml, then apply".into(),
            "onramp apply cart -n shop".into()
        )
    );
    assert_eq!(
        placed(&report, "shop/statefulset/orders-db"),
        (
            json!(0),
            "no ServiceMonitor or PodMonitor of onramp's for it".into(),
            "onramp onboard statefulset/orders-db -n shop".into()
        )
    );
    assert_eq!(
        placed(&report, "payments/deployment/ledger"),
        (
            json!(0),
            "monitoring/kube-prometheus-stack-prometheus selects ServiceMonitors with release=kube-prometheus-stack, and ServiceMonitor payments/ledger does not match, so it would be ignored; add --label release=kube-prometheus-stack".into(),
            "onramp apply ledger -n payments --label release=kube-prometheus-stack".into()
        )
    );
    assert_eq!(
        placed(&report, "payments/deployment/fraud"),
        (
            json!(0),
            "1 of 1 target(s) down (up{namespace=\"payments\", job=\"fraud\"} is 0)".into(),
            "onramp troubleshoot fraud -n payments".into()
        )
    );
    assert_eq!(
        placed(&report, "search/daemonset/indexer"),
        (
            json!(1),
            "rule group search.indexer.service-health is not loaded by Prometheus".into(),
            "onramp verify daemonset/indexer -n search".into()
        )
    );
    // The evidence of a level 2 app: each level's checks, passed.
    let checks: Vec<(&str, &str, &str)> = app(&report, "shop/deployment/checkout")["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["category"].as_str().expect("a category"),
                c["status"].as_str().expect("a status"),
                c["detail"].as_str().expect("a detail"),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            (
                "target",
                "pass",
                "ServiceMonitor checkout selected by the cluster's Prometheus"
            ),
            ("target", "pass", "1 target(s) up"),
            ("rules", "pass", "1 rule group(s) loaded and healthy"),
            ("alert", "pass", "every alert links an absolute runbook_url"),
            (
                "panel",
                "pass",
                "1 dashboard ConfigMap(s) loaded by Grafana's sidecar"
            ),
            (
                "signal",
                "pass",
                "every required signal of service-health has series"
            ),
            (
                "alert",
                "pass",
                "no alert pending or firing; every dashboard as onramp wrote it (or a person's edit brought into code)"
            ),
        ]
    );

    // Teams: part-of, else the namespace (Grafana's chart sets no part-of).
    let teams: Vec<Value> = report["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .map(|t| {
            json!([
                t["team"],
                t["apps"],
                t["by_level"],
                t["unknown"],
                t["share_needs_answered"],
                t["unanswered"]
            ])
        })
        .collect();
    assert_eq!(
        teams,
        [
            json!(["monitoring", 1, [1, 0, 0, 0, 0], 0, 0.0, []]),
            json!(["payments", 3, [2, 0, 0, 1, 0], 0, 1.0 / 3.0, []]),
            json!([
                "search",
                2,
                [0, 1, 1, 0, 0],
                0,
                0.0,
                [["service-health", 1]]
            ]),
            json!(["shop", 3, [1, 1, 0, 0, 1], 0, 1.0 / 3.0, []]),
        ]
    );

    // The same in text: the table, then each team's apps.
    let text = adoption(cluster, dir.path(), &["--prometheus-url", &url]);
    text.expect_status(0);
    assert_eq!(
        text.stdout_line("Adoption:"),
        format!("Adoption: 9 app(s) in 4 namespace(s), 4 team(s); Prometheus: {url}")
    );
    assert_eq!(
        text.stdout_line("team "),
        "team        apps   L0   L1   L2   L3   L4  unknown  answered  most unanswered"
    );
    assert_eq!(
        text.stdout_line("shop  "),
        "shop           3    1    1    0    0    1        0       33%  -"
    );
    assert_eq!(
        text.stdout_line("search  "),
        "search         2    0    1    1    0    0        0        0%  service-health (1)"
    );
    assert_eq!(
        text.stdout_line("shop/statefulset/orders-db").trim(),
        "0 not onboarded  shop/statefulset/orders-db"
    );
    assert_eq!(
        text.stdout_line("next:  onramp onboard statefulset/orders-db")
            .trim(),
        "next:  onramp onboard statefulset/orders-db -n shop"
    );

    // One team, and the team label onramp.yaml names.
    let shop = adoption(
        cluster,
        dir.path(),
        &["--prometheus-url", &url, "-o", "json", "--team", "shop"],
    );
    shop.expect_status(0);
    let shop: Value = serde_json::from_str(&shop.stdout).expect("JSON");
    let names: Vec<&str> = shop["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| a["app"].as_str().expect("an app"))
        .collect();
    assert_eq!(
        names,
        [
            "shop/deployment/cart",
            "shop/deployment/checkout",
            "shop/statefulset/orders-db"
        ]
    );
    assert_eq!(shop["teams"].as_array().map(Vec::len), Some(1));
    std::fs::write(
        dir.path().join("onramp.yaml"),
        "adoption:\n  team_label: team\n",
    )
    .expect("onramp.yaml");
    let labelled = adoption(
        cluster,
        dir.path(),
        &["--prometheus-url", &url, "-o", "json"],
    );
    labelled.expect_status(0);
    let labelled: Value = serde_json::from_str(&labelled.stdout).expect("JSON");
    assert_eq!(
        app(&labelled, "search/daemonset/indexer")["team"],
        "discovery"
    );
    assert_eq!(app(&labelled, "shop/deployment/checkout")["team"], "shop");
    std::fs::remove_file(dir.path().join("onramp.yaml")).expect("onramp.yaml removed");
    the_next_team_had_the_most_apps_at_level_0_or_1_ties_by_traffic(cluster, dir.path(), &url);
    the_needs_backlog_listed_who_answers_each_need_and_what_to_add(cluster, dir.path(), &url);
    the_report_was_written_as_markdown_and_as_openmetrics_promtool_accepts(
        cluster,
        dir.path(),
        &url,
        version,
    );
}

/// `-o markdown` for a wiki page, `-o openmetrics` for a textfile collector:
/// by value, and the metrics as promtool parses them.
fn the_report_was_written_as_markdown_and_as_openmetrics_promtool_accepts(
    cluster: &Cluster,
    dir: &std::path::Path,
    url: &str,
    version: Version,
) {
    let markdown = adoption(cluster, dir, &["--prometheus-url", url, "-o", "markdown"]);
    markdown.expect_status(0);
    assert!(
        markdown
            .stdout
            .starts_with("## onramp adoption\n\n9 app(s), 4 team(s); Prometheus: "),
        "{}",
        markdown.stdout
    );
    assert_eq!(
        markdown.stdout_line("| team |"),
        "| team | apps | L0 | L1 | L2 | L3 | L4 | unknown | needs answered | most unanswered |"
    );
    assert_eq!(
        markdown.stdout_line("| search |"),
        "| search | 2 | 0 | 1 | 1 | 0 | 0 | 0 | 0% | service-health (1) |"
    );
    assert_eq!(
        markdown.stdout_line("shop/statefulset/orders-db"),
        "- **0 not onboarded** shop/statefulset/orders-db — stops: no ServiceMonitor or PodMonitor of onramp's for it; next: ` onramp onboard statefulset/orders-db -n shop `"
    );

    let metrics = adoption(
        cluster,
        dir,
        &["--prometheus-url", url, "-o", "openmetrics"],
    );
    metrics.expect_status(0);
    assert_eq!(
        metrics
            .stdout_line("onramp_adoption_level{team=\"shop\",namespace=\"shop\",app=\"checkout\""),
        "onramp_adoption_level{team=\"shop\",namespace=\"shop\",app=\"checkout\",kind=\"deployment\"} 4"
    );
    assert_eq!(
        metrics.stdout_line("onramp_need_answered{team=\"search\""),
        "onramp_need_answered{team=\"search\",namespace=\"search\",app=\"query\",kind=\"deployment\",need=\"service-health\"} 0"
    );
    assert_eq!(metrics.stdout.matches("onramp_adoption_level{").count(), 9);
    assert!(metrics.stdout.ends_with("# EOF\n"), "{}", metrics.stdout);
    let mut promtool = std::process::Command::new(version.tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs");
    use std::io::Write as _;
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(metrics.stdout.as_bytes())
        .expect("write to promtool");
    let checked = promtool.wait_with_output().expect("promtool ends");
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool check metrics: {}{}\n{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr),
        metrics.stdout
    );
    crate::platform_adoption::the_platform_adoption_dashboard_showed_the_fleet_over_time(
        &metrics.stdout,
        dir,
    );
}

/// `--needs`: service-health answered by checkout and gateway, query
/// lacking three signals; the needs no dashboard shows said so.
fn the_needs_backlog_listed_who_answers_each_need_and_what_to_add(
    cluster: &Cluster,
    dir: &std::path::Path,
    url: &str,
) {
    let run = adoption(
        cluster,
        dir,
        &["--prometheus-url", url, "--needs", "-o", "json"],
    );
    run.expect_status(0);
    let backlog: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let ids: Vec<&str> = backlog
        .as_array()
        .expect("needs")
        .iter()
        .map(|n| n["need"].as_str().expect("an id"))
        .collect();
    assert_eq!(
        ids,
        // The catalog's order.
        [
            "service-health",
            "troubleshooting",
            "feature-flag-engagement"
        ]
    );
    let health = &backlog[0];
    assert!(
        health["story"]
            .as_str()
            .is_some_and(|s| s.starts_with("As a developer")),
        "{health:#}"
    );
    assert_eq!(
        health["answered_by"],
        json!(["payments/deployment/gateway", "shop/deployment/checkout"])
    );
    // query's dashboard shows it; the apps without dashboards whose plan
    // would take it (a monitor of onramp's: a metrics endpoint) lack
    // signals too. orders-db has neither dashboard nor known endpoint.
    let all = [
        "cpu",
        "duration",
        "latency",
        "memory",
        "requests",
        "start_time",
    ];
    assert_eq!(
        health["missing"],
        json!([
            {"app": "payments/deployment/fraud", "signals": all, "no_dashboard": true},
            {"app": "payments/deployment/ledger", "signals": all, "no_dashboard": true},
            {"app": "search/deployment/query", "signals": ["duration", "latency", "requests"]},
            {"app": "search/daemonset/indexer", "signals": ["duration", "latency", "requests"], "no_dashboard": true},
            {"app": "shop/deployment/cart", "signals": ["duration", "latency"], "no_dashboard": true},
        ])
    );
    let added: Vec<(&str, u64)> = health["instrumentation"]
        .as_array()
        .expect("instrumentation")
        .iter()
        .map(|i| {
            (
                i["signal"].as_str().expect("a signal"),
                i["apps"].as_u64().expect("a count"),
            )
        })
        .collect();
    assert_eq!(
        added,
        [
            ("cpu", 2),
            ("duration", 5),
            ("latency", 5),
            ("memory", 2),
            ("requests", 4),
            ("start_time", 2)
        ]
    );
    assert!(
        health["instrumentation"][4]["hint"]
            .as_str()
            .is_some_and(|h| h.starts_with("Count every HTTP request your service answers with a counter `http_requests_total{route, method, status}`")),
        "{health:#}"
    );
    // No dashboard shows troubleshooting: every app's plan would take it
    // (it needs no metrics endpoint), orders-db's too.
    assert_eq!(backlog[1]["answered_by"], json!([]));
    let planned: Vec<&str> = backlog[1]["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter(|m| m["no_dashboard"] == true)
        .map(|m| m["app"].as_str().expect("an app"))
        .collect();
    assert!(
        planned.contains(&"shop/statefulset/orders-db"),
        "{:#}",
        backlog[1]
    );

    let text = adoption(cluster, dir, &["--prometheus-url", url, "--needs"]);
    text.expect_status(0);
    assert_eq!(
        text.stdout_line("answered by 2 app(s)").trim(),
        "answered by 2 app(s): payments/deployment/gateway, shop/deployment/checkout"
    );
    assert_eq!(
        text.stdout_line("search/deployment/query:").trim(),
        "search/deployment/query: duration, latency, requests"
    );
    assert_eq!(
        text.stdout_line("shop/deployment/cart:").trim(),
        "shop/deployment/cart: duration, latency (no dashboard of onramp's yet: onramp apply adds it)"
    );
    assert!(
        text.stdout_line("requests (4 app(s)): ")
            .trim()
            .starts_with("requests (4 app(s)): Count every HTTP request"),
        "{}",
        text.stdout
    );
}

/// `--next`: payments and shop both have two apps at level 0–1; shop's cart
/// serves requests, payments' fraud and ledger none.
fn the_next_team_had_the_most_apps_at_level_0_or_1_ties_by_traffic(
    cluster: &Cluster,
    dir: &std::path::Path,
    url: &str,
) {
    let run = adoption(cluster, dir, &["--prometheus-url", url, "--next"]);
    run.expect_status(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "Next team: shop — 2 of its 3 apps are at level 0–1, as many as payments (0/s); it serves the most requests among them ("
        ) && lines[0].ends_with("/s)."),
        "{}",
        run.stdout
    );
    assert_eq!(
        lines[1..],
        [
            "Run, one team at a time:",
            "  1. onramp onboard statefulset/orders-db -n shop",
            "  2. onramp apply cart -n shop",
        ]
    );
    let json = adoption(
        cluster,
        dir,
        &["--prometheus-url", url, "--next", "-o", "json"],
    );
    json.expect_status(0);
    let next: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(next["team"], "shop");
    assert_eq!(next["below_alerted"], 2);
    assert_eq!(next["apps"], 3);
    let rate = next["requests_per_second"].as_f64().expect("a rate");
    // A rate over 5 minutes of a counter a few seconds old: small, not 0.
    assert!(rate > 0.0, "{rate}");
    assert_eq!(
        next["commands"],
        json!([
            "onramp onboard statefulset/orders-db -n shop",
            "onramp apply cart -n shop"
        ])
    );
}
on_both!(
    prometheus 2 and 3;
    every_app_of_the_fleet_stood_on_its_level_with_what_stops_it_and_the_next_command,
    Scenario::Fleet
);

fn without_prometheus_the_levels_that_need_it_were_unknown_never_0(cluster: &Cluster) {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens on port 1.
    let run = adoption(
        cluster,
        dir.path(),
        &["--prometheus-url", "http://127.0.0.1:1", "-o", "json"],
    );
    run.expect_status(3);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    // No objects of onramp's: 0, Prometheus or not.
    assert_eq!(app(&report, "shop/statefulset/orders-db")["level"], 0);
    // Not selected: 0 from the cluster alone.
    assert_eq!(app(&report, "payments/deployment/ledger")["level"], 0);
    for name in [
        "shop/deployment/checkout",
        "shop/deployment/cart",
        "search/daemonset/indexer",
        "search/deployment/query",
        "payments/deployment/fraud",
        "payments/deployment/gateway",
    ] {
        let placed = app(&report, name);
        assert_eq!(placed["level"], Value::Null, "{name}");
        assert_eq!(placed["level_name"], "unknown", "{name}");
        assert_eq!(
            placed["not_checked"][0]["allowed_by"],
            "--prometheus-url, PROMETHEUS_URL or prometheus.url in onramp.yaml"
        );
    }
    assert_eq!(
        app(&report, "shop/deployment/cart")["not_checked"][0]["what"],
        "scrape targets of shop/cart"
    );
    assert!(
        run.stderr.starts_with(
            "onramp adoption: Prometheus (http://127.0.0.1:1/) could not be asked: cannot reach Prometheus at http://127.0.0.1:1/api/v1/"
        ) && run
            .stderr
            .ends_with("; the levels that need Prometheus are reported as unknown\n"),
        "{}",
        run.stderr
    );
    let shop = report["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| t["team"] == "shop")
        .expect("shop");
    assert_eq!(shop["by_level"], json!([1, 0, 0, 0, 0]));
    assert_eq!(shop["unknown"], 2);
}
on_both!(
    without_prometheus_the_levels_that_need_it_were_unknown_never_0,
    Scenario::Fleet
);

fn a_namespace_that_does_not_exist_and_an_unknown_team_were_refused_with_exit_2(cluster: &Cluster) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = ["--prometheus-url", "http://127.0.0.1:1"];
    let run = adoption(
        cluster,
        dir.path(),
        &[&url[..], &["-n", "shop", "-n", "nowhere"]].concat(),
    );
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("-n nowhere: the cluster has no namespace nowhere (context ")
            && run.stderr.contains("`kubectl get namespaces` lists them"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    let run = adoption(
        cluster,
        dir.path(),
        &[&url[..], &["--next", "-o", "markdown"]].concat(),
    );
    run.expect_status(2);
    assert!(
        run.stderr.contains("--next and --needs print text or json (-o text|json); -o markdown and -o openmetrics are for the report"),
        "{}",
        run.stderr
    );
    let run = adoption(
        cluster,
        dir.path(),
        &[&url[..], &["--team", "nobody"]].concat(),
    );
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "--team \"nobody\": no app has that team (teams come from the label app.kubernetes.io/part-of, else the namespace); the teams are: monitoring, payments, search, shop"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}
on_both!(
    a_namespace_that_does_not_exist_and_an_unknown_team_were_refused_with_exit_2,
    Scenario::Fleet
);

fn adoption_works_with_exactly_the_rules_of_onramp_rbac_adoption(target: Target) {
    let url = ["--prometheus-url", "http://127.0.0.1:1", "-o", "json"];
    // Across namespaces, the one ClusterRole.
    let roles = crate::kube_apply::printed_roles(&["adoption"]);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole"]);
    let cluster = Cluster::start(Scenario::Fleet, target);
    let granted = cluster.grant(&roles);
    let dir = tempfile::tempdir().expect("temp dir");
    let as_granted = |cluster: &Cluster, kubeconfig: &std::path::Path, extra: &[&str]| {
        let mut all = vec![
            "adoption",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ];
        all.extend_from_slice(&url);
        all.extend_from_slice(extra);
        cluster.run(dir.path(), &all)
    };
    let run = as_granted(&cluster, &granted, &[]);
    run.expect_status(3);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["apps"].as_array().map(Vec::len), Some(9));

    // -n shop: what it reads cluster-wide, and a Role in shop.
    let roles = crate::kube_apply::printed_roles(&["adoption", "-n", "shop"]);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole", "Role"]);
    let cluster = Cluster::start(Scenario::Fleet, target);
    let granted = cluster.grant(&roles);
    let run = as_granted(&cluster, &granted, &["-n", "shop"]);
    run.expect_status(3);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["apps"].as_array().map(Vec::len), Some(3));
    // (Deployments everywhere are in what detect reads: Grafana's, by label.)
    let run = as_granted(&cluster, &granted, &["-n", "payments"]);
    assert_refused(
        &run,
        "list statefulsets.apps in namespace payments",
        "adoption",
    );
    let run = as_granted(&cluster, &granted, &[]);
    assert_refused(&run, "list namespaces (cluster-scoped)", "adoption");
}
on_both!(adoption_works_with_exactly_the_rules_of_onramp_rbac_adoption);

fn without_the_operator_an_app_was_scraped_by_its_targets_and_level_2_said_unproven(
    cluster: &Cluster,
    version: Version,
) {
    let prometheus = PrometheusServer::of(version);
    prometheus.write_target(
        "shop-checkout",
        &prometheus.address(),
        &[("namespace", "shop"), ("job", "checkout")],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while prometheus.query("up{job=\"checkout\"} == 1").is_empty() {
        assert!(Instant::now() < deadline, "checkout was not scraped");
        std::thread::sleep(Duration::from_millis(250));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = prometheus.url();
    let run = adoption(
        cluster,
        dir.path(),
        &["--prometheus-url", &url, "-o", "json"],
    );
    run.expect_status(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let checkout = app(&report, "shop/deployment/checkout");
    assert_eq!(checkout["level"], 1);
    assert_eq!(
        checkout["stops"],
        "alerts of shop/checkout: without the Prometheus Operator, onramp's rules are files of the Prometheus, which adoption does not read yet"
    );
    assert_eq!(checkout["next"], Value::Null);
    assert_eq!(
        checkout["not_checked"][0]["what"],
        "alerts of shop/checkout"
    );
    assert_eq!(
        checkout["checks"],
        json!([{"category": "target", "name": "shop/checkout", "status": "pass", "detail": "1 target(s) up"}])
    );
}
on_both!(
    prometheus 2 and 3;
    without_the_operator_an_app_was_scraped_by_its_targets_and_level_2_said_unproven,
    Scenario::NoOperator
);

/// A service-health dashboard of `namespace/app`, stamped as onramp's push
/// stamps it (the marker's hash of the normalised content).
fn pushed_dashboard(namespace: &str, app: &str) -> Value {
    let dashboard = json!({
        "uid": format!("{app}-service-health"),
        "title": format!("{app} · Service health"),
        "tags": ["onramp", app, format!("namespace:{namespace}"), "service-health"],
        "panels": [],
        "onramp": {"app": format!("{namespace}/{app}"), "need": "service-health",
                   "generator": "onramp 0.1.0", "command": format!("onramp apply {app} -n {namespace}")},
    });
    onramp::sink::grafana::restamp(&dashboard)
}

/// `onramp adoption ARGS --grafana-url URL -o json` with a viewer's token
/// (adoption only reads Grafana): the report and the requests Grafana got.
fn adoption_in_grafana(
    cluster: &Cluster,
    dir: &std::path::Path,
    grafana: &GrafanaStandIn,
    prometheus: &str,
) -> (Run, Value, Vec<String>) {
    grafana.clear_log();
    let kubeconfig = cluster.kubeconfig();
    let url = grafana.url();
    let args = [
        "adoption",
        "--prometheus-url",
        prometheus,
        "--grafana-url",
        &url,
        "-o",
        "json",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
    ];
    let run = cluster.run_checked(crate::support::kube::run_env(
        dir,
        &args,
        &[("GRAFANA_TOKEN", grafana::VIEWER_TOKEN)],
    ));
    run.assert_hides(&[grafana::VIEWER_TOKEN]);
    let report = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    let requests = grafana
        .request_log()
        .iter()
        .map(|r| match &r.query {
            Some(query) => format!("{} {}?{query} {}", r.method, r.path, r.status),
            None => format!("{} {} {}", r.method, r.path, r.status),
        })
        .collect();
    (run, report, requests)
}

/// Levels 3 and 4 from dashboards in Grafana 13 alone (the apps'
/// ConfigMaps are another tool's): checkout at 4, gateway at 3 (its alert
/// fires) once its dashboard is there, checkout stopped at 3 once a person
/// saved its dashboard in Grafana's UI (stored as v2); the same requests
/// to Grafana for one app's dashboard and for six (one page per 500
/// dashboards, not per app); on Grafana 11 one search by tag and level 4
/// unproven; Grafana unreachable: the apps whose dashboards only Grafana
/// could show are unknown.
fn dashboards_in_grafana_placed_apps_on_levels_3_and_4_and_a_ui_edit_stopped_one_at_3(
    cluster: &Cluster,
) {
    let prometheus = fleet_prometheus(Version::V2);
    let url = prometheus.url();
    let grafana = GrafanaStandIn::builder().grafana_13().start();
    for (namespace, name) in [
        ("shop", "checkout-service-health-dashboard"),
        ("payments", "gateway-service-health-dashboard"),
    ] {
        cluster.edit("v1", "ConfigMap", namespace, name, |cm| {
            cm["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("someone");
        });
    }
    grafana.save_as(grafana::EDITOR_NAME, pushed_dashboard("shop", "checkout"));
    let dir = tempfile::tempdir().expect("temp dir");

    let (run, report, one_app) = adoption_in_grafana(cluster, dir.path(), &grafana, &url);
    run.expect_status(0);
    assert_eq!(report["grafana"], format!("{}/", grafana.url()));
    assert_eq!(
        placed(&report, "shop/deployment/checkout"),
        (json!(4), String::new(), String::new())
    );
    let checks = app(&report, "shop/deployment/checkout")["checks"]
        .as_array()
        .expect("checks")
        .clone();
    assert!(
        checks
            .iter()
            .any(|c| c["detail"] == "dashboard(s) in Grafana: checkout-service-health"),
        "{checks:#?}"
    );
    assert_eq!(
        app(&report, "shop/deployment/checkout")["needs"],
        json!([{"need": "service-health", "answered": true}])
    );
    assert_eq!(
        placed(&report, "payments/deployment/gateway"),
        (
            json!(2),
            "no dashboard of onramp's for it: no ConfigMap, and none in Grafana".into(),
            "onramp apply gateway -n payments".into()
        )
    );
    // The one read: what Grafana serves, then one page of the v1 list.
    assert_eq!(
        one_app,
        [
            "GET /api/health 200",
            "GET /apis 200",
            "GET /apis/dashboard.grafana.app/v1beta1/namespaces/default/dashboards?limit=500 200",
        ]
    );

    let kubeconfig = cluster.kubeconfig();
    let grafana_url = grafana.url();
    let text = cluster.run_checked(crate::support::kube::run_env(
        dir.path(),
        &[
            "adoption",
            "--prometheus-url",
            &url,
            "--grafana-url",
            &grafana_url,
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
        &[("GRAFANA_TOKEN", grafana::VIEWER_TOKEN)],
    ));
    text.expect_status(0);
    assert!(
        text.stdout_line("Adoption: ")
            .ends_with(&format!("; Prometheus: {url}/; Grafana: {grafana_url}/")),
        "{}",
        text.stdout
    );

    // Gateway's dashboard, four more apps' and someone's own.
    grafana.save_as(
        grafana::EDITOR_NAME,
        pushed_dashboard("payments", "gateway"),
    );
    for n in 0..4 {
        grafana.save_as(
            grafana::EDITOR_NAME,
            pushed_dashboard("elsewhere", &format!("app-{n}")),
        );
    }
    grafana.save_as(
        "alice",
        json!({"uid": "alices", "title": "Alice's", "panels": []}),
    );
    let (run, report, six_apps) = adoption_in_grafana(cluster, dir.path(), &grafana, &url);
    run.expect_status(0);
    assert_eq!(six_apps, one_app);
    assert_eq!(
        placed(&report, "payments/deployment/gateway"),
        (
            json!(3),
            "alert(s) GatewayHighErrorRate is firing".into(),
            "onramp troubleshoot gateway -n payments".into()
        )
    );
    assert_eq!(app(&report, "shop/deployment/checkout")["level"], 4);

    // A person saves checkout's dashboard in Grafana 13's UI: stored as v2.
    grafana
        .ui_save_v2("alice", "checkout-service-health", |spec| {
            spec["title"] = json!("checkout (mine)");
        })
        .expect("the UI saves");
    let (run, report, with_v2) = adoption_in_grafana(cluster, dir.path(), &grafana, &url);
    run.expect_status(0);
    assert_eq!(
        placed(&report, "shop/deployment/checkout"),
        (
            json!(3),
            "dashboard(s) changed since onramp wrote them, not marked as a person's edit: checkout-service-health in Grafana (stored as v2, saved from Grafana's UI, last saved by user:alice)".into(),
            "onramp codify checkout -n shop --from-live --grafana-url URL --out DIR (keep the edit), or onramp apply checkout -n shop (put onramp's back)".into()
        )
    );
    // The v2 dashboard's content comes from one more list, in v2.
    assert_eq!(
        with_v2[3..],
        ["GET /apis/dashboard.grafana.app/v2/namespaces/default/dashboards?limit=500 200"]
    );
    assert_eq!(with_v2[..3], one_app[..]);

    // 500 more dashboards: the lists come in two pages of 500 each, the
    // second asked with the first's `continue` token.
    for n in 0..500 {
        grafana.save_as(
            grafana::EDITOR_NAME,
            json!({"uid": format!("other-{n}"), "title": format!("Other {n}"), "panels": []}),
        );
    }
    let (run, report, paged) = adoption_in_grafana(cluster, dir.path(), &grafana, &url);
    run.expect_status(0);
    let list = |version: &str, token: &str| {
        format!(
            "GET /apis/dashboard.grafana.app/{version}/namespaces/default/dashboards?limit=500{token} 200"
        )
    };
    assert_eq!(
        paged[2..],
        [
            list("v1beta1", ""),
            list("v1beta1", "&continue=c000001f4"),
            list("v2", ""),
            list("v2", "&continue=c000001f4"),
        ]
    );
    assert_eq!(app(&report, "shop/deployment/checkout")["level"], 3);
    assert_eq!(app(&report, "payments/deployment/gateway")["level"], 3);

    // Grafana 11: no resource API. One search by onramp's tag says which
    // dashboards exist; their markers would take a GET each: level 4 is
    // left unproven for checkout, whose dashboard is only there.
    let eleven = GrafanaStandIn::start();
    eleven.save_as(grafana::EDITOR_NAME, pushed_dashboard("shop", "checkout"));
    let (run, report, classic) = adoption_in_grafana(cluster, dir.path(), &eleven, &url);
    run.expect_status(0);
    assert_eq!(
        classic,
        [
            "GET /api/health 200",
            "GET /apis 404",
            "GET /api/search?type=dash-db&limit=1000&page=1&tag=onramp 200",
        ]
    );
    let checkout = app(&report, "shop/deployment/checkout");
    assert_eq!(checkout["level"], 3);
    assert_eq!(
        checkout["not_checked"][0]["why"],
        format!(
            "checkout-service-health ({}/): Grafana 11.3.0: classic dashboard API only (/api/dashboards): checking each dashboard's marker would take one request per dashboard, which adoption does not send",
            eleven.url()
        )
    );

    // Nothing listens on port 1.
    let kubeconfig = cluster.kubeconfig();
    let run = cluster.run(
        dir.path(),
        &[
            "adoption",
            "--prometheus-url",
            &url,
            "--grafana-url",
            "http://127.0.0.1:1",
            "-o",
            "json",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(3);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    for (name, who) in [
        ("shop/deployment/checkout", "shop/checkout"),
        ("payments/deployment/gateway", "payments/gateway"),
    ] {
        let placed = app(&report, name);
        assert_eq!(placed["level"], Value::Null, "{name}");
        assert_eq!(
            placed["not_checked"][0]["what"],
            format!("dashboards in Grafana of {who}")
        );
        assert_eq!(
            placed["not_checked"][0]["allowed_by"],
            "--grafana-url, GRAFANA_URL or grafana.url in onramp.yaml"
        );
    }
    // Its dashboard is a ConfigMap: Grafana is not needed to place it.
    assert_eq!(app(&report, "search/deployment/query")["level"], 2);
    assert_eq!(report["not_checked"][0]["what"], "Grafana");
    assert!(
        run.stderr
            .starts_with("onramp adoption: Grafana (http://127.0.0.1:1/) could not be asked: ")
            && run
                .stderr
                .ends_with("; the levels that need Grafana's dashboards are reported as unknown\n"),
        "{}",
        run.stderr
    );
}
on_both!(
    prometheus;
    dashboards_in_grafana_placed_apps_on_levels_3_and_4_and_a_ui_edit_stopped_one_at_3,
    Scenario::Fleet
);
