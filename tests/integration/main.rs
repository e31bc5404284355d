//! onramp's integration tests: one binary, a module per command or part.

mod prometheus_client;
#[path = "../support/mod.rs"]
mod support;
