//! What Prometheus exposes for one app: its series now (names, label names,
//! histogram buckets), which [`super::resolve`] maps each signal onto. The
//! pipeline asks it before planning; `verify` and `troubleshoot` plan through
//! the same question, so they read what the dashboards read.
//!
//! Asking again while Prometheus cannot be reached (`verify --wait`: CI may
//! start Prometheus just before) lives here too, with the rule for which
//! failures waiting may cure.

use std::time::{Duration, Instant};

use crate::app::App;
use crate::client::prometheus::{Error, PrometheusClient, Result};
use crate::needs::promql;
use crate::needs::resolve::Exposed;

/// The app's series now (names, label names, histogram buckets), for
/// resolving each signal to the convention the app really exposes.
pub async fn of_app(client: &PrometheusClient, app: &App) -> Result<Exposed> {
    let selector = format!(
        "{{namespace={},job={}}}",
        promql::quote(&app.namespace),
        promql::quote(&app.name)
    );
    // An instant query rather than /api/v1/series: it sees only series
    // scraped in the last five minutes, not ones that went stale long ago.
    let result = client.query(&selector, None).await?;
    Ok(Exposed::from_series(
        result.samples().iter().map(|s| &s.labels),
    ))
}

/// As [`of_app`], asking again every `interval` until `deadline` while
/// Prometheus cannot be reached.
pub async fn of_app_until(
    client: &PrometheusClient,
    app: &App,
    deadline: Option<Instant>,
    interval: Duration,
) -> Result<Exposed> {
    until_reachable(deadline, interval, || of_app(client, app)).await
}

/// True for a failure that waiting may cure: Prometheus not listening yet,
/// or answering 5xx while it starts. A rejected query or bad credentials are
/// not retried.
pub fn worth_retrying(err: &Error) -> bool {
    match err {
        Error::Unreachable { .. } => true,
        Error::Http { status, .. } => *status >= 500,
        _ => false,
    }
}

/// Calls `attempt` until it succeeds, fails in a way waiting cannot cure, or
/// the deadline leaves no time for another try.
pub async fn until_reachable<T, F, Fut>(
    deadline: Option<Instant>,
    interval: Duration,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    loop {
        match attempt().await {
            // Up to the deadline itself: the last try may come after a
            // shorter pause, so that `--wait 2m` waits two minutes, not less.
            Err(err) if worth_retrying(&err) && deadline.is_some_and(|d| Instant::now() < d) => {
                let left = deadline.map_or(Duration::ZERO, |d| d - Instant::now().min(d));
                tokio::time::sleep(interval.min(left)).await;
            }
            outcome => return outcome,
        }
    }
}
