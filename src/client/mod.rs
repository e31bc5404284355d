//! The clients of the services onramp talks to: Grafana's HTTP API, Prometheus'
//! HTTP API (and `promtool`), and the secrets they carry. A client knows its
//! service's protocol and nothing of apps, needs or plans.

pub mod grafana;
pub mod prometheus;
pub mod secret;
