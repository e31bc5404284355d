//! Tests of the Kubernetes API stand-in (`tests/support/kube`), driven with
//! the `kube` client onramp will use and with raw HTTPS where the client
//! hides what the server said. They pin the behaviour of the real
//! kube-apiserver that onramp relies on.
//!
//! The tests that need no stand-in control are declared with `on_both!`:
//! they also run against the real kube-apiserver (`NAME::apiserver`, see
//! `support::cluster`). With `ONRAMP_TEST_KUBECONFIG` set, their stand-in
//! half runs against that cluster instead (a kind cluster from `make
//! demo`: kube-prometheus-stack and the shop), creating only objects named
//! `onramp-standin-test-*` and deleting them; tests named `…_standin_only`
//! are then listed as ignored (the `real_cluster` cfg of `build.rs`).

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams,
};
use kube::discovery::Discovery;
use serde_json::{Value, json};

use crate::support::cluster::{Cluster, client_for, on_both};
use crate::support::kube::{Rule, Scenario, Standin, TOKEN, USER};

/// A stand-in for the tests that need its control; `None` (with a note)
/// when a real cluster was asked for.
fn standin_only(scenario: Scenario) -> Option<Standin> {
    if std::env::var("ONRAMP_TEST_KUBECONFIG").is_ok_and(|p| !p.trim().is_empty()) {
        eprintln!("skipped against a real cluster: this test needs the stand-in's control");
        return None;
    }
    Some(Standin::start(scenario))
}

fn service_monitors() -> ApiResource {
    ApiResource {
        group: "monitoring.coreos.com".into(),
        version: "v1".into(),
        api_version: "monitoring.coreos.com/v1".into(),
        kind: "ServiceMonitor".into(),
        plural: "servicemonitors".into(),
    }
}

fn monitor(name: &str, interval: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": "shop", "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "checkout"}},
            "endpoints": [{"port": "http", "interval": interval}]
        }
    })
}

/// The `Status` of a failed call.
fn status_of<T: std::fmt::Debug>(result: kube::Result<T>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error Status, got {other:?}"),
    }
}

/// Asserts the code, reason and message of a `Status`, as a user would read them.
fn assert_status(status: &kube::core::Status, code: u16, reason: &str, message: &str) {
    assert_eq!(
        (status.code, status.reason.as_str(), status.message.as_str()),
        (code, reason, message)
    );
}

/// One raw HTTPS request to the stand-in: status, content type, body.
pub(crate) async fn raw(
    standin: &Standin,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(standin.ca_pem().as_bytes()).expect("CA PEM");
    let http = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .expect("client");
    let mut request = http.request(
        method.parse().expect("method"),
        format!("{}{path}", standin.url()),
    );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .body(body.to_string())
        .send()
        .await
        .expect("an answer");
    let code = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (code, content_type, response.text().await.expect("a body"))
}

const BEARER: &str = "Bearer onramp-standin-token-5f2b9c";

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn kubeconfig_loads_and_lists_the_shop_pods_by_label_without_listing_every_pod() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let text = std::fs::read_to_string(standin.kubeconfig()).expect("kubeconfig");
    assert!(
        text.contains(&format!("server: {}", standin.url())),
        "{text}"
    );
    assert!(text.contains("certificate-authority-data: "), "{text}");
    assert!(text.contains(&format!("token: {TOKEN}")), "{text}");
    let client = client_for(&standin.kubeconfig()).await;
    let pods: Api<Pod> = Api::namespaced(client, "shop");
    let list = pods
        .list(&ListParams::default().labels("app.kubernetes.io/name=checkout"))
        .await
        .expect("list");
    let names: Vec<String> = list
        .items
        .iter()
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    assert_eq!(
        names,
        ["checkout-7c9d8f6b5d-q8r7m", "checkout-7c9d8f6b5d-x2k4p"]
    );
    assert!(
        list.metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty())
    );
    assert_eq!(standin.requests_to("/api/v1/namespaces/shop/pods"), 1);
    assert_eq!(
        standin.requests_to("/api/v1/pods"),
        0,
        "{:?}",
        standin.request_log()
    );
}

