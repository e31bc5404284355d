//! Grafana: the HTTP client that pushes and pulls the app's dashboards.

/// Errors talking to Grafana.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder until the client lands.
    #[error("grafana is not configured")]
    NotConfigured,
}
