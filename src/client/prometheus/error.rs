//! The errors of the Prometheus client: one variant per failure area, each
//! carrying the URL involved (never with credentials in it) and saying what to
//! do. The crate error wraps this type; mapping to exit statuses (3 for
//! [`Error::Unreachable`]) happens there, not here.

/// Result of a Prometheus client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to Prometheus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL or credentials onramp was given cannot be used to build a
    /// client (bad scheme, credentials inside the URL, conflicting settings).
    #[error("invalid Prometheus settings for {url}: {reason}")]
    Config {
        /// The base URL as given, with any credentials removed.
        url: String,
        /// What is wrong and what to use instead.
        reason: String,
    },

    /// No HTTP answer at all: connection refused, DNS failure, TLS failure or
    /// timeout, after every retry attempt.
    #[error(
        "cannot reach Prometheus at {url} after {attempts} attempt(s): {reason}; \
         check the Prometheus URL and that Prometheus is running and reachable from here"
    )]
    Unreachable {
        /// The endpoint that was tried.
        url: String,
        /// How many requests were sent before giving up.
        attempts: u32,
        /// The innermost cause (for example `Connection refused (os error 111)`).
        reason: String,
    },

    /// Prometheus (or a proxy in front of it) answered with an HTTP error
    /// status that is not a Prometheus API error body.
    #[error("Prometheus at {url} answered HTTP {status}{}", http_hint(*status, body))]
    Http {
        /// The endpoint that answered.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, trimmed (may be empty).
        body: String,
    },

    /// Prometheus (or a proxy in front of it) answered 401 or 403: it was
    /// reached, and it refused onramp's credentials.
    #[error("Prometheus at {url} {}", credentials_hint(*status, *credentials_sent))]
    CredentialsRejected {
        /// The endpoint that answered.
        url: String,
        /// 401 or 403.
        status: u16,
        /// Whether any credentials were sent.
        credentials_sent: bool,
    },

    /// Prometheus rejected the request with a `"status": "error"` body, for
    /// example a PromQL parse error (`bad_data`).
    #[error("Prometheus at {url} rejected the request ({error_type}): {error}")]
    Api {
        /// The endpoint that answered.
        url: String,
        /// Prometheus' `errorType` (`bad_data`, `execution`, `timeout`, …).
        error_type: String,
        /// Prometheus' own `error` text.
        error: String,
    },

    /// The answer was not what a Prometheus server sends.
    #[error(
        "unexpected answer from {url}: {reason}; is this the Prometheus base URL \
         (including any path prefix such as /prometheus)?"
    )]
    Decode {
        /// The endpoint that answered.
        url: String,
        /// What could not be understood.
        reason: String,
    },

    /// The Kubernetes API server refused to proxy to Prometheus' Service: a
    /// 401/403 `Status` refusing onramp's kubeconfig identity.
    #[error(
        "the Kubernetes API server refused to proxy to Prometheus at {url} (HTTP {status}: {message}); \
         the kubeconfig's identity needs {permission} in that namespace \
         ({grant}), or pass --prometheus-url"
    )]
    ProxyRefused {
        /// The proxied endpoint.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The API server's message.
        message: String,
        /// The permission the proxy needs, from the one registry
        /// (`get and create on services/proxy`).
        permission: String,
        /// What grants it: the role `onramp rbac COMMAND` prints for the
        /// command that ran.
        grant: String,
    },

    /// Through the service proxy, a 401/403 that is not the API server
    /// refusing onramp's identity (no `Status` with that reason): refused
    /// on the way to the Service, or by Prometheus itself.
    #[error(
        "the request to Prometheus at {url} through the Kubernetes API server's service proxy was refused (HTTP {status}: {body}), and not by the API server's authorization (that answers a Status with reason Forbidden): a network policy, an egress proxy or Prometheus itself refused it, which no RBAC rule changes; pass --prometheus-url to reach Prometheus another way"
    )]
    ProxyBlocked {
        /// The proxied endpoint.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The start of what was answered, redacted.
        body: String,
    },

    /// Prometheus did not take the new configuration or rule files.
    #[error("Prometheus at {url} did not apply the new configuration: {reason}")]
    ReloadFailed {
        /// The reload endpoint (or the metrics endpoint used to confirm it).
        url: String,
        /// Prometheus' own reason, or what the confirmation found.
        reason: String,
    },
}

