//! Which Prometheus the pipeline asks what the app exposes: the one given
//! (`--prometheus-url`, `PROMETHEUS_URL`, `prometheus.url`), else the
//! cluster's, through the API server's service proxy — `prometheus.service`
//! of onramp.yaml, validated here, or the Service `detect` finds.

use crate::cli::config::Config;
use crate::client::kube::{KubeClient, ServiceProxy};
use crate::client::prometheus::PrometheusClient;
use crate::cluster::stack::Stack;
use crate::error::{Error, Location, Result};

/// `NAMESPACE/NAME:PORT` of onramp.yaml, split; a malformed one names the
/// file and the form expected.
fn service_reference(reference: &str, config: &Config) -> Result<(String, String, String)> {
    let parts = reference
        .split_once('/')
        .and_then(|(ns, rest)| rest.split_once(':').map(|(name, port)| (ns, name, port)));
    match parts {
        Some((ns, name, port))
            if crate::app::validate::namespace(ns).is_ok()
                && crate::app::validate::dns_label(name).is_ok()
                && !port.is_empty()
                && port.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Ok((ns.to_string(), name.to_string(), port.to_string()))
        }
        _ => Err(Error::Config {
            location: Location::file(config.origin()),
            message: format!(
                "prometheus.service {reference:?} is not NAMESPACE/NAME:PORT (e.g. monitoring/prometheus-operated:9090)"
            ),
        }),
    }
}

/// The cluster's Prometheus through the API server's service proxy:
/// `prometheus.service` of onramp.yaml (`NAMESPACE/NAME:PORT`, which a
/// person may set to pick one of several), else the Service `detect` finds
/// in `stack`; `None` when there is neither.
pub fn in_cluster(
    client: &KubeClient,
    stack: &Stack,
    config: &Config,
) -> Result<Option<PrometheusClient>> {
    let (namespace, name, port) = match &config.file.prometheus.service {
        Some(reference) => service_reference(reference, config)?,
        None => match stack.prometheus_service() {
            Some(s) => (s.namespace.clone(), s.name.clone(), s.port.to_string()),
            None => return Ok(None),
        },
    };
    let proxy = ServiceProxy::new(client.clone(), &namespace, &name, &port);
    Ok(Some(PrometheusClient::through(proxy)?))
}
