//! The App: the one workload being onboarded, as discovered from manifests.
//!
//! Discovery picks the workload the user named, finds the Services that select
//! its pods, and infers the metrics endpoint ([`endpoint`]). It reads; it does
//! not render anything (that is [`crate::render`]) and it does not talk to a
//! cluster.

pub mod endpoint;
pub mod manifest;
pub mod source;
pub mod validate;

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result};
pub use endpoint::{MetricsEndpoint, MetricsOverride, ScrapeVia};
pub use manifest::WorkloadKind;
use manifest::{Container, Located, Object, ServiceObject, WorkloadObject};

/// How the user named the app: `NAME` or `KIND/NAME`, with an optional namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    /// The workload kind, when given (`statefulset/NAME`).
    pub kind: Option<WorkloadKind>,
    /// The workload name.
    pub name: String,
    /// The namespace (`-n`), when given.
    pub namespace: Option<String>,
}

impl AppRef {
    /// Parses `NAME` or `KIND/NAME`.
    pub fn parse(arg: &str, namespace: Option<String>) -> Result<AppRef> {
        let (kind, name) = match arg.split_once('/') {
            Some((kind, name)) => {
                let parsed = WorkloadKind::from_resource(kind).ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown workload kind {kind:?} in {arg:?}; use deployment/NAME, statefulset/NAME or daemonset/NAME"
                    ))
                })?;
                (Some(parsed), name)
            }
            None => (None, arg),
        };
        if name.is_empty() {
            return Err(Error::Usage(format!("no app name in {arg:?}")));
        }
        Ok(AppRef {
            kind,
            name: name.to_string(),
            namespace,
        })
    }
}

/// A Service that selects the app's pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppService {
    /// The Service name.
    pub name: String,
    /// The Service labels (a ServiceMonitor selects on these).
    pub labels: BTreeMap<String, String>,
    /// The ports: name (if any), port, and the container port it reaches.
    pub ports: Vec<AppServicePort>,
}

/// A port of a Service, resolved against the app's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppServicePort {
    /// The Service port name.
    pub name: Option<String>,
    /// The Service port number.
    pub port: u16,
    /// The container port number it forwards to, when it resolves.
    pub target: Option<u16>,
}

/// The workload being onboarded and everything discovery learnt about it.
#[derive(Debug, Clone)]
pub struct App {
    /// Deployment, StatefulSet or DaemonSet.
    pub kind: WorkloadKind,
    /// The workload name.
    pub name: String,
    /// The namespace (`default` when the manifest has none and `-n` was not given).
    pub namespace: String,
    /// The workload's own labels.
    pub labels: BTreeMap<String, String>,
    /// The pod selector's `matchLabels` (falls back to the pod template labels).
    pub selector: BTreeMap<String, String>,
    /// The pod template labels.
    pub pod_labels: BTreeMap<String, String>,
    /// Pod template annotations merged over the workload's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The containers.
    pub containers: Vec<Container>,
    /// The Services whose selector matches the pods.
    pub services: Vec<AppService>,
    /// The metrics endpoint, when one could be inferred.
    pub metrics: Option<MetricsEndpoint>,
    /// Why there is, or is not, a metrics endpoint (shown to the user).
    pub metrics_reason: String,
    /// A feature-flag provider hinted by the containers' environment (e.g. flagd).
    pub flag_provider: Option<String>,
    /// Where the workload is defined.
    pub location: Location,
}

impl App {
    /// `deployment/checkout`.
    pub fn workload(&self) -> String {
        format!("{}/{}", self.kind.resource(), self.name)
    }