impl Error {
    /// The URL the error is about.
    pub fn url(&self) -> &str {
        match self {
            Error::Config { url, .. }
            | Error::Unreachable { url, .. }
            | Error::Http { url, .. }
            | Error::CredentialsRejected { url, .. }
            | Error::ProxyRefused { url, .. }
            | Error::ProxyBlocked { url, .. }
            | Error::Api { url, .. }
            | Error::Decode { url, .. }
            | Error::ReloadFailed { url, .. } => url,
        }
    }

    /// True when Prometheus could not be reached at all (exit status 3).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Unreachable { .. })
    }

    /// True for a failure that waiting may cure, by the transport policy's
    /// rule ([`crate::client::retry::transient`]): no answer at all, or an
    /// answer saying "come back later" (429, 502, 503, 504 — Prometheus
    /// starting, or the service proxy before the Service has an endpoint).
    /// A rejected query or refused credentials are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Http { status, .. } => crate::client::retry::transient(*status),
            _ => false,
        }
    }
}

/// What a 401/403 means and what to set.
fn credentials_hint(status: u16, sent: bool) -> String {
    const SET: &str = "PROMETHEUS_TOKEN, or PROMETHEUS_USER and PROMETHEUS_PASSWORD";
    match (status, sent) {
        (403, _) => format!(
            "refused the request (HTTP 403): the credentials lack permission, or a proxy in \
             front of Prometheus denies it; check {SET}"
        ),
        (_, true) => format!("did not accept the credentials (HTTP {status}); check {SET}"),
        (_, false) => format!("asks for credentials (HTTP {status}) and none were sent; set {SET}"),
    }
}

/// The advice that follows an HTTP status, so the user knows what to change.
fn http_hint(status: u16, body: &str) -> String {
    let advice = match status {
        404 => "; check the base URL and its path prefix (for example /prometheus)",
        500..=599 => "; Prometheus or a proxy in front of it failed, try again later",
        _ => "",
    };
    if body.is_empty() {
        advice.to_string()
    } else {
        format!(" ({body}){advice}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_credentials_say_what_to_check() {
        let err = Error::CredentialsRejected {
            url: "http://prom:9090/api/v1/query".into(),
            status: 401,
            credentials_sent: true,
        };
        assert_eq!(
            err.to_string(),
            "Prometheus at http://prom:9090/api/v1/query did not accept the credentials \
             (HTTP 401); check PROMETHEUS_TOKEN, or PROMETHEUS_USER and PROMETHEUS_PASSWORD"
        );
        assert_eq!(err.url(), "http://prom:9090/api/v1/query");
        assert!(!err.is_unreachable());
    }

    #[test]
    fn waiting_waits_out_what_the_transport_policy_retries_and_nothing_else() {
        let url = "http://prom:9090/api/v1/query".to_string();
        let http = |status: u16| Error::Http {
            url: url.clone(),
            status,
            body: String::new(),
        };
        for status in [429, 502, 503, 504] {
            assert!(http(status).is_transient(), "{status}");
        }
        // A 500 is Prometheus' answer (a query that failed): asking again
        // gets it again, as the transport does not retry it either.
        for status in [400, 404, 422, 500] {
            assert!(!http(status).is_transient(), "{status}");
        }
        let unreachable = Error::Unreachable {
            url: url.clone(),
            attempts: 3,
            reason: "Connection refused (os error 111)".into(),
        };
        assert!(unreachable.is_transient());
        let rejected = Error::CredentialsRejected {
            url,
            status: 401,
            credentials_sent: true,
        };
        assert!(!rejected.is_transient());
    }
}
