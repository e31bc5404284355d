//! The Prometheus HTTP client: instant and range queries, series, targets,
//! rules, alerts, build info, readiness, and config reload with confirmation.
//! It owns the mapping of answers to typed values and to [`Error`] (quoting
//! bodies only after the run's secrets are scrubbed out), and bounded
//! concurrent querying; credentials, TLS and retries are the shared
//! transport's ([`crate::client::http`]). It does not decide what to query: verify and
//! the plain-Prometheus sink do.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::api::{
    self, Alert, AlertsData, BuildInfo, ConfigData, Labels, MetricMetadata, QueryResult,
    RawQueryData, ReloadStatus, RuleGroup, RulesData, Target, TargetsData,
};
use super::config::PrometheusConfig;
use super::error::{Error, Result};
use crate::client::http::{Body, Replay, Transport, Unreachable};
use crate::client::kube::ServiceProxy;
use crate::client::secret::redact;

/// Gauge: 1 when the last configuration reload worked.
pub const RELOAD_SUCCESSFUL_METRIC: &str = "prometheus_config_last_reload_successful";
/// Gauge: Unix time of the last successful configuration reload.
pub const RELOAD_TIMESTAMP_METRIC: &str = "prometheus_config_last_reload_success_timestamp_seconds";

/// The longest response-body excerpt kept in an error.
const BODY_EXCERPT_CHARS: usize = 200;

/// A client for one Prometheus. Cheap to clone: clones share the connection
/// pool.
#[derive(Clone, Debug)]
pub struct PrometheusClient {
    transport: Backend,
    config: Arc<PrometheusConfig>,
}

/// How requests reach Prometheus: the shared HTTP transport to its URL, or
/// the Kubernetes API server's service proxy (the kubeconfig's credentials
/// and TLS, no port-forward).
#[derive(Clone, Debug)]
enum Backend {
    /// Straight to the base URL.
    Direct(Transport),
    /// Through `/api/v1/namespaces/NS/services/NAME:PORT/proxy/`.
    ApiServer(Box<ServiceProxy>),
}

/// The time span and resolution of a range query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryRange {
    /// First evaluation time.
    pub start: SystemTime,
    /// Last evaluation time.
    pub end: SystemTime,
    /// Time between evaluations.
    pub step: Duration,
}

/// An HTTP answer, read whole.
struct Reply {
    url: String,
    status: StatusCode,
    body: String,
}

