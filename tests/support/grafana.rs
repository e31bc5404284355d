//! A strict Grafana stand-in: an in-process HTTP server implementing the
//! endpoints of `reference/grafana-http-api.md` the way Grafana 11.3+ does.
//!
//! Owns: the HTTP surface (health, dashboards, search, folders, datasources),
//! auth (tokens, basic-auth users, anonymous access), the save rules of
//! contract §1.2 in order, `meta` as in §1.3, and a Rust test-control API
//! (inspect state, provision dashboards, edit as a person would, inject
//! faults, read the request log). Does not own any onramp logic: tests drive
//! onramp against it and assert on what a user would see.
//!
//! Strict means it rejects what Grafana rejects. Simplifications, each one
//! documented where it lives: one org (id 1), no permissions beyond the three
//! basic roles, no dashboard version history, no stars.
//!
//! The server runs on its own thread and tokio runtime, so sync and async
//! tests can both use it; it stops on drop. Dashboards are stored verbatim
//! (unknown keys survive), like Grafana stores them.
//!
//! By default it is Grafana 11.3 (classic API only: `/apis` is 404).
//! [`Builder::grafana_13`] and [`Builder::grafana_12`] add Grafana 12/13's
//! resource API for dashboards ([`resource`]): discovery, v1 and v2
//! schemas, the 406 of the classic API on a v2 dashboard, `resourceVersion`
//! and 409, the folder annotation, and a UI save that stores v2.

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

mod resource;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::IntoFuture;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Token of the default Editor service account, named [`EDITOR_NAME`].
pub const EDITOR_TOKEN: &str = "glsa_standin_editor_0123456789abcdef";
/// Name of the default Editor service account (what `meta.updatedBy` shows).
pub const EDITOR_NAME: &str = "sa-onramp";
/// Token of the default read-only (Viewer) service account.
pub const VIEWER_TOKEN: &str = "glsa_standin_viewer_0123456789abcdef";
/// Name of the default Viewer service account.
pub const VIEWER_NAME: &str = "sa-readonly";
/// Login of the default Admin user (basic auth).
pub const ADMIN_USER: &str = "admin";
/// Password of the default Admin user.
pub const ADMIN_PASSWORD: &str = "admin-standin-password";
/// The Grafana version the stand-in reports by default.
pub const VERSION: &str = "11.3.0";
/// The version [`Builder::grafana_13`] reports.
pub const VERSION_13: &str = "13.0.1";
/// The version [`Builder::grafana_12`] reports.
pub const VERSION_12: &str = "12.3.1";

/// Grafana's basic roles, in increasing power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads everything, writes nothing.
    Viewer,
    /// Saves and deletes dashboards and folders.
    Editor,
    /// Also manages datasources.
    Admin,
}

/// How a logged request authenticated (never the credential itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer …`.
    Bearer,
    /// `Authorization: Basic …`.
    Basic,
    /// Some other scheme.
    Other,
}

/// One request the stand-in received. Holds no secret, so it is safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, e.g. `/api/dashboards/db`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// How it authenticated.
    pub auth: AuthKind,
    /// The `X-Grafana-Org-Id` header, if sent.
    pub org_id: Option<String>,
    /// Who it ran as (login or service-account name), when authenticated.
    pub identity: Option<String>,
    /// The status answered; 0 while the request is still being handled.
    pub status: u16,
}

impl LoggedRequest {
    /// Whether the request carried credentials.
    pub fn had_auth(&self) -> bool {
        self.auth != AuthKind::None
    }
}

impl fmt::Display for LoggedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        write!(f, " [auth {:?}", self.auth)?;
        if let Some(who) = &self.identity {
            write!(f, " as {who}")?;
        }
        write!(f, "] -> {}", self.status)
    }
}

/// Configures a stand-in before it starts. Defaults: tokens [`EDITOR_TOKEN`]
/// (Editor) and [`VIEWER_TOKEN`] (Viewer), user [`ADMIN_USER`] (Admin), one
/// Prometheus datasource named `Prometheus` with uid `prometheus` that is
/// the default, anonymous access off.
#[derive(Debug, Clone)]
pub struct Builder {
    tokens: HashMap<String, (String, Role)>,
    users: HashMap<String, (String, Role)>,
    datasources: Vec<(String, String, String, bool)>,
    anonymous: bool,
    unique_titles: bool,
    version: &'static str,
    api_versions: Vec<&'static str>,
    ui_v2: Option<&'static str>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            tokens: HashMap::from([
                (
                    EDITOR_TOKEN.to_owned(),
                    (EDITOR_NAME.to_owned(), Role::Editor),
                ),
                (
                    VIEWER_TOKEN.to_owned(),
                    (VIEWER_NAME.to_owned(), Role::Viewer),
                ),
            ]),
            users: HashMap::from([(
                ADMIN_USER.to_owned(),
                (ADMIN_PASSWORD.to_owned(), Role::Admin),
            )]),
            datasources: vec![(
                "Prometheus".into(),
                "prometheus".into(),
                "prometheus".into(),
                true,
            )],
            anonymous: false,
            unique_titles: false,
            version: VERSION,
            api_versions: Vec::new(),
            ui_v2: None,
        }
    }
}

impl Builder {
    /// Adds a service-account token: `token` authenticates as `name` with `role`.
    pub fn token(mut self, token: &str, name: &str, role: Role) -> Self {
        self.tokens
            .insert(token.to_owned(), (name.to_owned(), role));
        self
    }

    /// Adds a basic-auth user.
    pub fn user(mut self, login: &str, password: &str, role: Role) -> Self {
        self.users
            .insert(login.to_owned(), (password.to_owned(), role));
        self
    }

    /// Removes every datasource (including the default Prometheus one).
    pub fn no_datasources(mut self) -> Self {
        self.datasources.clear();
        self
    }

    /// Adds a datasource of type `kind` (`prometheus`, `loki`, …).
    pub fn datasource(mut self, name: &str, kind: &str, uid: &str, is_default: bool) -> Self {
        self.datasources
            .push((name.to_owned(), kind.to_owned(), uid.to_owned(), is_default));
        self
    }

    /// Turns anonymous access (as Viewer) on or off.
    pub fn anonymous(mut self, on: bool) -> Self {
        self.anonymous = on;
        self
    }

    /// Behaves like Grafana 13: serves the resource API's dashboard versions
    /// `v0alpha1`, `v1beta1`, `v2beta1` and `v2`, and its UI (dynamic
    /// dashboards, on by default) saves every edit as `v2`.
    pub fn grafana_13(mut self) -> Self {
        self.version = VERSION_13;
        self.api_versions = vec!["v0alpha1", "v1beta1", "v2beta1", "v2"];
        self.ui_v2 = Some("v2");
        self
    }

