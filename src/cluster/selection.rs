//! Whether the cluster's Prometheus will pick up the monitors and rules of a
//! plan: each `Prometheus` resource selects ServiceMonitors, PodMonitors and
//! PrometheusRules by their labels *and* by their namespace's labels, and
//! silently ignores the rest (the `release` label trap of
//! kube-prometheus-stack). This module says so plainly, naming the
//! Prometheus and the selector, and what to change; `plan` and `apply` print
//! its warnings.
//!
//! Reads the plan's rendered objects (their real labels) and what
//! [`crate::cluster::stack`] found; does not talk to the cluster itself.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;

use crate::cluster::stack::{PrometheusResource, Selection, Stack, is_empty, selector_text};
use crate::plan::{ArtifactKind, Plan};

/// A monitoring object of the plan, as a Prometheus selects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selectable {
    /// `ServiceMonitor`, `PodMonitor` or `PrometheusRule`.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its labels, as rendered.
    pub labels: BTreeMap<String, String>,
}

/// Only the labels of a rendered object.
#[derive(Deserialize)]
struct Rendered {
    metadata: RenderedMeta,
}

#[derive(Deserialize)]
struct RenderedMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The ServiceMonitors, PodMonitors and PrometheusRules of `plan`, with the
/// labels they are rendered with.
pub fn selectables(plan: &Plan) -> Vec<Selectable> {
    plan.artifacts
        .iter()
        .filter_map(|artifact| match &artifact.kind {
            ArtifactKind::Kubernetes {
                api_version,
                kind,
                namespace,
                names,
            } if api_version.starts_with("monitoring.coreos.com/") => {
                let rendered: Rendered = serde_saphyr::from_str(&artifact.content).ok()?;
                Some(Selectable {
                    kind: kind.clone(),
                    namespace: namespace.clone(),
                    name: names.first().cloned().unwrap_or_default(),
                    labels: rendered.metadata.labels,
                })
            }
            _ => None,
        })
        .collect()
}

/// A warning when the cluster's Grafana dashboard sidecar would not load
/// the plan's dashboard ConfigMaps: it does not search their namespace, or
/// they lack the label it watches
/// (`grafana.sidecar_label` in onramp.yaml naming another one, or a plan
/// from manifests applied with `--cluster`): the same silent trap as a
/// monitor without the `release` label.
pub fn sidecar_warning(stack: &Stack, plan: &Plan) -> Option<String> {
    let (grafana, sidecar) = stack.sidecar()?;
    if !sidecar.watches(&grafana.namespace, &plan.namespace) {
        return Some(format!(
            "Grafana's dashboard sidecar ({}/{}, container {}) loads ConfigMaps {} (its NAMESPACE setting), so it would not load the dashboard ConfigMaps in namespace {}; set the sidecar's NAMESPACE to ALL (kube-prometheus-stack: grafana.sidecar.dashboards.searchNamespace: ALL), or push the dashboards through Grafana's API with --grafana-url.",
            grafana.namespace,
            grafana.name,
            sidecar.container,
            sidecar.where_text(&grafana.namespace),
            plan.namespace,
        ));
    }
    let config_maps = plan.artifacts.iter().find(|artifact| {
        matches!(&artifact.kind, ArtifactKind::Kubernetes { api_version, kind, .. }
            if api_version == "v1" && kind == "ConfigMap")
    })?;
    let ignored: Vec<String> = config_maps
        .content
        .split("\n---\n")
        .filter_map(|doc| serde_saphyr::from_str::<Rendered>(doc).ok())
        .filter(|doc| !sidecar.loads(&doc.metadata.labels))
        .map(|doc| doc.metadata.name)
        .collect();
    if ignored.is_empty() {
        return None;
    }
    Some(format!(
        "Grafana's dashboard sidecar ({}/{}, container {}) loads ConfigMaps labelled {}, and the dashboard ConfigMap(s) {} do not carry it, so it would not load them; remove grafana.sidecar_label from onramp.yaml (or set it to {}), or push the dashboards through Grafana's API with --grafana-url.",
        grafana.namespace,
        grafana.name,
        sidecar.container,
        sidecar.selector(),
        ignored.join(", "),
        sidecar.selector(),
    ))
}