/// The envelope every `/api/v1` answer comes in.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl PrometheusClient {
    /// Builds a client; no request is sent yet.
    pub fn new(config: PrometheusConfig) -> Result<Self> {
        let transport = Transport::new(
            config.auth.clone(),
            config.timeout,
            config.retry,
            &config.tls,
        )
        .map_err(|reason| Error::Config {
            url: config.base_url.to_string(),
            reason,
        })?;
        Ok(PrometheusClient {
            transport: Backend::Direct(transport),
            config: Arc::new(config),
        })
    }

    /// A client for the Prometheus behind `proxy`, reached through the
    /// Kubernetes API server with the kubeconfig's credentials, each request
    /// retried by the same policy as a direct one (a 503 while the Service
    /// has no ready endpoint is retried as Prometheus' own 503 is).
    pub fn through(proxy: ServiceProxy) -> Result<Self> {
        let config = PrometheusConfig::new(&proxy.url())?;
        Ok(PrometheusClient {
            transport: Backend::ApiServer(Box::new(proxy)),
            config: Arc::new(config),
        })
    }

    /// How Prometheus is reached, for people: its URL, or the Service and the
    /// API server whose proxy reaches it.
    pub fn reached_via(&self) -> String {
        match &self.transport {
            Backend::Direct(_) => self.config.base_url.to_string(),
            Backend::ApiServer(proxy) => proxy.describe(),
        }
    }

    /// The settings this client uses.
    pub fn config(&self) -> &PrometheusConfig {
        &self.config
    }

    /// The base URL (ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.config.base_url
    }

    /// `GET /-/ready`: `true` when Prometheus serves queries, `false` while it
    /// is still starting (503).
    pub async fn ready(&self) -> Result<bool> {
        let reply = self
            // 503 is the answer while Prometheus starts: not to be retried.
            .send(Method::GET, "-/ready", &[], Replay::ReadAnyAnswer)
            .await?;
        match reply.status {
            status if status.is_success() => Ok(true),
            StatusCode::SERVICE_UNAVAILABLE => Ok(false),
            _ => Err(self.http_error(reply)),
        }
    }

    /// `GET /api/v1/status/buildinfo`.
    pub async fn build_info(&self) -> Result<BuildInfo> {
        self.api(Method::GET, "api/v1/status/buildinfo", &[]).await
    }

    /// `POST /api/v1/query`: evaluates `expr` at `time` (Prometheus' "now"
    /// when `None`). A PromQL error comes back as [`Error::Api`] with
    /// Prometheus' own text, without retry.
    pub async fn query(&self, expr: &str, time: Option<SystemTime>) -> Result<QueryResult> {
        let mut params = vec![("query", expr.to_string())];
        if let Some(time) = time {
            params.push(("time", unix_seconds(time)));
        }
        let data: RawQueryData = self.api(Method::POST, "api/v1/query", &params).await?;
        Ok(data.into())
    }

    /// `POST /api/v1/query_range`: evaluates `expr` over `range`; the result is
    /// a [`QueryResult::Matrix`].
    pub async fn query_range(&self, expr: &str, range: QueryRange) -> Result<QueryResult> {
        let params = [
            ("query", expr.to_string()),
            ("start", unix_seconds(range.start)),
            ("end", unix_seconds(range.end)),
            ("step", range.step.as_secs_f64().to_string()),
        ];
        let data: RawQueryData = self
            .api(Method::POST, "api/v1/query_range", &params)
            .await?;
        Ok(data.into())
    }

    /// `POST /api/v1/series`: the label sets of every series matching any of
    /// `selectors` (for example `up{job="shop"}`).
    pub async fn series(&self, selectors: &[&str]) -> Result<Vec<Labels>> {
        let params: Vec<(&str, String)> = selectors
            .iter()
            .map(|selector| ("match[]", selector.to_string()))
            .collect();
        self.api(Method::POST, "api/v1/series", &params).await
    }

    /// `GET /api/v1/metadata`: each metric's `# TYPE`, `# HELP` and `# UNIT`
    /// as the targets expose them, by metric name (one entry per distinct
    /// metadata; a histogram under its base name).
    pub async fn metadata(&self) -> Result<BTreeMap<String, Vec<MetricMetadata>>> {
        self.api(Method::GET, "api/v1/metadata", &[]).await
    }

    /// How many series match `selector`.
    pub async fn series_count(&self, selector: &str) -> Result<usize> {
        Ok(self.series(&[selector]).await?.len())
    }

    /// `GET /api/v1/targets?state=active`: the active scrape targets.
    pub async fn targets(&self) -> Result<Vec<Target>> {
        let params = [("state", "active".to_string())];
        let data: TargetsData = self.api(Method::GET, "api/v1/targets", &params).await?;
        Ok(data.active_targets)
    }

    /// `GET /api/v1/rules`: the loaded rule groups with their health, state
    /// and active alerts.
    pub async fn rules(&self) -> Result<Vec<RuleGroup>> {
        let data: RulesData = self.api(Method::GET, "api/v1/rules", &[]).await?;
        Ok(data.groups)
    }

    /// `GET /api/v1/alerts`: the pending and firing alerts.
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let data: AlertsData = self.api(Method::GET, "api/v1/alerts", &[]).await?;
        Ok(data.alerts)
    }

    /// `GET /api/v1/status/config`: the loaded configuration, as YAML.
    pub async fn config_yaml(&self) -> Result<String> {
        let data: ConfigData = self.api(Method::GET, "api/v1/status/config", &[]).await?;
        Ok(data.yaml)
    }

    /// The current value of one of Prometheus' own metrics, read from its
    /// `/metrics` (so it does not depend on Prometheus scraping itself):
    /// the first series called `name` whose labels include all of `labels`.
    pub async fn self_metric(&self, name: &str, labels: &[(&str, &str)]) -> Result<Option<f64>> {
        let reply = self.metrics_text().await?;
        Ok(api::exposition_value(&reply.body, name, labels))
    }

    /// Whether the last configuration reload worked, and when the last
    /// successful one happened (from Prometheus' own `/metrics`).
    pub async fn reload_status(&self) -> Result<ReloadStatus> {
        let reply = self.metrics_text().await?;
        let gauge = |name: &str| {
            api::exposition_value(&reply.body, name, &[]).ok_or_else(|| Error::Decode {
                url: reply.url.clone(),
                reason: format!("the metrics do not include `{name}`"),
            })
        };
        Ok(ReloadStatus {
            successful: gauge(RELOAD_SUCCESSFUL_METRIC)? == 1.0,
            last_success_timestamp: gauge(RELOAD_TIMESTAMP_METRIC)?,
        })
    }

    /// `prometheus_config_last_reload_successful == 1`.
    pub async fn last_reload_successful(&self) -> Result<bool> {
        Ok(self.reload_status().await?.successful)
    }

    /// `POST /-/reload`: asks Prometheus to re-read its configuration and rule
    /// files. Prometheus answers only once the reload is done; a bad file
    /// gives [`Error::ReloadFailed`] with Prometheus' reason. Needs Prometheus
    /// to run with `--web.enable-lifecycle`.
    pub async fn reload(&self) -> Result<()> {
        let reply = self
            // A reload is idempotent, so resending after a lost answer is
            // safe; its 500 (a bad file) is the answer, never retried.
            .send(Method::POST, "-/reload", &[], Replay::ReadAnyAnswer)
            .await?;
        let status = reply.status;
        if status.is_success() {
            return Ok(());
        }
        let body = excerpt(&redact(&reply.body));
        let reason = match status {
            StatusCode::FORBIDDEN if body.contains("ifecycle") => format!(
                "{body} (HTTP 403): start Prometheus with --web.enable-lifecycle, \
                 or make it reload by sending it SIGHUP"
            ),
            StatusCode::INTERNAL_SERVER_ERROR => format!(
                "{body}; check the files with `promtool check config` and `promtool check rules` \
                 (Prometheus' log names the failing file); the previous configuration stays active"
            ),
            _ => return Err(self.http_error(reply)),
        };
        Err(Error::ReloadFailed {
            url: reply.url,
            reason,
        })
    }

    /// Reloads and confirms the reload took: the request succeeded,
    /// `prometheus_config_last_reload_successful` is 1 and
    /// `prometheus_config_last_reload_success_timestamp_seconds` advanced.
    /// Returns the status after the reload.
    pub async fn reload_and_confirm(&self) -> Result<ReloadStatus> {
        let before = self.reload_status().await?;
        self.reload().await?;
        let after = self.reload_status().await?;
        let url = self.display_endpoint("metrics");
        if !after.successful {
            return Err(Error::ReloadFailed {
                url,
                reason: format!(
                    "the reload request was accepted but {RELOAD_SUCCESSFUL_METRIC} is 0; \
                     Prometheus' log says which file it rejected"
                ),
            });
        }
        if after.last_success_timestamp <= before.last_success_timestamp {
            return Err(Error::ReloadFailed {
                url,
                reason: format!(
                    "the reload request was accepted but {RELOAD_TIMESTAMP_METRIC} did not advance \
                     (still {}); a proxy or another replica may have answered",
                    after.last_success_timestamp
                ),
            });
        }
        Ok(after)
    }

    /// Runs instant queries concurrently, at most `max_concurrency` at a time
    /// (at least one), and returns their results in the order of `exprs`.
    pub async fn query_all<I, S>(
        &self,
        exprs: I,
        max_concurrency: usize,
    ) -> Vec<Result<QueryResult>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let permits = Arc::new(Semaphore::new(max_concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut count = 0;
        for (index, expr) in exprs.into_iter().enumerate() {
            let expr: String = expr.into();
            let client = self.clone();
            let permits = Arc::clone(&permits);
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring only fails if it
                // were; run unbounded rather than lose the query then.
                let _permit = permits.acquire_owned().await.ok();
                (index, client.query(&expr, None).await)
            });
            count += 1;
        }
        let mut results: Vec<Option<Result<QueryResult>>> = (0..count).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, result)) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(result);
                    }
                }
                // A query task only panics if the client has a bug: pass it on.
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                // Cancelled: only when the runtime shuts down.
                Err(_) => {}
            }
        }
        let url = self.display_endpoint("api/v1/query");
        results
            .into_iter()
            .map(|slot| {
                slot.unwrap_or_else(|| {
                    Err(Error::Unreachable {
                        url: url.clone(),
                        attempts: 0,
                        reason: "the query was cancelled because the runtime shut down".into(),
                    })
                })
            })
            .collect()
    }

    /// Calls an `/api/v1` endpoint and decodes its `data`.
    async fn api<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T> {
        let reply = self.send(method, path, params, Replay::Read).await?;
        let envelope = serde_json::from_str::<Envelope>(&reply.body);
        match envelope {
            Ok(envelope) if envelope.status == "error" => Err(Error::Api {
                url: reply.url,
                error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
                error: redact(&envelope.error.unwrap_or_default()),
            }),
            _ if !reply.status.is_success() => Err(self.http_error(reply)),
            Ok(envelope) if envelope.status == "success" => {
                let data = envelope.data.ok_or_else(|| Error::Decode {
                    url: reply.url.clone(),
                    reason: "the answer has no `data`".into(),
                })?;
                serde_json::from_value(data).map_err(|err| Error::Decode {
                    url: reply.url,
                    reason: format!("the `data` does not have the expected shape ({err})"),
                })
            }
            Ok(envelope) => Err(Error::Decode {
                url: reply.url,
                reason: format!(
                    "unknown `status` {:?}, expected \"success\" or \"error\"",
                    envelope.status
                ),
            }),
            Err(err) => Err(Error::Decode {
                reason: format!(
                    "the answer is not a Prometheus API answer ({err}); it starts with {:?}",
                    excerpt(&redact(&reply.body))
                ),
                url: reply.url,
            }),
        }
    }

    /// `GET /metrics` as text, or an HTTP error.
    async fn metrics_text(&self) -> Result<Reply> {
        let reply = self.send(Method::GET, "metrics", &[], Replay::Read).await?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(self.http_error(reply))
        }
    }

    /// Sends one request through the shared transport, retrying as `replay`
    /// and the policy allow. Query parameters go in the URL for GET and in a
    /// form body otherwise (so long PromQL expressions do not hit URL length
    /// limits).
    async fn send(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        replay: Replay,
    ) -> Result<Reply> {
        let url = self.endpoint(path)?;
        let body = match (params.is_empty(), method == Method::GET) {
            (true, _) => Body::Empty,
            (false, true) => Body::Query(params),
            (false, false) => Body::Form(params),
        };
        let transport = match &self.transport {
            Backend::Direct(transport) => transport,
            Backend::ApiServer(proxy) => {
                return self.send_proxied(proxy, method, path, params, replay).await;
            }
        };
        match transport.send(method, &url, body, &[], replay).await {
            Ok(answer) => Ok(Reply {
                url: url.to_string(),
                status: answer.status,
                body: answer.body,
            }),
            Err(failure) => Err(Error::Unreachable {
                url: url.to_string(),
                attempts: failure.attempts,
                reason: match failure.kind {
                    Unreachable::Timeout { .. } => failure.kind.to_string(),
                    _ => failure.cause,
                },
            }),
        }
    }

    /// Sends one request through the API server's service proxy: query
    /// parameters in the URL for GET, a form body otherwise, as [`Self::send`].
    async fn send_proxied(
        &self,
        proxy: &ServiceProxy,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        replay: Replay,
    ) -> Result<Reply> {
        let url = self.display_endpoint(path);
        let encoded = form_encode(params);
        let (relative, form) = match (params.is_empty(), method == Method::GET) {
            (true, _) => (path.to_string(), None),
            (false, true) => (format!("{path}?{encoded}"), None),
            (false, false) => (path.to_string(), Some(encoded)),
        };
        match proxy.send(method, &relative, form, replay).await {
            Ok(answer) if answer.refused_identity() => {
                Err(proxy_refused(url, answer, proxy.grant()))
            }
            Ok(answer) if answer.status == 401 || answer.status == 403 => {
                Err(Error::ProxyBlocked {
                    url,
                    status: answer.status,
                    body: excerpt(&redact(&answer.body)),
                })
            }
            Ok(answer) => Ok(Reply {
                url,
                status: StatusCode::from_u16(answer.status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body: answer.body,
            }),
            Err((reason, attempts)) => Err(Error::Unreachable {
                url,
                attempts,
                reason: redact(&reason),
            }),
        }
    }

    /// The error for a reply with an error status: rejected credentials
    /// (401/403) get their own variant; other bodies are quoted redacted.
    fn http_error(&self, reply: Reply) -> Error {
        match reply.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::CredentialsRejected {
                url: reply.url,
                status: reply.status.as_u16(),
                credentials_sent: self.config.auth.is_some(),
            },
            status => Error::Http {
                status: status.as_u16(),
                body: excerpt(&redact(&reply.body)),
                url: reply.url,
            },
        }
    }

    /// The endpoint URL for `path` under the base URL.
    fn endpoint(&self, path: &str) -> Result<Url> {
        self.config
            .base_url
            .join(path)
            .map_err(|err| Error::Config {
                url: self.config.base_url.to_string(),
                reason: format!("cannot append `{path}` to the base URL ({err})"),
            })
    }

    /// The endpoint URL for `path`, for messages.
    fn display_endpoint(&self, path: &str) -> String {
        self.endpoint(path)
            .map(String::from)
            .unwrap_or_else(|_| self.config.base_url.to_string())
    }
}

