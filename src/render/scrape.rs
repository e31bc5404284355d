//! Scrape configuration for a plain Prometheus (no Operator): a
//! `scrape_configs` entry that finds the app's pods with Kubernetes service
//! discovery and keeps only the metrics port, labelled like the Operator would
//! (`namespace`, `pod`, `container`, and `job` = the app name).

use serde::Serialize;

use crate::app::MetricsEndpoint;
use crate::error::Result;
use crate::needs::promql::regex_escape;
use crate::render::{Context, to_yaml};

#[derive(Serialize)]
struct Namespaces {
    names: Vec<String>,
}

#[derive(Serialize)]
struct KubernetesSd {
    role: &'static str,
    namespaces: Namespaces,
}

/// A relabel rule of a plain Prometheus config.
#[derive(Serialize)]
struct Relabel {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
}

#[derive(Serialize)]
struct ScrapeConfig {
    job_name: String,
    metrics_path: String,
    scheme: String,
    kubernetes_sd_configs: Vec<KubernetesSd>,
    relabel_configs: Vec<Relabel>,
}

#[derive(Serialize)]
struct ScrapeConfigs {
    scrape_configs: Vec<ScrapeConfig>,
}

/// Prometheus turns a pod label name into `__meta_kubernetes_pod_label_<name>`
/// with every character outside `[a-zA-Z0-9_]` replaced by `_`.
fn meta_label(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("__meta_kubernetes_pod_label_{clean}")
}

fn keep(source: String, value: &str) -> Relabel {
    Relabel {
        source_labels: vec![source],
        regex: Some(regex_escape(value)),
        action: "keep",
        target_label: None,
        replacement: None,
    }
}

fn copy(source: &str, target: &str) -> Relabel {
    Relabel {
        source_labels: vec![source.to_string()],
        regex: None,
        action: "replace",
        target_label: Some(target.to_string()),
        replacement: None,
    }
}

/// Renders the scrape config fragment for `prometheus.yml`.
pub fn render(ctx: &Context<'_>, endpoint: &MetricsEndpoint) -> Result<String> {
    let app = ctx.app;
    let mut relabel_configs: Vec<Relabel> = app
        .selector
        .iter()
        .map(|(k, v)| keep(meta_label(k), v))
        .collect();
    relabel_configs.push(keep(
        "__meta_kubernetes_pod_container_port_number".to_string(),
        &endpoint.port.to_string(),
    ));
    relabel_configs.push(copy("__meta_kubernetes_namespace", "namespace"));
    relabel_configs.push(copy("__meta_kubernetes_pod_name", "pod"));
    relabel_configs.push(copy("__meta_kubernetes_pod_container_name", "container"));
    relabel_configs.push(Relabel {
        source_labels: Vec::new(),
        regex: None,
        action: "replace",
        target_label: Some("job".to_string()),
        replacement: Some(app.name.clone()),
    });
    let config = ScrapeConfigs {
        scrape_configs: vec![ScrapeConfig {
            job_name: format!("{}/{}", app.namespace, app.name),
            metrics_path: endpoint.path.clone(),
            scheme: endpoint.scheme.clone(),
            kubernetes_sd_configs: vec![KubernetesSd {
                role: "pod",
                namespaces: Namespaces {
                    names: vec![app.namespace.clone()],
                },
            }],
            relabel_configs,
        }],
    };
    let yaml = to_yaml(&config, "scrape config")?;
    Ok(format!(
        "# Add this entry under `scrape_configs:` in prometheus.yml (or list this file in\n# `scrape_config_files:` on Prometheus 2.43 and later).\n{yaml}"
    ))
}

#[derive(Serialize)]
struct TargetGroup {
    targets: Vec<String>,
    labels: std::collections::BTreeMap<String, String>,
}

/// A file_sd target file for a plain Prometheus that scrapes the app at a
/// fixed address (an app running outside Kubernetes, like the demo shop on a
/// laptop). Labels match what the Operator's objects give the app's series.
pub fn static_targets(
    ctx: &Context<'_>,
    endpoint: &MetricsEndpoint,
    target: &str,
) -> Result<String> {
    let labels = std::collections::BTreeMap::from([
        ("job".to_string(), ctx.app.name.clone()),
        ("namespace".to_string(), ctx.app.namespace.clone()),
        ("container".to_string(), endpoint.container.clone()),
        ("__metrics_path__".to_string(), endpoint.path.clone()),
        ("__scheme__".to_string(), endpoint.scheme.clone()),
    ]);
    let yaml = to_yaml(
        &vec![TargetGroup {
            targets: vec![target.to_string()],
            labels,
        }],
        "file_sd targets",
    )?;
    Ok(format!(
        "# A file_sd target file: prometheus.yml reads it through `file_sd_configs`.\n{yaml}"
    ))
}