/// True when some Prometheus selects by namespace labels, so the app's
/// namespace's labels must be read to decide.
pub fn needs_namespace_labels(stack: &Stack) -> bool {
    stack.prometheuses.iter().any(|p| {
        [&p.service_monitors, &p.pod_monitors, &p.rules]
            .iter()
            .any(|s| s.namespace_selector.as_ref().is_some_and(|n| !is_empty(n)))
    })
}

/// Why no Prometheus would pick an object up, and what would change that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The sentence: the Prometheus, the selector it fails, what to do.
    pub text: String,
    /// The fix, when there is one onramp can name.
    pub fix: Fix,
}

/// What makes a Prometheus pick an object up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// The object must carry these labels (`KEY=VALUE`).
    Labels(Vec<String>),
    /// The namespace must be labelled: the `kubectl label namespace` command.
    LabelNamespace(String),
    /// Nothing onramp can name (an unset selector, expressions, no Prometheus).
    Other,
}

/// One warning per object no Prometheus of `stack` would pick up, naming
/// the Prometheus and the selector it fails, and what to do.
/// `namespace_labels` are the labels of the objects' namespace. Without the
/// Operator there is nothing to warn about here: the plan has no monitors.
pub fn warnings(
    stack: &Stack,
    objects: &[Selectable],
    namespace_labels: &BTreeMap<String, String>,
) -> Vec<String> {
    objects
        .iter()
        .flat_map(|object| misses(stack, object, namespace_labels))
        .map(|miss| miss.text)
        .collect()
}

/// Why no Prometheus of `stack` picks `object` up, one [`Miss`] per
/// Prometheus; empty when one of them does (or there is no Operator).
pub fn misses(
    stack: &Stack,
    object: &Selectable,
    namespace_labels: &BTreeMap<String, String>,
) -> Vec<Miss> {
    if stack.operator.is_none() {
        return Vec::new();
    }
    if stack.prometheuses.is_empty() {
        return vec![Miss {
            text: format!(
                "No Prometheus resource exists in the cluster: nothing will pick up {} {}/{}. Create one (kube-prometheus-stack does) before applying.",
                object.kind, object.namespace, object.name
            ),
            fix: Fix::Other,
        }];
    }
    stack
        .prometheuses
        .iter()
        .map(|p| why_not(p, object, namespace_labels))
        .collect::<Option<Vec<Miss>>>()
        // `None`: some Prometheus selects it.
        .unwrap_or_default()
}

/// Why `prometheus` would not pick `object` up, or `None` when it does.
fn why_not(
    prometheus: &PrometheusResource,
    object: &Selectable,
    namespace_labels: &BTreeMap<String, String>,
) -> Option<Miss> {
    let selection = selection_of(prometheus, &object.kind)?;
    let who = format!("{}/{}", prometheus.namespace, prometheus.name);
    let plural = format!("{}s", object.kind);
    let what = format!("{} {}/{}", object.kind, object.namespace, object.name);
    let Some(selector) = &selection.selector else {
        return Some(Miss {
            text: format!(
                "{who} selects no {plural} (its selector is unset), so it ignores {what}; set the selector in the Prometheus resource, or scrape through another Prometheus"
            ),
            fix: Fix::Other,
        });
    };
    if !matches(selector, &object.labels) {
        let add: Vec<String> = selector
            .match_labels
            .iter()
            .flatten()
            .filter(|(k, v)| object.labels.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let (advice, fix) = if add.is_empty() {
            ("give it labels that match".to_string(), Fix::Other)
        } else {
            let flags: Vec<String> = add.iter().map(|l| format!("--label {l}")).collect();
            (format!("add {}", flags.join(" ")), Fix::Labels(add))
        };
        return Some(Miss {
            text: format!(
                "{who} selects {plural} with {}, and {what} does not match, so it would be ignored; {advice}",
                selector_text(selector)
            ),
            fix,
        });
    }
    namespace_miss(selection, prometheus, object, namespace_labels).map(|(why, fix)| Miss {
        text: format!("{who} {why}, so it would ignore {what}"),
        fix,
    })
}

/// Why the object's namespace is not watched, and the fix; `None` when it is.
fn namespace_miss(
    selection: &Selection,
    prometheus: &PrometheusResource,
    object: &Selectable,
    namespace_labels: &BTreeMap<String, String>,
) -> Option<(String, Fix)> {
    let plural = format!("{}s", object.kind);
    match &selection.namespace_selector {
        None if object.namespace == prometheus.namespace => None,
        None => Some((
            format!(
                "watches {plural} only in its own namespace {} (its namespace selector is unset), not in {}",
                prometheus.namespace, object.namespace
            ),
            Fix::Other,
        )),
        Some(selector) if matches(selector, namespace_labels) => None,
        Some(selector) => {
            let text = selector_text(selector);
            // A command only for plain pairs: expressions have no one fix.
            let (advice, fix) = match &selector.match_expressions {
                Some(e) if !e.is_empty() => ("label it to match".to_string(), Fix::Other),
                _ => {
                    let command = format!(
                        "kubectl label namespace {} {}",
                        object.namespace,
                        text.replace(',', " ")
                    );
                    (format!("label it: {command}"), Fix::LabelNamespace(command))
                }
            };
            Some((
                format!(
                    "watches {plural} only in namespaces labelled {text}, and namespace {} is not; {advice}",
                    object.namespace
                ),
                fix,
            ))
        }
    }
}

/// The selection of `prometheus` for objects of `kind`.
fn selection_of<'a>(prometheus: &'a PrometheusResource, kind: &str) -> Option<&'a Selection> {
    match kind {
        "ServiceMonitor" => Some(&prometheus.service_monitors),
        "PodMonitor" => Some(&prometheus.pod_monitors),
        "PrometheusRule" => Some(&prometheus.rules),
        _ => None,
    }
}

