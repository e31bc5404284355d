//! The stand-in's Grafana 12/13 resource API for dashboards
//! (`/apis/dashboard.grafana.app/VERSION/namespaces/NS/dashboards`), modelled
//! on `pkg/registry/apis/dashboard/` and the v2 schema of
//! `apps/dashboard/pkg/apis/dashboard/v2beta1`.
//!
//! What it models: the `/apis` discovery document (`APIGroupList`); GET in
//! any served version, converting a classic dashboard to v2 on the way
//! (`status.conversion.storedVersion` says so); create (POST, 409
//! AlreadyExists) and update (PUT; a stale `metadata.resourceVersion` is
//! 409 Conflict); folders through `folder.grafana.app/v1beta1` (GET, and
//! POST with the classic folder rules, 409 AlreadyExists); errors as
//! Kubernetes `Status` objects (400 BadRequest,
//! 403 Forbidden, 404 NotFound, 409, 422 Invalid); the annotations Grafana
//! sets (`grafana.app/createdBy`, `updatedBy`, `updatedTimestamp`, the folder
//! in `grafana.app/folder`); `generation` +1 per change of the spec. And
//! [`GrafanaStandIn::ui_save_v2`], a person saving in Grafana 13's UI, which
//! stores the dashboard as v2.
//!
//! Simplifications, each a guess where the source was not conclusive:
//! `v2beta1` and `v2` share one schema here (no field differs in what onramp
//! reads); reading a v2-stored dashboard in a v1 version answers
//! `status.conversion.failed` with an empty spec; one namespace, `default`
//! (org 1); `updatedBy` names `user:LOGIN` / `service-account:NAME` where
//! Grafana names the identity's uid.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    GrafanaStandIn, Identity, Rejection, Shared, Store, StoredDashboard, now_rfc3339, respond,
    uid_chars_ok,
};

const GROUP: &str = "dashboard.grafana.app";
const FOLDER_GROUP: &str = "folder.grafana.app";
const FOLDER: &str = "grafana.app/folder";

/// A Kubernetes `Status` error, as the resource API answers.
fn status(code: u16, reason: &str, message: &str, name: Option<&str>) -> Rejection {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if let Some(name) = name {
        body["details"] = json!({"name": name, "group": GROUP, "kind": "dashboards"});
    }
    (code, body)
}

/// 403 from the resource API's authorizer.
pub(super) fn forbidden(login: &str, method: &Method, path: &str) -> Rejection {
    let verb = match *method {
        Method::POST => "create",
        Method::PUT => "update",
        Method::DELETE => "delete",
        _ => "patch",
    };
    status(
        403,
        "Forbidden",
        &format!(
            "dashboards.{GROUP} is forbidden: User \"{login}\" cannot {verb} resource \"dashboards\" in API group \"{GROUP}\" at {path}"
        ),
        None,
    )
}

fn not_found(name: &str) -> Rejection {
    status(
        404,
        "NotFound",
        &format!("dashboards.{GROUP} \"{name}\" not found"),
        Some(name),
    )
}

/// `GET /apis`: the `APIGroupList`; 404 on Grafana 11 (no resource API).
pub(super) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let state = shared.lock();
    if state.api_versions.is_empty() {
        return respond(404, json!({ "message": "Not found" }));
    }
    let versions: Vec<Value> = state
        .api_versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{GROUP}/{v}"), "version": v}))
        .collect();
    let preferred = versions
        .iter()
        .find(|v| v["version"] == "v1beta1")
        .cloned()
        .unwrap_or(Value::Null);
    let folder = json!({"groupVersion": format!("{FOLDER_GROUP}/v1beta1"), "version": "v1beta1"});
    respond(
        200,
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": GROUP, "versions": versions, "preferredVersion": preferred},
            {"name": FOLDER_GROUP, "versions": [folder], "preferredVersion": folder}
        ]}),
    )
}

/// A stored folder as a `folder.grafana.app/v1beta1` resource.
fn folder_resource(f: &super::StoredFolder) -> Value {
    let mut annotations = json!({"grafana.app/createdBy": format!("user:{}", f.created_by)});
    if let Some(parent) = &f.parent_uid {
        annotations[FOLDER] = json!(parent);
    }
    json!({
        "apiVersion": format!("{FOLDER_GROUP}/v1beta1"), "kind": "Folder",
        "metadata": {"name": f.uid, "namespace": "default", "resourceVersion": f.id.to_string(),
                     "generation": 1, "creationTimestamp": f.created, "annotations": annotations},
        "spec": {"title": f.title},
    })
}

