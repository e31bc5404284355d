//! onramp's integration tests: one binary, a module per command or part.
//! They run the real `onramp` binary as a user would and assert what the user
//! sees: files, messages, exit statuses.

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod artifacts;
mod bad_input;
mod codify;
mod discovery;
mod grafana_apply;
mod grafana_contract;
mod live;
mod live_conventions;
mod live_rollout;
mod needs;
mod plan;
mod prometheus_client;
mod regression;
mod rules;
mod transport;
