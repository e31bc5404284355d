//! Service level objectives: what a need's `objectives:` promise, and the
//! multiwindow, multi-burn-rate alerting every objective gets.
//!
//! An objective says which share of the app's events must be good over a
//! rolling period (99.5 % of requests not 5xx over 28 days). What may fail is
//! its error budget (0.5 %). The alerts watch how fast the budget burns, as
//! the Google SRE workbook and Sloth do: a page when 2 % of the budget burns
//! in an hour or 5 % in six hours, a ticket when 10 % burns in a day or three.
//! Each is two windows at once: the long one says the burn is real, the short
//! one that it is still going on.

use std::time::Duration;

/// Who an alert calls: Alertmanager routes on it, and a page inhibits the
/// ticket of the same objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Someone is woken up.
    Page,
    /// Someone looks during working hours.
    Ticket,
}

impl Tier {
    /// The label value (`tier` and `sloth_severity`).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Page => "page",
            Tier::Ticket => "ticket",
        }
    }

    /// The alert's `severity` label.
    pub fn severity(self) -> crate::needs::Severity {
        match self {
            Tier::Page => crate::needs::Severity::Critical,
            Tier::Ticket => crate::needs::Severity::Warning,
        }
    }
}

/// One window pair of a burn-rate alert: it holds when the error ratio over
/// both windows is above `factor` times the error budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    /// Who it calls.
    pub tier: Tier,
    /// How many times faster than "exactly used up at the end of the period".
    pub factor: f64,
    /// The window that says the burn goes on now.
    pub short: Duration,
    /// The window that says the burn is real.
    pub long: Duration,
    /// The share of a 30-day budget burnt when the condition first holds
    /// (shown in the runbook).
    pub budget_share: f64,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The window pairs, most urgent first: the page's two, then the ticket's.
pub const BURN_WINDOWS: [BurnWindow; 4] = [
    BurnWindow {
        tier: Tier::Page,
        factor: 14.4,
        short: Duration::from_secs(5 * MINUTE),
        long: Duration::from_secs(HOUR),
        budget_share: 0.02,
    },
    BurnWindow {
        tier: Tier::Page,
        factor: 6.0,
        short: Duration::from_secs(30 * MINUTE),
        long: Duration::from_secs(6 * HOUR),
        budget_share: 0.05,
    },
    BurnWindow {
        tier: Tier::Ticket,
        factor: 3.0,
        short: Duration::from_secs(2 * HOUR),
        long: Duration::from_secs(DAY),
        budget_share: 0.10,
    },
    BurnWindow {
        tier: Tier::Ticket,
        factor: 1.0,
        short: Duration::from_secs(6 * HOUR),
        long: Duration::from_secs(3 * DAY),
        budget_share: 0.10,
    },
];

/// Every window a recording rule is kept for, shortest first (the
/// objective's period is added to these).
pub fn recorded_windows() -> Vec<Duration> {
    let mut windows: Vec<Duration> = BURN_WINDOWS
        .iter()
        .flat_map(|w| [w.short, w.long])
        .collect();
    windows.sort();
    windows.dedup();
    windows
}

/// A duration as Prometheus writes it: the largest unit that divides it
/// (`5m`, `1h`, `28d`).
pub fn prometheus_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    for (unit, size) in [("w", 7 * DAY), ("d", DAY), ("h", HOUR), ("m", MINUTE)] {
        if secs > 0 && secs % size == 0 && unit != "w" {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_are_sloths_and_written_as_prometheus_writes_them() {
        let names: Vec<String> = recorded_windows()
            .into_iter()
            .map(prometheus_duration)
            .collect();
        assert_eq!(names, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
        assert_eq!(prometheus_duration(Duration::from_secs(28 * DAY)), "28d");
    }
}
