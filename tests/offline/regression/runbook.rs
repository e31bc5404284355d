//! Regressions of the runbook: its Markdown, its wording for alerts, what it
//! sends readers to, and the commands it prints.

use crate::support::{codify_app, fixture, read};

#[test]
fn the_runbooks_missing_column_escaped_markdown_twice() {
    let demo = crate::support::codify_demo(&[]);
    let runbook = read(demo.path().join("runbook.md"));
    assert!(!runbook.contains(r"\`"), "literal backslash-backticks");
    assert!(runbook.contains(
        "| Add a gauge `http_requests_in_flight`, incremented when a request starts and decremented when it ends. |"
    ));
}

#[test]
fn an_alert_with_for_0m_said_it_fires_when_this_holds_for_0m() {
    let demo = crate::support::codify_demo(&[]);
    let runbook = read(demo.path().join("runbook.md"));
    assert!(!runbook.contains("holds for 0m"));
    let section = &runbook[runbook.find("### CheckoutOOMKilled").expect("section")..];
    assert!(
        section.starts_with(
            "### CheckoutOOMKilled\n\nSeverity **warning**, fires as soon as this holds:"
        ),
        "{}",
        &section[..200]
    );
}

#[test]
fn the_runbook_of_an_app_without_metrics_sent_readers_to_what_was_not_generated() {
    let out = crate::support::codify_app(
        "pricing",
        &crate::support::fixture("grpc-no-metrics.yaml"),
        &[],
    );
    let runbook = read(out.path().join("runbook.md"));
    for absent in [
        "Scrape health",
        "| up |",
        "| start_time |",
        "process_start_time_seconds",
        "Feature flag engagement",
        "feature flag dashboard",
        "checks that the scrape",
    ] {
        assert!(!runbook.contains(absent), "{absent:?} in:\n{runbook}");
    }
    assert!(runbook.contains("### pricing · Troubleshooting"));
    assert!(runbook.contains("| Metrics | none found |"));
}

#[test]
fn the_runbooks_kubectl_selector_dropped_the_match_expressions() {
    let dir = codify_app("api", &fixture("match-expressions.yaml"), &["-n", "web"]);
    let runbook = read(dir.path().join("runbook.md"));
    assert!(
        runbook.contains("kubectl -n web get pods -l 'app=api,track in (stable),!canary'"),
        "{runbook}"
    );
}
