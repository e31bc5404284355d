//! The levels of one app, proven in order: each step either passes (its
//! checks pass), stops the app (what stops it, the command that moves it
//! up), or cannot be checked (Prometheus not reachable: the level is
//! unknown).

use super::grafana::GrafanaDashboard;
use super::{
    AppAdoption, Evidence, Index, LEVELS, NeedState, PrometheusState, check, group_problems,
    missed, signals, team_of,
};
use crate::check::result::{Category, Check, CheckedApp, NotChecked, Status};
use crate::client::prometheus::AlertState;
use crate::cluster::fleet::FleetWorkload;
use crate::plan::stamp;

/// How one level's step ended.
enum Step {
    /// Its checks pass.
    Pass,
    /// It does not hold: why, and the command that moves the app up.
    Stop(String, String),
    /// It could not be checked (Prometheus not reachable): the level is
    /// unknown.
    Unknown(NotChecked),
    /// This version cannot prove it here: the level stays at the last one
    /// proven, the gap says why.
    Unproven(NotChecked),
}

/// What a step looks at.
struct Ctx<'a> {
    workload: &'a FleetWorkload,
    evidence: &'a Evidence<'a>,
    index: &'a Index<'a>,
    /// `checkout -n shop`, `statefulset/ledger -n payments`.
    app_ref: String,
    checks: Vec<Check>,
    needs: Vec<NeedState>,
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
        needs: Vec::new(),
    };
    let steps: [fn(&mut Ctx<'_>) -> Step; 4] = [scraped, alerted, answered, verified];
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
        needs: Vec::new(),
        planned: Vec::new(),
        requests_per_second: evidence.prometheus.as_ref().ok().and_then(|p| {
            let key = (workload.namespace.clone(), workload.name.clone());
            p.traffic.get(&key).copied()
        }),
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
            Step::Unproven(gap) => {
                adoption.stops = Some(format!("{}: {}", gap.what, gap.why));
                adoption.not_checked.push(gap);
                break;
            }
        }
    }
    // The needs backlog (`--needs`) wants every app's needs, also of the
    // apps stopped below the level that checks them.
    if ctx.needs.is_empty()
        && let Ok(prometheus) = ctx.prometheus("signals")
    {
        need_states(&mut ctx, prometheus);
        adoption.planned = planned_needs(&ctx, prometheus);
    }
    adoption.checks = ctx.checks;
    adoption.needs = ctx.needs;
    adoption
}

impl<'a> Ctx<'a> {
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

