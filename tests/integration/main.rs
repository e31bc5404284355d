//! onramp's integration tests: one binary, a module per command or part.
//! They run the real `onramp` binary as a user would and assert what the user
//! sees: files, messages, exit statuses.

// The 80-line limit (clippy.toml) is for the product's code in src/: a test
// that walks one scenario end to end reads best in one piece.
#![allow(clippy::too_many_lines)]

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod artifacts;
mod bad_input;
mod chart;
mod cluster;
mod cluster_troubleshoot;
mod codify;
mod completions;
mod demo;
mod detect;
mod discovery;
mod grafana_apply;
mod grafana_contract;
mod grafana_v2;
mod kube_apply;
mod kube_standin;
mod live;
mod live_conventions;
mod live_rollout;
mod live_troubleshoot;
mod needs;
mod onboard;
mod plan;
mod progress;
mod prometheus_client;
mod rbac_drift;
mod regression;
mod rules;
mod transport;
mod troubleshoot;
mod workflows;
