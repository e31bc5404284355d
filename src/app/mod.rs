//! The App: the one workload being onboarded, as discovered from manifests
//! or from the live cluster ([`deployed`]: the app as deployed).
//!
//! Discovery picks the workload the user named, finds the Services that select
//! its pods, and infers the metrics endpoint ([`endpoint`]), the same way for
//! both sources. It reads; it does not render anything (that is
//! [`crate::render`]).

pub mod deployed;
pub mod endpoint;
pub mod id;
pub mod manifest;
pub mod source;
pub mod validate;

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result};
pub use deployed::from_cluster;
pub use endpoint::{MetricsEndpoint, MetricsOverride, ScrapeVia};
pub use id::AppId;
pub use manifest::WorkloadKind;
use manifest::{
    Container, ContainerPort, IntOrString, LabelSelectorRequirement, Located, Object, Service,
    Workload,
};

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
    /// The pod selector's `matchExpressions`: a scrape object that selects
    /// pods must carry them too, or it selects more pods than the app's.
    pub selector_expressions: Vec<LabelSelectorRequirement>,
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

    /// The app's identity (shown as `shop/checkout` in dashboards and
    /// files), its names checked against Kubernetes' rules.
    pub fn id(&self) -> Result<AppId> {
        AppId::new(&self.namespace, self.kind, &self.name).map_err(|message| Error::Manifest {
            location: self.location.clone(),
            message,
        })
    }

    /// The pod selector as kubectl's `-l` argument, ready for a shell:
    /// `app=checkout,tier=web`, or quoted when set-based requirements need it
    /// (`'app=api,track in (stable),!canary'`).
    pub fn selector_arg(&self) -> String {
        let labels = self.selector.iter().map(|(k, v)| format!("{k}={v}"));
        let expressions = self.selector_expressions.iter().map(|r| {
            let values = r.values.as_deref().unwrap_or_default().join(",");
            match r.operator.as_str() {
                "In" => format!("{} in ({values})", r.key),
                "NotIn" => format!("{} notin ({values})", r.key),
                "DoesNotExist" => format!("!{}", r.key),
                _ => r.key.clone(),
            }
        });
        let arg = labels.chain(expressions).collect::<Vec<_>>().join(",");
        // Label keys and values cannot hold a quote, so single quotes are safe.
        if arg.contains([' ', '(', '!']) {
            format!("'{arg}'")
        } else {
            arg
        }
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
    let ns_of = |meta: &manifest::ObjectMeta| {
        meta.namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string())
    };
    let (kind, workload, location) = pick_workload(objects, read, app_ref, &ns_of)?;
    let namespace = ns_of(workload.metadata());
    let pod_meta = workload.template().and_then(|t| t.metadata.as_ref());
    let pod_labels = pod_meta.and_then(|m| m.labels.clone()).unwrap_or_default();
    let selector = workload
        .selector()
        .and_then(|s| s.match_labels.clone())
        .filter(|labels| !labels.is_empty())
        .unwrap_or_else(|| pod_labels.clone());
    let selector_expressions = workload
        .selector()
        .and_then(|s| s.match_expressions.clone())
        .unwrap_or_default();
    let mut annotations = workload.metadata().annotations.clone().unwrap_or_default();
    annotations.extend(
        pod_meta
            .and_then(|m| m.annotations.clone())
            .unwrap_or_default(),
    );
    let containers = workload
        .template()
        .and_then(|t| t.spec.as_ref())
        .map(|spec| spec.containers.clone())
        .unwrap_or_default();
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
    check_ports(&containers, location)?;
    let services: Vec<AppService> = objects
        .iter()
        .filter_map(|o| match &o.value {
            Object::Service(s) => Some((s.as_ref(), &o.location)),
            Object::Workload(..) => None,
        })
        .filter(|(s, _)| ns_of(&s.metadata) == namespace && selects(s, &pod_labels))
        .map(|(s, at)| resolve_service(s, at, &containers))
        .collect::<Result<_>>()?;
    let flag_provider = containers.iter().find_map(flag_provider_hint);
    let mut app = App {
        kind,
        name: app_ref.name.clone(),
        namespace,
        labels: workload.metadata().labels.clone().unwrap_or_default(),
        selector,
        selector_expressions,
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

/// The one workload `app_ref` names: an error listing the workloads found
/// when none matches, or the candidates when several do.
fn pick_workload<'a>(
    objects: &'a [Located<Object>],
    read: &str,
    app_ref: &AppRef,
    ns_of: &impl Fn(&manifest::ObjectMeta) -> String,
) -> Result<(WorkloadKind, &'a Workload, &'a Location)> {
    let workloads: Vec<(WorkloadKind, &Workload, &Location)> = objects
        .iter()
        .filter_map(|o| match &o.value {
            Object::Workload(w) => Some((w.kind(), w.as_ref(), &o.location)),
            Object::Service(_) => None,
        })
        .collect();
    let matches: Vec<_> = workloads
        .iter()
        .filter(|(kind, w, _)| {
            w.metadata().name.as_deref() == Some(app_ref.name.as_str())
                && app_ref.kind.is_none_or(|k| k == *kind)
                && app_ref
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == ns_of(w.metadata()))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(**one),
        [] => Err(not_found(app_ref, read, &workloads, ns_of)),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(k, w, loc)| {
                    format!(
                        "{}/{} in namespace {} ({loc})",
                        k.resource(),
                        app_ref.name,
                        ns_of(w.metadata())
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
    workloads: &[(WorkloadKind, &Workload, &Location)],
    ns_of: impl Fn(&manifest::ObjectMeta) -> String,
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
            w.metadata()
                .name
                .as_ref()
                .map(|n| format!("{}/{} (namespace {})", k.resource(), n, ns_of(w.metadata())))
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

/// The ports a container declares (none when the field is absent).
pub fn container_ports(container: &Container) -> &[ContainerPort] {
    container.ports.as_deref().unwrap_or_default()
}

/// A port number as the API types it (`int32`), when it is a valid port.
pub fn port_number(port: i32) -> Option<u16> {
    u16::try_from(port).ok().filter(|p| *p != 0)
}

/// Refuses container ports outside 1–65535, which the API server refuses too,
/// so later steps can read every port as a `u16`.
fn check_ports(containers: &[Container], location: &Location) -> Result<()> {
    for container in containers {
        for port in container_ports(container) {
            if port_number(port.container_port).is_none() {
                return Err(Error::Manifest {
                    location: location.clone(),
                    message: format!(
                        "container {:?} declares containerPort {}; a port is a number from 1 to 65535",
                        container.name, port.container_port
                    ),
                });
            }
        }
    }
    Ok(())
}

/// True when the Service's selector is non-empty and every pair is in the pod labels.
fn selects(service: &Service, pod_labels: &BTreeMap<String, String>) -> bool {
    let selector = service.spec.as_ref().and_then(|s| s.selector.as_ref());
    selector.is_some_and(|selector| {
        !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
    })
}

fn resolve_service(
    service: &Service,
    location: &Location,
    containers: &[Container],
) -> Result<AppService> {
    let name = service.metadata.name.clone().unwrap_or_default();
    let spec_ports = service.spec.as_ref().and_then(|s| s.ports.as_deref());
    let ports = spec_ports
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let port = port_number(p.port).ok_or_else(|| Error::Manifest {
                location: location.clone(),
                message: format!(
                    "Service {name:?} port {} is not a number from 1 to 65535",
                    p.port
                ),
            })?;
            let target = match &p.target_port {
                None => Some(port),
                Some(IntOrString::Int(n)) => port_number(*n),
                Some(IntOrString::String(wanted)) => containers
                    .iter()
                    .flat_map(container_ports)
                    .find(|cp| cp.name.as_deref() == Some(wanted.as_str()))
                    .and_then(|cp| port_number(cp.container_port)),
            };
            Ok(AppServicePort {
                name: p.name.clone(),
                port,
                target,
            })
        })
        .collect::<Result<_>>()?;
    Ok(AppService {
        name,
        labels: service.metadata.labels.clone().unwrap_or_default(),
        ports,
    })
}

/// A feature-flag provider named by well-known environment variables.
fn flag_provider_hint(container: &Container) -> Option<String> {
    container.env.iter().flatten().find_map(|e| {
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
fn check_names(app: &App, workload: &Workload) -> Result<()> {
    let bad = |what: String, message: String| Error::Manifest {
        location: app.location.clone(),
        message: format!("{what}: {message}"),
    };
    app.id()?;
    for container in &app.containers {
        validate::dns_label(&container.name)
            .map_err(|m| bad(format!("container name {:?}", container.name), m))?;
        for port in container_ports(container) {
            if let Some(name) = &port.name {
                validate::dns_label(name)
                    .map_err(|m| bad(format!("container port name {name:?}"), m))?;
            }
        }
    }
    let labels = workload
        .metadata()
        .labels
        .iter()
        .flatten()
        .chain(&app.pod_labels)
        .chain(&app.selector);
    for (k, v) in labels {
        validate::label(k, v).map_err(|m| bad("label".to_string(), m))?;
    }
    for requirement in &app.selector_expressions {
        check_requirement(requirement)
            .map_err(|m| bad("spec.selector.matchExpressions".to_string(), m))?;
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

/// A `matchExpressions` entry the API server would accept: a known operator,
/// values exactly when the operator takes them, and valid label syntax.
fn check_requirement(r: &LabelSelectorRequirement) -> std::result::Result<(), String> {
    let values = r.values.as_deref().unwrap_or_default();
    let takes_values = match r.operator.as_str() {
        "In" | "NotIn" => true,
        "Exists" | "DoesNotExist" => false,
        other => {
            return Err(format!(
                "operator {other:?} of key {:?} is not one of In, NotIn, Exists, DoesNotExist",
                r.key
            ));
        }
    };
    if takes_values == values.is_empty() {
        return Err(format!(
            "key {:?} with operator {} {}",
            r.key,
            r.operator,
            if takes_values {
                "needs values"
            } else {
                "takes no values"
            }
        ));
    }
    validate::label(&r.key, "")?;
    values.iter().try_for_each(|v| validate::label(&r.key, v))
}
