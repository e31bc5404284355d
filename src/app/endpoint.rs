//! Inferring where the app serves its metrics, and how Prometheus should reach
//! them (through a Service → ServiceMonitor, or directly → PodMonitor).
//!
//! Order: `--metrics-port` (the user's word wins), then the `prometheus.io/*`
//! annotations, then a container port named like `metrics`. The reason for the
//! result is always recorded so the user sees why; when nothing is found the
//! reason says what to add. A scrape object that points nowhere is never made.

use crate::app::manifest::ContainerPort;
use crate::app::{App, container_ports, port_number};
use crate::error::{Error, Result};

/// A port given by the user with `--metrics-port`: a container port name or number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsOverride {
    /// The port name or number as given.
    pub port: String,
    /// `--metrics-path`, when given.
    pub path: Option<String>,
}

/// How Prometheus reaches the metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeVia {
    /// A Service exposes the port: a ServiceMonitor selects the Service.
    Service {
        /// The Service name.
        service: String,
        /// The Service port name, when it has one.
        port_name: Option<String>,
        /// The container port number (used as `targetPort` when the Service port has no name).
        target_port: u16,
    },
    /// Only the pod declares the port: a PodMonitor selects the pods.
    Pod {
        /// The container port name, when it has one.
        port_name: Option<String>,
    },
}

/// Where the app serves Prometheus metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsEndpoint {
    /// The container serving them.
    pub container: String,
    /// The container port number.
    pub port: u16,
    /// The container port name, if declared with one.
    pub port_name: Option<String>,
    /// The HTTP path (default `/metrics`).
    pub path: String,
    /// `http` or `https`.
    pub scheme: String,
    /// How Prometheus reaches it.
    pub via: ScrapeVia,
}

/// The outcome of inference: an endpoint or none, and why.
#[derive(Debug, Clone)]
pub struct Inference {
    /// The endpoint, when found.
    pub endpoint: Option<MetricsEndpoint>,
    /// A sentence saying how it was found, or why not and what to add.
    pub reason: String,
}

/// Port names that conventionally serve Prometheus metrics.
fn looks_like_metrics_port(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "metrics"
        || n == "prom"
        || n == "prometheus"
        || n.ends_with("-metrics")
        || n.starts_with("metrics-")
        || n == "monitoring"
}

/// Infers the metrics endpoint of a discovered app.
pub fn infer(app: &App, user: Option<&MetricsOverride>) -> Result<Inference> {
    let annotation = |key: &str| {
        app.annotations
            .get(&format!("prometheus.io/{key}"))
            .cloned()
    };
    let scheme = annotation("scheme").unwrap_or_else(|| "http".to_string());
    if let Some(user) = user {
        return from_user(app, user, scheme);
    }
    if annotation("scrape").as_deref() == Some("false") {
        return Ok(Inference {
            endpoint: None,
            reason: format!(
                "{} is annotated prometheus.io/scrape: \"false\"; remove the annotation or pass --metrics-port to onboard its metrics",
                app.workload()
            ),
        });
    }
    let path = annotation("path").unwrap_or_else(|| "/metrics".to_string());
    if let Some(port) = annotation("port") {
        return match find_port(app, &port) {
            Some((container, cp)) => Ok(found(
                app,
                container,
                cp,
                path,
                scheme,
                format!(
                    "port {} from the prometheus.io/port annotation",
                    describe(cp)
                ),
            )),
            None => Ok(Inference {
                endpoint: None,
                reason: format!(
                    "the prometheus.io/port annotation says {port}, but no container of {} declares that port (ports: {}); the Prometheus Operator can only scrape declared ports: add it to the container's ports",
                    app.workload(),
                    port_list(app)
                ),
            }),
        };
    }
    Ok(from_port_name(app, path, scheme))
}

