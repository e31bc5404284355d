//! Regression tests that need a tool (a real Prometheus and promtool, the
//! CRD schemas of `../shared`, the Kubernetes stand-in), one module per area,
//! each test named in the past tense after what broke (ripgrep's
//! `tests/regression.rs` style). The ones that need nothing are in
//! `tests/offline/regression/`.

mod cluster;
mod engagement;
mod monitors;
mod real_apiserver;
mod rules;
mod runbook;
mod troubleshoot;
