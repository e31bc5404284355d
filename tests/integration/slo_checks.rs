//! An objective checked against live data, with the real Prometheus and the
//! demo shop: `plan --prometheus-url` shows each objective's events now, the
//! series its rules read and write, and the bucket a latency objective
//! counts by, taken from the app's own histogram; after `apply`, `verify`
//! finds the objective's rule group loaded, its page and ticket inactive,
//! and its 5-minute error ratio recorded; both replay the alerts on what
//! Prometheus holds.

use std::time::Duration;

use crate::live::{Stack, check, report};
use crate::support::prometheus::on_both_prometheus;
use crate::support::{demo_manifests, onramp_env};

const BOTH_ON: &str = "objectives:\n  availability: {}\n  latency: {threshold: 300ms}\n";

on_both_prometheus! {
    fn plan_and_verify_check_each_objective_against_the_shops_live_data(version) {
        let stack = Stack::with_sessions(version, 10, Duration::from_millis(200));
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("onramp.yaml");
        std::fs::write(&config, BOTH_ON).expect("write onramp.yaml");
        let config = config.display().to_string();
        stack
            .apply(&stack.shop.address(), &["--config", &config])
            .expect_status(0);

        // The backtest replays whole minutes: let Prometheus hold more than
        // one (70 scrapes of 1 s) before asking, or it has nothing to replay.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while stack
            .prometheus
            .query(r#"count_over_time(up{job="checkout"}[2m])"#)
            .first()
            .is_none_or(|(_, n)| *n < 70.0)
        {
            assert!(std::time::Instant::now() < deadline, "Prometheus never held 70 s of the shop");
            std::thread::sleep(Duration::from_secs(2));
        }
        let run = stack.verify(&["--config", &config, "--wait", "60s", "--json"]);
        run.expect_status(0);
        let report = report(&run);
        for id in ["availability", "latency"] {
            let sli = check(&report, "objective", &format!("service-health/{id} SLI"));
            assert_eq!(sli["status"], "pass", "{sli}");
            assert!(sli["detail"].as_str().is_some_and(|d| d.contains(" events/s, ")), "{sli}");
            let recorded = check(&report, "objective", &format!("service-health/{id} recorded"));
            assert_eq!(recorded["status"], "pass", "{recorded}");
            // A Prometheus that started a minute ago holds only that minute.
            let backtest = check(&report, "objective", &format!("service-health/{id} backtest"));
            assert_eq!(backtest["status"], "pass", "{backtest}");
            assert!(
                backtest["detail"].as_str().is_some_and(|d| d.starts_with("would not have paged or opened a ticket since ")
                    && d.ends_with(" (as far back as Prometheus holds)")),
                "{backtest}"
            );
            let group = check(&report, "rules", &format!("shop.checkout.slo-{id}"));
            assert_eq!(group["status"], "pass", "{group}");
            assert!(group["detail"].as_str().is_some_and(|d| d.starts_with("18 rules loaded")), "{group}");
            let title = if id == "latency" { "Latency" } else { "Availability" };
            for tier in ["page", "ticket"] {
                let alert = check(&report, "alert", &format!("Checkout{title}ErrorBudgetBurn ({tier})"));
                assert_eq!(alert["detail"], "inactive", "{alert}");
            }
        }

        let (manifests, url) = (demo_manifests(), stack.prometheus.url());
        let plan = onramp_env(
            &["plan", "checkout", "-f", &manifests, "--config", &config, "--prometheus-url", &url],
            &[("PATH", &stack.path())],
        );
        plan.expect_status(0);
        assert!(
            plan.stdout_line("objective latency")
                .contains(r#"bucket le="0.25" of the app's http_request_duration_seconds_bucket: the largest boundary under 300ms"#),
            "{}",
            plan.stdout
        );
        let availability = plan.stdout_line("service-health/availability: ");
        assert!(availability.contains(" events/s, "), "{availability}");
        // Every request series and the 5xx ones (none yet: no series), and
        // 16 recording rules of one series each.
        assert!(availability.contains("its rules read ") && availability.ends_with("and write 16"), "{availability}");
        let backtest = plan.stdout.split("service-health/availability: ").nth(1).and_then(|rest| rest.lines().nth(1)).unwrap_or_default();
        assert!(backtest.starts_with("      backtest: would not have paged or opened a ticket since "), "{}", plan.stdout);
    }
}
