//! `onramp needs new`: from a developer's story to a need, against the real
//! Prometheus 2.42 scraping a framework's exposition text
//! (`tests/fixtures/exposition/`) as the demo shop's `checkout`: the need is
//! written and checked, and `plan --need ID` and `verify --need ID` pass on
//! it — for a counter, a histogram, a gauge and a ratio of counters.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::exposition::ExpositionServer;
use crate::support::prometheus::{PrometheusServer, Version};
use crate::support::{Run, demo_manifests, onramp_in, repo_path};

/// A fixture scraped as `checkout` in namespace `shop`.
struct Scraped {
    prometheus: PrometheusServer,
    _app: ExpositionServer,
}

impl Scraped {
    fn start(fixture: &str) -> Scraped {
        let prometheus = PrometheusServer::of(Version::V2);
        let app = ExpositionServer::start(fixture);
        prometheus.write_target(
            "checkout",
            app.address(),
            &[("namespace", "shop"), ("job", "checkout")],
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let expr = r#"count_over_time(up{job="checkout"}[1m])"#;
        while prometheus.query(expr).first().map_or(0.0, |s| s.1) < 4.0 {
            assert!(Instant::now() < deadline, "{expr} stayed below 4");
            std::thread::sleep(Duration::from_millis(300));
        }
        Scraped {
            prometheus,
            _app: app,
        }
    }
}

fn manifests() -> String {
    repo_path(&demo_manifests()).display().to_string()
}

/// `onramp needs new checkout -f DEMO --story STORY --signal … --prometheus-url URL` in `dir`.
fn needs_new(dir: &Path, url: Option<&str>, story: &str, signals: &[&str]) -> Run {
    let m = manifests();
    let mut args = vec!["needs", "new", "checkout", "-f", &m, "--story", story];
    for s in signals {
        args.extend(["--signal", s]);
    }
    if let Some(url) = url {
        args.extend(["--prometheus-url", url]);
    }
    onramp_in(Some(dir), &args, None)
}

/// `verify checkout --need ID --json` in `dir` (onramp.yaml there names the needs folder).
fn verify(dir: &Path, url: &str, id: &str) -> Value {
    let m = manifests();
    let run = onramp_in(
        Some(dir),
        &[
            "verify",
            "checkout",
            "-f",
            &m,
            "--need",
            id,
            "--prometheus-url",
            url,
            "--json",
        ],
        None,
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("verify json: {e}\n{}\n{}", run.stdout, run.stderr))
}

/// The story becomes a need file that `needs check` passes, `plan --need`
/// plans and whose signal and panel checks `verify` passes.
fn story_to_verified_need(fixture: &str, story: &str, signals: &[&str], id: &str) -> (String, Run) {
    let app = Scraped::start(fixture);
    let url = app.prometheus.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let run = needs_new(dir.path(), Some(&url), story, signals);
    run.expect_status(0);
    let file = dir.path().join(format!("needs/{id}.yaml"));
    let yaml = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), run.stdout));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("onramp.yaml")).expect("onramp.yaml"),
        "needs_dirs: [needs]   # added by `onramp needs new`\n"
    );
    let check = onramp_in(
        Some(dir.path()),
        &["needs", "check", &format!("needs/{id}.yaml")],
        None,
    );
    check.expect_status(0);
    let m = manifests();
    let plan = onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", &m, "--need", id],
        None,
    );
    plan.expect_status(0);
    assert!(plan.stdout.contains(id), "{}", plan.stdout);
    let report = verify(dir.path(), &url, id);
    let checks = report["checks"].as_array().expect("checks");
    for c in checks
        .iter()
        .filter(|c| c["category"] == "signal" || c["category"] == "panel")
    {
        assert_eq!(c["status"], "pass", "{c}\n{yaml}");
    }
    assert!(checks.iter().any(|c| c["category"] == "panel"), "{report}");
    (yaml, run)
}

#[test]
#[cfg_attr(
    not(prometheus),
    ignore = "needs prometheus and promtool 2.x: apt-get install prometheus (ONRAMP_TEST_PROMETHEUS)"
)]
fn a_latency_story_becomes_a_histogram_need_with_an_alert_from_live_data() {
    let (yaml, run) = story_to_verified_need(
        "fastapi.prom",
        "As a developer, I want to see request latency per handler, so that I notice a slow endpoint before users do.",
        &["latency=http_request_duration_seconds.handler"],
        "request-latency-handler",
    );
    println!("{}\n{yaml}", run.stdout);
    assert!(yaml.contains("type: histogram"), "{yaml}");
    assert!(
        yaml.contains("histogram_quantile(0.95, sum by (le, {{latency.handler}})"),
        "{yaml}"
    );
    assert!(yaml.contains("name: SlowLatency"), "{yaml}");
    assert!(
        run.stdout.contains("Alert: the p95 of latency is "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("latency: histogram http_request_duration_seconds by handler — exposed"),
        "{}",
        run.stdout
    );
}
