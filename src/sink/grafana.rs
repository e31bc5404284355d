//! Keeping the app's dashboards in Grafana and in code in step, without ever
//! losing a human edit.
//!
//! Every dashboard onramp writes carries a marker with the hash of the content
//! onramp knows as its own (what it rendered, or what it pulled with
//! `codify --from-live`). A live dashboard whose content no longer matches
//! that hash was changed by a person: `apply` refuses to overwrite it, unless
//! `--force`, which first saves the live copy to a backup file. This module
//! owns that decision, the push and the pull; the HTTP calls are
//! [`crate::client::grafana::Client`]'s, the stamps are [`crate::plan::stamp`]'s.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;

use crate::client::grafana::resource::{self, is_v2};
use crate::client::grafana::{self, Client, LiveDashboard, Schema};
use crate::client::secret::redact;
use crate::error::{Error, Result};
use crate::plan::stamp::{self, content_hash, holds_pulled_edit, marker_hash, to_json};
use crate::plan::{ArtifactKind, Plan};
use crate::sink::Change;

/// A dashboard of the plan, as onramp wants it in Grafana.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The uid.
    pub uid: String,
    /// The title.
    pub title: String,
    /// The need it answers.
    pub need: String,
    /// The dashboard JSON.
    pub dashboard: Value,
}

/// The dashboards of a plan.
pub fn desired(plan: &Plan) -> Result<Vec<Desired>> {
    plan.artifacts
        .iter()
        .filter_map(|a| match &a.kind {
            ArtifactKind::Dashboard { uid, title, need } => Some((a, uid, title, need)),
            _ => None,
        })
        .map(|(a, uid, title, need)| {
            let dashboard = serde_json::from_str(&a.content).map_err(|e| Error::Render {
                artifact: a.path.clone(),
                message: format!("dashboard JSON does not parse: {e}"),
            })?;
            Ok(Desired {
                uid: uid.to_string(),
                title: title.clone(),
                need: need.clone(),
                dashboard,
            })
        })
        .collect()
}

/// The paths of the plan's dashboards that are v2 resources (edits saved
/// by Grafana 13's UI and brought into code).
pub fn v2_dashboards(plan: &Plan) -> Vec<String> {
    plan.dashboards()
        .filter(|(a, _)| serde_json::from_str::<Value>(&a.content).is_ok_and(|v| is_v2(&v)))
        .map(|(a, _)| a.path.clone())
        .collect()
}

/// Why a v2 dashboard cannot go through Grafana's file provisioning — the
/// dashboard sidecar's ConfigMap — and what to do instead.
pub fn v2_provisioning_note(paths: &[String]) -> String {
    format!(
        "{} hold(s) a v2 dashboard resource (dashboard.grafana.app/v2…), an edit saved in Grafana's UI: push it with `apply --from DIR --grafana-url URL`. Grafana's file provisioning, which loads the dashboard sidecar's ConfigMaps, does not load v2 dashboards in Grafana 12.x–13.0 (grafana/grafana#122663, #127928, #126641), so `apply --cluster` will not install those ConfigMaps",
        paths.join(", ")
    )
}

/// A dashboard's content: normalised, without onramp's marker.
pub fn content(dashboard: &Value) -> Value {
    grafana::normalize::content(dashboard)
}

/// `dashboard` normalised as Grafana stores it, re-stamped for its content
/// by [`stamp::restamp_dashboard`] (the marker's only writer is the plan's
/// stamp).
pub fn restamp(dashboard: &Value) -> Value {
    stamp::restamp_dashboard(grafana::normalize(dashboard), dashboard)
}

/// What applying a dashboard would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// It is not in Grafana yet.
    Create,
    /// Grafana has onramp's previous version: it is replaced.
    Update {
        /// A readable diff of panels and queries.
        diff: String,
    },
    /// Grafana has exactly this content (possibly with an older marker, which is refreshed).
    Unchanged {
        /// True when only the marker needs refreshing (a pulled edit being adopted).
        adopt: bool,
    },
    /// A person changed it in Grafana since onramp last wrote it.
    HumanEdit {
        /// Who saved it last.
        by: String,
        /// When.
        at: String,
        /// Its version in Grafana.
        version: i64,
        /// The schema it is stored in (`v2`: saved by Grafana 13's UI).
        schema: Schema,
        /// What differs from what onramp would write.
        diff: String,
    },
    /// It belongs to file provisioning (e.g. the sidecar ConfigMap) and cannot be saved through the API.
    Provisioned,
    /// Grafana has an edit that was brought into code (`codify --from-live`
    /// then `apply --from`), and the plan would replace it with the need's rendering.
    PulledEdit {
        /// Its version in Grafana.
        version: i64,
        /// What the need's rendering would change.
        diff: String,
    },
}

