//! The Grafana HTTP client: one method per endpoint onramp uses, with
//! timeouts, bounded retries and errors mapped from status codes.
//!
//! Owns: building requests (auth, org header), the retry loop, and turning
//! Grafana's answers into [`crate::client::grafana::model`] values or [`Error`]s.
//! Does not own deciding *whether* to push (apply does that from `meta`) nor
//! normalising dashboards ([`super::normalize()`]).
//!
//! Requests go through the shared transport ([`crate::client::http`]), which
//! owns credentials, TLS and retries: reads are retried, a POST or DELETE is
//! never replayed once it may have reached Grafana. 4xx — and so a 412
//! version conflict — is never retried.

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use std::sync::Arc;

use tokio::sync::OnceCell;

use super::config::GrafanaConfig;
use super::error::Error;
use super::model::{
    DashboardMeta, Datasource, DatasourceList, Folder, Health, LiveDashboard, SaveResult, SearchHit,
};
use super::resource::{self, ServerInfo};
use crate::client::http::{Body, Replay, Transport};
use crate::client::secret::redact;

/// The header that selects the organisation.
const ORG_HEADER: &str = "X-Grafana-Org-Id";
/// Page size used when listing search results.
const SEARCH_PAGE: usize = 1000;
/// Page size of a list through the resource API (`limit`).
pub const LIST_PAGE: usize = 500;
/// Longest quote of a non-JSON error body kept in an error message.
const MAX_QUOTED_BODY: usize = 200;

/// A connection to one Grafana. Cheap to clone (the HTTP pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    config: GrafanaConfig,
    /// What the Grafana serves, asked once per client.
    server: Arc<OnceCell<ServerInfo>>,
}

/// One HTTP answer, after retries.
#[derive(Debug)]
struct Answer {
    method: Method,
    url: Url,
    status: StatusCode,
    body: String,
    attempts: u32,
}

/// Grafana's error body: `{"message": …, "status": …}` (both optional).
#[derive(Debug, Default, Deserialize)]
struct ApiMessage {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

impl Client {
    /// A client for the Grafana described by `config`.
    pub fn new(config: GrafanaConfig) -> Result<Self, Error> {
        let transport = Transport::new(
            config.auth().clone(),
            config.timeout(),
            config.retry(),
            config.tls(),
        )
        .map_err(|reason| Error::HttpClient { reason })?;
        Ok(Client {
            transport,
            config,
            server: Arc::new(OnceCell::new()),
        })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &GrafanaConfig {
        &self.config
    }

    /// The absolute URL of a path Grafana returned (`/d/<uid>/<slug>`), for
    /// printing links a person can open.
    pub fn link(&self, path: &str) -> String {
        let mut url = self.config.url().clone();
        if path.starts_with('/') {
            // Grafana's paths already include its sub-path when it has one.
            url.set_path(path);
            url.to_string()
        } else {
            url.join(path)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| format!("{url}{path}"))
        }
    }

    /// `GET /api/health`: Grafana is up and its database answers.
    pub async fn health(&self) -> Result<Health, Error> {
        self.get_ok(&["api", "health"]).await
    }

    /// What this Grafana is and which dashboard APIs it serves: its version
    /// (`/api/health`) and the `/apis` discovery document (no document there:
    /// the classic API only, Grafana 11). Asked once per client.
    pub async fn server(&self) -> Result<ServerInfo, Error> {
        self.server
            .get_or_try_init(|| async {
                let health = self.health().await?;
                let url = self.endpoint(&["apis"], &[]);
                let answer = self.call(Method::GET, url, None, Replay::Read).await?;
                // Only bad credentials stop here; anything else in front of
                // /apis (a 404 on Grafana 11, a proxy's 403) means the classic API.
                let groups = match answer.status {
                    StatusCode::OK => self.decode(&answer)?,
                    StatusCode::UNAUTHORIZED => return Err(self.fail(&answer)),
                    _ => Value::Null,
                };
                let info = ServerInfo::from_discovery(health.version, &groups);
                tracing::info!(target: "onramp::grafana", "{info}");
                Ok(info)
            })
            .await
            .cloned()
    }

    /// `GET /api/datasources`: every datasource of the org.
    pub async fn datasources(&self) -> Result<Vec<Datasource>, Error> {
        self.get_ok(&["api", "datasources"]).await
    }

