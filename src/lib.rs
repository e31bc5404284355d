//! onramp: onboard one application at a time into the Prometheus and Grafana a
//! team already runs. Click first, codify later.
//!
//! The flow, module by module: [`app`] discovers the workload from manifests,
//! [`needs`] holds the catalog of developer needs and resolves their signals,
//! [`plan`] renders every artifact (via [`render`]), and the sinks consume the
//! plan: [`codify`] (files), [`grafana`] (HTTP API), [`prometheus`] (plain
//! Prometheus and queries for verify).

pub mod grafana;
pub mod prometheus;
