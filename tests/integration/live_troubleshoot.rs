//! `onramp troubleshoot` with the real Prometheus and the demo shop: the
//! cluster is the Kubernetes stand-in (the shop's healthy `checkout` in
//! `shop`), the metrics are the real shop's, scraped every second by a real
//! Prometheus. Switching a failure flag in the shop's flag file must make
//! troubleshoot put the flag first, with its variant and the numbers that
//! moved; a healthy shop raises nothing. Windows are short (`--since 90s`:
//! the last 23 s against the 68 s before) to keep the wall time modest. Each
//! test that reads Prometheus runs against 2.42 and 3.x.

use std::time::Duration;

use serde_json::Value;

use crate::live::Stack;
use crate::support::Run;
use crate::support::kube::{Scenario, Standin};
use crate::support::prometheus::{Version, on_both_prometheus};

/// How long the shop runs healthy before a flag is switched: enough for
/// the baseline to have points (a 4 s rate needs a few scrapes).
const BASELINE: Duration = Duration::from_secs(35);
/// How long after the switch troubleshoot runs: past the recent part of
/// the window (23 s) and one rate window, so "now" is all after the switch.
const AFTER_SWITCH: Duration = Duration::from_secs(30);

/// A shop scraped by Prometheus, and the stand-in cluster that runs it.
fn onboarded(version: Version) -> (Stack, Standin) {
    let stack = Stack::with_sessions(version, 10, Duration::from_millis(200));
    stack.apply(&stack.shop.address(), &[]).expect_status(0);
    (stack, Standin::start(Scenario::Troubleshoot("healthy")))
}

/// `onramp troubleshoot checkout -n shop … --since 90s EXTRA`.
fn troubleshoot_with(standin: &Standin, prometheus_url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--prometheus-url", prometheus_url, "--since", "90s"];
    args.extend_from_slice(extra);
    crate::troubleshoot::troubleshoot(standin, &args)
}

/// The JSON report (`-o json`).
fn troubleshoot(standin: &Standin, prometheus_url: &str) -> (Run, Value) {
    let run = troubleshoot_with(standin, prometheus_url, &["-o", "json"]);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("troubleshoot -o json: {e}\n{}\n{}", run.stdout, run.stderr));
    (run, report)
}

/// Runs the shop healthy, switches `flag` to `on` as an operator would,
/// then runs troubleshoot, which must exit `status`.
fn after_switching_on(version: Version, flag: &str, status: i32) -> (Stack, Standin, Value) {
    let (stack, standin) = onboarded(version);
    std::thread::sleep(BASELINE);
    stack.shop.set_flag(flag, "on");
    std::thread::sleep(AFTER_SWITCH);
    let (run, report) = troubleshoot(&standin, &stack.prometheus.url());
    assert_eq!(run.status, status, "{}", run.stdout);
    (stack, standin, report)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

fn text(value: &Value) -> String {
    value.to_string()
}

on_both_prometheus! {
    stand_in;
    fn switching_on_the_error_flag_puts_the_flag_and_its_variant_first(version) {
        let (stack, standin, report) = after_switching_on(version, "fail-error-rate", 1);
        let first = &findings(&report)[0];
        let title = first["title"].as_str().expect("title");
        assert!(
            title.starts_with("Errors rose at ")
                && title
                    .ends_with("`fail-error-rate` went from `off` to `on` for 100 % of evaluations"),
            "{:#}",
            report["findings"]
        );
        assert_eq!(
            first["severity"], "critical",
            "the shop fails 30 % of checkouts"
        );
        let evidence = text(&first["evidence"]);
        assert!(
            evidence.contains("`on` 100 % in the recent part") && evidence.contains("error ratio "),
            "{evidence}"
        );
        assert!(
            first["next_step"]
                .as_str()
                .is_some_and(|s| s.starts_with("Serve `off` again")),
            "{first:#}"
        );
        // The rise itself comes after its cause, with the numbers.
        let symptom = findings(&report)
            .iter()
            .position(|f| {
                f["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Errors rose: "))
            })
            .expect("the error rise is reported");
        assert!(symptom > 0);

        // What a person reads: the flag first, and a link to its panel.
        let grafana = "http://grafana.example:3000";
        let run = troubleshoot_with(
            &standin,
            &stack.prometheus.url(),
            &["--grafana-url", grafana],
        );
        run.expect_status(1);
        let first_line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("1. "))
            .unwrap_or_default();
        assert!(
            first_line.starts_with("1. CRITICAL Errors rose at ")
                && first_line.contains("`fail-error-rate` went from `off` to `on`"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!(
                "panel:     Share of evaluations by variant ({grafana}/d/checkout-feature-flag-engagemen-"
            )),
            "{}",
            run.stdout
        );
    }
}

on_both_prometheus! {
    stand_in;
    fn switching_on_the_latency_flag_names_latency_and_the_flag(version) {
        let (_stack, _standin, report) = after_switching_on(version, "fail-latency", 1);
        let first = &findings(&report)[0];
        let title = first["title"].as_str().expect("title");
        assert!(
            title.starts_with("Latency rose at ")
                && title.ends_with("`fail-latency` went from `off` to `on` for 100 % of evaluations"),
            "{:#}",
            report["findings"]
        );
        // The shop adds 800 ms: p95 lands in the 0.5–1 s bucket or above.
        let evidence = text(&first["evidence"]);
        assert!(evidence.contains("p95 latency "), "{evidence}");
        let p95 = findings(&report)
            .iter()
            .find_map(|f| {
                f["title"]
                    .as_str()?
                    .strip_prefix("Latency rose: p95 is ")
                    .map(str::to_string)
            })
            .expect("the latency rise is reported");
        // "973 ms now, 5 ms before" or "1.02 s now, …".
        let mut words = p95.split(' ');
        let number: f64 = words.next().and_then(|n| n.parse().ok()).expect("a number");
        let seconds = if words.next() == Some("ms") {
            number / 1000.0
        } else {
            number
        };
        assert!(seconds >= 0.5, "p95 {p95}");
    }
}

