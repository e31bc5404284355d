//! ServiceMonitor and PodMonitor: how the Prometheus Operator finds the app's
//! metrics endpoint. Field names follow the monitoring.coreos.com/v1 CRDs.
//!
//! Every endpoint sets the `job` label to the app name with a relabeling, so
//! that every query onramp generates can select `{namespace, job}` whatever
//! scrape object found the pods.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::app::{MetricsEndpoint, ScrapeVia};
use crate::error::Result;
use crate::render::{Context, Metadata, to_yaml};

/// The API group and version of every Prometheus Operator object onramp writes.
pub const API_VERSION: &str = "monitoring.coreos.com/v1";

/// Which scrape object finds the app's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorKind {
    /// A Service exposes the metrics port: select the Service.
    ServiceMonitor,
    /// Only the pods declare it: select the pods.
    PodMonitor,
}

impl MonitorKind {
    /// The `kind` field value.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorKind::ServiceMonitor => "ServiceMonitor",
            MonitorKind::PodMonitor => "PodMonitor",
        }
    }
}

/// A spec of one of the Operator's kinds; the kind belongs to the spec type,
/// so an object cannot carry a spec of another kind.
pub trait OperatorSpec: Serialize {
    /// The `kind` field value.
    const KIND: &'static str;
}

impl OperatorSpec for ServiceMonitorSpec {
    const KIND: &'static str = "ServiceMonitor";
}

impl OperatorSpec for PodMonitorSpec {
    const KIND: &'static str = "PodMonitor";
}

/// `namespaceSelector: {matchNames: [...]}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// The namespaces.
    pub match_names: Vec<String>,
}

/// The relabeling actions onramp uses (the CRD accepts more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RelabelAction {
    /// Write `replacement` into `targetLabel`.
    Replace,
}

/// A relabeling rule (`RelabelConfig` of the CRDs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relabeling {
    /// What the rule does.
    pub action: RelabelAction,
    /// The label written.
    pub target_label: String,
    /// The value written.
    pub replacement: String,
}

/// A ServiceMonitor endpoint.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The Service port name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// The pod port number, when the Service port has no name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    /// The HTTP path.
    pub path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Relabelings.
    pub relabelings: Vec<Relabeling>,
}

/// A PodMonitor endpoint.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsEndpoint {
    /// The container port name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// The container port number, when the port has no name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_number: Option<u16>,
    /// The HTTP path.
    pub path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Relabelings.
    pub relabelings: Vec<Relabeling>,
}

/// The spec of a ServiceMonitor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Selects the Service by its labels.
    pub selector: LabelSelector,
    /// The Service's namespace.
    pub namespace_selector: NamespaceSelector,
    /// The endpoints to scrape.
    pub endpoints: Vec<Endpoint>,
}

/// The spec of a PodMonitor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// Selects the pods as the workload does: `matchLabels` and `matchExpressions`.
    pub selector: LabelSelector,
    /// The pods' namespace.
    pub namespace_selector: NamespaceSelector,
    /// The endpoints to scrape.
    pub pod_metrics_endpoints: Vec<PodMetricsEndpoint>,
}

/// A monitoring.coreos.com/v1 object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringObject<S> {
    /// `monitoring.coreos.com/v1`.
    api_version: &'static str,
    /// `ServiceMonitor`, `PodMonitor` or `PrometheusRule`.
    kind: &'static str,
    /// Metadata.
    pub metadata: Metadata,
    /// The spec.
    pub spec: S,
}

impl<S: OperatorSpec> MonitoringObject<S> {
    /// The object of `spec`'s kind.
    pub fn new(metadata: Metadata, spec: S) -> Self {
        MonitoringObject {
            api_version: API_VERSION,
            kind: S::KIND,
            metadata,
            spec,
        }
    }
}

/// The rendered scrape object: its kind, name and YAML.
#[derive(Debug, Clone)]
pub struct RenderedMonitor {
    /// ServiceMonitor or PodMonitor.
    pub kind: MonitorKind,
    /// The object name.
    pub name: String,
    /// The YAML text.
    pub yaml: String,
}

fn job_relabeling(ctx: &Context<'_>) -> Vec<Relabeling> {
    vec![Relabeling {
        action: RelabelAction::Replace,
        target_label: "job".to_string(),
        replacement: ctx.app.name.clone(),
    }]
}

/// Renders the ServiceMonitor (a Service exposes the port) or PodMonitor (only the pod does).
pub fn render(ctx: &Context<'_>, endpoint: &MetricsEndpoint) -> Result<RenderedMonitor> {
    let app = ctx.app;
    let metadata = Metadata {
        name: app.name.clone(),
        namespace: app.namespace.clone(),
        labels: ctx.selected_labels(),
        annotations: BTreeMap::new(),
    };
    let namespace_selector = NamespaceSelector {
        match_names: vec![app.namespace.clone()],
    };
    let service = match &endpoint.via {
        ScrapeVia::Service {
            service,
            port_name,
            target_port,
        } => app
            .services
            .iter()
            .find(|s| &s.name == service && !s.labels.is_empty())
            .map(|s| (s, port_name, target_port)),
        ScrapeVia::Pod { .. } => None,
    };
    if let Some((service, port_name, target_port)) = service {
        let object = MonitoringObject::new(
            metadata,
            ServiceMonitorSpec {
                selector: LabelSelector {
                    match_labels: Some(service.labels.clone()),
                    match_expressions: None,
                },
                namespace_selector,
                endpoints: vec![Endpoint {
                    port: port_name.clone(),
                    target_port: port_name.is_none().then_some(*target_port),
                    path: endpoint.path.clone(),
                    scheme: endpoint.scheme.clone(),
                    relabelings: job_relabeling(ctx),
                }],
            },
        );
        return Ok(RenderedMonitor {
            kind: MonitorKind::ServiceMonitor,
            name: app.name.clone(),
            yaml: to_yaml(&object, "ServiceMonitor")?,
        });
    }
    let object = MonitoringObject::new(
        metadata,
        PodMonitorSpec {
            selector: LabelSelector {
                match_labels: Some(app.selector.clone()),
                match_expressions: (!app.selector_expressions.is_empty())
                    .then(|| app.selector_expressions.clone()),
            },
            namespace_selector,
            pod_metrics_endpoints: vec![PodMetricsEndpoint {
                port: endpoint.port_name.clone(),
                port_number: endpoint.port_name.is_none().then_some(endpoint.port),
                path: endpoint.path.clone(),
                scheme: endpoint.scheme.clone(),
                relabelings: job_relabeling(ctx),
            }],
        },
    );
    Ok(RenderedMonitor {
        kind: MonitorKind::PodMonitor,
        name: app.name.clone(),
        yaml: to_yaml(&object, "PodMonitor")?,
    })
}
