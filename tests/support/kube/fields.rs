//! Field sets of server-side apply: the leaf paths an object sets, their
//! `fieldsV1` form (`{"f:spec":{"f:endpoints":{}}}`) and back.
//!
//! Simplification, documented: every list is atomic (owned whole, as CRD
//! lists without `x-kubernetes-list-type: map` are), and an empty map is a
//! leaf. `k:`/`v:`/`i:` keys in a fixture's `fieldsV1` make their list owned
//! whole.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A field path, one map key per element.
pub type Path = Vec<String>;

/// A set of field paths.
pub type Set = BTreeSet<Path>;

/// Fields a server-side apply never records as owned.
fn ignored(path: &[String]) -> bool {
    matches!(
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["apiVersion"]
            | ["kind"]
            | ["status", ..]
            | [
                "metadata",
                "name"
                    | "namespace"
                    | "resourceVersion"
                    | "uid"
                    | "creationTimestamp"
                    | "generation"
                    | "managedFields",
                ..
            ]
    )
}

/// The leaf paths `object` sets.
pub fn leaves(object: &Value) -> Set {
    let mut out = Set::new();
    walk(object, &mut Vec::new(), &mut out);
    out
}

fn walk(value: &Value, path: &mut Path, out: &mut Set) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(key.clone());
                if !ignored(path) {
                    walk(child, path, out);
                }
                path.pop();
            }
        }
        _ if !path.is_empty() => {
            out.insert(path.clone());
        }
        _ => {}
    }
}

/// How conflict messages print a path: `.spec.endpoints`.
pub fn display(path: &[String]) -> String {
    path.iter().map(|p| format!(".{p}")).collect()
}

/// The `fieldsV1` object of a set.
pub fn to_fields_v1(set: &Set) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for key in path {
            node = node
                .entry(format!("f:{key}"))
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("fieldsV1 nodes are objects");
        }
    }
    Value::Object(root)
}

/// The leaf paths of a `fieldsV1` object.
pub fn from_fields_v1(fields: &Value) -> Set {
    let mut out = Set::new();
    read_v1(fields, &mut Vec::new(), &mut out);
    out
}

fn read_v1(node: &Value, path: &mut Path, out: &mut Set) {
    let children: Vec<(&String, &Value)> = node
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| k.as_str() != ".").collect())
        .unwrap_or_default();
    let keyed = children.iter().any(|(k, _)| !k.starts_with("f:"));
    if children.is_empty() || keyed {
        if !path.is_empty() {
            out.insert(path.clone());
        }
        return;
    }
    for (key, child) in children {
        path.push(key["f:".len()..].to_string());
        read_v1(child, path, out);
        path.pop();
    }
}

/// The value at `path`, if present.
pub fn get<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, key| value.get(key))
}

/// Whether one path is the other or lies under it.
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Removes the value at `path`, and maps left empty on the way up.
pub fn remove(object: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let Some(parent) = parents
        .iter()
        .try_fold(&mut *object, |value, key| value.get_mut(key))
    else {
        return;
    };
    if let Some(map) = parent.as_object_mut() {
        map.remove(last);
        if map.is_empty() && !parents.is_empty() {
            remove(object, parents);
        }
    }
}

/// Sets the value at `path`, creating maps on the way.
pub fn set(object: &mut Value, path: &[String], value: Value) {
    let mut node = object;
    for key in path {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .expect("just made an object")
            .entry(key.clone())
            .or_insert(Value::Null);
    }
    *node = value;
}