fn folder_not_found(name: &str) -> Rejection {
    status(
        404,
        "NotFound",
        &format!("folders.{FOLDER_GROUP} \"{name}\" not found"),
        Some(name),
    )
}

/// `GET /apis/folder.grafana.app/v1beta1/namespaces/NS/folders/NAME`.
pub(super) async fn get_folder(
    State(shared): State<Arc<Shared>>,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    let state = shared.lock();
    match state.folders.get(&name) {
        Some(f) if namespace == "default" && !state.api_versions.is_empty() => {
            respond(200, folder_resource(f))
        }
        _ => {
            let (code, body) = folder_not_found(&name);
            respond(code, body)
        }
    }
}

/// `POST /apis/folder.grafana.app/v1beta1/namespaces/NS/folders`: the rules
/// of the classic `POST /api/folders`, answered as `Status` errors (409
/// AlreadyExists for a taken uid).
pub(super) async fn create_folder(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let object: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if namespace != "default" || state.api_versions.is_empty() {
        let (code, body) = folder_not_found(&name);
        return respond(code, body);
    }
    let command = json!({"uid": name, "title": object["spec"]["title"],
                         "parentUid": object["metadata"]["annotations"][FOLDER]});
    match state.create_folder(&who.login, who.role, &command) {
        Ok(_) => match state.folders.get(&name) {
            Some(f) => respond(201, folder_resource(f)),
            None => respond(500, json!({"message": "folder vanished"})),
        },
        Err((409, _)) => {
            let (code, body) = status(
                409,
                "AlreadyExists",
                &format!("folders.{FOLDER_GROUP} \"{name}\" already exists"),
                Some(&name),
            );
            respond(code, body)
        }
        Err((_, body)) => {
            let text = body["message"]
                .as_str()
                .unwrap_or("invalid folder")
                .to_owned();
            let (code, body) = status(400, "BadRequest", &text, Some(&name));
            respond(code, body)
        }
    }
}

/// The version and namespace of a request, checked: served and `default`.
fn route(state: &Store, version: &str, namespace: &str, name: &str) -> Result<(), Rejection> {
    if !state.api_versions.contains(&version) {
        return Err(status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        ));
    }
    if namespace != "default" {
        return Err(not_found(name));
    }
    Ok(())
}

/// `GET …/dashboards/NAME` in the requested version.
pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path((version, namespace, name)): Path<(String, String, String)>,
) -> Response {
    let state = shared.lock();
    let answer = route(&state, &version, &namespace, &name).and_then(|()| {
        state
            .dashboards
            .get(&name)
            .map(|d| state.resource(d, &version))
            .ok_or_else(|| not_found(&name))
    });
    match answer {
        Ok(body) => respond(200, body),
        Err((code, body)) => respond(code, body),
    }
}

/// `GET …/dashboards?limit=N&continue=TOKEN`: a `DashboardList` of the
/// org's dashboards by name, each as `GET` answers it in the requested
/// version (a v2-stored one listed in v1 carries the failed conversion);
/// with `limit`, at most that many and `metadata.continue` when more
/// remain (a Kubernetes list: the token is opaque, a bad one is 400; no
/// `limit`, or 0, is everything).
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Path((version, namespace)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let state = shared.lock();
    match list_page(&state, &version, &namespace, query.as_deref()) {
        Ok(body) => respond(200, body),
        Err((code, body)) => respond(code, body),
    }
}

/// The token of the page starting at dashboard `offset`.
fn continue_token(offset: usize) -> String {
    format!("c{offset:08x}")
}

