//! Adoption: where every app of a fleet stands, from live evidence, and
//! which command moves it up. For each workload the cluster runs
//! ([`crate::cluster::fleet`]) it proves the levels in order — 0 not
//! onboarded, 1 scraped (a monitor of onramp's the cluster's Prometheus
//! selects, its targets up), 2 alerted (its rule groups loaded and healthy,
//! every alert with a `runbook_url` a person can open), 3 needs answered
//! (its dashboards loaded by Grafana's sidecar or in Grafana, [`grafana`],
//! every required signal of their needs with series, [`signals`]), 4 verified (none of its alerts
//! pending or firing, no dashboard changed since onramp wrote it unless
//! marked as a person's edit brought into code) — and stops at the
//! first that does not hold, saying why and what to run. The evidence is the
//! one check-result model ([`crate::check::result`]): each level's checks,
//! and what could not be checked (no Prometheus: the levels that need it are
//! unknown, never 0).
//!
//! Prometheus is asked a fixed number of aggregated questions whatever the
//! size of the fleet ([`PrometheusState::ask`]); the per-app work is lookups
//! in what the lists and those answers hold. Owns the levels, the teams and
//! the summary; reading the cluster is `cluster::fleet`'s and
//! `cluster::stack`'s, the selection logic `cluster::selection`'s, the text
//! `check::result::output`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::check::result::{Category, Check, CheckedApp, NotChecked, Status, number};
use crate::client::prometheus::{PrometheusClient, RuleGroup, RuleHealth, RuleKind};
use crate::cluster::fleet::{Fleet, FleetWorkload, OnrampObject};
use crate::cluster::selection::{self, Fix, Selectable};
use crate::cluster::stack::Stack;
use crate::needs::Catalog;

pub mod grafana;
mod levels;
pub mod signals;

/// The names of the levels adoption proves, by number.
pub const LEVELS: [&str; 5] = [
    "not onboarded",
    "scraped",
    "alerted",
    "needs answered",
    "verified",
];

/// The label a team is read from unless onramp.yaml names another.
pub const DEFAULT_TEAM_LABEL: &str = "app.kubernetes.io/part-of";

/// How many scrape targets Prometheus has for one `{namespace, job}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// Every target (`count(up)`).
    pub total: u64,
    /// Those whose last scrape failed (`count(up == 0)`).
    pub down: u64,
}

/// What Prometheus answered, asked once for the whole fleet.
#[derive(Debug, Clone, Default)]
pub struct PrometheusState {
    /// Where it was reached.
    pub via: String,
    /// Targets by `(namespace, job)`.
    pub targets: BTreeMap<(String, String), Targets>,
    /// Every loaded rule group.
    pub groups: Vec<RuleGroup>,
    /// The app series of the catalog's signals: `(namespace, job, name)`.
    pub app_series: BTreeSet<(String, String, String)>,
    /// Kubernetes' series of the catalog's signals: `(namespace, name)`.
    pub namespace_series: BTreeSet<(String, String)>,
    /// Requests per second by `(namespace, job)` ([`signals::TRAFFIC`]).
    pub traffic: BTreeMap<(String, String), f64>,
}

/// `count by (namespace, job) (up)`: every target, per app.
pub const TARGETS_QUERY: &str = "count by (namespace, job) (up)";
/// `count by (namespace, job) (up == 0)`: the targets down, per app.
pub const DOWN_QUERY: &str = "count by (namespace, job) (up == 0)";

