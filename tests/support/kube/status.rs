//! The `Status` objects the kube-apiserver answers errors with, worded as
//! the real server words them (`k8s.io/apimachinery/pkg/api/errors`, the
//! apply conflict of `apiserver/pkg/endpoints/handlers/fieldmanager`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::Resource;

/// An error answer: HTTP status plus the `Status` body.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The HTTP status code (also `code` in the body).
    pub code: u16,
    /// The whole `Status` object.
    pub body: Value,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            [("content-type", "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

/// A `Status` with `reason`, `message` and optional `details`.
pub fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Failure {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    Failure { code, body }
}

/// `details` naming an object: name, group (omitted for the core group), kind.
fn details(resource: &Resource, name: &str) -> Value {
    let mut details = json!({ "kind": resource.plural });
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    if !resource.group.is_empty() {
        details["group"] = json!(resource.group);
    }
    details
}

/// 401: no or a wrong bearer token.
pub fn unauthorized() -> Failure {
    failure(401, "Unauthorized", "Unauthorized", None)
}

/// 403 as the RBAC authorizer words it, for a named object, a collection
/// (`name` empty), a namespace or the cluster scope (`namespace` empty).
pub fn forbidden(
    resource: &Resource,
    subresource: &str,
    name: &str,
    namespace: &str,
    verb: &str,
    user: &str,
) -> Failure {
    let object = if name.is_empty() {
        resource.qualified()
    } else {
        format!("{} \"{name}\"", resource.qualified())
    };
    let full = if subresource.is_empty() {
        resource.plural.to_string()
    } else {
        format!("{}/{subresource}", resource.plural)
    };
    let scope = if namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{namespace}\"")
    };
    let message = format!(
        "{object} is forbidden: User \"{user}\" cannot {verb} resource \"{full}\" in API group \"{}\" {scope}",
        resource.group
    );
    failure(403, "Forbidden", &message, Some(details(resource, name)))
}

/// 404 for an object that does not exist.
pub fn not_found(resource: &Resource, name: &str) -> Failure {
    let message = format!("{} \"{name}\" not found", resource.qualified());
    failure(404, "NotFound", &message, Some(details(resource, name)))
}

/// 404 for a resource a served group/version does not have: go-restful's
/// service error, as `NewGenericServerResponse` words it (empty details).
pub fn no_such_path() -> Failure {
    failure(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

/// 404 for a path no handler claims (a group/version not served): Go's
/// `http.NotFound`, plain text, not a Status.
pub fn page_not_found() -> Response {
    super::Fault::not_served().response()
}

/// 409 AlreadyExists for a create of an existing object.
pub fn already_exists(resource: &Resource, name: &str) -> Failure {
    let message = format!("{} \"{name}\" already exists", resource.qualified());
    failure(
        409,
        "AlreadyExists",
        &message,
        Some(details(resource, name)),
    )
}

/// 400 BadRequest with a message.
pub fn bad_request(message: &str) -> Failure {
    failure(400, "BadRequest", message, None)
}

/// 405 for a verb the resource does not support.
pub fn method_not_allowed(verb: &str, resource: &Resource) -> Failure {
    failure(
        405,
        "MethodNotAllowed",
        &format!(
            "{verb} is not supported on resources of kind \"{}\"",
            resource.plural
        ),
        Some(json!({})),
    )
}

/// One field error of a 422 Invalid (`field.Error` of apimachinery).
#[derive(Debug, Clone)]
pub struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`…
    pub reason: &'static str,
    /// The field path (`spec.endpoints[0].interval`).
    pub field: String,
    /// The message after the field (`Required value`, `Invalid value: …`).
    pub detail: String,
}

/// 422 Invalid: `Kind.group "name" is invalid: field: detail`, several
/// errors in brackets, each one a cause.
pub fn invalid(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> Failure {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let each: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.detail))
        .collect();
    let list = if each.len() == 1 {
        each[0].clone()
    } else {
        format!("[{}]", each.join(", "))
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|e| json!({"reason": e.reason, "message": e.detail, "field": e.field}))
        .collect();
    let mut details = json!({"kind": kind, "causes": causes});
    // `name` is omitempty in StatusDetails: PatchOptions errors have none.
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    failure(
        422,
        "Invalid",
        &format!("{qualified} \"{name}\" is invalid: {list}"),
        Some(details),
    )
}

/// 409 for a server-side apply that would change fields another manager
/// owns. `conflicts` holds (manager as printed, field path); the message
/// groups the paths by manager, sorted, as `getConflictMessage` does.
pub fn apply_conflict(conflicts: &[(String, String)]) -> Failure {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(manager, path)| {
            json!({"reason": "FieldManagerConflict", "message": format!("conflict with {manager}"), "field": path})
        })
        .collect();
    let message = if let [(manager, path)] = conflicts {
        format!("Apply failed with 1 conflict: conflict with {manager}: {path}")
    } else {
        let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for manager in managers {
            lines.push(format!("conflicts with {manager}:"));
            for (_, path) in conflicts.iter().filter(|(m, _)| m == manager) {
                lines.push(format!("- {path}"));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    failure(409, "Conflict", &message, Some(json!({ "causes": causes })))
}
