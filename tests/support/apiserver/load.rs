//! Loads the stand-in's scenario fixtures (`tests/fixtures/kube/*.yaml`,
//! `kubectl get -o yaml` Lists) into a real API server through its API, as
//! the objects would have come to be: created with what a person or a
//! controller wrote, the server setting the rest.
//!
//! Server-set metadata (uid, resourceVersion, creationTimestamp, generation,
//! managedFields) is dropped; owner references and events'
//! `involvedObject.uid` are remapped to the uids the server gave the
//! owners; `status` is written through the status subresource; Services'
//! cluster IPs are left to the server. Node objects are never created:
//! without them the server never dials a kubelet. The Operator's CRDs of
//! `operator-crds.yaml` (trimmed, without schemas) are replaced by the real
//! ones. An object whose fixture names a manager in `managedFields` is
//! created by that manager (a `kubectl-client-side-apply` ServiceMonitor).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::ApiServer;
use crate::support::kube::{Scenario, resources, shift_times};

/// Fields the server sets; a create must not carry them.
const SERVER_SET: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
];

/// Creates every object of `scenario`'s fixture files in `server`, owners
/// before what they own and events after their object; its times moved as
/// the stand-in moves them (a creation time is the server's own: now).
pub fn load(server: &ApiServer, scenario: Scenario) {
    let mut pending = Vec::new();
    for file in scenario.files() {
        if file == "operator-crds.yaml" {
            server.install_operator_crds();
            continue;
        }
        pending.extend(items_of(&crate::support::kube::fixtures().join(file)));
    }
    if let Some(shift) = scenario.shift() {
        pending.iter_mut().for_each(|item| shift_times(item, shift));
    }
    pending.retain(|item| item["kind"] != "Node");
    let mut uids: HashMap<String, String> = HashMap::new();
    let fixture_uids: Vec<String> = pending
        .iter()
        .filter_map(|i| i["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    // Owners first: an object waits until every owner it names is created.
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for item in pending {
            let ready = referenced_uids(&item)
                .iter()
                .all(|uid| uids.contains_key(uid) || !fixture_uids.contains(uid));
            if ready {
                create(server, item, &mut uids);
            } else {
                waiting.push(item);
            }
        }
        assert!(
            waiting.len() < before,
            "fixture objects own each other in a cycle: {waiting:?}"
        );
        pending = waiting;
    }
}

/// The items of a `List` fixture file.
fn items_of(path: &Path) -> Vec<Value> {
    let text = crate::support::read(path);
    let list: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} is YAML: {e}", path.display()));
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The uids an object refers to: its owners', an event's object's.
fn referenced_uids(item: &Value) -> Vec<String> {
    let mut uids: Vec<String> = item["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(str::to_string))
        .collect();
    if let Some(uid) = item["involvedObject"]["uid"].as_str() {
        uids.push(uid.to_string());
    }
    uids
}

/// The collection URL of an object's kind in its namespace: the kinds the
/// stand-in serves, and RBAC's (which tests create on the real server).
pub fn collection(api_version: &str, kind: &str, namespace: &str) -> String {
    let (base, plural, namespaced) = match resources::of_kind(api_version, kind) {
        Some(resource) if resource.group.is_empty() => (
            format!("/api/{}", resource.version),
            resource.plural.to_string(),
            resource.namespaced,
        ),
        Some(resource) => (
            format!("/apis/{}/{}", resource.group, resource.version),
            resource.plural.to_string(),
            resource.namespaced,
        ),
        None if api_version == "rbac.authorization.k8s.io/v1" => (
            format!("/apis/{api_version}"),
            format!("{}s", kind.to_lowercase()),
            kind == "Role" || kind == "RoleBinding",
        ),
        None => panic!("no served resource for {api_version} {kind}"),
    };
    if namespaced {
        format!("{base}/namespaces/{namespace}/{plural}")
    } else {
        format!("{base}/{plural}")
    }
}

/// An object's own URL.
pub fn object_path(object: &Value) -> String {
    let meta = &object["metadata"];
    format!(
        "{}/{}",
        collection(
            object["apiVersion"].as_str().unwrap_or_default(),
            object["kind"].as_str().unwrap_or_default(),
            meta["namespace"].as_str().unwrap_or_default(),
        ),
        meta["name"].as_str().unwrap_or_default()
    )
}

/// Creates one fixture object, remapping the uids it refers to and
/// recording the uid the server gave it.
fn create(server: &ApiServer, mut item: Value, uids: &mut HashMap<String, String>) {
    let old_uid = item["metadata"]["uid"].as_str().map(str::to_string);
    let manager = item["metadata"]["managedFields"][0]["manager"]
        .as_str()
        .unwrap_or("onramp-test-fixtures")
        .to_string();
    remap(&mut item, uids);
    let status = item.as_object_mut().and_then(|o| o.remove("status"));
    if let Some(meta) = item["metadata"].as_object_mut() {
        for field in SERVER_SET {
            meta.remove(*field);
        }
    }
    // The server assigns cluster IPs; `None` (headless) is the user's choice.
    if item["kind"] == "Service"
        && item["spec"]["clusterIP"] != "None"
        && let Some(spec) = item["spec"].as_object_mut()
    {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    let path = object_path(&item);
    let (collection, _) = path.rsplit_once('/').expect("a path");
    let (code, body) = server.post(&format!("{collection}?fieldManager={manager}"), &item);
    let created = match code {
        201 => body,
        // The server made `default` and `kube-system` itself.
        409 if item["kind"] == "Namespace" => server.get(&path).1,
        _ => panic!("create {path}: {code} {body}\nfrom {item}"),
    };
    if let (Some(old), Some(new)) = (old_uid, created["metadata"]["uid"].as_str()) {
        uids.insert(old, new.to_string());
    }
    if let Some(status) = status
        && item["kind"] != "Namespace"
    {
        write_status(server, &path, status);
    }
}

/// Writes `status` through the status subresource.
fn write_status(server: &ApiServer, path: &str, status: Value) {
    let (code, body) = server.request(
        "PATCH",
        &format!("{path}/status"),
        "application/merge-patch+json",
        Some(&json!({ "status": status })),
    );
    assert_eq!(code, 200, "write the status of {path}: {body}");
}

/// Replaces fixture uids in owner references and `involvedObject`.
fn remap(item: &mut Value, uids: &HashMap<String, String>) {
    let swap = |v: &mut Value| {
        if let Some(new) = v.as_str().and_then(|old| uids.get(old)) {
            *v = Value::String(new.clone());
        }
    };
    if let Some(owners) = item["metadata"]["ownerReferences"].as_array_mut() {
        owners.iter_mut().for_each(|o| swap(&mut o["uid"]));
    }
    if item["involvedObject"].is_object() {
        swap(&mut item["involvedObject"]["uid"]);
    }
}
