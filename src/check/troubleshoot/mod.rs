//! troubleshoot: runs an app's runbook live and reports what it found, the
//! real cause first. The findings, their ranking (cause before symptom, then
//! severity) and the outputs (text, Markdown for an incident channel, JSON)
//! are the shared check-result model's ([`crate::check::result`]); the
//! checks that produce findings live here: [`workload_state`] (workload,
//! pods, events, logs), [`prometheus`] (targets, errors and latency against
//! the baseline, saturation, alerts) and [`feature_flags`] (feature-flag
//! changes that explain a rise), on the queries of the plan
//! `pipeline::plan_from_cluster` makes; all add to the same
//! [`TroubleshootReport`].
//!
//! Talking to the API server is [`crate::client::kube`]'s job; printing (and
//! redacting) is `commands::print`'s.

pub mod diagnose;
mod evidence;
pub mod feature_flags;
mod pods;
pub mod prometheus;
mod trend;
pub mod workload_state;

// The model the checks below fill, named here for them (`super::Finding`).
pub use crate::check::result::{Finding, NotChecked, Panel, Role, Severity, TroubleshootReport};

/// The old name of [`TroubleshootReport`], kept only for `cluster.rs`'s
/// import until its owner renames it there; new code names the report.
pub use crate::check::result::TroubleshootReport as Report;