async fn discovery_serves_the_operator_group_only_when_its_crds_are_installed(cluster: &Cluster) {
    let discovery = Discovery::new(cluster.client().await)
        .run()
        .await
        .expect("discovery");
    let group = discovery
        .get("monitoring.coreos.com")
        .expect("the Operator's group");
    let kinds: Vec<String> = group
        .recommended_resources()
        .iter()
        .map(|(r, _)| r.kind.clone())
        .collect();
    for kind in [
        "Prometheus",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
    ] {
        assert!(kinds.contains(&kind.to_string()), "{kind} in {kinds:?}");
    }
    assert!(discovery.has_group("apps"));

    let Some(bare) = standin_only(Scenario::NoOperator) else {
        return;
    };
    let discovery = Discovery::new(client_for(&bare.kubeconfig()).await)
        .run()
        .await
        .expect("discovery");
    assert!(!discovery.has_group("monitoring.coreos.com"));
    assert!(discovery.has_group("apps"));
    let monitors: Api<DynamicObject> = Api::namespaced_with(
        client_for(&bare.kubeconfig()).await,
        "shop",
        &service_monitors(),
    );
    // A group the server does not serve has no handler: Go's plain-text
    // `404 page not found`, which the kube crate wraps in a Status of its own.
    let status = status_of(monitors.list(&ListParams::default()).await);
    assert_status(
        &status,
        404,
        "Failed to parse error data",
        "404 page not found",
    );
}
on_both!(async discovery_serves_the_operator_group_only_when_its_crds_are_installed, Scenario::KubePrometheusStack);

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn aggregated_discovery_accept_header_gets_the_legacy_group_list_standin_only() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let (code, content_type, body) = raw(
        &standin,
        "GET",
        "/apis",
        &[("authorization", BEARER), ("accept", accept)],
        "",
    )
    .await;
    assert_eq!((code, content_type.as_str()), (200, "application/json"));
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["kind"], "APIGroupList");
    let monitoring = body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == "monitoring.coreos.com"))
        .expect("the monitoring group");
    assert_eq!(
        monitoring["preferredVersion"]["groupVersion"],
        "monitoring.coreos.com/v1"
    );
}

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn label_selectors_support_equality_sets_and_existence_standin_only() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let client = client_for(&standin.kubeconfig()).await;
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::all(client);
    let names = |list: kube::core::ObjectList<k8s_openapi::api::core::v1::Service>| -> Vec<String> {
        list.items
            .iter()
            .filter_map(|s| s.metadata.name.clone())
            .collect()
    };
    let cases = [
        (
            "release=kube-prometheus-stack",
            vec!["kube-prometheus-stack-prometheus"],
        ),
        (
            "app.kubernetes.io/name in (checkout,grafana)",
            vec!["kube-prometheus-stack-grafana", "checkout"],
        ),
        ("operated-prometheus", vec!["prometheus-operated"]),
        (
            "app.kubernetes.io/name,app.kubernetes.io/name notin (grafana)",
            vec!["checkout"],
        ),
        (
            "!app.kubernetes.io/name,managed-by!=prometheus-operator",
            vec!["kube-prometheus-stack-prometheus"],
        ),
    ];
    for (selector, expected) in cases {
        let list = services
            .list(&ListParams::default().labels(selector))
            .await
            .expect("list");
        assert_eq!(names(list), expected, "selector {selector}");
    }
}

async fn field_selectors_select_pods_and_events_by_their_field_labels(cluster: &Cluster) {
    let client = cluster.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let running = pods
        .list(
            &ListParams::default()
                .fields("status.phase=Running")
                .labels("app.kubernetes.io/name=checkout"),
        )
        .await
        .expect("list");
    assert!(!running.items.is_empty());
    assert!(
        running
            .items
            .iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    );

    let Cluster::StandIn(standin) = cluster else {
        return;
    };
    let events: Api<Event> = Api::namespaced(client, "shop");
    let selected = events
        .list(
            &ListParams::default()
                .fields("involvedObject.name=checkout-7c9d8f6b5d-q8r7m,type=Warning"),
        )
        .await
        .expect("list");
    let reasons: Vec<Option<String>> = selected.items.iter().map(|e| e.reason.clone()).collect();
    assert_eq!(reasons, [Some("BackOff".to_string())]);
    let pending = pods
        .list(&ListParams::default().fields("status.phase!=Running"))
        .await
        .expect("list");
    assert!(pending.items.is_empty());
    assert_eq!(standin.requests_to("/api/v1/events"), 0);
}
on_both!(async field_selectors_select_pods_and_events_by_their_field_labels, Scenario::KubePrometheusStack);