impl PrometheusState {
    /// Six requests, whatever the number of apps: the two target counts,
    /// the loaded rules, the series of the catalog's signals (the app's and
    /// Kubernetes', [`signals::queries`]) and every app's traffic
    /// ([`signals::traffic_query`]).
    pub async fn ask(
        client: &PrometheusClient,
        catalog: &Catalog,
    ) -> crate::client::prometheus::Result<Self> {
        let (app_query, kubernetes_query) = signals::queries(catalog);
        let traffic_query = signals::traffic_query(catalog);
        let optional = |query: Option<String>| async move {
            match query {
                Some(query) => client.query(&query, None).await.map(Some),
                None => Ok(None),
            }
        };
        let (all, down, groups, app, kubernetes, traffic) = tokio::try_join!(
            client.query(TARGETS_QUERY, None),
            client.query(DOWN_QUERY, None),
            client.rules(),
            optional(app_query),
            optional(kubernetes_query),
            optional(traffic_query),
        )?;
        let mut targets: BTreeMap<(String, String), Targets> = BTreeMap::new();
        let key = |s: &crate::client::prometheus::Sample| {
            let get = |l: &str| s.labels.get(l).cloned().unwrap_or_default();
            (get("namespace"), get("job"))
        };
        for sample in all.samples() {
            targets.entry(key(sample)).or_default().total = sample.value as u64;
        }
        for sample in down.samples() {
            targets.entry(key(sample)).or_default().down = sample.value as u64;
        }
        let label = |s: &crate::client::prometheus::Sample, l: &str| {
            s.labels.get(l).cloned().unwrap_or_default()
        };
        let app_series = app
            .iter()
            .flat_map(|r| r.samples())
            .map(|s| (label(s, "namespace"), label(s, "job"), label(s, "__name__")))
            .collect();
        let namespace_series = kubernetes
            .iter()
            .flat_map(|r| r.samples())
            .map(|s| (label(s, "namespace"), label(s, "__name__")))
            .collect();
        let traffic = traffic
            .iter()
            .flat_map(|r| r.samples())
            .map(|s| ((label(s, "namespace"), label(s, "job")), s.value))
            .collect();
        Ok(PrometheusState {
            via: client.reached_via(),
            targets,
            groups,
            app_series,
            namespace_series,
            traffic,
        })
    }
}

/// What adoption is assessed from.
pub struct Evidence<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// The cluster's monitoring stack.
    pub stack: &'a Stack,
    /// What Prometheus answered, or why it could not be asked.
    pub prometheus: Result<PrometheusState, NotChecked>,
    /// onramp's dashboards in Grafana, or why Grafana could not be asked;
    /// `None` when no Grafana was named (`--grafana-url`).
    pub grafana: Option<Result<grafana::GrafanaState, NotChecked>>,
    /// The label a team is read from.
    pub team_label: &'a str,
    /// The catalog: the needs a dashboard of onramp's names, and their signals.
    pub catalog: &'a Catalog,
}

/// One app's adoption.
#[derive(Debug, Clone, Serialize)]
pub struct AppAdoption {
    /// `namespace/kind/name`.
    pub app: CheckedApp,
    /// Its namespace.
    pub namespace: String,
    /// Its team.
    pub team: String,
    /// Its level; `null` when a level it may have could not be checked.
    pub level: Option<u8>,
    /// The level's name (`scraped`), or `unknown`.
    pub level_name: &'static str,
    /// What stops it at its level (absent at the top level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stops: Option<String>,
    /// The one command that moves it up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Each need its dashboards show, answered or not (empty until the app
    /// reaches the level where they are checked).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<NeedState>,
    /// For an app without dashboards of onramp's: the catalog's needs its
    /// plan would take by default ([`crate::plan::need_applies`]), with the
    /// signals it lacks — the needs backlog's (not its level's, its team's
    /// line's or the gauges').
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<NeedState>,
    /// Its requests per second ([`signals::TRAFFIC`]), when Prometheus has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// The evidence: each level's checks, up to the one that stopped it.
    pub checks: Vec<Check>,
    /// What could not be checked, and what would allow it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
}