/// The first line of `body`, trimmed to [`BODY_EXCERPT_CHARS`] characters.
/// Callers redact `body` first: a cut must never leave part of a secret.
fn excerpt(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// A 401/403 `Status` through the service proxy: the API server refusing
/// onramp's identity, not Prometheus' answer; `grant` is what grants the
/// proxy to the command that ran.
fn proxy_refused(url: String, answer: crate::client::kube::ProxyAnswer, grant: &str) -> Error {
    let message = answer
        .api_status()
        .map(|s| s.message)
        .unwrap_or_else(|| excerpt(&answer.body));
    use crate::client::kube::access::{PROXY_CREATE, PROXY_GET};
    Error::ProxyRefused {
        url,
        status: answer.status,
        message: redact(&message),
        permission: format!(
            "{} and {} on {}",
            PROXY_GET.verb,
            PROXY_CREATE.verb,
            PROXY_GET.qualified()
        ),
        grant: grant.to_string(),
    }
}

/// `a=1&b=x%20y`: parameters as a query string or a form body.
fn form_encode(params: &[(&str, String)]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Unix seconds with millisecond precision, as Prometheus accepts them.
fn unix_seconds(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.{:03}",
        since_epoch.as_secs(),
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_the_first_line_and_bounds_its_length() {
        assert_eq!(excerpt("\n404 page not found\nmore"), "404 page not found");
        let long = "é".repeat(300);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn times_are_sent_as_unix_seconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(unix_seconds(time), "1700000000.250");
    }

    #[test]
    fn endpoints_keep_the_path_prefix() {
        let config = PrometheusConfig::new("http://127.0.0.1:9090/prom").expect("valid");
        let client = PrometheusClient::new(config).expect("client");
        assert_eq!(
            client.display_endpoint("api/v1/query"),
            "http://127.0.0.1:9090/prom/api/v1/query"
        );
    }
}