on_both_prometheus! {
    stand_in;
    fn a_healthy_shop_raises_nothing_and_says_what_it_could_not_check(version) {
        let (stack, standin) = onboarded(version);
        std::thread::sleep(BASELINE + AFTER_SWITCH);
        let (run, report) = troubleshoot(&standin, &stack.prometheus.url());
        let alarms: Vec<&Value> = findings(&report)
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        assert!(alarms.is_empty(), "{alarms:#?}");
        assert_eq!(run.status, 0, "{}", run.stdout);
        let checked = text(&report["checked"]);
        for line in [
            "scrape targets: 1 of 1 up",
            "error ratio: 0 % over the last 23 s",
            "alerts: 0 pending or firing",
            "feature flags: 0 changed their variant mix",
        ] {
            assert!(checked.contains(line), "{line} not in {report:#}");
        }
        // No cAdvisor on this machine: saturation is a gap with its reason.
        let gaps = text(&report["not_checked"]);
        assert!(
            gaps.contains("CPU throttling") && gaps.contains("no cAdvisor series"),
            "{gaps}"
        );
        // Under the healthy line, the text says which Prometheus answered.
        let url = stack.prometheus.url();
        let reached = format!("Prometheus reached at {}/", url.trim_end_matches('/'));
        assert!(
            report["checked"]
                .as_array()
                .is_some_and(|c| c.iter().any(|line| *line == reached.as_str())),
            "{report:#}"
        );
        let run = troubleshoot_with(&standin, &url, &[]);
        let lines: Vec<&str> = run.stdout.lines().take(2).collect();
        assert!(lines[0].contains(" is healthy: "), "{}", run.stdout);
        assert_eq!(lines[1], format!("{reached}."), "{}", run.stdout);
    }
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_unreachable_prometheus_is_not_checked_its_password_never_shown_and_the_cluster_checks_still_run()
 {
    let standin = Standin::start(Scenario::Troubleshoot("healthy"));
    let port = crate::support::prometheus::free_port();
    // Credentials in the URL never reach the report.
    let (run, report) = troubleshoot(
        &standin,
        &format!("http://admin:s3cret-pw@127.0.0.1:{port}"),
    );
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains("s3cret-pw") && !run.stderr.contains("s3cret-pw"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let gaps = report["not_checked"].as_array().expect("not_checked");
    let prometheus = gaps
        .iter()
        .find(|g| {
            g["what"]
                .as_str()
                .is_some_and(|w| w.starts_with("Prometheus"))
        })
        .expect("Prometheus is named as not checked");
    assert!(
        prometheus["why"]
            .as_str()
            .is_some_and(|why| why.starts_with(&format!(
                "cannot reach Prometheus at http://127.0.0.1:{port}/"
            ))),
        "{prometheus:#}"
    );
    assert!(
        !report["checked"].as_array().expect("checked").is_empty(),
        "the cluster checks ran: {report:#}"
    );
}

on_both_prometheus! {
    stand_in;
    fn a_throttled_container_near_its_memory_limit_is_named_with_its_numbers(version) {
        let (stack, standin) = onboarded(version);
        // cAdvisor and kube-state-metrics, scraped under their own job as in a
        // cluster: their series keep the pod's namespace, pod and container.
        let cadvisor =
            crate::support::exposition::ExpositionServer::start("cadvisor-kube-state-metrics.prom");
        stack
            .prometheus
            .write_target("kubelet", cadvisor.address(), &[("job", "kubelet")]);
        std::thread::sleep(Duration::from_secs(15));
        let (run, report) = troubleshoot(&standin, &stack.prometheus.url());
        assert_eq!(run.status, 1, "{}", run.stdout);
        let titles: Vec<&str> = findings(&report)
            .iter()
            .filter_map(|f| f["title"].as_str())
            .collect();
        assert_eq!(
            titles[..2],
            [
                "CPU throttled in 40 % of periods in checkout-7c9d8f6b5d-x2k4p",
                "Memory of checkout-7c9d8f6b5d-x2k4p is at 93.1 % of its limit",
            ],
            "{report:#}"
        );
        assert!(
            text(&findings(&report)[1]["evidence"]).contains("working set 238 MiB of 256 MiB (93.1 %)"),
            "{report:#}"
        );
        assert!(
            findings(&report)[0]["next_step"]
                .as_str()
                .is_some_and(|s| s.starts_with("Raise resources.limits.cpu of deployment/checkout")),
            "{report:#}"
        );
    }
}

on_both_prometheus! {
    stand_in;
    fn switching_a_harmless_flag_is_information_not_an_alarm(version) {
        // The 50/50 rollout of the new button goes to everyone; nothing fails.
        let (_stack, _standin, report) = after_switching_on(version, "new-checkout-button", 0);
        let flag = findings(&report)
            .iter()
            .find(|f| {
                f["title"].as_str().is_some_and(|t| {
                    t.starts_with(
                        "`new-checkout-button` went from `off` to `on` for 100 % of evaluations at ",
                    )
                })
            })
            .unwrap_or_else(|| panic!("{report:#}"));
        assert_eq!(flag["severity"], "info");
        assert!(
            flag["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("; errors and latency did not move with it")),
            "{flag:#}"
        );
    }
}
