//! What monitoring stack a cluster runs (`onramp detect`): whether the
//! Prometheus Operator is installed (its `monitoring.coreos.com` group in
//! discovery), each `Prometheus` resource with the selectors that decide
//! which monitors and rules it picks up, the Grafana dashboard sidecar and
//! the label it watches, and the Services through which Prometheus and
//! Grafana are reached.
//!
//! Reads only, with label selectors and names: never every pod or object of
//! the cluster. Every request is an entry of the registry's group
//! [`crate::client::kube::access::STACK`], which `onramp rbac detect` turns
//! into the least-privilege ClusterRole. Does not own how the
//! result is saved (`onramp.yaml`, in `cli::config`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

use crate::client::kube::access::{
    GET_SERVICE, LIST_DEPLOYMENTS_EVERYWHERE, LIST_PROMETHEUSES, LIST_SERVICES,
    LIST_SERVICES_EVERYWHERE, OPERATOR_GROUP,
};
use crate::client::kube::{KubeClient, Result};

/// The label the Grafana and Prometheus charts put on their workloads and
/// Services (`app.kubernetes.io/name`), used to find them without listing
/// everything.
const NAME_LABEL: &str = "app.kubernetes.io/name";

/// The Service the Operator creates beside every Prometheus it runs.
const OPERATED_SERVICE: &str = "prometheus-operated";

/// What `detect` found.
#[derive(Debug, Clone, Serialize)]
pub struct Stack {
    /// The API server asked.
    pub server: String,
    /// The kubeconfig context used.
    pub context: String,
    /// The Prometheus Operator, when its group is served.
    pub operator: Option<Operator>,
    /// Every `Prometheus` resource (empty without the Operator).
    pub prometheuses: Vec<PrometheusResource>,
    /// Without the Operator: Services of a plain Prometheus
    /// (`app.kubernetes.io/name=prometheus`).
    pub prometheus_services: Vec<ServiceAddress>,
    /// Every Grafana workload (`app.kubernetes.io/name=grafana`).
    pub grafanas: Vec<Grafana>,
}

/// The Prometheus Operator's API group as discovery serves it.
#[derive(Debug, Clone, Serialize)]
pub struct Operator {
    /// `monitoring.coreos.com`.
    pub group: String,
    /// The preferred version (`v1`).
    pub version: String,
    /// Every served version.
    pub versions: Vec<String>,
}

/// Which objects of one kind a Prometheus picks up: both selectors must match.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Selection {
    /// The objects' labels (absent: none are selected).
    pub selector: Option<LabelSelector>,
    /// Their namespaces' labels (absent: only the Prometheus' own namespace).
    pub namespace_selector: Option<LabelSelector>,
}

/// One `Prometheus` custom resource and what it selects.
#[derive(Debug, Clone, Serialize)]
pub struct PrometheusResource {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// ServiceMonitors (`serviceMonitorSelector`, `serviceMonitorNamespaceSelector`).
    pub service_monitors: Selection,
    /// PodMonitors (`podMonitorSelector`, `podMonitorNamespaceSelector`).
    pub pod_monitors: Selection,
    /// PrometheusRules (`ruleSelector`, `ruleNamespaceSelector`).
    pub rules: Selection,
    /// Where it is reached (`prometheus-operated`), when that Service exists.
    pub service: Option<ServiceAddress>,
}

/// A Service port something is reached through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAddress {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// The Service port.
    pub port: i32,
    /// The port's name, when it has one.
    pub port_name: Option<String>,
}

impl ServiceAddress {
    /// `NAMESPACE/NAME:PORT`, as onramp.yaml stores it.
    pub fn reference(&self) -> String {
        format!("{}/{}:{}", self.namespace, self.name, self.port)
    }
}

/// A Grafana workload.
#[derive(Debug, Clone, Serialize)]
pub struct Grafana {
    /// Its namespace.
    pub namespace: String,
    /// The Deployment's name.
    pub name: String,
    /// The dashboard sidecar, when one of its containers is configured as one.
    pub sidecar: Option<Sidecar>,
    /// The Service that selects its pods.
    pub service: Option<ServiceAddress>,
}

/// The dashboard sidecar (kiwigrid k8s-sidecar): ConfigMaps with `label`
/// (= `label_value`, when set) become dashboards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sidecar {
    /// The container.
    pub container: String,
    /// `LABEL`.
    pub label: String,
    /// `LABEL_VALUE` (absent: any value).
    pub label_value: Option<String>,
    /// `FOLDER_ANNOTATION`: the annotation that names a dashboard's folder.
    pub folder_annotation: Option<String>,
    /// `NAMESPACE`: the namespaces it searches, comma-separated, or `ALL`;
    /// absent, only its own (Grafana's) namespace.
    pub namespaces: Option<String>,
}