    /// `shop/checkout`: namespace and name, the app's identity in dashboards and files.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The pod selector as kubectl's `-l` argument (`app=checkout,tier=web`).
    pub fn selector_arg(&self) -> String {
        self.selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The main container: the one serving metrics, else the first.
    pub fn main_container(&self) -> Option<&Container> {
        let by_metrics = self
            .metrics
            .as_ref()
            .and_then(|m| self.containers.iter().find(|c| c.name == m.container));
        by_metrics.or_else(|| self.containers.first())
    }
}

/// Reads the sources, parses them and finds the app: what every command that
/// starts from manifests does first.
pub fn from_sources(
    sources: &[source::Source],
    app_ref: &AppRef,
    metrics_override: Option<&MetricsOverride>,
) -> Result<App> {
    let texts = source::read_sources(sources)?;
    let objects = manifest::parse_objects(&texts)?;
    discover(&objects, &source::names(&texts), app_ref, metrics_override)
}

/// A workload found in the manifests, with where it is defined.
type FoundWorkload<'a> = (WorkloadKind, &'a WorkloadObject, &'a Location);

/// The namespace of an object: its own, else the default (`-n`, else `default`),
/// as `kubectl apply -n` would decide.
fn namespace_of(meta: &manifest::ObjectMeta, default_ns: &str) -> String {
    meta.namespace
        .clone()
        .unwrap_or_else(|| default_ns.to_string())
}

/// Finds the app in parsed manifest objects; `read` names the files they came
/// from, for the message when the app is not among them.
///
/// Objects without `metadata.namespace` take `-n`, else `default`.
pub fn discover(
    objects: &[Located<Object>],
    read: &str,
    app_ref: &AppRef,
    metrics_override: Option<&MetricsOverride>,
) -> Result<App> {
    let default_ns = app_ref.namespace.as_deref().unwrap_or("default");
    let (kind, workload, location) = find_workload(objects, read, app_ref, default_ns)?;
    let namespace = namespace_of(&workload.metadata, default_ns);
    let pod_labels = workload.spec.template.metadata.labels.clone();
    let selector = if workload.spec.selector.match_labels.is_empty() {
        pod_labels.clone()
    } else {
        workload.spec.selector.match_labels.clone()
    };
    let mut annotations = workload.metadata.annotations.clone();
    annotations.extend(workload.spec.template.metadata.annotations.clone());
    let containers = workload.spec.template.spec.containers.clone();
    if containers.is_empty() {
        return Err(Error::Manifest {
            location: location.clone(),
            message: format!(
                "{} {:?} has no containers in spec.template.spec.containers",
                kind.as_kind(),
                app_ref.name
            ),
        });
    }
    let services: Vec<AppService> = objects
        .iter()
        .filter_map(|o| match &o.value {
            Object::Service(s) => Some(s.as_ref()),
            Object::Workload(..) => None,
        })
        .filter(|s| namespace_of(&s.metadata, default_ns) == namespace && selects(s, &pod_labels))
        .map(|s| resolve_service(s, &containers))
        .collect();
    let flag_provider = containers.iter().find_map(flag_provider_hint);
    let mut app = App {
        kind,
        name: app_ref.name.clone(),
        namespace,
        labels: workload.metadata.labels.clone(),
        selector,
        pod_labels,
        annotations,
        containers,
        services,
        metrics: None,
        metrics_reason: String::new(),
        flag_provider,
        location: location.clone(),
    };
    check_names(&app, workload)?;
    let inferred = endpoint::infer(&app, metrics_override)?;
    app.metrics = inferred.endpoint;
    app.metrics_reason = inferred.reason;
    Ok(app)
}

/// The one workload the user named, or an error listing what there is.
fn find_workload<'a>(
    objects: &'a [Located<Object>],
    read: &str,
    app_ref: &AppRef,
    default_ns: &str,
) -> Result<FoundWorkload<'a>> {
    let workloads: Vec<FoundWorkload<'a>> = objects
        .iter()
        .filter_map(|o| match &o.value {
            Object::Workload(kind, w) => Some((*kind, w.as_ref(), &o.location)),
            Object::Service(_) => None,
        })
        .collect();
    let matches: Vec<&FoundWorkload<'a>> = workloads
        .iter()
        .filter(|(kind, w, _)| {
            w.metadata.name.as_deref() == Some(app_ref.name.as_str())
                && app_ref.kind.is_none_or(|k| k == *kind)
                && app_ref
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == namespace_of(&w.metadata, default_ns))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(**one),
        [] => Err(not_found(app_ref, read, &workloads, default_ns)),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(k, w, loc)| {
                    format!(
                        "{}/{} in namespace {} ({loc})",
                        k.resource(),
                        app_ref.name,
                        namespace_of(&w.metadata, default_ns)
                    )
                })
                .collect();
            Err(Error::AppNotFound {
                message: format!(
                    "{:?} names {} workloads: {}; pick one with -n NAMESPACE or KIND/NAME",
                    app_ref.name,
                    many.len(),
                    names.join(", ")
                ),
            })
        }
    }
}

