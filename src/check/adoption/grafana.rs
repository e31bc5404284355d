//! onramp's dashboards in Grafana (`--grafana-url`), for levels 3 and 4:
//! which apps have dashboards there, for which needs, and whether each is
//! as onramp wrote it.
//!
//! Read with a number of requests that does not grow with the apps: on
//! Grafana 12+ (the resource API) `/api/health`, `/apis` and one paged list
//! of the org's dashboards in the v1 version (their content comes with the
//! list), plus one paged list in the v2 version when some dashboard is
//! stored as v2 (a person saved it in Grafana 13's UI: the v1 list cannot
//! convert it). A dashboard is onramp's when it carries onramp's marker (in
//! a classic dashboard, or in the `onramp/marker` annotation of a v2
//! resource), which names its app and need. On older Grafana (classic API
//! only) one paged `/api/search` by onramp's tag says which exist (app and
//! need from their tags); their content would take one GET per dashboard,
//! which adoption does not send: level 4 is then left unproven for them.
//!
//! Owns reading; the levels are `levels`'. Whether a dashboard is as onramp
//! wrote it is the Grafana sink's rule (the marker's hash against the
//! normalised content, [`crate::client::grafana::normalize::content`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::client::grafana::resource::{self, ServerInfo};
use crate::client::grafana::{self, Client, SearchHit};
use crate::plan::stamp::{self, MARKER_KEY};

/// The tag every dashboard onramp renders carries.
pub const ONRAMP_TAG: &str = "onramp";

/// One dashboard of onramp's in Grafana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrafanaDashboard {
    /// Its uid.
    pub uid: String,
    /// The need it answers, when its marker (or tags) say.
    pub need: Option<String>,
    /// Whether its content is as onramp wrote it (the marker's hash
    /// matches, an edit brought into code included); `None` when its
    /// content was not read (classic API only).
    pub intact: Option<bool>,
    /// True when it is stored as a v2 resource (saved from Grafana 13's UI).
    pub v2: bool,
    /// Who saved it last, when Grafana says.
    pub updated_by: Option<String>,
}

/// What Grafana holds of onramp's, asked once for the fleet.
#[derive(Debug, Clone, Default)]
pub struct GrafanaState {
    /// Where it was reached.
    pub via: String,
    /// onramp's dashboards by `(namespace, app)`.
    pub by_app: BTreeMap<(String, String), Vec<GrafanaDashboard>>,
    /// Why the dashboards' content was not read (classic API only), if so.
    pub content_unread: Option<String>,
}

impl GrafanaState {
    /// Asks Grafana: `/api/health` and `/apis` (what it serves), then one
    /// paged list in v1 (and one in v2 when some dashboard is stored as v2),
    /// or one paged search by onramp's tag on a Grafana without the
    /// resource API.
    pub async fn ask(client: &Client, needs: &[String]) -> grafana::Result<GrafanaState> {
        let server = client.server().await?;
        let via = client.config().url().to_string();
        let Some(v1) = server.v1() else {
            let hits = client.search(&[ONRAMP_TAG], &[]).await?;
            return Ok(GrafanaState::from_search(via, &server, &hits, needs));
        };
        let listed = client.list_dashboards(v1).await?;
        let v2_listed = match server.v2() {
            Some(v2) if listed.iter().any(stored_as_v2) => client.list_dashboards(v2).await?,
            _ => Vec::new(),
        };
        Ok(GrafanaState::from_resources(
            via, &listed, &v2_listed, needs,
        ))
    }

    /// From the resource lists: the v1 list's classic dashboards, and the
    /// v2 list's dashboards stored as v2. A dashboard is onramp's by its
    /// marker, else by onramp's tags (an edit in Grafana's UI drops the
    /// marker: such a dashboard is not as onramp wrote it).
    pub fn from_resources(
        via: String,
        v1: &[Value],
        v2: &[Value],
        needs: &[String],
    ) -> GrafanaState {
        let mut state = GrafanaState {
            via,
            ..GrafanaState::default()
        };
        let classic = v1
            .iter()
            .filter(|item| !stored_as_v2(item))
            .map(|item| (classic_dashboard(item), false, item));
        let stored_v2 = v2
            .iter()
            .filter(|item| stored_as_v2(item) || item["status"]["conversion"].is_null())
            .map(|item| (resource::live(item.clone()).dashboard, true, item));
        for (dashboard, v2, item) in classic.chain(stored_v2) {
            let tags = if v2 {
                &dashboard["spec"]["tags"]
            } else {
                &dashboard["tags"]
            };
            let tags: Vec<String> = serde_json::from_value(tags.clone()).unwrap_or_default();
            let (key, need, intact) = match stamp_of(&dashboard) {
                Some(found) => match found.app.split_once('/') {
                    Some((ns, app)) => ((ns.to_owned(), app.to_owned()), found.need, found.intact),
                    None => continue,
                },
                None => match by_tags(&tags, needs) {
                    Some((key, need)) => (key, need, false),
                    None => continue,
                },
            };
            let uid = item["metadata"]["name"].as_str().unwrap_or_default();
            let updated_by = item["metadata"]["annotations"][resource::UPDATED_BY_ANNOTATION]
                .as_str()
                .map(str::to_owned);
            state.by_app.entry(key).or_default().push(GrafanaDashboard {
                uid: uid.to_owned(),
                need,
                intact: Some(intact),
                v2,
                updated_by,
            });
        }
        state
    }

