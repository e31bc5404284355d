//! The object store: what etcd holds behind the API server. Objects are
//! kept as JSON, keyed by resource, namespace and name (so lists come out
//! in the order the real server returns them); one `resourceVersion`
//! counter for the whole store, as etcd's revision.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::resources::Resource;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, Failure};

/// Key of a stored object: `plural.group`, namespace (empty if
/// cluster-scoped), name.
pub type Key = (String, String, String);

/// The stored objects and the revision counter.
#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    uids: u64,
}

/// A list request: selectors and the page asked for.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = all).
    pub limit: usize,
    /// `continue` token of the previous page.
    pub continue_token: Option<String>,
}

/// A fixed creation time, so that fixtures and snapshots are stable.
pub const CREATED: &str = "2026-11-27T08:00:00Z";

/// The key of an object of `resource` in `namespace`.
pub fn key(resource: &Resource, namespace: &str, name: &str) -> Key {
    let namespace = if resource.namespaced { namespace } else { "" };
    (
        resource.qualified(),
        namespace.to_string(),
        name.to_string(),
    )
}

impl Store {
    /// The current revision (a list's `metadata.resourceVersion`).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Bumps the revision and returns it as an object's `resourceVersion`.
    pub fn next_revision(&mut self) -> String {
        self.revision += 1;
        self.revision.to_string()
    }

    /// A new uid, shaped like the real ones.
    pub fn next_uid(&mut self) -> String {
        self.uids += 1;
        format!("6f1c2a3e-0000-4000-8000-{:012x}", self.uids)
    }

    /// The stored object, if any.
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Stores `object` as it is (the caller stamped its metadata).
    pub fn put(&mut self, key: Key, object: Value) {
        self.objects.insert(key, object);
    }

    /// Removes and returns an object.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        self.objects.remove(key)
    }

    /// Fills what the server sets on create: uid, resourceVersion,
    /// creationTimestamp, generation (kept when a fixture has them).
    pub fn stamp_new(&mut self, object: &mut Value) {
        let rv = self.next_revision();
        let uid = self.next_uid();
        let meta = &mut object["metadata"];
        if meta["uid"].is_null() {
            meta["uid"] = json!(uid);
        }
        meta["resourceVersion"] = json!(rv);
        if meta["creationTimestamp"].is_null() {
            meta["creationTimestamp"] = json!(CREATED);
        }
        if meta["generation"].is_null() && !object["spec"].is_null() {
            object["metadata"]["generation"] = json!(1);
        }
    }

    /// The keys of `resource` in `namespace` (all namespaces when empty).
    pub fn keys(&self, resource: &Resource, namespace: &str) -> Vec<Key> {
        let qualified = resource.qualified();
        self.objects
            .keys()
            .filter(|(r, ns, _)| *r == qualified && (namespace.is_empty() || ns == namespace))
            .cloned()
            .collect()
    }

    /// A list answer (`PodList`…) with selectors and pagination applied.
    pub fn list(
        &self,
        resource: &Resource,
        namespace: &str,
        query: &ListQuery,
    ) -> Result<Value, Failure> {
        let (start, revision) = match &query.continue_token {
            Some(token) => decode_continue(token)?,
            None => (0, self.revision),
        };
        let matching: Vec<&Value> = self
            .keys(resource, namespace)
            .iter()
            .filter_map(|k| self.objects.get(k))
            .filter(|o| query.labels.matches(o) && query.fields.matches(o))
            .collect();
        let rest = matching.get(start..).unwrap_or_default();
        let page = if query.limit == 0 {
            rest.len()
        } else {
            query.limit.min(rest.len())
        };
        let mut metadata = json!({ "resourceVersion": revision.to_string() });
        if page < rest.len() {
            metadata["continue"] = json!(encode_continue(start + page, revision));
            metadata["remainingItemCount"] = json!(rest.len() - page);
        }
        Ok(json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.group_version(),
            "metadata": metadata,
            "items": rest[..page].iter().map(|o| (*o).clone()).collect::<Vec<_>>(),
        }))
    }
}

/// A continue token: base64 of the JSON the real server encodes (`v`, `rv`,
/// `start`); here `start` is the offset of the next item.
fn encode_continue(start: usize, revision: u64) -> String {
    use base64::Engine;
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start.to_string()});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(usize, u64), Failure> {
    use base64::Engine;
    let bad = || status::bad_request(&format!("continue key is not valid: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let start = value["start"].as_str().and_then(|s| s.parse().ok());
    match (start, value["rv"].as_u64()) {
        (Some(start), Some(rv)) => Ok((start, rv)),
        _ => Err(bad()),
    }
}
