//! Prometheus: the HTTP client used by verify and the plain-Prometheus sink.

/// Errors talking to Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder until the client lands.
    #[error("prometheus is not configured")]
    NotConfigured,
}
