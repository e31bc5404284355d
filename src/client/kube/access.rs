//! The one registry of every request onramp makes to a Kubernetes API
//! server, as RBAC names it: verb, API group, resource and scope. A request
//! is sent with one of these entries; its 403 names the entry's permission,
//! and `onramp rbac COMMAND` prints the rules of the groups of entries the
//! command declares it uses ([`APP`], [`STACK`], [`WORKLOAD`],
//! [`SERVICE_PROXY`], [`APPLY`]). A request made with an entry that is in no
//! group is refused by the client in debug builds, and a test runs every
//! command on the stand-in and fails on a request its role does not list: a
//! new permission is one entry here and one group it joins.
//!
//! Entries of the Kubernetes API's own kinds take group, version and plural
//! from the `k8s-openapi` type ([`Access::of`]); the Prometheus Operator's
//! kinds, which that crate does not have, are written out once here. Knows
//! nothing of what onramp does with the objects.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// Where a request reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// One namespace (the app's, or the one an object was found in).
    Namespace,
    /// A list across every namespace.
    AllNamespaces,
    /// A cluster-scoped object (a Namespace).
    Cluster,
    /// A non-resource URL (discovery), granted to every authenticated
    /// identity by `system:discovery`.
    NonResource,
}

/// One permission a request needs, as an RBAC rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    /// The resource (plural, lower case; `pods/log` for a subresource).
    pub resource: &'static str,
    /// The verb (`list`, `get`, `patch`, …).
    pub verb: &'static str,
    /// The API version the request uses.
    pub version: &'static str,
    /// Where the request reaches.
    pub scope: Scope,
}

impl Access {
    /// `verb` on the kind `K`, its group, version and plural taken from
    /// the type.
    pub const fn of<K: k8s_openapi::Resource>(verb: &'static str, scope: Scope) -> Access {
        Access {
            group: K::GROUP,
            resource: K::URL_PATH_SEGMENT,
            verb,
            version: K::VERSION,
            scope,
        }
    }

    /// The same permission with another verb (the sink's verbs on one kind).
    const fn with_verb(self, verb: &'static str) -> Access {
        Access { verb, ..self }
    }

    /// `resource.group`, as `kubectl` and RBAC messages write it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// Whether this entry is a permission on the kind `K`.
    pub fn is_for<K: k8s_openapi::Resource>(&self) -> bool {
        (self.group, self.version, self.resource) == (K::GROUP, K::VERSION, K::URL_PATH_SEGMENT)
    }

    /// The collection's path, in one namespace or (`None`) all of them.
    pub(super) fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.resource),
            None => format!("{base}/{}", self.resource),
        }
    }

    /// `in namespace NS`, `in all namespaces`, `(cluster-scoped)`, for a
    /// refusal.
    pub(super) fn scope_text(&self, namespace: Option<&str>) -> String {
        match (self.scope, namespace) {
            (Scope::NonResource, _) => "(a non-resource URL)".to_string(),
            (_, Some(ns)) => format!("in namespace {ns}"),
            (Scope::Cluster, None) => "(cluster-scoped)".to_string(),
            (_, None) => "in all namespaces".to_string(),
        }
    }
}

/// The Prometheus Operator's API group.
pub const OPERATOR_GROUP: &str = "monitoring.coreos.com";

/// A kind of the Prometheus Operator (`monitoring.coreos.com/v1`).
const fn operator(resource: &'static str, verb: &'static str, scope: Scope) -> Access {
    Access {
        group: OPERATOR_GROUP,
        resource,
        verb,
        version: "v1",
        scope,
    }
}

// ---- Reading the App from the cluster (`app::deployed`) ----

/// `get deployments.apps` in the app's namespace.
pub const GET_DEPLOYMENT: Access = Access::of::<Deployment>("get", Scope::Namespace);
/// `get statefulsets.apps` in the app's namespace.
pub const GET_STATEFULSET: Access = Access::of::<StatefulSet>("get", Scope::Namespace);
/// `get daemonsets.apps` in the app's namespace.
pub const GET_DAEMONSET: Access = Access::of::<DaemonSet>("get", Scope::Namespace);
/// `list services` in one namespace (the app's; Grafana's).
pub const LIST_SERVICES: Access = Access::of::<Service>("list", Scope::Namespace);
/// `get namespaces`: the app's namespace's labels, which a Prometheus may
/// select monitors and rules by.
pub const GET_NAMESPACE: Access = Access::of::<Namespace>("get", Scope::Cluster);

