//! The clients of the services onramp talks to: Grafana's HTTP API, Prometheus'
//! HTTP API (and `promtool`), the Kubernetes API server ([`kube`], on the
//! `kube` crate's connection), the one HTTP transport Grafana and Prometheus
//! share ([`http`]), the one transport policy all of them follow — retries,
//! replays, the request log ([`retry`]) — and
//! the run's secrets with the redaction every outgoing string goes through
//! ([`secret`]). A client knows its service's protocol and nothing of apps,
//! needs or plans.

pub mod grafana;
pub mod http;
pub mod kube;
pub mod prometheus;
pub mod retry;
pub mod secret;
