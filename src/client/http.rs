//! The one HTTP transport of Grafana's and Prometheus' clients: credentials,
//! the base-URL and credentials-in-URL policy, TLS, and requests sent under
//! the shared transport policy ([`crate::client::retry`]: which requests are
//! retried, when a body may be replayed, the request log), which the
//! Kubernetes API server and its service proxy follow too.
//!
//! Owns: [`Auth`] (token or basic) and where credentials may come from
//! ([`credentials_from`], [`parse_base_url`]); [`Tls`] (the system trust
//! store, an extra CA file, or no verification when asked); what a reqwest
//! attempt came to, in the policy's terms. Does not own any service's
//! endpoints, answers or error messages: a client turns an [`Answer`] or a
//! [`Failure`] into its own error.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use reqwest::header::{ACCEPT, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::retry::{self, Tried};
use super::secret::{self, Secret};

pub use super::retry::{MAX_RETRY_AFTER, Replay, RetryPolicy};

/// What to do when a certificate is refused.
pub const TLS_ADVICE: &str =
    "for a private CA pass --ca-cert FILE, or --insecure-skip-tls-verify to accept any certificate";

/// How onramp authenticates to a service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// A token, sent as `Authorization: Bearer …`.
    Token(Secret),
    /// HTTP basic auth.
    Basic {
        /// Login (not secret).
        user: String,
        /// Password.
        password: Secret,
    },
}

impl Auth {
    /// A bearer token.
    pub fn token(token: impl Into<String>) -> Self {
        Auth::Token(Secret::new(token))
    }

    /// Basic auth; the base64 the header carries becomes a secret of the run.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        let (user, password) = (user.into(), password.into());
        secret::remember_basic(&user, &password);
        Auth::Basic {
            password: Secret::new(password),
            user,
        }
    }

    /// Whether any credential is configured.
    pub fn is_some(&self) -> bool {
        !matches!(self, Auth::None)
    }
}

/// Reads credentials from `{PREFIX}_TOKEN`, or `{PREFIX}_USER` and
/// `{PREFIX}_PASSWORD`, through `lookup`. Empty values count as unset. One
/// source only: a token and basic auth together, or half of basic auth, is
/// refused with what to set. `None` when nothing is set.
pub fn credentials_from(
    prefix: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Auth>, String> {
    let (token_var, user_var, password_var) = (
        format!("{prefix}_TOKEN"),
        format!("{prefix}_USER"),
        format!("{prefix}_PASSWORD"),
    );
    let token = lookup(&token_var).map(|t| t.trim().to_owned());
    let user = lookup(&user_var).map(|u| u.trim().to_owned());
    // Passwords may legitimately start or end with spaces: do not trim.
    let password = lookup(&password_var);
    let set = |v: Option<String>| v.filter(|v| !v.is_empty());
    match (set(token), set(user), set(password)) {
        (None, None, None) => Ok(None),
        (Some(token), None, None) => Ok(Some(Auth::token(token))),
        (None, Some(user), Some(password)) => Ok(Some(Auth::basic(user, password))),
        (Some(_), _, _) => Err(format!(
            "both {token_var} and {user_var}/{password_var} are set; set only {token_var} \
             (a token) or only {user_var} and {password_var} (basic auth)"
        )),
        (None, Some(_), None) => Err(format!(
            "basic auth needs both {user_var} and {password_var}, but only {user_var} is set; \
             set the other one, or use a token in {token_var}"
        )),
        (None, None, Some(_)) => Err(format!(
            "basic auth needs both {user_var} and {password_var}, but only {password_var} is set; \
             set the other one, or use a token in {token_var}"
        )),
    }
}

/// Parses a service's base URL: http(s) with a host; user info becomes basic
/// auth (percent-decoded) and leaves the URL, so it never shows in messages;
/// no query or fragment; the path ends in `/`, so endpoints append below a
/// sub-path (`/grafana/`). An error says what is wrong; quote the URL in it
/// through [`crate::client::secret::redact_userinfo`].
pub fn parse_base_url(raw: &str) -> Result<(Url, Auth), String> {
    let raw = raw.trim();
    let hint = "if a user name or password holds / # ? @ or :, percent-encode it \
                (for example / as %2F), or pass the credentials in the environment instead";
    let has_at = raw
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains('@'));
    let mut url = match Url::parse(raw) {
        Ok(url) => url,
        Err(err) if has_at => return Err(format!("not a URL ({err}); {hint}")),
        Err(err) => return Err(format!("not a URL ({err})")),
    };
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "the scheme `{}` is not supported; use http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none() {
        return Err("there is no host".to_owned());
    }
    // An `@` the parser did not read as the end of user info sits in the
    // path, query or fragment: almost surely a password cut at a `/`, `#` or `?`.
    if has_at && url.username().is_empty() {
        return Err(format!("it holds an `@` outside the user info; {hint}"));
    }
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let auth = if url.username().is_empty() {
        Auth::None
    } else {
        // The encoded spelling is a secret too: it is what a person typed.
        if let Some(encoded) = url.password() {
            secret::remember(encoded);
        }
        Auth::basic(decode(url.username()), decode(url.password().unwrap_or("")))
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

/// How a service's certificate is checked. One policy for every service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// A PEM file of extra trusted CAs (`--ca-cert`), added to the system's.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (`--insecure-skip-tls-verify`). Off unless asked.
    pub insecure_skip_verify: bool,
}

