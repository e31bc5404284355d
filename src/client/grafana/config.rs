//! How to reach Grafana: base URL, credentials, org, timeout and retry policy.
//!
//! Owns: [`GrafanaConfig`], built from `--grafana-url` and the `GRAFANA_*`
//! environment through an injected lookup function (so tests never mutate the
//! process environment), and [`Secret`], which keeps credentials out of every
//! `Debug` and `Display`. Does not own the CLI flags (the CLI passes the
//! `--grafana-url` value in).

use std::time::Duration;

use reqwest::Url;

use super::Error;

/// Environment variable holding the Grafana base URL.
pub const ENV_URL: &str = "GRAFANA_URL";
/// Environment variable holding a service-account token.
pub const ENV_TOKEN: &str = "GRAFANA_TOKEN";
/// Environment variable holding the basic-auth user.
pub const ENV_USER: &str = "GRAFANA_USER";
/// Environment variable holding the basic-auth password.
pub const ENV_PASSWORD: &str = "GRAFANA_PASSWORD";
/// Environment variable holding the org id sent as `X-Grafana-Org-Id`.
pub const ENV_ORG_ID: &str = "GRAFANA_ORG_ID";

pub use crate::client::secret::Secret;

/// How onramp authenticates to Grafana.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials (Grafana with anonymous access, or health checks only).
    #[default]
    None,
    /// A service-account token, sent as `Authorization: Bearer …`.
    Token(Secret),
    /// HTTP basic auth (self-hosted Grafana).
    Basic {
        /// Login.
        user: String,
        /// Password.
        password: Secret,
    },
}

impl Auth {
    /// A service-account token.
    pub fn token(token: impl Into<String>) -> Self {
        Auth::Token(Secret::new(token))
    }

    /// Basic auth with a login and password.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        Auth::Basic {
            user: user.into(),
            password: Secret::new(password),
        }
    }

    /// Whether any credential is configured.
    pub fn is_some(&self) -> bool {
        !matches!(self, Auth::None)
    }

    /// The secret part, so the client can scrub it from anything Grafana echoes.
    pub(crate) fn secret(&self) -> Option<&str> {
        match self {
            Auth::None => None,
            Auth::Token(t) => Some(t.expose()),
            Auth::Basic { password, .. } => Some(password.expose()),
        }
    }
}

/// Bounded exponential backoff: attempt `n` (from 1) waits
/// `min(base * 2^(n-1), cap)` before attempt `n + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt.
    pub base: Duration,
    /// Upper bound of any single wait.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait after failed attempt `attempt` (counted from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything needed to talk to one Grafana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaConfig {
    url: Url,
    auth: Auth,
    org_id: Option<u64>,
    timeout: Duration,
    retry: RetryPolicy,
}

impl GrafanaConfig {
    /// A config for `url` with no credentials, the default timeout and
    /// retries. User info in the URL (`http://admin:pw@host`) becomes basic
    /// auth and is removed from the URL, so it never shows in messages.
    pub fn new(url: &str) -> Result<Self, Error> {
        let (url, auth) = parse_base_url(url)?;
        Ok(GrafanaConfig {
            url,
            auth,
            org_id: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        })
    }

    /// Reads the config from `--grafana-url` (`url_flag`, wins over
    /// `GRAFANA_URL`) and the `GRAFANA_*` variables returned by `lookup`.
    /// A token (`GRAFANA_TOKEN`) wins over basic auth; empty values count as
    /// unset.
    pub fn from_lookup<F>(url_flag: Option<&str>, lookup: F) -> Result<Self, Error>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let url = match url_flag.map(str::trim).filter(|u| !u.is_empty()) {
            Some(flag) => flag.to_owned(),
            None => get(ENV_URL).ok_or(Error::MissingUrl)?,
        };
        let mut config = GrafanaConfig::new(&url)?;

        let token = get(ENV_TOKEN);
        let user = get(ENV_USER);
        // Passwords may legitimately start or end with spaces: do not trim.
        let password = lookup(ENV_PASSWORD).filter(|p| !p.is_empty());
        if let Some(token) = token {
            config.auth = Auth::token(token);
        } else {
            match (user, password) {
                (Some(user), Some(password)) => config.auth = Auth::basic(user, password),
                (Some(_), None) => return Err(Error::IncompleteBasicAuth { present: ENV_USER }),
                (None, Some(_)) => {
                    return Err(Error::IncompleteBasicAuth {
                        present: ENV_PASSWORD,
                    });
                }
                // Keep credentials that came in the URL, if any.
                (None, None) => {}
            }
        }