/// Whether `labels` satisfy `selector`, as the API server's label selectors
/// evaluate it: every `matchLabels` pair and every expression.
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let pairs = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        let value = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    pairs && expressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_as_the_api_server_evaluates_them() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("release", "kps")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["batch".into()]),
                },
                LabelSelectorRequirement {
                    key: "team".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        assert!(matches(
            &selector,
            &labels(&[("release", "kps"), ("team", "a")])
        ));
        assert!(!matches(&selector, &labels(&[("release", "kps")])));
        assert!(!matches(
            &selector,
            &labels(&[("release", "kps"), ("team", "a"), ("tier", "batch")])
        ));
        assert!(!matches(&selector, &labels(&[("team", "a")])));
        assert!(matches(&LabelSelector::default(), &labels(&[])));
    }

    fn prometheus(selection: Selection) -> PrometheusResource {
        PrometheusResource {
            namespace: "monitoring".into(),
            name: "k8s".into(),
            service_monitors: selection.clone(),
            pod_monitors: selection.clone(),
            rules: selection,
            service: None,
        }
    }

    fn monitor(namespace: &str) -> Selectable {
        Selectable {
            kind: "ServiceMonitor".into(),
            namespace: namespace.into(),
            name: "checkout".into(),
            labels: labels(&[("release", "kps")]),
        }
    }

    #[test]
    fn an_unset_namespace_selector_watches_only_the_prometheus_own_namespace() {
        let own = prometheus(Selection {
            selector: Some(LabelSelector::default()),
            namespace_selector: None,
        });
        assert_eq!(
            why_not(&own, &monitor("monitoring"), &BTreeMap::new()),
            None
        );
        assert_eq!(
            why_not(&own, &monitor("shop"), &BTreeMap::new())
                .map(|m| m.text)
                .as_deref(),
            Some(
                "monitoring/k8s watches ServiceMonitors only in its own namespace monitoring (its namespace selector is unset), not in shop, so it would ignore ServiceMonitor shop/checkout"
            )
        );
    }

    #[test]
    fn an_unset_selector_selects_nothing_and_one_prometheus_that_selects_is_enough() {
        let none = prometheus(Selection::default());
        assert!(
            why_not(&none, &monitor("monitoring"), &BTreeMap::new()).is_some_and(|w| w
                .text
                .contains("selects no ServiceMonitors (its selector is unset)"))
        );
        let every = prometheus(Selection {
            selector: Some(LabelSelector::default()),
            namespace_selector: Some(LabelSelector::default()),
        });
        let stack = Stack {
            server: String::new(),
            context: String::new(),
            operator: Some(crate::cluster::stack::Operator {
                group: "monitoring.coreos.com".into(),
                version: "v1".into(),
                versions: vec!["v1".into()],
            }),
            prometheuses: vec![none, every],
            prometheus_services: Vec::new(),
            grafanas: Vec::new(),
        };
        assert!(warnings(&stack, &[monitor("shop")], &BTreeMap::new()).is_empty());
    }
}
