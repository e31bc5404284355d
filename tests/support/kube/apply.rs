//! Server-side apply (`PATCH` with `application/apply-patch+yaml`): field
//! ownership per manager in `managedFields`, conflicts with other managers
//! (409 naming manager and paths), `force`, `dryRun`, and a write only when
//! the object really changes — an identical re-apply keeps its
//! `resourceVersion`.

use serde_json::{Value, json};

use super::fields::{self, Set};
use super::resources::Resource;
use super::schema::Schemas;
use super::status::{self, Failure};
use super::store::{self, Store};

/// One apply request, as the handler parsed it.
pub struct Apply<'a> {
    /// The resource in the URL.
    pub resource: &'a Resource,
    /// The namespace in the URL (empty for cluster-scoped).
    pub namespace: &'a str,
    /// The name in the URL.
    pub name: &'a str,
    /// `fieldManager`.
    pub manager: &'a str,
    /// `force=true`.
    pub force: bool,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// The applied configuration.
    pub body: Value,
}

/// One `managedFields` entry, its field set parsed.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Value,
    set: Set,
}

impl Entry {
    fn parse(value: &Value) -> Entry {
        Entry {
            manager: value["manager"].as_str().unwrap_or_default().to_string(),
            operation: value["operation"].as_str().unwrap_or("Update").to_string(),
            api_version: value["apiVersion"].as_str().unwrap_or_default().to_string(),
            time: value["time"].clone(),
            set: fields::from_fields_v1(&value["fieldsV1"]),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields::to_fields_v1(&self.set),
        })
    }

    /// Whether this is the apply entry of `manager`.
    fn is_apply_of(&self, manager: &str) -> bool {
        self.manager == manager && self.operation == "Apply"
    }

    /// How conflict messages name a manager (`printManager` of the server:
    /// appliers by name, updaters with the API version they used).
    fn printed(&self) -> String {
        if self.operation == "Apply" {
            format!("\"{}\"", self.manager)
        } else {
            format!("\"{}\" using {}", self.manager, self.api_version)
        }
    }
}

fn now() -> Value {
    json!(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string())
}

/// Checks the body names what the URL names, as the server does.
fn check_identity(req: &Apply<'_>) -> Result<(), Failure> {
    let body = &req.body;
    let api_version = body["apiVersion"].as_str().unwrap_or_default();
    let kind = body["kind"].as_str().unwrap_or_default();
    if api_version.is_empty() || kind.is_empty() {
        return Err(status::bad_request(
            "error decoding YAML: Object 'Kind' is missing in applied configuration",
        ));
    }
    if api_version != req.resource.group_version() || kind != req.resource.kind {
        return Err(status::bad_request(&format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            req.resource.group_version()
        )));
    }
    let name = body["metadata"]["name"].as_str().unwrap_or_default();
    if name != req.name {
        return Err(status::bad_request(&format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            req.name
        )));
    }
    match body["metadata"]["namespace"].as_str() {
        Some(ns) if ns != req.namespace => Err(status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => Ok(()),
    }
}

/// The other managers' fields the applied set would change a value of:
/// (index of the entry, the owned path).
fn conflicts(
    live: &Value,
    body: &Value,
    entries: &[Entry],
    mine: &Set,
    me: &str,
) -> Vec<(usize, fields::Path)> {
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.is_apply_of(me) {
            continue;
        }
        for owned in &entry.set {
            let clash = mine.iter().any(|path| {
                let longer = if path.len() >= owned.len() {
                    path
                } else {
                    owned
                };
                fields::overlaps(path, owned)
                    && fields::get(live, longer) != fields::get(body, longer)
            });
            if clash {
                out.push((index, owned.clone()));
            }
        }
    }
    out
}

/// Applies; returns the HTTP status (201 created, 200 otherwise) and the
/// object as stored (or as it would be, on a dry run).
pub fn apply(
    store: &mut Store,
    schemas: &Schemas,
    req: Apply<'_>,
) -> Result<(u16, Value), Failure> {
    check_identity(&req)?;
    typed_patch(schemas, &req)?;
    let key = store::key(req.resource, req.namespace, req.name);
    let live = store.get(&key).cloned();
    let base = live.clone().unwrap_or_else(|| json!({}));
    let mut entries: Vec<Entry> = base["metadata"]["managedFields"]
        .as_array()
        .map(|a| a.iter().map(Entry::parse).collect())
        .unwrap_or_default();
    let mine = fields::leaves(&req.body);
    let found = conflicts(&base, &req.body, &entries, &mine, req.manager);
    if !found.is_empty() && !req.force {
        let printed: Vec<(String, String)> = found
            .iter()
            .map(|(index, path)| (entries[*index].printed(), fields::display(path)))
            .collect();
        return Err(status::apply_conflict(&printed));
    }
    // Forcing takes exactly the conflicting fields; fields set to the value
    // another manager set stay shared, as with the real server.
    for (index, path) in &found {
        entries[*index].set.remove(path);
    }
    let result = merge(&base, &req, &mut entries, &mine);
    let errors = schemas.validate(req.resource.plural, &result);
    if !errors.is_empty() {
        return Err(status::invalid(
            req.resource.kind,
            req.resource.group,
            req.name,
            &errors,
        ));
    }
    Ok(store_result(store, key, live, result, req.dry_run))
}

