//! How to reach Grafana: base URL, credentials, org, timeout, retry policy
//! and TLS.
//!
//! Owns: [`GrafanaConfig`], built from `--grafana-url` and the `GRAFANA_*`
//! environment through an injected lookup function (so tests never mutate the
//! process environment). The credentials policy, [`Auth`], [`RetryPolicy`]
//! and [`Tls`] are the shared transport's ([`crate::client::http`]). Does not
//! own the CLI flags (the CLI passes the `--grafana-url` value in).

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

pub use crate::client::http::{Auth, RetryPolicy, Tls};
pub use crate::client::secret::Secret;

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
    tls: Tls,
}

impl GrafanaConfig {
    /// A config for `url` with no credentials, the default timeout and
    /// retries. User info in the URL (`http://admin:pw@host`) becomes basic
    /// auth and is removed from the URL, so it never shows in messages.
    pub fn new(url: &str) -> Result<Self, Error> {
        let (url, auth) =
            crate::client::http::parse_base_url(url).map_err(|reason| Error::InvalidUrl {
                url: crate::client::secret::redact_userinfo(url),
                reason,
            })?;
        Ok(GrafanaConfig {
            url,
            auth,
            org_id: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            tls: Tls::default(),
        })
    }

    /// Reads the config from `--grafana-url` (`url_flag`, wins over
    /// `GRAFANA_URL`) and the `GRAFANA_*` variables returned by `lookup`.
    /// Credentials come from one place: `GRAFANA_TOKEN`, or `GRAFANA_USER`
    /// and `GRAFANA_PASSWORD`, or the URL's user info; empty values count as
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
        let from_env = crate::client::http::credentials_from("GRAFANA", &lookup)
            .map_err(|reason| Error::Credentials { reason })?;
        match (from_env, config.auth.is_some()) {
            (Some(_), true) => {
                return Err(Error::Credentials {
                    reason: "the Grafana URL carries a user and password and GRAFANA_TOKEN or                              GRAFANA_USER/GRAFANA_PASSWORD are set too; keep one of them"
                        .to_owned(),
                });
            }
            (Some(auth), false) => config.auth = auth,
            (None, _) => {}
        }

        if let Some(org) = get(ENV_ORG_ID) {
            match org.parse::<u64>() {
                Ok(id) if id > 0 => config.org_id = Some(id),
                _ => {
                    return Err(Error::InvalidOrgId {
                        length: org.chars().count(),
                    });
                }
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

    /// Sets how Grafana's certificate is checked.
    pub fn with_tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
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

    /// How Grafana's certificate is checked.
    pub fn tls(&self) -> &Tls {
        &self.tls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::secret::lookup as env;

    #[test]
    fn flag_wins_over_env() -> Result<(), Error> {
        let config = GrafanaConfig::from_lookup(
            Some("http://flag:3000"),
            env(&[
                (ENV_URL, "http://env:3000"),
                (ENV_TOKEN, "glsa_secret"),
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
            Err("invalid Grafana credentials: basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD, \
                 but only GRAFANA_USER is set; set the other one, or use a token in GRAFANA_TOKEN"
                .to_owned())
        );
        let org =
            GrafanaConfig::from_lookup(None, env(&[(ENV_URL, "http://g"), (ENV_ORG_ID, "main")]));
        assert!(matches!(org, Err(Error::InvalidOrgId { length: 4 })));
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
}