        if let Some(org) = get(ENV_ORG_ID) {
            match org.parse::<u64>() {
                Ok(id) if id > 0 => config.org_id = Some(id),
                _ => return Err(Error::InvalidOrgId { value: org }),
            }
        }
        Ok(config)
    }

    /// [`GrafanaConfig::from_lookup`] over the process environment.
    pub fn from_env(url_flag: Option<&str>) -> Result<Self, Error> {
        GrafanaConfig::from_lookup(url_flag, |name| std::env::var(name).ok())
    }

    /// Replaces the credentials.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the org sent as `X-Grafana-Org-Id` (`None`: the identity's default org).
    pub fn with_org_id(mut self, org_id: Option<u64>) -> Self {
        self.org_id = org_id;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = RetryPolicy {
            max_attempts: retry.max_attempts.max(1),
            ..retry
        };
        self
    }

    /// The base URL (always ending in `/`, never carrying user info).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The credentials.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The org id, if one is set.
    pub fn org_id(&self) -> Option<u64> {
        self.org_id
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }
}

/// Parses a base URL, moves user info into basic auth, and makes sure the
/// path ends in `/` so endpoint paths append below a sub-path (`/grafana/`).
fn parse_base_url(raw: &str) -> Result<(Url, Auth), Error> {
    let raw = raw.trim();
    let invalid = |reason: &str| Error::InvalidUrl {
        url: crate::client::secret::redact_userinfo(raw),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(invalid("there is no host"));
    }
    let auth = if url.username().is_empty() {
        Auth::None
    } else {
        Auth::basic(url.username(), url.password().unwrap_or_default())
    };
    // Cannot fail for http(s) URLs with a host, checked above.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok((url, auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::secret::lookup as env;

    #[test]
    fn flag_wins_over_env_and_token_wins_over_basic() -> Result<(), Error> {
        let config = GrafanaConfig::from_lookup(
            Some("http://flag:3000"),
            env(&[
                (ENV_URL, "http://env:3000"),
                (ENV_TOKEN, "glsa_secret"),
                (ENV_USER, "admin"),
                (ENV_PASSWORD, "pw"),
                (ENV_ORG_ID, "2"),
            ]),
        )?;
        assert_eq!(config.url().as_str(), "http://flag:3000/");
        assert_eq!(config.auth(), &Auth::token("glsa_secret"));
        assert_eq!(config.org_id(), Some(2));
        assert_eq!(config.timeout(), Duration::from_secs(10));
        Ok(())
    }

    #[test]
    fn basic_auth_from_env_and_empty_values_are_unset() -> Result<(), Error> {
        let config = GrafanaConfig::from_lookup(
            None,
            env(&[
                (ENV_URL, "https://grafana.example/sub"),
                (ENV_TOKEN, " "),
                (ENV_USER, "admin"),
                (ENV_PASSWORD, "pw"),
            ]),
        )?;
        assert_eq!(config.url().as_str(), "https://grafana.example/sub/");
        assert_eq!(config.auth(), &Auth::basic("admin", "pw"));
        Ok(())
    }

    #[test]
    fn missing_or_bad_settings_say_what_to_set() {
        let missing = GrafanaConfig::from_lookup(None, env(&[]));
        assert!(matches!(missing, Err(Error::MissingUrl)));
        let half =
            GrafanaConfig::from_lookup(None, env(&[(ENV_URL, "http://g"), (ENV_USER, "admin")]));
        assert_eq!(
            half.map(|_| ()).map_err(|e| e.to_string()),
            Err("basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD, but only GRAFANA_USER is set; \
                 set the other one, or use a service-account token in GRAFANA_TOKEN"
                .to_owned())
        );
        let org =
            GrafanaConfig::from_lookup(None, env(&[(ENV_URL, "http://g"), (ENV_ORG_ID, "main")]));
        assert!(matches!(org, Err(Error::InvalidOrgId { value }) if value == "main"));
        let scheme = GrafanaConfig::new("ftp://g");
        assert!(matches!(scheme, Err(Error::InvalidUrl { .. })));
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth_and_leave_the_url() -> Result<(), Error> {
        let config = GrafanaConfig::new("http://admin:hunter2@localhost:3000")?;
        assert_eq!(config.url().as_str(), "http://localhost:3000/");
        assert_eq!(config.auth(), &Auth::basic("admin", "hunter2"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        Ok(())
    }

    #[test]
    fn unparsable_urls_are_quoted_without_user_info() {
        let err = GrafanaConfig::new("http://admin:hunter2@local host:3000").map(|_| ());
        let text = err.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(
            text.starts_with("invalid Grafana URL \"http://***@local host:3000\""),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn debug_never_prints_secrets() -> Result<(), Error> {
        let config = GrafanaConfig::from_lookup(
            None,
            env(&[(ENV_URL, "http://g"), (ENV_TOKEN, "glsa_topsecret")]),
        )?;
        let debug = format!("{config:?}");
        assert!(!debug.contains("glsa_topsecret"), "{debug}");
        assert!(debug.contains("<redacted>"));
        let basic = config.with_auth(Auth::basic("admin", "pa55word"));
        assert!(!format!("{basic:?}").contains("pa55word"));
        Ok(())
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_millis(500),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(3), Duration::from_millis(500));
        assert_eq!(policy.backoff(40), Duration::from_millis(500));
    }
}