/// Whether one need of an app is answered: every required signal has series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedState {
    /// The need's id.
    pub need: String,
    /// True when every required signal has series.
    pub answered: bool,
    /// The signals without series (`requests`), when not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// One team's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamSummary {
    /// The team.
    pub team: String,
    /// How many apps it runs.
    pub apps: usize,
    /// How many are at each level (index = level).
    pub by_level: [usize; LEVELS.len()],
    /// How many could not be placed (Prometheus not reachable).
    pub unknown: usize,
    /// The share of its apps at level 3 (needs answered) or more, 0 to 1.
    pub share_needs_answered: f64,
    /// The needs most often unanswered among its apps, most first: need and
    /// how many apps lack it.
    pub unanswered: Vec<(String, usize)>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptionReport {
    /// The highest level this version proves (levels above are not assessed).
    pub max_level: u8,
    /// Where Prometheus was reached, when it was.
    pub prometheus: Option<String>,
    /// Where Grafana was reached, when it was asked and answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grafana: Option<String>,
    /// One line per team, by name.
    pub teams: Vec<TeamSummary>,
    /// Every app, by team, namespace, kind and name.
    pub apps: Vec<AppAdoption>,
    /// What could not be checked for the whole fleet.
    pub not_checked: Vec<NotChecked>,
}

impl AdoptionReport {
    /// Keeps only `team`'s apps and line; `Err` lists the teams there are.
    pub fn only_team(&mut self, team: &str) -> Result<(), Vec<String>> {
        if !self.teams.iter().any(|t| t.team == team) {
            return Err(self.teams.iter().map(|t| t.team.clone()).collect());
        }
        self.teams.retain(|t| t.team == team);
        self.apps.retain(|a| a.team == team);
        Ok(())
    }

    /// True when some app's level is unknown.
    pub fn has_unknown(&self) -> bool {
        self.apps.iter().any(|a| a.level.is_none())
    }
}

/// The team to take next, and why: one team at a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextTeam {
    /// The team.
    pub team: String,
    /// Its apps at level 0 or 1.
    pub below_alerted: usize,
    /// All its apps.
    pub apps: usize,
    /// The requests per second of its apps at level 0 or 1.
    pub requests_per_second: f64,
    /// Why this team, in a sentence.
    pub why: String,
    /// The first three commands to run (its apps at level 0 first).
    pub commands: Vec<String>,
}

impl AdoptionReport {
    /// The team with the most apps at level 0–1 (ties: the most traffic of
    /// those apps, then the name); `None` when every app is at 2 or more.
    pub fn next_team(&self) -> Option<NextTeam> {
        let mut candidates: Vec<NextTeam> = self
            .teams
            .iter()
            .map(|t| self.candidate(&t.team, t.apps))
            .filter(|c| c.below_alerted > 0)
            .collect();
        candidates.sort_by(|a, b| {
            b.below_alerted
                .cmp(&a.below_alerted)
                .then(b.requests_per_second.total_cmp(&a.requests_per_second))
                .then_with(|| a.team.cmp(&b.team))
        });
        let mut next = candidates.first()?.clone();
        let tied: Vec<&NextTeam> = candidates[1..]
            .iter()
            .filter(|c| c.below_alerted == next.below_alerted)
            .collect();
        next.why = match tied.as_slice() {
            [] => format!(
                "{} of its {} apps are at level 0–1, the most of any team",
                next.below_alerted, next.apps
            ),
            others => {
                let names: Vec<String> = others
                    .iter()
                    .map(|o| format!("{} ({}/s)", o.team, number(o.requests_per_second)))
                    .collect();
                format!(
                    "{} of its {} apps are at level 0–1, as many as {}; it serves the most requests among them ({}/s)",
                    next.below_alerted,
                    next.apps,
                    names.join(", "),
                    number(next.requests_per_second)
                )
            }
        };
        Some(next)
    }