    /// Behaves like Grafana 12.3: serves `v0alpha1`, `v1beta1`, `v2alpha1`
    /// and `v2beta1`; with `dashboardNewLayouts` on, the UI saves `v2beta1`.
    pub fn grafana_12(mut self) -> Self {
        self.version = VERSION_12;
        self.api_versions = vec!["v0alpha1", "v1beta1", "v2alpha1", "v2beta1"];
        self.ui_v2 = Some("v2beta1");
        self
    }

    /// Behaves like Grafana 11.2 and older: titles are unique per folder
    /// (412 `name-exists`).
    pub fn unique_titles(mut self, on: bool) -> Self {
        self.unique_titles = on;
        self
    }

    /// Starts the server on `127.0.0.1` and a free port.
    pub fn start(self) -> GrafanaStandIn {
        let mut state = Store {
            tokens: self.tokens,
            users: self.users,
            anonymous: self.anonymous,
            unique_titles: self.unique_titles,
            version: self.version,
            api_versions: self.api_versions,
            ui_v2: self.ui_v2,
            next_resource_version: 1_765_000_000_000,
            next_id: 1,
            next_datasource_id: 1,
            generated: 0,
            ..Store::default()
        };
        for (name, kind, uid, is_default) in self.datasources {
            state.add_datasource(&json!({
                "name": name, "type": kind, "uid": uid, "isDefault": is_default,
                "url": format!("http://{kind}.example:9090"), "access": "proxy",
            }));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
        });
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind the Grafana stand-in to a loopback port");
        let addr = listener
            .local_addr()
            .expect("the stand-in's listener has an address");
        let server =
            Server::spawn(listener, Arc::clone(&shared)).expect("start the Grafana stand-in");
        GrafanaStandIn {
            shared,
            addr,
            server: Mutex::new(Some(server)),
        }
    }
}

/// The running stand-in. Stops on drop.
#[derive(Debug)]
pub struct GrafanaStandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Mutex<Option<Server>>,
}

impl GrafanaStandIn {
    /// A stand-in with the defaults of [`Builder`].
    pub fn start() -> Self {
        Builder::default().start()
    }

    /// A builder to configure tokens, users, datasources, anonymous access.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The stored JSON of dashboard `uid` (with `id`, `uid`, `version`).
    pub fn dashboard(&self, uid: &str) -> Option<Value> {
        self.shared
            .lock()
            .dashboards
            .get(uid)
            .map(|d| d.json.clone())
    }

    /// The stored version of dashboard `uid`.
    pub fn version(&self, uid: &str) -> Option<i64> {
        self.shared.lock().dashboards.get(uid).map(|d| d.version)
    }

    /// The `meta` an Admin would get for dashboard `uid`.
    pub fn meta(&self, uid: &str) -> Option<Value> {
        let state = self.shared.lock();
        state
            .dashboards
            .get(uid)
            .map(|d| state.meta(d, Role::Admin, false))
    }

    /// How many dashboards exist.
    pub fn dashboard_count(&self) -> usize {
        self.shared.lock().dashboards.len()
    }

    /// The title of folder `uid`, if it exists.
    pub fn folder_title(&self, uid: &str) -> Option<String> {
        self.shared.lock().folders.get(uid).map(|f| f.title.clone())
    }

    /// Stores `dashboard` as a provisioned dashboard (provider with
    /// `allowUiUpdates: false`), at the root, whatever its version — like a
    /// changed provisioning file. Returns its uid. Panics on a dashboard
    /// without `uid` or `title`: that is a mistake in the test.
    pub fn provision(&self, dashboard: Value) -> String {
        self.install(dashboard, Owner::Provisioning)
    }

    /// Stores `dashboard` as owned by plugin `plugin_id` (saving it without
    /// overwrite then answers 412 `plugin-dashboard`). Returns its uid.
    pub fn install_plugin_dashboard(&self, dashboard: Value, plugin_id: &str) -> String {
        self.install(dashboard, Owner::Plugin(plugin_id.to_owned()))
    }

    fn install(&self, mut dashboard: Value, owner: Owner) -> String {
        let uid = dashboard["uid"]
            .as_str()
            .expect("a dashboard to install needs a uid")
            .to_owned();
        let title = dashboard["title"]
            .as_str()
            .expect("a dashboard to install needs a title")
            .to_owned();
        let mut state = self.shared.lock();
        let now = now_rfc3339();
        let (id, version, created, created_by) = match state.dashboards.get(&uid) {
            Some(d) => (d.id, d.version + 1, d.created.clone(), d.created_by.clone()),
            None => (state.take_id(), 1, now.clone(), "Anonymous".to_owned()),
        };
        dashboard["id"] = json!(id);
        dashboard["version"] = json!(version);
        let resource_version = state.take_resource_version();
        let (provisioned, plugin_id) = match owner {
            Owner::Provisioning => (Some(format!("{uid}.json")), None),
            Owner::Plugin(p) => (None, Some(p)),
        };
        state.dashboards.insert(
            uid.clone(),
            StoredDashboard {
                id,
                uid: uid.clone(),
                title: title.trim().to_owned(),
                json: dashboard,
                folder_uid: None,
                version,
                created,
                updated: now,
                created_by,
                updated_by: "Anonymous".to_owned(),
                provisioned,
                plugin_id,
                stored_v2: None,
                annotations: serde_json::Map::new(),
                resource_version,
            },
        );
        uid
    }

    /// Saves `dashboard` as `POST /api/dashboards/db` with overwrite does
    /// (at the root), as `login`: a dashboard another run of onramp
    /// pushed. Returns its version.
    pub fn save_as(&self, login: &str, dashboard: Value) -> i64 {
        let command = json!({ "dashboard": dashboard, "overwrite": true });
        let answer = self
            .shared
            .lock()
            .save(login, &command)
            .unwrap_or_else(|(status, body)| panic!("save: {status} {body}"));
        answer["version"].as_i64().unwrap_or_default()
    }

