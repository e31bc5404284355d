//! The one model of what a check of a live app found, shared by `verify`
//! (checks that pass or fail), `troubleshoot` (findings ranked by severity,
//! cause first) and what comes next (`adoption`): the app a result is about
//! ([`CheckedApp`]), a check's [`Status`] or a finding's [`Severity`], the
//! evidence (a check's `detail`, a finding's `evidence` lines), and what could
//! not be checked with why ([`NotChecked`]). It also owns the one way a
//! number is written in any of them ([`number`]) and, in [`output`], the one
//! way a result is written for people and machines (text, Markdown, JSON,
//! JUnit).
//!
//! It owns no check: the checks that fill these types live in
//! [`crate::check::verify`] and [`crate::check::troubleshoot`], and reading
//! the app's alerts back is [`crate::check::alerts`]'s.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::app::manifest::WorkloadKind;
pub use crate::needs::Severity;

pub mod output;

/// The app a result is about: `namespace/name` as its stamps and dashboards
/// name it (verify), or `namespace/kind/name` when the workload kind is part
/// of what was read (troubleshoot, adoption). Serialised as that string.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckedApp {
    namespace: Option<String>,
    kind: Option<WorkloadKind>,
    name: String,
}

impl CheckedApp {
    /// The app as its stamps name it: `namespace/name`.
    pub fn app(id: &crate::app::AppId) -> CheckedApp {
        CheckedApp::named(Some(id.namespace()), id.name())
    }

    /// An app known only by name, and namespace when given: `namespace/name`
    /// or `name` (what the arguments said when nothing could be read).
    pub fn named(namespace: Option<&str>, name: &str) -> CheckedApp {
        CheckedApp {
            namespace: namespace.map(str::to_string),
            kind: None,
            name: name.to_string(),
        }
    }

    /// A workload as the cluster runs it: `namespace/kind/name`.
    pub fn workload(namespace: &str, kind: WorkloadKind, name: &str) -> CheckedApp {
        CheckedApp {
            namespace: Some(namespace.to_string()),
            kind: Some(kind),
            name: name.to_string(),
        }
    }

    /// The app's name (`checkout`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The workload kind, when it is part of the name.
    pub fn kind(&self) -> Option<WorkloadKind> {
        self.kind
    }
}

impl fmt::Display for CheckedApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(namespace) = &self.namespace {
            write!(f, "{namespace}/")?;
        }
        if let Some(kind) = self.kind {
            write!(f, "{}/", kind.resource())?;
        }
        f.write_str(&self.name)
    }
}

impl Serialize for CheckedApp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It works.
    Pass,
    /// It does not; verify exits 1.
    Fail,
    /// It returned nothing, for a reason that is not a fault (for example no errors to count).
    Warn,
    /// It does not apply here (for example Kubernetes series on a plain Prometheus).
    Skip,
}

impl Status {
    /// The word the text output prints: failures in capitals.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The scrape target.
    Target,
    /// A signal a need reads.
    Signal,
    /// A dashboard panel query.
    Panel,
    /// A rule group.
    Rules,
    /// An alert's state.
    Alert,
    /// A service level objective: its SLI's data, its recorded series.
    Objective,
}

impl Category {
    /// Every category, in the order reports group them.
    pub const ALL: [Category; 6] = [
        Category::Target,
        Category::Signal,
        Category::Panel,
        Category::Rules,
        Category::Alert,
        Category::Objective,
    ];

    /// Its name in text and JUnit.
    pub fn word(self) -> &'static str {
        match self {
            Category::Target => "target",
            Category::Signal => "signal",
            Category::Panel => "panel",
            Category::Rules => "rules",
            Category::Alert => "alert",
            Category::Objective => "objective",
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What it is about.
    pub category: Category,
    /// Its name (`service-health/requests`, `checkout · Service health/Request rate/A`…).
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// The evidence: what was found, and for a failure what to do.
    pub detail: String,
    /// True when waiting may change the outcome (a query with no data yet).
    #[serde(skip)]
    pub transient: bool,
}

/// The outcome of a verify run: every check, passed or not.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The app (`namespace/name`).
    pub app: CheckedApp,
    /// The Prometheus checked.
    pub prometheus: String,
    /// True when no check failed.
    pub passed: bool,
    /// How many rounds were run (more than one with `--wait`).
    pub rounds: u32,
    /// Wall time of the whole run (every round and every wait), in milliseconds.
    pub duration_ms: u128,
    /// Every check.
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

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

/// One thing a check found, with its proof and what to do.
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

/// Something that could not be checked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// What was not checked (`previous logs of checkout-…`, `Prometheus`).
    pub what: String,
    /// Why, in a sentence (what the server answered, what is missing).
    pub why: String,
    /// The permission (`get pods/log in namespace shop`) or the setting
    /// (`--prometheus-url`) that would let it be checked, when one would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<String>,
}

impl NotChecked {
    /// `what` could not be checked because of `why`.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> NotChecked {
        NotChecked {
            what: what.into(),
            why: why.into(),
            allowed_by: None,
        }
    }

    /// The same, naming the permission or setting that would allow it.
    pub fn allowed_by(mut self, permission_or_setting: impl Into<String>) -> NotChecked {
        self.allowed_by = Some(permission_or_setting.into());
        self
    }
}

/// The outcome of a troubleshoot run: ranked findings, what was checked and
/// what could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TroubleshootReport {
    /// The app (`namespace/kind/name`).
    pub app: CheckedApp,
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

impl TroubleshootReport {
    /// An empty report for `app`.
    pub fn new(app: CheckedApp) -> TroubleshootReport {
        TroubleshootReport {
            app,
            ..TroubleshootReport::default()
        }
    }

    /// A report that only says what could not be checked.
    pub fn gap(gap: NotChecked) -> TroubleshootReport {
        TroubleshootReport {
            not_checked: vec![gap],
            ..TroubleshootReport::default()
        }
    }

    /// Adds findings, checks and gaps of another part of the run.
    pub fn merge(&mut self, other: TroubleshootReport) {
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

/// A number as people write it in every result: a whole number without a
/// fraction (`3`, `1500`), anything else with three significant digits
/// (`0.0608`, `12.3`), and from 100 on rounded (`151`).
pub fn number(value: f64) -> String {
    if !value.is_finite() || value.abs() >= 100.0 {
        return format!("{}", value.round());
    }
    if value.fract() == 0.0 {
        return format!("{value:.0}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.decimals$}")
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
        let app = CheckedApp::workload("shop", WorkloadKind::Deployment, "checkout");
        let mut report = TroubleshootReport::new(app);
        report
            .findings
            .push(finding(Severity::Info, Role::Cause, "fyi"));
        assert!(!report.alarming());
        report
            .findings
            .push(finding(Severity::Warning, Role::Symptom, "restarts"));
        assert!(report.alarming());
    }

    #[test]
    fn an_app_is_named_as_its_report_promises() {
        let workload = CheckedApp::workload("shop", WorkloadKind::StatefulSet, "ledger");
        assert_eq!(workload.to_string(), "shop/statefulset/ledger");
        assert_eq!(
            serde_json::to_string(&workload).expect("a string serialises"),
            r#""shop/statefulset/ledger""#
        );
        assert_eq!(
            CheckedApp::named(Some("shop"), "checkout").to_string(),
            "shop/checkout"
        );
        assert_eq!(CheckedApp::named(None, "checkout").to_string(), "checkout");
    }

    #[test]
    fn numbers_are_written_one_way_whole_or_with_three_digits() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.06084588483516169), "0.0608");
        assert_eq!(number(0.0738), "0.0738");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(150.7), "151");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