    /// `team`'s apps at level 0–1, their traffic and first commands.
    fn candidate(&self, team: &str, apps: usize) -> NextTeam {
        let mut below: Vec<&AppAdoption> = self
            .apps
            .iter()
            .filter(|a| a.team == team && a.level.is_some_and(|l| l < 2))
            .collect();
        below.sort_by_key(|a| a.level);
        let mut commands: Vec<String> = Vec::new();
        for next in below.iter().filter_map(|a| a.next.clone()) {
            if commands.len() < 3 && !commands.contains(&next) {
                commands.push(next);
            }
        }
        NextTeam {
            team: team.to_string(),
            below_alerted: below.len(),
            apps,
            // From +0: an empty f64 sum is -0, which prints as `-0`.
            requests_per_second: below
                .iter()
                .filter_map(|a| a.requests_per_second)
                .fold(0.0, |sum, rate| sum + rate),
            why: String::new(),
            commands,
        }
    }
}

/// One need of the catalog across the fleet: the platform backlog, built
/// from developer needs (`--needs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedBacklog {
    /// The need's id.
    pub need: String,
    /// Its title.
    pub title: String,
    /// The user story it answers.
    pub story: String,
    /// The apps whose dashboards show it and that have every required signal.
    pub answered_by: Vec<CheckedApp>,
    /// The apps whose dashboards show it and that lack signals, with which;
    /// and the apps without dashboards whose plan would take it.
    pub missing: Vec<AppMissing>,
    /// What to add, per signal missing somewhere: how many apps lack it, and
    /// the need's instrumentation hint.
    pub instrumentation: Vec<Instrumentation>,
}

/// An app that lacks some signals of a need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppMissing {
    /// The app.
    pub app: CheckedApp,
    /// The signals without series.
    pub signals: Vec<String>,
    /// True when the app has no dashboard of onramp's yet (the need is one
    /// its plan would take): `onramp apply` adds it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_dashboard: bool,
}

/// The instrumentation a missing signal asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instrumentation {
    /// The signal.
    pub signal: String,
    /// How many apps lack it.
    pub apps: usize,
    /// What to add to the app.
    pub hint: String,
}

impl AdoptionReport {
    /// For each need of the catalog: the apps that answer it, the apps
    /// missing which signal, and the instrumentation to add.
    pub fn backlog(&self, catalog: &Catalog) -> Vec<NeedBacklog> {
        let mut out = Vec::new();
        for id in catalog.ids() {
            let Ok(entry) = catalog.get(&id) else {
                continue;
            };
            let states = self
                .apps
                .iter()
                .flat_map(|a| {
                    let shown = a.needs.iter().map(move |n| (a, n, false));
                    shown.chain(a.planned.iter().map(move |n| (a, n, true)))
                })
                .filter(|(_, n, _)| n.need == id);
            let mut backlog = NeedBacklog {
                need: id.clone(),
                title: entry.need.title.clone(),
                story: entry.need.story.trim().to_string(),
                answered_by: Vec::new(),
                missing: Vec::new(),
                instrumentation: Vec::new(),
            };
            let mut lacking: BTreeMap<&str, usize> = BTreeMap::new();
            for (app, state, no_dashboard) in states {
                if state.answered && !no_dashboard {
                    backlog.answered_by.push(app.app.clone());
                    continue;
                }
                for signal in &state.missing {
                    *lacking.entry(signal).or_default() += 1;
                }
                backlog.missing.push(AppMissing {
                    app: app.app.clone(),
                    signals: state.missing.clone(),
                    no_dashboard,
                });
            }
            backlog.instrumentation = lacking
                .into_iter()
                .map(|(signal, apps)| Instrumentation {
                    signal: signal.to_string(),
                    apps,
                    hint: entry
                        .need
                        .signals
                        .get(signal)
                        .map(|s| s.instrumentation.trim().to_string())
                        .unwrap_or_default(),
                })
                .collect();
            out.push(backlog);
        }
        out
    }
}

/// The team of `workload`: its `label` (or its pod template's), else its
/// namespace.
pub fn team_of(workload: &FleetWorkload, label: &str) -> String {
    workload
        .label(label)
        .filter(|v| !v.is_empty())
        .unwrap_or(&workload.namespace)
        .to_string()
}