    /// Edits dashboard `uid` exactly as a person saving in the UI would: the
    /// UI sends the dashboard it loaded (current version, same folder) with
    /// the defaults it fills in ([`ui_save_model`]) after `edit` changed it,
    /// without overwrite, as `user`. Returns the new
    /// version, or Grafana's refusal as `"<status> <message>"`.
    pub fn edit_as(
        &self,
        user: &str,
        uid: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Result<i64, String> {
        let mut state = self.shared.lock();
        let stored = state
            .dashboards
            .get(uid)
            .ok_or_else(|| format!("404 Dashboard not found: {uid}"))?;
        let mut dashboard = stored.json.clone();
        let folder = stored.folder_uid.clone().unwrap_or_default();
        ui_save_model(&mut dashboard);
        edit(&mut dashboard);
        let command = json!({ "dashboard": dashboard, "folderUid": folder, "overwrite": false, "message": "" });
        match state.save(user, &command) {
            Ok(answer) => Ok(answer["version"].as_i64().unwrap_or_default()),
            Err((status, body)) => Err(format!(
                "{status} {}",
                body["message"].as_str().unwrap_or_default()
            )),
        }
    }

    /// Moves dashboard `uid` into a new folder titled `folder_title`, as a
    /// person would in the UI (create the folder, save the dashboard there),
    /// as `user`. Returns the new folder's uid.
    pub fn move_as(&self, user: &str, uid: &str, folder_title: &str) -> Result<String, String> {
        let mut state = self.shared.lock();
        let reject = |(status, body): Rejection| {
            format!("{status} {}", body["message"].as_str().unwrap_or_default())
        };
        let folder = state
            .create_folder(user, Role::Editor, &json!({ "title": folder_title }))
            .map_err(reject)?;
        let folder_uid = folder["uid"].as_str().unwrap_or_default().to_owned();
        let stored = state
            .dashboards
            .get(uid)
            .ok_or_else(|| format!("404 Dashboard not found: {uid}"))?;
        let command = json!({ "dashboard": stored.json.clone(), "folderUid": folder_uid, "overwrite": false, "message": "" });
        state.save(user, &command).map_err(reject)?;
        Ok(folder_uid)
    }

    /// Answers the next `n` requests (any endpoint) with `status` and a
    /// Grafana-style error body, before auth — like a failing proxy or a
    /// crashing Grafana.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.lock().faults = Some((n, Fault::Status(status), Target::default()));
    }

    /// Answers the next `n` requests of `method` (any method when `None`)
    /// with `status` and the request quoted back — its headers, credentials
    /// first after `pad` filler characters, then its body — as a proxy's text
    /// page, or as Grafana's JSON error `{"message": …}` when `envelope`.
    pub fn echo_next(&self, n: u32, status: u16, envelope: bool, pad: usize, method: Option<&str>) {
        let method = method.map(|m| Method::from_bytes(m.as_bytes()).expect("a method"));
        self.shared.lock().faults = Some((
            n,
            Fault::Echo {
                status,
                envelope,
                pad,
            },
            Target { method, path: None },
        ));
    }

    /// Lets the next `n` dashboard saves (`POST /api/dashboards/db`, retries
    /// included) be stored, then answers `status` instead of the result: the
    /// answer is lost after Grafana acted, as when a proxy fails on the way back.
    pub fn store_then_fail_next_save(&self, n: u32, status: u16) {
        let target = Target {
            method: Some(Method::POST),
            path: Some("/api/dashboards/db"),
        };
        self.shared.lock().faults = Some((n, Fault::StoreThenFail(status), target));
    }

    /// Answers the next `GET /apis` (the discovery document) with `status`,
    /// as a proxy in front of Grafana that does not pass `/apis` would.
    pub fn fail_discovery(&self, status: u16) {
        let target = Target {
            method: Some(Method::GET),
            path: Some("/apis"),
        };
        self.shared.lock().faults = Some((1, Fault::Status(status), target));
    }

    /// Delays every following request by `delay` (zero turns it off).
    pub fn delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Stops accepting connections (connections are refused) and closes
    /// open ones; state is kept for [`GrafanaStandIn::up`].
    pub fn down(&self) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.stop();
        }
    }

    /// Starts serving again on the same address after [`GrafanaStandIn::down`].
    pub fn up(&self) {
        let mut slot = self.server.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let listener =
                TcpListener::bind(self.addr).expect("re-bind the Grafana stand-in's port");
            *slot = Some(
                Server::spawn(listener, Arc::clone(&self.shared))
                    .expect("restart the Grafana stand-in"),
            );
        }
    }

    /// Every request received so far, in order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// How many requests with `method` to `path` were received.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Forgets the requests received so far.
    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }
}

impl Drop for GrafanaStandIn {
    fn drop(&mut self) {
        self.down();
    }
}

/// Who owns an installed dashboard.
enum Owner {
    Provisioning,
    Plugin(String),
}

