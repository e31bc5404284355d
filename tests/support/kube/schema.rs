//! CRD schema validation of `monitoring.coreos.com` objects, as the API
//! server does before storing them: the `openAPIV3Schema` of the CRDs in
//! `../shared/reference/crds/`, errors worded as apiextensions words them
//! (`spec.x: Invalid value: "integer": spec.x in body must be of type
//! string: "integer"`). Prometheus objects have no CRD file there and are
//! not validated. Unknown fields are not rejected (the server prunes them).

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::status::FieldError;

/// Compiled validators by resource plural.
pub struct Schemas(HashMap<&'static str, jsonschema::Validator>);

impl Schemas {
    /// Compiles the Operator CRDs onramp applies.
    pub fn load() -> Self {
        let files = [
            (
                "servicemonitors",
                "monitoring.coreos.com_servicemonitors.yaml",
            ),
            ("podmonitors", "monitoring.coreos.com_podmonitors.yaml"),
            (
                "prometheusrules",
                "monitoring.coreos.com_prometheusrules.yaml",
            ),
        ];
        Schemas(
            files
                .into_iter()
                .map(|(plural, file)| {
                    let schema = crate::support::crd::schema(file);
                    let validator = jsonschema::validator_for(&schema)
                        .unwrap_or_else(|e| panic!("the schema of {file} compiles: {e}"));
                    (plural, validator)
                })
                .collect(),
        )
    }

    /// The field errors of `object`, empty when it is valid or has no schema.
    pub fn validate(&self, plural: &str, object: &Value) -> Vec<FieldError> {
        let Some(validator) = self.0.get(plural) else {
            return Vec::new();
        };
        validator
            .iter_errors(object)
            .map(|e| field_error(&e))
            .collect()
    }
}

/// `/spec/endpoints/0/port` → `spec.endpoints[0].port`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn field_error(error: &jsonschema::ValidationError<'_>) -> FieldError {
    let field = field_path(error.instance_path().as_str());
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => FieldError {
            reason: "FieldValueRequired",
            field: match property.as_str() {
                Some(p) if field.is_empty() => p.to_string(),
                Some(p) => format!("{field}.{p}"),
                None => field,
            },
            detail: "Required value".to_string(),
        },
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(_) => "string".to_string(),
            };
            let found = type_name(instance);
            FieldError {
                reason: "FieldValueTypeInvalid",
                detail: format!(
                    "Invalid value: \"{found}\": {field} in body must be of type {expected}: \"{found}\""
                ),
                field,
            }
        }
        ValidationErrorKind::Enum { options } => {
            let supported: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(Value::to_string).collect())
                .unwrap_or_default();
            FieldError {
                reason: "FieldValueNotSupported",
                detail: format!(
                    "Unsupported value: {instance}: supported values: {}",
                    supported.join(", ")
                ),
                field,
            }
        }
        _ => FieldError {
            reason: "FieldValueInvalid",
            detail: format!("Invalid value: {instance}: {error}"),
            field,
        },
    }
}
