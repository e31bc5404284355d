//! Grafana dashboards (classic JSON model) and their sidecar ConfigMaps.
//!
//! One dashboard per need: a `datasource` variable every panel and query uses,
//! a title, description and unit on every panel, `$__rate_interval` in rates,
//! links to the runbook and to the app's other dashboards (by tag). A need
//! with objectives that are on ends with an "Error budget" row: per objective,
//! the budget remaining, the objective, and the burn rate of every window the
//! alerts read against their thresholds. The JSON is serialised with sorted
//! keys so that a dashboard pulled back from Grafana and normalised compares
//! byte for byte.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::AppId;
use crate::error::{Error, Result};
use crate::needs::objective::{
    BURN_WINDOWS, ResolvedObjective, Tier, percent, prometheus_duration, recorded_windows,
};
use crate::needs::resolve::ResolvedNeed;
use crate::needs::{PanelDef, PanelKind, Threshold, VariableDef};
use crate::render::{Context, Metadata, to_yaml};

/// The classic dashboard schema version onramp writes (Grafana 10.4 / 11.0 and later).
pub const SCHEMA_VERSION: u32 = 39;

/// A Grafana dashboard or folder uid: 1–40 characters of `[A-Za-z0-9_-]`,
/// the rule Grafana enforces (`util.IsValidShortUID`, `MaxUIDLength`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DashboardUid(String);

impl DashboardUid {
    /// Grafana's limit on a uid's length.
    pub const MAX_LEN: usize = 40;

    /// Checks `text` against Grafana's uid rules.
    pub fn parse(text: &str) -> std::result::Result<DashboardUid, String> {
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(format!(
                "uid {text:?} has {} characters; Grafana accepts 1 to {}",
                text.len(),
                Self::MAX_LEN
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "uid {text:?} contains {bad:?}; Grafana accepts only A-Z, a-z, 0-9, '-' and '_'"
            ));
        }
        Ok(DashboardUid(text.to_string()))
    }

    /// The uid as Grafana's API takes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DashboardUid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A deterministic Grafana uid for (app, need): readable, at most 40
/// characters of `[A-Za-z0-9_-]`, and distinct for distinct apps and needs.
pub fn uid(app: &AppId, need: &str) -> DashboardUid {
    let (namespace, app) = (app.namespace(), app.name());
    hashed_uid(
        &format!("{app}-{need}"),
        &format!("{namespace}\0{app}\0{need}"),
    )
}

/// The uid of a platform need's one dashboard (`scope: platform`): the
/// need's id and a hash no app's dashboard has (an app's key has no
/// leading NUL).
pub fn platform_uid(need: &str) -> DashboardUid {
    hashed_uid(need, &format!("\0platform\0{need}"))
}

/// `readable` (cut, other characters as `-`) and 8 hex digits of the
/// SHA-256 of `key`: at most 40 characters of `[A-Za-z0-9_-]`.
fn hashed_uid(readable: &str, key: &str) -> DashboardUid {
    let digest = Sha256::digest(key.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let readable: String = readable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(DashboardUid::MAX_LEN - 1 - hash.len())
        .collect();
    // Built from the allowed characters and cut to the length: valid by construction.
    DashboardUid(format!("{readable}-{hash}"))
}

/// The tags that mark every dashboard of one app (used by the links between them).
pub fn app_tags(ctx: &Context<'_>) -> Vec<String> {
    vec![
        "onramp".to_string(),
        ctx.app.name.clone(),
        format!("namespace:{}", ctx.app.namespace),
    ]
}

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GridPos {
    h: u8,
    w: u8,
    x: u8,
    y: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    datasource: Value,
    expr: String,
    legend_format: String,
    ref_id: String,
    range: bool,
    instant: bool,
    /// `table` for a table panel (one row per series); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
}

/// Lays panels out left to right on Grafana's 24-column grid.
struct Layout {
    x: u8,
    y: u32,
    row_height: u8,
}

impl Layout {
    fn place(&mut self, w: u8, h: u8) -> GridPos {
        if self.x + w > 24 {
            self.y += u32::from(self.row_height);
            self.x = 0;
            self.row_height = 0;
        }
        let pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.row_height = self.row_height.max(h);
        pos
    }

    fn new_row(&mut self) -> GridPos {
        if self.x > 0 {
            self.y += u32::from(self.row_height);
        }
        let pos = GridPos {
            h: 1,
            w: 24,
            x: 0,
            y: self.y,
        };
        self.y += 1;
        self.x = 0;
        self.row_height = 0;
        pos
    }
}

/// A rendered dashboard.
#[derive(Debug, Clone)]
pub struct RenderedDashboard {
    /// The uid.
    pub uid: DashboardUid,
    /// The title.
    pub title: String,
    /// The need it answers.
    pub need: String,
    /// The dashboard JSON model, not yet stamped (the plan stamps it).
    pub dashboard: Value,
    /// Every query of the need's panels, in panel order, as Grafana will
    /// run it. The error budget panels' queries are not among them: they
    /// read the objectives' recorded series, which exist only once
    /// Prometheus has loaded the rules.
    pub queries: Vec<RenderedQuery>,
}

/// One query of one panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedQuery {
    /// The panel title.
    pub panel: String,
    /// The query's refId (`A`, `B`…).
    pub ref_id: String,
    /// The expanded PromQL (with Grafana's variables still in it).
    pub expr: String,
}

