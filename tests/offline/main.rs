//! onramp's offline tests: everything that needs nothing installed but Rust
//! (no Prometheus or promtool, no Helm, no `../shared`, no API server), so
//! `cargo test --test offline` passes on a bare machine. One module per
//! command or part; they run the real `onramp` binary as a user would, against
//! the strict Grafana stand-in and small stand-ins of Prometheus where a
//! server is needed, and assert what the user sees: files, messages, exit
//! statuses. Tests that need a tool are in `tests/integration/`.

// The 80-line limit (clippy.toml) is for the product's code in src/: a test
// that walks one scenario end to end reads best in one piece.
#![allow(clippy::too_many_lines)]

// The support is shared with the integration tests: these use the part that
// needs no tool (not the CRD schemas, promtool or the demo shop's process).
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod artifacts;
mod bad_input;
mod codify;
mod completions;
mod demo;
mod detect;
mod discovery;
mod error_budget;
mod grafana_apply;
mod grafana_contract;
mod grafana_v2;
mod needs;
mod objectives;
mod plan;
mod platform_adoption;
mod prometheus_retry;
mod regression;
mod slo_tests;
mod transport;
mod workflows;