    /// A GET whose only good answer is 200 with a JSON body.
    async fn get_ok<T: serde::de::DeserializeOwned>(&self, path: &[&str]) -> Result<T, Error> {
        let answer = self
            .call(Method::GET, self.endpoint(path, &[]), None, Replay::Read)
            .await?;
        match answer.status {
            StatusCode::OK => self.decode(&answer),
            _ => Err(self.fail(&answer)),
        }
    }

    /// The uid of the Prometheus datasource dashboards should use: the one
    /// named `preferred_name` (matched by name, then by uid), else the
    /// default Prometheus datasource, else the only one. Errors list every
    /// datasource found.
    pub async fn prometheus_datasource_uid(
        &self,
        preferred_name: Option<&str>,
    ) -> Result<String, Error> {
        let all = self.datasources().await?;
        choose_prometheus(all, preferred_name)
    }

    /// `GET /api/folders/:uid`; `None` when there is no such folder.
    pub async fn folder(&self, uid: &str) -> Result<Option<Folder>, Error> {
        self.get_or_none(self.endpoint(&["api", "folders", uid], &[]))
            .await
    }

    /// A GET whose good answers are 200 with a JSON body, or 404: `None`.
    async fn get_or_none<T: DeserializeOwned>(&self, url: Url) -> Result<Option<T>, Error> {
        let answer = self.call(Method::GET, url, None, Replay::Read).await?;
        match answer.status {
            StatusCode::OK => self.decode(&answer).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.fail(&answer)),
        }
    }

    /// Returns folder `uid`, creating it with `title` when missing. A folder
    /// created concurrently by someone else (409) is fine: it is read back.
    /// An existing folder keeps its title.
    /// Through `folder.grafana.app` where Grafana serves it, else the
    /// classic folder API.
    pub async fn ensure_folder(&self, uid: &str, title: &str) -> Result<Folder, Error> {
        if let Some(version) = self.server().await?.folder_version() {
            return self.ensure_folder_resource(version, uid, title).await;
        }
        if let Some(folder) = self.folder(uid).await? {
            return Ok(folder);
        }
        let body = json!({ "uid": uid, "title": title });
        let answer = self
            .call(
                Method::POST,
                self.endpoint(&["api", "folders"], &[]),
                Some(&body),
                Replay::Write,
            )
            .await?;
        match answer.status {
            StatusCode::OK => self.decode(&answer),
            StatusCode::CONFLICT => match self.folder(uid).await? {
                Some(folder) => Ok(folder),
                None => Err(self.fail(&answer)),
            },
            _ => Err(self.fail(&answer)),
        }
    }

    /// [`Client::ensure_folder`] through `folder.grafana.app/VERSION`: read
    /// it, else create it (409 AlreadyExists: created concurrently, read back).
    async fn ensure_folder_resource(
        &self,
        version: &str,
        uid: &str,
        title: &str,
    ) -> Result<Folder, Error> {
        let url = self.resource_url(resource::FOLDER_GROUP, version, "folders", Some(uid));
        if let Some(raw) = self.get_or_none::<Value>(url.clone()).await? {
            return Ok(resource::folder(&raw));
        }
        let body = json!({
            "apiVersion": format!("{}/{version}", resource::FOLDER_GROUP),
            "kind": "Folder",
            "metadata": {"name": uid},
            "spec": {"title": title},
        });
        let create = self.resource_url(resource::FOLDER_GROUP, version, "folders", None);
        let answer = self
            .call(Method::POST, create, Some(&body), Replay::Write)
            .await?;
        match answer.status {
            StatusCode::OK | StatusCode::CREATED => {
                Ok(resource::folder(&self.decode::<Value>(&answer)?))
            }
            StatusCode::CONFLICT => match self.get_or_none::<Value>(url).await? {
                Some(raw) => Ok(resource::folder(&raw)),
                None => Err(self.fail(&answer)),
            },
            _ => Err(self.fail(&answer)),
        }
    }

    /// Dashboard `uid` as it is stored: `GET /api/dashboards/uid/:uid`, or —
    /// when Grafana answers 406 because it is stored as v2 — through the
    /// resource API in its stored version. `None` when there is no such
    /// dashboard.
    pub async fn get_dashboard(&self, uid: &str) -> Result<Option<LiveDashboard>, Error> {
        let url = self.endpoint(&["api", "dashboards", "uid", uid], &[]);
        let answer = self.call(Method::GET, url, None, Replay::Read).await?;
        match answer.status {
            StatusCode::OK => self.decode(&answer).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::NOT_ACCEPTABLE => match self.server().await?.v2() {
                Some(v2) => self.get_stored(uid, v2).await,
                None => Err(self.fail(&answer)),
            },
            _ => Err(self.fail(&answer)),
        }
    }

