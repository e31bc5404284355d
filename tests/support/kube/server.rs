//! The HTTP surface: authentication, RBAC, routing of resource paths to
//! get/list/create/apply/delete, `pods/log` and the service proxy.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::apply::{self, Apply};
use super::resources::{self, Resource};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, Failure};
use super::store::{self, ListQuery};
use super::{Inner, Rule, discovery};

/// What the server shares between requests.
pub type Shared = Arc<Inner>;

/// A resource request, parsed from its path.
#[derive(Debug)]
pub struct Target {
    /// The resource.
    pub resource: &'static Resource,
    /// Namespace (empty: cluster-scoped or all namespaces).
    pub namespace: String,
    /// Object name (empty: the collection).
    pub name: String,
    /// Subresource (`log`, `proxy`), empty for the object itself.
    pub sub: String,
    /// For the proxy: the path after `proxy`.
    pub rest: String,
}

fn json_answer(code: u16, value: &Value) -> Response {
    let code = axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::OK);
    (
        code,
        [("content-type", "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Every request lands here: log it, authenticate, then route.
pub async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = query.unwrap_or_default();
    shared
        .lock()
        .requests
        .push((method.to_string(), path.clone(), query.clone()));
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(shared.token.as_str()) {
        return status::unauthorized().into_response();
    }
    let params: Vec<(String, String)> = url_params(&query);
    match route(&shared, &method, &path, &params, &headers, body).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

/// Decoded query pairs.
pub fn url_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let operator = shared.lock().operator_installed();
    // The API server decodes each path segment (`checkout%2D7c9d` is
    // `checkout-7c9d`), after splitting, so `%2F` never makes a new segment.
    let decoded: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] => return Ok(json_answer(200, &discovery::version())),
        ["api"] => {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            return Ok(json_answer(200, &discovery::core_versions(host)));
        }
        ["apis"] => return Ok(json_answer(200, &discovery::groups(operator))),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Ok(status::page_not_found()),
    };
    let Some(served) = discovery::resources(group, version, operator) else {
        // No handler claims the path: Go's `http.NotFound`, no Status.
        return Ok(status::page_not_found());
    };
    if rest.is_empty() {
        return Ok(json_answer(200, &served));
    }
    let target = parse_target(group, version, rest, operator).ok_or_else(status::no_such_path)?;
    let verb = verb(method, &target, params);
    authorize(shared, &target, &verb)?;
    if let Some(fault) = shared.lock().faults.get(path) {
        return Ok(fault.response());
    }
    match (target.sub.as_str(), verb.as_str()) {
        ("log", "get") => logs(shared, &target, params),
        ("proxy", _) => proxy(shared, &target, method, params, body).await,
        ("", "get") => get(shared, &target),
        ("", "list") => list(shared, &target, params),
        ("", "create") => create(shared, &target, params, headers, &body),
        ("", "patch") => patch(shared, &target, params, headers, &body),
        ("", "delete" | "deletecollection") => delete(shared, &target, params, &body),
        (_, verb) => Err(status::method_not_allowed(verb, target.resource)),
    }
}

/// `[namespaces/NS/]RESOURCE[/NAME[/SUB[/REST…]]]`.
fn parse_target(group: &str, version: &str, rest: &[&str], operator: bool) -> Option<Target> {
    let (namespace, rest) = match rest {
        ["namespaces", ns, resource, tail @ ..]
            if resources::find(group, version, resource).is_some_and(|r| r.namespaced) =>
        {
            (ns.to_string(), [&[*resource][..], tail].concat())
        }
        _ => (String::new(), rest.to_vec()),
    };
    let resource = resources::find(group, version, rest.first()?)?;
    if resource.is_operator() && !operator {
        return None;
    }
    Some(Target {
        resource,
        namespace,
        name: rest.get(1).map(|s| s.to_string()).unwrap_or_default(),
        sub: rest.get(2).map(|s| s.to_string()).unwrap_or_default(),
        rest: rest.get(3..).map(|r| r.join("/")).unwrap_or_default(),
    })
}

/// The RBAC verb of a request.
fn verb(method: &Method, target: &Target, params: &[(String, String)]) -> String {
    let collection = target.name.is_empty();
    let verb = match *method {
        Method::GET
            if collection && param(params, "watch").is_some_and(|w| w == "true" || w == "1") =>
        {
            "watch"
        }
        Method::GET if collection => "list",
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if collection => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    };
    verb.to_string()
}