impl Sidecar {
    /// Whether it loads ConfigMaps of `namespace`, running in `own`.
    pub fn watches(&self, own: &str, namespace: &str) -> bool {
        match self.namespaces.as_deref() {
            None => own == namespace,
            Some(list) => list
                .split(',')
                .map(str::trim)
                .any(|n| n == "ALL" || n == namespace),
        }
    }

    /// Where it searches, as a person reads it.
    pub fn where_text(&self, own: &str) -> String {
        match self.namespaces.as_deref().map(str::trim) {
            None => format!("in namespace {own} only"),
            Some("ALL") => "in every namespace".to_string(),
            Some(list) => format!("in namespace(s) {list}"),
        }
    }

    /// Whether it loads a ConfigMap with these labels: its label, with its
    /// value when it names one.
    pub fn loads(&self, labels: &BTreeMap<String, String>) -> bool {
        match (&self.label_value, labels.get(&self.label)) {
            (_, None) => false,
            (Some(wanted), Some(value)) => wanted == value,
            (None, Some(_)) => true,
        }
    }

    /// `LABEL=VALUE` (or `LABEL` when any value is watched).
    pub fn selector(&self) -> String {
        match &self.label_value {
            Some(value) => format!("{}={value}", self.label),
            None => self.label.clone(),
        }
    }
}

/// A `Prometheus` object: only the fields detect reads.
#[derive(Deserialize)]
struct PrometheusObject {
    metadata: ObjectMeta,
    #[serde(default)]
    spec: PrometheusSpec,
}

/// The Operator's `monitoring.coreos.com/v1` `Prometheus`, as the typed
/// reads name a kind (its registry entry is [`LIST_PROMETHEUSES`]).
impl k8s_openapi::Resource for PrometheusObject {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const GROUP: &'static str = OPERATOR_GROUP;
    const KIND: &'static str = "Prometheus";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "prometheuses";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

/// The selectors of a `Prometheus` spec.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PrometheusSpec {
    service_monitor_selector: Option<LabelSelector>,
    service_monitor_namespace_selector: Option<LabelSelector>,
    pod_monitor_selector: Option<LabelSelector>,
    pod_monitor_namespace_selector: Option<LabelSelector>,
    rule_selector: Option<LabelSelector>,
    rule_namespace_selector: Option<LabelSelector>,
}

/// Asks the cluster what monitoring stack it runs.
pub async fn detect(client: &KubeClient) -> Result<Stack> {
    let groups: APIGroupList = client.discover("/apis").await?;
    let operator = operator_from(&groups);
    let (prometheuses, prometheus_services) = match &operator {
        Some(_) => (prometheuses(client).await?, Vec::new()),
        None => (Vec::new(), plain_prometheus(client).await?),
    };
    Ok(Stack {
        server: client.server().to_string(),
        context: client.context().to_string(),
        operator,
        prometheuses,
        prometheus_services,
        grafanas: grafanas(client).await?,
    })
}

/// The Operator's group in the discovery document, if served.
fn operator_from(groups: &APIGroupList) -> Option<Operator> {
    let group = groups.groups.iter().find(|g| g.name == OPERATOR_GROUP)?;
    let versions: Vec<String> = group.versions.iter().map(|v| v.version.clone()).collect();
    let version = group
        .preferred_version
        .as_ref()
        .map(|v| v.version.clone())
        .or_else(|| versions.first().cloned())?;
    Some(Operator {
        group: group.name.clone(),
        version,
        versions,
    })
}

/// Every `Prometheus` resource, with the Service the Operator made for it.
async fn prometheuses(client: &KubeClient) -> Result<Vec<PrometheusResource>> {
    let objects: Vec<PrometheusObject> = client.list(LIST_PROMETHEUSES, None, None).await?;
    let mut found = Vec::new();
    for object in objects {
        let namespace = object.metadata.namespace.unwrap_or_default();
        let service: Option<Service> = client
            .get(GET_SERVICE, &namespace, OPERATED_SERVICE)
            .await?;
        let spec = object.spec;
        found.push(PrometheusResource {
            service: service.and_then(|s| service_address(&s, &["web", "http-web"])),
            namespace,
            name: object.metadata.name.unwrap_or_default(),
            service_monitors: Selection {
                selector: spec.service_monitor_selector,
                namespace_selector: spec.service_monitor_namespace_selector,
            },
            pod_monitors: Selection {
                selector: spec.pod_monitor_selector,
                namespace_selector: spec.pod_monitor_namespace_selector,
            },
            rules: Selection {
                selector: spec.rule_selector,
                namespace_selector: spec.rule_namespace_selector,
            },
        });
    }
    Ok(found)
}

