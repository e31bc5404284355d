//! Grafana 12+'s resource API for dashboards (`dashboard.grafana.app`):
//! which versions a Grafana serves, where a dashboard lives under `/apis`,
//! and the translation between a resource as Grafana holds it and the
//! dashboard value onramp works with.
//!
//! Owns: [`ServerInfo`] (from `/api/health` and the `/apis` discovery
//! document), the namespace of an org, [`folder`] (a `folder.grafana.app`
//! resource as a [`Folder`]), [`live`] (a resource as returned →
//! [`LiveDashboard`]) and [`to_wire`] (onramp's value → the body of a
//! create or update). Does not own the HTTP calls ([`super::Client`]) nor
//! deciding what to push (the Grafana sink).
//!
//! In onramp a v2 dashboard is the resource itself — `apiVersion`, `kind`,
//! `metadata`, `spec` — with onramp's marker as a top-level key, like in a
//! classic dashboard. In Grafana the marker travels as the
//! [`MARKER_ANNOTATION`] annotation (a resource has no room for other keys):
//! [`live`] lifts it out, [`to_wire`] puts it back.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::model::{DashboardMeta, Folder, LiveDashboard};

/// The dashboards' API group.
pub const DASHBOARD_GROUP: &str = "dashboard.grafana.app";
/// The folders' API group.
pub const FOLDER_GROUP: &str = "folder.grafana.app";
/// The annotation naming a dashboard's folder uid.
pub const FOLDER_ANNOTATION: &str = "grafana.app/folder";
/// The annotation naming who saved a dashboard last (`user:UID`, `service-account:UID`).
pub const UPDATED_BY_ANNOTATION: &str = "grafana.app/updatedBy";
/// The annotation holding when a dashboard was saved last (RFC 3339).
pub const UPDATED_AT_ANNOTATION: &str = "grafana.app/updatedTimestamp";
/// The annotation naming who created a dashboard.
pub const CREATED_BY_ANNOTATION: &str = "grafana.app/createdBy";
/// The annotation carrying onramp's marker (its JSON text) in Grafana.
pub const MARKER_ANNOTATION: &str = "onramp/marker";
/// The key of onramp's marker in a dashboard value (as in [`crate::plan::stamp`]).
pub(super) const MARKER_KEY: &str = "onramp";

/// Metadata Grafana sets itself: never part of a dashboard's content.
const SERVER_METADATA: [&str; 8] = [
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "selfLink",
];

/// What one Grafana is and which dashboard APIs it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// Its version (`/api/health`), absent when `hide_version` is on.
    pub version: Option<String>,
    /// The versions of `dashboard.grafana.app` it serves (empty: classic API only).
    pub dashboard_versions: Vec<String>,
    /// The versions of `folder.grafana.app` it serves.
    pub folder_versions: Vec<String>,
}

impl ServerInfo {
    /// Reads the served versions of the two groups from an `APIGroupList`.
    pub fn from_discovery(version: Option<String>, groups: &Value) -> ServerInfo {
        let versions = |group: &str| -> Vec<String> {
            groups["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|g| g["name"] == group)
                .flat_map(|g| g["versions"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v["version"].as_str().map(str::to_owned))
                .collect()
        };
        ServerInfo {
            version,
            dashboard_versions: versions(DASHBOARD_GROUP),
            folder_versions: versions(FOLDER_GROUP),
        }
    }

    /// Whether it serves `version` of `dashboard.grafana.app`.
    pub fn serves(&self, version: &str) -> bool {
        self.dashboard_versions.iter().any(|v| v == version)
    }

    /// The most stable v2 version it serves (`v2`, then `v2beta1`, `v2alpha1`).
    pub fn v2(&self) -> Option<&str> {
        ["v2", "v2beta1", "v2alpha1"]
            .into_iter()
            .find(|v| self.serves(v))
    }

    /// The version of `folder.grafana.app` to use (`v1`, then `v1beta1`);
    /// `None`: the classic folder API.
    pub fn folder_version(&self) -> Option<&str> {
        ["v1", "v1beta1"]
            .into_iter()
            .find(|v| self.folder_versions.iter().any(|f| f == v))
    }

    /// The most stable v1 version it serves (`v1`, then `v1beta1`).
    pub fn v1(&self) -> Option<&str> {
        ["v1", "v1beta1"].into_iter().find(|v| self.serves(v))
    }
}

impl fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Grafana {}",
            self.version.as_deref().unwrap_or("(version hidden)")
        )?;
        if self.dashboard_versions.is_empty() {
            return f.write_str(": classic dashboard API only (/api/dashboards)");
        }
        write!(
            f,
            ": serves {DASHBOARD_GROUP} {}",
            self.dashboard_versions.join(", ")
        )?;
        if self.v2().is_some() {
            f.write_str(" (v2 dashboards are read and written in the version they are stored in)")?;
        }
        Ok(())
    }
}

/// The namespace of an org: `default` for org 1 (or none given), `org-N` otherwise.
pub fn namespace(org_id: Option<u64>) -> String {
    match org_id {
        None | Some(1) => "default".to_owned(),
        Some(n) => format!("org-{n}"),
    }
}