fn list_page(
    state: &Store,
    version: &str,
    namespace: &str,
    query: Option<&str>,
) -> Result<Value, Rejection> {
    route(state, version, namespace, "")?;
    let pairs = super::query_pairs(query);
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit") {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| {
            status(
                400,
                "BadRequest",
                &format!("limit: Invalid value: \"{text}\": must be a non-negative integer"),
                None,
            )
        })?,
    };
    let offset = match get("continue") {
        None => 0,
        Some(token) => token
            .strip_prefix('c')
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .filter(|o| continue_token(*o) == token)
            .ok_or_else(|| {
                status(
                    400,
                    "BadRequest",
                    "continue key is not valid: invalid continue token",
                    None,
                )
            })?,
    };
    let all: Vec<&StoredDashboard> = state.dashboards.values().collect();
    let end = if limit == 0 {
        all.len()
    } else {
        (offset + limit).min(all.len())
    };
    let items: Vec<Value> = all
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|d| state.resource(d, version))
        .collect();
    let mut metadata = json!({"resourceVersion": state.next_resource_version.to_string()});
    if end < all.len() {
        metadata["continue"] = json!(continue_token(end));
    }
    Ok(json!({
        "kind": "DashboardList",
        "apiVersion": format!("{GROUP}/{version}"),
        "metadata": metadata,
        "items": items,
    }))
}

/// `POST …/dashboards`: create; 409 AlreadyExists when the name is taken.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    Path((version, namespace)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    let answer = state.write(&who, &version, &namespace, None, &body);
    match answer {
        Ok(body) => respond(201, body),
        Err((code, body)) => respond(code, body),
    }
}

