//! Service level objectives as a developer turns them on: off by default,
//! on from onramp.yaml (the line `plan` prints) or the workload's
//! annotation, changed per app, refused one at a time with the reason, and
//! checked by `needs check`.

use crate::support::{Run, demo_manifests, dir_with, onramp_in, read, repo_path};

const SLOTH_RECORDS: [&str; 9] = [
    "slo:sli_error:ratio_rate5m",
    "slo:sli_error:ratio_rate30m",
    "slo:sli_error:ratio_rate1h",
    "slo:sli_error:ratio_rate2h",
    "slo:sli_error:ratio_rate6h",
    "slo:sli_error:ratio_rate1d",
    "slo:sli_error:ratio_rate3d",
    "slo:objective:ratio",
    "slo:period_error_budget_remaining:ratio",
];

fn manifests() -> String {
    repo_path(&demo_manifests()).display().to_string()
}

/// `onramp plan` of the demo app in `dir` (where its onramp.yaml is).
fn plan_in(dir: &std::path::Path, extra: &[&str]) -> Run {
    let manifests = manifests();
    let mut args = vec!["plan", "checkout", "-f", &manifests];
    args.extend_from_slice(extra);
    onramp_in(Some(dir), &args, None)
}

/// Codifies the demo app in `dir` (where its onramp.yaml is) and returns
/// the plain rules file.
fn codified_rules(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = dir.join("out").display().to_string();
    let manifests = manifests();
    let mut args = vec!["codify", "checkout", "-f", &manifests, "--out", &out];
    args.extend_from_slice(extra);
    onramp_in(Some(dir), &args, None).expect_status(0);
    read(dir.join("out/prometheus/rules.yaml"))
}

/// The rule group named `name` of a rules file, as YAML text.
fn group<'a>(rules: &'a str, name: &str) -> Option<&'a str> {
    let start = rules.find(&format!("- name: {name}\n"))?;
    let rest = &rules[start + 1..];
    let end = rest.find("\n- name: ").map_or(rest.len(), |e| e + 1);
    Some(&rest[..end])
}

#[test]
fn objectives_are_off_until_the_line_plan_prints_turns_them_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan_in(dir.path(), &[]);
    plan.expect_status(0);
    let line = plan.stdout_line("objective availability");
    assert!(line.contains("off: turn it on"), "{line}");
    let turn_on = line
        .split('`')
        .nth(1)
        .expect("the onramp.yaml line in backticks");
    assert_eq!(turn_on, "objectives: {availability: {}}");
    assert!(
        !codified_rules(dir.path(), &[]).contains("slo:"),
        "no objective rules while they are off"
    );

    std::fs::write(dir.path().join("onramp.yaml"), format!("{turn_on}\n")).expect("write");
    let rules = codified_rules(dir.path(), &[]);
    let availability = group(&rules, "shop.checkout.slo-availability").expect("a group of its own");
    for record in SLOTH_RECORDS {
        assert!(
            availability.contains(&format!("record: {record}\n")),
            "{record} missing:\n{availability}"
        );
    }
    for label in [
        "sloth_id: checkout-availability",
        "sloth_service: checkout",
        "sloth_slo: availability",
    ] {
        assert!(availability.contains(label), "{label}");
    }
    // The longer windows come from the 5-minute rule, not the raw series.
    let one_hour = availability
        .split("record: slo:sli_error:ratio_rate1h\n")
        .nth(1)
        .expect("the 1h rule");
    let one_hour_expr = one_hour.lines().nth(1).unwrap_or_default();
    assert!(
        one_hour_expr.contains("sum_over_time(slo:sli_error:ratio_rate5m{")
            && !one_hour_expr.contains("http_requests_total"),
        "{one_hour_expr}"
    );
    assert_eq!(
        availability
            .matches("alert: CheckoutAvailabilityErrorBudgetBurn\n")
            .count(),
        2,
        "a page and a ticket"
    );
    for (tier, severity) in [("page", "critical"), ("ticket", "warning")] {
        assert!(availability.contains(&format!("tier: {tier}\n")), "{tier}");
        assert!(availability.contains(&format!("severity: {severity}\n")));
    }
    assert!(availability.contains("(14.4 * 0.005)") && availability.contains("(6 * 0.005)"));
    assert!(availability.contains("(3 * 0.005)") && availability.contains("(1 * 0.005)"));
    // The guard: one failed request of 200 is 0.5 %, not above 1x the
    // budget; the events counted are those the long window holds.
    assert!(
        availability.contains("(sum_over_time(slo:sli_events:rate5m{")
            && availability.contains("}[5m]) >= 200)"),
        "{availability}"
    );
    assert!(
        group(&rules, "shop.checkout.slo-latency").is_none(),
        "only the objective turned on"
    );
}