    /// onramp's dashboards of the app in Grafana: `None` when Grafana was
    /// not named or has none; the gap when it could not be asked.
    fn grafana(&self) -> Result<Option<&'a [GrafanaDashboard]>, NotChecked> {
        let evidence: &'a Evidence<'a> = self.evidence;
        match &evidence.grafana {
            None => Ok(None),
            Some(Err(gap)) => Err(NotChecked {
                what: format!("dashboards in Grafana of {}", self.name()),
                ..gap.clone()
            }),
            Some(Ok(state)) => {
                let key = (self.workload.namespace.clone(), self.workload.name.clone());
                Ok(state.by_app.get(&key).map(Vec::as_slice))
            }
        }
    }

    /// Prometheus' answers, or the gap saying what was not checked.
    fn prometheus(&self, what: &str) -> Result<&'a PrometheusState, NotChecked> {
        let evidence: &'a Evidence<'a> = self.evidence;
        evidence.prometheus.as_ref().map_err(|gap| NotChecked {
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
        return Step::Unproven(NotChecked::new(
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
    if let Err(gap) = ctx.prometheus("rule groups") {
        return Step::Unknown(gap);
    }
    let verify = format!("onramp verify {}", ctx.app_ref);
    let declared: Vec<&String> = rules.iter().flat_map(|r| &r.rule_groups).collect();
    let mut unhealthy = Vec::new();
    let mut unlinked = Vec::new();
    for group_name in &declared {
        let Some(group) = ctx.index.groups_named(&[*group_name]).first().copied() else {
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

/// Level 3: the app's dashboards — ConfigMaps loaded by Grafana's sidecar,
/// or in Grafana (`--grafana-url`) — and every required signal of their
/// needs with series.
fn answered(ctx: &mut Ctx<'_>) -> Step {
    let key = (ctx.workload.namespace.as_str(), ctx.workload.name.as_str());
    let apply = format!("onramp apply {}", ctx.app_ref);
    let configmaps = ctx.index.dashboards.get(&key).cloned();
    let in_grafana = match ctx.grafana() {
        Ok(found) => found,
        // Without ConfigMaps, only Grafana could show its dashboards.
        Err(gap) if configmaps.is_none() => return Step::Unknown(gap),
        Err(_) => None,
    };
    if configmaps.is_none() && in_grafana.is_none() {
        let why = match &ctx.evidence.grafana {
            Some(_) => "no dashboard of onramp's for it: no ConfigMap, and none in Grafana",
            None => {
                "no dashboard ConfigMap of onramp's for it (--grafana-url also reads the dashboards pushed to Grafana)"
            }
        };
        return ctx.stop(Category::Panel, why.to_string(), apply);
    }
    if let Some(dashboards) = &configmaps {
        if let Some((why, next)) = unloaded(ctx, dashboards) {
            return ctx.stop(Category::Panel, why, next);
        }
        ctx.pass(
            Category::Panel,
            format!(
                "{} dashboard ConfigMap(s) loaded by Grafana's sidecar",
                dashboards.len()
            ),
        );
    }
    if let Some(found) = in_grafana {
        let uids: Vec<&str> = found.iter().map(|d| d.uid.as_str()).collect();
        ctx.pass(
            Category::Panel,
            format!("dashboard(s) in Grafana: {}", uids.join(", ")),
        );
    }
    let prometheus = match ctx.prometheus("signals") {
        Ok(p) => p,
        Err(gap) => return Step::Unknown(gap),
    };
    let (first_missing, unknown) = need_states(ctx, prometheus);
    for id in unknown {
        let name = ctx.name();
        let detail = format!(
            "need {id} is not in the catalog (needs_dirs in onramp.yaml adds a team's own): its signals are not checked"
        );
        ctx.checks
            .push(check(Category::Signal, &name, Status::Warn, detail));
    }
    if let Some((why, next)) = first_missing {
        return ctx.stop(Category::Signal, why, next);
    }
    let answered: Vec<&str> = ctx.needs.iter().map(|n| n.need.as_str()).collect();
    ctx.pass(
        Category::Signal,
        format!(
            "every required signal of {} has series",
            answered.join(", ")
        ),
    );
    Step::Pass
}

/// Each need the app's dashboard ConfigMaps show, answered or not, into
/// `ctx.needs`; returns the first missing signal's stop (why, next) and the
/// needs the catalog does not have.
fn need_states(
    ctx: &mut Ctx<'_>,
    prometheus: &PrometheusState,
) -> (Option<(String, String)>, Vec<String>) {
    let key = (ctx.workload.namespace.as_str(), ctx.workload.name.as_str());
    let in_grafana = ctx.grafana().ok().flatten().unwrap_or_default();
    let needs: std::collections::BTreeSet<&str> = ctx
        .index
        .dashboards
        .get(&key)
        .into_iter()
        .flatten()
        .filter_map(|d| d.need())
        .chain(in_grafana.iter().filter_map(|d| d.need.as_deref()))
        .collect();
    let mut first_missing: Option<(String, String)> = None;
    let mut unknown = Vec::new();
    ctx.needs.clear();
    for id in needs {
        let Ok(entry) = ctx.evidence.catalog.get(id) else {
            unknown.push(id.to_string());
            continue;
        };
        let missing = missing_signals(ctx.workload, prometheus, &entry.need);
        if let (None, Some((signal, names, hint))) = (&first_missing, missing.first()) {
            let why = format!(
                "need {id}: signal {signal} has no series ({})",
                names.join(", ")
            );
            first_missing = Some((why, missing_signal_next(&entry.need, signal, hint)));
        }
        ctx.needs.push(NeedState {
            need: id.to_string(),
            answered: missing.is_empty(),
            missing: missing.into_iter().map(|(signal, _, _)| signal).collect(),
        });
    }
    (first_missing, unknown)
}

/// What moves an app whose `signal` has no series: instrumenting the app,
/// or, for a signal kube-state-metrics or cAdvisor records, having
/// Prometheus scrape those (nothing to add to the app).
pub(super) fn missing_signal_next(need: &crate::needs::Need, signal: &str, hint: &str) -> String {
    let from_kubernetes = need
        .signals
        .get(signal)
        .is_some_and(|s| s.source.needs_kubernetes());
    if from_kubernetes {
        format!("have the cluster's Prometheus scrape it: {hint}")
    } else {
        format!("instrument the app: {hint}")
    }
}

/// Why Grafana's sidecar does not load the app's dashboard ConfigMaps, and
/// what to run; `None` when it loads them all.
fn unloaded(
    ctx: &Ctx<'_>,
    dashboards: &[&crate::cluster::fleet::OnrampObject],
) -> Option<(String, String)> {
    let namespace = &ctx.workload.namespace;
    let Some((grafana, sidecar)) = ctx.evidence.stack.sidecar() else {
        return Some((
            "no Grafana in the cluster runs a dashboard sidecar, so nothing loads its dashboard ConfigMaps".to_string(),
            "onramp detect".to_string(),
        ));
    };
    if !sidecar.watches(&grafana.namespace, namespace) {
        return Some((
            format!(
                "Grafana's dashboard sidecar ({}/{}) loads ConfigMaps {}, not from namespace {namespace}",
                grafana.namespace,
                grafana.name,
                sidecar.where_text(&grafana.namespace)
            ),
            "onramp detect".to_string(),
        ));
    }
    let ignored: Vec<&str> = dashboards
        .iter()
        .filter(|d| !sidecar.loads(&d.labels))
        .map(|d| d.name.as_str())
        .collect();
    (!ignored.is_empty()).then(|| {
        (
            format!(
                "Grafana's dashboard sidecar loads ConfigMaps labelled {}, and {} do not carry it",
                sidecar.selector(),
                ignored.join(", ")
            ),
            format!("onramp apply {}", ctx.app_ref),
        )
    })
}

/// The required signals of `need` without series for the workload: each
/// with the names looked for and the first line of its instrumentation hint.
fn missing_signals(
    workload: &FleetWorkload,
    prometheus: &PrometheusState,
    need: &crate::needs::Need,
) -> Vec<(String, Vec<String>, String)> {
    let (namespace, job) = (&workload.namespace, &workload.name);
    need.signals
        .iter()
        .filter(|(_, signal)| !signal.optional)
        .filter_map(|(name, signal)| {
            let names = signals::names(signal, workload.kind);
            let found = names.iter().any(|metric| {
                if signals::per_app(signal) {
                    prometheus.app_series.contains(&(
                        namespace.clone(),
                        job.clone(),
                        metric.clone(),
                    ))
                } else {
                    prometheus
                        .namespace_series
                        .contains(&(namespace.clone(), metric.clone()))
                }
            });
            let hint = signal
                .instrumentation
                .split(". ")
                .next()
                .unwrap_or_default();
            (!found).then(|| (name.clone(), names, hint.trim_end_matches('.').to_string()))
        })
        .collect()
}

/// Level 4: none of the app's alerts pending or firing (the rule groups
/// already read hold their state), and no dashboard ConfigMap changed since
/// onramp wrote it, unless its marker says it holds a person's edit brought
/// into code.
fn verified(ctx: &mut Ctx<'_>) -> Step {
    let key = (ctx.workload.namespace.as_str(), ctx.workload.name.as_str());
    if let Err(gap) = ctx.prometheus("alerts") {
        return Step::Unknown(gap);
    }
    let declared: Vec<&String> = ctx
        .index
        .rules
        .get(&key)
        .into_iter()
        .flatten()
        .flat_map(|r| &r.rule_groups)
        .collect();
    let active: Vec<String> = ctx
        .index
        .groups_named(&declared)
        .into_iter()
        .flat_map(|g| &g.rules)
        .filter_map(|rule| {
            let state = match rule.state? {
                AlertState::Firing => "firing",
                AlertState::Pending => "pending",
                _ => return None,
            };
            Some(format!("{} is {state}", rule.name))
        })
        .collect();
    let mut edited: Vec<String> = ctx
        .index
        .dashboards
        .get(&key)
        .into_iter()
        .flatten()
        .flat_map(|cm| cm.data.iter().map(move |(file, json)| (cm, file, json)))
        .filter(|(_, file, _)| file.ends_with(".json"))
        .filter(|(_, file, json)| {
            !stamp::read(file, json).is_some_and(|found| found.intact || found.pulled)
        })
        .map(|(cm, file, _)| format!("{file} in ConfigMap {}", cm.name))
        .collect();
    let (in_grafana, unread) = grafana_edits(ctx);
    edited.extend(in_grafana);
    let mut why = Vec::new();
    if !active.is_empty() {
        why.push(format!("alert(s) {}", active.join(", ")));
    }
    if !edited.is_empty() {
        why.push(format!(
            "dashboard(s) changed since onramp wrote them, not marked as a person's edit: {}",
            edited.join(", ")
        ));
    }
    if let (true, Some(gap)) = (why.is_empty(), unread) {
        return Step::Unproven(gap);
    }
    if why.is_empty() {
        ctx.pass(
            Category::Alert,
            "no alert pending or firing; every dashboard as onramp wrote it (or a person's edit brought into code)".to_string(),
        );
        return Step::Pass;
    }
    let next = if active.is_empty() {
        format!(
            "onramp codify {} --from-live --grafana-url URL --out DIR (keep the edit), or onramp apply {} (put onramp's back)",
            ctx.app_ref, ctx.app_ref
        )
    } else {
        format!("onramp troubleshoot {}", ctx.app_ref)
    };
    ctx.stop(Category::Alert, why.join("; "), next)
}

/// The app's dashboards in Grafana that changed since onramp wrote them
/// (their marker's hash no longer matches; one saved from Grafana 13's UI
/// is stored as v2), and the gap when their content was not read (classic
/// API only).
fn grafana_edits(ctx: &Ctx<'_>) -> (Vec<String>, Option<NotChecked>) {
    let Ok(Some(found)) = ctx.grafana() else {
        return (Vec::new(), None);
    };
    let mut edited = Vec::new();
    let mut unread = Vec::new();
    for dashboard in found {
        match dashboard.intact {
            Some(true) => {}
            Some(false) => {
                let mut how = Vec::new();
                if dashboard.v2 {
                    how.push("stored as v2, saved from Grafana's UI".to_string());
                }
                if let Some(by) = &dashboard.updated_by {
                    how.push(format!("last saved by {by}"));
                }
                let how = if how.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", how.join(", "))
                };
                edited.push(format!("{} in Grafana{how}", dashboard.uid));
            }
            None => unread.push(dashboard.uid.as_str()),
        }
    }
    let gap = match (&ctx.evidence.grafana, unread.is_empty()) {
        (Some(Ok(state)), false) => Some(NotChecked::new(
            format!("dashboards in Grafana of {}", ctx.name()),
            format!(
                "{} ({}): {}",
                unread.join(", "),
                state.via,
                state
                    .content_unread
                    .as_deref()
                    .unwrap_or("content not read")
            ),
        )),
        _ => None,
    };
    (edited, gap)
}

/// For an app without dashboards of onramp's (no ConfigMap, none in
/// Grafana): the catalog's needs its plan would take by default, each with
/// the signals it lacks. Its metrics endpoint is known from the cluster's
/// evidence: a monitor of onramp's for it, or targets Prometheus scrapes.
fn planned_needs(ctx: &Ctx<'_>, prometheus: &PrometheusState) -> Vec<NeedState> {
    let (namespace, name) = (&ctx.workload.namespace, &ctx.workload.name);
    let key = (namespace.as_str(), name.as_str());
    let in_grafana = ctx.grafana().map(|found| found.is_some());
    if ctx.index.dashboards.contains_key(&key) || in_grafana != Ok(false) {
        return Vec::new();
    }
    let endpoint = ctx.index.monitors.contains_key(&key)
        || prometheus
            .targets
            .get(&(namespace.clone(), name.clone()))
            .is_some_and(|t| t.total > 0);
    ctx.evidence
        .catalog
        .entries()
        .iter()
        .map(|entry| &entry.need)
        .filter(|need| crate::plan::need_applies(need, endpoint))
        .map(|need| {
            let missing = missing_signals(ctx.workload, prometheus, need);
            NeedState {
                need: need.id.clone(),
                answered: missing.is_empty(),
                missing: missing.into_iter().map(|(signal, _, _)| signal).collect(),
            }
        })
        .collect()
}