async fn an_unsupported_field_label_is_a_400_naming_the_label(cluster: &Cluster) {
    let pods: Api<Pod> = Api::namespaced(cluster.client().await, "shop");
    let status = status_of(
        pods.list(&ListParams::default().fields("spec.containers.image=x"))
            .await,
    );
    assert_status(
        &status,
        400,
        "BadRequest",
        "field label not supported: spec.containers.image",
    );
}
on_both!(async an_unsupported_field_label_is_a_400_naming_the_label, Scenario::KubePrometheusStack);

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn lists_page_with_limit_and_continue() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::all(client_for(&standin.kubeconfig()).await);
    let first = services
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(2));
    let token = first.metadata.continue_.clone().expect("a continue token");
    let second = services
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(second.items.len(), 2);
    assert_eq!(second.metadata.continue_, None);
    let all: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    assert_eq!(
        all,
        [
            "kube-prometheus-stack-grafana",
            "kube-prometheus-stack-prometheus",
            "prometheus-operated",
            "checkout"
        ]
    );
    assert_eq!(
        first.metadata.resource_version,
        second.metadata.resource_version
    );
}

/// A per-run name, so that a real cluster keeps no leftovers between runs.
fn test_name(what: &str) -> String {
    format!("onramp-standin-test-{what}-{}", std::process::id())
}

async fn server_side_apply_creates_keeps_the_resource_version_when_unchanged_and_conflicts_with_another_manager(
    cluster: &Cluster,
) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client().await, "shop", &service_monitors());
    let name = test_name("ssa");
    let object = monitor(&name, "30s", json!({"release": "kube-prometheus-stack"}));
    let created = api
        .patch(&name, &PatchParams::apply("onramp"), &Patch::Apply(&object))
        .await
        .expect("create");
    let rv = created
        .metadata
        .resource_version
        .clone()
        .expect("a resourceVersion");
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    let managers: Vec<(String, String)> = created
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                m.operation.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(managers, [("onramp".to_string(), "Apply".to_string())]);
    let fields = serde_json::to_value(
        &created
            .metadata
            .managed_fields
            .as_ref()
            .expect("managedFields")[0]
            .fields_v1,
    )
    .expect("fieldsV1");
    assert_eq!(fields["f:metadata"]["f:labels"]["f:release"], json!({}));
    assert_eq!(fields["f:spec"]["f:endpoints"], json!({}));

    let again = api
        .patch(&name, &PatchParams::apply("onramp"), &Patch::Apply(&object))
        .await
        .expect("re-apply");
    assert_eq!(
        again.metadata.resource_version.as_deref(),
        Some(rv.as_str()),
        "an unchanged re-apply keeps the resourceVersion"
    );

    let theirs = monitor(&name, "10s", json!({"release": "kube-prometheus-stack"}));
    let status = status_of(
        api.patch(
            &name,
            &PatchParams::apply("kubectl"),
            &Patch::Apply(&theirs),
        )
        .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"onramp\": .spec.endpoints"
    );
    let causes = status.details.expect("details").causes;
    assert_eq!(
        (
            causes[0].reason.as_str(),
            causes[0].message.as_str(),
            causes[0].field.as_str()
        ),
        (
            "FieldManagerConflict",
            "conflict with \"onramp\"",
            ".spec.endpoints"
        )
    );
    let unchanged = api.get(&name).await.expect("get");
    assert_eq!(
        unchanged.metadata.resource_version.as_deref(),
        Some(rv.as_str()),
        "a refused apply changes nothing"
    );

    let forced = api
        .patch(
            &name,
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(&theirs),
        )
        .await
        .expect("force");
    assert_eq!(forced.data["spec"]["endpoints"][0]["interval"], "10s");
    assert_eq!(forced.metadata.generation, Some(2));
    assert_ne!(
        forced.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    let owners: Vec<(String, Value)> = forced
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .map(|m| {
            (
                m.manager.clone().unwrap_or_default(),
                serde_json::to_value(&m.fields_v1).expect("json")["f:spec"]["f:endpoints"].clone(),
            )
        })
        .collect();
    assert!(
        owners.contains(&("kubectl".to_string(), json!({}))),
        "{owners:?}"
    );
    assert!(
        owners
            .iter()
            .all(|(m, endpoints)| m != "onramp" || endpoints.is_null()),
        "onramp lost .spec.endpoints: {owners:?}"
    );
    api.delete(&name, &DeleteParams::default())
        .await
        .expect("clean up");
}
on_both!(async server_side_apply_creates_keeps_the_resource_version_when_unchanged_and_conflicts_with_another_manager, Scenario::KubePrometheusStack);

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn applying_over_a_kubectl_created_monitor_names_the_client_side_manager_and_force_takes_over_standin_only()
 {
    let Some(standin) = standin_only(Scenario::ForeignMonitor) else {
        return;
    };
    let api: Api<DynamicObject> = Api::namespaced_with(
        client_for(&standin.kubeconfig()).await,
        "shop",
        &service_monitors(),
    );
    let before = standin
        .object(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "shop",
            "checkout",
        )
        .expect("the foreign monitor");
    let ours = monitor(
        "checkout",
        "30s",
        json!({"release": "kube-prometheus-stack", "app.kubernetes.io/managed-by": "onramp"}),
    );
    let status = status_of(
        api.patch(
            "checkout",
            &PatchParams::apply("onramp"),
            &Patch::Apply(&ours),
        )
        .await,
    );
    assert_eq!(status.code, 409);
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using monitoring.coreos.com/v1: .spec.endpoints"
    );
    let after = standin
        .object(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "shop",
            "checkout",
        )
        .expect("still there");
    assert_eq!(after, before, "a conflict changes nothing");

    let forced = api
        .patch(
            "checkout",
            &PatchParams::apply("onramp").force(),
            &Patch::Apply(&ours),
        )
        .await
        .expect("force");
    assert_eq!(
        forced
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("release"))
            .map(String::as_str),
        Some("kube-prometheus-stack")
    );
    let kubectl = forced
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .find(|m| m.manager.as_deref() == Some("kubectl-client-side-apply"))
        .expect("kubectl keeps what it still owns");
    let kept = serde_json::to_value(&kubectl.fields_v1).expect("json");
    assert!(kept["f:spec"]["f:endpoints"].is_null(), "{kept}");
    assert!(kept["f:metadata"]["f:annotations"].is_object(), "{kept}");
}