/// The optional RBAC rules: with none set, everything is allowed.
fn authorize(shared: &Shared, target: &Target, verb: &str) -> Result<(), Failure> {
    authorize_in(&shared.lock(), target, verb)
}

/// [`authorize`] with the state already locked.
fn authorize_in(state: &super::StandinState, target: &Target, verb: &str) -> Result<(), Failure> {
    let Some(rules) = &state.rbac else {
        return Ok(());
    };
    let full = if target.sub.is_empty() {
        target.resource.plural.to_string()
    } else {
        format!("{}/{}", target.resource.plural, target.sub)
    };
    if rules
        .iter()
        .any(|rule: &Rule| rule.allows(verb, target.resource.group, &full, &target.namespace))
    {
        return Ok(());
    }
    Err(status::forbidden(
        target.resource,
        &target.sub,
        &target.name,
        &target.namespace,
        verb,
        super::USER,
    ))
}

fn get(shared: &Shared, target: &Target) -> Result<Response, Failure> {
    let state = shared.lock();
    let key = store::key(target.resource, &target.namespace, &target.name);
    state
        .store
        .get(&key)
        .map(|o| json_answer(200, o))
        .ok_or_else(|| status::not_found(target.resource, &target.name))
}

fn list(
    shared: &Shared,
    target: &Target,
    params: &[(String, String)],
) -> Result<Response, Failure> {
    let labels = LabelSelector::parse(param(params, "labelSelector").unwrap_or_default())
        .map_err(|e| status::bad_request(&e))?;
    let fields = FieldSelector::parse(
        param(params, "fieldSelector").unwrap_or_default(),
        target.resource,
    )
    .map_err(|e| status::bad_request(&e))?;
    let limit = match param(params, "limit") {
        Some(l) => l
            .parse()
            .map_err(|_| status::bad_request(&format!("invalid limit: {l}")))?,
        None => 0,
    };
    let query = ListQuery {
        labels,
        fields,
        limit,
        continue_token: param(params, "continue")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    };
    let state = shared.lock();
    state
        .store
        .list(target.resource, &target.namespace, &query)
        .map(|l| json_answer(200, &l))
}

/// A request body: JSON, or YAML (apply patches may be either).
fn parse_body(body: &[u8]) -> Result<Value, Failure> {
    let text =
        std::str::from_utf8(body).map_err(|_| status::bad_request("the body is not UTF-8"))?;
    serde_json::from_str(text)
        .or_else(|_| serde_saphyr::from_str(text))
        .map_err(|e| status::bad_request(&format!("error decoding YAML: {e}")))
}

/// The field manager of a non-apply write: `fieldManager`, else the
/// User-Agent's program name, as the server defaults it.
fn update_manager(params: &[(String, String)], headers: &HeaderMap) -> String {
    param(params, "fieldManager")
        .map(str::to_string)
        .unwrap_or_else(|| {
            headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .and_then(|ua| ua.split('/').next())
                .unwrap_or("unknown")
                .to_string()
        })
}

fn require_namespace(state: &super::StandinState, target: &Target) -> Result<(), Failure> {
    if !target.resource.namespaced {
        return Ok(());
    }
    let namespaces = resources::find("", "v1", "namespaces").expect("namespaces are served");
    match state
        .store
        .get(&store::key(namespaces, "", &target.namespace))
    {
        Some(_) => Ok(()),
        None => Err(status::not_found(namespaces, &target.namespace)),
    }
}

fn create(
    shared: &Shared,
    target: &Target,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let mut object = parse_body(body)?;
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        let error = status::FieldError {
            reason: "FieldValueRequired",
            field: "metadata.name".into(),
            detail: "Required value: name or generateName is required".into(),
        };
        return Err(status::invalid(
            target.resource.kind,
            target.resource.group,
            "",
            &[error],
        ));
    }
    let mut state = shared.lock();
    require_namespace(&state, target)?;
    let key = store::key(target.resource, &target.namespace, &name);
    if state.store.get(&key).is_some() {
        return Err(status::already_exists(target.resource, &name));
    }
    if target.resource.namespaced {
        object["metadata"]["namespace"] = json!(target.namespace);
    }
    let errors = shared.schemas.validate(target.resource.plural, &object);
    if !errors.is_empty() {
        return Err(status::invalid(
            target.resource.kind,
            target.resource.group,
            &name,
            &errors,
        ));
    }
    let set = super::fields::leaves(&object);
    object["metadata"]["managedFields"] = json!([{
        "manager": update_manager(params, headers),
        "operation": "Update",
        "apiVersion": target.resource.group_version(),
        "time": store::CREATED,
        "fieldsType": "FieldsV1",
        "fieldsV1": super::fields::to_fields_v1(&set),
    }]);
    if param(params, "dryRun") != Some("All") {
        state.store.stamp_new(&mut object);
        state.store.put(key, object.clone());
    }
    Ok(json_answer(201, &object))
}