/// Without the Operator: the Services of a Prometheus installed by its chart.
async fn plain_prometheus(client: &KubeClient) -> Result<Vec<ServiceAddress>> {
    let selector = format!("{NAME_LABEL}=prometheus");
    let services: Vec<Service> = client
        .list(LIST_SERVICES_EVERYWHERE, None, Some(&selector))
        .await?;
    Ok(services
        .iter()
        .filter_map(|s| service_address(s, &["web", "http", "http-web"]))
        .collect())
}

/// Every Grafana Deployment, its dashboard sidecar and its Service.
async fn grafanas(client: &KubeClient) -> Result<Vec<Grafana>> {
    let selector = format!("{NAME_LABEL}=grafana");
    let deployments: Vec<Deployment> = client
        .list(LIST_DEPLOYMENTS_EVERYWHERE, None, Some(&selector))
        .await?;
    let mut services: BTreeMap<String, Vec<Service>> = BTreeMap::new();
    let mut found = Vec::new();
    for deployment in deployments {
        let namespace = deployment.metadata.namespace.clone().unwrap_or_default();
        if !services.contains_key(&namespace) {
            let listed = client
                .list(LIST_SERVICES, Some(&namespace), Some(&selector))
                .await?;
            services.insert(namespace.clone(), listed);
        }
        let template = deployment.spec.as_ref().map(|s| &s.template);
        let pod_labels = template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let containers = template
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default();
        let service = services[&namespace]
            .iter()
            .find(|s| selects(s, &pod_labels))
            .and_then(|s| service_address(s, &["http-web", "service", "http"]));
        found.push(Grafana {
            name: deployment.metadata.name.clone().unwrap_or_default(),
            namespace,
            sidecar: containers.iter().find_map(sidecar),
            service,
        });
    }
    Ok(found)
}

/// The sidecar settings of a container, when its env configures one.
fn sidecar(container: &Container) -> Option<Sidecar> {
    let env: BTreeMap<&str, &str> = container
        .env
        .iter()
        .flatten()
        .filter_map(|e| Some((e.name.as_str(), e.value.as_deref()?)))
        .collect();
    Some(Sidecar {
        container: container.name.clone(),
        label: env.get("LABEL")?.to_string(),
        label_value: env.get("LABEL_VALUE").map(|v| v.to_string()),
        folder_annotation: env.get("FOLDER_ANNOTATION").map(|v| v.to_string()),
        namespaces: env.get("NAMESPACE").map(|v| v.to_string()),
    })
}

/// True when the Service's selector picks pods with these labels.
fn selects(service: &Service, pod_labels: &BTreeMap<String, String>) -> bool {
    let selector = service.spec.as_ref().and_then(|s| s.selector.as_ref());
    selector
        .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| pod_labels.get(k) == Some(v)))
}

/// The Service's port named one of `preferred` (in that order), else its first.
fn service_address(service: &Service, preferred: &[&str]) -> Option<ServiceAddress> {
    let ports = service.spec.as_ref()?.ports.as_ref()?;
    let port = preferred
        .iter()
        .find_map(|name| ports.iter().find(|p| p.name.as_deref() == Some(name)))
        .or(ports.first())?;
    Some(ServiceAddress {
        namespace: service.metadata.namespace.clone().unwrap_or_default(),
        name: service.metadata.name.clone().unwrap_or_default(),
        port: port.port,
        port_name: port.name.clone(),
    })
}

impl Stack {
    /// The Prometheus whose selectors onramp follows: the first found. With
    /// several, the report says which one and how to choose another.
    pub fn selecting(&self) -> Option<&PrometheusResource> {
        self.prometheuses.first()
    }

    /// The labels monitors and rules must carry to be picked up by
    /// [`Stack::selecting`]: every `matchLabels` of its three selectors.
    pub fn required_labels(&self) -> BTreeMap<String, String> {
        let Some(prometheus) = self.selecting() else {
            return BTreeMap::new();
        };
        [
            &prometheus.service_monitors,
            &prometheus.pod_monitors,
            &prometheus.rules,
        ]
        .iter()
        .filter_map(|s| s.selector.as_ref()?.match_labels.clone())
        .flatten()
        .collect()
    }

