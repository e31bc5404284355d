//! Regressions of `onramp verify`'s waiting: `--wait` bounds and formats,
//! and a Prometheus unreachable or still starting.

use std::time::{Duration, Instant};

use super::{demo, fake_prometheus};
use crate::support::read;

#[test]
fn verify_wait_of_u64_max_seconds_panicked() {
    for wait in ["18446744073709551615", "9999999999999999d"] {
        let run = demo(
            "verify",
            &["--prometheus-url", "http://127.0.0.1:9", "--wait", wait],
        );
        run.expect_status(2);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            run.stderr.contains("--wait") && run.stderr.contains("at most 24h"),
            "the message names the bound: {}",
            run.stderr
        );
    }
}

#[test]
fn verify_wait_refused_humantime_durations() {
    let run = demo(
        "verify",
        &[
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--wait",
            "1s 500ms",
        ],
    );
    // Not a usage error: the duration parses, Prometheus is then unreachable.
    assert_ne!(run.status, 2, "{}", run.stderr);
}

#[test]
fn verify_wait_gave_up_on_an_unreachable_prometheus_before_the_deadline_or_wrote_no_junit() {
    let port = crate::support::prometheus::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = tempfile::tempdir().expect("temp dir");
    let junit = out.path().join("verify.xml");
    let junit_arg = junit.display().to_string();
    let started = Instant::now();
    let run = demo(
        "verify",
        &[
            "--prometheus-url",
            &url,
            "--wait",
            "4s",
            "--junit",
            &junit_arg,
            "--json",
        ],
    );
    let took = started.elapsed();
    run.expect_status(3);
    assert!(
        took >= Duration::from_secs(3),
        "gave up after {took:?}, before the 4 s deadline: {}",
        run.stderr
    );
    let xml = read(&junit);
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("cannot reach Prometheus"),
        "{xml}"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    let ms = report["duration_ms"].as_u64().expect("duration_ms");
    assert!(ms >= 3000, "the summary's time is the whole run: {ms} ms");
}

#[test]
fn verify_wait_never_reached_a_prometheus_that_started_after_it() {
    // Nothing listens on the port for 2 s (CI has just started Prometheus),
    // then Prometheus answers.
    let nowhere = tempfile::tempdir().expect("temp dir");
    let port = crate::support::prometheus::free_port();
    let url = format!("http://127.0.0.1:{port}");
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        fake_prometheus(listener, Duration::ZERO, nowhere.path().join("unused"));
        std::thread::sleep(Duration::from_secs(30));
    });
    let run = demo("verify", &["--prometheus-url", &url, "--wait", "6s"]);
    // Reached: the checks ran and failed (nothing scrapes the app there),
    // instead of exit 3 for an unreachable Prometheus.
    run.expect_status(1);
    assert!(
        run.stdout.contains("no scrape target has job=\"checkout\""),
        "{}",
        run.stdout
    );
}
