//! `labelSelector` and `fieldSelector` query parameters: parsed with the
//! grammar of `apimachinery/pkg/labels` and `pkg/fields`, matched against
//! stored objects. Errors carry the message the real server answers with.

use serde_json::Value;

use super::resources::Resource;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
enum Label {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Splits on commas outside parentheses (`a in (x,y),b` is two terms).
fn terms(text: &str) -> Vec<String> {
    let (mut out, mut current, mut depth) = (Vec::new(), String::new(), 0);
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The values of `(a, b)`.
fn set(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

fn parse_label(term: &str) -> Result<Label, String> {
    let bad = || {
        format!(
            "unable to parse requirement: found '{term}', expected: in, notin, =, ==, !=, gt, lt"
        )
    };
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Label::NotExists(key.trim().to_string()));
    }
    if let Some((key, value)) = term.split_once("!=") {
        return Ok(Label::NotEquals(key.trim().into(), value.trim().into()));
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(Label::Equals(key.trim().into(), value.trim().into()));
    }
    let words: Vec<&str> = term.splitn(3, ' ').collect();
    match words.as_slice() {
        [key] => Ok(Label::Exists((*key).to_string())),
        [key, "in", values] => Ok(Label::In((*key).into(), set(values).ok_or_else(bad)?)),
        [key, "notin", values] => Ok(Label::NotIn((*key).into(), set(values).ok_or_else(bad)?)),
        _ => Err(bad()),
    }
}

/// A parsed `labelSelector`.
#[derive(Debug, Clone, Default)]
pub struct LabelSelector(Vec<Label>);

impl LabelSelector {
    /// Parses the query value; the error is the real server's wording.
    pub fn parse(text: &str) -> Result<Self, String> {
        terms(text)
            .iter()
            .map(|t| parse_label(t))
            .collect::<Result<_, _>>()
            .map(LabelSelector)
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        self.0.iter().all(|req| match req {
            Label::Equals(k, v) => get(k) == Some(v.as_str()),
            Label::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Label::In(k, vs) => get(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Label::NotIn(k, vs) => get(k).is_none_or(|l| vs.iter().all(|v| v != l)),
            Label::Exists(k) => get(k).is_some(),
            Label::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed `fieldSelector`: (label, wanted value, equal or not).
#[derive(Debug, Clone, Default)]
pub struct FieldSelector(Vec<(String, String, bool)>);

impl FieldSelector {
    /// Parses the query value and checks each label against what the
    /// resource supports (`field label not supported: …`, as the server says).
    pub fn parse(text: &str, resource: &Resource) -> Result<Self, String> {
        let mut out = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (label, value, equal) = if let Some((l, v)) = term.split_once("!=") {
                (l, v, false)
            } else if let Some((l, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (l, v, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{term}'"
                ));
            };
            if !resource.supports_field(label) {
                return Err(format!("field label not supported: {label}"));
            }
            out.push((label.to_string(), value.to_string(), equal));
        }
        Ok(FieldSelector(out))
    }

    /// Whether the object's fields have the wanted values.
    pub fn matches(&self, object: &Value) -> bool {
        self.0
            .iter()
            .all(|(label, value, equal)| (field_value(object, label) == *value) == *equal)
    }
}

/// The string form of a selectable field (missing fields are `""`, as the
/// server's field sets hold them).
fn field_value(object: &Value, label: &str) -> String {
    // Events select on `source` = the reporting component.
    let path = if label == "source" {
        "source.component"
    } else {
        label
    };
    let mut value = object;
    for part in path.split('.') {
        value = &value[part];
    }
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i["ip"].as_str())
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}
