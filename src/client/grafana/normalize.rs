//! Normalising dashboard JSON so that what is pulled from Grafana diffs
//! cleanly against what onramp rendered.
//!
//! Owns: [`normalize`], a pure function. It removes what Grafana (or its UI)
//! adds on every save and that says nothing about the dashboard — `id`,
//! `version`, `iteration`, a null `gnetId`, panels' `pluginVersion` — points
//! every Prometheus datasource reference at the `${datasource}` variable,
//! orders panels by position and orders object keys. Does not own deciding
//! whether a dashboard changed (plan compares normalised values).
//!
//! A v2 dashboard resource (`dashboard.grafana.app/v2…`) keeps its
//! `apiVersion`, `kind`, `spec` and the metadata a person sets (name,
//! labels, annotations other than Grafana's own `grafana.app/*`); what
//! Grafana sets on every save — `resourceVersion`, `generation`,
//! timestamps, `uid`, `namespace`, who saved it, `status` — is dropped.
//! Its `spec.elements` is a map, so key order makes it stable.
//!
//! Properties (tested below and in the contract tests):
//! `normalize(&normalize(x)) == normalize(x)`, and for a dashboard with a
//! uid, pushing it and normalising what Grafana returns gives `normalize(x)`.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

/// Top-level keys Grafana rewrites on every save.
const VOLATILE_TOP_LEVEL: [&str; 3] = ["id", "version", "iteration"];
/// The datasource type whose references become `${datasource}`.
const PROMETHEUS: &str = "prometheus";
/// The datasource variable onramp's dashboards declare.
const DATASOURCE_VARIABLE: &str = "${datasource}";

/// Returns the normalised copy of `dashboard`; see the module docs. A value
/// that is not an object only gets its keys ordered.
pub fn normalize(dashboard: &Value) -> Value {
    let Value::Object(top) = dashboard else {
        return sorted(dashboard.clone());
    };
    let mut top = top.clone();
    if super::resource::is_v2(dashboard) {
        top.remove("status");
        if let Some(metadata) = top.get_mut("metadata") {
            *metadata = super::resource::content_metadata(metadata);
        }
        return sorted(Value::Object(top));
    }
    for key in VOLATILE_TOP_LEVEL {
        top.remove(key);
    }
    // The UI adds `"gnetId": null` to every dashboard it saves.
    if top.get("gnetId").is_some_and(Value::is_null) {
        top.remove("gnetId");
    }
    if let Some(Value::Array(panels)) = top.get_mut("panels") {
        normalize_panels(panels);
    }
    for section in ["templating", "annotations"] {
        if let Some(Value::Array(items)) = top.get_mut(section).and_then(|s| s.get_mut("list")) {
            items
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(point_at_variable);
        }
    }
    sorted(Value::Object(top))
}

/// A dashboard's content as onramp compares a live copy with its marker's
/// hash: [`normalize`]d, without onramp's marker.
pub fn content(dashboard: &Value) -> Value {
    let mut content = normalize(dashboard);
    if let Some(object) = content.as_object_mut() {
        object.remove(super::resource::MARKER_KEY);
    }
    content
}

/// Normalises panels in place, recursing into the children of collapsed rows.
fn normalize_panels(panels: &mut [Value]) {
    for panel in panels.iter_mut().filter_map(Value::as_object_mut) {
        // Rewritten by every Grafana upgrade, and absent from rendered panels.
        panel.remove("pluginVersion");
        point_at_variable(panel);
        if let Some(Value::Array(targets)) = panel.get_mut("targets") {
            targets
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(point_at_variable);
        }
        if let Some(Value::Array(children)) = panel.get_mut("panels") {
            normalize_panels(children);
        }
    }
    // Stable: panels at the same position keep their order.
    panels.sort_by(compare_position);
}

/// Orders panels top to bottom, then left to right; panels without a
/// position go last.
fn compare_position(a: &Value, b: &Value) -> Ordering {
    let key = |panel: &Value, axis: &str| {
        panel
            .get("gridPos")
            .and_then(|g| g.get(axis))
            .and_then(Value::as_f64)
            .unwrap_or(f64::INFINITY)
    };
    key(a, "y")
        .total_cmp(&key(b, "y"))
        .then_with(|| key(a, "x").total_cmp(&key(b, "x")))
}

/// Rewrites `datasource` to the `${datasource}` variable when it is a
/// Prometheus reference; leaves every other datasource alone.
fn point_at_variable(object: &mut Map<String, Value>) {
    let is_prometheus = object
        .get("datasource")
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == PROMETHEUS);
    if is_prometheus {
        object.insert(
            "datasource".to_owned(),
            json!({ "type": PROMETHEUS, "uid": DATASOURCE_VARIABLE }),
        );
    }
}

