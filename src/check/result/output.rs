//! How a check result is written for people and CI: text for a terminal,
//! Markdown for an incident channel or a wiki page, JUnit XML for CI. JSON
//! is the typed report itself ([`super::VerifyReport`],
//! [`super::TroubleshootReport`], [`crate::check::adoption::AdoptionReport`]), serialised by `commands::print_json`: its
//! shape is the contract README documents. Every number in them is written
//! by [`super::number`]; printing (and redacting) is `commands::print`'s.

use std::fmt::Write as _;

use super::{
    Category, Check, Finding, Severity, Status, TroubleshootReport, VerifyReport, alarming, number,
};
use crate::check::adoption::{AdoptionReport, LEVELS, NeedBacklog, NextTeam};
use crate::plan::names::escape_markdown;

/// A verify report for people: one line per check, failures first.
pub fn verify_text(report: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verify {} against {}", report.app, report.prometheus);
    let mut checks: Vec<&Check> = report.checks.iter().collect();
    checks.sort_by_key(|c| match c.status {
        Status::Fail => 0,
        Status::Warn => 1,
        Status::Pass => 2,
        Status::Skip => 3,
    });
    let width = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(10)
        .min(60);
    for c in checks {
        let _ = writeln!(
            out,
            "  {:<4}  {:<9}  {:<width$}  {}",
            c.status.word(),
            c.category.word(),
            c.name,
            c.detail
        );
    }
    let _ = writeln!(
        out,
        "{}: {} passed, {} failed, {} warnings, {} skipped ({} ms{})",
        if report.passed { "PASSED" } else { "FAILED" },
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::Warn),
        report.count(Status::Skip),
        report.duration_ms,
        if report.rounds > 1 {
            format!(", {} rounds", report.rounds)
        } else {
            String::new()
        }
    );
    out
}

/// A verify report as JUnit XML: one test suite per category, one test case per check.
pub fn verify_junit(report: &VerifyReport) -> crate::error::Result<String> {
    use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
    let mut junit = JReport::new(format!("onramp verify {}", report.app));
    for category in Category::ALL {
        let mut suite = TestSuite::new(format!("{} {}", report.app, category.word()));
        for c in report.checks.iter().filter(|c| c.category == category) {
            let mut status = match c.status {
                Status::Pass | Status::Warn => TestCaseStatus::success(),
                Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Status::Skip => TestCaseStatus::skipped(),
            };
            if c.status != Status::Pass {
                status.set_message(c.detail.clone());
            }
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("onramp.verify.{}", category.word()));
            if c.status == Status::Pass || c.status == Status::Warn {
                case.set_system_out(c.detail.clone());
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().map_err(|e| crate::error::Error::Render {
        artifact: "the JUnit report".to_string(),
        message: e.to_string(),
    })
}

/// A troubleshoot report for a terminal. A healthy app gets one line.
pub fn troubleshoot_text(report: &TroubleshootReport, since: &str) -> String {
    let mut out = String::new();
    if !report.alarming() {
        let _ = writeln!(
            out,
            "{} is healthy: {} (since {since}).",
            report.app,
            healthy_summary(report)
        );
        if let Some(via) = &report.prometheus {
            let _ = writeln!(out, "Prometheus reached at {via}.");
        }
    } else {
        let alarms = report
            .findings
            .iter()
            .filter(|f| alarming(f.severity))
            .count();
        let _ = writeln!(
            out,
            "{}: {alarms} finding(s) at warning or worse (since {since}), the first is the one to read:",
            report.app
        );
    }
    for (i, finding) in report.findings.iter().enumerate() {
        out.push('\n');
        text_finding(&mut out, i + 1, finding);
    }
    if report.alarming() && !report.checked.is_empty() {
        let _ = writeln!(out, "\nChecked: {}.", report.checked.join("; "));
    }
    for gap in &report.not_checked {
        let _ = writeln!(out, "Not checked: {} — {}", gap.what, gap.why);
    }
    out
}

fn healthy_summary(report: &TroubleshootReport) -> &str {
    if report.healthy_summary.is_empty() {
        "nothing at warning or worse"
    } else {
        &report.healthy_summary
    }
}

fn text_finding(out: &mut String, n: usize, finding: &Finding) {
    let _ = writeln!(out, "{n}. {:<8} {}", word(finding.severity), finding.title);
    for line in &finding.evidence {
        let _ = writeln!(out, "     | {line}");
    }
    if !finding.next_step.is_empty() {
        let _ = writeln!(out, "   next step: {}", finding.next_step);
    }
    if let Some(section) = &finding.runbook_section {
        let _ = writeln!(out, "   runbook:   {section}");
    }
    if let Some(panel) = &finding.panel {
        let link = panel.url.as_deref().unwrap_or(&panel.dashboard_uid);
        let _ = writeln!(out, "   panel:     {} ({link})", panel.title);
    }
}

/// A troubleshoot report as Markdown: a heading, one section per finding with its
/// evidence in a code block, and what was and was not checked. Every value
/// from the cluster is escaped.
pub fn troubleshoot_markdown(report: &TroubleshootReport, since: &str) -> String {
    let mut out = format!(
        "### onramp troubleshoot {} (since {since})\n\n",
        escape_markdown(&report.app.to_string())
    );
    if !report.alarming() {
        let _ = writeln!(
            out,
            "Healthy: {}.",
            escape_markdown(healthy_summary(report))
        );
    }
    for (i, finding) in report.findings.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n**{}. {}** — {}\n",
            i + 1,
            word(finding.severity),
            escape_markdown(&finding.title)
        );
        if !finding.evidence.is_empty() {
            let fence = fence_for(&finding.evidence);
            let _ = writeln!(out, "{fence}\n{}\n{fence}", finding.evidence.join("\n"));
        }
        if !finding.next_step.is_empty() {
            let _ = writeln!(out, "- next step: {}", code_span(&finding.next_step));
        }
        if let Some(section) = &finding.runbook_section {
            let _ = writeln!(out, "- runbook: {}", escape_markdown(section));
        }
        if let Some(panel) = &finding.panel {
            let title = escape_markdown(&panel.title);
            match &panel.url {
                Some(url) => {
                    let _ = writeln!(out, "- panel: [{title}](<{url}>)");
                }
                None => {
                    let _ = writeln!(out, "- panel: {title} (dashboard {})", panel.dashboard_uid);
                }
            }
        }
    }
    if !report.checked.is_empty() {
        let checked: Vec<String> = report.checked.iter().map(|c| escape_markdown(c)).collect();
        let _ = writeln!(out, "\nChecked: {}.", checked.join("; "));
    }
    not_checked_markdown(&mut out, &report.not_checked);
    out
}