    /// Dashboard `uid` through the resource API, read in `version` and then,
    /// when Grafana says it converted it (`status.conversion.storedVersion`),
    /// again in the version it is stored in.
    async fn get_stored(&self, uid: &str, version: &str) -> Result<Option<LiveDashboard>, Error> {
        let Some(raw) = self.get_resource(uid, version).await? else {
            return Ok(None);
        };
        let stored = raw["status"]["conversion"]["storedVersion"]
            .as_str()
            .map(|v| resource::version_of(v).unwrap_or(v).to_owned())
            .filter(|v| v != version && v.starts_with("v2"));
        let raw = match stored {
            Some(stored) if self.server().await?.serves(&stored) => {
                match self.get_resource(uid, &stored).await? {
                    Some(raw) => raw,
                    None => return Ok(None),
                }
            }
            _ => raw,
        };
        let mut live = resource::live(raw);
        if let Some(folder) = live.meta.folder_uid.clone() {
            live.meta.folder_title = self.folder(&folder).await?.map(|f| f.title);
        }
        Ok(Some(live))
    }

    /// `GET /apis/dashboard.grafana.app/VERSION/namespaces/NS/dashboards/UID`
    /// as returned; `None` on 404.
    async fn get_resource(&self, uid: &str, version: &str) -> Result<Option<Value>, Error> {
        self.get_or_none(self.dashboards_url(version, Some(uid)))
            .await
    }