/// Rebuilds every object with its keys in order. A no-op with serde_json's
/// default `BTreeMap` maps, but it keeps the output stable even if some
/// dependency turns on `preserve_order`.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(id: i64, x: i64, y: i64, ds_uid: &str) -> Value {
        json!({
            "id": id, "type": "timeseries", "title": format!("panel {id}"),
            "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
            "pluginVersion": "11.2.0",
            "datasource": {"type": "prometheus", "uid": ds_uid},
            "targets": [{"refId": "A", "expr": "up", "datasource": {"type": "prometheus", "uid": ds_uid}}]
        })
    }

    fn live_dashboard() -> Value {
        json!({
            "id": 17, "uid": "shop-checkout-health", "version": 9, "iteration": 1712345678,
            "title": "checkout: service health", "gnetId": null, "tags": ["onramp"],
            "custom": {"zeta": 1, "alpha": 2},
            "templating": {"list": [
                {"type": "datasource", "name": "datasource", "query": "prometheus"},
                {"type": "query", "name": "namespace", "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}}
            ]},
            "annotations": {"list": [
                {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}}
            ]},
            "panels": [
                panel(3, 12, 0, "P1809F7CD0C75ACF3"),
                {"id": 9, "type": "row", "title": "more", "collapsed": true, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 8},
                 "panels": [panel(11, 12, 9, "prom"), panel(10, 0, 9, "${datasource}")]},
                panel(2, 0, 0, "prom"),
                {"id": 4, "type": "logs", "title": "logs", "gridPos": {"h": 8, "w": 24, "x": 0, "y": 20},
                 "datasource": {"type": "loki", "uid": "loki"}}
            ]
        })
    }

    #[test]
    fn strips_volatile_fields_and_points_prometheus_at_the_variable() {
        let normal = normalize(&live_dashboard());
        let var = json!({"type": "prometheus", "uid": "${datasource}"});
        assert_eq!(normal.get("id"), None);
        assert_eq!(normal.get("version"), None);
        assert_eq!(normal.get("iteration"), None);
        assert_eq!(normal.get("gnetId"), None);
        assert_eq!(normal["uid"], "shop-checkout-health");
        assert_eq!(normal["custom"], json!({"alpha": 2, "zeta": 1}));
        assert_eq!(normal["panels"][0]["datasource"], var);
        assert_eq!(normal["panels"][0]["targets"][0]["datasource"], var);
        assert_eq!(normal["panels"][0].get("pluginVersion"), None);
        assert_eq!(normal["templating"]["list"][1]["datasource"], var);
        assert_eq!(
            normal["annotations"]["list"][0]["datasource"]["uid"],
            "-- Grafana --"
        );
        assert_eq!(
            normal["panels"][3]["datasource"],
            json!({"type": "loki", "uid": "loki"})
        );
    }

    #[test]
    fn orders_panels_by_row_then_column_inside_rows_too() {
        let normal = normalize(&live_dashboard());
        let ids = |panels: &Value| -> Vec<i64> {
            panels
                .as_array()
                .map(|a| a.iter().filter_map(|p| p["id"].as_i64()).collect())
                .unwrap_or_default()
        };
        assert_eq!(ids(&normal["panels"]), vec![2, 3, 9, 4]);
        assert_eq!(ids(&normal["panels"][2]["panels"]), vec![10, 11]);
    }

    #[test]
    fn is_idempotent_and_independent_of_panel_order() -> Result<(), serde_json::Error> {
        let original = live_dashboard();
        let once = normalize(&original);
        assert_eq!(normalize(&once), once);
        let text = serde_json::to_string_pretty(&once)?;
        assert_eq!(serde_json::to_string_pretty(&normalize(&once))?, text);

        // Every rotation of the top-level panels normalises to the same text.
        let count = original["panels"].as_array().map(Vec::len).unwrap_or(0);
        for shift in 0..count {
            let mut rotated = original.clone();
            if let Some(panels) = rotated["panels"].as_array_mut() {
                panels.rotate_left(shift);
            }
            assert_eq!(
                serde_json::to_string_pretty(&normalize(&rotated))?,
                text,
                "rotation {shift}"
            );
        }
        Ok(())
    }

    #[test]
    fn keys_come_out_sorted() -> Result<(), serde_json::Error> {
        let text = serde_json::to_string(&normalize(&json!({"b": 1, "a": {"d": 1, "c": 2}})))?;
        assert_eq!(text, r#"{"a":{"c":2,"d":1},"b":1}"#);
        Ok(())
    }

    #[test]
    fn a_v2_resource_loses_what_grafana_sets_and_keeps_what_people_set() {
        let live = json!({
            "apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard",
            "metadata": {"name": "d", "namespace": "default", "uid": "8f2c", "resourceVersion": "99",
                         "generation": 4, "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": {"team": "shop", "grafana.app/deprecatedInternalID": "12"},
                         "annotations": {"grafana.app/updatedBy": "user:alice", "grafana.app/folder": "f"}},
            "spec": {"title": "T", "elements": {"panel-2": {"kind": "Panel"}, "panel-1": {"kind": "Panel"}}},
            "status": {"conversion": {"failed": false}}
        });
        let normal = normalize(&live);
        assert_eq!(
            normal["metadata"],
            json!({"name": "d", "labels": {"team": "shop"}})
        );
        assert_eq!(normal.get("status"), None);
        assert_eq!(normal["spec"], live["spec"]);
        assert_eq!(normalize(&normal), normal);
    }

    #[test]
    fn non_objects_pass_through() {
        assert_eq!(normalize(&json!([3, 1])), json!([3, 1]));
        assert_eq!(normalize(&Value::Null), Value::Null);
    }
}
