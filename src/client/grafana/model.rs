//! Typed views of what Grafana's HTTP API returns: health, datasources,
//! folders, dashboards with their `meta` (and, read through the resource
//! API, their schema and `resourceVersion`), search hits and save results.
//!
//! Owns: deserialisation of Grafana's answers, lenient about fields that
//! differ between Grafana 10 and 12 (absent fields get defaults). Does not own
//! the dashboard model itself: dashboards stay `serde_json::Value` so that
//! unknown keys survive a round trip.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Health {
    /// `"ok"` when Grafana's database answers.
    pub database: String,
    /// Grafana's version, absent when `hide_version` is on.
    #[serde(default)]
    pub version: Option<String>,
    /// Grafana's commit, absent when `hide_version` is on.
    #[serde(default)]
    pub commit: Option<String>,
}

/// One entry of `GET /api/datasources`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datasource {
    /// Numeric id, per install: never use it to identify a datasource.
    #[serde(default)]
    pub id: Option<i64>,
    /// Stable identifier, what dashboards refer to.
    pub uid: String,
    /// Display name.
    pub name: String,
    /// Plugin type, `prometheus` for Prometheus (and Mimir, Thanos, Cortex).
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether this is the org's default datasource.
    #[serde(default)]
    pub is_default: bool,
    /// The URL Grafana queries.
    #[serde(default)]
    pub url: Option<String>,
}

/// The datasources Grafana listed, displayed as `name (type, uid U)` for
/// error messages that must list the valid alternatives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasourceList(pub Vec<Datasource>);

impl fmt::Display for DatasourceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, ds) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{:?} (type {}, uid {}", ds.name, ds.kind, ds.uid)?;
            if ds.is_default {
                f.write_str(", default")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A folder, from `GET /api/folders/:uid` or `POST /api/folders`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    /// Numeric id, per install.
    #[serde(default)]
    pub id: Option<i64>,
    /// Stable identifier.
    pub uid: String,
    /// Display title.
    pub title: String,
    /// Path of the folder page, e.g. `/dashboards/f/<uid>/<slug>`.
    #[serde(default)]
    pub url: Option<String>,
    /// Folder version.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A dashboard as Grafana holds it now: the JSON model and its `meta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveDashboard {
    /// The dashboard JSON exactly as Grafana returned it (with `id`,
    /// `version` and every key the author put in).
    pub dashboard: Value,
    /// Who saved it when, where it lives, whether it is provisioned.
    pub meta: DashboardMeta,
    /// Set when it was read through the resource API (`dashboard.grafana.app`):
    /// its stored version, `resourceVersion` and the answer as returned.
    #[serde(skip)]
    pub resource: Option<super::resource::ResourceInfo>,
}

impl LiveDashboard {
    /// The stored version, from `meta.version` (falling back to
    /// `dashboard.version` for Grafanas that omit it from `meta`).
    pub fn version(&self) -> i64 {
        if self.meta.version > 0 {
            self.meta.version
        } else {
            self.dashboard
                .get("version")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        }
    }

    /// The dashboard's uid, empty if the JSON carries none.
    pub fn uid(&self) -> &str {
        super::resource::uid_of(&self.dashboard).unwrap_or("")
    }

    /// The schema it is stored in.
    pub fn schema(&self) -> Schema {
        if super::resource::is_v2(&self.dashboard) {
            Schema::V2
        } else {
            Schema::Classic
        }
    }
}

/// The schema a dashboard is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// The classic JSON model (`/api/dashboards`, or `v1` of the resource API):
    /// what onramp renders.
    Classic,
    /// The v2 schema (layouts, `elements`): what Grafana 13's UI saves.
    V2,
}

/// The `meta` object of `GET /api/dashboards/uid/:uid` (the fields onramp uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DashboardMeta {
    /// Stored version; each save adds one.
    pub version: i64,
    /// When it was created (RFC 3339).
    pub created: Option<String>,
    /// When it was last saved (RFC 3339).
    pub updated: Option<String>,
    /// Who created it (login or service-account name).
    pub created_by: Option<String>,
    /// Who saved it last.
    pub updated_by: Option<String>,
    /// True when a provider that forbids UI updates owns it.
    pub provisioned: bool,
    /// The provisioning file it comes from, when provisioned.
    pub provisioned_external_id: Option<String>,
    /// Folder uid, empty or absent at the root.
    pub folder_uid: Option<String>,
    /// Folder title, `General` at the root.
    pub folder_title: Option<String>,
    /// Path of the dashboard page, e.g. `/d/<uid>/<slug>`.
    pub url: Option<String>,
    /// URL slug of the title.
    pub slug: Option<String>,
    /// Whether the caller may save it.
    pub can_save: bool,
}

/// One hit of `GET /api/search`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// Numeric id, per install.
    #[serde(default)]
    pub id: Option<i64>,
    /// Stable identifier.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Path of the page.
    #[serde(default)]
    pub url: String,
    /// `dash-db` or `dash-folder`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Folder uid, absent at the root.
    #[serde(default)]
    pub folder_uid: Option<String>,
    /// Folder title, absent at the root.
    #[serde(default)]
    pub folder_title: Option<String>,
}

/// The answer to `POST /api/dashboards/db`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveResult {
    /// Numeric id, per install.
    #[serde(default)]
    pub id: Option<i64>,
    /// The uid, generated by Grafana when the dashboard had none.
    pub uid: String,
    /// Path of the dashboard page, e.g. `/d/<uid>/<slug>`.
    pub url: String,
    /// The new version: 1 for a new dashboard, +1 per save.
    pub version: i64,
    /// `success`.
    #[serde(default)]
    pub status: String,
    /// URL slug of the title.
    #[serde(default)]
    pub slug: Option<String>,
    /// Folder uid (Grafana 11+).
    #[serde(default)]
    pub folder_uid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasource_list_names_type_and_uid() {
        let list = DatasourceList(vec![
            Datasource {
                id: Some(1),
                uid: "prom".into(),
                name: "Prometheus".into(),
                kind: "prometheus".into(),
                is_default: true,
                url: None,
            },
            Datasource {
                id: Some(2),
                uid: "loki".into(),
                name: "Logs".into(),
                kind: "loki".into(),
                is_default: false,
                url: None,
            },
        ]);
        assert_eq!(
            list.to_string(),
            r#""Prometheus" (type prometheus, uid prom, default), "Logs" (type loki, uid loki)"#
        );
        assert_eq!(DatasourceList::default().to_string(), "none");
    }

    #[test]
    fn meta_tolerates_missing_fields() -> Result<(), serde_json::Error> {
        let live: LiveDashboard = serde_json::from_str(
            r#"{"dashboard":{"uid":"a","version":4},"meta":{"provisioned":true}}"#,
        )?;
        assert!(live.meta.provisioned);
        assert_eq!(live.version(), 4);
        assert_eq!(live.uid(), "a");
        Ok(())
    }
}
