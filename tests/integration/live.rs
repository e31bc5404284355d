//! The real Prometheus in the loop: the demo shop with its traffic simulator,
//! onboarded into a plain Prometheus with `onramp apply`, checked with
//! `onramp verify`. Each test starts its own Prometheus (1 s scrape) and shop
//! on loopback ports and stops them at the end, also on failure; each runs
//! against Prometheus 2.42 and 3.x (`NAME::prometheus_2`, `NAME::prometheus_3`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::exposition::ExpositionServer;
use crate::support::prometheus::{PrometheusServer, Version, on_both_prometheus};
use crate::support::shop::Shop;
use crate::support::{Run, demo_manifests, onramp, read};

/// A Prometheus and a shop, and the onramp commands between them.
pub(crate) struct Stack {
    pub(crate) prometheus: PrometheusServer,
    pub(crate) shop: Shop,
}

impl Stack {
    fn start(version: Version, users: u32) -> Stack {
        Stack::with_sessions(version, users, Duration::from_millis(200))
    }

    /// Prometheus `version`, and `users` simulated users, each starting a
    /// session every `interval`.
    pub(crate) fn with_sessions(version: Version, users: u32, interval: Duration) -> Stack {
        let prometheus = PrometheusServer::of(version);
        let shop = Shop::start(users, interval);
        Stack { prometheus, shop }
    }

    pub(crate) fn apply(&self, target: &str, extra: &[&str]) -> Run {
        self.apply_env(target, extra, &[])
    }

    /// `onramp apply` to this Prometheus, with extra environment variables.
    fn apply_env(&self, target: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        apply_plain(&self.prometheus, self.prometheus.dir(), target, extra, env)
    }

    /// PATH for onramp run against this Prometheus: its own tools first.
    pub(crate) fn path(&self) -> String {
        self.prometheus
            .version()
            .path_env()
            .to_string_lossy()
            .into_owned()
    }

    pub(crate) fn verify(&self, extra: &[&str]) -> Run {
        let manifests = demo_manifests();
        let url = self.prometheus.url();
        let mut args = vec![
            "verify",
            "checkout",
            "-f",
            &manifests,
            "--prometheus-url",
            &url,
        ];
        args.extend_from_slice(extra);
        crate::support::onramp_env(&args, &[("PATH", &self.path())])
    }

    /// An instant query, through onramp's own client.
    fn query(&self, expr: &str) -> Vec<(String, f64)> {
        self.prometheus
            .query(expr)
            .into_iter()
            .map(|(labels, value)| {
                let variant = labels
                    .get("feature_flag_result_variant")
                    .cloned()
                    .unwrap_or_default();
                (variant, value)
            })
            .collect()
    }

    /// Waits until `expr` returns a value of at least `min` (bounded).
    fn wait_for(&self, expr: &str, min: f64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let value = self.query(expr).first().map(|s| s.1).unwrap_or(0.0);
            if value >= min {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{expr} stayed below {min} (last {value})"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// `onramp apply` of the demo app to a plain Prometheus: its files into
/// `config_dir`, the app scraped at `target`. PATH finds the promtool of this
/// Prometheus unless `env` sets it.
fn apply_plain(
    prometheus: &PrometheusServer,
    config_dir: &Path,
    target: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let (manifests, dir, url) = (
        demo_manifests(),
        config_dir.display().to_string(),
        prometheus.url(),
    );
    let mut args = vec![
        "apply",
        "checkout",
        "-f",
        &manifests,
        "--prometheus-config-dir",
        &dir,
        "--prometheus-url",
        &url,
        "--target",
        target,
    ];
    args.extend_from_slice(extra);
    let path = prometheus
        .version()
        .path_env()
        .to_string_lossy()
        .into_owned();
    let mut env = env.to_vec();
    if !env.iter().any(|(name, _)| *name == "PATH") {
        env.push(("PATH", &path));
    }
    crate::support::onramp_env(&args, &env)
}

pub(crate) fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("verify --json: {e}\n{}\n{}", run.stdout, run.stderr))
}

pub(crate) fn check<'a>(report: &'a Value, category: &str, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["category"] == category && c["name"] == name)
        .unwrap_or_else(|| panic!("no {category} check named {name}"))
}

