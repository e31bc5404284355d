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

/// True for a failure that waiting may cure, by the transport policy's rule
/// (no answer, or 429/502/503/504: Prometheus not listening yet, or starting).
/// A rejected query or bad credentials are not retried.
pub fn worth_retrying(err: &Error) -> bool {
    err.is_transient()
}

/// Calls `attempt` until it succeeds, fails in a way waiting cannot cure, or
/// the deadline leaves no time for another try: the transport policy's
/// waiting ([`crate::client::retry::until`]).
pub async fn until_reachable<T, F, Fut>(
    deadline: Option<Instant>,
    interval: Duration,
    attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let deadline = crate::client::retry::Deadline {
        until: deadline,
        interval,
    };
    crate::client::retry::until(deadline, attempt, worth_retrying).await
}

/// The app's metrics with their types, help and label names: its series now
/// (as [`of_app`] reads them) and `/api/v1/metadata`, for proposing metrics
/// for a story (`onramp needs new`).
pub async fn exposures(
    client: &PrometheusClient,
    app: &App,
) -> Result<Vec<crate::needs::story::Exposure>> {
    let selector = format!(
        "{{namespace={},job={}}}",
        promql::quote(&app.namespace),
        promql::quote(&app.name)
    );
    let result = client.query(&selector, None).await?;
    let metadata: std::collections::BTreeMap<String, (String, String)> = client
        .metadata()
        .await?
        .into_iter()
        .filter_map(|(name, entries)| {
            let first = entries.into_iter().next()?;
            Some((name, (first.kind, first.help)))
        })
        .collect();
    Ok(crate::needs::story::exposures(
        result.samples().iter().map(|s| &s.labels),
        &metadata,
    ))
}