/// The body (or query string) of a request.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// Nothing.
    Empty,
    /// A JSON body.
    Json(&'a Value),
    /// An `application/x-www-form-urlencoded` body.
    Form(&'a [(&'a str, String)]),
    /// Query parameters appended to the URL.
    Query(&'a [(&'a str, String)]),
}

/// One HTTP answer, after retries, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The body, as text (invalid UTF-8 replaced).
    pub body: String,
    /// How many attempts were made.
    pub attempts: u32,
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreachable {
    /// The TCP/TLS connection could not be made (refused, DNS, TLS).
    Connect,
    /// No complete answer within the configured timeout.
    Timeout {
        /// The per-request timeout.
        after: Duration,
    },
    /// The connection broke while the request or response was in flight.
    Transport,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::Connect => {
                f.write_str("connection failed (refused, unknown host or TLS error)")
            }
            Unreachable::Timeout { after } => {
                write!(f, "no answer within {}", human_duration(*after))
            }
            Unreachable::Transport => f.write_str("the connection broke during the request"),
        }
    }
}

/// A request that got no answer, after every attempt the rules allow.
#[derive(Debug)]
pub struct Failure {
    /// What kind of failure.
    pub kind: Unreachable,
    /// How many attempts were made.
    pub attempts: u32,
    /// The innermost cause, redacted (`Connection refused (os error 111)`),
    /// with advice when it is a certificate problem.
    pub cause: String,
    /// The transport error.
    pub source: reqwest::Error,
}

impl Failure {
    /// Whether the server's certificate was refused.
    pub fn is_certificate(&self) -> bool {
        is_certificate(&innermost(&self.source))
    }
}

/// Whether an error's innermost cause is a refused certificate.
fn is_certificate(cause: &str) -> bool {
    cause.to_ascii_lowercase().contains("certificate")
}

/// The shared transport: one connection pool, credentials, retries, TLS.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    auth: Auth,
    retry: RetryPolicy,
    timeout: Duration,
}