    /// The `metadata.resourceVersion` of dashboard `uid` read in `version`
    /// of the resource API; `None` when there is no such dashboard.
    pub async fn resource_version(
        &self,
        uid: &str,
        version: &str,
    ) -> Result<Option<String>, Error> {
        Ok(self.get_resource(uid, version).await?.map(|raw| {
            raw["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }))
    }

    /// Creates (`POST`, when `resource_version` is `None`) or updates (`PUT`
    /// with `metadata.resourceVersion`) dashboard `uid` through the resource
    /// API in `api_version`. `dashboard` is a v2 resource value or a classic
    /// dashboard (sent as the `spec` of a v1 resource). A 409 is
    /// [`Error::ResourceConflict`]: someone saved in between.
    pub async fn save_resource(
        &self,
        dashboard: &Value,
        api_version: &str,
        folder_uid: Option<&str>,
        resource_version: Option<&str>,
    ) -> Result<SaveResult, Error> {
        let uid = resource::uid_of(dashboard).unwrap_or_default().to_owned();
        let server = self.server().await?;
        let version = resource::version_of(api_version).unwrap_or_default();
        if !server.serves(version) {
            return Err(Error::NotServed {
                uid,
                api_version: api_version.to_owned(),
                server: server.to_string(),
            });
        }
        let body = resource::to_wire(dashboard, api_version, &uid, folder_uid, resource_version);
        let (method, url) = match resource_version {
            Some(_) => (Method::PUT, self.dashboards_url(version, Some(&uid))),
            None => (Method::POST, self.dashboards_url(version, None)),
        };
        let answer = self.call(method, url, Some(&body), Replay::Write).await?;
        match answer.status {
            StatusCode::OK | StatusCode::CREATED => {
                let saved: Value = self.decode(&answer)?;
                let live = resource::live(saved);
                Ok(SaveResult {
                    id: None,
                    uid: live.uid().to_owned(),
                    url: live.meta.url.clone().unwrap_or_default(),
                    version: live.version(),
                    status: "success".to_owned(),
                    slug: live.meta.slug.clone(),
                    folder_uid: live.meta.folder_uid,
                })
            }
            StatusCode::CONFLICT => Err(Error::ResourceConflict { uid }),
            _ => Err(self.fail(&answer)),
        }
    }

    /// Every dashboard of the org through the resource API in `version`, as
    /// Grafana returns them (`items` of each `DashboardList` page): one
    /// request per [`LIST_PAGE`] dashboards, following `metadata.continue`.
    pub async fn list_dashboards(&self, version: &str) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = self.dashboards_url(version, None);
            let limit = LIST_PAGE.to_string();
            url.query_pairs_mut().append_pair("limit", &limit);
            if let Some(token) = &token {
                url.query_pairs_mut().append_pair("continue", token);
            }
            let answer = self.call(Method::GET, url, None, Replay::Read).await?;
            if answer.status != StatusCode::OK {
                return Err(self.fail(&answer));
            }
            let mut page: Value = self.decode(&answer)?;
            if let Some(Value::Array(batch)) = page.get_mut("items").map(Value::take) {
                items.extend(batch);
            }
            token = page["metadata"]["continue"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                return Ok(items);
            }
        }
    }

    /// `GET /api/search` for dashboards (not folders) carrying every tag in
    /// `tags` and, when `dashboard_uids` is not empty, one of those uids.
    /// Pages through all results.
    pub async fn search(
        &self,
        tags: &[&str],
        dashboard_uids: &[&str],
    ) -> Result<Vec<SearchHit>, Error> {
        let mut hits = Vec::new();
        for page in 1.. {
            let page_text = page.to_string();
            let limit_text = SEARCH_PAGE.to_string();
            let mut query: Vec<(&str, &str)> = vec![
                ("type", "dash-db"),
                ("limit", &limit_text),
                ("page", &page_text),
            ];
            query.extend(tags.iter().map(|t| ("tag", *t)));
            query.extend(dashboard_uids.iter().map(|u| ("dashboardUIDs", *u)));
            let url = self.endpoint(&["api", "search"], &query);
            let answer = self.call(Method::GET, url, None, Replay::Read).await?;
            if answer.status != StatusCode::OK {
                return Err(self.fail(&answer));
            }
            let batch: Vec<SearchHit> = self.decode(&answer)?;
            let done = batch.len() < SEARCH_PAGE;
            hits.extend(batch);
            if done {
                break;
            }
        }
        Ok(hits)
    }

    /// `POST /api/dashboards/db`: creates or updates `dashboard` in
    /// `folder_uid` (`None`: the root — an update without a folder moves the
    /// dashboard to the root). Without `overwrite`, the dashboard's `version`
    /// must equal the stored one, else [`Error::VersionMismatch`].
    pub async fn save_dashboard(
        &self,
        dashboard: &Value,
        folder_uid: Option<&str>,
        overwrite: bool,
        message: Option<&str>,
    ) -> Result<SaveResult, Error> {
        let mut body = json!({ "dashboard": dashboard, "overwrite": overwrite });
        if let Some(folder) = folder_uid {
            body["folderUid"] = json!(folder);
        }
        if let Some(message) = message {
            body["message"] = json!(message);
        }
        let uid = dashboard
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let url = self.endpoint(&["api", "dashboards", "db"], &[]);
        let answer = self
            .call(Method::POST, url, Some(&body), Replay::Write)
            .await?;
        match answer.status {
            StatusCode::OK => self.decode(&answer),
            StatusCode::PRECONDITION_FAILED => {
                let api = self.api_message(&answer);
                match api.status.as_deref() {
                    Some("version-mismatch") => Err(Error::VersionMismatch { uid }),
                    Some("plugin-dashboard") => Err(Error::PluginDashboard { uid }),
                    Some("name-exists") => Err(Error::NameExists { uid }),
                    _ => Err(self.fail(&answer)),
                }
            }
            // Grafana says "folder not found" or "Cannot save provisioned
            // dashboard" only in message text; find out from its state instead.
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => {
                if let Some(folder) = folder_uid
                    && matches!(self.folder(folder).await, Ok(None))
                {
                    return Err(Error::FolderNotFound {
                        uid: folder.to_owned(),
                    });
                }
                if self.is_provisioned(&uid).await {
                    return Err(Error::Provisioned { uid });
                }
                if answer.status == StatusCode::NOT_FOUND
                    && self.api_message(&answer).status.as_deref() == Some("not-found")
                {
                    return Err(Error::DashboardNotFound { uid });
                }
                Err(self.fail(&answer))
            }
            _ => Err(self.fail(&answer)),
        }
    }

    /// `DELETE /api/dashboards/uid/:uid`. Returns whether a dashboard was
    /// deleted (`false`: there was none).
    pub async fn delete_dashboard(&self, uid: &str) -> Result<bool, Error> {
        let url = self.endpoint(&["api", "dashboards", "uid", uid], &[]);
        let answer = self.call(Method::DELETE, url, None, Replay::Write).await?;
        match answer.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            StatusCode::BAD_REQUEST if self.is_provisioned(uid).await => Err(Error::Provisioned {
                uid: uid.to_owned(),
            }),
            _ => Err(self.fail(&answer)),
        }
    }

    /// Whether dashboard `uid` exists and is provisioned; `false` when that
    /// cannot be found out (the caller then reports the original error).
    async fn is_provisioned(&self, uid: &str) -> bool {
        if uid.is_empty() {
            return false;
        }
        matches!(
            self.get_dashboard(uid).await,
            Ok(Some(LiveDashboard {
                meta: DashboardMeta {
                    provisioned: true,
                    ..
                },
                ..
            }))
        )
    }

    /// `/apis/dashboard.grafana.app/VERSION/namespaces/NS/dashboards[/NAME]`
    /// in the org's namespace.
    fn dashboards_url(&self, version: &str, name: Option<&str>) -> Url {
        self.resource_url(resource::DASHBOARD_GROUP, version, "dashboards", name)
    }

    /// `/apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME]` in the org's namespace.
    fn resource_url(&self, group: &str, version: &str, plural: &str, name: Option<&str>) -> Url {
        let namespace = resource::namespace(self.config.org_id());
        let mut path = vec!["apis", group, version, "namespaces", &namespace, plural];
        path.extend(name);
        self.endpoint(&path, &[])
    }

    /// The URL of an endpoint: path segments (each percent-encoded) below the
    /// base URL, plus query pairs.
    fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.config.url().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends a request through the shared transport, which retries per
    /// [`Replay`] and the retry policy.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        replay: Replay,
    ) -> Result<Answer, Error> {
        let body = body.map_or(Body::Empty, Body::Json);
        let headers: Vec<(&'static str, String)> = self
            .config
            .org_id()
            .map(|org| (ORG_HEADER, org.to_string()))
            .into_iter()
            .collect();
        match self
            .transport
            .send(method.clone(), &url, body, &headers, replay)
            .await
        {
            Ok(answer) => Ok(Answer {
                method,
                url,
                status: answer.status,
                body: answer.body,
                attempts: answer.attempts,
            }),
            Err(failure) => Err(Error::Unreachable {
                url: url.to_string(),
                certificate: failure.is_certificate(),
                reason: failure.kind,
                attempts: failure.attempts,
                source: failure.source,
            }),
        }
    }

    /// Decodes a 2xx body.
    fn decode<T: DeserializeOwned>(&self, answer: &Answer) -> Result<T, Error> {
        serde_json::from_str(&answer.body).map_err(|source| Error::InvalidResponse {
            url: answer.url.to_string(),
            source,
        })
    }

    /// Grafana's `message`/`status`, with every secret of the run scrubbed
    /// out before a long body is cut (a cut first would leave the start of a
    /// secret that straddles it).
    fn api_message(&self, answer: &Answer) -> ApiMessage {
        let mut api: ApiMessage = serde_json::from_str(&answer.body).unwrap_or_default();
        if api.message.is_none() {
            let text = redact(answer.body.trim());
            if !text.is_empty() {
                api.message = Some(text.chars().take(MAX_QUOTED_BODY).collect());
            }
        }
        api.message = api.message.map(|m| redact(&m));
        api
    }

    /// The error for an answer no endpoint-specific rule covered.
    fn fail(&self, answer: &Answer) -> Error {
        let url = answer.url.to_string();
        let method = answer.method.to_string();
        match answer.status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized {
                url,
                credentials_sent: self.config.auth().is_some(),
            },
            StatusCode::FORBIDDEN => Error::Forbidden { method, url },
            status => {
                let message = self
                    .api_message(answer)
                    .message
                    .unwrap_or_else(|| "no message".to_owned());
                if status.is_server_error() {
                    Error::Server {
                        method,
                        url,
                        status: status.as_u16(),
                        attempts: answer.attempts,
                        message,
                    }
                } else {
                    Error::Rejected {
                        method,
                        url,
                        status: status.as_u16(),
                        message,
                    }
                }
            }
        }
    }
}