fn patch(
    shared: &Shared,
    target: &Target,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/apply-patch") {
        return Err(status::failure(
            415,
            "UnsupportedMediaType",
            &format!(
                "the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (the stand-in serves server-side apply only; got {content_type:?})"
            ),
            None,
        ));
    }
    let dry_run = match param(params, "dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(patch_options_invalid(
                "dryRun",
                &format!("Unsupported value: \"{other}\": supported values: \"All\""),
                "FieldValueNotSupported",
            ));
        }
    };
    let manager = param(params, "fieldManager").unwrap_or_default();
    if manager.is_empty() {
        return Err(patch_options_invalid(
            "fieldManager",
            "Required value: is required for apply patch",
            "FieldValueRequired",
        ));
    }
    let body = parse_body(body)?;
    let mut state = shared.lock();
    require_namespace(&state, target)?;
    // An apply that creates is authorized as `create` too, as the real
    // server does (api-concepts: "Patch and apply"): `patch` alone cannot
    // bring an object into existence.
    let key = store::key(target.resource, &target.namespace, &target.name);
    if state.store.get(&key).is_none() {
        authorize_in(&state, target, "create")?;
    }
    let request = Apply {
        resource: target.resource,
        namespace: &target.namespace,
        name: &target.name,
        manager,
        force: param(params, "force") == Some("true"),
        dry_run,
        body,
    };
    let (code, object) = apply::apply(&mut state.store, &shared.schemas, request)?;
    Ok(json_answer(code, &object))
}

/// The real server validates `PatchOptions` first and answers 422
/// `PatchOptions.meta.k8s.io "" is invalid: …` (`ValidatePatchOptions`).
fn patch_options_invalid(field: &str, detail: &str, reason: &'static str) -> Failure {
    let error = status::FieldError {
        reason,
        field: field.to_string(),
        detail: detail.to_string(),
    };
    status::invalid("PatchOptions", "meta.k8s.io", "", &[error])
}

/// Whether a DELETE asks for the server's dry run. As the real server
/// (`handlers/delete.go`) does: a body is the DeleteOptions, and then the
/// query is not read at all; without a body, the query's `dryRun`.
fn delete_dry_run(params: &[(String, String)], body: &[u8]) -> Result<bool, Failure> {
    if body.is_empty() {
        return Ok(param(params, "dryRun") == Some("All"));
    }
    let options: Value = serde_json::from_slice(body)
        .map_err(|e| status::bad_request(&format!("the DeleteOptions body is not JSON: {e}")))?;
    Ok(options["dryRun"]
        .as_array()
        .is_some_and(|d| d.iter().any(|v| v == "All")))
}

fn delete(
    shared: &Shared,
    target: &Target,
    params: &[(String, String)],
    body: &[u8],
) -> Result<Response, Failure> {
    let dry_run = delete_dry_run(params, body)?;
    let mut state = shared.lock();
    if !target.name.is_empty() {
        let key = store::key(target.resource, &target.namespace, &target.name);
        // A dry run: answered as if deleted, kept, as the real server does.
        let found = if dry_run {
            state.store.get(&key).cloned()
        } else {
            state.store.remove(&key)
        };
        return found
            .map(|o| json_answer(200, &o))
            .ok_or_else(|| status::not_found(target.resource, &target.name));
    }
    let listed = list_all(&state, target, params)?;
    for item in listed["items"].as_array().into_iter().flatten() {
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default();
        state
            .store
            .remove(&store::key(target.resource, namespace, name));
    }
    Ok(json_answer(200, &listed))
}

fn list_all(
    state: &super::StandinState,
    target: &Target,
    params: &[(String, String)],
) -> Result<Value, Failure> {
    let query = ListQuery {
        labels: LabelSelector::parse(param(params, "labelSelector").unwrap_or_default())
            .map_err(|e| status::bad_request(&e))?,
        fields: FieldSelector::parse(
            param(params, "fieldSelector").unwrap_or_default(),
            target.resource,
        )
        .map_err(|e| status::bad_request(&e))?,
        ..ListQuery::default()
    };
    state.store.list(target.resource, &target.namespace, &query)
}

