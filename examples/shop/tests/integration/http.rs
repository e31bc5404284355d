//! The shop in-process, reached over real HTTP on a loopback port.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use shop::client::Client;
use shop::rng::SplitMix64;
use shop::{Config, Shop};

fn default_flags() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("flags.json")
}

fn config(flags: Option<PathBuf>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        flags,
        ..Config::default()
    }
}

/// A flags file with one failure flag forced to a value.
fn flags_file(dir: &tempfile::TempDir, flag: &str, value: &str) -> PathBuf {
    let path = dir.path().join("flags.json");
    write_flag(&path, flag, value);
    path
}

fn write_flag(path: &Path, flag: &str, value: &str) {
    let json = format!(
        r#"{{"flags": {{"{flag}": {{"state": "ENABLED", "variants": {{"on": {value}, "off": false}}, "defaultVariant": "on"}}}}}}"#
    );
    std::fs::write(path, json).expect("write flags");
}

/// `name -> set of label names` and `name -> TYPE` from an exposition.
fn families(text: &str) -> (BTreeMap<String, String>, BTreeMap<String, BTreeSet<String>>) {
    let mut types = BTreeMap::new();
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, _value) = line.rsplit_once(' ').expect("sample line");
        let (name, label_text) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let names = labels.entry(name.to_owned()).or_default();
        for pair in label_text.split("\",").filter(|p| !p.is_empty()) {
            let (label, _) = pair.split_once('=').expect("label pair");
            names.insert(label.to_owned());
        }
    }
    (types, labels)
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn metrics_exposition_has_exactly_the_convention_names_and_labels() {
    let shop = Shop::start(&config(Some(default_flags())))
        .await
        .expect("start");
    let mut client = Client::new(shop.addr);
    for (method, path, status) in [
        ("GET", "/", 200),
        ("GET", "/products", 200),
        ("POST", "/cart", 200),
        ("POST", "/checkout", 200),
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("GET", "/no-such-page", 404),
    ] {
        let response = client
            .send(method.parse().expect("method"), path, &[])
            .await
            .expect("request");
        assert_eq!(response.status.as_u16(), status, "{method} {path}");
    }
    let mut rng = SplitMix64::new(1);
    for _ in 0..10 {
        shop::simulator::play_session(&shop.flags, &shop.metrics, &mut rng);
    }

    let scrape = client.get("/metrics").await.expect("scrape");
    assert_eq!(scrape.status.as_u16(), 200);
    let text = scrape.body;
    let (types, labels) = families(&text);

    let expected_types: BTreeMap<String, String> = [
        ("http_requests_total", "counter"),
        ("http_request_duration_seconds", "histogram"),
        ("http_requests_in_flight", "gauge"),
        ("feature_flag_evaluation_requests_total", "counter"),
        ("user_sessions_total", "counter"),
        ("user_clicks_total", "counter"),
        ("user_page_exits_total", "counter"),
        ("shop_build_info", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_start_time_seconds", "gauge"),
        ("process_open_fds", "gauge"),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_owned(), t.to_owned()))
    .collect();
    assert_eq!(types, expected_types, "\n{text}");

    let flag_labels = set(&[
        "feature_flag_key",
        "feature_flag_result_variant",
        "feature_flag_provider_name",
        "feature_flag_result_reason",
    ]);
    let variant_labels = set(&["feature_flag_key", "feature_flag_result_variant"]);
    let expected_labels: BTreeMap<String, BTreeSet<String>> = [
        ("http_requests_total", set(&["route", "method", "status"])),
        (
            "http_request_duration_seconds_bucket",
            set(&["route", "method", "le"]),
        ),
        (
            "http_request_duration_seconds_sum",
            set(&["route", "method"]),
        ),
        (
            "http_request_duration_seconds_count",
            set(&["route", "method"]),
        ),
        ("http_requests_in_flight", set(&[])),
        ("feature_flag_evaluation_requests_total", flag_labels),
        ("user_sessions_total", variant_labels.clone()),
        ("user_clicks_total", variant_labels.clone()),
        ("user_page_exits_total", variant_labels),
        ("shop_build_info", set(&["version"])),
        ("process_resident_memory_bytes", set(&[])),
        ("process_cpu_seconds_total", set(&[])),
        ("process_start_time_seconds", set(&[])),
        ("process_open_fds", set(&[])),
    ]
    .into_iter()
    .map(|(n, l)| (n.to_owned(), l))
    .collect();
    assert_eq!(labels, expected_labels, "\n{text}");

    for line in [
        "http_requests_total{route=\"/checkout\",method=\"POST\",status=\"200\"} 1",
        "http_requests_total{route=\"/products\",method=\"GET\",status=\"200\"} 1",
        "http_requests_total{route=\"/\",method=\"GET\",status=\"200\"} 1",
        "http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1",
        "http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "http_request_duration_seconds_count{route=\"/cart\",method=\"POST\"} 1",
        "http_request_duration_seconds_bucket{route=\"/cart\",method=\"POST\",le=\"5\"} 1",
        "http_request_duration_seconds_bucket{route=\"/cart\",method=\"POST\",le=\"+Inf\"} 1",
        // The scrape being answered is itself in flight.
        "http_requests_in_flight 1",
        "feature_flag_evaluation_requests_total{feature_flag_key=\"fail-crash-at-start\",feature_flag_result_variant=\"off\",feature_flag_provider_name=\"flagd-file\",feature_flag_result_reason=\"STATIC\"} 1",
        "feature_flag_evaluation_requests_total{feature_flag_key=\"fail-error-rate\",feature_flag_result_variant=\"off\",feature_flag_provider_name=\"flagd-file\",feature_flag_result_reason=\"STATIC\"} 2",
        &format!("shop_build_info{{version=\"{}\"}} 1", shop::VERSION),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_request_duration_seconds_bucket{route=\"/cart\""))
        .map(|l| {
            l.split("le=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("le")
        })
        .collect();
    assert_eq!(
        buckets,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"
        ]
    );
    let clicks_per_session: Vec<(String, u64, u64)> = ["on", "off"]
        .iter()
        .map(|v| {
            let (s, c, _) = shop.metrics.engagement("new-checkout-button", v);
            ((*v).to_owned(), s, c)
        })
        .collect();
    for (variant, sessions, clicks) in clicks_per_session {
        let per = if variant == "on" { 6 } else { 4 };
        assert_eq!(clicks, sessions * per, "{variant}");
    }

    shop.stop();
    shop.wait().await.expect("clean stop");
}

async fn share_of_failed_checkouts(flag_value: &str, n: u32) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = flags_file(&dir, "fail-error-rate", flag_value);
    let shop = Shop::start(&config(Some(path))).await.expect("start");
    let mut client = Client::new(shop.addr);
    let mut failed = 0;
    for _ in 0..n {
        let r = client
            .send(axum::http::Method::POST, "/checkout", &[])
            .await
            .expect("checkout");
        match r.status.as_u16() {
            500 => failed += 1,
            200 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    // Products never fail, whatever the flag says.
    assert_eq!(
        client
            .get("/products")
            .await
            .expect("products")
            .status
            .as_u16(),
        200
    );
    let text = client.get("/metrics").await.expect("scrape").body;
    let line = format!(
        "http_requests_total{{route=\"/checkout\",method=\"POST\",status=\"500\"}} {failed}"
    );
    assert!(
        text.lines().any(|l| l == line),
        "missing {line:?} in\n{text}"
    );
    shop.stop();
    shop.wait().await.expect("clean stop");
    f64::from(failed) / f64::from(n)
}

#[tokio::test]
async fn error_rate_flag_fails_its_share_of_checkouts() {
    let share = share_of_failed_checkouts("0.5", 1_000).await;
    assert!(
        (share - 0.5).abs() < 0.05,
        "numeric variant 0.5: share {share}"
    );
    let share = share_of_failed_checkouts("true", 1_000).await;
    assert!((share - 0.3).abs() < 0.05, "boolean variant: share {share}");
}

#[tokio::test]
async fn latency_flag_slows_shop_pages_but_not_probes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = flags_file(&dir, "fail-latency", "200");
    let shop = Shop::start(&config(Some(path))).await.expect("start");
    let mut client = Client::new(shop.addr);
    let start = Instant::now();
    client.get("/products").await.expect("products");
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    let start = Instant::now();
    client.get("/healthz").await.expect("healthz");
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    let text = client.get("/metrics").await.expect("scrape").body;
    for line in [
        "http_request_duration_seconds_bucket{route=\"/products\",method=\"GET\",le=\"0.1\"} 0",
        "http_request_duration_seconds_bucket{route=\"/products\",method=\"GET\",le=\"0.25\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    shop.stop();
    shop.wait().await.expect("clean stop");
}

#[tokio::test]
async fn flag_file_changes_apply_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = flags_file(&dir, "fail-error-rate", "0");
    let mut config = config(Some(path.clone()));
    config.flags_poll = Duration::from_millis(50);
    let shop = Shop::start(&config).await.expect("start");
    let mut client = Client::new(shop.addr);
    let post = axum::http::Method::POST;
    assert_eq!(
        client
            .send(post.clone(), "/cart", &[])
            .await
            .expect("cart")
            .status
            .as_u16(),
        200
    );

    write_flag(&path, "fail-error-rate", "1");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = client
            .send(post.clone(), "/cart", &[])
            .await
            .expect("cart")
            .status;
        if status.as_u16() == 500 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the changed flags file was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shop.stop();
    shop.wait().await.expect("clean stop");
}

#[tokio::test]
async fn simulated_users_drive_sessions_and_requests() {
    let mut config = config(Some(default_flags()));
    config.simulate_users = 4;
    config.session_interval = Duration::from_millis(25);
    let shop = Shop::start(&config).await.expect("start");
    let mut client = Client::new(shop.addr);
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = client.get("/metrics").await.expect("scrape").body;
        let (on, _, _) = shop.metrics.engagement("new-checkout-button", "on");
        let (off, _, _) = shop.metrics.engagement("new-checkout-button", "off");
        if on >= 5
            && off >= 5
            && text.contains("route=\"/checkout\",method=\"POST\",status=\"200\"")
        {
            break text;
        }
        assert!(Instant::now() < deadline, "no simulated traffic:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        text.contains("http_requests_total{route=\"/products\",method=\"GET\",status=\"200\"}")
    );
    assert!(text.contains("user_sessions_total{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\"}"));
    for (variant, per) in [("on", 6), ("off", 4)] {
        let (sessions, clicks, _) = shop.metrics.engagement("new-checkout-button", variant);
        assert_eq!(clicks, sessions * per, "{variant}");
    }
    let readyz = client.get("/readyz").await.expect("readyz");
    assert_eq!(readyz.status.as_u16(), 200);
    shop.stop();
    tokio::time::timeout(Duration::from_secs(5), shop.wait())
        .await
        .expect("stops within 5 s")
        .expect("clean stop");
}

fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
}

#[tokio::test]
async fn memory_leak_flag_grows_resident_memory() {
    const MIB: f64 = 1024.0 * 1024.0;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = flags_file(&dir, "fail-memory-leak", "20");
    let before = shop::process::ProcessStats::read()
        .resident_memory_bytes
        .expect("rss") as f64;
    let shop = Shop::start(&config(Some(path))).await.expect("start");
    let mut client = Client::new(shop.addr);
    // The leak grows at once and then every second: 20 MiB, then 40 MiB.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let text = client.get("/metrics").await.expect("scrape").body;
    let after = sample(&text, "process_resident_memory_bytes");
    assert!(
        after - before >= 35.0 * MIB,
        "resident memory grew by {:.1} MiB only",
        (after - before) / MIB
    );
    assert!(sample(&text, "process_open_fds") >= 3.0);
    assert!(sample(&text, "process_start_time_seconds") > 1.6e9);
    shop.stop();
    shop.wait().await.expect("clean stop");
}
