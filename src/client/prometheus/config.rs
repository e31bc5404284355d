//! How to reach one Prometheus: base URL (with any path prefix), credentials
//! from the environment or the URL, TLS, timeout and retry policy. It owns
//! reading `PROMETHEUS_TOKEN` / `PROMETHEUS_USER` / `PROMETHEUS_PASSWORD`
//! (through [`crate::client::http`]'s one credentials policy); it does not
//! send requests.

use std::time::Duration;

use reqwest::Url;

use super::error::{Error, Result};

/// Environment variable holding a bearer token for Prometheus.
pub const TOKEN_ENV: &str = "PROMETHEUS_TOKEN";
/// Environment variable holding the basic-auth user for Prometheus.
pub const USER_ENV: &str = "PROMETHEUS_USER";
/// Environment variable holding the basic-auth password for Prometheus.
pub const PASSWORD_ENV: &str = "PROMETHEUS_PASSWORD";

/// Default time allowed for one HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::client::http::{Auth, RetryPolicy, Tls};
pub use crate::client::secret::Secret;

/// Everything needed to talk to one Prometheus.
#[derive(Clone, Debug)]
pub struct PrometheusConfig {
    /// The base URL, always ending in `/`, so that a path prefix
    /// (`/prometheus/`) or an API-server service proxy path is kept.
    pub base_url: Url,
    /// Credentials.
    pub auth: Auth,
    /// How Prometheus' certificate is checked.
    pub tls: Tls,
    /// Time allowed for one HTTP request.
    pub timeout: Duration,
    /// Retries on transient failures.
    pub retry: RetryPolicy,
}

impl PrometheusConfig {
    /// Settings for the Prometheus at `url`, TLS verification on,
    /// [`DEFAULT_TIMEOUT`] and the default retry policy. User info in the URL
    /// becomes basic auth and leaves the URL, as for Grafana.
    pub fn new(url: &str) -> Result<Self> {
        let (base_url, auth) =
            crate::client::http::parse_base_url(url).map_err(|reason| Error::Config {
                url: crate::client::secret::redact_userinfo(url),
                reason: format!(
                    "{reason}; expected something like http://localhost:9090 \
                     or https://host/prometheus"
                ),
            })?;
        Ok(PrometheusConfig {
            base_url,
            auth,
            tls: Tls::default(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// Like [`PrometheusConfig::new`], with credentials read through `lookup`
    /// (see [`crate::client::http::credentials_from`]): from one place only,
    /// the environment or the URL.
    pub fn from_lookup(url: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let config = Self::new(url)?;
        let invalid = |reason: String| Error::Config {
            url: config.base_url.to_string(),
            reason,
        };
        match crate::client::http::credentials_from("PROMETHEUS", lookup).map_err(invalid)? {
            Some(_) if config.auth.is_some() => Err(invalid(format!(
                "the URL carries a user and password and {TOKEN_ENV} or \
                 {USER_ENV}/{PASSWORD_ENV} are set too; keep one of them"
            ))),
            Some(auth) => Ok(config.with_auth(auth)),
            None => Ok(config),
        }
    }

    /// Like [`PrometheusConfig::new`], with credentials from the process
    /// environment.
    pub fn from_env(url: &str) -> Result<Self> {
        Self::from_lookup(url, |name| std::env::var(name).ok())
    }

    /// Replaces the credentials.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets how Prometheus' certificate is checked (`--ca-cert`,
    /// `--insecure-skip-tls-verify`).
    pub fn with_tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Replaces the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::secret::lookup as env;

    #[test]
    fn base_url_keeps_the_path_prefix_and_ends_in_slash() {
        let config = PrometheusConfig::new("https://example.com/prometheus").expect("valid");
        assert_eq!(config.base_url.as_str(), "https://example.com/prometheus/");
        assert_eq!(
            config.base_url.join("api/v1/query").expect("join").as_str(),
            "https://example.com/prometheus/api/v1/query"
        );
        let proxy = PrometheusConfig::new(
            "https://k8s:6443/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/",
        )
        .expect("valid");
        assert_eq!(
            proxy.base_url.join("-/reload").expect("join").as_str(),
            "https://k8s:6443/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/-/reload"
        );
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth_and_may_not_meet_env_ones() {
        let config = PrometheusConfig::new("http://admin:hunter2@prom:9090/").expect("valid");
        assert_eq!(config.base_url.as_str(), "http://prom:9090/");
        assert_eq!(config.auth, Auth::basic("admin", "hunter2"));
        let err = PrometheusConfig::from_lookup(
            "http://admin:hunter2@prom:9090/",
            env(&[(TOKEN_ENV, "tok")]),
        )
        .expect_err("two sources");
        let message = err.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("keep one of them"), "{message}");
    }

    #[test]
    fn unsupported_scheme_names_the_valid_ones() {
        let err = PrometheusConfig::new("ftp://prom").expect_err("refused");
        assert!(err.to_string().contains("use http:// or https://"), "{err}");
    }

    #[test]
    fn token_and_basic_auth_come_from_the_lookup() {
        let config =
            PrometheusConfig::from_lookup("http://prom:9090", env(&[(TOKEN_ENV, "tok-123")]))
                .expect("valid");
        assert_eq!(config.auth, Auth::token("tok-123"));

        let config = PrometheusConfig::from_lookup(
            "http://prom:9090",
            env(&[(USER_ENV, "ops"), (PASSWORD_ENV, "pw-456")]),
        )
        .expect("valid");
        assert_eq!(config.auth, Auth::basic("ops", "pw-456"));

        let none =
            PrometheusConfig::from_lookup("http://prom:9090", env(&[(TOKEN_ENV, "")])).expect("ok");
        assert_eq!(none.auth, Auth::None);
    }

    #[test]
    fn conflicting_or_partial_credentials_say_what_to_set() {
        let err = PrometheusConfig::from_lookup(
            "http://prom:9090",
            env(&[(TOKEN_ENV, "tok"), (USER_ENV, "ops"), (PASSWORD_ENV, "pw")]),
        )
        .expect_err("conflict");
        assert!(
            err.to_string()
                .contains("set only PROMETHEUS_TOKEN (a token)"),
            "{err}"
        );
        let err = PrometheusConfig::from_lookup("http://prom:9090", env(&[(USER_ENV, "ops")]))
            .expect_err("partial");
        assert!(
            err.to_string().contains("only PROMETHEUS_USER is set"),
            "{err}"
        );
    }

    #[test]
    fn debug_never_prints_secrets() {
        let config = PrometheusConfig::from_lookup(
            "http://prom:9090",
            env(&[(USER_ENV, "ops"), (PASSWORD_ENV, "pw-456")]),
        )
        .expect("valid");
        let debug = format!("{config:?}");
        assert!(!debug.contains("pw-456"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let bearer = format!("{:?}", Auth::token("tok-123"));
        assert!(!bearer.contains("tok-123"), "{bearer}");
    }
}