/// What could not be checked, one Markdown paragraph each.
fn not_checked_markdown(out: &mut String, gaps: &[super::NotChecked]) {
    for gap in gaps {
        let _ = writeln!(
            out,
            "\nNot checked: {} — {}",
            escape_markdown(&gap.what),
            escape_markdown(&gap.why)
        );
    }
}

/// The longest run of backticks in `lines`.
fn longest_backticks(lines: &[String]) -> usize {
    lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// A code fence longer than any run of backticks in `lines`, so a log line
/// cannot close it.
fn fence_for(lines: &[String]) -> String {
    "`".repeat(longest_backticks(lines).max(2) + 1)
}

/// `text` as an inline code span, with a delimiter it cannot close.
fn code_span(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_backticks(std::slice::from_ref(&one_line)) + 1);
    format!("{fence} {one_line} {fence}")
}

/// The word the text output prints for a severity: alarms in capitals.
fn word(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "info",
    }
}

/// An adoption report for people: the per-team table, then each team's
/// apps with their level, what stops them and the next command, then what
/// could not be checked.
pub fn adoption_text(report: &AdoptionReport) -> String {
    let mut out = String::new();
    let namespaces: std::collections::BTreeSet<&str> =
        report.apps.iter().map(|a| a.namespace.as_str()).collect();
    let _ = writeln!(
        out,
        "Adoption: {} app(s) in {} namespace(s), {} team(s); Prometheus: {}{}",
        report.apps.len(),
        namespaces.len(),
        report.teams.len(),
        report.prometheus.as_deref().unwrap_or("not asked"),
        report
            .grafana
            .as_deref()
            .map(|g| format!("; Grafana: {g}"))
            .unwrap_or_default()
    );
    let levels: Vec<String> = LEVELS
        .iter()
        .enumerate()
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
    let _ = writeln!(
        out,
        "Levels: {}
",
        levels.join(", ")
    );
    adoption_table(&mut out, report);
    for team in &report.teams {
        let _ = writeln!(out, "\n{}", team.team);
        for app in report.apps.iter().filter(|a| a.team == team.team) {
            let level = match app.level {
                Some(n) => format!("{n} {}", app.level_name),
                None => "? unknown".to_string(),
            };
            let _ = writeln!(out, "  {level:<16} {}", app.app);
            if let Some(stops) = &app.stops {
                let _ = writeln!(out, "  {:<16}   stops: {stops}", "");
            }
            if let Some(next) = &app.next {
                let _ = writeln!(out, "  {:<16}   next:  {next}", "");
            }
        }
    }
    for gap in &report.not_checked {
        let allowed = gap
            .allowed_by
            .as_deref()
            .map(|a| format!(" (allowed by {a})"))
            .unwrap_or_default();
        let _ = writeln!(out, "\nnot checked: {}: {}{allowed}", gap.what, gap.why);
    }
    out
}