/// The panels (and their queries) a dashboard keeps for this app.
pub struct DashboardInput<'a> {
    /// The resolved need.
    pub need: &'a ResolvedNeed<'a>,
    /// The panels to render (panels whose signals cannot exist are left out by the plan).
    pub panels: Vec<&'a PanelDef>,
    /// Uid and title of every dashboard of the app, for the links.
    pub siblings: &'a [(DashboardUid, String)],
    /// The need's objectives that are on: each gets its error budget and
    /// burn rate panels in an "Error budget" row (none, none of those).
    pub objectives: Vec<&'a ResolvedObjective>,
}

/// The dashboard's links: the runbook (only when published: a relative path
/// would resolve against Grafana's own URL), the app's dashboards by tag, and
/// each sibling by uid.
fn links(ctx: &Context<'_>, input: &DashboardInput<'_>, uid: &DashboardUid) -> Vec<Value> {
    let mut links = Vec::new();
    // The plan notes say what is missing when the runbook is not published.
    if ctx.runbook_published() {
        links.push(json!({
        "title": "Runbook",
        "type": "link",
        "icon": "doc",
        "url": ctx.runbook_url,
        "tooltip": format!("How to troubleshoot {} with these dashboards", ctx.app.name),
        "targetBlank": true,
        "asDropdown": false,
        "includeVars": false,
        "keepTime": false,
        "tags": [],
        }));
    }
    links.push(json!({
        "title": format!("{} dashboards", ctx.app.name),
        "type": "dashboards",
        "tags": app_tags(ctx),
        "asDropdown": true,
        "includeVars": false,
        "keepTime": true,
        "targetBlank": false,
        "icon": "external link",
        "tooltip": "",
        "url": "",
    }));
    for (sibling_uid, sibling_title) in input.siblings {
        if sibling_uid != uid {
            links.push(json!({
                "title": sibling_title,
                "type": "link",
                "url": format!("/d/{sibling_uid}"),
                "icon": "dashboard",
                "tooltip": "",
                "targetBlank": false,
                "asDropdown": false,
                "includeVars": false,
                "keepTime": true,
                "tags": [],
            }));
        }
    }
    links
}

/// Who a dashboard is for, besides its need: its uid, title, tags, links
/// and the datasource its variable offers.
struct Frame {
    uid: DashboardUid,
    title: String,
    tags: Vec<String>,
    links: Vec<Value>,
    /// The Prometheus datasource (by name) the `datasource` variable is limited to.
    datasource: Option<String>,
    /// Markdown shown in a text panel on top (a platform need's walkthrough).
    intro: Option<String>,
}

/// Renders one need's dashboard for an app.
pub fn render(ctx: &Context<'_>, input: &DashboardInput<'_>) -> Result<RenderedDashboard> {
    let need = input.need;
    let uid = uid(&ctx.id, &need.need.id);
    let mut tags = app_tags(ctx);
    tags.push(need.need.id.clone());
    let frame = Frame {
        title: format!("{} · {}", ctx.app.name, need.need.title),
        tags,
        links: links(ctx, input, &uid),
        datasource: ctx.grafana_datasource.clone(),
        intro: None,
        uid,
    };
    model(frame, input)
}

