//! How to reach one Prometheus: base URL (with any path prefix), credentials
//! from the environment, TLS verification, timeout and retry policy. It owns
//! reading `PROMETHEUS_TOKEN` / `PROMETHEUS_USER` / `PROMETHEUS_PASSWORD` and
//! keeping them out of `Debug` output; it does not send requests.

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

pub use crate::client::secret::Secret;

/// How onramp authenticates to Prometheus.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer(Secret),
    /// HTTP basic authentication.
    Basic {
        /// The user name (not secret).
        username: String,
        /// The password.
        password: Secret,
    },
}

impl Auth {
    /// Reads credentials through `lookup` (the process environment in
    /// production, a map in tests): a bearer token from [`TOKEN_ENV`], or
    /// basic auth from [`USER_ENV`] and [`PASSWORD_ENV`]. Empty values count as
    /// unset. Setting both kinds is refused rather than guessing which one
    /// Prometheus expects.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let token = get(TOKEN_ENV);
        let user = get(USER_ENV);
        let password = get(PASSWORD_ENV);
        match (token, user, password) {
            (None, None, None) => Ok(Auth::None),
            (Some(token), None, None) => Ok(Auth::Bearer(Secret::new(token))),
            (None, Some(username), Some(password)) => Ok(Auth::Basic {
                username,
                password: Secret::new(password),
            }),
            (Some(_), _, _) => Err(format!(
                "both {TOKEN_ENV} and {USER_ENV}/{PASSWORD_ENV} are set; \
                 set only {TOKEN_ENV} (bearer token) or only {USER_ENV} and {PASSWORD_ENV} (basic auth)"
            )),
            (None, Some(_), None) => Err(format!(
                "{USER_ENV} is set but {PASSWORD_ENV} is not; set both for basic auth"
            )),
            (None, None, Some(_)) => Err(format!(
                "{PASSWORD_ENV} is set but {USER_ENV} is not; set both for basic auth"
            )),
        }
    }
}

/// Bounded retries with exponential backoff, for 5xx answers, connection
/// errors and timeouts. 4xx answers are never retried: asking again would get
/// the same answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total number of attempts, the first one included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub base_delay: Duration,
    /// Upper bound on any single wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Everything needed to talk to one Prometheus.
#[derive(Clone, Debug)]
pub struct PrometheusConfig {
    /// The base URL, always ending in `/`, so that a path prefix
    /// (`/prometheus/`) or an API-server service proxy path is kept.
    pub base_url: Url,
    /// Credentials.
    pub auth: Auth,
    /// Accept any TLS certificate. Off unless the user asks.
    pub insecure_skip_tls_verify: bool,
    /// Time allowed for one HTTP request.
    pub timeout: Duration,
    /// Retries on transient failures.
    pub retry: RetryPolicy,
}

impl PrometheusConfig {
    /// Settings for the Prometheus at `url`, without credentials, TLS
    /// verification on, [`DEFAULT_TIMEOUT`] and the default retry policy.
    ///
    /// Credentials inside the URL are refused: they would end up in output
    /// and files; they belong in the environment.
    pub fn new(url: &str) -> Result<Self> {
        Ok(PrometheusConfig {
            base_url: parse_base_url(url)?,
            auth: Auth::None,
            insecure_skip_tls_verify: false,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// Like [`PrometheusConfig::new`], with credentials read through `lookup`
    /// (see [`Auth::from_lookup`]).
    pub fn from_lookup(url: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let config = Self::new(url)?;
        let auth = Auth::from_lookup(lookup).map_err(|reason| Error::Config {
            url: config.base_url.to_string(),
            reason,
        })?;
        Ok(config.with_auth(auth))
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

    /// Turns TLS certificate verification off (`--insecure-skip-tls-verify`).
    pub fn with_insecure_skip_tls_verify(mut self, insecure: bool) -> Self {
        self.insecure_skip_tls_verify = insecure;
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

/// Parses and normalises a base URL: http(s) only, no credentials, no query,
/// path ending in `/`.
fn parse_base_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim()).map_err(|err| Error::Config {
        url: crate::client::secret::redact_userinfo(raw),
        reason: format!(
            "not a URL ({err}); expected something like http://localhost:9090 \
             or https://host/prometheus"
        ),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config {
            url: crate::client::secret::redact_userinfo(raw),
            reason: format!(
                "unsupported scheme `{}`; use http:// or https://",
                url.scheme()
            ),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config {
            url: crate::client::secret::redact_userinfo(raw),
            reason: format!(
                "credentials in the URL are not accepted (they would show in output); \
                 set {TOKEN_ENV}, or {USER_ENV} and {PASSWORD_ENV}, instead"
            ),
        });
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
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
    fn credentials_in_the_url_are_refused_without_echoing_them() {
        let err = PrometheusConfig::new("http://admin:hunter2@prom:9090/").expect_err("refused");
        let message = err.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("http://***@prom:9090/"), "{message}");
        assert!(message.contains("PROMETHEUS_TOKEN"), "{message}");
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
        assert_eq!(config.auth, Auth::Bearer(Secret::new("tok-123")));

        let config = PrometheusConfig::from_lookup(
            "http://prom:9090",
            env(&[(USER_ENV, "ops"), (PASSWORD_ENV, "pw-456")]),
        )
        .expect("valid");
        assert_eq!(
            config.auth,
            Auth::Basic {
                username: "ops".into(),
                password: Secret::new("pw-456")
            }
        );

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
                .contains("set only PROMETHEUS_TOKEN (bearer token)"),
            "{err}"
        );
        let err = PrometheusConfig::from_lookup("http://prom:9090", env(&[(USER_ENV, "ops")]))
            .expect_err("partial");
        assert!(
            err.to_string()
                .contains("PROMETHEUS_PASSWORD is not; set both"),
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
        let bearer = format!("{:?}", Auth::Bearer(Secret::new("tok-123")));
        assert!(!bearer.contains("tok-123"), "{bearer}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let delays: Vec<u128> = (1..=5).map(|n| retry.delay_after(n).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500]);
        assert_eq!(retry.delay_after(60), Duration::from_millis(500));
    }
}