    /// From a search by onramp's tag (classic API only): each hit placed by
    /// its tags (`by_tags`). Their content is not read.
    pub fn from_search(
        via: String,
        server: &ServerInfo,
        hits: &[SearchHit],
        needs: &[String],
    ) -> GrafanaState {
        let mut state = GrafanaState {
            via,
            content_unread: Some(format!(
                "{server}: checking each dashboard's marker would take one request per dashboard, which adoption does not send"
            )),
            ..GrafanaState::default()
        };
        for hit in hits {
            let Some((key, need)) = by_tags(&hit.tags, needs) else {
                continue;
            };
            state.by_app.entry(key).or_default().push(GrafanaDashboard {
                uid: hit.uid.clone(),
                need,
                intact: None,
                v2: false,
                updated_by: None,
            });
        }
        state
    }
}

/// The app and need of a dashboard by the tags onramp gives it
/// (`onramp`, the app, `namespace:NS`, the need): the app is the tag that
/// is none of the others nor one of `needs` (the catalog's ids), the need
/// the tag among `needs`. `None` without `onramp`, the namespace or the app.
fn by_tags(tags: &[String], needs: &[String]) -> Option<((String, String), Option<String>)> {
    if !tags.iter().any(|t| t == ONRAMP_TAG) {
        return None;
    }
    let namespace = tags.iter().find_map(|t| t.strip_prefix("namespace:"))?;
    let app = tags
        .iter()
        .find(|t| t.as_str() != ONRAMP_TAG && !t.starts_with("namespace:") && !needs.contains(t))?;
    let need = tags.iter().find(|t| needs.contains(t)).cloned();
    Some(((namespace.to_owned(), app.clone()), need))
}

/// Whether a listed resource is stored as v2 (`status.conversion.storedVersion`).
fn stored_as_v2(item: &Value) -> bool {
    item["status"]["conversion"]["storedVersion"]
        .as_str()
        .map(|v| resource::version_of(v).unwrap_or(v))
        .is_some_and(|v| v.starts_with("v2"))
}

/// A v1 resource as the classic dashboard it holds: its spec with the uid
/// (`metadata.name`), onramp's marker inside as a classic push keeps it
/// (or taken from the annotation).
fn classic_dashboard(item: &Value) -> Value {
    let mut dashboard = item["spec"].clone();
    if let Some(object) = dashboard.as_object_mut() {
        object.insert("uid".to_owned(), item["metadata"]["name"].clone());
        if !object.contains_key(MARKER_KEY)
            && let Some(Ok(marker @ Value::Object(_))) = item["metadata"]["annotations"]
                [resource::MARKER_ANNOTATION]
                .as_str()
                .map(serde_json::from_str::<Value>)
        {
            object.insert(MARKER_KEY.to_owned(), marker);
        }
    }
    dashboard
}