/// Renders a platform need's one dashboard (`scope: platform`): the whole
/// fleet's, tagged `onramp` and `platform`, its walkthrough on top.
pub fn render_platform(
    input: &DashboardInput<'_>,
    datasource: Option<String>,
) -> Result<RenderedDashboard> {
    let need = input.need.need;
    let frame = Frame {
        uid: platform_uid(&need.id),
        title: need.title.clone(),
        tags: vec![
            "onramp".to_string(),
            "platform".to_string(),
            need.id.clone(),
        ],
        links: Vec::new(),
        datasource,
        intro: Some(need.walkthrough.clone()),
    };
    model(frame, input)
}

/// The dashboard JSON model of a need in its frame, and every panel query.
fn model(frame: Frame, input: &DashboardInput<'_>) -> Result<RenderedDashboard> {
    let need = input.need;
    let Frame {
        uid,
        title,
        tags,
        links,
        datasource,
        intro,
    } = frame;
    let fail = |what: &str, message: String| Error::Render {
        artifact: format!("dashboard {uid} ({}), {what}", need.need.id),
        message,
    };
    let (panels, queries) = panels(input, intro.as_deref(), &fail)?;
    let dashboard = json!({
        "uid": uid,
        "title": title,
        "description": need.need.story,
        "tags": tags,
        "editable": true,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "refresh": "30s",
        "fiscalYearStartMonth": 0,
        "liveNow": false,
        "weekStart": "",
        "links": links,
        "panels": panels,
        "templating": {"list": templating(datasource.as_deref(), need, &fail)?},
        "annotations": {"list": annotations(need, &fail)?},
    });
    Ok(RenderedDashboard {
        uid,
        title,
        need: need.need.id.clone(),
        dashboard,
        queries,
    })
}

/// How a part of a dashboard reports a template that does not expand.
type Fail<'f> = dyn Fn(&str, String) -> Error + 'f;

/// The panels (rows included, after the `intro` text panel when there is
/// one), laid out on the grid, and every query they run.
fn panels(
    input: &DashboardInput<'_>,
    intro: Option<&str>,
    fail: &Fail<'_>,
) -> Result<(Vec<Value>, Vec<RenderedQuery>)> {
    let mut layout = Layout {
        x: 0,
        y: 0,
        row_height: 0,
    };
    let mut panels = Vec::new();
    let mut queries = Vec::new();
    if let Some(text) = intro {
        panels.push(json!({
            "id": 1,
            "type": "text",
            "title": "How to read this dashboard",
            "description": input.need.need.story,
            "gridPos": layout.place(24, 7),
            "options": {"mode": "markdown", "content": text, "code": {"language": "plaintext", "showLineNumbers": false, "showMiniMap": false}},
        }));
    }
    for panel in &input.panels {
        if let Some(row) = &panel.row {
            panels.push(json!({
                "id": panels.len() + 1,
                "type": "row",
                "title": row,
                "collapsed": false,
                "gridPos": layout.new_row(),
                "panels": [],
            }));
        }
        let (w, h) = match panel.kind {
            PanelKind::Stat | PanelKind::Gauge => (6, 5),
            PanelKind::Timeseries | PanelKind::Bargauge => (12, 8),
            PanelKind::Table => (24, 8),
        };
        let grid = layout.place(panel.width.unwrap_or(w), panel.height.unwrap_or(h));
        let targets = targets(input.need, panel, fail)?;
        queries.extend(targets.iter().map(|t| RenderedQuery {
            panel: panel.title.clone(),
            ref_id: t.ref_id.clone(),
            expr: t.expr.clone(),
        }));
        let id = u32::try_from(panels.len() + 1).unwrap_or(u32::MAX);
        panels.push(panel_json(id, panel, grid, targets));
    }
    error_budget_row(&input.objectives, &mut layout, &mut panels);
    Ok((panels, queries))
}

