//! onramp's integration tests: one binary, a module per command or part.

#[path = "../support/mod.rs"]
mod support;

mod grafana_contract;
