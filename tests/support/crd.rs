//! Validation against the Prometheus Operator CRD schemas in
//! `../shared/reference/crds/` with a real JSON-Schema implementation
//! (`jsonschema`): types, required fields, enums, `pattern`, min/max and
//! formats, as the API server checks them before the Operator sees an object.
//!
//! A structural CRD schema prunes unknown fields instead of refusing them; the
//! API server drops them silently, which for onramp means a setting that never
//! arrives. So the schema is made strict first: every object schema that lists
//! its properties (and does not preserve unknown fields) refuses others.

use serde_json::Value;

/// Loads the `openAPIV3Schema` of the served `v1` version of a CRD file.
pub fn schema(crd_file: &str) -> Value {
    let path = super::repo()
        .join("../shared/reference/crds")
        .join(crd_file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the CRD schemas live in ../shared/reference/crds beside the checkout; cannot read {}: {e}",
            path.display()
        )
    });
    let crd: Value = serde_saphyr::from_str(&text).expect("CRD parses");
    crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["name"] == "v1"))
        .map(|v| v["schema"]["openAPIV3Schema"].clone())
        .expect("the CRD serves v1")
}

/// Validates `value` against `schema`; returns every violation as
/// `.path.to[0].field: message`.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut strict_schema = schema.clone();
    refuse_unknown_fields(&mut strict_schema);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        // Kubernetes evaluates `pattern` with Go's RE2 syntax, which the regex crate shares.
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(&strict_schema)
        .unwrap_or_else(|e| panic!("the CRD schema compiles as JSON Schema: {e}"));
    validator
        .iter_errors(value)
        .map(|error| format!("{}: {error}", dotted(&error.instance_path().to_string())))
        .collect()
}

/// Adds `additionalProperties: false` wherever the schema lists the
/// properties of an object and neither maps nor preserves unknown fields.
fn refuse_unknown_fields(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::String(pattern)) = object.get_mut("pattern") {
        *pattern = without_inline_case_flag(pattern);
    }
    let preserve = object.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if object.contains_key("properties")
        && !object.contains_key("additionalProperties")
        && !preserve
    {
        object.insert("additionalProperties".to_string(), Value::Bool(false));
    }
    for (key, child) in object.iter_mut() {
        match key.as_str() {
            "properties" => child
                .as_object_mut()
                .into_iter()
                .flat_map(|p| p.values_mut())
                .for_each(refuse_unknown_fields),
            "items" | "additionalProperties" => refuse_unknown_fields(child),
            "anyOf" | "allOf" | "oneOf" => child
                .as_array_mut()
                .into_iter()
                .flatten()
                .for_each(refuse_unknown_fields),
            _ => {}
        }
    }
}

/// `/spec/endpoints/0/port` as `.spec.endpoints[0].port`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|part| match part.parse::<usize>() {
            Ok(index) => format!("[{index}]"),
            Err(_) => format!(".{}", part.replace("~1", "/").replace("~0", "~")),
        })
        .collect()
}

/// The meta-schema checks `pattern` as ECMA-262, which has no inline flags;
/// one CRD pattern is `^(?i)(abort|warn)?$` (RE2). Spell the case-insensitive
/// letters out (`[aA]`) so the same strings match.
fn without_inline_case_flag(pattern: &str) -> String {
    let Some((head, tail)) = pattern.split_once("(?i)") else {
        return pattern.to_string();
    };
    let mut out = head.to_string();
    let (mut in_class, mut escaped) = (false, false);
    for c in tail.chars() {
        match c {
            _ if escaped => {
                out.push(c);
                escaped = false;
            }
            '\\' => {
                out.push(c);
                escaped = true;
            }
            '[' | ']' => {
                in_class = c == '[';
                out.push(c);
            }
            c if c.is_ascii_alphabetic() && !in_class => {
                out.push_str(&format!(
                    "[{}{}]",
                    c.to_ascii_lowercase(),
                    c.to_ascii_uppercase()
                ));
            }
            c => out.push(c),
        }
    }
    out
}