/// Decides what to do with one dashboard, given what Grafana has.
pub fn decide(desired: &Desired, live: Option<&LiveDashboard>) -> Action {
    let Some(live) = live else {
        return Action::Create;
    };
    if live.meta.provisioned {
        return Action::Provisioned;
    }
    let live_content = content(&live.dashboard);
    let wanted = content(&desired.dashboard);
    if live_content == wanted {
        return Action::Unchanged {
            adopt: marker_hash(&live.dashboard) != marker_hash(&desired.dashboard),
        };
    }
    let live_hash = content_hash(&live_content);
    let known = [
        marker_hash(&live.dashboard),
        marker_hash(&desired.dashboard),
    ];
    // onramp writes classic dashboards: one stored as v2 is a person's edit
    // (saved from Grafana 13's UI), or such an edit brought into code and
    // pushed back — never something a classic rendering may replace.
    let v2_over_classic = live.schema() == Schema::V2 && !is_v2(&desired.dashboard);
    let intact = marker_hash(&live.dashboard) == Some(live_hash.as_str());
    if v2_over_classic && !(holds_pulled_edit(&live.dashboard) && intact) {
        return human_edit(live, desired);
    }
    if holds_pulled_edit(&live.dashboard) && !holds_pulled_edit(&desired.dashboard) {
        return Action::PulledEdit {
            version: live.version(),
            diff: readable_diff(
                &live.dashboard,
                &desired.dashboard,
                Direction::GrafanaToOnramp,
            ),
        };
    }
    if known.contains(&Some(live_hash.as_str())) {
        Action::Update {
            diff: readable_diff(
                &live.dashboard,
                &desired.dashboard,
                Direction::GrafanaToOnramp,
            ),
        }
    } else {
        human_edit(live, desired)
    }
}

/// The action for a dashboard a person changed in Grafana: who, when, and
/// what they changed against what onramp would write.
fn human_edit(live: &LiveDashboard, desired: &Desired) -> Action {
    Action::HumanEdit {
        by: live
            .meta
            .updated_by
            .clone()
            .unwrap_or_else(|| "someone".to_string()),
        at: live
            .meta
            .updated
            .clone()
            .unwrap_or_else(|| "an unknown time".to_string()),
        version: live.version(),
        schema: live.schema(),
        diff: readable_diff(
            &live.dashboard,
            &desired.dashboard,
            Direction::OnrampToGrafana,
        ),
    }
}

/// The parts of a dashboard a reviewer reads: title, variables, panels and
/// their queries — the same lines for a classic and a v2 dashboard.
pub fn readable(dashboard: &Value) -> String {
    if is_v2(dashboard) {
        return readable_v2(&dashboard["spec"]);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "title: {}",
        dashboard["title"].as_str().unwrap_or_default()
    );
    if let Some(vars) = dashboard["templating"]["list"].as_array() {
        for v in vars {
            let _ = writeln!(
                out,
                "variable {} ({}): {}",
                v["name"].as_str().unwrap_or_default(),
                v["type"].as_str().unwrap_or_default(),
                v["definition"]
                    .as_str()
                    .or(v["query"].as_str())
                    .unwrap_or_default()
            );
        }
    }
    fn panels(out: &mut String, list: &Value) {
        for p in list.as_array().map(Vec::as_slice).unwrap_or_default() {
            let _ = writeln!(
                out,
                "panel {:?} ({}, {})",
                p["title"].as_str().unwrap_or_default(),
                p["type"].as_str().unwrap_or_default(),
                p["fieldConfig"]["defaults"]["unit"]
                    .as_str()
                    .unwrap_or("no unit")
            );
            for t in p["targets"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    t["refId"].as_str().unwrap_or_default(),
                    t["expr"].as_str().unwrap_or_default()
                );
            }
            panels(out, &p["panels"]);
        }
    }
    panels(&mut out, &dashboard["panels"]);
    out
}