/// The team to take next, why, and the first commands to run.
pub fn next_team_text(next: Option<&NextTeam>) -> String {
    let Some(next) = next else {
        return "Every app is at level 2 (alerted) or more: no team to take next.\n".to_string();
    };
    let mut out = format!(
        "Next team: {} — {}.\nRun, one team at a time:\n",
        next.team, next.why
    );
    for (n, command) in next.commands.iter().enumerate() {
        let _ = writeln!(out, "  {}. {command}", n + 1);
    }
    out
}

/// The needs backlog: each need with its story, the apps that answer it,
/// the apps missing which signal, and the instrumentation to add.
pub fn backlog_text(backlog: &[NeedBacklog]) -> String {
    let mut out = String::new();
    for need in backlog {
        let _ = writeln!(out, "{} — {}\n  {}", need.need, need.title, need.story);
        let answered: Vec<String> = need.answered_by.iter().map(|a| a.to_string()).collect();
        if need.answered_by.is_empty() && need.missing.is_empty() {
            let _ = writeln!(
                out,
                "  no app's dashboards show it, and no app's plan takes it\n"
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  answered by {} app(s){}",
            answered.len(),
            if answered.is_empty() {
                String::new()
            } else {
                format!(": {}", answered.join(", "))
            }
        );
        if !need.missing.is_empty() {
            let _ = writeln!(out, "  missing in {} app(s):", need.missing.len());
            for app in &need.missing {
                let signals = if app.signals.is_empty() {
                    "every signal has series".to_string()
                } else {
                    app.signals.join(", ")
                };
                let dashboard = if app.no_dashboard {
                    " (no dashboard of onramp's yet: onramp apply adds it)"
                } else {
                    ""
                };
                let _ = writeln!(out, "    {}: {signals}{dashboard}", app.app);
            }
        }
        if !need.instrumentation.is_empty() {
            let _ = writeln!(out, "  instrumentation to add:");
            for add in &need.instrumentation {
                let _ = writeln!(
                    out,
                    "    {} ({} app(s)): {}",
                    add.signal, add.apps, add.hint
                );
            }
        }
        out.push('\n');
    }
    out
}

/// An adoption report for a wiki page or an issue: the per-team table, then
/// each team's apps with their level, what stops them and the next command.
pub fn adoption_markdown(report: &AdoptionReport) -> String {
    let mut out = format!(
        "## onramp adoption\n\n{} app(s), {} team(s); Prometheus: {}. Levels: {}.\n\n",
        report.apps.len(),
        report.teams.len(),
        escape_markdown(report.prometheus.as_deref().unwrap_or("not asked")),
        LEVELS
            .iter()
            .enumerate()
            .map(|(n, name)| format!("{n} {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let levels: String = (0..LEVELS.len()).map(|n| format!(" L{n} |")).collect();
    let _ = writeln!(
        out,
        "| team | apps |{levels} unknown | needs answered | most unanswered |\n|---|---:|{}---:|---:|---|",
        "---:|".repeat(LEVELS.len())
    );
    for t in &report.teams {
        let counts: String = t.by_level.iter().map(|n| format!(" {n} |")).collect();
        let unanswered = t
            .unanswered
            .first()
            .map(|(need, apps)| format!("{} ({apps})", escape_markdown(need)))
            .unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "| {} | {} |{counts} {} | {}% | {unanswered} |",
            escape_markdown(&t.team),
            t.apps,
            t.unknown,
            number((t.share_needs_answered * 100.0).round())
        );
    }
    for team in &report.teams {
        let _ = writeln!(out, "\n### {}\n", escape_markdown(&team.team));
        for app in report.apps.iter().filter(|a| a.team == team.team) {
            let level = match app.level {
                Some(n) => format!("{n} {}", app.level_name),
                None => "unknown".to_string(),
            };
            let _ = write!(
                out,
                "- **{level}** {}",
                escape_markdown(&app.app.to_string())
            );
            if let Some(stops) = &app.stops {
                let _ = write!(out, " — stops: {}", escape_markdown(stops));
            }
            if let Some(next) = &app.next {
                let _ = write!(out, "; next: {}", code_span(next));
            }
            out.push('\n');
        }
    }
    not_checked_markdown(&mut out, &report.not_checked);
    out
}

/// An adoption report as OpenMetrics gauges, for a textfile collector or a
/// Pushgateway: each app's level (apps whose level is unknown have no
/// sample: an absent series, never a 0) and whether each of its needs is
/// answered.
pub fn adoption_openmetrics(report: &AdoptionReport) -> String {
    let mut out = String::from(
        "# HELP onramp_adoption_level The app's adoption level from live evidence: 0 not onboarded, 1 scraped, 2 alerted, 3 needs answered, 4 verified.\n# TYPE onramp_adoption_level gauge\n",
    );
    let labels = |app: &crate::check::adoption::AppAdoption| {
        format!(
            "team=\"{}\",namespace=\"{}\",app=\"{}\",kind=\"{}\"",
            label_value(&app.team),
            label_value(&app.namespace),
            label_value(app.app.name()),
            app.app.kind().map(|k| k.resource()).unwrap_or_default()
        )
    };
    for app in &report.apps {
        if let Some(level) = app.level {
            let _ = writeln!(out, "onramp_adoption_level{{{}}} {level}", labels(app));
        }
    }
    out.push_str("# HELP onramp_need_answered Whether every required signal of the app's need has series (1) or not (0).\n# TYPE onramp_need_answered gauge\n");
    for app in &report.apps {
        for need in &app.needs {
            let _ = writeln!(
                out,
                "onramp_need_answered{{{},need=\"{}\"}} {}",
                labels(app),
                label_value(&need.need),
                u8::from(need.answered)
            );
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A label value escaped as the exposition formats escape it.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The per-team table: apps at each level, unknown, the share with its
/// needs answered, the need most often unanswered.
fn adoption_table(out: &mut String, report: &AdoptionReport) {
    let width = report
        .teams
        .iter()
        .map(|t| t.team.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let levels: String = (0..LEVELS.len())
        .map(|n| format!("  {:>3}", format!("L{n}")))
        .collect();
    let _ = writeln!(
        out,
        "{:<width$}  {:>4}{levels}  {:>7}  {:>8}  most unanswered",
        "team", "apps", "unknown", "answered"
    );
    for t in &report.teams {
        let counts: String = t.by_level.iter().map(|n| format!("  {n:>3}")).collect();
        let unanswered = t
            .unanswered
            .first()
            .map(|(need, apps)| format!("{need} ({apps})"))
            .unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "{:<width$}  {:>4}{counts}  {:>7}  {:>7}%  {unanswered}",
            t.team,
            t.apps,
            t.unknown,
            number((t.share_needs_answered * 100.0).round())
        );
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_label_value_is_escaped_as_the_exposition_format_escapes_it() {
        assert_eq!(label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(label_value("shop"), "shop");
    }

    use super::super::{CheckedApp, Role};
    use super::*;
    use crate::app::manifest::WorkloadKind;

    fn checkout() -> TroubleshootReport {
        TroubleshootReport::new(CheckedApp::workload(
            "shop",
            WorkloadKind::Deployment,
            "checkout",
        ))
    }

    #[test]
    fn a_log_line_with_backticks_cannot_close_the_markdown_fence() {
        let mut report = checkout();
        report.findings.push(
            Finding::new(Severity::Critical, Role::Cause, "crash")
                .evidence("panic: ```boom``` in `main`")
                .next("kubectl -n shop logs `x`"),
        );
        let md = troubleshoot_markdown(&report, "30m");
        assert!(
            md.contains("````\npanic: ```boom``` in `main`\n````"),
            "{md}"
        );
        assert!(
            md.contains("- next step: `` kubectl -n shop logs `x` ``"),
            "{md}"
        );
    }

    #[test]
    fn a_healthy_report_is_one_line() {
        let mut report = checkout();
        report.healthy_summary = "2/2 pods ready, no restarts".into();
        assert_eq!(
            troubleshoot_text(&report, "30m"),
            "shop/deployment/checkout is healthy: 2/2 pods ready, no restarts (since 30m).\n"
        );
    }
}
