//! `onramp needs`: the catalog, built-in and the user's own.

use crate::support::onramp;

#[test]
fn needs_lists_the_built_in_catalog() {
    let run = onramp(&["needs"]);
    run.expect_status(0);
    for id in [
        "service-health",
        "troubleshooting",
        "feature-flag-engagement",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(id) && l.ends_with("built-in")),
            "{id}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn needs_show_tells_the_story_and_the_signals() {
    let run = onramp(&["needs", "show", "feature-flag-engagement"]);
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("clicks per session and the\nshare of users leaving the page")
            || run
                .stdout
                .contains("clicks per session and the share of users leaving the page"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "user_clicks_total {flag=feature_flag_key, variant=feature_flag_result_variant}"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("- counter feature_flag_evaluation_requests_total {flag=key, variant=variant} — OpenFeature .NET metrics hook"), "{}", run.stdout);
}

#[test]
fn a_user_need_replaces_the_built_in_with_the_same_id() {
    let text = crate::support::read(crate::support::repo_path("dashboards/service-health.yaml"))
        .replace("title: Service health", "title: Checkout health");
    let dir = crate::support::dir_with("service-health.yaml", &text);
    let needs_dir = dir.path().display().to_string();
    let run = onramp(&["needs", "--needs-dir", &needs_dir]);
    run.expect_status(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("service-health"))
        .expect("listed once");
    assert!(
        line.contains("Checkout health") && line.contains("(replaces the built-in)"),
        "{line}"
    );
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("service-health"))
            .count(),
        1
    );
}

