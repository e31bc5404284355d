//! Discovery documents, in the legacy (unaggregated) form: `/api`,
//! `/api/v1`, `/apis`, `/apis/GROUP/VERSION`, and `/version`. The
//! Operator's group is listed only when the scenario installed its CRDs.
//! Clients that ask for aggregated discovery (`Accept:
//! application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
//! application/json`) get the legacy form, which the real server also
//! answers when the client accepts plain JSON as a fallback.

use serde_json::{Value, json};

use super::resources::{ALL, OPERATOR_GROUP, Resource};

/// The Kubernetes version the stand-in reports.
pub const GIT_VERSION: &str = "v1.33.1";

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// The resources served, given whether the Operator is installed.
pub fn served(operator: bool) -> impl Iterator<Item = &'static Resource> {
    ALL.iter().filter(move |r| operator || !r.is_operator())
}

/// `/api`.
pub fn core_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]
    })
}

/// `/apis`: every group but the core one, each with its one version.
pub fn groups(operator: bool) -> Value {
    let mut names: Vec<&str> = served(operator)
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    names.dedup();
    let groups: Vec<Value> = names
        .iter()
        .map(|name| {
            let version = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
            json!({"name": name, "versions": [version.clone()], "preferredVersion": version})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/GROUP/VERSION`; `None` when not served.
pub fn resources(group: &str, version: &str, operator: bool) -> Option<Value> {
    let mut list = Vec::new();
    for r in served(operator).filter(|r| r.group == group && r.version == version) {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short.is_empty() {
            entry["shortNames"] = json!(r.short);
        }
        if r.group == OPERATOR_GROUP {
            entry["categories"] = json!(["prometheus-operator"]);
        }
        list.push(entry);
        let sub = match r.plural {
            "pods" => Some(("log", "Pod", vec!["get"])),
            "services" => Some((
                "proxy",
                "ServiceProxyOptions",
                vec!["create", "delete", "get", "patch", "update"],
            )),
            _ => None,
        };
        if let Some((name, kind, verbs)) = sub {
            list.push(json!({
                "name": format!("{}/{name}", r.plural),
                "singularName": "",
                "namespaced": true,
                "kind": kind,
                "verbs": verbs,
            }));
        }
    }
    if list.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list}),
    )
}