/// [`readable`] of a v2 spec: variables from `variables`, panels from
/// `elements` in the order the layout shows them (rows and tabs included),
/// each with its queries (`data.spec.queries`).
fn readable_v2(spec: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "title: {}", spec["title"].as_str().unwrap_or_default());
    for v in spec["variables"].as_array().into_iter().flatten() {
        let query = &v["spec"]["query"];
        let text = v["spec"]["definition"]
            .as_str()
            .or(query.as_str())
            .or(query["spec"]["query"].as_str())
            .or(query["spec"]["expr"].as_str())
            .or(v["spec"]["pluginId"].as_str())
            .unwrap_or_default();
        let kind = v["kind"].as_str().unwrap_or_default();
        let kind = match kind.strip_suffix("Variable") {
            Some("Datasource") => "datasource".to_string(),
            Some(k) => k.to_ascii_lowercase(),
            None => kind.to_string(),
        };
        let name = v["spec"]["name"].as_str().unwrap_or_default();
        let _ = writeln!(out, "variable {name} ({kind}): {text}");
    }
    let mut shown = Vec::new();
    layout_entries(&spec["layout"], &mut shown);
    for name in spec["elements"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if !shown
            .iter()
            .any(|e| matches!(e, Shown::Element(n) if n == name))
        {
            shown.push(Shown::Element(name.clone()));
        }
    }
    for entry in shown {
        let name = match entry {
            // Rows and tabs read like the classic model's row panels.
            Shown::Group(kind, title) => {
                let _ = writeln!(out, "panel {title:?} ({kind}, no unit)");
                continue;
            }
            Shown::Element(name) => name,
        };
        let panel = &spec["elements"][name.as_str()]["spec"];
        let viz = &panel["vizConfig"];
        let _ = writeln!(
            out,
            "panel {:?} ({}, {})",
            panel["title"].as_str().unwrap_or_default(),
            viz["group"]
                .as_str()
                .or(viz["kind"].as_str())
                .unwrap_or_default(),
            viz["spec"]["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .unwrap_or("no unit")
        );
        for q in panel["data"]["spec"]["queries"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let _ = writeln!(
                out,
                "  {}: {}",
                q["spec"]["refId"].as_str().unwrap_or_default(),
                q["spec"]["query"]["spec"]["expr"]
                    .as_str()
                    .unwrap_or_default()
            );
        }
    }
    out
}

/// What a v2 layout shows, in order: a row or tab (kind, title), or an element.
enum Shown {
    Group(&'static str, String),
    Element(String),
}

/// The rows, tabs and elements a v2 layout shows, in the order it shows them.
fn layout_entries(layout: &Value, shown: &mut Vec<Shown>) {
    match layout {
        Value::Object(map) => {
            if let Some(name) = map.get("element").and_then(|e| e["name"].as_str()) {
                shown.push(Shown::Element(name.to_string()));
                return;
            }
            let group = match map.get("kind").and_then(Value::as_str) {
                Some("RowsLayoutRow") => Some("row"),
                Some("TabsLayoutTab") => Some("tab"),
                _ => None,
            };
            if let Some(kind) = group {
                let title = map["spec"]["title"].as_str().unwrap_or_default();
                shown.push(Shown::Group(kind, title.to_string()));
            }
            map.values().for_each(|v| layout_entries(v, shown));
        }
        Value::Array(items) => items.iter().for_each(|v| layout_entries(v, shown)),
        _ => {}
    }
}

/// The sides of a diff between Grafana's copy and onramp's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What apply would change: `--- grafana` → `+++ onramp`.
    GrafanaToOnramp,
    /// What a person changed in Grafana: `--- onramp` → `+++ grafana`, so a
    /// line they added shows as `+`.
    OnrampToGrafana,
}

/// A unified diff of the readable form of Grafana's copy and onramp's
/// rendering, with the headers naming the sides in `direction`.
pub fn readable_diff(grafana: &Value, onramp: &Value, direction: Direction) -> String {
    let (old, new, headers) = match direction {
        Direction::GrafanaToOnramp => (grafana, onramp, ("grafana", "onramp")),
        Direction::OnrampToGrafana => (onramp, grafana, ("onramp", "grafana")),
    };
    let (a, b) = (readable(old), readable(new));
    if a == b {
        return "  (only layout or display settings differ)\n".to_string();
    }
    TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(1)
        .header(headers.0, headers.1)
        .to_string()
}

/// What happened to one dashboard during apply.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    /// The uid.
    pub uid: String,
    /// The title.
    pub title: String,
    /// The full URL in Grafana.
    pub url: String,
    /// Created, updated, unchanged, refused, provisioned or not pushed.
    pub result: Change,
    /// The version in Grafana afterwards, when known.
    pub version: Option<i64>,
    /// For refusals and errors: why, and what to do.
    pub detail: Option<String>,
    /// The backup of the live copy, when `--force` overwrote a human edit.
    pub backup: Option<PathBuf>,
}