    /// The first Grafana with a dashboard sidecar.
    pub fn sidecar(&self) -> Option<(&Grafana, &Sidecar)> {
        self.grafanas
            .iter()
            .find_map(|g| g.sidecar.as_ref().map(|s| (g, s)))
    }

    /// Where Prometheus is reached: the selecting Prometheus' Service, else a
    /// plain Prometheus' one.
    pub fn prometheus_service(&self) -> Option<&ServiceAddress> {
        self.selecting()
            .and_then(|p| p.service.as_ref())
            .or(self.prometheus_services.first())
    }

    /// Where Grafana is reached (the sidecar's Grafana first).
    pub fn grafana_service(&self) -> Option<&ServiceAddress> {
        self.sidecar()
            .and_then(|(g, _)| g.service.as_ref())
            .or_else(|| self.grafanas.iter().find_map(|g| g.service.as_ref()))
    }

    /// The report for people.
    pub fn text(&self) -> String {
        let mut out = format!("Cluster: {} (context {})\n\n", self.server, self.context);
        match &self.operator {
            Some(op) => {
                out.push_str(&format!(
                    "Prometheus Operator: installed ({}/{})\n",
                    op.group, op.version
                ));
                out.push_str(&self.prometheus_text());
            }
            None => out.push_str(&self.plain_text()),
        }
        out.push('\n');
        out.push_str(&self.grafana_text());
        out
    }

    /// The Prometheus resources and the labels they require.
    fn prometheus_text(&self) -> String {
        if self.prometheuses.is_empty() {
            return "  but no Prometheus resource exists: nothing would pick up monitors or rules\n"
                .to_string();
        }
        let mut out = String::new();
        for p in &self.prometheuses {
            out.push_str(&format!("Prometheus {}/{}\n", p.namespace, p.name));
            for (what, selection) in [
                ("ServiceMonitors", &p.service_monitors),
                ("PodMonitors", &p.pod_monitors),
                ("PrometheusRules", &p.rules),
            ] {
                out.push_str(&row(what, &selection_text(selection, &p.namespace)));
            }
            out.push_str(&format!(
                "  {:<16} {}\n",
                "reached at",
                reached(p.service.as_ref())
            ));
        }
        let labels = self.required_labels();
        if let Some(p) = self.selecting()
            && !labels.is_empty()
        {
            out.push_str(&format!(
                "Monitors and rules need the label{} {}, or {}/{} ignores them.\n",
                if labels.len() == 1 { "" } else { "s" },
                join_labels(&labels),
                p.namespace,
                p.name
            ));
        }
        if self.prometheuses.len() > 1 {
            out.push_str("onramp.yaml takes the first one's labels; choose another with --label KEY=VALUE.\n");
        }
        out
    }

    /// Without the Operator: what that means and the plain-Prometheus path.
    fn plain_text(&self) -> String {
        let mut out = format!(
            "Prometheus Operator: not installed (no {OPERATOR_GROUP} group in discovery)\n  \
             ServiceMonitors, PodMonitors and PrometheusRules would be ignored here. For a plain Prometheus,\n  \
             let onramp write the app's scrape target and rules into the folder its config includes:\n    \
             onramp apply APP -n NAMESPACE -f MANIFESTS --prometheus-config-dir DIR\n"
        );
        match self.prometheus_services.as_slice() {
            [] => out.push_str(&format!(
                "Prometheus: no Service labelled {NAME_LABEL}=prometheus found\n"
            )),
            services => {
                for s in services {
                    out.push_str(&format!("Prometheus: {}\n", reached(Some(s))));
                }
            }
        }
        out
    }

    /// The Grafana workloads and their sidecars.
    fn grafana_text(&self) -> String {
        if self.grafanas.is_empty() {
            return format!("Grafana: no Deployment labelled {NAME_LABEL}=grafana found\n");
        }
        let mut out = String::new();
        for g in &self.grafanas {
            out.push_str(&format!("Grafana {}/{}\n", g.namespace, g.name));
            let sidecar = match &g.sidecar {
                Some(s) => format!(
                    "container {} loads ConfigMaps labelled {} {}{}",
                    s.container,
                    s.selector(),
                    s.where_text(&g.namespace),
                    s.folder_annotation
                        .as_ref()
                        .map(|a| format!(" (folder from the annotation {a})"))
                        .unwrap_or_default()
                ),
                None => "none (no container sets LABEL)".to_string(),
            };
            out.push_str(&format!("  {:<16} {sidecar}\n", "dashboard sidecar"));
            out.push_str(&format!(
                "  {:<16} {}\n",
                "reached at",
                reached(g.service.as_ref())
            ));
        }
        out
    }
}

