//! Grafana: the HTTP client that pushes and pulls the app's dashboards.
//!
//! Owns everything onramp says to Grafana's HTTP API (`/api/*`, the contract
//! in `reference/grafana-http-api.md`) and to Grafana 12+'s resource API
//! for dashboards (`/apis/dashboard.grafana.app`, [`resource`]): configuration and credentials
//! ([`GrafanaConfig`]), the client ([`Client`], over the shared transport
//! of [`crate::client::http`], which owns auth, TLS and retries), typed
//! answers ([`model`]), the errors ([`Error`]) and the pure dashboard
//! normaliser ([`normalize()`]). Does not own rendering dashboards (render),
//! deciding what to push (plan/apply) or writing files (codify).
//!
//! Credentials never leave [`config::Secret`] except into a request header:
//! they are absent from every `Debug`, `Display` and error, and any text
//! Grafana sends back is redacted ([`crate::client::secret::redact`]) before
//! it is quoted.

pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod normalize;
pub mod resource;

pub use client::Client;
pub use config::{Auth, GrafanaConfig, RetryPolicy, Secret, Tls};
pub use error::{Error, Unreachable};
pub use model::{
    DashboardMeta, Datasource, DatasourceList, Folder, Health, LiveDashboard, SaveResult, Schema,
    SearchHit,
};
pub use normalize::normalize;
pub use resource::ServerInfo;

/// Results of Grafana calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