/// What `apply` does about human edits.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Overwrite human edits (after saving the live copy).
    pub force: bool,
    /// Where backups of overwritten live copies go.
    pub backup_dir: PathBuf,
    /// The folder the dashboards go to (the plan's).
    pub folder: crate::plan::GrafanaFolder,
    /// The command that brings an edit into code (shown in refusals).
    pub codify_hint: String,
}

/// The outcome of a push: every dashboard, in plan order.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// Each dashboard.
    pub dashboards: Vec<Pushed>,
    /// The error that stopped the push, if one did.
    pub error: Option<String>,
}

impl PushReport {
    /// True when a dashboard was refused or not pushed.
    pub fn incomplete(&self) -> bool {
        self.error.is_some() || self.dashboards.iter().any(|d| d.result.incomplete())
    }
}

fn backup(dir: &Path, live: &LiveDashboard) -> Result<PathBuf> {
    let stamp = live
        .meta
        .updated
        .clone()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    let path = dir.join(format!("{}.v{}.{stamp}.json", live.uid(), live.version()));
    // Read through the resource API: the resource exactly as Grafana returned it.
    let copy = live.resource.as_ref().map_or(&live.dashboard, |r| &r.raw);
    // A backup leaves the process like any output: through the redaction.
    crate::sink::write_atomic(&path, &redact(&to_json(copy)))?;
    Ok(path)
}

/// The report entries of dashboards that were not pushed, and why.
pub fn not_pushed(client: &Client, dashboards: &[Desired]) -> Vec<Pushed> {
    dashboards
        .iter()
        .map(|d| Pushed {
            uid: d.uid.clone(),
            title: d.title.clone(),
            url: client.link(&format!("/d/{}", d.uid)),
            result: Change::NotPushed,
            version: None,
            // The one error that stopped the push is reported once, by the
            // caller, not once per dashboard.
            detail: None,
            backup: None,
        })
        .collect()
}

/// Pushes the dashboards. A service error stops the push; the report then
/// says which dashboards were and were not pushed, and the error is returned
/// alongside it.
pub async fn push(
    client: &Client,
    dashboards: &[Desired],
    options: &PushOptions,
) -> (PushReport, Option<grafana::Error>) {
    let mut report = PushReport {
        dashboards: Vec::new(),
        error: None,
    };
    // A service error stops the push: the rest is reported as not pushed.
    let stop = |mut report: PushReport, from: usize, err: grafana::Error| {
        let why = err.to_string();
        report
            .dashboards
            .extend(not_pushed(client, &dashboards[from..]));
        report.error = Some(why);
        (report, Some(err))
    };
    if let Err(err) = client
        .ensure_folder(&options.folder.uid, &options.folder.title)
        .await
    {
        return stop(report, 0, err);
    }
    for (index, d) in dashboards.iter().enumerate() {
        let live = match client.get_dashboard(&d.uid).await {
            Ok(live) => live,
            Err(err) => return stop(report, index, err),
        };
        let action = decide(d, live.as_ref());
        let mut entry = entry_for(client, d, live.as_ref());
        let (push, result, detail) = verdict(&action, options);
        entry.detail = detail;
        let (folder, moved) = folder_for(live.as_ref(), &options.folder);
        if let Some(moved) = moved {
            entry.detail = Some(match entry.detail.take() {
                Some(detail) => format!("{detail}; {moved}"),
                None => moved,
            });
        }
        if push {
            if !backed_up(&action, live.as_ref(), options, &mut entry) {
                report.dashboards.push(entry);
                continue;
            }
            match save(client, d, live.as_ref(), folder, entry, result, options).await {
                Ok(saved) => report.dashboards.push(saved),
                Err(err) => return stop(report, index, err),
            }
            continue;
        }
        entry.result = result;
        report.dashboards.push(entry);
    }
    (report, None)
}