on_both_prometheus! {
    fn after_apply_in_plain_mode_verify_passes_for_all_three_needs(version) {
        let stack = Stack::start(version, 10);
        let applied = stack.apply(&stack.shop.address(), &[]);
        applied.expect_status(0);
        assert!(
            applied.stdout.contains("created    ")
                && applied.stdout.contains("targets/shop-checkout.yaml"),
            "{}",
            applied.stdout
        );
        assert!(
            applied
                .stdout
                .contains("Prometheus reloaded its configuration successfully."),
            "{}",
            applied.stdout
        );
        // Applying again changes nothing.
        let again = stack.apply(&stack.shop.address(), &[]);
        again.expect_status(0);
        assert_eq!(
            again.stdout.matches("unchanged").count(),
            2,
            "{}",
            again.stdout
        );

        let junit = tempfile::NamedTempFile::new().expect("temp file");
        let junit_path = junit.path().display().to_string();
        let run = stack.verify(&["--wait", "60s", "--json", "--junit", &junit_path]);
        run.expect_status(0);
        let report = report(&run);
        assert_eq!(report["passed"], true);
        for need in [
            "service-health",
            "troubleshooting",
            "feature-flag-engagement",
        ] {
            let passing = report["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .filter(|c| {
                    c["category"] == "panel"
                        && c["status"] == "pass"
                        && c["name"].as_str().is_some_and(|n| n.starts_with(need))
                })
                .count();
            assert!(passing > 0, "no passing panel for {need}");
        }
        assert_eq!(check(&report, "target", "shop/checkout")["status"], "pass");
        assert_eq!(
            check(&report, "rules", "shop.checkout.service-health")["status"],
            "pass"
        );
        assert_eq!(
            check(&report, "signal", "troubleshooting/restarts")["status"],
            "skip",
            "no kube-state-metrics here"
        );
        let xml = read(junit.path());
        let cases = xml.matches("<testcase").count();
        assert_eq!(
            cases,
            report["checks"].as_array().expect("checks").len(),
            "one test case per check"
        );
        assert!(!xml.contains("<failure"), "{xml}");
    }
}

on_both_prometheus! {
    fn the_engagement_panels_give_the_simulators_numbers_per_variant(version) {
        let stack = Stack::start(version, 20);
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        // Enough sessions on both variants for the shares to settle.
        stack.wait_for(
            r#"min(user_sessions_total{job="checkout"})"#,
            1500.0,
            Duration::from_secs(150),
        );

        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().display().to_string();
        onramp(&["codify", "checkout", "-f", &demo_manifests(), "--out", &out]).expect_status(0);
        let dashboard: Value = serde_json::from_str(&read(
            dir.path().join("dashboards/feature-flag-engagement.json"),
        ))
        .expect("json");
        let panel_expr = |title: &str| -> String {
            let panel = dashboard["panels"]
                .as_array()
                .expect("panels")
                .iter()
                .find(|p| p["title"] == title)
                .expect("panel");
            onramp::check::verify::instant_query(
                panel["targets"][0]["expr"].as_str().expect("expr"),
                &["flag".to_string()],
            )
        };
        // The dashboard's own queries, evaluated by Prometheus (the tolerance
        // covers the sampling of who leaves and increase()'s extrapolation).
        let clicks = stack.query(&panel_expr("Clicks per session by variant"));
        let exits = stack.query(&panel_expr(
            "Share of sessions ending by leaving the page, by variant",
        ));
        let value = |samples: &[(String, f64)], variant: &str| {
            samples
                .iter()
                .find(|s| s.0 == variant)
                .map(|s| s.1)
                .unwrap_or_else(|| panic!("no {variant} in {samples:?}"))
        };
        assert!(
            (value(&clicks, "on") - 6.0).abs() < 0.3,
            "clicks/session on: {clicks:?}"
        );
        assert!(
            (value(&clicks, "off") - 4.0).abs() < 0.3,
            "clicks/session off: {clicks:?}"
        );
        assert!(
            (value(&exits, "on") - 0.20).abs() < 0.06,
            "exit share on: {exits:?}"
        );
        assert!(
            (value(&exits, "off") - 0.35).abs() < 0.06,
            "exit share off: {exits:?}"
        );
    }
}

