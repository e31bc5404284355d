//! troubleshoot: runs an app's runbook live and reports what it found, the
//! real cause first. Owns the findings model ([`Finding`], [`Report`]), the
//! ranking (cause before symptom, then severity) and the three outputs (text,
//! Markdown for an incident channel, JSON). The checks that produce findings
//! live beside it: [`workload_state`] (workload, pods, events, logs), [`prometheus`]
//! (targets, errors and latency against the baseline, saturation, alerts)
//! and [`flags`] (feature-flag changes that explain a rise), on the queries
//! of the plan `pipeline::plan_from_cluster` makes; all add to the same
//! [`Report`].
//!
//! Talking to the API server is [`crate::client::kube`]'s job; printing (and
//! redacting) is `commands::print`'s.

pub mod diagnose;
mod evidence;
pub mod flags;
mod output;
mod pods;
pub mod prometheus;
mod trend;
pub mod workload_state;

use serde::Serialize;

pub use output::{markdown, text};

/// How bad a finding is: the same scale as the alerts' `severity` label.
pub use crate::needs::Severity;

/// Whether a finding of `severity` makes `troubleshoot` exit 1: warning or
/// worse.
pub fn alarming(severity: Severity) -> bool {
    severity <= Severity::Warning
}

/// Where a finding stands in the chain from cause to what users notice: a
/// developer reads the cause first (the crash's log line, the OOM kill, the
/// missing key), then what it caused (pods not ready, no endpoints, target
/// down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Why it happens: the proof a fix starts from.
    Cause,
    /// What the cause does to the workload (restarts, a stuck rollout).
    Effect,
    /// What users or monitoring notice (no ready endpoints, target down).
    Symptom,
}

/// The dashboard panel that shows a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Panel {
    /// The dashboard's Grafana uid.
    pub dashboard_uid: String,
    /// The panel's title.
    pub title: String,
    /// A link to the dashboard, when Grafana's URL is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One thing troubleshoot found, with its proof and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// Cause, effect or symptom: decides the order before severity does.
    #[serde(skip)]
    pub role: Role,
    /// One line saying what is wrong.
    pub title: String,
    /// The proof: numbers, event text with count and age, log lines.
    pub evidence: Vec<String>,
    /// The runbook section it belongs to (`runbook.md#checkoutcrashlooping`).
    pub runbook_section: Option<String>,
    /// The dashboard panel to open.
    pub panel: Option<Panel>,
    /// The command to run or the change to make.
    pub next_step: String,
}

impl Finding {
    /// A finding without runbook section or panel.
    pub fn new(severity: Severity, role: Role, title: impl Into<String>) -> Finding {
        Finding {
            severity,
            role,
            title: title.into(),
            evidence: Vec::new(),
            runbook_section: None,
            panel: None,
            next_step: String::new(),
        }
    }

    /// Adds a line of evidence.
    pub fn evidence(mut self, line: impl Into<String>) -> Finding {
        self.evidence.push(line.into());
        self
    }

    /// Sets the next step.
    pub fn next(mut self, step: impl Into<String>) -> Finding {
        self.next_step = step.into();
        self
    }

    /// Sets the runbook section.
    pub fn runbook(mut self, section: impl Into<String>) -> Finding {
        self.runbook_section = Some(section.into());
        self
    }

    /// Sets the panel.
    pub fn panel(mut self, panel: Panel) -> Finding {
        self.panel = Some(panel);
        self
    }
}

/// Something troubleshoot could not check, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// What was not checked (`previous logs of checkout-…`, `Prometheus`).
    pub what: String,
    /// Why, naming the permission or setting that would allow it.
    pub why: String,
}

/// The outcome of a troubleshoot run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The app (`namespace/kind/name`).
    pub app: String,
    /// The findings, ranked: the first is the one to read.
    pub findings: Vec<Finding>,
    /// What was checked (each in a few words).
    pub checked: Vec<String>,
    /// What could not be checked, and why.
    pub not_checked: Vec<NotChecked>,
    /// The one line a healthy app gets ("2/2 pods ready, …").
    #[serde(skip)]
    pub healthy_summary: String,
    /// Where Prometheus was reached (a URL, or a Service through the API
    /// server), when it was: a healthy app's text says it under its line
    /// (JSON has it in `checked`).
    #[serde(skip)]
    pub prometheus: Option<String>,
}

impl Report {
    /// An empty report for `app`.
    pub fn new(app: impl Into<String>) -> Report {
        Report {
            app: app.into(),
            ..Report::default()
        }
    }

    /// Adds findings, checks and gaps of another part of the run.
    pub fn merge(&mut self, other: Report) {
        self.findings.extend(other.findings);
        self.checked.extend(other.checked);
        self.not_checked.extend(other.not_checked);
        if self.healthy_summary.is_empty() {
            self.healthy_summary = other.healthy_summary;
        }
        if self.prometheus.is_none() {
            self.prometheus = other.prometheus;
        }
    }

    /// Puts the findings in reading order; see [`rank`].
    pub fn rank(&mut self) {
        rank(&mut self.findings);
    }

    /// True when a finding is a warning or worse (`troubleshoot` exits 1).
    pub fn alarming(&self) -> bool {
        self.findings.iter().any(|f| alarming(f.severity))
    }
}

/// Orders findings for reading: alarms before information; among alarms the
/// cause before its effects and symptoms, then the worse first; ties keep the
/// order the checks found them in (a stable sort), so a check lists the
/// pod it explains before its neighbours.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (!alarming(f.severity), f.role, f.severity));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, role: Role, title: &str) -> Finding {
        Finding::new(severity, role, title)
    }

    #[test]
    fn the_cause_comes_before_its_symptoms_and_information_last() {
        let mut findings = vec![
            finding(Severity::Info, Role::Cause, "image digest"),
            finding(Severity::Critical, Role::Symptom, "no ready endpoints"),
            finding(Severity::Warning, Role::Cause, "OOMKilled at 64Mi"),
            finding(Severity::Critical, Role::Effect, "crash loop"),
            finding(Severity::Critical, Role::Cause, "missing key"),
        ];
        rank(&mut findings);
        let titles: Vec<&str> = findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "missing key",
                "OOMKilled at 64Mi",
                "crash loop",
                "no ready endpoints",
                "image digest"
            ]
        );
    }

    #[test]
    fn only_warnings_and_worse_are_alarming() {
        let mut report = Report::new("shop/deployment/checkout");
        report
            .findings
            .push(finding(Severity::Info, Role::Cause, "fyi"));
        assert!(!report.alarming());
        report
            .findings
            .push(finding(Severity::Warning, Role::Symptom, "restarts"));
        assert!(report.alarming());
    }
}