/// Installs the TLS crypto provider once per process (reqwest is built
/// without one, see Cargo.toml); the Kubernetes client shares it.
pub(crate) fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is already installed: fine either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Transport {
    /// A transport with these credentials, per-request timeout, retries and TLS.
    /// Fails when the CA file cannot be read or holds no certificate.
    pub fn new(
        auth: Auth,
        timeout: Duration,
        retry: RetryPolicy,
        tls: &Tls,
    ) -> Result<Self, String> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("onramp/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(tls.insecure_skip_verify);
        if let Some(path) = &tls.ca_cert {
            builder = builder.tls_certs_merge(read_ca(path)?);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", innermost(&e)))?;
        let retry = RetryPolicy {
            max_attempts: retry.max_attempts.max(1),
            ..retry
        };
        Ok(Transport {
            http,
            auth,
            retry,
            timeout,
        })
    }

    /// The credentials.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends a request under the transport policy ([`retry::send`]):
    /// retried as `replay` and the retry policy allow, every attempt logged
    /// (method, URL, status, time) at `-v`.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Body<'_>,
        headers: &[(&'static str, String)],
        replay: Replay,
    ) -> Result<Answer, Failure> {
        let request = retry::Request {
            method: method.as_str(),
            url: url.as_str(),
            replay,
        };
        let once = || self.attempt(&method, url, body, headers);
        let judge = |outcome: &Exchange| match outcome {
            Ok((status, retry_after, _)) => (
                Tried::Answered {
                    status: status.as_u16(),
                    retry_after: retry_after.as_ref().and_then(parse_retry_after),
                },
                status.to_string(),
            ),
            Err(err) => (tried(err), self.kind(err).to_string()),
        };
        match retry::send(&self.retry, request, once, judge).await {
            (Ok((status, _, body)), attempts) => Ok(Answer {
                status,
                body,
                attempts,
            }),
            (Err(err), attempts) => Err(Failure {
                kind: self.kind(&err),
                attempts,
                cause: describe(&err),
                source: err,
            }),
        }
    }

    /// One HTTP exchange: status, `Retry-After` and the whole body.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Body<'_>,
        headers: &[(&'static str, String)],
    ) -> Exchange {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        // reqwest marks both auth headers sensitive, so they stay out of its Debug output.
        request = match &self.auth {
            Auth::None => request,
            Auth::Token(token) => request.bearer_auth(token.expose()),
            Auth::Basic { user, password } => request.basic_auth(user, Some(password.expose())),
        };
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(value),
            Body::Form(pairs) => request.form(pairs),
            Body::Query(pairs) => request.query(pairs),
        };
        let response = request.send().await?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let bytes = response.bytes().await?;
        Ok((
            status,
            retry_after,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }

    /// What kind of failure a transport error is.
    fn kind(&self, err: &reqwest::Error) -> Unreachable {
        if err.is_timeout() {
            Unreachable::Timeout {
                after: self.timeout,
            }
        } else if err.is_connect() {
            Unreachable::Connect
        } else {
            Unreachable::Transport
        }
    }
}

/// One attempt: status, `Retry-After` and the whole body, or why none came.
type Exchange = Result<(StatusCode, Option<HeaderValue>, String), reqwest::Error>;

/// What an attempt that got no answer came to, in the policy's terms.
fn tried(err: &reqwest::Error) -> Tried {
    if err.is_builder() || err.is_redirect() {
        Tried::Unsendable
    } else if err.is_connect() && !err.is_timeout() {
        // No connection was made: the request never reached the server.
        Tried::NotSent
    } else {
        Tried::Lost
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Reads a PEM bundle of CA certificates.
fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read the CA certificate file {}: {e}",
            path.display()
        )
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        format!(
            "{} is not a PEM certificate bundle: {}",
            path.display(),
            innermost(&e)
        )
    })?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Why a request got no answer, in words a user can act on, redacted.
fn describe(err: &reqwest::Error) -> String {
    let cause = innermost(err);
    let text = if is_certificate(&cause) {
        format!("TLS failed: {cause}; {TLS_ADVICE}")
    } else {
        cause
    };
    secret::redact(&text)
}

/// The deepest error in a source chain: the one that names the real cause.
pub fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// `10s`, `250ms`: short and exact for the durations a timeout takes.
pub fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::secret::lookup as env;
    use crate::client::secret::redact_userinfo;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let secs = HeaderValue::from_static("3");
        assert_eq!(parse_retry_after(&secs), Some(Duration::from_secs(3)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let garbage = dir.path().join("ca.pem");
        std::fs::write(&garbage, "not a certificate\n").expect("write");
        for path in [garbage, dir.path().join("missing.pem")] {
            let tls = Tls {
                ca_cert: Some(path.clone()),
                insecure_skip_verify: false,
            };
            let err = Transport::new(
                Auth::None,
                Duration::from_secs(1),
                RetryPolicy::none(),
                &tls,
            )
            .map(|_| ())
            .expect_err("refused");
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn credentials_come_from_one_source() {
        let token = credentials_from("GRAFANA", env(&[("GRAFANA_TOKEN", "glsa_x")]));
        assert_eq!(token, Ok(Some(Auth::token("glsa_x"))));
        let basic = credentials_from(
            "PROMETHEUS",
            env(&[("PROMETHEUS_USER", "ops"), ("PROMETHEUS_PASSWORD", " pw ")]),
        );
        assert_eq!(basic, Ok(Some(Auth::basic("ops", " pw "))));
        assert_eq!(credentials_from("X", env(&[("X_TOKEN", "")])), Ok(None));
        let both = credentials_from(
            "X",
            env(&[("X_TOKEN", "t"), ("X_USER", "u"), ("X_PASSWORD", "p")]),
        );
        assert!(
            matches!(&both, Err(m) if m.contains("set only X_TOKEN")),
            "{both:?}"
        );
        let half = credentials_from("X", env(&[("X_USER", "u")]));
        assert!(
            matches!(&half, Err(m) if m.contains("only X_USER is set")),
            "{half:?}"
        );
    }

    #[test]
    fn user_info_becomes_basic_auth_percent_decoded_and_leaves_the_url() {
        let (url, auth) =
            parse_base_url("http://admin:p%2Fss%23w@localhost:3000/sub").expect("valid");
        assert_eq!(url.as_str(), "http://localhost:3000/sub/");
        assert_eq!(auth, Auth::basic("admin", "p/ss#w"));
    }

    #[test]
    fn a_password_with_url_delimiters_is_never_quoted_and_the_fix_is_named() {
        for (raw, password) in [
            ("http://admin:p/ss@localhost:3000", "p/ss"),
            ("http://admin:pa#ss@localhost:3000", "pa#ss"),
            ("http://admin:pa?ss@localhost:3000", "pa?ss"),
            ("http://admin:12/34@localhost:3000", "12/34"),
        ] {
            let err = parse_base_url(raw).expect_err(raw);
            assert!(!err.contains(password), "{err}");
            assert!(err.contains("percent-encode"), "{err}");
            assert_eq!(redact_userinfo(raw), "http://***@localhost:3000");
        }
    }
}
