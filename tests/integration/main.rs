//! onramp's integration tests: the ones that need a tool installed — a real
//! Prometheus and promtool (2.x, and 3.x from `make deps`), Helm for Python,
//! the Operator's CRD schemas in `../shared/reference/crds/` (the Kubernetes
//! stand-in validates against them), the real kube-apiserver. Each test is
//! listed as ignored, saying what it needs, when that is missing (the cfgs of
//! `build.rs`); CONTRIBUTING, Test tiers. They run the real `onramp` binary
//! as a user would and assert what the user sees: files, messages, exit
//! statuses. Tests that need nothing are in `tests/offline/`.

// The 80-line limit (clippy.toml) is for the product's code in src/: a test
// that walks one scenario end to end reads best in one piece.
#![allow(clippy::too_many_lines)]

// The support is shared with the offline tests: these use the part that
// drives the tools.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod adoption;
mod adoption_journey;
mod alertmanager;
mod artifacts;
mod chart;
mod cluster;
mod cluster_troubleshoot;
mod detect;
mod error_budget;
mod kube_apply;
mod kube_standin;
mod live;
mod live_conventions;
mod live_rollout;
mod live_troubleshoot;
mod needs_new;
mod onboard;
mod platform_adoption;
mod progress;
mod prometheus_client;
mod rbac_drift;
mod regression;
mod rules;
mod slo_backtest;
mod slo_checks;
mod slo_live;
mod slo_rules;
mod troubleshoot;