/// The version part of an `apiVersion` of `dashboard.grafana.app`
/// (`dashboard.grafana.app/v2beta1` → `v2beta1`).
pub fn version_of(api_version: &str) -> Option<&str> {
    api_version
        .strip_prefix(DASHBOARD_GROUP)?
        .strip_prefix('/')
        .filter(|v| !v.is_empty())
}

/// Whether `dashboard` is a v2 dashboard resource.
pub fn is_v2(dashboard: &Value) -> bool {
    dashboard["apiVersion"]
        .as_str()
        .and_then(version_of)
        .is_some_and(|v| v.starts_with("v2"))
        && dashboard["kind"] == "Dashboard"
}

/// The uid of a dashboard value: `metadata.name` of a resource, `uid` of a
/// classic dashboard.
pub fn uid_of(dashboard: &Value) -> Option<&str> {
    if is_v2(dashboard) {
        dashboard["metadata"]["name"].as_str()
    } else {
        dashboard["uid"].as_str()
    }
}

/// The title of a dashboard value.
pub fn title_of(dashboard: &Value) -> &str {
    let title = if is_v2(dashboard) {
        &dashboard["spec"]["title"]
    } else {
        &dashboard["title"]
    };
    title.as_str().unwrap_or_default()
}

/// A `folder.grafana.app` resource as the [`Folder`] the classic API returns.
pub fn folder(raw: &Value) -> Folder {
    let uid = raw["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let title = raw["spec"]["title"].as_str().unwrap_or_default().to_owned();
    Folder {
        id: None,
        url: Some(format!("/dashboards/f/{uid}/{}", slug(&title))),
        version: raw["metadata"]["generation"].as_i64(),
        uid,
        title,
    }
}

/// Where a live dashboard read through the resource API came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceInfo {
    /// `dashboard.grafana.app/VERSION`, the version it is stored in.
    pub api_version: String,
    /// `metadata.resourceVersion`, sent back on update.
    pub resource_version: String,
    /// `metadata.generation`: +1 per change of the spec.
    pub generation: i64,
    /// The resource exactly as Grafana returned it (for backups).
    pub raw: Value,
}