/// Saves one dashboard over the live version it was decided on. A 412
/// version conflict is someone else's save — unless the live dashboard is
/// exactly what onramp just sent: then Grafana stored an earlier attempt
/// whose answer was lost (a 503 after the save), and it was pushed.
async fn save(
    client: &Client,
    d: &Desired,
    live: Option<&LiveDashboard>,
    folder: Option<&str>,
    mut entry: Pushed,
    result: Change,
    options: &PushOptions,
) -> std::result::Result<Pushed, grafana::Error> {
    let mut body = restamp(&d.dashboard);
    let saved = match resource_target(client, d, live).await? {
        Some((api_version, resource_version)) => {
            client
                .save_resource(&body, &api_version, folder, resource_version.as_deref())
                .await
        }
        None => {
            if let (Some(obj), Some(live)) = (body.as_object_mut(), live) {
                obj.insert("version".to_string(), Value::from(live.version()));
            }
            let message = format!("onramp apply: need {}", d.need);
            client
                .save_dashboard(&body, folder, false, Some(&message))
                .await
        }
    };
    match saved {
        Ok(saved) => {
            entry.version = Some(saved.version);
            entry.url = client.link(&saved.url);
            entry.result = result;
        }
        Err(grafana::Error::VersionMismatch { .. } | grafana::Error::ResourceConflict { .. }) => {
            match client.get_dashboard(&d.uid).await? {
                Some(now) if is_what_was_sent(&now, &body) => {
                    entry.version = Some(now.version());
                    if let Some(url) = &now.meta.url {
                        entry.url = client.link(url);
                    }
                    entry.result = result;
                }
                _ => {
                    entry.result = Change::Refused;
                    entry.detail = Some(format!(
                        "someone saved it in Grafana while onramp was pushing (version conflict); nothing was overwritten — run apply again, or `{}`",
                        options.codify_hint
                    ));
                }
            }
        }
        Err(err) => return Err(err),
    }
    Ok(entry)
}