/// One indented `name: value` line of the report, the values aligned.
fn row(name: &str, value: &str) -> String {
    format!("  {:<19}{value}\n", format!("{name}:"))
}

/// `service NS/NAME port 9090 (web)` or that none was found.
fn reached(service: Option<&ServiceAddress>) -> String {
    match service {
        Some(s) => format!(
            "service {}/{} port {}{}",
            s.namespace,
            s.name,
            s.port,
            s.port_name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        None => "no Service found".to_string(),
    }
}

/// What a selection picks up, in words.
fn selection_text(selection: &Selection, own_namespace: &str) -> String {
    let objects = match &selection.selector {
        None => return "none (the selector is unset)".to_string(),
        Some(s) if is_empty(s) => "any labels".to_string(),
        Some(s) => format!("labels {}", selector_text(s)),
    };
    let namespaces = match &selection.namespace_selector {
        None => format!("only in namespace {own_namespace}"),
        Some(s) if is_empty(s) => "in every namespace".to_string(),
        Some(s) => format!("in namespaces labelled {}", selector_text(s)),
    };
    format!("{objects}, {namespaces}")
}

/// True for `{}`: a selector that matches everything.
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

/// A selector in kubectl's `-l` syntax.
pub fn selector_text(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "DoesNotExist" => format!("!{}", e.key),
            _ => e.key.clone(),
        });
    }
    parts.join(",")
}

/// `a=1,b=2`.
fn join_labels(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::EnvVar;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn selections_say_what_an_unset_an_empty_and_a_set_selector_pick_up() {
        let unset = Selection::default();
        assert_eq!(
            selection_text(&unset, "monitoring"),
            "none (the selector is unset)"
        );
        let own = Selection {
            selector: Some(LabelSelector::default()),
            namespace_selector: None,
        };
        assert_eq!(
            selection_text(&own, "monitoring"),
            "any labels, only in namespace monitoring"
        );
        let labelled = Selection {
            selector: Some(LabelSelector {
                match_labels: labels(&[("release", "kps")]),
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["web".into(), "api".into()]),
                }]),
            }),
            namespace_selector: Some(LabelSelector {
                match_labels: labels(&[("team", "shop")]),
                match_expressions: None,
            }),
        };
        assert_eq!(
            selection_text(&labelled, "monitoring"),
            "labels release=kps,tier in (web,api), in namespaces labelled team=shop"
        );
    }

    #[test]
    fn a_container_is_a_sidecar_only_when_its_env_sets_label() {
        let env = |pairs: &[(&str, &str)]| Container {
            name: "sc".into(),
            env: Some(
                pairs
                    .iter()
                    .map(|(k, v)| EnvVar {
                        name: k.to_string(),
                        value: Some(v.to_string()),
                        value_from: None,
                    })
                    .collect(),
            ),
            ..Container::default()
        };
        assert_eq!(sidecar(&env(&[("FOLDER", "/tmp")])), None);
        let any_value = sidecar(&env(&[("LABEL", "grafana_dashboard")])).expect("a sidecar");
        assert_eq!(any_value.selector(), "grafana_dashboard");
        let full = sidecar(&env(&[
            ("LABEL", "grafana_dashboard"),
            ("LABEL_VALUE", "1"),
            ("FOLDER_ANNOTATION", "grafana_folder"),
        ]))
        .expect("a sidecar");
        assert_eq!(full.selector(), "grafana_dashboard=1");
        assert_eq!(full.folder_annotation.as_deref(), Some("grafana_folder"));

        // Without NAMESPACE a sidecar searches its own namespace only.
        let mut s = sidecar(&env(&[("LABEL", "grafana_dashboard")])).expect("a sidecar");
        assert!(s.watches("monitoring", "monitoring"));
        assert!(!s.watches("monitoring", "shop"));
        assert_eq!(s.where_text("monitoring"), "in namespace monitoring only");
        s.namespaces = Some("ALL".into());
        assert!(s.watches("monitoring", "shop"));
        s.namespaces = Some("team-a, shop".into());
        assert!(s.watches("monitoring", "shop"));
        assert!(!s.watches("monitoring", "monitoring"));
    }
}