/// `pods/log`: the fixture's log of a container, or of its previous
/// instance, with `tailLines`.
fn logs(
    shared: &Shared,
    target: &Target,
    params: &[(String, String)],
) -> Result<Response, Failure> {
    let state = shared.lock();
    let pod = state
        .store
        .get(&store::key(
            target.resource,
            &target.namespace,
            &target.name,
        ))
        .ok_or_else(|| status::not_found(target.resource, &target.name))?;
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let container = match param(params, "container") {
        Some(c) if containers.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(status::bad_request(&format!(
                "container {c} is not valid for pod {}",
                target.name
            )));
        }
        None if containers.len() == 1 => containers[0].to_string(),
        None => {
            return Err(status::bad_request(&format!(
                "a container name must be specified for pod {}, choose one of: [{}]",
                target.name,
                containers.join(" ")
            )));
        }
    };
    let previous = param(params, "previous") == Some("true");
    let key = (
        target.namespace.clone(),
        target.name.clone(),
        container.clone(),
        previous,
    );
    let Some(text) = state.logs.get(&key) else {
        let message = if previous {
            format!(
                "previous terminated container \"{container}\" in pod \"{}\" not found",
                target.name
            )
        } else {
            format!(
                "container \"{container}\" in pod \"{}\" is waiting to start: ContainerCreating",
                target.name
            )
        };
        return Err(status::bad_request(&message));
    };
    let text = match param(params, "tailLines").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => {
            let lines: Vec<&str> = text.lines().collect();
            let mut tail = lines[lines.len().saturating_sub(n)..].join("\n");
            tail.push('\n');
            tail
        }
        None => text.clone(),
    };
    Ok(([("content-type", "text/plain")], text).into_response())
}

/// The service proxy: forwards to the loopback address a test registered
/// for `NAME:PORT` (or `NAME`, `http:NAME:PORT`).
async fn proxy(
    shared: &Shared,
    target: &Target,
    method: &Method,
    params: &[(String, String)],
    body: Bytes,
) -> Result<Response, Failure> {
    let parts: Vec<&str> = target.name.split(':').collect();
    let (service, port) = match parts.as_slice() {
        [name] => (*name, ""),
        [name, port] if *name != "http" && *name != "https" => (*name, *port),
        [_, name] => (*name, ""),
        [_, name, port, ..] => (*name, *port),
        [] => ("", ""),
    };
    let services = target.resource;
    let address = {
        let state = shared.lock();
        if state
            .store
            .get(&store::key(services, &target.namespace, service))
            .is_none()
        {
            return Err(status::not_found(services, service));
        }
        let key = (
            target.namespace.clone(),
            service.to_string(),
            port.to_string(),
        );
        if let Some(fault) = state.proxy_faults.get(&key) {
            return Ok(fault.response());
        }
        state
            .proxies
            .get(&(
                target.namespace.clone(),
                service.to_string(),
                port.to_string(),
            ))
            .copied()
    };
    let Some(address) = address else {
        return Err(no_endpoint(shared, target, service));
    };
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    super::proxy::forward(address, method.as_str(), &target.rest, &query, &body)
        .await
        .map_err(|e| {
            status::failure(
                503,
                "ServiceUnavailable",
                &format!("error trying to reach service: {e}"),
                None,
            )
        })
}

/// What the real server answers when the proxy has nowhere to go
/// (`pkg/registry/core/service/storage` `ResourceLocation`): 404 when the
/// Service has no Endpoints object (no endpoints controller made one); 503
/// naming the service when its Endpoints hold no subset; otherwise 503
/// naming the service and port (no address of a pod it could reach).
fn no_endpoint(shared: &Shared, target: &Target, service: &str) -> Failure {
    let endpoints = resources::find("", "v1", "endpoints").expect("endpoints are served");
    let state = shared.lock();
    let Some(found) = state
        .store
        .get(&store::key(endpoints, &target.namespace, service))
    else {
        return status::not_found(target.resource, service);
    };
    let name = if found["subsets"].as_array().is_none_or(Vec::is_empty) {
        service
    } else {
        target.name.as_str()
    };
    status::failure(
        503,
        "ServiceUnavailable",
        &format!("no endpoints available for service \"{name}\""),
        None,
    )
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Inner {
    /// Locks the state (a panicking test cannot poison it for others).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, super::StandinState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
