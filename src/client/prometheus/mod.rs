//! Prometheus: the HTTP client used by verify and the plain-Prometheus sink,
//! the typed answers of its API, and offline rule checks with `promtool`.
//!
//! It owns talking to one Prometheus (queries, targets, rules, alerts,
//! reload with confirmation) and its errors, [`Error`]; it does not decide
//! what to query or which files to write — verify and the sinks do.

mod api;
mod client;
mod config;
mod error;
mod rules_check;

pub use api::{
    Alert, AlertState, BuildInfo, Labels, MetricMetadata, Point, QueryResult, RangeSeries,
    ReloadStatus, Rule, RuleGroup, RuleHealth, RuleKind, Sample, Target, TargetHealth,
    exposition_value, parse_sample_value,
};
pub use client::{PrometheusClient, QueryRange, RELOAD_SUCCESSFUL_METRIC, RELOAD_TIMESTAMP_METRIC};
pub use config::{
    Auth, DEFAULT_TIMEOUT, PASSWORD_ENV, PrometheusConfig, RetryPolicy, Secret, TOKEN_ENV, Tls,
    USER_ENV,
};
pub use error::{Error, Result};
pub use rules_check::{
    INSTALL_COMMAND, PROMTOOL, Promtool, RuleCheckError, promtool_check_rules, promtool_test_rules,
};