/// A server thread with its own runtime; stopping it drops the runtime, which
/// closes the listener and every open connection.
#[derive(Debug)]
struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Server {
    fn spawn(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<Server> {
        listener.set_nonblocking(true)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("grafana-standin".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build the Grafana stand-in's runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("register the stand-in's listener");
                    let serve = axum::serve(listener, router(shared)).into_future();
                    tokio::select! {
                        _ = serve => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        Ok(Server { stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Store shared between the server and the test-control API.
#[derive(Debug)]
struct Shared {
    state: Mutex<Store>,
}

impl Shared {
    /// Locks the state; a test that panicked while holding it does not
    /// poison other tests' view.
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Clone)]
struct StoredDashboard {
    id: i64,
    uid: String,
    /// Trimmed title (the JSON keeps what was sent).
    title: String,
    json: Value,
    folder_uid: Option<String>,
    version: i64,
    created: String,
    updated: String,
    created_by: String,
    updated_by: String,
    /// The provisioning file name when provisioned.
    provisioned: Option<String>,
    plugin_id: Option<String>,
    /// The v2 version it is stored in (`json` then holds the v2 spec);
    /// `None`: stored as classic/v1.
    stored_v2: Option<String>,
    /// Annotations a client set through the resource API (not `grafana.app/*`).
    annotations: serde_json::Map<String, Value>,
    /// `metadata.resourceVersion`: changes on every write.
    resource_version: u64,
}

#[derive(Debug, Clone)]
struct StoredFolder {
    id: i64,
    uid: String,
    title: String,
    parent_uid: Option<String>,
    created: String,
    created_by: String,
}

/// An error answer: status and JSON body.
type Rejection = (u16, Value);

#[derive(Debug, Default)]
struct Store {
    tokens: HashMap<String, (String, Role)>,
    users: HashMap<String, (String, Role)>,
    anonymous: bool,
    unique_titles: bool,
    /// The version `/api/health` reports.
    version: &'static str,
    /// The versions of `dashboard.grafana.app` served (empty: Grafana 11).
    api_versions: Vec<&'static str>,
    /// The v2 version the UI saves in, when it saves v2.
    ui_v2: Option<&'static str>,
    /// The last `resourceVersion` handed out (one sequence for all writes).
    next_resource_version: u64,
    /// A person's save that lands just before the next resource-API write
    /// to a dashboard: (user, uid, new title).
    save_first: Option<(String, String, String)>,
    dashboards: BTreeMap<String, StoredDashboard>,
    folders: BTreeMap<String, StoredFolder>,
    datasources: Vec<Value>,
    /// Dashboards and folders share one id sequence (one table in Grafana).
    next_id: i64,
    next_datasource_id: i64,
    generated: u64,
    /// The fault, how many more requests it hits, and which ones.
    faults: Option<(u32, Fault, Target)>,
    delay: Duration,
    log: Vec<LoggedRequest>,
}

/// Which requests a fault hits: those of this method and path (any when `None`).
#[derive(Debug, Clone, Default)]
struct Target {
    method: Option<Method>,
    path: Option<&'static str>,
}

impl Target {
    fn hits(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && self.path.is_none_or(|p| p == path)
    }
}

/// A failure injected into the next requests.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Answer this status before any handler runs.
    Status(u16),
    /// Answer `status` quoting the request back, see [`GrafanaStandIn::echo_next`].
    Echo {
        status: u16,
        envelope: bool,
        pad: usize,
    },
    /// Run the handler (a save is stored), then answer this status instead.
    StoreThenFail(u16),
}

/// The caller of a request, put into request extensions by [`gate`].
#[derive(Debug, Clone)]
struct Identity {
    login: String,
    role: Role,
    anonymous: bool,
}

/// The `schemaVersion` Grafana 11.3's dashboard migrator writes on save.
pub const UI_SCHEMA_VERSION: i64 = 40;

/// What Grafana's UI adds to a dashboard it loaded when a person saves it,
/// before their own change: the migrated `schemaVersion`, and on each panel
/// the plugin's version and every option and field-config default the panel
/// editor fills in. Keys already present are kept.
pub fn ui_save_model(dashboard: &mut Value) {
    let Some(top) = dashboard.as_object_mut() else {
        return;
    };
    top.insert("schemaVersion".into(), json!(UI_SCHEMA_VERSION));
    fill(top, "editable", json!(true));
    fill(top, "fiscalYearStartMonth", json!(0));
    fill(top, "graphTooltip", json!(0));
    fill(top, "links", json!([]));
    fill(top, "liveNow", json!(false));
    fill(top, "weekStart", json!(""));
    let panels = top.get_mut("panels").and_then(Value::as_array_mut);
    for panel in panels
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        ui_panel_defaults(panel);
    }
}

fn ui_panel_defaults(panel: &mut serde_json::Map<String, Value>) {
    let kind = panel
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if kind == "row" {
        return;
    }
    panel.insert("pluginVersion".into(), json!(VERSION));
    let options = panel.entry("options").or_insert_with(|| json!({}));
    if let Some(options) = options.as_object_mut() {
        let defaults = match kind.as_str() {
            "timeseries" => json!({
                "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": true},
                "tooltip": {"mode": "single", "sort": "none"}
            }),
            "stat" => json!({
                "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                "orientation": "auto", "percentChangeColorMode": "standard",
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": false},
                "showPercentChange": false, "textMode": "auto", "wideLayout": true
            }),
            _ => json!({}),
        };
        merge_missing(options, &defaults);
    }
    let field_config = panel.entry("fieldConfig").or_insert_with(|| json!({}));
    if let Some(field_config) = field_config.as_object_mut() {
        let mut defaults = json!({
            "defaults": {"mappings": [], "thresholds": {"mode": "absolute", "steps": [
                {"color": "green", "value": null}, {"color": "red", "value": 80}]}},
            "overrides": []
        });
        if kind == "timeseries" {
            defaults["defaults"]["custom"] = json!({
                "axisBorderShow": false, "axisCenteredZero": false, "axisColorMode": "text",
                "axisLabel": "", "axisPlacement": "auto", "barAlignment": 0,
                "barWidthFactor": 0.6, "drawStyle": "line", "fillOpacity": 0,
                "gradientMode": "none", "hideFrom": {"legend": false, "tooltip": false, "viz": false},
                "insertNulls": false, "lineInterpolation": "linear", "lineWidth": 1,
                "pointSize": 5, "scaleDistribution": {"type": "linear"}, "showPoints": "auto",
                "spanNulls": false, "stacking": {"group": "A", "mode": "none"},
                "thresholdsStyle": {"mode": "off"}
            });
        }
        merge_missing(field_config, &defaults);
    }
}

/// Adds `key` when absent.
fn fill(object: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    object.entry(key).or_insert(value);
}

/// Adds every key of `defaults` that `object` lacks, recursing into objects
/// both have.
fn merge_missing(object: &mut serde_json::Map<String, Value>, defaults: &Value) {
    for (key, default) in defaults.as_object().into_iter().flatten() {
        match object.get_mut(key) {
            None => {
                object.insert(key.clone(), default.clone());
            }
            Some(Value::Object(inner)) if default.is_object() => merge_missing(inner, default),
            Some(_) => {}
        }
    }
}

fn reject(status: u16, body: Value) -> Rejection {
    (status, body)
}

fn message(status: u16, text: &str) -> Rejection {
    (status, json!({ "message": text }))
}

fn bad_request_data() -> Rejection {
    message(400, "bad request data")
}

fn respond(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

fn respond_result(result: Result<Value, Rejection>) -> Response {
    match result {
        Ok(body) => respond(200, body),
        Err((status, body)) => respond(status, body),
    }
}

/// uid rule of contract §1.8.
fn uid_chars_ok(uid: &str) -> bool {
    uid.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Grafana's slug: lower case, runs of anything else than `[a-z0-9]` become one `-`.
fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

impl Store {
    fn take_resource_version(&mut self) -> u64 {
        self.next_resource_version += 1;
        self.next_resource_version
    }

    fn take_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A uid like Grafana's short uids: 14 characters, starting with a letter.
    fn generate_uid(&mut self) -> String {
        self.generated += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let digest = Sha256::digest(format!("{}-{nanos}", self.generated));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("a{}", &hex[..13])
    }

    fn folder_by_id(&self, id: i64) -> Option<&StoredFolder> {
        self.folders.values().find(|f| f.id == id)
    }

    fn folder_url(folder: &StoredFolder) -> String {
        format!("/dashboards/f/{}/{}", folder.uid, slugify(&folder.title))
    }

    /// `POST /api/dashboards/db`, the checks of contract §1.2 in order.
    fn save(&mut self, actor: &str, command: &Value) -> Result<Value, Rejection> {
        let Some(dashboard) = command.get("dashboard").and_then(Value::as_object) else {
            return Err(bad_request_data());
        };
        let overwrite = match command.get("overwrite") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad_request_data()),
        };
        if command.get("isFolder").and_then(Value::as_bool) == Some(true) {
            return Err(message(400, "Dashboard cannot be changed to a folder"));
        }
        if command
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.chars().count() > 500)
        {
            return Err(message(400, "message too long, max 500 characters"));
        }

        // 1. Title.
        let title = dashboard
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned();
        if title.is_empty() {
            return Err(reject(
                400,
                json!({"message": "Dashboard title cannot be empty", "status": "empty-name"}),
            ));
        }

        // 2. uid (a non-string uid counts as none, as in Grafana).
        let mut uid = dashboard
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !uid_chars_ok(&uid) {
            return Err(message(400, "uid contains illegal characters"));
        }
        if uid.chars().count() > 40 {
            return Err(message(400, "uid too long, max 40 characters"));
        }

        // 3. Folder: folderUid wins over the deprecated folderId.
        let folder_uid = match command
            .get("folderUid")
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty())
        {
            Some(f) => match self.folders.get(f) {
                Some(folder) => Some(folder.uid.clone()),
                None => return Err(message(400, "folder not found")),
            },
            None => match command
                .get("folderId")
                .and_then(Value::as_i64)
                .filter(|id| *id > 0)
            {
                Some(id) => match self.folder_by_id(id) {
                    Some(folder) => Some(folder.uid.clone()),
                    None => return Err(message(400, "folder not found")),
                },
                None => None,
            },
        };

        // 4. Match an existing dashboard. Folders and dashboards are rows of
        // one table in Grafana: one uid (and id) namespace, and a dashboard
        // saved over a folder is a type mismatch, whatever `overwrite` says.
        let id = dashboard
            .get("id")
            .and_then(Value::as_i64)
            .filter(|id| *id > 0);
        if self.folders.contains_key(&uid) || id.is_some_and(|id| self.folder_by_id(id).is_some()) {
            return Err(message(400, "Dashboard cannot be changed to a folder"));
        }
        let by_id = match id {
            Some(id) => match self.dashboards.values().find(|d| d.id == id) {
                Some(d) => Some(d.uid.clone()),
                None => {
                    return Err(reject(
                        404,
                        json!({"message": "Dashboard not found", "status": "not-found"}),
                    ));
                }
            },
            None => None,
        };
        let by_uid = (!uid.is_empty())
            .then(|| uid.clone())
            .filter(|u| self.dashboards.contains_key(u));
        if let (Some(a), Some(b)) = (&by_id, &by_uid)
            && a != b
        {
            return Err(message(400, "A dashboard with the same uid already exists"));
        }
        let mut existing = by_id.or(by_uid);
        if let Some(key) = &existing {
            let stored = &self.dashboards[key];
            let sent_version = dashboard
                .get("version")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if sent_version != stored.version && !overwrite {
                return Err(reject(
                    412,
                    json!({"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}),
                ));
            }
            if let Some(plugin) = &stored.plugin_id
                && !overwrite
            {
                return Err(reject(
                    412,
                    json!({"status": "plugin-dashboard", "message": format!("The dashboard belongs to plugin {plugin}.")}),
                ));
            }
        }
        // Grafana 11.2 and older: one title per folder.
        if self.unique_titles {
            let slug = slugify(&title);
            let clash = self
                .dashboards
                .values()
                .find(|d| {
                    d.folder_uid == folder_uid
                        && slugify(&d.title) == slug
                        && Some(&d.uid) != existing.as_ref()
                })
                .map(|d| d.uid.clone());
            if let Some(other) = clash {
                if !overwrite {
                    return Err(reject(
                        412,
                        json!({"status": "name-exists", "message": "A dashboard with the same name in the folder already exists"}),
                    ));
                }
                // With overwrite the save takes over the other dashboard, uid included.
                uid = other.clone();
                existing = Some(other);
            }
        }

        // 5. Provisioned dashboards are read-only through the API.
        if let Some(key) = &existing
            && self.dashboards[key].provisioned.is_some()
        {
            return Err(message(400, "Cannot save provisioned dashboard"));
        }

        // Save.
        let now = now_rfc3339();
        let (id, version, created, created_by) =
            match existing.as_ref().and_then(|k| self.dashboards.get(k)) {
                Some(d) => {
                    // Matched by id alone: keep its uid. (An id with a new uid
                    // renames the dashboard, as Grafana does.)
                    if uid.is_empty() {
                        uid = d.uid.clone();
                    }
                    (d.id, d.version + 1, d.created.clone(), d.created_by.clone())
                }
                None => {
                    if uid.is_empty() {
                        uid = self.generate_uid();
                    }
                    (self.take_id(), 1, now.clone(), actor.to_owned())
                }
            };
        if let Some(old) = existing.filter(|k| *k != uid) {
            self.dashboards.remove(&old);
        }
        let mut json = Value::Object(dashboard.clone());
        json["id"] = json!(id);
        json["uid"] = json!(uid);
        json["version"] = json!(version);
        let slug = slugify(&title);
        let annotations = self
            .dashboards
            .get(&uid)
            .map(|d| d.annotations.clone())
            .unwrap_or_default();
        let resource_version = self.take_resource_version();
        self.dashboards.insert(
            uid.clone(),
            StoredDashboard {
                id,
                uid: uid.clone(),
                title,
                json,
                folder_uid: folder_uid.clone(),
                version,
                created,
                updated: now,
                created_by,
                updated_by: actor.to_owned(),
                provisioned: None,
                plugin_id: None,
                stored_v2: None,
                annotations,
                resource_version,
            },
        );
        Ok(json!({
            "id": id, "uid": uid, "url": format!("/d/{uid}/{slug}"), "status": "success",
            "version": version, "slug": slug, "folderUid": folder_uid.unwrap_or_default(),
        }))
    }

    /// `meta` of contract §1.3, as seen by a caller with `role`.
    fn meta(&self, d: &StoredDashboard, role: Role, anonymous: bool) -> Value {
        let slug = slugify(&d.title);
        let folder = d.folder_uid.as_ref().and_then(|f| self.folders.get(f));
        json!({
            "type": "db",
            "canSave": role >= Role::Editor,
            "canEdit": role >= Role::Editor,
            "canAdmin": role >= Role::Admin,
            "canStar": !anonymous,
            "canDelete": role >= Role::Editor,
            "isStarred": false,
            "slug": slug,
            "url": format!("/d/{}/{slug}", d.uid),
            "expires": "0001-01-01T00:00:00Z",
            "created": d.created,
            "updated": d.updated,
            "createdBy": d.created_by,
            "updatedBy": d.updated_by,
            "version": d.version,
            "hasAcl": false,
            "isFolder": false,
            "folderId": folder.map(|f| f.id).unwrap_or(0),
            "folderUid": folder.map(|f| f.uid.clone()).unwrap_or_default(),
            "folderTitle": folder.map(|f| f.title.clone()).unwrap_or_else(|| "General".to_owned()),
            "folderUrl": folder.map(Store::folder_url).unwrap_or_default(),
            "provisioned": d.provisioned.is_some(),
            "provisionedExternalId": d.provisioned.clone().unwrap_or_default(),
        })
    }

    fn folder_json(&self, f: &StoredFolder, role: Role) -> Value {
        let mut body = json!({
            "id": f.id, "uid": f.uid, "title": f.title, "url": Store::folder_url(f),
            "hasAcl": false, "canSave": role >= Role::Editor, "canEdit": role >= Role::Editor,
            "canAdmin": role >= Role::Admin, "canDelete": role >= Role::Editor,
            "createdBy": f.created_by, "created": f.created, "updatedBy": f.created_by,
            "updated": f.created, "version": 1,
        });
        if let Some(parent) = &f.parent_uid {
            body["parentUid"] = json!(parent);
        }
        body
    }

    /// `POST /api/folders`.
    fn create_folder(
        &mut self,
        actor: &str,
        role: Role,
        command: &Value,
    ) -> Result<Value, Rejection> {
        let Some(command) = command.as_object() else {
            return Err(bad_request_data());
        };
        let title = command
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned();
        if title.is_empty() {
            return Err(message(400, "folder title cannot be empty"));
        }
        if title.eq_ignore_ascii_case("General") {
            return Err(message(400, "A folder with that name already exists"));
        }
        let mut uid = command
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !uid_chars_ok(&uid) || uid.chars().count() > 40 {
            return Err(message(400, "invalid uid for folder provided"));
        }
        if self.folders.contains_key(&uid) || self.dashboards.contains_key(&uid) {
            return Err(message(
                409,
                "a folder/dashboard with the same uid already exists",
            ));
        }
        let parent_uid = command
            .get("parentUid")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        if let Some(parent) = parent_uid
            && !self.folders.contains_key(parent)
        {
            return Err(reject(
                404,
                json!({"status": "not-found", "message": "folder not found"}),
            ));
        }
        if uid.is_empty() {
            uid = self.generate_uid();
        }
        let folder = StoredFolder {
            id: self.take_id(),
            uid: uid.clone(),
            title,
            parent_uid: parent_uid.map(str::to_owned),
            created: now_rfc3339(),
            created_by: actor.to_owned(),
        };
        let body = self.folder_json(&folder, role);
        self.folders.insert(uid, folder);
        Ok(body)
    }

    /// Adds a datasource; the caller checked name and uid are free.
    fn add_datasource(&mut self, spec: &Value) -> Value {
        let id = self.next_datasource_id;
        self.next_datasource_id += 1;
        let kind = spec["type"].as_str().unwrap_or_default().to_owned();
        let is_default = spec["isDefault"].as_bool().unwrap_or(false);
        let uid = match spec["uid"].as_str().filter(|u| !u.is_empty()) {
            Some(u) => u.to_owned(),
            None => self.generate_uid(),
        };
        if is_default {
            for ds in &mut self.datasources {
                ds["isDefault"] = json!(false);
            }
        }
        let mut type_name = kind.clone();
        if let Some(first) = type_name.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let ds = json!({
            "id": id, "uid": uid, "orgId": 1, "name": spec["name"], "type": kind, "typeName": type_name,
            "access": spec["access"].as_str().unwrap_or("proxy"), "url": spec["url"].as_str().unwrap_or_default(),
            "user": "", "database": "", "basicAuth": false, "isDefault": is_default,
            "jsonData": spec.get("jsonData").cloned().unwrap_or_else(|| json!({})), "readOnly": false,
        });
        self.datasources.push(ds.clone());
        ds
    }

    /// `GET /api/search`, contract §1.5.
    fn search(&self, raw_query: Option<&str>) -> Result<Value, Rejection> {
        let pairs = query_pairs(raw_query);
        let all = |key: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let one = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        // Grafana reads numbers leniently: anything unparsable counts as 0.
        let number = |key: &str| one(key).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);

        let limit = match number("limit") {
            l if l > 5000 => {
                return Err(message(
                    422,
                    "Limit is above maximum allowed (5000), use page",
                ));
            }
            l if l <= 0 => 1000,
            l => l,
        };
        let page = number("page").max(1);
        let query = one("query").unwrap_or_default().to_lowercase();
        let tags = all("tag");
        let kind = one("type");
        let uids = all("dashboardUIDs");
        let folder_uids = all("folderUIDs");
        let starred = one("starred").is_some_and(|s| s == "true");
        let descending = one("sort").as_deref() == Some("alpha-desc");

        let in_folders = |parent: &Option<String>| {
            folder_uids.is_empty()
                || folder_uids.iter().any(|f| match parent {
                    Some(p) => p == f,
                    None => f == "general",
                })
        };
        let common = |uid: &str, title: &str, parent: &Option<String>| {
            title.to_lowercase().contains(&query)
                && (uids.is_empty() || uids.iter().any(|u| u == uid))
                && in_folders(parent)
        };
        let mut folders: Vec<&StoredFolder> = Vec::new();
        let mut dashboards: Vec<&StoredDashboard> = Vec::new();
        if !starred {
            if kind.as_deref() != Some("dash-db") && tags.is_empty() {
                folders = self
                    .folders
                    .values()
                    .filter(|f| common(&f.uid, &f.title, &f.parent_uid))
                    .collect();
            }
            if kind.as_deref() != Some("dash-folder") {
                dashboards = self
                    .dashboards
                    .values()
                    .filter(|d| common(&d.uid, &d.title, &d.folder_uid))
                    .filter(|d| tags.iter().all(|t| dashboard_tags(&d.json).contains(t)))
                    .collect();
            }
        }
        let order = |a: &str, b: &str| {
            let o = a.to_lowercase().cmp(&b.to_lowercase());
            if descending { o.reverse() } else { o }
        };
        folders.sort_by(|a, b| order(&a.title, &b.title));
        dashboards.sort_by(|a, b| order(&a.title, &b.title));

        let with_parent = |mut hit: Value, parent: &Option<String>| {
            if let Some(folder) = parent.as_ref().and_then(|p| self.folders.get(p)) {
                hit["folderId"] = json!(folder.id);
                hit["folderUid"] = json!(folder.uid);
                hit["folderTitle"] = json!(folder.title);
                hit["folderUrl"] = json!(Store::folder_url(folder));
            }
            hit
        };
        let hits = folders
            .into_iter()
            .map(|f| {
                let slug = slugify(&f.title);
                let hit = json!({
                    "id": f.id, "uid": f.uid, "orgId": 1, "title": f.title, "uri": format!("db/{slug}"),
                    "url": Store::folder_url(f), "slug": slug, "type": "dash-folder", "tags": [],
                    "isStarred": false, "sortMeta": 0,
                });
                with_parent(hit, &f.parent_uid)
            })
            .chain(dashboards.into_iter().map(|d| {
                let slug = slugify(&d.title);
                let hit = json!({
                    "id": d.id, "uid": d.uid, "orgId": 1, "title": d.title, "uri": format!("db/{slug}"),
                    "url": format!("/d/{}/{slug}", d.uid), "slug": slug, "type": "dash-db",
                    "tags": dashboard_tags(&d.json), "isStarred": false, "sortMeta": 0,
                });
                with_parent(hit, &d.folder_uid)
            }))
            .skip(usize::try_from((page - 1) * limit).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        Ok(Value::Array(hits))
    }
}

fn dashboard_tags(json: &Value) -> Vec<String> {
    json.get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/dashboards/db", post(save_dashboard))
        .route(
            "/api/dashboards/uid/{uid}",
            get(get_dashboard).delete(delete_dashboard),
        )
        .route("/api/search", get(search))
        .route("/api/folders", get(list_folders).post(create_folder))
        .route("/api/folders/{uid}", get(get_folder))
        .route(
            "/api/datasources",
            get(list_datasources).post(create_datasource),
        )
        .route("/api/datasources/uid/{uid}", get(datasource_by_uid))
        .route("/api/datasources/name/{name}", get(datasource_by_name))
        .route("/apis", get(resource::discovery))
        .route(
            "/apis/dashboard.grafana.app/{version}/namespaces/{namespace}/dashboards",
            get(resource::list).post(resource::create),
        )
        .route(
            "/apis/dashboard.grafana.app/{version}/namespaces/{namespace}/dashboards/{name}",
            get(resource::get).put(resource::update),
        )
        .route(
            "/apis/folder.grafana.app/v1beta1/namespaces/{namespace}/folders",
            post(resource::create_folder),
        )
        .route(
            "/apis/folder.grafana.app/v1beta1/namespaces/{namespace}/folders/{name}",
            get(resource::get_folder),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .with_state(shared)
}

/// Runs before every handler: delay, injected faults, auth, then logs the
/// request with its final status.
async fn gate(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers().clone();
    let auth = auth_kind(&headers);
    let org_id = headers
        .get("x-grafana-org-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    // Logged on arrival (status 0 until answered), so requests a client gave
    // up on still count.
    let entry = {
        let mut state = shared.lock();
        state.log.push(LoggedRequest {
            method: method.to_string(),
            path,
            query,
            auth,
            org_id: org_id.clone(),
            identity: None,
            status: 0,
        });
        state.log.len() - 1
    };

    let delay = shared.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let fault = {
        let mut state = shared.lock();
        match state.faults {
            Some((n, fault, ref target)) if n > 0 && target.hits(&method, request.uri().path()) => {
                let target = target.clone();
                state.faults = (n > 1).then_some((n - 1, fault, target));
                Some(fault)
            }
            _ => None,
        }
    };

    let mut identity = None;
    let response = match fault {
        Some(Fault::Status(status)) => {
            let text = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Injected failure");
            respond(status, json!({ "message": text }))
        }
        Some(Fault::Echo {
            status,
            envelope,
            pad,
        }) => echo(request, status, envelope, pad).await,
        _ => {
            let checked = shared.lock().authenticate(
                &headers,
                &method,
                request.uri().path(),
                org_id.as_deref(),
            );
            match checked {
                Ok(who) => {
                    identity = (!who.anonymous).then(|| who.login.clone());
                    request.extensions_mut().insert(who);
                    let answer = next.run(request).await;
                    match fault {
                        // Stored; the answer is lost on the way back.
                        Some(Fault::StoreThenFail(status)) => {
                            respond(status, json!({ "message": "Service Unavailable" }))
                        }
                        _ => answer,
                    }
                }
                Err((status, body)) => respond(status, body),
            }
        }
    };
    if let Some(logged) = shared.lock().log.get_mut(entry) {
        logged.identity = identity;
        logged.status = response.status().as_u16();
    }
    response
}

/// The request quoted back, credentials first, as a server that echoes
/// requests in its errors does.
async fn echo(request: Request, status: u16, envelope: bool, pad: usize) -> Response {
    let text = super::echo::quote(request, pad, "\n").await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if envelope {
        (status, Json(json!({ "message": text }))).into_response()
    } else {
        (status, text).into_response()
    }
}

fn auth_kind(headers: &HeaderMap) -> AuthKind {
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => AuthKind::None,
        Some(v) if v.starts_with("Bearer ") => AuthKind::Bearer,
        Some(v) if v.starts_with("Basic ") => AuthKind::Basic,
        Some(_) => AuthKind::Other,
    }
}

impl Store {
    /// Contract §1.0: credentials → identity; 401 when missing (unless
    /// anonymous access is on) or invalid; 403 for writes below Editor.
    /// `/api/health` needs no auth. One org: any other org id → 401.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        method: &Method,
        path: &str,
        org: Option<&str>,
    ) -> Result<Identity, Rejection> {
        let unauthorized = || message(401, "Unauthorized");
        if path == "/api/health" {
            return Ok(Identity {
                login: "Anonymous".into(),
                role: Role::Viewer,
                anonymous: true,
            });
        }
        let identity = match headers.get(header::AUTHORIZATION) {
            None if self.anonymous => Identity {
                login: "Anonymous".into(),
                role: Role::Viewer,
                anonymous: true,
            },
            None => return Err(unauthorized()),
            Some(value) => {
                let value = value.to_str().map_err(|_| unauthorized())?;
                if let Some(token) = value.strip_prefix("Bearer ") {
                    let (name, role) = self.tokens.get(token.trim()).ok_or_else(unauthorized)?;
                    Identity {
                        login: name.clone(),
                        role: *role,
                        anonymous: false,
                    }
                } else if let Some(encoded) = value.strip_prefix("Basic ") {
                    let decoded = base64_decode(encoded.trim()).ok_or_else(unauthorized)?;
                    let decoded = String::from_utf8(decoded).map_err(|_| unauthorized())?;
                    let (login, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
                    match self.users.get(login) {
                        Some((expected, role)) if expected == password => Identity {
                            login: login.to_owned(),
                            role: *role,
                            anonymous: false,
                        },
                        _ => return Err(unauthorized()),
                    }
                } else {
                    return Err(unauthorized());
                }
            }
        };
        if org.is_some_and(|o| o.trim() != "1") {
            return Err(unauthorized());
        }
        let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if writes && identity.role < Role::Editor {
            // The resource API's authorizer answers with a Kubernetes Status.
            if path.starts_with("/apis/") {
                return Err(resource::forbidden(&identity.login, method, path));
            }
            return Err(message(403, "Permission denied"));
        }
        Ok(identity)
    }
}

/// Standard base64 (with or without padding), enough for basic auth.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            acc |= value(*b)? << (18 - 6 * i);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + produced]);
    }
    Some(out)
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let version = shared.lock().version;
    respond(
        200,
        json!({ "database": "ok", "version": version, "commit": "standin" }),
    )
}

async fn not_found() -> Response {
    respond(404, json!({ "message": "Not found" }))
}

async fn save_dashboard(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    let command: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return respond_result(Err(bad_request_data())),
    };
    respond_result(shared.lock().save(&who.login, &command))
}

async fn get_dashboard(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    Path(uid): Path<String>,
) -> Response {
    let state = shared.lock();
    match state.dashboards.get(&uid) {
        // pkg/api/dashboard.go: "v2 is not supported in /api".
        Some(d) if d.stored_v2.is_some() => respond(
            406,
            json!({ "message": format!(
                "dashboard api version not supported, use /apis/dashboard.grafana.app/{}/namespaces/default/dashboards/{uid} instead",
                d.stored_v2.as_deref().unwrap_or_default()
            ) }),
        ),
        Some(d) => respond(
            200,
            json!({ "dashboard": d.json, "meta": state.meta(d, who.role, who.anonymous) }),
        ),
        None => respond(404, json!({ "message": "Dashboard not found" })),
    }
}

async fn delete_dashboard(State(shared): State<Arc<Shared>>, Path(uid): Path<String>) -> Response {
    let mut state = shared.lock();
    let Some(d) = state.dashboards.get(&uid) else {
        return respond(404, json!({ "message": "Dashboard not found" }));
    };
    if d.provisioned.is_some() {
        return respond(
            400,
            json!({ "message": "provisioned dashboard cannot be deleted" }),
        );
    }
    let title = d.title.clone();
    state.dashboards.remove(&uid);
    respond(
        200,
        json!({ "title": title, "message": format!("Dashboard {title} deleted"), "uid": uid }),
    )
}

/// The decoded `key=value` pairs of a raw query string, in order.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://q/?{}", raw.unwrap_or_default()))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

async fn search(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    respond_result(shared.lock().search(query.as_deref()))
}

async fn list_folders(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let number = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let limit = match number("limit") {
        0 => 1000,
        l => l,
    };
    let page = number("page").max(1);
    let state = shared.lock();
    let mut folders: Vec<&StoredFolder> = state
        .folders
        .values()
        .filter(|f| f.parent_uid.is_none())
        .collect();
    folders.sort_by_key(|f| f.title.to_lowercase());
    let list: Vec<Value> = folders
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(|f| json!({ "id": f.id, "uid": f.uid, "title": f.title }))
        .collect();
    respond(200, Value::Array(list))
}

async fn get_folder(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    Path(uid): Path<String>,
) -> Response {
    let state = shared.lock();
    match state.folders.get(&uid) {
        Some(f) => respond(200, state.folder_json(f, who.role)),
        None => respond(
            404,
            json!({ "status": "not-found", "message": "folder not found" }),
        ),
    }
}

async fn create_folder(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    let Ok(command) = serde_json::from_slice::<Value>(&body) else {
        return respond_result(Err(bad_request_data()));
    };
    respond_result(shared.lock().create_folder(&who.login, who.role, &command))
}

async fn list_datasources(State(shared): State<Arc<Shared>>) -> Response {
    let mut list = shared.lock().datasources.clone();
    list.sort_by_key(|d| d["name"].as_str().unwrap_or_default().to_lowercase());
    respond(200, Value::Array(list))
}

fn datasource_detail(ds: &Value) -> Value {
    let mut ds = ds.clone();
    ds["secureJsonFields"] = json!({});
    ds["version"] = json!(1);
    ds
}

async fn datasource_by_uid(State(shared): State<Arc<Shared>>, Path(uid): Path<String>) -> Response {
    match shared
        .lock()
        .datasources
        .iter()
        .find(|d| d["uid"] == uid.as_str())
    {
        Some(ds) => respond(200, datasource_detail(ds)),
        None => respond(404, json!({ "message": "Data source not found" })),
    }
}

async fn datasource_by_name(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    match shared
        .lock()
        .datasources
        .iter()
        .find(|d| d["name"] == name.as_str())
    {
        Some(ds) => respond(200, datasource_detail(ds)),
        None => respond(404, json!({ "message": "Data source not found" })),
    }
}

/// `POST /api/datasources`, contract §1.7 (Admin only).
async fn create_datasource(
    State(shared): State<Arc<Shared>>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    if who.role < Role::Admin {
        return respond(403, json!({ "message": "Permission denied" }));
    }
    let Ok(spec @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return respond_result(Err(bad_request_data()));
    };
    let name = spec["name"].as_str().unwrap_or_default().trim().to_owned();
    let kind = spec["type"].as_str().unwrap_or_default();
    if name.is_empty() || kind.is_empty() {
        return respond_result(Err(bad_request_data()));
    }
    if let Some(url) = spec["url"].as_str().filter(|u| !u.is_empty()) {
        let with_scheme = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        if reqwest::Url::parse(&with_scheme).is_err() {
            return respond(400, json!({ "message": "Invalid data source URL" }));
        }
    }
    let uid = spec["uid"].as_str().unwrap_or_default();
    if !uid_chars_ok(uid) || uid.chars().count() > 40 {
        return respond(
            400,
            json!({ "message": "Failed to add datasource: invalid uid" }),
        );
    }
    let mut state = shared.lock();
    if state.datasources.iter().any(|d| d["name"] == name.as_str()) {
        return respond(
            409,
            json!({ "message": "data source with the same name already exists" }),
        );
    }
    if !uid.is_empty() && state.datasources.iter().any(|d| d["uid"] == uid) {
        return respond(
            409,
            json!({ "message": "data source with the same uid already exists" }),
        );
    }
    let mut spec = spec.clone();
    spec["name"] = json!(name);
    let ds = state.add_datasource(&spec);
    respond(
        200,
        json!({ "datasource": ds, "id": ds["id"], "message": "Datasource added", "name": name }),
    )
}

/// Now as RFC 3339 in UTC, second precision, e.g. `2025-03-01T12:00:00Z`.
fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(
            base64_decode("YWRtaW46YWRtaW4="),
            Some(b"admin:admin".to_vec())
        );
        assert_eq!(base64_decode("YQ"), Some(b"a".to_vec()));
        assert_eq!(base64_decode("!!!!"), None);
    }

    #[test]
    fn slugs_look_like_grafanas() {
        assert_eq!(
            slugify("Checkout: Service Health"),
            "checkout-service-health"
        );
        assert_eq!(slugify("  --a--b--  "), "a-b");
    }
}
