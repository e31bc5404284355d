//! The Grafana client's error type: one variant per way talking to Grafana can
//! fail, each carrying the URL, uid or name involved.
//!
//! Owns: [`Error`] and the small display helpers it needs. Does not own exit
//! statuses or the crate-wide error (the crate error wraps this one).
//!
//! Variants are chosen from HTTP status codes and Grafana's `status` field,
//! never from message text. No variant ever holds a credential: URLs are
//! stored without user info, and messages quoted from Grafana are scrubbed of
//! the secret before they get here.

use super::model::DatasourceList;

pub use crate::client::http::Unreachable;

/// Everything that can go wrong while configuring or calling Grafana.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No Grafana URL was given at all.
    #[error(
        "no Grafana URL: pass --grafana-url or set GRAFANA_URL (for example http://localhost:3000)"
    )]
    MissingUrl,

    /// The Grafana URL could not be parsed or is not http(s).
    #[error("invalid Grafana URL {url:?}: {reason}; expected something like http://localhost:3000")]
    InvalidUrl {
        /// The URL as given, with any user info replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// `GRAFANA_ORG_ID` is not a positive integer. Its value is never
    /// repeated: a token pasted into the wrong variable must not be printed.
    #[error(
        "GRAFANA_ORG_ID must be the number of a Grafana organisation, such as 1 \
         (Administration → Organizations), but its value ({length} characters) is not a positive \
         whole number; unset it to use the credentials' default organisation"
    )]
    InvalidOrgId {
        /// How many characters the value has (the value itself is not kept).
        length: usize,
    },

    /// The credentials settings are incomplete or come from two places.
    #[error("invalid Grafana credentials: {reason}")]
    Credentials {
        /// What is wrong and what to set.
        reason: String,
    },

    /// The HTTP client itself could not be built (the CA file, TLS setup).
    #[error("could not set up the HTTP client for Grafana: {reason}")]
    HttpClient {
        /// What failed.
        reason: String,
    },

    /// No answer from Grafana: connection refused, DNS failure, TLS failure or
    /// timeout, after every attempt the retry policy allows.
    #[error(
        "cannot reach Grafana at {url}: {reason} (after {attempts} attempt(s)); {}",
        if *certificate { crate::client::http::TLS_ADVICE } else { "check --grafana-url / GRAFANA_URL and that Grafana is running" }
    )]
    Unreachable {
        /// The URL that was requested.
        url: String,
        /// Why the request got no answer.
        reason: Unreachable,
        /// Whether Grafana's certificate was refused.
        certificate: bool,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying transport error.
        #[source]
        source: reqwest::Error,
    },

    /// Grafana answered 401: the credentials are missing, wrong or expired.
    #[error(
        "Grafana at {url} rejected the request as unauthenticated (401): {hint}",
        hint = if *credentials_sent {
            "the token or user/password was not accepted; check GRAFANA_TOKEN (or GRAFANA_USER/GRAFANA_PASSWORD)"
        } else {
            "no credentials were sent; set GRAFANA_TOKEN to a service-account token (or GRAFANA_USER/GRAFANA_PASSWORD)"
        }
    )]
    Unauthorized {
        /// The URL that was requested.
        url: String,
        /// Whether any credentials were sent.
        credentials_sent: bool,
    },

    /// Grafana answered 403: the identity is valid but lacks permission.
    #[error(
        "Grafana refused {method} {url} (403): the credentials are valid but lack permission; \
         the service account needs the Editor role (Admin to manage datasources)"
    )]
    Forbidden {
        /// The HTTP method.
        method: String,
        /// The URL that was requested.
        url: String,
    },

    /// Saving was refused because the dashboard changed since it was read
    /// (412 `version-mismatch`). Never retried.
    #[error(
        "dashboard {uid} was changed in Grafana by someone else since it was read (412 version-mismatch); \
         read the live copy again, or save with overwrite to replace it"
    )]
    VersionMismatch {
        /// The dashboard uid.
        uid: String,
    },

    /// An update through the resource API was refused because the dashboard
    /// changed since it was read (409 Conflict on `metadata.resourceVersion`,
    /// or 409 AlreadyExists on a create). Never retried.
    #[error(
        "dashboard {uid} was changed in Grafana by someone else since it was read (409 Conflict on its resourceVersion); \
         read the live copy again, or save with overwrite to replace it"
    )]
    ResourceConflict {
        /// The dashboard uid.
        uid: String,
    },

    /// A dashboard in the resource API's form, for a version of
    /// `dashboard.grafana.app` this Grafana does not serve.
    #[error(
        "dashboard {uid} is a {api_version} resource, but {server}; \
         push it to a Grafana that serves that version (Grafana 12 and later), or codify the dashboard again from this Grafana"
    )]
    NotServed {
        /// The dashboard uid.
        uid: String,
        /// The dashboard's `apiVersion`.
        api_version: String,
        /// What the Grafana is and serves.
        server: String,
    },

    /// Saving was refused because a plugin owns the dashboard (412 `plugin-dashboard`).
    #[error(
        "dashboard {uid} belongs to a Grafana plugin (412 plugin-dashboard); save with overwrite to take it over"
    )]
    PluginDashboard {
        /// The dashboard uid.
        uid: String,
    },

    /// Saving was refused because another dashboard in the folder has the same
    /// title (412 `name-exists`, Grafana 11.2 and older).
    #[error(
        "another dashboard in the same folder already has the title of dashboard {uid} (412 name-exists); \
         rename it, or save with overwrite to take over the other dashboard"
    )]
    NameExists {
        /// The uid of the dashboard being saved.
        uid: String,
    },

    /// The dashboard is provisioned (from files or a ConfigMap) and the API
    /// may not change or delete it.
    #[error(
        "dashboard {uid} is provisioned (from files or a ConfigMap) and cannot be changed through the API; \
         change its source, or use another uid"
    )]
    Provisioned {
        /// The dashboard uid.
        uid: String,
    },

    /// The folder to save into does not exist.
    #[error(
        "folder {uid} does not exist in Grafana; create it first (ensure_folder) or save at the root"
    )]
    FolderNotFound {
        /// The folder uid.
        uid: String,
    },

    /// The dashboard to update does not exist (404 `not-found` on save).
    #[error(
        "dashboard {uid} does not exist in Grafana (404 on save); remove its numeric id to create it"
    )]
    DashboardNotFound {
        /// The dashboard uid.
        uid: String,
    },

    /// A datasource was named but none has that name (or uid).
    #[error("no Grafana datasource is named {name:?}; the datasources are: {found}")]
    DatasourceNotFound {
        /// The name asked for.
        name: String,
        /// Every datasource Grafana listed.
        found: DatasourceList,
    },

    /// The named datasource exists but is not of type `prometheus`.
    #[error(
        "Grafana datasource {name:?} has type {kind:?}, expected \"prometheus\"; the datasources are: {found}"
    )]
    DatasourceNotPrometheus {
        /// The name asked for.
        name: String,
        /// Its actual type.
        kind: String,
        /// Every datasource Grafana listed.
        found: DatasourceList,
    },

    /// No datasource was named and Grafana has no Prometheus datasource.
    #[error(
        "Grafana has no datasource of type \"prometheus\"; add one, or name one in onramp.yaml. The datasources are: {found}"
    )]
    NoPrometheusDatasource {
        /// Every datasource Grafana listed.
        found: DatasourceList,
    },

    /// No datasource was named, several are Prometheus and none is the default.
    #[error(
        "Grafana has several Prometheus datasources and none is the default; name one in onramp.yaml. \
         The datasources are: {found}"
    )]
    AmbiguousPrometheusDatasource {
        /// Every datasource Grafana listed.
        found: DatasourceList,
    },

    /// Grafana answered 5xx on every attempt.
    #[error(
        "Grafana failed to answer {method} {url} with {status} after {attempts} attempt(s): {message}"
    )]
    Server {
        /// The HTTP method.
        method: String,
        /// The URL that was requested.
        url: String,
        /// The last status code.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// Grafana's message, if any.
        message: String,
    },

    /// Grafana refused the request with a status no other variant covers
    /// (mostly 400: empty title, illegal uid, …).
    #[error("Grafana rejected {method} {url} with {status}: {message}")]
    Rejected {
        /// The HTTP method.
        method: String,
        /// The URL that was requested.
        url: String,
        /// The status code.
        status: u16,
        /// Grafana's message, if any.
        message: String,
    },

    /// Grafana answered 2xx with a body that is not the expected JSON; the URL
    /// probably does not point at Grafana.
    #[error(
        "unexpected answer from {url}: not the JSON Grafana sends; does the URL point at Grafana?"
    )]
    InvalidResponse {
        /// The URL that was requested.
        url: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_says_what_to_set() {
        let sent = Error::Unauthorized {
            url: "http://g/api/search".into(),
            credentials_sent: true,
        };
        assert!(
            sent.to_string()
                .contains("was not accepted; check GRAFANA_TOKEN")
        );
        let none = Error::Unauthorized {
            url: "http://g/api/search".into(),
            credentials_sent: false,
        };
        assert!(none.to_string().contains("no credentials were sent"));
    }
}