/// A value of the wrong type in the applied configuration: the real server
/// cannot build its typed patch (structured-merge-diff) and answers 500,
/// before conflicts and validation: `failed to create typed patch object
/// (NS/NAME; GROUP/VERSION, Kind=KIND): .FIELD: expected TYPE, got &{VALUE}`.
fn typed_patch(schemas: &Schemas, req: &Apply<'_>) -> Result<(), Failure> {
    let errors = schemas.validate(req.resource.plural, &req.body);
    let Some(wrong) = errors.iter().find(|e| e.reason == "FieldValueTypeInvalid") else {
        return Ok(());
    };
    let expected = wrong
        .detail
        .split("must be of type ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default();
    let pointer = format!("/{}", wrong.field.replace(['.', '['], "/").replace(']', ""));
    let value = match req.body.pointer(&pointer) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let message = format!(
        "failed to create typed patch object ({}/{}; {}, Kind={}): .{}: expected {expected}, got &{{{value}}}",
        req.namespace,
        req.name,
        req.resource.group_version(),
        req.resource.kind,
        wrong.field
    );
    Err(status::failure(500, "", &message, None))
}

/// The merged object with its new `managedFields`: fields this manager set
/// before and no longer sets (and nobody else owns) are removed.
fn merge(base: &Value, req: &Apply<'_>, entries: &mut Vec<Entry>, mine: &Set) -> Value {
    let me = req.manager;
    let before = entries
        .iter()
        .find(|e| e.is_apply_of(me))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut result = base.clone();
    for dropped in before.difference(mine) {
        let shared = entries
            .iter()
            .filter(|e| !e.is_apply_of(me))
            .any(|e| e.set.iter().any(|o| fields::overlaps(o, dropped)));
        if !shared {
            fields::remove(&mut result, dropped);
        }
    }
    for path in mine {
        let value = fields::get(&req.body, path).cloned().unwrap_or(Value::Null);
        fields::set(&mut result, path, value);
    }
    result["apiVersion"] = json!(req.resource.group_version());
    result["kind"] = json!(req.resource.kind);
    result["metadata"]["name"] = json!(req.name);
    if req.resource.namespaced {
        result["metadata"]["namespace"] = json!(req.namespace);
    }
    match entries.iter_mut().find(|e| e.is_apply_of(me)) {
        Some(entry) if entry.set == *mine => {}
        Some(entry) => {
            entry.set = mine.clone();
            entry.time = now();
        }
        None => entries.push(Entry {
            manager: req.manager.to_string(),
            operation: "Apply".to_string(),
            api_version: req.resource.group_version(),
            time: now(),
            set: mine.clone(),
        }),
    }
    entries.retain(|e| !e.set.is_empty());
    result["metadata"]["managedFields"] =
        Value::Array(entries.iter().map(Entry::to_json).collect());
    result
}

/// Everything but metadata and status: what bumps `generation`.
fn spec_of(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    copy
}

fn store_result(
    store: &mut Store,
    key: store::Key,
    live: Option<Value>,
    mut result: Value,
    dry_run: bool,
) -> (u16, Value) {
    let Some(live) = live else {
        if dry_run {
            // A dry-run create: what the server would store, minus a revision.
            result["metadata"]["uid"] = json!(store.next_uid());
            result["metadata"]["creationTimestamp"] = json!(store::CREATED);
            return (201, result);
        }
        store.stamp_new(&mut result);
        store.put(key, result.clone());
        return (201, result);
    };
    if result == live || dry_run {
        return (200, result);
    }
    if spec_of(&result) != spec_of(&live) {
        let generation = live["metadata"]["generation"].as_i64().unwrap_or(0);
        result["metadata"]["generation"] = json!(generation + 1);
    }
    result["metadata"]["resourceVersion"] = json!(store.next_revision());
    store.put(key, result.clone());
    (200, result)
}