/// `PUT …/dashboards/NAME`: update; 409 Conflict on a stale resourceVersion.
pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    Path((version, namespace, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let mut state = shared.lock();
    match state.write(&who, &version, &namespace, Some(&name), &body) {
        Ok(body) => respond(200, body),
        Err((code, body)) => respond(code, body),
    }
}

impl Store {
    /// See [`GrafanaStandIn::ui_save_v2`].
    fn person_saves(
        &mut self,
        user: &str,
        uid: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Result<i64, String> {
        let version = self
            .ui_v2
            .ok_or_else(|| format!("Grafana {} does not save v2 dashboards", self.version))?;
        let existing = self
            .dashboards
            .get(uid)
            .cloned()
            .ok_or_else(|| format!("404 Dashboard not found: {uid}"))?;
        let mut spec = match existing.stored_v2 {
            Some(_) => existing.json.clone(),
            None => classic_to_v2(&existing.json),
        };
        edit(&mut spec);
        let title = spec["title"].as_str().unwrap_or_default().to_owned();
        let who = Identity {
            login: user.to_owned(),
            role: super::Role::Editor,
            anonymous: false,
        };
        let folder = existing.folder_uid.clone();
        let annotations = existing.annotations.clone();
        let stored = self.store(
            &who,
            uid,
            &title,
            &spec,
            Some(version.to_owned()),
            folder.as_deref(),
            annotations,
            Some(existing),
        );
        Ok(stored.version)
    }

    /// Who saved, as Grafana's annotations name identities.
    fn identity_ref(&self, login: &str) -> String {
        if self.tokens.values().any(|(name, _)| name == login) {
            format!("service-account:{login}")
        } else {
            format!("user:{login}")
        }
    }

    /// A stored dashboard as a resource of `version`.
    fn resource(&self, d: &StoredDashboard, version: &str) -> Value {
        let mut annotations = d.annotations.clone();
        annotations.insert(
            "grafana.app/createdBy".into(),
            json!(self.identity_ref(&d.created_by)),
        );
        annotations.insert(
            "grafana.app/updatedBy".into(),
            json!(self.identity_ref(&d.updated_by)),
        );
        annotations.insert("grafana.app/updatedTimestamp".into(), json!(d.updated));
        if let Some(folder) = &d.folder_uid {
            annotations.insert(FOLDER.into(), json!(folder));
        }
        let wants_v2 = version.starts_with("v2");
        let (spec, conversion) = match (&d.stored_v2, wants_v2) {
            (Some(_), true) => (d.json.clone(), None),
            (None, false) => (classic_spec(&d.json), None),
            (None, true) => (
                classic_to_v2(&d.json),
                Some(json!({"failed": false, "storedVersion": "v1beta1"})),
            ),
            (Some(stored), false) => (
                json!({}),
                Some(json!({"failed": true, "storedVersion": stored,
                             "error": format!("conversion from {stored} to {version} is not supported")})),
            ),
        };
        let mut body = json!({
            "apiVersion": format!("{GROUP}/{version}"), "kind": "Dashboard",
            "metadata": {
                "name": d.uid, "namespace": "default",
                "uid": format!("{:x}", d.id * 7919 + 104_729),
                "resourceVersion": d.resource_version.to_string(),
                "generation": d.version, "creationTimestamp": d.created,
                "labels": {"grafana.app/deprecatedInternalID": d.id.to_string()},
                "annotations": annotations,
            },
            "spec": spec,
        });
        if let Some(conversion) = conversion {
            body["status"] = json!({ "conversion": conversion });
        }
        body
    }

    /// Create (`name` `None`) or update through the resource API.
    fn write(
        &mut self,
        who: &Identity,
        version: &str,
        namespace: &str,
        name: Option<&str>,
        body: &[u8],
    ) -> Result<Value, Rejection> {
        let url_name = name.unwrap_or_default();
        route(self, version, namespace, url_name)?;
        if let Some((user, uid, title)) = self.save_first.take() {
            let _ = self.person_saves(&user, &uid, |spec| spec["title"] = json!(title));
        }
        let Ok(object @ Value::Object(_)) = serde_json::from_slice::<Value>(body) else {
            return Err(status(
                400,
                "BadRequest",
                "the body of the request was in an unknown format",
                None,
            ));
        };
        let expected = format!("{GROUP}/{version}");
        if object["kind"] != "Dashboard" || object["apiVersion"] != expected.as_str() {
            return Err(status(
                400,
                "BadRequest",
                &format!(
                    "the API version in the data ({}) does not match the expected API version ({expected})",
                    object["apiVersion"].as_str().unwrap_or_default()
                ),
                None,
            ));
        }
        let metadata = &object["metadata"];
        let uid = metadata["name"].as_str().unwrap_or_default().to_owned();
        if name.is_some_and(|n| n != uid) {
            return Err(status(
                400,
                "BadRequest",
                &format!(
                    "the name of the object ({uid}) does not match the name on the URL ({url_name})"
                ),
                None,
            ));
        }
        if uid.is_empty() {
            return Err(status(
                422,
                "Invalid",
                &format!(
                    "Dashboard.{GROUP} \"\" is invalid: metadata.name: Required value: name or generateName is required"
                ),
                None,
            ));
        }
        if !uid_chars_ok(&uid) || uid.chars().count() > 40 {
            return Err(status(
                422,
                "Invalid",
                &format!("Dashboard.{GROUP} \"{uid}\" is invalid: metadata.name: Invalid value"),
                Some(&uid),
            ));
        }
        let title = object["spec"]["title"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if title.is_empty() {
            return Err(status(
                422,
                "Invalid",
                &format!(
                    "Dashboard.{GROUP} \"{uid}\" is invalid: spec.title: Required value: dashboard title cannot be empty"
                ),
                Some(&uid),
            ));
        }
        let existing = self.dashboards.get(&uid).cloned();
        match (&existing, name) {
            (Some(_), None) => {
                return Err(status(
                    409,
                    "AlreadyExists",
                    &format!("dashboards.{GROUP} \"{uid}\" already exists"),
                    Some(&uid),
                ));
            }
            (None, Some(_)) => return Err(not_found(&uid)),
            _ => {}
        }
        if let (Some(d), Some(rv)) = (&existing, metadata["resourceVersion"].as_str())
            && rv != d.resource_version.to_string()
        {
            return Err(status(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on dashboards.{GROUP} \"{uid}\": the object has been modified; please apply your changes to the latest version and try again"
                ),
                Some(&uid),
            ));
        }
        let folder = metadata["annotations"][FOLDER]
            .as_str()
            .filter(|f| !f.is_empty());
        if let Some(f) = folder
            && !self.folders.contains_key(f)
        {
            return Err(status(400, "BadRequest", "folder not found", Some(&uid)));
        }
        let annotations: Map<String, Value> = metadata["annotations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !k.starts_with("grafana.app/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let v2 = version.starts_with("v2").then(|| version.to_owned());
        let stored = self.store(
            who,
            &uid,
            &title,
            &object["spec"],
            v2,
            folder,
            annotations,
            existing,
        );
        Ok(self.resource(&stored, version))
    }

    /// Stores a write: the spec as sent (a classic one with its uid, id and
    /// version, like the classic API stores it), a new resourceVersion, and
    /// generation +1 when the spec or folder changed.
    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        who: &Identity,
        uid: &str,
        title: &str,
        spec: &Value,
        stored_v2: Option<String>,
        folder: Option<&str>,
        annotations: Map<String, Value>,
        existing: Option<StoredDashboard>,
    ) -> StoredDashboard {
        let now = now_rfc3339();
        let resource_version = self.take_resource_version();
        let id = existing.as_ref().map_or_else(|| self.take_id(), |d| d.id);
        let mut json = spec.clone();
        let previous = existing.as_ref().map(|d| match d.stored_v2 {
            Some(_) => d.json.clone(),
            None => classic_spec(&d.json),
        });
        let changed = previous.as_ref() != Some(spec)
            || existing.as_ref().map(|d| d.folder_uid.as_deref()) != Some(folder)
            || existing.as_ref().map(|d| d.stored_v2.clone()) != Some(stored_v2.clone());
        let version = match &existing {
            Some(d) if changed => d.version + 1,
            Some(d) => d.version,
            None => 1,
        };
        if stored_v2.is_none() {
            json["id"] = json!(id);
            json["uid"] = json!(uid);
            json["version"] = json!(version);
        }
        let stored = StoredDashboard {
            id,
            uid: uid.to_owned(),
            title: title.to_owned(),
            json,
            folder_uid: folder.map(str::to_owned),
            version,
            created: existing.as_ref().map_or(now.clone(), |d| d.created.clone()),
            updated: now,
            created_by: existing
                .as_ref()
                .map_or(who.login.clone(), |d| d.created_by.clone()),
            updated_by: who.login.clone(),
            provisioned: None,
            plugin_id: None,
            stored_v2,
            annotations,
            resource_version,
        };
        self.dashboards.insert(uid.to_owned(), stored.clone());
        stored
    }
}

impl GrafanaStandIn {
    /// A person saving dashboard `uid` in the UI of a Grafana that saves v2
    /// (Grafana 13, or 12 with dynamic dashboards): the UI loads it (a
    /// classic one converted to v2, as the frontend's serializer does), `edit`
    /// changes its v2 spec, and it is stored as v2 by `user`, keeping the
    /// annotations it had. Returns the new generation, or why it could not.
    pub fn ui_save_v2(
        &self,
        user: &str,
        uid: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Result<i64, String> {
        self.shared.lock().person_saves(user, uid, edit)
    }

    /// Makes a person save dashboard `uid` in the UI (as
    /// [`GrafanaStandIn::ui_save_v2`], renaming it `title`) just before the
    /// next write through the resource API — someone saving while onramp
    /// pushes.
    pub fn ui_save_v2_before_next_write(&self, user: &str, uid: &str, title: &str) {
        self.shared.lock().save_first = Some((user.to_owned(), uid.to_owned(), title.to_owned()));
    }

    /// The version dashboard `uid` is stored in: `v1beta1` (classic) or its v2 version.
    pub fn stored_version(&self, uid: &str) -> Option<String> {
        self.shared
            .lock()
            .dashboards
            .get(uid)
            .map(|d| d.stored_v2.clone().unwrap_or_else(|| "v1beta1".to_owned()))
    }

    /// Dashboard `uid` as the resource API answers in `version`.
    pub fn resource(&self, uid: &str, version: &str) -> Option<Value> {
        let state = self.shared.lock();
        state
            .dashboards
            .get(uid)
            .map(|d| state.resource(d, version))
    }
}

/// The spec of a classic dashboard as a v1 resource: without the keys the
/// metadata holds (`uid`, `id`, `version`).
fn classic_spec(dashboard: &Value) -> Value {
    let mut spec = dashboard.clone();
    if let Some(spec) = spec.as_object_mut() {
        for key in ["id", "uid", "version"] {
            spec.remove(key);
        }
    }
    spec
}

/// A classic dashboard in the v2 schema (v2beta1): panels become
/// `elements` (`panel-ID`), targets `PanelQuery`s of `DataQuery` kind, the
/// grid a `GridLayout` — or a `RowsLayout` when the dashboard has rows —
/// variables `…Variable` kinds, time settings `timeSettings`. Keys the v2
/// schema has no place for (onramp's marker among them) are dropped, as
/// Grafana's conversion drops them.
pub fn classic_to_v2(d: &Value) -> Value {
    let mut elements = Map::new();
    let mut rows: Vec<(Value, Vec<Value>)> = vec![(Value::Null, Vec::new())];
    let mut add = |panel: &Value, rows: &mut Vec<(Value, Vec<Value>)>| {
        let name = format!("panel-{}", panel["id"].as_i64().unwrap_or_default());
        elements.insert(name.clone(), element(panel));
        let g = &panel["gridPos"];
        let item = json!({"kind": "GridLayoutItem", "spec": {
            "x": g["x"], "y": g["y"], "width": g["w"], "height": g["h"],
            "element": {"kind": "ElementReference", "name": name}}});
        if let Some(last) = rows.last_mut() {
            last.1.push(item);
        }
    };
    for panel in d["panels"].as_array().into_iter().flatten() {
        if panel["type"] == "row" {
            rows.push((panel.clone(), Vec::new()));
            for child in panel["panels"].as_array().into_iter().flatten() {
                add(child, &mut rows);
            }
        } else {
            add(panel, &mut rows);
        }
    }
    let grid = |items: Vec<Value>| json!({"kind": "GridLayout", "spec": {"items": items}});
    let layout = if rows.len() == 1 {
        grid(rows.pop().map(|r| r.1).unwrap_or_default())
    } else {
        let rows: Vec<Value> = rows
            .into_iter()
            .filter(|(row, items)| !row.is_null() || !items.is_empty())
            .map(|(row, items)| {
                json!({"kind": "RowsLayoutRow", "spec": {
                "title": row["title"].as_str().unwrap_or_default(),
                "collapse": row["collapsed"].as_bool().unwrap_or(false),
                "layout": grid(items)}})
            })
            .collect();
        json!({"kind": "RowsLayout", "spec": {"rows": rows}})
    };
    let cursor = match d["graphTooltip"].as_i64() {
        Some(1) => "Crosshair",
        Some(2) => "Tooltip",
        _ => "Off",
    };
    json!({
        "title": d["title"], "description": d["description"].as_str().unwrap_or_default(),
        "tags": d["tags"].as_array().cloned().unwrap_or_default(),
        "editable": d["editable"].as_bool().unwrap_or(true),
        "cursorSync": cursor, "liveNow": false, "preload": false,
        "links": d["links"].as_array().cloned().unwrap_or_default(),
        "timeSettings": {
            "from": d["time"]["from"].as_str().unwrap_or("now-6h"),
            "to": d["time"]["to"].as_str().unwrap_or("now"),
            "timezone": d["timezone"].as_str().unwrap_or("browser"),
            "autoRefresh": d["refresh"].as_str().unwrap_or_default(),
            "autoRefreshIntervals": ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"],
            "hideTimepicker": false, "fiscalYearStartMonth": 0,
        },
        "annotations": d["annotations"]["list"].as_array().into_iter().flatten().map(|a| json!({
            "kind": "AnnotationQuery", "spec": {
                "name": a["name"].as_str().unwrap_or("Annotations & Alerts"),
                "builtIn": a["builtIn"].as_i64() == Some(1),
                "enable": a["enable"].as_bool().unwrap_or(true),
                "hide": a["hide"].as_bool().unwrap_or(false),
                "iconColor": a["iconColor"].as_str().unwrap_or("rgba(0, 211, 255, 1)"),
                "query": {"kind": "DataQuery", "group": a["datasource"]["type"].as_str().unwrap_or("grafana"),
                          "version": "v0", "datasource": {"name": a["datasource"]["uid"]}, "spec": {}},
            }})).collect::<Vec<_>>(),
        "variables": d["templating"]["list"].as_array().into_iter().flatten().map(variable).collect::<Vec<_>>(),
        "elements": elements,
        "layout": layout,
    })
}

/// One classic panel as a v2 `Panel` element.
fn element(panel: &Value) -> Value {
    let queries: Vec<Value> = panel["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let mut spec = t.clone();
            if let Some(spec) = spec.as_object_mut() {
                for key in ["refId", "datasource", "hide"] {
                    spec.remove(key);
                }
            }
            let ds = if t["datasource"].is_object() {
                &t["datasource"]
            } else {
                &panel["datasource"]
            };
            json!({"kind": "PanelQuery", "spec": {
                "refId": t["refId"], "hidden": t["hide"].as_bool().unwrap_or(false),
                "query": {"kind": "DataQuery", "group": ds["type"].as_str().unwrap_or("prometheus"),
                          "version": "v0", "datasource": {"name": ds["uid"]}, "spec": spec}}})
        })
        .collect();
    json!({"kind": "Panel", "spec": {
        "id": panel["id"], "title": panel["title"].as_str().unwrap_or_default(),
        "description": panel["description"].as_str().unwrap_or_default(),
        "links": panel["links"].as_array().cloned().unwrap_or_default(),
        "data": {"kind": "QueryGroup", "spec": {
            "queries": queries,
            "transformations": panel["transformations"].as_array().cloned().unwrap_or_default(),
            "queryOptions": {}}},
        "vizConfig": {"kind": "VizConfig", "group": panel["type"], "version": super::VERSION_13,
            "spec": {"options": panel.get("options").cloned().unwrap_or(json!({})),
                     "fieldConfig": panel.get("fieldConfig").cloned().unwrap_or(json!({"defaults": {}, "overrides": []}))}},
    }})
}

/// One classic template variable as a v2 variable kind.
fn variable(v: &Value) -> Value {
    let name = v["name"].as_str().unwrap_or_default();
    match v["type"].as_str().unwrap_or_default() {
        "datasource" => json!({"kind": "DatasourceVariable", "spec": {
            "name": name, "pluginId": v["query"].as_str().unwrap_or("prometheus"),
            "refresh": "onDashboardLoad", "regex": "", "multi": false, "includeAll": false,
            "current": {"text": "", "value": ""}, "options": [], "hide": "dontHide", "skipUrlSync": false}}),
        "query" => json!({"kind": "QueryVariable", "spec": {
            "name": name, "definition": v["definition"].as_str().or(v["query"].as_str()).unwrap_or_default(),
            "refresh": "onTimeRangeChanged", "regex": "", "sort": "disabled", "multi": false, "includeAll": false,
            "current": {"text": "", "value": ""}, "options": [], "hide": "dontHide", "skipUrlSync": false,
            "query": {"kind": "DataQuery", "group": v["datasource"]["type"].as_str().unwrap_or("prometheus"),
                      "version": "v0", "datasource": {"name": v["datasource"]["uid"]},
                      "spec": {"query": v["query"].as_str().unwrap_or_default(), "refId": "PrometheusVariableQueryEditor-VariableQuery"}}}}),
        other => json!({"kind": "CustomVariable", "spec": {
            "name": name, "query": v["query"].as_str().unwrap_or_default(), "current": {"text": "", "value": ""},
            "options": [], "multi": false, "includeAll": false, "hide": "dontHide", "skipUrlSync": false,
            "description": format!("converted from a classic {other} variable")}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_classic_dashboard_with_a_row_becomes_elements_and_a_rows_layout() {
        let classic = json!({"uid": "u", "title": "T", "onramp": {"hash": "h"}, "panels": [
            {"id": 1, "type": "timeseries", "title": "Rate", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
             "datasource": {"type": "prometheus", "uid": "prom"}, "targets": [{"refId": "A", "expr": "up"}]},
            {"id": 2, "type": "row", "title": "More", "collapsed": true, "gridPos": {"x": 0, "y": 8, "w": 24, "h": 1},
             "panels": [{"id": 3, "type": "stat", "title": "Errors", "gridPos": {"x": 0, "y": 9, "w": 6, "h": 4}}]}
        ]});
        let v2 = classic_to_v2(&classic);
        assert_eq!(v2.get("onramp"), None);
        assert_eq!(
            v2["elements"]["panel-1"]["spec"]["data"]["spec"]["queries"][0]["spec"]["query"]["spec"]
                ["expr"],
            "up"
        );
        assert_eq!(v2["layout"]["kind"], "RowsLayout");
        assert_eq!(v2["layout"]["spec"]["rows"][1]["spec"]["title"], "More");
        assert_eq!(
            v2["layout"]["spec"]["rows"][1]["spec"]["layout"]["spec"]["items"][0]["spec"]["element"]
                ["name"],
            "panel-3"
        );
    }
}