/// The "Error budget" row, after the need's panels: three panels per
/// objective that is on; nothing when none is.
fn error_budget_row(
    objectives: &[&ResolvedObjective],
    layout: &mut Layout,
    panels: &mut Vec<Value>,
) {
    if objectives.is_empty() {
        return;
    }
    panels.push(json!({
        "id": panels.len() + 1,
        "type": "row",
        "title": "Error budget",
        "collapsed": false,
        "gridPos": layout.new_row(),
        "panels": [],
    }));
    for objective in objectives {
        for (panel, exprs) in objective_panels(objective) {
            let grid = layout.place(panel.width.unwrap_or(24), panel.height.unwrap_or(8));
            let targets = objective_targets(&panel, exprs);
            let id = u32::try_from(panels.len() + 1).unwrap_or(u32::MAX);
            let mut json = panel_json(id, &panel, grid, targets);
            if panel.kind == PanelKind::Timeseries {
                // The page and ticket thresholds, drawn across the graph;
                // the two windows of an alert in one colour.
                json["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] =
                    json!({"mode": "line"});
                json["fieldConfig"]["overrides"] = json!(window_overrides());
            }
            panels.push(json);
        }
    }
}

/// The queries of a panel made by onramp (not a need file): its exprs with
/// their legends, as every other panel's.
fn objective_targets(panel: &PanelDef, exprs: Vec<(String, String)>) -> Vec<Target> {
    let instant = panel.kind != PanelKind::Timeseries;
    exprs
        .into_iter()
        .enumerate()
        .map(|(i, (expr, legend))| Target {
            datasource: datasource(),
            expr,
            legend_format: legend,
            ref_id: ref_id(i),
            range: !instant,
            instant,
            format: None,
        })
        .collect()
}

fn threshold(value: Option<f64>, color: &str) -> Threshold {
    Threshold {
        value,
        color: color.to_string(),
    }
}

/// A panel of the "Error budget" row, with no need-file queries (its
/// queries go with it).
fn budget_panel(title: String, description: String, unit: &str, kind: PanelKind) -> PanelDef {
    let (width, height) = match kind {
        PanelKind::Timeseries => (12, 8),
        _ => (6, 8),
    };
    PanelDef {
        title,
        description,
        unit: unit.to_string(),
        kind,
        queries: Vec::new(),
        width: Some(width),
        height: Some(height),
        min: None,
        max: None,
        thresholds: Vec::new(),
        row: None,
    }
}

/// An objective's three panels and their queries (expr, legend): the
/// budget left over its period, the objective itself, and the burn rate of
/// every window the alerts read, against the alerts' thresholds.
fn objective_panels(objective: &ResolvedObjective) -> Vec<(PanelDef, Vec<(String, String)>)> {
    let filter = objective.filter();
    let title = &objective.title;
    let budget = percent(objective.budget());
    let period = &objective.period;
    let mut remaining = budget_panel(
        format!("{title}: error budget remaining"),
        format!(
            "Share of the {title} error budget ({budget} of the events over {period}) not spent over the last {period}. 100 % means nothing failed, 0 % that the objective is just met, below 0 that it is missed. Red below 0; orange below 25 %: hold back risky rollouts. Until Prometheus holds {period} of the objective's rules, this counts what it holds."
        ),
        "percentunit",
        PanelKind::Stat,
    );
    remaining.thresholds = vec![
        threshold(None, "red"),
        threshold(Some(0.0), "orange"),
        threshold(Some(0.25), "green"),
    ];
    let target = budget_panel(
        format!("{title}: objective"),
        format!(
            "The promise: {} of the events good over a rolling {period}. {} The error budget is the {budget} that may fail: {} of full outage per {period}.",
            percent(objective.objective),
            objective.description,
            crate::render::runbook::outage_time(objective)
        ),
        "percentunit",
        PanelKind::Stat,
    );
    let mut burn = budget_panel(
        format!("{title}: burn rate by window"),
        burn_rate_description(objective),
        "none",
        PanelKind::Timeseries,
    );
    burn.min = Some(0.0);
    burn.thresholds = burn_thresholds();
    let factor = crate::render::slo::number(objective.budget());
    let burn_queries = recorded_windows()
        .into_iter()
        .map(prometheus_duration)
        .map(|w| {
            (
                format!("{}{w}{filter} / {factor}", crate::render::slo::ERROR_RATIO),
                w,
            )
        })
        .collect();
    vec![
        (
            remaining,
            vec![(
                format!("slo:period_error_budget_remaining:ratio{filter}"),
                "budget remaining".to_string(),
            )],
        ),
        (
            target,
            vec![(
                format!("slo:objective:ratio{filter}"),
                "objective".to_string(),
            )],
        ),
        (burn, burn_queries),
    ]
}

/// The colour of each window pair of the alerts on the burn rate graph
/// (its lines and its threshold line), in [`BURN_WINDOWS`] order.
pub const PAIR_COLOURS: [&str; 4] = ["red", "orange", "yellow", "blue"];

/// How each window's series is drawn: (window, colour, dashed). The
/// windows of one pair in its colour (a window in two pairs keeps the
/// first's), the short one dashed.
fn window_styles() -> Vec<(String, &'static str, bool)> {
    let mut styles: Vec<(String, &'static str, bool)> = Vec::new();
    for (pair, colour) in BURN_WINDOWS.iter().zip(PAIR_COLOURS) {
        for (window, short) in [(pair.long, false), (pair.short, true)] {
            let name = prometheus_duration(window);
            if !styles.iter().any(|(styled, _, _)| *styled == name) {
                styles.push((name, colour, short));
            }
        }
    }
    styles
}

/// The burn rate graph's series overrides, from [`window_styles`].
fn window_overrides() -> Vec<Value> {
    window_styles()
        .into_iter()
        .map(|(name, colour, dashed)| {
            let mut properties =
                vec![json!({"id": "color", "value": {"mode": "fixed", "fixedColor": colour}})];
            if dashed {
                properties.push(
                    json!({"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}),
                );
            }
            json!({"matcher": {"id": "byName", "options": name}, "properties": properties})
        })
        .collect()
}

/// The burn rate graph's threshold lines: every pair's factor in the
/// pair's colour, so a pair's lines page (or open a ticket) above the
/// threshold line of their colour.
fn burn_thresholds() -> Vec<Threshold> {
    let mut factors: Vec<(f64, &str)> = BURN_WINDOWS
        .iter()
        .zip(PAIR_COLOURS)
        .map(|(w, colour)| (w.factor, colour))
        .collect();
    factors.sort_by(|a, b| a.0.total_cmp(&b.0));
    std::iter::once(threshold(None, "green"))
        .chain(
            factors
                .into_iter()
                .map(|(f, colour)| threshold(Some(f), colour)),
        )
        .collect()
}

/// Which colour is which window, for the description: `red 1h and 5m, …`.
fn pair_colours() -> String {
    let styles = window_styles();
    PAIR_COLOURS
        .iter()
        .map(|colour| {
            let windows: Vec<&str> = styles
                .iter()
                .filter(|(_, c, _)| c == colour)
                .map(|(w, _, _)| w.as_str())
                .collect();
            format!("{colour} {}", windows.join(" and "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How to read the burn rate graph: what 1 means, and which lines page and
/// which open a ticket.
fn burn_rate_description(objective: &ResolvedObjective) -> String {
    let pairs = |tier: Tier| {
        BURN_WINDOWS
            .iter()
            .filter(|w| w.tier == tier)
            .map(|w| {
                format!(
                    "the {} and {} lines are both above {}",
                    prometheus_duration(w.long),
                    prometheus_duration(w.short),
                    crate::render::slo::number(w.factor)
                )
            })
            .collect::<Vec<_>>()
            .join(", or ")
    };
    format!(
        "How many times faster than allowed each window spends the {title} error budget: 1 spends exactly the budget over {period}; {fastest} spends it all in {gone}. It pages when {page}; it opens a ticket when {ticket} (each only with at least {min} events in the long window). The two windows of each pair share a colour ({colours}; a window in two pairs keeps the first's colour), the short ones dashed, each pair's threshold line in its colour. The long window says the burn is real, the short one that it still goes on: short lines high and long ones low is a fresh, fast burn; long lines high and short ones back under the threshold is a burn that stopped (the alert resolves).",
        title = objective.title,
        period = objective.period,
        fastest = crate::render::slo::number(BURN_WINDOWS[0].factor),
        gone = crate::render::runbook::human_duration(
            objective.period_length.div_f64(BURN_WINDOWS[0].factor)
        ),
        page = pairs(Tier::Page),
        ticket = pairs(Tier::Ticket),
        min = objective.min_events,
        colours = pair_colours(),
    )
}

/// One panel's queries, expanded and checked.
fn targets(need: &ResolvedNeed<'_>, panel: &PanelDef, fail: &Fail<'_>) -> Result<Vec<Target>> {
    let what = format!("panel {:?}", panel.title);
    let instant = panel.kind != PanelKind::Timeseries;
    panel
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let expr = need
                .checked_expr(&q.expr.value)
                .map_err(|m| fail(&what, m))?;
            let legend = need.legend(&q.legend).map_err(|m| fail(&what, m))?;
            Ok(Target {
                datasource: datasource(),
                expr,
                legend_format: if legend.is_empty() {
                    "__auto".to_string()
                } else {
                    legend
                },
                ref_id: ref_id(i),
                range: !instant,
                instant,
                format: (panel.kind == PanelKind::Table).then_some("table"),
            })
        })
        .collect()
}

/// The datasource variable (offering only `datasource` when one is named),
/// then the need's own variables.
fn templating(
    datasource: Option<&str>,
    need: &ResolvedNeed<'_>,
    fail: &Fail<'_>,
) -> Result<Vec<Value>> {
    // With a datasource named in onramp.yaml, the variable offers only that one.
    let datasource_regex = datasource
        .map(|name| format!("/^{}$/", crate::needs::promql::regex_escape(name)))
        .unwrap_or_default();
    let mut templating = vec![json!({
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "hide": 0,
        "refresh": 1,
        "regex": datasource_regex,
        "current": {},
        "options": [],
    })];
    for var in &need.need.variables {
        templating.push(variable(need, var, fail)?);
    }
    Ok(templating)
}

/// Grafana's query-variable editor types (`qryType`): label values, query result.
const LABEL_VALUES: u8 = 1;
const QUERY_RESULT: u8 = 3;

/// One query variable over a signal's label. Busiest first is a
/// `query_result` ranked by the counter's increase over the time range, with
/// a regex taking the label's value out of each result line; Grafana keeps
/// the query's order (sort 0) and opens on the first value.
fn variable(need: &ResolvedNeed<'_>, var: &VariableDef, fail: &Fail<'_>) -> Result<Value> {
    let what = format!("variable {:?}", var.name);
    let selector = need
        .expr(&format!("{{{{{}}}}}", var.signal))
        .map_err(|m| fail(&what, m))?;
    let label = need
        .expr(&format!("{{{{{}.{}}}}}", var.signal, var.signal_label))
        .map_err(|m| fail(&what, m))?;
    let (query, kind, regex, sort) = if var.busiest_first {
        (
            format!("query_result(sort_desc(sum by ({label}) (increase({selector}[$__range]))))"),
            QUERY_RESULT,
            format!("/{label}=\"([^\"]+)\"/"),
            0,
        )
    } else {
        (
            format!("label_values({selector}, {label})"),
            LABEL_VALUES,
            String::new(),
            1,
        )
    };
    let mut variable = json!({
        "type": "query",
        "name": var.name,
        "label": var.label,
        "datasource": datasource(),
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": kind},
        "definition": query,
        "regex": regex,
        "refresh": 2,
        "sort": sort,
        "multi": false,
        "includeAll": false,
        "hide": 0,
        "current": {},
        "options": [],
    });
    if var.all {
        // All matches every value (`=~".*"`), also one that appears later.
        variable["multi"] = json!(true);
        variable["includeAll"] = json!(true);
        variable["allValue"] = json!(".*");
        variable["current"] = json!({"selected": true, "text": ["All"], "value": ["$__all"]});
    }
    Ok(variable)
}

/// Grafana's built-in annotations, then the need's annotation queries.
fn annotations(need: &ResolvedNeed<'_>, fail: &Fail<'_>) -> Result<Vec<Value>> {
    let mut annotations = vec![json!({
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": true,
        "hide": true,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    })];
    for ann in &need.need.annotations {
        let what = format!("annotation {:?}", ann.name);
        let expr = need
            .checked_expr(&ann.expr.value)
            .map_err(|m| fail(&what, m))?;
        let text = need.legend(&ann.text).map_err(|m| fail(&what, m))?;
        annotations.push(json!({
            "datasource": datasource(),
            "enable": true,
            "expr": expr,
            "iconColor": ann.color,
            "name": ann.name,
            "step": ANNOTATION_STEP,
            "textFormat": text,
            "titleFormat": ann.name,
            "useValueForTime": false,
        }));
    }
    Ok(annotations)
}

/// The step of annotation queries: Grafana draws one mark per run of
/// consecutive points of a series.
pub const ANNOTATION_STEP: &str = "60s";

fn ref_id(index: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::new();
    let mut i = index;
    loop {
        id.insert(0, letters[i % 26] as char);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    id
}

/// `fieldConfig.defaults` of a panel: unit, thresholds, colours and, for
/// time series, the drawing defaults.
fn field_defaults(panel: &PanelDef) -> Value {
    let mut steps: Vec<Value> = panel
        .thresholds
        .iter()
        .map(|t| json!({"color": t.color, "value": t.value}))
        .collect();
    if steps.is_empty() {
        steps.push(json!({"color": "green", "value": null}));
    }
    // Grafana's panel editor fills in every default it knows when a person
    // saves; rendering them too keeps a UI save's diff down to the edit.
    let mut defaults = json!({
        "unit": panel.unit,
        "mappings": [],
        "thresholds": {"mode": "absolute", "steps": steps},
        "color": {"mode": if panel.kind == PanelKind::Timeseries { "palette-classic" } else { "thresholds" }},
    });
    if panel.kind == PanelKind::Table {
        defaults["custom"] =
            json!({"align": "auto", "cellOptions": {"type": "auto"}, "inspect": false});
    }
    if let Some(min) = panel.min {
        defaults["min"] = json!(min);
    }
    if let Some(max) = panel.max {
        defaults["max"] = json!(max);
    }
    if panel.kind == PanelKind::Timeseries {
        defaults["custom"] = json!({
            "axisBorderShow": false,
            "axisCenteredZero": false,
            "axisColorMode": "text",
            "axisLabel": "",
            "axisPlacement": "auto",
            "barAlignment": 0,
            "barWidthFactor": 0.6,
            "drawStyle": "line",
            "fillOpacity": 10,
            "gradientMode": "none",
            "hideFrom": {"legend": false, "tooltip": false, "viz": false},
            "insertNulls": false,
            "lineInterpolation": "linear",
            "lineWidth": 1,
            "pointSize": 5,
            "scaleDistribution": {"type": "linear"},
            "showPoints": "never",
            "spanNulls": false,
            "stacking": {"group": "A", "mode": "none"},
            "thresholdsStyle": {"mode": "off"},
        });
    }
    defaults
}

/// A panel's `options`, by panel type.
fn panel_options(panel: &PanelDef) -> Value {
    match panel.kind {
        PanelKind::Timeseries => json!({
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }),
        PanelKind::Stat => json!({
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "colorMode": "value",
            "graphMode": "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "percentChangeColorMode": "standard",
            "showPercentChange": false,
            "textMode": "value_and_name",
            "wideLayout": true,
        }),
        PanelKind::Gauge | PanelKind::Bargauge => json!({
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
            "orientation": "horizontal",
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
        }),
        PanelKind::Table => json!({
            "showHeader": true,
            "cellHeight": "sm",
            "footer": {"show": false, "reducer": ["sum"], "countRows": false, "fields": ""},
        }),
    }
}

fn panel_json(id: u32, panel: &PanelDef, grid: GridPos, targets: Vec<Target>) -> Value {
    let defaults = field_defaults(panel);
    let options = panel_options(panel);
    let kind = match panel.kind {
        PanelKind::Timeseries => "timeseries",
        PanelKind::Stat => "stat",
        PanelKind::Gauge => "gauge",
        PanelKind::Bargauge => "bargauge",
        PanelKind::Table => "table",
    };
    let mut json = json!({
        "id": id,
        "type": kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": datasource(),
        "gridPos": grid,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": targets,
    });
    if panel.kind == PanelKind::Table {
        // One row per series: its labels as columns, the value last; the
        // time of an instant query and the metric name say nothing.
        json["transformations"] = json!([{"id": "organize", "options": {
            "excludeByName": {"Time": true, "__name__": true},
            "renameByName": {"Value": "value"},
        }}]);
    }
    json
}

/// What Grafana's dashboard sidecar (kiwigrid k8s-sidecar) loads a
/// ConfigMap by, and the annotation it reads the folder from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarLabels {
    /// The label key the sidecar watches (`LABEL`).
    pub label: String,
    /// Its value (`LABEL_VALUE`; any value works when the sidecar sets none).
    pub value: String,
    /// The annotation naming the dashboard's folder (`FOLDER_ANNOTATION`).
    pub folder_annotation: String,
}

impl Default for SidecarLabels {
    /// kube-prometheus-stack's defaults, for when nothing was detected or set.
    fn default() -> Self {
        SidecarLabels {
            label: "grafana_dashboard".to_string(),
            value: "1".to_string(),
            folder_annotation: "grafana_folder".to_string(),
        }
    }
}

/// The sidecar ConfigMap carrying one dashboard (labelled as [`SidecarLabels`] says).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigMap {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    data: BTreeMap<String, String>,
}

/// A dashboard as its file holds it, for the sidecar ConfigMaps.
#[derive(Debug, Clone, Copy)]
pub struct DashboardFile<'a> {
    /// The uid (names the file inside the ConfigMap).
    pub uid: &'a str,
    /// The need it answers.
    pub need: &'a str,
    /// The stamped JSON text, exactly as written to `dashboards/NEED.json`.
    pub json: &'a str,
}

/// The ConfigMaps for Grafana's dashboard sidecar, one per dashboard, as one YAML stream.
pub fn config_maps(ctx: &Context<'_>, dashboards: &[DashboardFile<'_>]) -> Result<String> {
    let site = ConfigMapSite {
        owner: &ctx.app.name,
        namespace: &ctx.app.namespace,
        labels: ctx.object_labels(),
        sidecar: &ctx.sidecar,
        folder: &ctx.grafana_folder,
    };
    sidecar_config_maps(&site, dashboards)
}

/// Where sidecar ConfigMaps go and how they are labelled: an app's, or the
/// platform dashboard's.
pub struct ConfigMapSite<'a> {
    /// Names each one `OWNER-NEED-dashboard`: the app, or the platform need's owner.
    pub owner: &'a str,
    /// Their namespace (one the sidecar watches).
    pub namespace: &'a str,
    /// The labels every object of the owner carries (onramp's, the owner's).
    pub labels: BTreeMap<String, String>,
    /// The label the sidecar loads them by, and its folder annotation.
    pub sidecar: &'a SidecarLabels,
    /// The Grafana folder the sidecar puts the dashboards in.
    pub folder: &'a str,
}

/// The sidecar ConfigMaps of `dashboards` at `site`, one per dashboard, as one YAML stream.
pub fn sidecar_config_maps(
    site: &ConfigMapSite<'_>,
    dashboards: &[DashboardFile<'_>],
) -> Result<String> {
    let mut out = String::new();
    for (i, dashboard) in dashboards.iter().enumerate() {
        let mut labels = site.labels.clone();
        let sidecar = site.sidecar;
        labels.insert(sidecar.label.clone(), sidecar.value.clone());
        labels.insert(super::NEED_LABEL.to_string(), dashboard.need.to_string());
        let object = ConfigMap {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: Metadata {
                name: format!("{}-{}-dashboard", site.owner, dashboard.need),
                namespace: site.namespace.to_string(),
                labels,
                annotations: BTreeMap::from([(
                    sidecar.folder_annotation.clone(),
                    site.folder.to_string(),
                )]),
            },
            data: BTreeMap::from([(
                format!("{}.json", dashboard.uid),
                dashboard.json.to_string(),
            )]),
        };
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(&object, "dashboard ConfigMap")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_valid_deterministic_and_distinct() {
        let id = |ns: &str, name: &str| {
            AppId::new(ns, crate::app::WorkloadKind::Deployment, name).expect("valid")
        };
        let a = uid(&id("shop", "checkout"), "service-health");
        assert_eq!(a, uid(&id("shop", "checkout"), "service-health"));
        assert_eq!(DashboardUid::parse(a.as_str()), Ok(a.clone()));
        assert!(a.as_str().starts_with("checkout-service-health-"), "{a}");
        assert_ne!(uid(&id("a-b", "c"), "n"), uid(&id("a", "b-c"), "n"));
        // The longest names Kubernetes allows still give a 40-character uid.
        let name = format!("{}.{}", "x".repeat(63), "y".repeat(63));
        let long = uid(&id(&"n".repeat(63), &name), "feature-flag-engagement");
        assert_eq!(long.as_str().len(), 40, "{long}");
        assert_eq!(DashboardUid::parse(long.as_str()), Ok(long.clone()));
    }

    #[test]
    fn a_uid_grafana_would_refuse_is_refused_with_the_rule() {
        let long = DashboardUid::parse(&"a".repeat(41)).expect_err("41 characters");
        assert!(
            long.contains("has 41 characters; Grafana accepts 1 to 40"),
            "{long}"
        );
        let dotted = DashboardUid::parse("shop.checkout").expect_err("a dot");
        assert!(dotted.contains("contains '.'"), "{dotted}");
        assert!(DashboardUid::parse("").is_err());
        assert!(DashboardUid::parse("Ok_uid-1").is_ok());
    }

    #[test]
    fn ref_ids_count_like_spreadsheet_columns() {
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(25), "Z");
        assert_eq!(ref_id(26), "AA");
    }
}