fn not_found(
    app_ref: &AppRef,
    read: &str,
    workloads: &[FoundWorkload<'_>],
    default_ns: &str,
) -> Error {
    let what = match (&app_ref.kind, &app_ref.namespace) {
        (Some(k), Some(ns)) => format!("no {} {:?} in namespace {ns:?}", k.as_kind(), app_ref.name),
        (Some(k), None) => format!("no {} {:?}", k.as_kind(), app_ref.name),
        (None, Some(ns)) => format!("no workload {:?} in namespace {ns:?}", app_ref.name),
        (None, None) => format!("no workload {:?}", app_ref.name),
    };
    let found: Vec<String> = workloads
        .iter()
        .filter_map(|(k, w, _)| {
            w.metadata.name.as_ref().map(|n| {
                format!(
                    "{}/{} (namespace {})",
                    k.resource(),
                    n,
                    namespace_of(&w.metadata, default_ns)
                )
            })
        })
        .collect();
    let message = if found.is_empty() {
        format!(
            "{what} in the manifests read ({read}): they contain no Deployment, StatefulSet or DaemonSet"
        )
    } else {
        format!(
            "{what} in the manifests read ({read}); the workloads found are:\n  {}",
            found.join("\n  ")
        )
    };
    Error::AppNotFound { message }
}

/// True when the Service's selector is non-empty and every pair is in the pod labels.
fn selects(service: &ServiceObject, pod_labels: &BTreeMap<String, String>) -> bool {
    !service.spec.selector.is_empty()
        && service
            .spec
            .selector
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v))
}

fn resolve_service(service: &ServiceObject, containers: &[Container]) -> AppService {
    let ports = service
        .spec
        .ports
        .iter()
        .map(|p| {
            let target = match &p.target_port {
                None => Some(p.port),
                Some(manifest::PortRef::Number(n)) => Some(*n),
                Some(manifest::PortRef::Name(name)) => containers
                    .iter()
                    .flat_map(|c| &c.ports)
                    .find(|cp| cp.name.as_deref() == Some(name.as_str()))
                    .map(|cp| cp.container_port),
            };
            AppServicePort {
                name: p.name.clone(),
                port: p.port,
                target,
            }
        })
        .collect();
    AppService {
        name: service.metadata.name.clone().unwrap_or_default(),
        labels: service.metadata.labels.clone(),
        ports,
    }
}

/// A feature-flag provider named by well-known environment variables.
fn flag_provider_hint(container: &Container) -> Option<String> {
    container.env.iter().find_map(|e| {
        let name = e.name.as_str();
        if name.starts_with("FLAGD_") {
            Some("flagd".to_string())
        } else if name.starts_with("OPENFEATURE_") || name.starts_with("FEATURE_FLAG") {
            Some("openfeature".to_string())
        } else if name.starts_with("LAUNCHDARKLY") || name == "LD_SDK_KEY" {
            Some("launchdarkly".to_string())
        } else if name.starts_with("UNLEASH_") {
            Some("unleash".to_string())
        } else {
            None
        }
    })
}

/// Refuses names and labels that Kubernetes itself would refuse, so no
/// generated artifact carries a value that breaks PromQL, YAML, JSON or Markdown.
fn check_names(app: &App, workload: &WorkloadObject) -> Result<()> {
    let bad = |what: String, message: String| Error::Manifest {
        location: app.location.clone(),
        message: format!("{what}: {message}"),
    };
    validate::dns_subdomain(&app.name)
        .map_err(|m| bad(format!("{} name {:?}", app.kind.as_kind(), app.name), m))?;
    validate::namespace(&app.namespace)
        .map_err(|m| bad(format!("namespace {:?}", app.namespace), m))?;
    for container in &app.containers {
        validate::dns_label(&container.name)
            .map_err(|m| bad(format!("container name {:?}", container.name), m))?;
        for port in &container.ports {
            if let Some(name) = &port.name {
                validate::dns_label(name)
                    .map_err(|m| bad(format!("container port name {name:?}"), m))?;
            }
        }
    }
    let labels = workload
        .metadata
        .labels
        .iter()
        .chain(&app.pod_labels)
        .chain(&app.selector);
    for (k, v) in labels {
        validate::label(k, v).map_err(|m| bad("label".to_string(), m))?;
    }
    for service in &app.services {
        validate::dns_label(&service.name)
            .map_err(|m| bad(format!("Service name {:?}", service.name), m))?;
        for (k, v) in &service.labels {
            validate::label(k, v).map_err(|m| bad(format!("Service {} label", service.name), m))?;
        }
    }
    if let Some(path) = app.annotations.get("prometheus.io/path") {
        validate::metrics_path(path)
            .map_err(|m| bad(format!("annotation prometheus.io/path {path:?}"), m))?;
    }
    if let Some(scheme) = app.annotations.get("prometheus.io/scheme")
        && scheme != "http"
        && scheme != "https"
    {
        return Err(bad(
            format!("annotation prometheus.io/scheme {scheme:?}"),
            "must be http or https".to_string(),
        ));
    }
    Ok(())
}