/// A resource as Grafana returned it → the live dashboard: onramp's marker
/// lifted out of its annotation, `meta` filled from the metadata.
pub fn live(raw: Value) -> LiveDashboard {
    let metadata = &raw["metadata"];
    let annotation = |key: &str| metadata["annotations"][key].as_str().map(str::to_owned);
    let uid = metadata["name"].as_str().unwrap_or_default().to_owned();
    let generation = metadata["generation"].as_i64().unwrap_or(0);
    let mut dashboard = raw.clone();
    if let Some(annotations) = dashboard["metadata"]["annotations"].as_object_mut()
        && let Some(Value::String(text)) = annotations.remove(MARKER_ANNOTATION)
        && let Ok(marker @ Value::Object(_)) = serde_json::from_str::<Value>(&text)
    {
        dashboard[MARKER_KEY] = marker;
    }
    let slug = slug(title_of(&raw));
    LiveDashboard {
        meta: DashboardMeta {
            version: generation,
            created: metadata["creationTimestamp"].as_str().map(str::to_owned),
            updated: annotation(UPDATED_AT_ANNOTATION)
                .or_else(|| metadata["creationTimestamp"].as_str().map(str::to_owned)),
            created_by: annotation(CREATED_BY_ANNOTATION),
            updated_by: annotation(UPDATED_BY_ANNOTATION).or(annotation(CREATED_BY_ANNOTATION)),
            folder_uid: annotation(FOLDER_ANNOTATION),
            url: Some(format!("/d/{uid}/{slug}")),
            slug: Some(slug),
            can_save: true,
            ..DashboardMeta::default()
        },
        resource: Some(ResourceInfo {
            api_version: raw["apiVersion"].as_str().unwrap_or_default().to_owned(),
            resource_version: metadata["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            generation,
            raw: raw.clone(),
        }),
        dashboard,
    }
}

/// The metadata of a dashboard's content: its name, its labels and the
/// annotations a person or onramp set — what Grafana sets is left out.
pub fn content_metadata(metadata: &Value) -> Value {
    let mut out = Map::new();
    for (key, value) in metadata.as_object().into_iter().flatten() {
        if SERVER_METADATA.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "annotations" | "labels" => {
                let kept: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| !k.starts_with("grafana.app/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                Value::Object(kept)
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// The body of a create or update of `dashboard` (a resource value, or a
/// classic dashboard sent as `spec` of `api_version`): metadata.name is the
/// uid, the folder goes into its annotation, a v2 dashboard's marker into
/// its own (a classic one keeps it inside),
/// and `resource_version` (on update) into the metadata.
pub fn to_wire(
    dashboard: &Value,
    api_version: &str,
    uid: &str,
    folder: Option<&str>,
    resource_version: Option<&str>,
) -> Value {
    let mut body = if is_v2(dashboard) {
        let mut body = dashboard.clone();
        body["metadata"] = content_metadata(&dashboard["metadata"]);
        body
    } else {
        let mut spec = dashboard.clone();
        if let Some(spec) = spec.as_object_mut() {
            for key in ["id", "version", "uid"] {
                spec.remove(key);
            }
        }
        json!({"apiVersion": api_version, "kind": "Dashboard", "metadata": {}, "spec": spec})
    };
    // A classic dashboard keeps its marker inside (the classic API returns it).
    let marker = body.as_object_mut().and_then(|b| b.remove(MARKER_KEY));
    body["apiVersion"] = json!(api_version);
    body["metadata"]["name"] = json!(uid);
    if let Some(rv) = resource_version {
        body["metadata"]["resourceVersion"] = json!(rv);
    }
    let annotations = &mut body["metadata"]["annotations"];
    if !annotations.is_object() {
        *annotations = json!({});
    }
    if let Some(folder) = folder {
        annotations[FOLDER_ANNOTATION] = json!(folder);
    }
    if let Some(marker) = marker {
        annotations[MARKER_ANNOTATION] = json!(marker.to_string());
    }
    body
}

/// Grafana's slug of a title: lower case, runs of other characters become one `-`.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(annotations: Value) -> Value {
        json!({
            "apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard",
            "metadata": {"name": "shop-checkout", "namespace": "default", "resourceVersion": "17",
                         "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                         "annotations": annotations},
            "spec": {"title": "Checkout: health", "elements": {}}
        })
    }

    #[test]
    fn discovery_lists_the_served_versions_and_picks_the_stable_ones() {
        let groups = json!({"kind": "APIGroupList", "groups": [
            {"name": "dashboard.grafana.app", "versions": [
                {"groupVersion": "dashboard.grafana.app/v1beta1", "version": "v1beta1"},
                {"groupVersion": "dashboard.grafana.app/v2beta1", "version": "v2beta1"},
                {"groupVersion": "dashboard.grafana.app/v2", "version": "v2"}]},
            {"name": "folder.grafana.app", "versions": [{"groupVersion": "folder.grafana.app/v1beta1", "version": "v1beta1"}]}
        ]});
        let info = ServerInfo::from_discovery(Some("13.0.1".into()), &groups);
        assert_eq!(info.v2(), Some("v2"));
        assert_eq!(info.v1(), Some("v1beta1"));
        assert_eq!(info.folder_versions, vec!["v1beta1"]);
        assert_eq!(
            info.to_string(),
            "Grafana 13.0.1: serves dashboard.grafana.app v1beta1, v2beta1, v2 (v2 dashboards are read and written in the version they are stored in)"
        );
        let classic = ServerInfo::from_discovery(Some("11.3.0".into()), &Value::Null);
        assert_eq!(
            classic.to_string(),
            "Grafana 11.3.0: classic dashboard API only (/api/dashboards)"
        );
    }

    #[test]
    fn a_live_resource_carries_who_when_folder_and_the_marker() {
        let marker = json!({"hash": "abc", "source": "grafana"});
        let live = live(v2(json!({
            "grafana.app/folder": "onramp-shop",
            "grafana.app/updatedBy": "user:alice",
            "grafana.app/updatedTimestamp": "2026-02-03T04:05:06Z",
            "onramp/marker": marker.to_string(),
        })));
        assert_eq!(live.meta.updated_by.as_deref(), Some("user:alice"));
        assert_eq!(live.meta.updated.as_deref(), Some("2026-02-03T04:05:06Z"));
        assert_eq!(live.meta.folder_uid.as_deref(), Some("onramp-shop"));
        assert_eq!(live.version(), 3);
        assert_eq!(live.dashboard["onramp"], marker);
        assert_eq!(
            live.meta.url.as_deref(),
            Some("/d/shop-checkout/checkout-health")
        );
        let info = live.resource.as_ref().expect("read as a resource");
        assert_eq!(info.resource_version, "17");
        assert!(info.raw["metadata"]["annotations"]["onramp/marker"].is_string());
    }

    #[test]
    fn the_wire_body_puts_marker_folder_and_resource_version_in_the_metadata() {
        let mut dashboard = v2(json!({"grafana.app/updatedBy": "user:alice", "team": "shop"}));
        dashboard["onramp"] = json!({"hash": "abc"});
        let body = to_wire(
            &dashboard,
            "dashboard.grafana.app/v2beta1",
            "shop-checkout",
            Some("f1"),
            Some("17"),
        );
        assert_eq!(body.get("onramp"), None);
        assert_eq!(
            body["metadata"],
            json!({"name": "shop-checkout", "resourceVersion": "17", "annotations": {
                "team": "shop", "grafana.app/folder": "f1", "onramp/marker": "{\"hash\":\"abc\"}"}})
        );
        let classic = to_wire(
            &json!({"uid": "u", "id": 4, "version": 2, "title": "T", "onramp": {"hash": "h"}}),
            "dashboard.grafana.app/v1beta1",
            "u",
            None,
            Some("9"),
        );
        assert_eq!(
            classic["spec"],
            json!({"title": "T", "onramp": {"hash": "h"}})
        );
        assert_eq!(classic["kind"], "Dashboard");
        assert_eq!(classic["metadata"]["annotations"], json!({}));
    }
}