/// Assesses every app of the fleet.
pub fn assess(evidence: &Evidence<'_>) -> AdoptionReport {
    let index = Index::of(
        evidence.fleet,
        evidence.catalog,
        evidence.prometheus.as_ref().ok(),
    );
    let mut apps: Vec<AppAdoption> = evidence
        .fleet
        .workloads
        .iter()
        .map(|w| levels::assess_app(w, evidence, &index))
        .collect();
    apps.sort_by(|a, b| (&a.team, &a.app).cmp(&(&b.team, &b.app)));
    let teams = summarise(&apps);
    AdoptionReport {
        max_level: (LEVELS.len() - 1) as u8,
        prometheus: evidence.prometheus.as_ref().ok().map(|p| p.via.clone()),
        grafana: match &evidence.grafana {
            Some(Ok(state)) => Some(state.via.clone()),
            _ => None,
        },
        teams,
        apps,
        not_checked: evidence
            .prometheus
            .as_ref()
            .err()
            .into_iter()
            .chain(evidence.grafana.as_ref().and_then(|g| g.as_ref().err()))
            .cloned()
            .collect(),
    }
}

/// The per-team lines.
fn summarise(apps: &[AppAdoption]) -> Vec<TeamSummary> {
    let mut teams: BTreeMap<&str, TeamSummary> = BTreeMap::new();
    for app in apps {
        let line = teams.entry(&app.team).or_insert_with(|| TeamSummary {
            team: app.team.clone(),
            apps: 0,
            by_level: [0; LEVELS.len()],
            unknown: 0,
            share_needs_answered: 0.0,
            unanswered: Vec::new(),
        });
        line.apps += 1;
        match app.level {
            Some(level) => line.by_level[usize::from(level)] += 1,
            None => line.unknown += 1,
        }
        for need in app.needs.iter().filter(|n| !n.answered) {
            match line.unanswered.iter_mut().find(|(id, _)| *id == need.need) {
                Some((_, count)) => *count += 1,
                None => line.unanswered.push((need.need.clone(), 1)),
            }
        }
    }
    teams
        .into_values()
        .map(|mut t| {
            t.share_needs_answered = t.by_level[3..].iter().sum::<usize>() as f64 / t.apps as f64;
            t.unanswered
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            t
        })
        .collect()
}

/// onramp's objects by `(namespace, app)`: a lookup per app, not a scan.
pub(crate) struct Index<'a> {
    monitors: BTreeMap<(&'a str, &'a str), Vec<&'a OnrampObject>>,
    rules: BTreeMap<(&'a str, &'a str), Vec<&'a OnrampObject>>,
    dashboards: BTreeMap<(&'a str, &'a str), Vec<&'a OnrampObject>>,
    /// Prometheus' loaded rule groups by name, each with its place in
    /// Prometheus' answer (a name may be loaded twice, from two files):
    /// looking each app's groups up among thousands one by one was a
    /// measurable share of a fleet's time.
    groups: HashMap<&'a str, Vec<(usize, &'a RuleGroup)>>,
}