// ---- The monitoring stack (`cluster::stack`, `onramp detect`) ----

/// The discovery document `/apis` (is the Operator's group served?).
pub const DISCOVERY: Access = Access {
    group: "",
    resource: "",
    verb: "get",
    version: "",
    scope: Scope::NonResource,
};
/// `list prometheuses.monitoring.coreos.com` in all namespaces.
pub const LIST_PROMETHEUSES: Access = operator("prometheuses", "list", Scope::AllNamespaces);
/// `list deployments.apps` in all namespaces (Grafana, by label).
pub const LIST_DEPLOYMENTS_EVERYWHERE: Access =
    Access::of::<Deployment>("list", Scope::AllNamespaces);
/// `list services` in all namespaces (a plain Prometheus', by label).
pub const LIST_SERVICES_EVERYWHERE: Access = Access::of::<Service>("list", Scope::AllNamespaces);
/// `get services` (`prometheus-operated` beside each Prometheus).
pub const GET_SERVICE: Access = Access::of::<Service>("get", Scope::Namespace);

// ---- The workload's state (`check::troubleshoot`) ----

/// `list pods` of the workload (by its selector).
pub const LIST_PODS: Access = Access::of::<Pod>("list", Scope::Namespace);
/// `list replicasets.apps` of a Deployment (by its selector).
pub const LIST_REPLICASETS: Access = Access::of::<ReplicaSet>("list", Scope::Namespace);
/// `list endpointslices.discovery.k8s.io` of a Service (by its name label).
pub const LIST_ENDPOINTSLICES: Access = Access::of::<EndpointSlice>("list", Scope::Namespace);
/// `list events` of the workload's objects (by uid, warnings only).
pub const LIST_EVENTS: Access = Access::of::<Event>("list", Scope::Namespace);
/// `get pods/log`: a container's log tail.
pub const GET_POD_LOG: Access = Access {
    resource: "pods/log",
    ..Access::of::<Pod>("get", Scope::Namespace)
};

// ---- The service proxy (`client::kube::proxy`) ----

/// `get services/proxy`: a GET through the API server's service proxy.
pub const PROXY_GET: Access = Access {
    resource: "services/proxy",
    ..Access::of::<Service>("get", Scope::Namespace)
};
/// `create services/proxy`: a POST through the proxy (RBAC names a POST's
/// verb `create`).
pub const PROXY_CREATE: Access = PROXY_GET.with_verb("create");

// ---- What the cluster sink writes (`sink::kubernetes`) ----

/// `servicemonitors.monitoring.coreos.com` in the app's namespace.
pub const SERVICE_MONITORS: Access = operator("servicemonitors", "get", Scope::Namespace);
/// `podmonitors.monitoring.coreos.com` in the app's namespace.
pub const POD_MONITORS: Access = operator("podmonitors", "get", Scope::Namespace);
/// `prometheusrules.monitoring.coreos.com` in the app's namespace.
pub const PROMETHEUS_RULES: Access = operator("prometheusrules", "get", Scope::Namespace);
/// `configmaps` (the dashboards, for Grafana's sidecar) in the app's namespace.
pub const CONFIG_MAPS: Access = Access::of::<ConfigMap>("get", Scope::Namespace);

// ---- The fleet (`cluster::fleet`, `onramp adoption`) ----

/// `list namespaces`: every namespace's labels, for the Prometheus'
/// namespace selectors.
pub const LIST_NAMESPACES: Access = Access::of::<Namespace>("list", Scope::Cluster);
/// `list deployments.apps` in one `-n` namespace.
pub const LIST_DEPLOYMENTS: Access = Access::of::<Deployment>("list", Scope::Namespace);
/// `list statefulsets.apps` in all namespaces.
pub const LIST_STATEFULSETS_EVERYWHERE: Access =
    Access::of::<StatefulSet>("list", Scope::AllNamespaces);