async fn dry_run_apply_answers_the_object_and_stores_nothing(cluster: &Cluster) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client().await, "shop", &service_monitors());
    let name = test_name("dry-run");
    let object = monitor(&name, "30s", json!({"release": "kube-prometheus-stack"}));
    let answered = api
        .patch(
            &name,
            &PatchParams::apply("onramp").dry_run(),
            &Patch::Apply(&object),
        )
        .await
        .expect("dry run");
    assert_eq!(answered.data["spec"]["endpoints"][0]["interval"], "30s");
    let status = status_of(api.get(&name).await);
    assert_eq!(
        (status.code, status.message.as_str()),
        (
            404,
            format!("servicemonitors.monitoring.coreos.com \"{name}\" not found").as_str()
        )
    );
    let details = status.details.expect("details");
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        (name.as_str(), "monitoring.coreos.com", "servicemonitors")
    );
}
on_both!(async dry_run_apply_answers_the_object_and_stores_nothing, Scenario::KubePrometheusStack);

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn apply_without_a_field_manager_is_refused_standin_only() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let body = monitor("checkout", "30s", json!({})).to_string();
    let (code, _, answer) = raw(
        &standin,
        "PATCH",
        "/apis/monitoring.coreos.com/v1/namespaces/shop/servicemonitors/checkout",
        &[
            ("authorization", BEARER),
            ("content-type", "application/apply-patch+yaml"),
        ],
        &body,
    )
    .await;
    let answer: Value = serde_json::from_str(&answer).expect("a Status");
    assert_eq!(code, 422);
    assert_eq!(
        answer["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(
        answer["details"],
        json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
            {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}
        ]})
    );
    assert!(
        standin
            .object(
                "monitoring.coreos.com/v1",
                "ServiceMonitor",
                "shop",
                "checkout"
            )
            .is_none()
    );
}

