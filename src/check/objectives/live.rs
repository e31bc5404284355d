//! What Prometheus says of each objective that is on: its SLI has data
//! (events per second and the error ratio now, from the raw series), how
//! many series its rules read and will write, and the backtest.

use serde::Serialize;

use crate::client::prometheus::{PrometheusClient, Result};
use crate::needs::objective::{ResolvedObjective, Sli, Split};
use crate::plan::{ObjectiveStatus, Plan};

/// One objective of the plan, checked against live data.
#[derive(Debug, Clone, Serialize)]
pub struct LiveObjective {
    /// The need.
    pub need: String,
    /// The objective's id.
    pub id: String,
    /// Events per second over the last 5 minutes (`None`: no data).
    pub events_per_second: Option<f64>,
    /// The error ratio over the last 5 minutes (`None`: no events).
    pub error_ratio: Option<f64>,
    /// Raw series the 5-minute rules read at every evaluation.
    pub series_read: usize,
    /// Series the recording rules will write.
    pub series_written: usize,
    /// What is wrong, when the SLI cannot work as it is.
    pub problem: Option<String>,
}

impl LiveObjective {
    /// Its data and cost in one line: `65.1 events/s, 0.2 % bad now; its
    /// rules read 4 series and write 16`.
    pub fn summary(&self) -> String {
        use crate::check::result::number;
        use crate::needs::objective::percent;
        let now = match (self.events_per_second, self.error_ratio) {
            (Some(events), Some(ratio)) => {
                format!("{} events/s, {} bad now", number(events), percent(ratio))
            }
            (Some(events), None) => format!("{} events/s", number(events)),
            _ => "no events now".to_string(),
        };
        format!(
            "{now}; its rules read {} series and write {}",
            self.series_read, self.series_written
        )
    }
}

/// Checks every objective of `plan` that is on, in the plan's order.
pub async fn check(client: &PrometheusClient, plan: &Plan) -> Result<Vec<LiveObjective>> {
    let mut out = Vec::new();
    for need in &plan.needs {
        for planned in &need.objectives {
            if let ObjectiveStatus::On {
                objective,
                recording_rules,
                ..
            } = &planned.status
            {
                out.push(check_one(client, &need.id, objective, *recording_rules).await?);
            }
        }
    }
    Ok(out)
}

/// The selectors an objective's 5-minute rules read, every event's first.
fn selectors(objective: &ResolvedObjective) -> Vec<&str> {
    match &objective.sli {
        Sli::Events { total, split } => {
            let part = match split {
                Split::Bad(s) | Split::Good(s) => s,
            };
            vec![total, part]
        }
        Sli::Latency { total, good, .. } => vec![total, good],
    }
}

async fn check_one(
    client: &PrometheusClient,
    need: &str,
    objective: &ResolvedObjective,
    recording_rules: usize,
) -> Result<LiveObjective> {
    let events = client.query(&objective.events_rate("5m"), None).await?;
    let ratio = client.query(&objective.error_ratio("5m"), None).await?;
    let mut counts = Vec::new();
    for selector in selectors(objective) {
        let count = client
            .query(&format!("count({selector})"), None)
            .await?
            .first_value()
            .unwrap_or(0.0) as usize;
        counts.push((selector, count));
    }
    let series_read = counts.iter().map(|(_, n)| n).sum();
    // The failed events' series may not exist until the first failure;
    // without any series of every event the SLI never sees one.
    let empty: Vec<&str> = counts
        .iter()
        .take(1)
        .filter(|(_, n)| *n == 0)
        .map(|(s, _)| *s)
        .collect();
    let sli_series = match &ratio {
        crate::client::prometheus::QueryResult::Vector(samples) => samples.len().max(1),
        _ => 1,
    };
    let problem = if !empty.is_empty() {
        Some(format!(
            "no series match {}: the objective would never see an event (check the signal's mapping with `onramp plan --prometheus-url`)",
            empty.join(" or ")
        ))
    } else if events.first_value().is_none_or(|v| v == 0.0) {
        Some("no events in the last 5 minutes: the SLI has nothing to measure yet".to_string())
    } else {
        None
    };
    Ok(LiveObjective {
        need: need.to_string(),
        id: objective.id.clone(),
        events_per_second: events.first_value(),
        error_ratio: ratio.first_value(),
        series_read,
        series_written: recording_rules * sli_series,
        problem,
    })
}