/// Picks the Prometheus datasource, see [`Client::prometheus_datasource_uid`].
fn choose_prometheus(all: Vec<Datasource>, preferred_name: Option<&str>) -> Result<String, Error> {
    const PROMETHEUS: &str = "prometheus";
    if let Some(name) = preferred_name {
        let found = all
            .iter()
            .find(|d| d.name == name)
            .or_else(|| all.iter().find(|d| d.uid == name));
        return match found {
            Some(ds) if ds.kind == PROMETHEUS => Ok(ds.uid.clone()),
            Some(ds) => Err(Error::DatasourceNotPrometheus {
                name: name.to_owned(),
                kind: ds.kind.clone(),
                found: DatasourceList(all.clone()),
            }),
            None => Err(Error::DatasourceNotFound {
                name: name.to_owned(),
                found: DatasourceList(all),
            }),
        };
    }
    let prometheus: Vec<&Datasource> = all.iter().filter(|d| d.kind == PROMETHEUS).collect();
    if let Some(default) = prometheus.iter().find(|d| d.is_default) {
        return Ok(default.uid.clone());
    }
    match prometheus.as_slice() {
        [only] => Ok(only.uid.clone()),
        [] => Err(Error::NoPrometheusDatasource {
            found: DatasourceList(all),
        }),
        _ => Err(Error::AmbiguousPrometheusDatasource {
            found: DatasourceList(all),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(name: &str, kind: &str, uid: &str, is_default: bool) -> Datasource {
        Datasource {
            id: None,
            uid: uid.into(),
            name: name.into(),
            kind: kind.into(),
            is_default,
            url: None,
        }
    }

    #[test]
    fn named_datasource_wins_then_default_then_only() {
        let all = vec![
            ds("Loki", "loki", "loki", true),
            ds("Prom A", "prometheus", "a", false),
            ds("Prom B", "prometheus", "b", true),
        ];
        assert_eq!(
            choose_prometheus(all.clone(), Some("Prom A")).ok(),
            Some("a".to_owned())
        );
        assert_eq!(
            choose_prometheus(all.clone(), Some("b")).ok(),
            Some("b".to_owned())
        );
        assert_eq!(
            choose_prometheus(all.clone(), None).ok(),
            Some("b".to_owned())
        );
        let only = vec![
            ds("Loki", "loki", "loki", true),
            ds("Prom A", "prometheus", "a", false),
        ];
        assert_eq!(choose_prometheus(only, None).ok(), Some("a".to_owned()));
    }

    #[test]
    fn datasource_errors_list_what_exists() {
        let all = vec![
            ds("Loki", "loki", "loki", true),
            ds("P1", "prometheus", "p1", false),
        ];
        let missing = choose_prometheus(all.clone(), Some("Mimir")).map_err(|e| e.to_string());
        assert_eq!(
            missing,
            Err(r#"no Grafana datasource is named "Mimir"; the datasources are: "Loki" (type loki, uid loki, default), "P1" (type prometheus, uid p1)"#.to_owned())
        );
        let wrong = choose_prometheus(all, Some("Loki"));
        assert!(
            matches!(wrong, Err(Error::DatasourceNotPrometheus { kind, .. }) if kind == "loki")
        );
        let two = vec![
            ds("P1", "prometheus", "p1", false),
            ds("P2", "prometheus", "p2", false),
        ];
        assert!(matches!(
            choose_prometheus(two, None),
            Err(Error::AmbiguousPrometheusDatasource { .. })
        ));
        let none = choose_prometheus(vec![ds("Loki", "loki", "loki", false)], None)
            .map_err(|e| e.to_string());
        assert!(
            matches!(&none, Err(text) if text.contains(r#""Loki" (type loki, uid loki)"#)),
            "{none:?}"
        );
    }

    #[test]
    fn endpoints_sit_below_a_sub_path_and_encode_uids() -> Result<(), Error> {
        let client = Client::new(GrafanaConfig::new("http://g:3000/grafana")?)?;
        assert_eq!(
            client
                .endpoint(&["api", "dashboards", "uid", "a b/c"], &[])
                .as_str(),
            "http://g:3000/grafana/api/dashboards/uid/a%20b%2Fc"
        );
        assert_eq!(
            client
                .endpoint(&["api", "search"], &[("tag", "x y"), ("tag", "z")])
                .as_str(),
            "http://g:3000/grafana/api/search?tag=x+y&tag=z"
        );
        assert_eq!(
            client.link("/grafana/d/abc/shop"),
            "http://g:3000/grafana/d/abc/shop"
        );
        Ok(())
    }
}