#[test]
fn onramp_yaml_changes_an_objectives_target_period_guard_and_threshold() {
    let dir = dir_with(
        "onramp.yaml",
        "objectives:\n  availability: {target: 99.9, period: 30d, min_events: 500}\n  latency: {threshold: 600ms, target: 90}\n",
    );
    let rules = codified_rules(dir.path(), &[]);
    let availability = group(&rules, "shop.checkout.slo-availability").expect("availability");
    assert!(availability.contains("vector(0.999)"), "{availability}");
    assert!(availability.contains("record: slo:sli_error:ratio_rate30d\n"));
    assert!(
        availability.contains("expr: vector(30)\n"),
        "the period in days"
    );
    assert!(availability.contains("}[5m]) >= 500)"), "{availability}");
    assert!(availability.contains("(14.4 * 0.001)"));
    let latency = group(&rules, "shop.checkout.slo-latency").expect("latency");
    // 600 ms: the largest default boundary under it is 0.5 s.
    assert!(latency.contains(r#"le="0.5""#), "{latency}");
    assert!(latency.contains("vector(0.9)"));
    // At 90 % the fastest page would need more than every request to fail.
    let plan = plan_in(dir.path(), &[]);
    plan.expect_status(0);
    assert!(
        plan.stdout.contains("Objective latency of need service-health: the page at 14.4x over 1h never fires: 14.4x the 10 % budget is every event failing or more; raise its target to have it."),
        "{}",
        plan.stdout
    );
    assert!(
        !plan
            .stdout
            .contains("Objective availability of need service-health: the page")
    );
}

#[test]
fn the_workloads_annotation_turns_an_objective_on() {
    let text = read(repo_path(&demo_manifests()));
    let annotated = text.replacen(
        "kind: Deployment\nmetadata:\n",
        "kind: Deployment\nmetadata:\n  annotations:\n    onramp.dev/objectives: latency\n",
        1,
    );
    assert_ne!(annotated, text, "the demo's Deployment was annotated");
    let dir = dir_with("checkout.yaml", &annotated);
    let out = dir.path().join("out").display().to_string();
    onramp_in(
        Some(dir.path()),
        &["codify", "checkout", "-f", "checkout.yaml", "--out", &out],
        None,
    )
    .expect_status(0);
    let rules = read(dir.path().join("out/prometheus/rules.yaml"));
    assert!(
        group(&rules, "shop.checkout.slo-latency").is_some(),
        "{rules}"
    );
    assert!(group(&rules, "shop.checkout.slo-availability").is_none());
}

#[test]
fn an_objective_onramp_yaml_names_that_no_need_has_exits_2_with_the_ones_there_are() {
    let dir = dir_with("onramp.yaml", "objectives: {availabilty: {}}\n");
    let run = plan_in(dir.path(), &[]);
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("objectives.availabilty: none of the app's needs has an objective \"availabilty\"; they have: availability, latency"),
        "{}",
        run.stderr
    );
}

const NEED_WITH_A_BROKEN_OBJECTIVE: &str = r#"id: checkout-promise
title: Checkout promise
story: As a developer, I want checkouts to succeed, so that buyers can pay.
signals:
  checkouts:
    description: HTTP requests by route and status.
    type: counter
    metric: http_requests_total
    labels: {route: route, status: status}
    instrumentation: Count every request.
panels:
  - title: Checkouts
    description: Checkouts per second.
    unit: reqps
    queries:
      - expr: 'sum(rate({{checkouts|route="/checkout"}}[$__rate_interval]))'
objectives:
  - id: checkout-success
    title: Checkout success
    description: A checkout that is not answered with a 5xx status.
    target: 99
    events:
      signal: checkouts
      total: 'route="/checkout"'
      good: 'status!~"5.."'
  - id: checkout-speed
    title: Checkout speed
    description: A checkout answered within 300 ms.
    target: 99
    latency:
      signal: checkouts
      threshold: 300ms
walkthrough: |
  Look at **Checkouts**.
"#;

#[test]
fn a_broken_objective_is_refused_with_its_reason_and_the_others_are_generated() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("needs")).expect("mkdir needs");
    std::fs::write(
        dir.path().join("needs/checkout-promise.yaml"),
        NEED_WITH_A_BROKEN_OBJECTIVE,
    )
    .expect("write the need");
    let plan = plan_in(dir.path(), &["--needs-dir", "needs"]);
    plan.expect_status(0);
    assert!(
        plan.stdout_line("objective checkout-speed").contains(
            "REFUSED: signal \"checkouts\" is a counter: a latency objective needs a histogram"
        ),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains(
        "Objective checkout-speed of need checkout-promise is not generated: signal \"checkouts\" is a counter"
    ));
    let rules = codified_rules(dir.path(), &["--needs-dir", "needs"]);
    let success = group(&rules, "shop.checkout.slo-checkout-success").expect("the good one");
    assert!(success.contains("status!~\"5..\""), "{success}");
    assert!(group(&rules, "shop.checkout.slo-checkout-speed").is_none());
    assert!(
        group(&rules, "shop.checkout.service-health").is_some(),
        "other needs too"
    );

    let check = onramp_in(
        Some(dir.path()),
        &["needs", "check", "needs/checkout-promise.yaml"],
        None,
    );
    check.expect_status(2);
    assert!(
        check.stdout.contains(
            "needs/checkout-promise.yaml:26:5: objective \"checkout-speed\": signal \"checkouts\" is a counter: a latency objective needs a histogram"
        ),
        "{}",
        check.stdout
    );
}
