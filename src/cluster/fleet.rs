//! The fleet a cluster runs, read for `onramp adoption`: every workload
//! (Deployments, StatefulSets, DaemonSets), the namespaces' labels, and the
//! monitors and rules onramp wrote (`app.kubernetes.io/managed-by=onramp`,
//! selected by the API server). One list per resource type — across every
//! namespace, or in each namespace `-n` names — never a request per app, so
//! the number of requests does not grow with the fleet.
//!
//! Objects are read into slim types (names, labels, the rule groups a
//! PrometheusRule declares), not the full objects: a list of a thousand
//! Deployments is parsed for what adoption needs only. Every request is an
//! entry of the registry's groups [`FLEET`](crate::client::kube::access::FLEET)
//! and [`FLEET_IN_NAMESPACE`](crate::client::kube::access::FLEET_IN_NAMESPACE).
//! Knows no adoption levels (`check::adoption` does).

use std::collections::BTreeMap;
use std::marker::PhantomData;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use serde::Deserialize;

use crate::app::WorkloadKind;
use crate::client::kube::access::{
    FLEET, FLEET_IN_NAMESPACE, GET_NAMESPACE, LIST_NAMESPACES, OPERATOR_GROUP,
};
use crate::client::kube::{Access, KubeClient, Result};
use crate::plan::{APP_LABEL, MANAGED_BY, NEED_LABEL};

/// Which namespaces the fleet is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every namespace (`-A`).
    All,
    /// The namespaces `-n` names, each checked to exist.
    Namespaces(Vec<String>),
}

/// A workload of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetWorkload {
    /// Its namespace.
    pub namespace: String,
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its name.
    pub name: String,
    /// Its own labels.
    pub labels: BTreeMap<String, String>,
    /// Its pod template's labels.
    pub pod_labels: BTreeMap<String, String>,
}

impl FleetWorkload {
    /// The value of `label` on the workload, else on its pod template.
    pub fn label(&self, label: &str) -> Option<&str> {
        self.labels
            .get(label)
            .or_else(|| self.pod_labels.get(label))
            .map(String::as_str)
    }
}

/// A monitor or rule object onramp wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnrampObject {
    /// `ServiceMonitor`, `PodMonitor`, `PrometheusRule` or `ConfigMap`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its labels (the Prometheus selects by them).
    pub labels: BTreeMap<String, String>,
    /// The rule groups a PrometheusRule declares (empty for the others).
    pub rule_groups: Vec<String>,
    /// A dashboard ConfigMap's files: name → the dashboard's JSON (empty for
    /// the others).
    pub data: BTreeMap<String, String>,
}

impl OnrampObject {
    /// The app it belongs to (`onramp.dev/app`).
    pub fn app(&self) -> Option<&str> {
        self.labels.get(APP_LABEL).map(String::as_str)
    }

    /// The need a dashboard ConfigMap shows (`onramp.dev/need`).
    pub fn need(&self) -> Option<&str> {
        self.labels.get(NEED_LABEL).map(String::as_str)
    }
}

/// What the fleet read found.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    /// Every workload, by namespace, kind and name.
    pub workloads: Vec<FleetWorkload>,
    /// Every namespace read, with its labels.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// onramp's ServiceMonitors and PodMonitors.
    pub monitors: Vec<OnrampObject>,
    /// onramp's PrometheusRules.
    pub rules: Vec<OnrampObject>,
    /// onramp's dashboard ConfigMaps (for Grafana's sidecar).
    pub dashboards: Vec<OnrampObject>,
}

/// A namespace `-n` named that the cluster does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingNamespace(pub String);

/// Only what adoption reads of an object's metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Meta {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