impl<'a> Index<'a> {
    /// The loaded groups named `names`, in Prometheus' order, each once.
    pub(crate) fn groups_named(&self, names: &[&String]) -> Vec<&'a RuleGroup> {
        let mut found: Vec<(usize, &RuleGroup)> = names
            .iter()
            .filter_map(|name| self.groups.get(name.as_str()))
            .flatten()
            .copied()
            .collect();
        found.sort_by_key(|(at, _)| *at);
        found.dedup_by_key(|(at, _)| *at);
        found.into_iter().map(|(_, group)| group).collect()
    }

    /// The index of `fleet`'s objects and Prometheus' rule groups; a
    /// platform need's dashboard (the fleet's, labelled with onramp's own
    /// name) is no app's.
    fn of(
        fleet: &'a Fleet,
        catalog: &crate::needs::Catalog,
        prometheus: Option<&'a PrometheusState>,
    ) -> Index<'a> {
        let platform: BTreeSet<&str> = catalog.platform().map(|e| e.need.id.as_str()).collect();
        let by_app = |objects: &'a [OnrampObject]| {
            let mut map: BTreeMap<(&str, &str), Vec<&OnrampObject>> = BTreeMap::new();
            for object in objects
                .iter()
                .filter(|o| !o.need().is_some_and(|n| platform.contains(n)))
            {
                if let Some(app) = object.app() {
                    map.entry((&object.namespace, app))
                        .or_default()
                        .push(object);
                }
            }
            map
        };
        let mut groups: HashMap<&str, Vec<(usize, &RuleGroup)>> = HashMap::new();
        for (at, group) in prometheus.iter().flat_map(|p| p.groups.iter().enumerate()) {
            groups.entry(&group.name).or_default().push((at, group));
        }
        Index {
            monitors: by_app(&fleet.monitors),
            rules: by_app(&fleet.rules),
            dashboards: by_app(&fleet.dashboards),
            groups,
        }
    }
}

/// Why Prometheus would not pick `object` up (empty when it does), and the
/// one command that fixes it for the app `app_ref`.
fn missed(
    stack: &Stack,
    fleet: &Fleet,
    object: &OnrampObject,
    app_ref: &str,
) -> Option<(String, String)> {
    let selectable = Selectable {
        kind: object.kind.to_string(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
        labels: object.labels.clone(),
    };
    let empty = BTreeMap::new();
    let namespace_labels = fleet.namespaces.get(&object.namespace).unwrap_or(&empty);
    let misses = selection::misses(stack, &selectable, namespace_labels);
    let first = misses.first()?;
    let texts: BTreeSet<&str> = misses.iter().map(|m| m.text.as_str()).collect();
    let command = match &first.fix {
        Fix::LabelNamespace(command) => command.clone(),
        Fix::Labels(labels) => {
            let flags: Vec<String> = labels.iter().map(|l| format!("--label {l}")).collect();
            format!("onramp apply {app_ref} {}", flags.join(" "))
        }
        // apply takes the labels the cluster's Prometheus selects by.
        Fix::Other => format!("onramp apply {app_ref}"),
    };
    Some((texts.into_iter().collect::<Vec<_>>().join("; "), command))
}

/// One check of a level.
fn check(category: Category, name: &str, status: Status, detail: String) -> Check {
    Check {
        category,
        name: name.to_string(),
        status,
        detail,
        transient: false,
    }
}

/// Whether an alert's `runbook_url` is a link a person can open from an
/// alert (absolute http or https), not a path inside a repository.
pub fn openable(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && url.trim().len() > 8
}

/// The rules of the loaded group that are not healthy, and the alerting
/// rules without an openable runbook, as sentences.
fn group_problems(group: &RuleGroup) -> (Vec<String>, Vec<String>) {
    let mut unhealthy = Vec::new();
    let mut unlinked = Vec::new();
    for rule in &group.rules {
        match rule.health {
            RuleHealth::Ok => {}
            RuleHealth::Err => unhealthy.push(format!(
                "rule {} of group {} fails: {}",
                rule.name,
                group.name,
                rule.last_error.as_deref().unwrap_or("no error given")
            )),
            RuleHealth::Unknown => unhealthy.push(format!(
                "rule {} of group {} has not been evaluated yet",
                rule.name, group.name
            )),
        }
        if rule.kind == RuleKind::Alerting {
            let url = rule.annotations.get("runbook_url").map(String::as_str);
            match url {
                Some(url) if openable(url) => {}
                Some(url) => unlinked.push(format!("{} ({url})", rule.name)),
                None => unlinked.push(format!("{} (none)", rule.name)),
            }
        }
    }
    (unhealthy, unlinked)
}

#[cfg(test)]
mod tests;