/// What onramp's marker in `dashboard` says, with `intact` judged as the
/// Grafana sink judges a live dashboard: the marker's hash against its
/// content ([`grafana::normalize::content`]).
fn stamp_of(dashboard: &Value) -> Option<stamp::Found> {
    let mut found = stamp::read_dashboard(dashboard)?;
    let content = grafana::normalize::content(dashboard);
    found.intact = stamp::marker_hash(dashboard) == Some(stamp::content_hash(&content).as_str());
    Some(found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stamped(uid: &str, app: &str, need: &str) -> Value {
        let mut dashboard = json!({"uid": uid, "title": app, "panels": [], "tags": ["onramp"]});
        dashboard[MARKER_KEY] = json!({"app": app, "need": need});
        stamp::restamp_dashboard(grafana::normalize(&dashboard), &dashboard)
    }

    fn v1_item(uid: &str, dashboard: &Value) -> Value {
        let mut spec = dashboard.clone();
        spec.as_object_mut().expect("an object").remove("uid");
        json!({"apiVersion": "dashboard.grafana.app/v1beta1", "kind": "Dashboard",
               "metadata": {"name": uid, "annotations": {"grafana.app/updatedBy": "service-account:onramp"}},
               "spec": spec})
    }

    #[test]
    fn a_listed_dashboard_is_placed_by_its_marker_and_an_edit_shows() {
        let ours = stamped("checkout-sh", "shop/checkout", "service-health");
        let mut edited = stamped("gateway-sh", "payments/gateway", "service-health");
        edited["title"] = json!("gateway (edited)");
        let stranger = json!({"title": "someone's", "panels": []});
        let v2_stored = json!({"metadata": {"name": "query-x"}, "spec": {},
            "status": {"conversion": {"failed": true, "storedVersion": "v2beta1"}}});
        let state = GrafanaState::from_resources(
            "http://g/".into(),
            &[
                v1_item("checkout-sh", &ours),
                v1_item("gateway-sh", &edited),
                v1_item("mine", &stranger),
                v2_stored,
            ],
            &[],
            &["service-health".to_string()],
        );
        assert_eq!(state.by_app.len(), 2);
        let checkout = &state.by_app[&("shop".into(), "checkout".into())][0];
        assert_eq!(checkout.uid, "checkout-sh");
        assert_eq!(checkout.need.as_deref(), Some("service-health"));
        assert_eq!(checkout.intact, Some(true));
        assert_eq!(
            checkout.updated_by.as_deref(),
            Some("service-account:onramp")
        );
        assert_eq!(
            state.by_app[&("payments".into(), "gateway".into())][0].intact,
            Some(false)
        );
    }

    #[test]
    fn a_v2_dashboard_saved_in_the_ui_is_placed_by_its_tags_as_edited() {
        let saved = json!({"apiVersion": "dashboard.grafana.app/v2", "kind": "Dashboard",
            "metadata": {"name": "checkout-sh", "annotations": {"grafana.app/updatedBy": "user:alice"}},
            "spec": {"title": "mine", "tags": ["onramp", "checkout", "namespace:shop", "service-health"]}});
        let mut converted = v1_item("other", &stamped("other", "shop/other", "service-health"));
        converted["status"] = json!({"conversion": {"failed": false, "storedVersion": "v1beta1"}});
        let listed_in_v1 = json!({"metadata": {"name": "checkout-sh"}, "spec": {},
            "status": {"conversion": {"failed": true, "storedVersion": "v2"}}});
        let state = GrafanaState::from_resources(
            "http://g/".into(),
            &[listed_in_v1],
            &[saved, converted],
            &["service-health".to_string()],
        );
        // The classic one converted for the v2 list is the v1 list's.
        assert_eq!(state.by_app.len(), 1);
        let checkout = &state.by_app[&("shop".into(), "checkout".into())][0];
        assert_eq!(
            (checkout.v2, checkout.intact, checkout.need.as_deref()),
            (true, Some(false), Some("service-health"))
        );
        assert_eq!(checkout.updated_by.as_deref(), Some("user:alice"));
    }

    #[test]
    fn a_search_hit_names_its_app_and_need_by_its_tags_and_its_content_is_unread() {
        let hit = |uid: &str, tags: &[&str]| SearchHit {
            id: None,
            uid: uid.into(),
            title: uid.into(),
            url: String::new(),
            kind: "dash-db".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            folder_uid: None,
            folder_title: None,
        };
        let server = ServerInfo {
            version: Some("11.3.0".into()),
            ..ServerInfo::default()
        };
        let state = GrafanaState::from_search(
            "http://g/".into(),
            &server,
            &[
                hit(
                    "a",
                    &["onramp", "checkout", "namespace:shop", "service-health"],
                ),
                hit("b", &["onramp", "service-health"]),
            ],
            &["service-health".to_string()],
        );
        let found = &state.by_app[&("shop".into(), "checkout".into())];
        assert_eq!(found[0].need.as_deref(), Some("service-health"));
        assert_eq!(found[0].intact, None);
        assert_eq!(state.by_app.len(), 1);
        assert_eq!(
            state.content_unread.as_deref(),
            Some(
                "Grafana 11.3.0: classic dashboard API only (/api/dashboards): checking each dashboard's marker would take one request per dashboard, which adoption does not send"
            )
        );
    }
}
