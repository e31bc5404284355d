//! A structural validator for the Prometheus Operator CRD schemas in
//! `../shared/reference/crds/`: types, known fields, required fields, enums and
//! int-or-string — what the API server checks before the Operator sees an object.

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

/// Validates `value` against `schema`; returns every violation with its path.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, value, "", &mut errors);
    errors
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!(
                "{path}: expected an integer or a string, found {value}"
            ));
        }
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    match schema["type"].as_str() {
        Some("object") => {
            let Some(object) = value.as_object() else {
                errors.push(format!("{path}: expected an object, found {value}"));
                return;
            };
            if let Some(required) = schema["required"].as_array() {
                for field in required.iter().filter_map(Value::as_str) {
                    if !object.contains_key(field) {
                        errors.push(format!("{path}: missing required field {field}"));
                    }
                }
            }
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true);
            for (key, child) in object {
                let child_path = format!("{path}.{key}");
                if let Some(child_schema) = schema["properties"].get(key) {
                    check(child_schema, child, &child_path, errors);
                } else if schema["additionalProperties"].is_object() {
                    check(&schema["additionalProperties"], child, &child_path, errors);
                } else if !preserve && schema["properties"].is_object() {
                    errors.push(format!("{child_path}: unknown field"));
                }
            }
        }
        Some("array") => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(&schema["items"], item, &format!("{path}[{i}]"), errors);
                }
            }
            None => errors.push(format!("{path}: expected an array, found {value}")),
        },
        Some("string") if !value.is_string() => {
            errors.push(format!("{path}: expected a string, found {value}"));
        }
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            errors.push(format!("{path}: expected an integer, found {value}"));
        }
        Some("boolean") if !value.is_boolean() => {
            errors.push(format!("{path}: expected a boolean, found {value}"));
        }
        _ => {}
    }
}