/// The port the user named with `--metrics-port`: their word wins.
fn from_user(app: &App, user: &MetricsOverride, scheme: String) -> Result<Inference> {
    let Some((container, port)) = find_port(app, &user.port) else {
        return Err(Error::Usage(format!(
            "--metrics-port {}: {} declares no such container port; its ports are: {}",
            user.port,
            app.workload(),
            port_list(app)
        )));
    };
    let path = user.path.clone().unwrap_or_else(|| "/metrics".to_string());
    Ok(found(
        app,
        container,
        port,
        path,
        scheme,
        format!("port {} from --metrics-port", describe(port)),
    ))
}

/// A container port named like a metrics port, else no endpoint and what to add.
fn from_port_name(app: &App, path: String, scheme: String) -> Inference {
    let named = app.containers.iter().find_map(|c| {
        container_ports(c)
            .iter()
            .find(|p| p.name.as_deref().is_some_and(looks_like_metrics_port))
            .map(|p| (c.name.as_str(), p))
    });
    if let Some((container, port)) = named {
        return found(
            app,
            container,
            port,
            path,
            scheme,
            format!(
                "container port {} is named like a metrics port",
                describe(port)
            ),
        );
    }
    Inference {
        endpoint: None,
        reason: format!(
            "no metrics endpoint found for {}: no prometheus.io/port annotation and no container port named like `metrics` or `http-metrics` (ports: {}). Expose Prometheus metrics, then name the port `metrics`, annotate the pod template with prometheus.io/port, or pass --metrics-port NAME|NUMBER",
            app.workload(),
            port_list(app)
        ),
    }
}

fn describe(port: &ContainerPort) -> String {
    match &port.name {
        Some(name) => format!("{name} ({})", port.container_port),
        None => port.container_port.to_string(),
    }
}

fn port_list(app: &App) -> String {
    let ports: Vec<String> = app
        .containers
        .iter()
        .flat_map(|c| {
            container_ports(c)
                .iter()
                .map(move |p| format!("{}:{}", c.name, describe(p)))
        })
        .collect();
    if ports.is_empty() {
        "none declared".to_string()
    } else {
        ports.join(", ")
    }
}

fn find_port<'a>(app: &'a App, wanted: &str) -> Option<(&'a str, &'a ContainerPort)> {
    let number: Option<u16> = wanted.parse().ok();
    app.containers.iter().find_map(|c| {
        container_ports(c)
            .iter()
            .find(|p| match number {
                Some(n) => port_number(p.container_port) == Some(n),
                None => p.name.as_deref() == Some(wanted),
            })
            .map(|p| (c.name.as_str(), p))
    })
}

fn found(
    app: &App,
    container: &str,
    port: &ContainerPort,
    path: String,
    scheme: String,
    why: String,
) -> Inference {
    // Discovery refused ports outside 1–65535, so this always converts.
    let number = port_number(port.container_port).unwrap_or_default();
    let service = app.services.iter().find_map(|s| {
        s.ports
            .iter()
            .find(|p| p.target == Some(number))
            .map(|p| (s, p))
    });
    let (via, how) = match service {
        Some((s, p)) => (
            ScrapeVia::Service {
                service: s.name.clone(),
                port_name: p.name.clone(),
                target_port: number,
            },
            format!(
                "Service {} exposes it as port {}, so a ServiceMonitor scrapes it",
                s.name,
                p.name.clone().unwrap_or_else(|| p.port.to_string())
            ),
        ),
        None => (
            ScrapeVia::Pod {
                port_name: port.name.clone(),
            },
            if app.services.is_empty() {
                "no Service selects the pods, so a PodMonitor scrapes them".to_string()
            } else {
                "no Service exposes that port, so a PodMonitor scrapes the pods".to_string()
            },
        ),
    };
    Inference {
        reason: format!("{why} on container {container}, path {path}; {how}"),
        endpoint: Some(MetricsEndpoint {
            container: container.to_string(),
            port: number,
            port_name: port.name.clone(),
            path,
            scheme,
            via,
        }),
    }
}
