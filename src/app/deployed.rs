//! The live cluster as a source of the App, beside manifests: GET the
//! workload the user named, list the Services of its namespace, and hand
//! both to the same inference as manifests ([`crate::app::discover`]), so an
//! app read from the cluster is the App its manifests would give.
//!
//! Reads one namespace only, by name: one GET for the workload, one list of
//! Services (a Service's selector cannot be matched server-side, so they are
//! listed and matched here). Never pods, events or anything cluster-wide.
//! Every request is an entry of the registry's group
//! [`crate::client::kube::access::APP`], which `onramp rbac` turns into rules.

use crate::app::manifest::{
    DaemonSet, Deployment, Located, Object, Service, StatefulSet, Workload,
};
use crate::app::{App, AppRef, MetricsOverride, WorkloadKind, discover};
use crate::client::kube::KubeClient;
use crate::client::kube::access::{
    GET_DAEMONSET, GET_DEPLOYMENT, GET_NAMESPACE, GET_STATEFULSET, LIST_SERVICES,
};
use crate::error::{Error, Location, Result};

/// The labels of `namespace` (empty when it has none or does not exist).
pub async fn namespace_labels(
    client: &KubeClient,
    namespace: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    let found: Option<k8s_openapi::api::core::v1::Namespace> =
        client.get_cluster_scoped(GET_NAMESPACE, namespace).await?;
    Ok(found.and_then(|n| n.metadata.labels).unwrap_or_default())
}

/// The namespace an app reference reads from: `-n`, else the kubeconfig
/// context's namespace (as kubectl does).
pub fn namespace_of(client: &KubeClient, app_ref: &AppRef) -> String {
    app_ref
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string())
}

/// Reads the app `app_ref` names from the cluster: `NAME` is a Deployment,
/// `statefulset/NAME` and `daemonset/NAME` the others. An app that does not
/// exist is an [`Error::AppNotFound`] naming kind, name, namespace and context.
pub async fn from_cluster(
    client: &KubeClient,
    app_ref: &AppRef,
    metrics_override: Option<&MetricsOverride>,
) -> Result<App> {
    let namespace = namespace_of(client, app_ref);
    let kind = app_ref.kind.unwrap_or(WorkloadKind::Deployment);
    let location = Location::file(format!(
        "{}/{} in namespace {namespace} (cluster context {})",
        kind.resource(),
        app_ref.name,
        client.context()
    ));
    let workload = get_workload(client, kind, &namespace, &app_ref.name).await?;
    let Some(workload) = workload else {
        return Err(not_found(client, app_ref, kind, &namespace));
    };
    let services: Vec<Service> = client.list(LIST_SERVICES, Some(&namespace), None).await?;
    let mut objects = vec![Located {
        value: Object::Workload(Box::new(workload)),
        location: location.clone(),
    }];
    objects.extend(services.into_iter().map(|service| Located {
        location: Location::file(format!(
            "service/{} in namespace {namespace} (cluster context {})",
            service.metadata.name.as_deref().unwrap_or_default(),
            client.context()
        )),
        value: Object::Service(Box::new(service)),
    }));
    let scoped = AppRef {
        kind: Some(kind),
        name: app_ref.name.clone(),
        namespace: Some(namespace),
    };
    discover(&objects, &location.file, &scoped, metrics_override)
}

/// GETs the workload of `kind`, `None` when it does not exist.
pub async fn get_workload(
    client: &KubeClient,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<Option<Workload>> {
    Ok(match kind {
        WorkloadKind::Deployment => client
            .get::<Deployment>(GET_DEPLOYMENT, namespace, name)
            .await?
            .map(Workload::Deployment),
        WorkloadKind::StatefulSet => client
            .get::<StatefulSet>(GET_STATEFULSET, namespace, name)
            .await?
            .map(Workload::StatefulSet),
        WorkloadKind::DaemonSet => client
            .get::<DaemonSet>(GET_DAEMONSET, namespace, name)
            .await?
            .map(Workload::DaemonSet),
    })
}

/// The message for an app that is not in the cluster: what was asked, where,
/// and how to name the other kinds.
fn not_found(client: &KubeClient, app_ref: &AppRef, kind: WorkloadKind, namespace: &str) -> Error {
    let others: Vec<String> = WorkloadKind::ALL
        .into_iter()
        .filter(|k| *k != kind)
        .map(|k| format!("{}/{}", k.resource(), app_ref.name))
        .collect();
    let hint = if app_ref.namespace.is_none() {
        " (the context's namespace; pass -n NAMESPACE for another)".to_string()
    } else {
        String::new()
    };
    Error::AppNotFound {
        message: format!(
            "no {} {:?} in namespace {namespace}{hint} of the cluster at {} (context {}); check the name with `kubectl get {} -n {namespace} --context {}`, or name another kind: {}",
            kind.as_kind(),
            app_ref.name,
            client.server(),
            client.context(),
            kind.resource(),
            client.context(),
            others.join(" or ")
        ),
    }
}