/// `list statefulsets.apps` in one `-n` namespace.
pub const LIST_STATEFULSETS: Access = Access::of::<StatefulSet>("list", Scope::Namespace);
/// `list daemonsets.apps` in all namespaces.
pub const LIST_DAEMONSETS_EVERYWHERE: Access =
    Access::of::<DaemonSet>("list", Scope::AllNamespaces);
/// `list daemonsets.apps` in one `-n` namespace.
pub const LIST_DAEMONSETS: Access = Access::of::<DaemonSet>("list", Scope::Namespace);
/// `list servicemonitors.monitoring.coreos.com` in all namespaces (onramp's, by label).
pub const LIST_SERVICE_MONITORS_EVERYWHERE: Access =
    operator("servicemonitors", "list", Scope::AllNamespaces);
/// `list podmonitors.monitoring.coreos.com` in all namespaces (onramp's, by label).
pub const LIST_POD_MONITORS_EVERYWHERE: Access =
    operator("podmonitors", "list", Scope::AllNamespaces);
/// `list prometheusrules.monitoring.coreos.com` in all namespaces (onramp's, by label).
pub const LIST_PROMETHEUS_RULES_EVERYWHERE: Access =
    operator("prometheusrules", "list", Scope::AllNamespaces);

/// `list configmaps` in all namespaces (onramp's dashboards, by label).
pub const LIST_CONFIG_MAPS_EVERYWHERE: Access =
    Access::of::<ConfigMap>("list", Scope::AllNamespaces);

/// The verbs the sink uses on each kind it writes: read before applying
/// (`get`), apply (`patch`; `create` when the object is new), prune
/// (`list`, `delete`).
pub const APPLY_VERBS: [&str; 5] = ["get", "list", "create", "patch", "delete"];

/// Every kind the sink writes, and each of [`APPLY_VERBS`] on it.
const fn apply_entries() -> [Access; 20] {
    let kinds = [
        SERVICE_MONITORS,
        POD_MONITORS,
        PROMETHEUS_RULES,
        CONFIG_MAPS,
    ];
    let mut out = [SERVICE_MONITORS; 20];
    let mut i = 0;
    while i < out.len() {
        out[i] = kinds[i / APPLY_VERBS.len()].with_verb(APPLY_VERBS[i % APPLY_VERBS.len()]);
        i += 1;
    }
    out
}

// ---- The groups commands declare (`onramp rbac`) ----

/// Reading the App from the cluster: the workload, the Services of its
/// namespace, the namespace's labels.
pub const APP: &[Access] = &[
    GET_DEPLOYMENT,
    GET_STATEFULSET,
    GET_DAEMONSET,
    LIST_SERVICES,
    GET_NAMESPACE,
];

/// What `detect` reads to find the monitoring stack (discovery aside,
/// which every authenticated identity may read).
pub const STACK: &[Access] = &[
    LIST_PROMETHEUSES,
    LIST_DEPLOYMENTS_EVERYWHERE,
    LIST_SERVICES_EVERYWHERE,
    LIST_SERVICES,
    GET_SERVICE,
];

/// What troubleshoot reads of the workload: the workload, its pods,
/// ReplicaSets, Services, EndpointSlices, warning events and log tails.
pub const WORKLOAD: &[Access] = &[
    GET_DEPLOYMENT,
    GET_STATEFULSET,
    GET_DAEMONSET,
    LIST_PODS,
    LIST_REPLICASETS,
    LIST_SERVICES,
    LIST_ENDPOINTSLICES,
    LIST_EVENTS,
    GET_POD_LOG,
];

/// Prometheus through the API server's service proxy (GET queries, POST
/// long ones).
pub const SERVICE_PROXY: &[Access] = &[PROXY_GET, PROXY_CREATE];

/// What the cluster sink does in the app's namespace: every verb of
/// [`APPLY_VERBS`] on every kind it writes.
pub const APPLY: &[Access] = &apply_entries();