#[test]
fn showing_an_unknown_need_fails_with_the_list() {
    let run = onramp(&["needs", "show", "nope"]);
    run.expect_status(2);
    assert!(
        run.stderr.contains("the catalog has: service-health"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_severity_names_the_line_and_the_three_severities() {
    let text = crate::support::read(crate::support::repo_path("dashboards/service-health.yaml"))
        .replacen("severity: critical", "severity: page", 1);
    let line = text
        .lines()
        .position(|l| l.contains("severity: page"))
        .expect("replaced")
        + 1;
    let dir = crate::support::dir_with("service-health.yaml", &text);
    let needs_dir = dir.path().display().to_string();
    let run = onramp(&["needs", "--needs-dir", &needs_dir]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(&format!("service-health.yaml:{line}:")),
        "{}",
        run.stderr
    );
    for severity in ["page", "critical", "warning", "info"] {
        assert!(run.stderr.contains(severity), "{severity}: {}", run.stderr);
    }
}

#[test]
fn needs_show_said_the_platform_need_is_in_no_apps_plan_and_what_writes_it() {
    let run = onramp(&["needs", "show", "platform-adoption"]);
    run.expect_status(0);
    assert_eq!(
        run.stdout_line("Scope:"),
        "Scope: platform (one dashboard over every app, in no app's plan; `onramp adoption --dashboard --out DIR` writes it)"
    );
    assert!(
        run.stdout.contains(
            "- gauge onramp_adoption_level {app=app, kind=kind, namespace=namespace, team=team} — onramp adoption -o openmetrics"
        ),
        "{}",
        run.stdout
    );
    let app_need = onramp(&["needs", "show", "service-health"]);
    assert!(!app_need.stdout.contains("Scope:"), "{}", app_need.stdout);
}

/// `needs check` on the broken files of `tests/fixtures/needs-check/`: every
/// problem with its exact line and column, in file order, exit 2.
#[test]
fn needs_check_names_every_problem_at_its_line_and_column() {
    let run = onramp(&[
        "needs",
        "check",
        "tests/fixtures/needs-check/built-in-id.yaml",
        "tests/fixtures/needs-check/duplicate-id.yaml",
        "tests/fixtures/needs-check/many-problems.yaml",
        "tests/fixtures/needs-check/schema-typo.yaml",
    ]);
    run.expect_status(2);
    let many = "tests/fixtures/needs-check/many-problems.yaml";
    let expected = [
        "tests/fixtures/needs-check/built-in-id.yaml:1:5: need id \"service-health\" is a built-in need's; a need with this id replaces the built-in one everywhere it is loaded — choose another id, or pass --replace-built-in if that is what you mean".to_string(),
        format!("{many}:1:5: need id \"many-problems\" is already defined at tests/fixtures/needs-check/duplicate-id.yaml:1:5; ids must be unique"),
        format!("{many}:13:28: signal \"latency\" label \"provider\": \"payment-provider\" is not a valid label name"),
        format!("{many}:17:18: panel \"Latency\": needs a description"),
        format!("{many}:18:11: panel \"Latency\": unknown unit \"seconds\"; use one of: short, none, percent, percentunit, reqps, ops, s, ms, µs, ns, bytes, decbytes, bits, Bps, cps, locale, dtdurations, dateTimeAsIso, cores"),
        format!("{many}:20:15: panel \"Latency\": only histogram signals take a series suffix; \"latency\" is not a histogram (got :bucket) (with signal \"latency\" as its alternative checkout_duration_ms_total)"),
        format!("{many}:25:15: panel \"By provider\": PromQL does not parse: unclosed left parenthesis"),
        format!("{many}:29:11: alert \"SlowCheckout\": only histogram signals take a series suffix; \"latency\" is not a histogram (got :bucket) (with signal \"latency\" as its alternative checkout_duration_ms_total)"),
        format!("{many}:30:10: alert \"SlowCheckout\": `for: 5 minutes` is not a Prometheus duration; write whole numbers with units, the largest unit first and each at most once: y, w, d, h, m, s, ms (e.g. 5m, 1h30m, 90s, 0)"),
        format!("{many}:32:27: alert \"SlowCheckout\": {{namspace}} is not a placeholder; did you mean {{namespace}}?"),
        format!("{many}:33:44: alert \"SlowCheckout\": signal \"latency\" has no label \"provder\"; its labels: provider"),
        format!("{many}:40:6: walkthrough: {{if:latncy}} names no signal of this need; signals: latency"),
        "tests/fixtures/needs-check/schema-typo.yaml:10:1: unknown field `panles`, expected one of id, title, story, scope, requires_app_metrics, signals, variables, annotations, panels, alerts, objectives, walkthrough".to_string(),
        "4 need files checked: 13 problems.".to_string(),
    ];
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, expected, "{}", run.stdout);
}

#[test]
fn needs_check_passes_the_built_in_needs_and_says_so() {
    let run = onramp(&[
        "needs",
        "check",
        "dashboards/service-health.yaml",
        "dashboards/troubleshooting.yaml",
        "dashboards/feature-flag-engagement.yaml",
    ]);
    run.expect_status(0);
    assert_eq!(run.stdout, "3 need files checked: no problems.\n");
}

/// A need with a built-in's id is refused unless it is the built-in's own
/// file; `--replace-built-in` says replacing it is meant.
#[test]
fn needs_check_allows_a_built_in_id_with_replace_built_in() {
    let file = "tests/fixtures/needs-check/built-in-id.yaml";
    onramp(&["needs", "check", file]).expect_status(2);
    let run = onramp(&["needs", "check", "--replace-built-in", file]);
    run.expect_status(0);
    assert_eq!(run.stdout, "1 need file checked: no problems.\n");
}

#[test]
fn needs_check_reports_json_with_file_line_and_column() {
    let run = onramp(&[
        "needs",
        "check",
        "--output",
        "json",
        "tests/fixtures/needs-bad/bad-need.yaml",
        "dashboards/service-health.yaml",
    ]);
    run.expect_status(2);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        report,
        serde_json::json!({
            "files": 2,
            "problems": [{
                "file": "tests/fixtures/needs-bad/bad-need.yaml",
                "line": 15,
                "column": 15,
                "message": "panel \"Things\": unknown signal \"thingz\"; this need's signals: things",
            }],
        })
    );
}

#[test]
fn needs_check_of_a_missing_file_names_it_and_exits_2() {
    let run = onramp(&["needs", "check", "tests/fixtures/needs-check/nope.yaml"]);
    run.expect_status(2);
    assert!(
        run.stderr.contains("tests/fixtures/needs-check/nope.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// `needs new` with bad input: a clear message, exit 2, nothing written.
#[test]
fn needs_new_refuses_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = crate::support::repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    let story = "As a developer, I want to see checkout latency, so that I notice it.";
    let cases: [(Vec<&str>, &str); 7] = [
        (
            vec!["--signal", "latency=checkout_seconds"],
            "--story is required when not on a terminal: --story \"As a developer, I want to see …, so that …\"",
        ),
        (
            vec!["--story", story, "--prometheus-url", "http://127.0.0.1:1"],
            "and that Prometheus is running and reachable from here. Without a reachable Prometheus, name the signals yourself with --signal NAME=METRIC[.LABEL]",
        ),
        (
            vec!["--story", "As a developer, so that I sleep well."],
            "the story has no want: write it as \"As a developer, I want to see …, so that …\"",
        ),
        (
            vec!["--story", story],
            "no Prometheus to read what the app exposes: pass --prometheus-url URL (or a cluster whose Prometheus onramp finds), or name the signals yourself with --signal NAME=METRIC[.LABEL]",
        ),
        (
            vec![
                "--story",
                story,
                "--id",
                "service-health",
                "--signal",
                "latency=checkout_seconds",
            ],
            "need id \"service-health\" is a built-in need's; choose another with --id",
        ),
        (
            vec!["--story", story, "--signal", "latency"],
            "--signal \"latency\": write NAME=METRIC or NAME=METRIC.LABEL",
        ),
        (
            vec!["--story", story, "--signal", "latency=checkout-seconds"],
            "\"checkout-seconds\" is not a Prometheus metric name",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["needs", "new", "checkout", "-f", &m];
        args.extend(extra);
        let run = crate::support::onramp_in(Some(dir.path()), &args, None);
        run.expect_status(2);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            0,
            "{args:?}"
        );
    }
}

/// Without Prometheus, `--signal` is enough: the need is written, its
/// signals marked as not checked, and `needs check` passes it.
#[test]
fn needs_new_with_signals_and_no_prometheus_writes_a_checked_need() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = crate::support::repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    let run = crate::support::onramp_in(
        Some(dir.path()),
        &[
            "needs",
            "new",
            "checkout",
            "-f",
            &m,
            "--story",
            "As a developer, I want to see checkout latency per provider, so that I notice a slow provider.",
            "--signal",
            "latency=checkout_duration_seconds.provider",
        ],
        None,
    );
    run.expect_status(0);
    assert!(run.stdout.contains("latency: histogram checkout_duration_seconds by provider — not checked: no Prometheus was asked"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Wrote needs/checkout-latency-provider.yaml — checked: no problems."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("`onramp plan deployment/checkout -n shop -f "),
        "{}",
        run.stdout
    );
    let check = crate::support::onramp_in(
        Some(dir.path()),
        &["needs", "check", "needs/checkout-latency-provider.yaml"],
        None,
    );
    check.expect_status(0);
    // Again without --force: refused, the file unchanged.
    let again = crate::support::onramp_in(
        Some(dir.path()),
        &[
            "needs",
            "new",
            "checkout",
            "-f",
            &m,
            "--story",
            "As a developer, I want to see checkout latency per provider, so that I notice a slow provider.",
            "--signal",
            "latency=other_seconds",
        ],
        None,
    );
    again.expect_status(2);
    assert!(
        again
            .stderr
            .contains("needs/checkout-latency-provider.yaml exists; pass --force to overwrite it"),
        "{}",
        again.stderr
    );
}

/// The examples `needs new` made against the demo shop pass `needs check`
/// (the integration test `the_examples_are_what_needs_new_makes_…` keeps
/// them what `needs new` makes).
#[test]
fn the_example_needs_pass_needs_check() {
    let run = onramp(&[
        "needs",
        "check",
        "examples/needs/carts-abandoned-per-variant.yaml",
        "examples/needs/checkout-latency-per-provider.yaml",
    ]);
    run.expect_status(0);
    assert_eq!(run.stdout, "2 need files checked: no problems.\n");
}

/// Once onramp.yaml listed the needs folder, `needs new` passed it to the
/// plan a second time, and the plan refused every need in it as defined twice.
#[test]
fn a_second_needs_new_in_the_same_folder_defined_each_need_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = crate::support::repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    for (story, signal) in [
        (
            "As a developer, I want to see checkout latency, so that I notice it.",
            "latency=checkout_duration_seconds",
        ),
        (
            "As a developer, I want to see how many orders, so that I know sales.",
            "orders=orders_total",
        ),
    ] {
        let run = crate::support::onramp_in(
            Some(dir.path()),
            &[
                "needs", "new", "checkout", "-f", &m, "--story", story, "--signal", signal,
            ],
            None,
        );
        run.expect_status(0);
    }
    let check = crate::support::onramp_in(
        Some(dir.path()),
        &[
            "needs",
            "check",
            "needs/checkout-latency.yaml",
            "needs/order.yaml",
        ],
        None,
    );
    check.expect_status(0);
}

/// `--needs-dir DIR` says where the need goes; onramp.yaml is left alone.
#[test]
fn needs_new_writes_into_the_needs_dir_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("mine")).expect("mkdir");
    let m = crate::support::repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    let run = crate::support::onramp_in(
        Some(dir.path()),
        &[
            "needs",
            "--needs-dir",
            "mine",
            "new",
            "checkout",
            "-f",
            &m,
            "--story",
            "As a developer, I want to see checkout latency, so that I notice it.",
            "--signal",
            "latency=checkout_duration_seconds",
        ],
        None,
    );
    run.expect_status(0);
    assert!(
        run.stdout
            .contains("Wrote mine/checkout-latency.yaml — checked: no problems."),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("onramp.yaml").exists());
    assert!(!dir.path().join("needs").exists());
}