async fn an_invalid_monitor_is_a_422_with_a_cause_per_field(cluster: &Cluster) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client().await, "shop", &service_monitors());
    let name = test_name("invalid");
    let mut object = monitor(&name, "30s", json!({}));
    object["spec"]["endpoints"][0]["scheme"] = json!("ftp");
    object["spec"]["endpoints"][0]["interval"] = json!("soon");
    let status = status_of(
        api.patch(&name, &PatchParams::apply("onramp"), &Patch::Apply(&object))
            .await,
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (422, "Invalid"),
        "{status:?}"
    );
    assert!(
        status.message.starts_with(&format!(
            "ServiceMonitor.monitoring.coreos.com \"{name}\" is invalid: ["
        )),
        "{}",
        status.message
    );
    let causes = status.details.expect("details").causes;
    let fields: Vec<(&str, &str)> = causes
        .iter()
        .map(|c| (c.field.as_str(), c.reason.as_str()))
        .collect();
    assert!(
        fields.contains(&("spec.endpoints[0].scheme", "FieldValueNotSupported")),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(f, _)| *f == "spec.endpoints[0].interval"),
        "{fields:?}"
    );
    assert_eq!(status_of(api.get(&name).await).code, 404, "nothing stored");
}
on_both!(async an_invalid_monitor_is_a_422_with_a_cause_per_field, Scenario::KubePrometheusStack);

/// A value of the wrong type never reaches validation: the server cannot
/// build the typed patch and answers 500 naming the field (the real
/// kube-apiserver showed it; the stand-in answered 422 before).
async fn a_value_of_the_wrong_type_is_a_500_naming_the_field(cluster: &Cluster) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client().await, "shop", &service_monitors());
    let name = test_name("typed");
    let mut object = monitor(&name, "30s", json!({}));
    object["spec"]["endpoints"][0]["honorLabels"] = json!("yes");
    let status = status_of(
        api.patch(&name, &PatchParams::apply("onramp"), &Patch::Apply(&object))
            .await,
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (500, ""),
        "{status:?}"
    );
    assert_eq!(
        status.message,
        format!(
            "failed to create typed patch object (shop/{name}; monitoring.coreos.com/v1, Kind=ServiceMonitor): .spec.endpoints[0].honorLabels: expected boolean, got &{{yes}}"
        )
    );
    assert_eq!(status_of(api.get(&name).await).code, 404, "nothing stored");
}
on_both!(async a_value_of_the_wrong_type_is_a_500_naming_the_field, Scenario::KubePrometheusStack);

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn a_wrong_token_is_401_and_rbac_refusals_are_403_naming_verb_resource_and_namespace_standin_only()
 {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let rejected = client_for(&standin.kubeconfig_with_token("expired-token")).await;
    let status = status_of(
        Api::<Pod>::namespaced(rejected, "shop")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        (status.code, status.reason.as_str(), status.message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );

    standin.set_rbac(vec![
        Rule::new(&["get", "list"], "", "pods", Some("shop")),
        Rule::new(&["get"], "", "pods/log", Some("shop")),
    ]);
    let client = client_for(&standin.kubeconfig()).await;
    let shop: Api<Pod> = Api::namespaced(client.clone(), "shop");
    assert_eq!(
        shop.list(&ListParams::default())
            .await
            .expect("allowed")
            .items
            .len(),
        2
    );
    let status = status_of(
        Api::<Pod>::namespaced(client.clone(), "monitoring")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        format!(
            "pods is forbidden: User \"{USER}\" cannot list resource \"pods\" in API group \"\" in the namespace \"monitoring\""
        )
    );
    let status = status_of(
        Api::<Pod>::all(client.clone())
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        status.message,
        format!(
            "pods is forbidden: User \"{USER}\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        )
    );
    let monitors: Api<DynamicObject> = Api::namespaced_with(client, "shop", &service_monitors());
    let status = status_of(
        monitors
            .patch(
                "checkout",
                &PatchParams::apply("onramp"),
                &Patch::Apply(&monitor("checkout", "30s", json!({}))),
            )
            .await,
    );
    assert_eq!(
        status.message,
        format!(
            "servicemonitors.monitoring.coreos.com \"checkout\" is forbidden: User \"{USER}\" cannot patch resource \"servicemonitors\" in API group \"monitoring.coreos.com\" in the namespace \"shop\""
        )
    );
}

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn previous_logs_come_from_the_fixture_with_tail_lines_standin_only() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let pods: Api<Pod> = Api::namespaced(client_for(&standin.kubeconfig()).await, "shop");
    let params = LogParams {
        previous: true,
        tail_lines: Some(2),
        container: Some("shop".into()),
        ..LogParams::default()
    };
    let log = pods
        .logs("checkout-7c9d8f6b5d-q8r7m", &params)
        .await
        .expect("previous log");
    assert_eq!(
        log,
        "level=error msg=\"flag fail-crash-at-start is on: exiting\" flag=fail-crash-at-start\npanic: crash requested by flag fail-crash-at-start\n"
    );
    let status = status_of(
        pods.logs(
            "checkout-7c9d8f6b5d-x2k4p",
            &LogParams {
                previous: true,
                ..LogParams::default()
            },
        )
        .await,
    );
    assert_eq!(
        (status.code, status.message.as_str()),
        (
            400,
            "previous terminated container \"shop\" in pod \"checkout-7c9d8f6b5d-x2k4p\" not found"
        )
    );
    assert_eq!(
        standin.requests_to("/api/v1/namespaces/shop/pods/checkout-7c9d8f6b5d-q8r7m/log"),
        1
    );
}

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(all(shared_crds, prometheus))),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
async fn the_service_proxy_reaches_a_real_prometheus_standin_only() {
    let Some(standin) = standin_only(Scenario::KubePrometheusStack) else {
        return;
    };
    let prometheus = crate::support::prometheus::PrometheusServer::start(Default::default());
    let address = prometheus.address().parse().expect("a socket address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let path = "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/query?query=vector(42)";
    let (code, content_type, body) =
        raw(&standin, "GET", path, &[("authorization", BEARER)], "").await;
    assert_eq!(
        (code, content_type.as_str()),
        (200, "application/json"),
        "{body}"
    );
    let body: Value = serde_json::from_str(&body).expect("Prometheus JSON");
    assert_eq!(body["data"]["result"][0]["value"][1], "42");
    let unregistered = "/api/v1/namespaces/monitoring/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/query";
    let (code, _, body) = raw(
        &standin,
        "GET",
        unregistered,
        &[("authorization", BEARER)],
        "",
    )
    .await;
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains(
            "no endpoints available for service \\\"kube-prometheus-stack-prometheus\\\""
        ),
        "{body}"
    );
}