on_both_prometheus! {
    fn the_error_rate_flag_makes_the_alert_pending_and_verify_fail(version) {
        let stack = Stack::start(version, 10);
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        stack.verify(&["--wait", "60s"]).expect_status(0);
        stack.shop.set_flag("fail-error-rate", "on");
        let deadline = Instant::now() + Duration::from_secs(150);
        loop {
            let run = stack.verify(&["--json"]);
            if run.status == 1 {
                let report = report(&run);
                let alert = check(&report, "alert", "CheckoutHighErrorRate");
                assert_eq!(alert["status"], "fail");
                let detail = alert["detail"].as_str().expect("detail");
                assert!(
                    detail.starts_with("pending") || detail.starts_with("FIRING"),
                    "{detail}"
                );
                let table = stack.verify(&[]);
                table.expect_status(1);
                assert!(
                    table.stdout.contains("FAIL  alert      CheckoutHighErrorRate"),
                    "{}",
                    table.stdout
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the error-rate alert never went pending:\n{}",
                run.stdout
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

on_both_prometheus! {
    fn a_broken_scrape_fails_verify_naming_the_target_and_the_reason(version) {
        let stack = Stack::start(version, 1);
        let closed = format!("127.0.0.1:{}", crate::support::prometheus::free_port());
        stack.apply(&closed, &[]).expect_status(0);
        let run = stack.verify(&["--wait", "10s"]);
        run.expect_status(1);
        let line = run.stdout_line("FAIL  target");
        assert!(
            line.contains(&format!("http://{closed}/metrics is down")),
            "{line}"
        );
        assert!(line.contains("connection refused"), "{line}");
    }
}

on_both_prometheus! {
    fn verify_exits_3_when_prometheus_is_down(version) {
        let mut stack = Stack::start(version, 1);
        let url = stack.prometheus.url();
        stack.prometheus.stop();
        let run = stack.verify(&[]);
        run.expect_status(3);
        assert!(
            run.stderr.contains(url.trim_end_matches('/')),
            "names the URL: {}",
            run.stderr
        );
    }
}

/// A user need whose alert description uses a template function Prometheus does not have.
fn broken_need_dir() -> tempfile::TempDir {
    crate::support::dir_with(
        "broken.yaml",
        r#"id: broken
title: Broken
story: As a developer I want an alert.
signals:
  requests: {description: Requests., type: counter, metric: http_requests_total, instrumentation: Count them.}
panels:
  - {title: Requests, description: Requests per second., unit: reqps, queries: [{expr: 'sum(rate({{requests}}[$__rate_interval]))'}]}
alerts:
  - name: NoTraffic
    expr: 'sum(rate({{requests}}[5m])) == 0'
    for: 5m
    severity: warning
    summary: No traffic.
    description: '{{ $value | nosuchfunction }} requests.'
    runbook: {meaning: m, impact: i, diagnosis: [d], mitigation: [m]}
walkthrough: w
"#,
    )
}

on_both_prometheus! {
    fn a_rules_file_with_an_error_is_refused_and_the_old_one_stays_active(version) {
        let stack = Stack::start(version, 1);
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        let rules = stack.prometheus.rules_dir().join("shop-checkout.yaml");
        let before = read(&rules);
        let needs = broken_need_dir();
        let needs_dir = needs.path().display().to_string();
        let run = stack.apply(&stack.shop.address(), &["--needs-dir", &needs_dir]);
        run.expect_status(2);
        assert!(
            run.stderr
                .contains("do not pass `promtool check rules`, so nothing was changed"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("nosuchfunction"),
            "promtool's reason: {}",
            run.stderr
        );
        assert_eq!(read(&rules), before, "the old rules file stays");
        let verify = stack.verify(&["--wait", "30s", "--json"]);
        verify.expect_status(0);
        assert_eq!(
            check(&report(&verify), "rules", "shop.checkout.service-health")["status"],
            "pass"
        );
    }
}

on_both_prometheus! {
    fn without_promtool_a_rejected_reload_puts_the_old_files_back(version) {
        let stack = Stack::start(version, 1);
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        let rules = stack.prometheus.rules_dir().join("shop-checkout.yaml");
        let before = read(&rules);
        let needs = broken_need_dir();
        let needs_dir = needs.path().display().to_string();
        // No promtool on PATH: Prometheus itself is the one to reject the file.
        let empty_path = tempfile::tempdir().expect("temp dir");
        let path = empty_path.path().display().to_string();
        let run = stack.apply_env(
            &stack.shop.address(),
            &["--needs-dir", &needs_dir],
            &[("PATH", &path)],
        );
        run.expect_status(1);
        assert!(
            run.stderr.to_lowercase().contains("reload"),
            "{}",
            run.stderr
        );
        assert_eq!(read(&rules), before, "the previous rules file is back");
        stack.verify(&["--wait", "30s"]).expect_status(0);
    }
}

on_both_prometheus! {
    fn with_prometheus_a_signal_maps_to_the_alternative_name_the_app_exposes(version) {
        let stack = Stack::start(version, 2);
        stack.apply(&stack.shop.address(), &[]).expect_status(0);
        stack.wait_for(
            r#"count(up{job="checkout"} == 1)"#,
            1.0,
            Duration::from_secs(30),
        );
        let needs = crate::support::dir_with(
            "traffic.yaml",
            r#"id: traffic
title: Traffic
story: As a developer I want to see traffic, whatever my framework calls it.
signals:
  requests:
    description: Requests.
    type: counter
    metric: requests_handled_total
    labels: {path: path}
    alternatives:
      - {metric: http_requests_total, labels: {path: route}, convention: the demo shop}
    instrumentation: Count requests.
panels:
  - {title: Requests by path, description: Requests per second by path., unit: reqps, queries: [{expr: 'sum by ({{requests.path}}) (rate({{requests}}[$__rate_interval]))', legend: '{{requests.path}}'}]}
walkthrough: Look at it.
"#,
        );
        let (manifests, url, needs_dir) = (
            demo_manifests(),
            stack.prometheus.url(),
            needs.path().display().to_string(),
        );
        let args = [
            "plan",
            "checkout",
            "-f",
            &manifests,
            "--needs-dir",
            &needs_dir,
            "--need",
            "traffic",
            "-o",
            "json",
        ];
        let offline = onramp(&args);
        offline.expect_status(0);
        let signal = |run: &Run| report(run)["needs"][0]["signals"][0].clone();
        assert_eq!(signal(&offline)["metric"], "requests_handled_total");
        let mut live_args = args.to_vec();
        live_args.extend_from_slice(&["--prometheus-url", &url]);
        let live = onramp(&live_args);
        live.expect_status(0);
        assert_eq!(signal(&live)["metric"], "http_requests_total");
        assert_eq!(signal(&live)["mapping"], "alternative (the demo shop)");
        let query = report(&live)["needs"][0]["queries"][0]["expr"]
            .as_str()
            .expect("expr")
            .to_string();
        assert!(
            query.starts_with("sum by (route) (rate(http_requests_total{"),
            "{query}"
        );
        let verify = stack.verify(&[
            "--needs-dir",
            &needs_dir,
            "--need",
            "traffic",
            "--wait",
            "30s",
        ]);
        verify.expect_status(0);
    }
}

/// The `prometheus.yml` lines `onramp apply` printed for a config folder
/// Prometheus does not read yet.
fn printed_snippet(run: &Run) -> String {
    let (_, after) = run
        .stdout
        .split_once("add this to prometheus.yml once:\n")
        .unwrap_or_else(|| panic!("no snippet printed:\n{}\n{}", run.stdout, run.stderr));
    after
        .lines()
        .take_while(|l| l.starts_with(' ') || *l == "scrape_configs:" || *l == "rule_files:")
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Waits until `up` of the app's target is 1; panics with its last error.
fn wait_until_up(prometheus: &PrometheusServer, within: Duration) {
    let deadline = Instant::now() + within;
    let up = r#"up{job="checkout",namespace="shop"}"#;
    while prometheus.query(up).first().map(|s| s.1) != Some(1.0) {
        assert!(
            Instant::now() < deadline,
            "the app's target never came up on Prometheus {:?}: {}",
            prometheus.version(),
            prometheus.log_tail(3)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

on_both_prometheus! {
    /// Prometheus 3 refuses a `/metrics` answer without a Content-Type unless
    /// the job sets `fallback_scrape_protocol`, a setting Prometheus 2 refuses:
    /// the snippet apply prints is for the version it asks.
    fn the_snippet_apply_printed_left_an_app_without_a_content_type_down_on_prometheus_3(version) {
        let prometheus = PrometheusServer::of(version);
        let app = ExpositionServer::without_content_type("go-client-golang.prom");
        let config_dir = tempfile::tempdir().expect("temp dir");
        let run = apply_plain(&prometheus, config_dir.path(), app.address(), &[], &[]);
        run.expect_status(0);
        let snippet = printed_snippet(&run);
        let global = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n";
        std::fs::write(prometheus.config_file(), format!("{global}{snippet}"))
            .expect("write prometheus.yml");
        // Prometheus takes the snippet as it is (a reload it refuses panics) ...
        prometheus.reload();
        // ... and scrapes the app as the other version does.
        wait_until_up(&prometheus, Duration::from_secs(20));
    }
}

on_both_prometheus! {
    /// An app without a Content-Type is up on Prometheus 2 and down on 3
    /// (without `fallback_scrape_protocol`): verify says why and what to do.
    fn verify_did_not_say_why_prometheus_3_refused_an_app_without_a_content_type(version) {
        let prometheus = PrometheusServer::of(version);
        let app = ExpositionServer::without_content_type("go-client-golang.prom");
        apply_plain(&prometheus, prometheus.dir(), app.address(), &[], &[]).expect_status(0);
        let (manifests, url) = (demo_manifests(), prometheus.url());
        let verify = || {
            report(&onramp(&["verify", "checkout", "-f", &manifests, "--prometheus-url", &url, "--json"]))
        };
        match version {
            Version::V2 => {
                wait_until_up(&prometheus, Duration::from_secs(20));
                assert_eq!(check(&verify(), "target", "shop/checkout")["status"], "pass");
            }
            Version::V3 => {
                let deadline = Instant::now() + Duration::from_secs(20);
                let detail = loop {
                    let report = verify();
                    let target = check(&report, "target", "shop/checkout");
                    let detail = target["detail"].as_str().unwrap_or_default().to_string();
                    if target["status"] == "fail" && detail.contains(" is down: ") {
                        break detail;
                    }
                    assert!(Instant::now() < deadline, "never down: {target}");
                    std::thread::sleep(Duration::from_millis(500));
                };
                assert!(detail.contains("without a Content-Type, which Prometheus 3 refuses"), "{detail}");
                assert!(detail.contains("`fallback_scrape_protocol: PrometheusText0.0.4`"), "{detail}");
                assert!(detail.contains("`Content-Type: text/plain; version=0.0.4`"), "{detail}");
            }
        }
    }
}
