//! The resources the stand-in serves: group, version, plural, kind, scope,
//! verbs and the field labels the real server accepts in `fieldSelector`
//! (`pkg/registry/*/strategy.go` `ToSelectableFields` of each resource).

/// The field labels every resource supports.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// The verbs of an ordinary read-write resource.
const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// Version served.
    pub version: &'static str,
    /// Plural resource name, as in URLs and RBAC rules.
    pub plural: &'static str,
    /// Singular name (discovery `singularName`).
    pub singular: &'static str,
    /// The object kind.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts.
    pub short: &'static [&'static str],
    /// Field labels beyond `metadata.name` and `metadata.namespace`.
    pub fields: &'static [&'static str],
}

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` as error messages name it (`plural` for the core group).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether `label` may be used in a `fieldSelector` on this resource.
    pub fn supports_field(&self, label: &str) -> bool {
        COMMON_FIELDS.contains(&label) || self.fields.contains(&label)
    }

    /// The verbs discovery lists.
    pub fn verbs(&self) -> &'static [&'static str] {
        VERBS
    }

    /// Whether this is one of the Prometheus Operator's resources.
    pub fn is_operator(&self) -> bool {
        self.group == OPERATOR_GROUP
    }
}

/// The Prometheus Operator's API group.
pub const OPERATOR_GROUP: &str = "monitoring.coreos.com";

/// A `v1` resource of a named group.
const fn grouped(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    fields: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        namespaced,
        short,
        fields,
    }
}

/// Every resource the stand-in knows; the Operator's only count when the
/// scenario installed its CRDs.
pub const ALL: &[Resource] = &[
    grouped(
        "",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        &["status.phase"],
    ),
    grouped(
        "",
        "pods",
        "pod",
        "Pod",
        true,
        &["po"],
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
    ),
    grouped(
        "",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
        &["spec.clusterIP", "spec.type"],
    ),
    grouped(
        "",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        &[],
    ),
    grouped(
        "",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
    ),
    grouped(
        "",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
        &[],
    ),
    grouped("", "secrets", "secret", "Secret", true, &[], &["type"]),
    grouped(
        "",
        "nodes",
        "node",
        "Node",
        false,
        &["no"],
        &["spec.unschedulable"],
    ),
    grouped(
        "apps",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        &[],
    ),
    grouped(
        "apps",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        &[],
    ),
    grouped(
        "apps",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        &[],
    ),
    grouped(
        "apps",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        &["status.replicas"],
    ),
    // EndpointSlice's strategy adds no field labels of its own.
    grouped(
        "discovery.k8s.io",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        &[],
        &[],
    ),
    grouped(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        &[],
    ),
    grouped(
        OPERATOR_GROUP,
        "prometheuses",
        "prometheus",
        "Prometheus",
        true,
        &["prom"],
        &[],
    ),
    grouped(
        OPERATOR_GROUP,
        "servicemonitors",
        "servicemonitor",
        "ServiceMonitor",
        true,
        &["smon"],
        &[],
    ),
    grouped(
        OPERATOR_GROUP,
        "podmonitors",
        "podmonitor",
        "PodMonitor",
        true,
        &["pmon"],
        &[],
    ),
    grouped(
        OPERATOR_GROUP,
        "prometheusrules",
        "prometheusrule",
        "PrometheusRule",
        true,
        &["promrule"],
        &[],
    ),
];

/// The resource served at `group`/`version` with this plural name.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    ALL.iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource of an object's `apiVersion` and `kind`.
pub fn of_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    ALL.iter()
        .find(|r| r.group_version() == api_version && r.kind == kind)
}