#[tokio::test]
#[cfg_attr(
    any(real_cluster, not(shared_crds)),
    ignore = "needs the Kubernetes stand-in (not the cluster of ONRAMP_TEST_KUBECONFIG) and ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn delete_by_label_removes_only_the_objects_onramp_owns_standin_only() {
    let Some(standin) = standin_only(Scenario::ForeignMonitor) else {
        return;
    };
    let api: Api<DynamicObject> = Api::namespaced_with(
        client_for(&standin.kubeconfig()).await,
        "shop",
        &service_monitors(),
    );
    let owned =
        json!({"app.kubernetes.io/managed-by": "onramp", "release": "kube-prometheus-stack"});
    for name in ["checkout-slo", "checkout-flags"] {
        let object = monitor(name, "30s", owned.clone());
        api.patch(name, &PatchParams::apply("onramp"), &Patch::Apply(&object))
            .await
            .expect("apply");
    }
    let setup: DynamicObject =
        serde_json::from_value(monitor("checkout-extra", "1m", json!({}))).expect("object");
    let created = api
        .create(&Default::default(), &setup)
        .await
        .expect("POST create");
    assert_eq!(created.metadata.generation, Some(1));
    let status = status_of(api.create(&Default::default(), &setup).await);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(
        status.message,
        "servicemonitors.monitoring.coreos.com \"checkout-extra\" already exists"
    );

    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app.kubernetes.io/managed-by=onramp"),
    )
    .await
    .expect("delete the owned monitors");
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter_map(|m| m.metadata.name.clone())
        .collect();
    assert_eq!(
        left,
        ["checkout", "checkout-extra"],
        "the kubectl-made and the unlabelled monitors stay"
    );
    let status = status_of(api.delete("checkout-slo", &DeleteParams::default()).await);
    assert_eq!(status.code, 404);
}