/// An object of the kind `K` read for its names and labels only (and a
/// workload's pod template labels, a PrometheusRule's group names).
#[derive(Deserialize)]
#[serde(bound = "")]
struct Slim<K> {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: SlimSpec,
    /// A ConfigMap's data (the dashboards' JSON).
    #[serde(default)]
    data: BTreeMap<String, String>,
    #[serde(skip)]
    kind: PhantomData<K>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SlimSpec {
    template: Option<SlimTemplate>,
    groups: Vec<SlimGroup>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SlimTemplate {
    metadata: Meta,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SlimGroup {
    name: String,
}

impl<K: k8s_openapi::Resource> k8s_openapi::Resource for Slim<K> {
    const API_VERSION: &'static str = K::API_VERSION;
    const GROUP: &'static str = K::GROUP;
    const KIND: &'static str = K::KIND;
    const VERSION: &'static str = K::VERSION;
    const URL_PATH_SEGMENT: &'static str = K::URL_PATH_SEGMENT;
    type Scope = K::Scope;
}

/// Declares a Prometheus Operator kind (which `k8s-openapi` does not have)
/// for the typed reads.
macro_rules! operator_kind {
    ($name:ident, $kind:literal, $plural:literal) => {
        #[doc = concat!("The Operator's `monitoring.coreos.com/v1` `", $kind, "`.")]
        struct $name;
        impl k8s_openapi::Resource for $name {
            const API_VERSION: &'static str = "monitoring.coreos.com/v1";
            const GROUP: &'static str = OPERATOR_GROUP;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = "v1";
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = k8s_openapi::NamespaceResourceScope;
        }
    };
}
operator_kind!(ServiceMonitor, "ServiceMonitor", "servicemonitors");
operator_kind!(PodMonitor, "PodMonitor", "podmonitors");
operator_kind!(PrometheusRule, "PrometheusRule", "prometheusrules");

/// The registry entry for `verb` on `K` in this reach's scope.
fn entry<K: k8s_openapi::Resource>(everywhere: bool) -> Access {
    let group = if everywhere {
        FLEET
    } else {
        FLEET_IN_NAMESPACE
    };
    *group
        .iter()
        .find(|a| a.is_for::<K>())
        .unwrap_or_else(|| panic!("no fleet registry entry for {}", K::URL_PATH_SEGMENT))
}

/// Reads the fleet: the namespaces (every one, or each `-n` names — one
/// that does not exist is returned as [`MissingNamespace`]), then one list
/// per resource type in that reach; the Operator's kinds only when
/// `operator` (the cluster serves them).
pub async fn read(
    client: &KubeClient,
    reach: &Reach,
    operator: bool,
) -> Result<std::result::Result<Fleet, MissingNamespace>> {
    let mut fleet = Fleet::default();
    let scopes: Vec<Option<&str>> = match reach {
        Reach::All => {
            let all: Vec<Slim<Namespace>> = client.list(LIST_NAMESPACES, None, None).await?;
            for ns in all {
                fleet
                    .namespaces
                    .insert(ns.metadata.name, ns.metadata.labels);
            }
            vec![None]
        }
        Reach::Namespaces(names) => {
            for name in names {
                let found: Option<Slim<Namespace>> =
                    client.get_cluster_scoped(GET_NAMESPACE, name).await?;
                let Some(found) = found else {
                    return Ok(Err(MissingNamespace(name.clone())));
                };
                fleet.namespaces.insert(name.clone(), found.metadata.labels);
            }
            names.iter().map(|n| Some(n.as_str())).collect()
        }
    };
    for scope in scopes {
        read_scope(client, scope, operator, &mut fleet).await?;
    }
    fleet
        .workloads
        .sort_by(|a, b| (&a.namespace, a.kind, &a.name).cmp(&(&b.namespace, b.kind, &b.name)));
    Ok(Ok(fleet))
}

/// The seven lists of one scope (a namespace, or `None`: all of them).
async fn read_scope(
    client: &KubeClient,
    scope: Option<&str>,
    operator: bool,
    fleet: &mut Fleet,
) -> Result<()> {
    let kinds = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];
    for kind in kinds {
        let listed = match kind {
            WorkloadKind::Deployment => workloads::<Deployment>(client, scope, kind).await?,
            WorkloadKind::StatefulSet => workloads::<StatefulSet>(client, scope, kind).await?,
            WorkloadKind::DaemonSet => workloads::<DaemonSet>(client, scope, kind).await?,
        };
        fleet.workloads.extend(listed);
    }
    // Without the Operator its kinds are not served (404): onramp wrote
    // none of them.
    if operator {
        fleet
            .monitors
            .extend(owned::<ServiceMonitor>(client, scope).await?);
        fleet
            .monitors
            .extend(owned::<PodMonitor>(client, scope).await?);
        fleet
            .rules
            .extend(owned::<PrometheusRule>(client, scope).await?);
    }
    fleet
        .dashboards
        .extend(owned::<ConfigMap>(client, scope).await?);
    Ok(())
}

/// onramp's objects of the kind `K` in the scope, selected by the API
/// server.
async fn owned<K: k8s_openapi::Resource>(
    client: &KubeClient,
    scope: Option<&str>,
) -> Result<Vec<OnrampObject>> {
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    let listed: Vec<Slim<K>> = client
        .list(entry::<K>(scope.is_none()), scope, Some(&selector))
        .await?;
    Ok(listed
        .into_iter()
        .map(|o| OnrampObject {
            kind: K::KIND,
            namespace: o.metadata.namespace,
            name: o.metadata.name,
            labels: o.metadata.labels,
            rule_groups: o.spec.groups.into_iter().map(|g| g.name).collect(),
            data: o.data,
        })
        .collect())
}

/// Every workload of the kind `K` in the scope.
async fn workloads<K: k8s_openapi::Resource>(
    client: &KubeClient,
    scope: Option<&str>,
    kind: WorkloadKind,
) -> Result<Vec<FleetWorkload>> {
    let listed: Vec<Slim<K>> = client
        .list(entry::<K>(scope.is_none()), scope, None)
        .await?;
    Ok(listed
        .into_iter()
        .map(|w| FleetWorkload {
            namespace: w.metadata.namespace,
            kind,
            name: w.metadata.name,
            labels: w.metadata.labels,
            pod_labels: w
                .spec
                .template
                .map(|t| t.metadata.labels)
                .unwrap_or_default(),
        })
        .collect())
}