/// Where a save goes through the resource API: a v2 dashboard in its own
/// `apiVersion`, and a classic one over a dashboard stored as v2 (`--force`)
/// in the v1 version Grafana serves — each with the `resourceVersion` it was
/// decided on (`None`: a create). `None` for the classic API.
async fn resource_target(
    client: &Client,
    d: &Desired,
    live: Option<&LiveDashboard>,
) -> std::result::Result<Option<(String, Option<String>)>, grafana::Error> {
    let stored = live.and_then(|l| l.resource.as_ref());
    let api_version = if is_v2(&d.dashboard) {
        d.dashboard["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else if stored.is_some() {
        let server = client.server().await?;
        match server.v1() {
            Some(v1) => format!("{}/{v1}", resource::DASHBOARD_GROUP),
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let resource_version = match (stored, live) {
        (Some(info), _) => Some(info.resource_version.clone()),
        // Stored as classic: its resourceVersion in the version to write.
        (None, Some(_)) => {
            let version = resource::version_of(&api_version).unwrap_or_default();
            client.resource_version(&d.uid, version).await?
        }
        (None, None) => None,
    };
    Ok(Some((api_version, resource_version)))
}

/// Whether the live dashboard carries onramp's marker with the hash of `sent`
/// and `sent`'s content: onramp's own write, not a person's.
fn is_what_was_sent(live: &LiveDashboard, sent: &Value) -> bool {
    marker_hash(&live.dashboard).is_some()
        && marker_hash(&live.dashboard) == marker_hash(sent)
        && content(&live.dashboard) == content(sent)
}

/// The report entry of dashboard `d` before anything is done to it.
fn entry_for(client: &Client, d: &Desired, live: Option<&LiveDashboard>) -> Pushed {
    let url = live
        .and_then(|l| l.meta.url.clone())
        .map(|u| client.link(&u))
        .unwrap_or_else(|| client.link(&format!("/d/{}", d.uid)));
    Pushed {
        uid: d.uid.clone(),
        title: d.title.clone(),
        url,
        result: Change::Unchanged,
        version: live.map(LiveDashboard::version),
        detail: None,
        backup: None,
    }
}

/// Before overwriting a person's edit, saves the live copy; false (and the
/// entry says why) when it could not be saved, so nothing is overwritten.
fn backed_up(
    action: &Action,
    live: Option<&LiveDashboard>,
    options: &PushOptions,
    entry: &mut Pushed,
) -> bool {
    let (Action::HumanEdit { .. } | Action::PulledEdit { .. }, Some(live)) = (action, live) else {
        return true;
    };
    match backup(&options.backup_dir, live) {
        Ok(path) => {
            entry.backup = Some(path);
            true
        }
        Err(err) => {
            entry.result = Change::Refused;
            entry.detail = Some(format!(
                "the live copy could not be saved, so it was not overwritten: {err}"
            ));
            false
        }
    }
}

impl Action {
    /// The change pushing the dashboard makes, in every sink's vocabulary:
    /// a person's edit (or one brought into code) is refused unless `force`.
    pub fn change(&self, force: bool) -> Change {
        match self {
            Action::Create => Change::Created,
            Action::Update { .. } | Action::Unchanged { adopt: true } => Change::Updated,
            Action::Unchanged { adopt: false } => Change::Unchanged,
            Action::Provisioned => Change::Provisioned,
            Action::HumanEdit { .. } | Action::PulledEdit { .. } if force => Change::Updated,
            Action::HumanEdit { .. } | Action::PulledEdit { .. } => Change::Refused,
        }
    }
}

/// Whether to save a dashboard, the change for the report, and why when it
/// is left alone.
fn verdict(action: &Action, options: &PushOptions) -> (bool, Change, Option<String>) {
    let change = action.change(options.force);
    let push = matches!(change, Change::Created | Change::Updated);
    let why = match action {
        _ if push => None,
        Action::Provisioned => Some("owned by file provisioning (for example Grafana's dashboard sidecar); left alone — change it through its ConfigMap".to_string()),
        Action::HumanEdit {
            by,
            at,
            version,
            schema,
            ..
        } => Some(format!(
            "changed in Grafana by {by} at {at} (version {version}{}) since onramp wrote it; bring the edit into code with `{}`, or pass --force to overwrite it (the live copy is saved first)",
            v2_words(*schema),
            options.codify_hint
        )),
        Action::PulledEdit { version, .. } => Some(format!(
            "version {version} in Grafana is an edit brought into code with `codify --from-live`; push the codified files with `apply --from DIR`, or pass --force to replace it with the need's dashboard (the live copy is saved first)"
        )),
        Action::Create | Action::Update { .. } | Action::Unchanged { .. } => None,
    };
    (push, change, why)
}

/// What a refusal adds about a v2 dashboard: overwriting it with onramp's
/// classic rendering would drop its layout.
pub fn v2_words(schema: Schema) -> &'static str {
    match schema {
        Schema::V2 => {
            ", saved as a v2 dashboard: its rows, tabs and layout would be lost to a classic one"
        }
        Schema::Classic => "",
    }
}

/// The folder a dashboard is saved into (`None`: Grafana's General folder):
/// where it is in Grafana, when a person moved it out of onramp's folder —
/// apply does not move it back — with a note saying so; else onramp's folder.
fn folder_for<'a>(
    live: Option<&'a LiveDashboard>,
    ours: &'a crate::plan::GrafanaFolder,
) -> (Option<&'a str>, Option<String>) {
    let live_uid = match live {
        Some(live) => live.meta.folder_uid.as_deref().unwrap_or_default(),
        None => return (Some(&ours.uid), None),
    };
    if live_uid == ours.uid {
        return (Some(&ours.uid), None);
    }
    let title = live
        .and_then(|l| l.meta.folder_title.clone())
        .filter(|t| !live_uid.is_empty() && !t.is_empty())
        .unwrap_or_else(|| "General".to_string());
    let note = format!(
        "kept in folder {title:?}, where it was moved in Grafana (onramp's folder is {:?})",
        ours.title
    );
    ((!live_uid.is_empty()).then_some(live_uid), Some(note))
}

/// Pulls the plan's dashboards from Grafana, normalised and re-stamped, as
/// `uid → JSON text`. Dashboards not in Grafana are left out (and listed).
pub async fn pull(
    client: &Client,
    dashboards: &[Desired],
) -> std::result::Result<(Vec<(String, String)>, Vec<String>), grafana::Error> {
    // Said once at -v: which dashboard APIs Grafana serves.
    client.server().await?;
    let mut pulled = Vec::new();
    let mut missing = Vec::new();
    for d in dashboards {
        match client.get_dashboard(&d.uid).await? {
            Some(live) => {
                let mut dashboard = live.dashboard.clone();
                stamp::keep_marker_of(&mut dashboard, &d.dashboard);
                let mut restamped = restamp(&dashboard);
                // Content that differs from the need's rendering is an edit made
                // in Grafana: mark it, so neither codify nor apply replaces it silently.
                let edited = content(&restamped) != content(&d.dashboard);
                stamp::mark_pulled_edit(&mut restamped, edited);
                pulled.push((d.uid.clone(), to_json(&restamped)));
            }
            None => missing.push(d.title.clone()),
        }
    }
    Ok((pulled, missing))
}
