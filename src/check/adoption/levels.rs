//! The levels of one app, proven in order: each step either passes (its
//! checks pass), stops the app (what stops it, the command that moves it
//! up), or cannot be checked (Prometheus not reachable: the level is
//! unknown).

use super::{
    AppAdoption, Evidence, Index, LEVELS, PrometheusState, check, group_problems, missed, team_of,
};
use crate::check::result::{Category, Check, CheckedApp, NotChecked, Status};
use crate::cluster::fleet::FleetWorkload;

/// How one level's step ended.
enum Step {
    /// Its checks pass.
    Pass,
    /// It does not hold: why, and the command that moves the app up.
    Stop(String, String),
    /// It could not be checked.
    Unknown(NotChecked),
}

/// What a step looks at.
struct Ctx<'a> {
    workload: &'a FleetWorkload,
    evidence: &'a Evidence<'a>,
    index: &'a Index<'a>,
    /// `checkout -n shop`, `statefulset/ledger -n payments`.
    app_ref: String,
    checks: Vec<Check>,
}

/// Assesses one app: its level, what stops it, the evidence.
pub(super) fn assess_app(
    workload: &FleetWorkload,
    evidence: &Evidence<'_>,
    index: &Index<'_>,
) -> AppAdoption {
    let kind = match workload.kind {
        crate::app::WorkloadKind::Deployment => String::new(),
        other => format!("{}/", other.resource()),
    };
    let mut ctx = Ctx {
        workload,
        evidence,
        index,
        app_ref: format!("{kind}{} -n {}", workload.name, workload.namespace),
        checks: Vec::new(),
    };
    let steps: [fn(&mut Ctx<'_>) -> Step; 2] = [scraped, alerted];
    let mut adoption = AppAdoption {
        app: CheckedApp::workload(&workload.namespace, workload.kind, &workload.name),
        namespace: workload.namespace.clone(),
        team: team_of(workload, evidence.team_label),
        level: Some(0),
        level_name: LEVELS[0],
        stops: None,
        next: None,
        checks: Vec::new(),
        not_checked: Vec::new(),
    };
    for (passed, step) in steps.iter().enumerate() {
        match step(&mut ctx) {
            Step::Pass => {
                adoption.level = Some(passed as u8 + 1);
                adoption.level_name = LEVELS[passed + 1];
            }
            Step::Stop(why, next) => {
                adoption.stops = Some(why);
                adoption.next = Some(next);
                break;
            }
            Step::Unknown(gap) => {
                adoption.level = None;
                adoption.level_name = "unknown";
                adoption.not_checked.push(gap);
                break;
            }
        }
    }
    adoption.checks = ctx.checks;
    adoption
}

impl Ctx<'_> {
    fn name(&self) -> String {
        format!("{}/{}", self.workload.namespace, self.workload.name)
    }

    /// Records a failed check and stops the app.
    fn stop(&mut self, category: Category, why: String, next: String) -> Step {
        let name = self.name();
        self.checks
            .push(check(category, &name, Status::Fail, why.clone()));
        Step::Stop(why, next)
    }

    fn pass(&mut self, category: Category, detail: String) {
        let name = self.name();
        self.checks
            .push(check(category, &name, Status::Pass, detail));
    }

    /// Prometheus' answers, or the gap saying what was not checked.
    fn prometheus(&self, what: &str) -> Result<&PrometheusState, NotChecked> {
        self.evidence.prometheus.as_ref().map_err(|gap| NotChecked {
            what: format!("{what} of {}", self.name()),
            ..gap.clone()
        })
    }
}

/// Level 1: a monitor of onramp's that the cluster's Prometheus selects,
/// and its targets up.
fn scraped(ctx: &mut Ctx<'_>) -> Step {
    let (namespace, name) = (&ctx.workload.namespace, &ctx.workload.name);
    if ctx.evidence.stack.operator.is_some() {
        let key = (namespace.as_str(), name.as_str());
        let Some(monitors) = ctx.index.monitors.get(&key).cloned() else {
            let why = "no ServiceMonitor or PodMonitor of onramp's for it".to_string();
            let next = format!("onramp onboard {}", ctx.app_ref);
            return ctx.stop(Category::Target, why, next);
        };
        // One monitor the Prometheus selects is enough.
        let misses: Vec<(String, String)> = monitors
            .iter()
            .filter_map(|m| missed(ctx.evidence.stack, ctx.evidence.fleet, m, &ctx.app_ref))
            .collect();
        if misses.len() == monitors.len()
            && let Some((why, next)) = misses.into_iter().next()
        {
            return ctx.stop(Category::Target, why, next);
        }
        let names: Vec<String> = monitors
            .iter()
            .map(|m| format!("{} {}", m.kind, m.name))
            .collect();
        ctx.pass(
            Category::Target,
            format!("{} selected by the cluster's Prometheus", names.join(", ")),
        );
    }
    let prometheus = match ctx.prometheus("scrape targets") {
        Ok(p) => p,
        Err(gap) => return Step::Unknown(gap),
    };
    let targets = prometheus
        .targets
        .get(&(namespace.clone(), name.clone()))
        .copied()
        .unwrap_or_default();
    let selector = format!("up{{namespace=\"{namespace}\", job=\"{name}\"}}");
    let troubleshoot = format!("onramp troubleshoot {}", ctx.app_ref);
    if targets.total == 0 {
        let why = format!("Prometheus has no {selector} series: no target of the app is scraped");
        return ctx.stop(Category::Target, why, troubleshoot);
    }
    if targets.down > 0 {
        let why = format!(
            "{} of {} target(s) down ({selector} is 0)",
            targets.down, targets.total
        );
        return ctx.stop(Category::Target, why, troubleshoot);
    }
    ctx.pass(Category::Target, format!("{} target(s) up", targets.total));
    Step::Pass
}

/// Level 2: a PrometheusRule of onramp's, selected; its groups loaded and
/// healthy; every alert with a runbook a person can open.
fn alerted(ctx: &mut Ctx<'_>) -> Step {
    let (namespace, name) = (&ctx.workload.namespace, &ctx.workload.name);
    let apply = format!("onramp apply {}", ctx.app_ref);
    if ctx.evidence.stack.operator.is_none() {
        return Step::Unknown(NotChecked::new(
            format!("alerts of {}", ctx.name()),
            "without the Prometheus Operator, onramp's rules are files of the Prometheus, which adoption does not read yet",
        ));
    }
    let key = (namespace.as_str(), name.as_str());
    let Some(rules) = ctx.index.rules.get(&key).cloned() else {
        let why = "no PrometheusRule of onramp's for it".to_string();
        return ctx.stop(Category::Rules, why, apply);
    };
    for rule in &rules {
        if let Some((why, next)) =
            missed(ctx.evidence.stack, ctx.evidence.fleet, rule, &ctx.app_ref)
        {
            return ctx.stop(Category::Rules, why, next);
        }
    }
    let prometheus = match ctx.prometheus("rule groups") {
        Ok(p) => p,
        Err(gap) => return Step::Unknown(gap),
    };
    let verify = format!("onramp verify {}", ctx.app_ref);
    let declared: Vec<&String> = rules.iter().flat_map(|r| &r.rule_groups).collect();
    let mut unhealthy = Vec::new();
    let mut unlinked = Vec::new();
    for group_name in &declared {
        let Some(group) = prometheus.groups.iter().find(|g| &&g.name == group_name) else {
            let why = format!("rule group {group_name} is not loaded by Prometheus");
            return ctx.stop(Category::Rules, why, verify);
        };
        let (bad, unopenable) = group_problems(group);
        unhealthy.extend(bad);
        unlinked.extend(unopenable);
    }
    if !unhealthy.is_empty() {
        return ctx.stop(Category::Rules, unhealthy.join("; "), verify);
    }
    ctx.pass(
        Category::Rules,
        format!("{} rule group(s) loaded and healthy", declared.len()),
    );
    if !unlinked.is_empty() {
        let why = format!(
            "alert(s) without a runbook_url a person can open: {}; publish the runbook and set runbook_base_url in onramp.yaml, then apply",
            unlinked.join(", ")
        );
        return ctx.stop(Category::Alert, why, apply);
    }
    ctx.pass(
        Category::Alert,
        "every alert links an absolute runbook_url".to_string(),
    );
    Step::Pass
}