/// What `adoption` reads of the fleet across every namespace (`-A`): the
/// namespaces, the workloads, onramp's monitors, rules and dashboard
/// ConfigMaps.
pub const FLEET: &[Access] = &[
    LIST_NAMESPACES,
    LIST_DEPLOYMENTS_EVERYWHERE,
    LIST_STATEFULSETS_EVERYWHERE,
    LIST_DAEMONSETS_EVERYWHERE,
    LIST_SERVICE_MONITORS_EVERYWHERE,
    LIST_POD_MONITORS_EVERYWHERE,
    LIST_PROMETHEUS_RULES_EVERYWHERE,
    LIST_CONFIG_MAPS_EVERYWHERE,
];

/// What `adoption -n NS` reads in each namespace it names (the namespace
/// itself is [`GET_NAMESPACE`], cluster-scoped).
pub const FLEET_IN_NAMESPACE: &[Access] = &[
    LIST_DEPLOYMENTS,
    LIST_STATEFULSETS,
    LIST_DAEMONSETS,
    SERVICE_MONITORS.with_verb("list"),
    POD_MONITORS.with_verb("list"),
    PROMETHEUS_RULES.with_verb("list"),
    CONFIG_MAPS.with_verb("list"),
];

/// Every group, for the check that a request's entry is registered.
const GROUPS: [&[Access]; 7] = [
    APP,
    STACK,
    WORKLOAD,
    SERVICE_PROXY,
    APPLY,
    FLEET,
    FLEET_IN_NAMESPACE,
];

/// Whether `access` is an entry of the registry (in a group, or discovery).
pub fn registered(access: &Access) -> bool {
    *access == DISCOVERY || GROUPS.iter().any(|group| group.contains(access))
}

/// The sink's entry for `verb` on `kind` (one of the kinds it writes).
pub fn applying(kind: Access, verb: &str) -> Access {
    *APPLY
        .iter()
        .find(|a| (a.group, a.resource, a.verb) == (kind.group, kind.resource, verb))
        .unwrap_or_else(|| panic!("no registry entry for {verb} {}", kind.qualified()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_core_and_named_group_layouts() {
        assert_eq!(
            LIST_SERVICES.path(Some("shop")),
            "/api/v1/namespaces/shop/services"
        );
        assert_eq!(
            LIST_PROMETHEUSES.path(None),
            "/apis/monitoring.coreos.com/v1/prometheuses"
        );
        assert_eq!(
            LIST_PROMETHEUSES.qualified(),
            "prometheuses.monitoring.coreos.com"
        );
        assert_eq!(LIST_SERVICES.qualified(), "services");
        assert_eq!(GET_DEPLOYMENT.qualified(), "deployments.apps");
        assert_eq!(
            LIST_ENDPOINTSLICES.path(Some("shop")),
            "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices"
        );
    }

    #[test]
    fn the_sink_has_every_verb_on_every_kind_it_writes() {
        assert_eq!(APPLY.len(), 20);
        assert_eq!(
            applying(PROMETHEUS_RULES, "delete"),
            Access {
                verb: "delete",
                ..PROMETHEUS_RULES
            }
        );
        assert!(APPLY.iter().all(|a| a.scope == Scope::Namespace));
    }

    #[test]
    fn a_refusal_names_the_scope_the_entry_reaches() {
        assert_eq!(GET_NAMESPACE.scope_text(None), "(cluster-scoped)");
        assert_eq!(
            LIST_DEPLOYMENTS_EVERYWHERE.scope_text(None),
            "in all namespaces"
        );
        assert_eq!(LIST_PODS.scope_text(Some("shop")), "in namespace shop");
        assert_eq!(DISCOVERY.scope_text(None), "(a non-resource URL)");
    }

    #[test]
    fn an_entry_outside_every_group_is_not_registered() {
        assert!(registered(&GET_POD_LOG));
        assert!(registered(&DISCOVERY));
        assert!(!registered(&Access::of::<Pod>("delete", Scope::Namespace)));
    }
}
