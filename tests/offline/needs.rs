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
