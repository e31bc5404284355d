//! The Kubernetes client: finds the cluster (`--kubeconfig FILE`,
//! `KUBECONFIG`, `~/.kube/config`, `--context NAME`, in-cluster when run as a
//! pod), and reads objects with the `kube` crate's transport. Every request
//! is sent with an entry of the one permission registry ([`access`]), so a
//! 403 names the verb, the resource and the namespace refused, and `onramp
//! rbac` prints rules built from the same entries. Reads are typed: `get`
//! and `list` return the `k8s-openapi` type their entry's group, version and
//! plural were taken from (a mismatch is caught in debug builds). Requests
//! follow the one transport policy (`client::retry`: retries, replays, one
//! log line per attempt at `-v`), through [`transport`]; the kubeconfig's
//! token is registered with
//! `client::secret` the moment it is read, so no output can show it.
//!
//! Knows the API server's protocol (paths, pagination, Status bodies) and
//! nothing of apps, plans or what onramp looks for in a cluster.

pub mod access;
mod config;
mod error;
mod proxy;
mod transport;

use k8s_openapi::Resource;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub use access::{Access, Scope};
pub use config::ClusterRef;
pub use error::{Error, Result};
pub use proxy::{ProxyAnswer, ServiceProxy};

/// A page of a list answer: the items and where the next page starts.
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    metadata: ListMeta,
}

/// How many objects one list request asks for; the rest come by `continue`.
const PAGE_SIZE: usize = 250;

/// A connected client for one cluster.
#[derive(Clone)]
pub struct KubeClient {
    /// The connection, its own retries off: [`transport`] retries.
    client: kube::Client,
    retry: crate::client::retry::RetryPolicy,
    server: String,
    context: String,
    grant: String,
}

impl KubeClient {
    /// Finds the cluster's configuration (see [`ClusterRef`]) and builds a
    /// client. Nothing is sent yet.
    pub async fn connect(settings: &ClusterRef) -> Result<KubeClient> {
        let found = config::load(settings).await?;
        crate::client::http::install_crypto_provider();
        let server = found.config.cluster_url.to_string();
        let server = server.trim_end_matches('/').to_string();
        let bad = |e: kube::Error| Error::BadConfig {
            origin: found.origin.clone(),
            reason: crate::client::http::innermost(&e),
        };
        let config = transport::without_kube_retries(found.config.clone());
        let client = kube::Client::try_from(config).map_err(bad)?;
        Ok(KubeClient {
            client,
            retry: transport::policy(),
            server,
            context: found.context,
            grant: settings.grant.clone(),
        })
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The namespace of the kubeconfig context (the pod's own in-cluster,
    /// `default` when neither says), for commands run without `-n`.
    pub fn default_namespace(&self) -> &str {
        self.client.default_namespace()
    }

    /// What grants the command's requests (the role `onramp rbac COMMAND`
    /// prints), for messages.
    pub fn grant(&self) -> &str {
        &self.grant
    }

    /// The kubeconfig context in use (`in-cluster` in a pod).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Every object of the kind `K` in `namespace` (or all namespaces)
    /// matching `label_selector`, page by page; `access` is its registry
    /// entry.
    pub async fn list<K: Resource + DeserializeOwned>(
        &self,
        access: Access,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<K>> {
        self.list_selected(access, namespace, label_selector, None)
            .await
    }

    /// Like [`KubeClient::list`], also filtered by `field_selector`
    /// (`involvedObject.uid=…,type=Warning`): the server does the filtering,
    /// so a namespace of thousands of events sends only the few asked for.
    pub async fn list_selected<K: Resource + DeserializeOwned>(
        &self,
        access: Access,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Vec<K>> {
        check_entry::<K>(&access, namespace);
        let selectors = Selectors {
            label: label_selector,
            field: field_selector,
        };
        self.pages(access, namespace, selectors).await
    }

    /// Every object onramp wrote of the kind `access` names (objects it
    /// built itself, read back as JSON), in `namespace`, by label.
    pub async fn list_objects(
        &self,
        access: Access,
        namespace: &str,
        label_selector: &str,
    ) -> Result<Vec<serde_json::Value>> {
        check_scope(&access, Some(namespace));
        let selectors = Selectors {
            label: Some(label_selector),
            field: None,
        };
        self.pages(access, Some(namespace), selectors).await
    }

    /// Reads a list answer page by page (`limit`, `continue`).
    async fn pages<T: DeserializeOwned>(
        &self,
        access: Access,
        namespace: Option<&str>,
        selectors: Selectors<'_>,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut query = vec![format!("limit={PAGE_SIZE}")];
            if let Some(selector) = selectors.label {
                query.push(format!("labelSelector={}", encode(selector)));
            }
            if let Some(selector) = selectors.field {
                query.push(format!("fieldSelector={}", encode(selector)));
            }
            if let Some(token) = &next {
                query.push(format!("continue={}", encode(token)));
            }
            let path = format!("{}?{}", access.path(namespace), query.join("&"));
            let page: Page<T> = decode(&path, &self.get_text(&path, access, namespace).await?)?;
            items.extend(page.items);
            next = page.metadata.continue_.filter(|c| !c.is_empty());
            if next.is_none() {
                return Ok(items);
            }
        }
    }

    /// One object of the kind `K` by name, `None` when it does not exist.
    pub async fn get<K: Resource + DeserializeOwned>(
        &self,
        access: Access,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>> {
        check_entry::<K>(&access, Some(namespace));
        self.get_in(access, Some(namespace), name).await
    }

    /// One cluster-scoped object (a Namespace) by name, `None` when it does
    /// not exist.
    pub async fn get_cluster_scoped<K: Resource + DeserializeOwned>(
        &self,
        access: Access,
        name: &str,
    ) -> Result<Option<K>> {
        check_entry::<K>(&access, None);
        self.get_in(access, None, name).await
    }

    /// One object onramp writes, of the kind `access` names, as JSON; `None`
    /// when it does not exist.
    pub async fn get_object(
        &self,
        access: Access,
        namespace: &str,
        name: &str,
    ) -> Result<Option<serde_json::Value>> {
        check_scope(&access, Some(namespace));
        self.get_in(access, Some(namespace), name).await
    }

    /// One object by name, in a namespace or cluster-scoped.
    async fn get_in<T: DeserializeOwned>(
        &self,
        access: Access,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<T>> {
        let path = format!("{}/{name}", access.path(namespace));
        match self.get_text(&path, access, namespace).await {
            Ok(text) => decode(&path, &text).map(Some),
            Err(Error::Status { code: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The last `tail_lines` lines of a container's log; `previous`: of its
    /// last terminated run (the crash), as `kubectl logs --previous` reads it.
    pub async fn log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
        tail_lines: usize,
    ) -> Result<String> {
        // Pod names are DNS subdomains: nothing in them needs escaping in a path.
        let path = format!(
            "/api/v1/namespaces/{namespace}/pods/{pod}/log?container={}&previous={previous}&tailLines={tail_lines}",
            encode(container)
        );
        self.get_text(&path, access::GET_POD_LOG, Some(namespace))
            .await
    }

    /// A discovery document (`/apis`, `/apis/GROUP`): readable by every
    /// authenticated identity (the `system:discovery` role).
    pub async fn discover<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        decode(path, &self.get_text(path, access::DISCOVERY, None).await?)
    }

    /// Sends one GET, logs it, and turns every failure into an [`Error`]
    /// naming what was refused or unreachable.
    async fn get_text(
        &self,
        path: &str,
        access: Access,
        namespace: Option<&str>,
    ) -> Result<String> {
        let request = Request {
            method: "GET",
            path,
            content_type: None,
            body: Vec::new(),
        };
        self.send(request, access, namespace).await
    }

    /// Server-side applies `object` (its `apiVersion`, `kind` and
    /// `metadata.name` name it) as field manager `manager` and returns the
    /// object as the server stored it, or would store it on a dry run.
    /// `access` is the `patch` permission; creating a new object through
    /// apply is authorized as `create` as well, which the server names when
    /// it refuses.
    pub async fn apply(
        &self,
        access: Access,
        namespace: &str,
        name: &str,
        object: &serde_json::Value,
        options: ApplyOptions<'_>,
    ) -> Result<serde_json::Value> {
        let mut query = vec![format!("fieldManager={}", encode(options.manager))];
        if options.force {
            query.push("force=true".to_string());
        }
        if options.dry_run {
            query.push("dryRun=All".to_string());
        }
        // Object names are DNS subdomains: nothing in them to encode.
        let path = format!(
            "{}/{name}?{}",
            access.path(Some(namespace)),
            query.join("&")
        );
        // JSON is YAML: the apply content type takes either, and JSON keeps
        // the body byte for byte what serde produced.
        let request = Request {
            method: "PATCH",
            path: &path,
            content_type: Some("application/apply-patch+yaml"),
            body: object.to_string().into_bytes(),
        };
        let text = self.send(request, access, Some(namespace)).await?;
        decode(&path, &text)
    }

    /// Deletes one object, only while it is still the one onramp read
    /// (`uid` precondition: a namesake created since is left alone).
    pub async fn delete(
        &self,
        access: Access,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
        dry_run: bool,
    ) -> Result<()> {
        let path = format!("{}/{name}", access.path(Some(namespace)));
        // With a body, the API server reads the DeleteOptions from it and
        // ignores the query: the dry run must be in the body.
        let mut options = serde_json::json!({"apiVersion": "v1", "kind": "DeleteOptions"});
        if dry_run {
            options["dryRun"] = serde_json::json!(["All"]);
        }
        if let Some(uid) = uid {
            options["preconditions"] = serde_json::json!({ "uid": uid });
        }
        let request = Request {
            method: "DELETE",
            path: &path,
            content_type: Some("application/json"),
            body: options.to_string().into_bytes(),
        };
        match self.send(request, access, Some(namespace)).await {
            Ok(_) | Err(Error::Status { code: 404, .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Sends one request, logs it, and turns every failure into an
    /// [`Error`] naming what was refused or unreachable.
    async fn send(
        &self,
        request: Request<'_>,
        access: Access,
        namespace: Option<&str>,
    ) -> Result<String> {
        debug_assert!(
            access::registered(&access),
            "{access:?} is in no group of the registry (client::kube::access)"
        );
        let (method, path) = (request.method, request.path);
        let answer = match self.exchange_text(&request).await {
            Ok(text) => Ok(text),
            Err(transport::RequestError::Kube(err)) => Err(err),
            Err(transport::RequestError::Build(message)) => {
                return Err(Error::Status {
                    method: method.to_string(),
                    path: path.to_string(),
                    code: 0,
                    message,
                });
            }
        };
        answer.map_err(|err| self.classify(err, method, path, access, namespace))
    }

    /// The error a failed request becomes.
    fn classify(
        &self,
        err: kube::Error,
        method: &str,
        path: &str,
        access: Access,
        namespace: Option<&str>,
    ) -> Error {
        let kube::Error::Api(status) = err else {
            return Error::Unreachable {
                server: self.server.clone(),
                context: self.context.clone(),
                reason: crate::client::http::innermost(&err),
            };
        };
        match status.code {
            401 | 403 if !refused_identity(status.code, &status.reason) => Error::Refused {
                method: method.to_string(),
                path: path.to_string(),
                code: status.code,
                message: status.message.clone(),
            },
            401 => Error::Unauthorized {
                server: self.server.clone(),
                context: self.context.clone(),
                message: status.message.clone(),
            },
            403 => self.forbidden(&status.message, path, access, namespace),
            409 if method == "PATCH" => Error::Conflict {
                path: path.split('?').next().unwrap_or(path).to_string(),
                conflicts: status
                    .details
                    .iter()
                    .flat_map(|d| d.causes.iter())
                    .map(|c| FieldConflict {
                        manager: manager_of(&c.message),
                        field: c.field.clone(),
                    })
                    .collect(),
                message: status.message.clone(),
            },
            code => Error::Status {
                method: method.to_string(),
                path: path.to_string(),
                code,
                message: status.message.clone(),
            },
        }
    }

    /// A 403, naming the verb the server refused (an apply that creates is
    /// refused as `create`), the resource and the namespace.
    fn forbidden(
        &self,
        message: &str,
        path: &str,
        access: Access,
        namespace: Option<&str>,
    ) -> Error {
        // The RBAC authorizer words it `... cannot VERB resource ...`.
        let refused = message
            .split_once("cannot ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .filter(|verb| verb.chars().all(|c| c.is_ascii_lowercase()))
            .unwrap_or(access.verb);
        Error::Forbidden {
            verb: refused.to_string(),
            resource: if access.resource.is_empty() {
                // Discovery: a non-resource URL, granted by `system:discovery`.
                format!("the discovery document {path}")
            } else {
                access.qualified()
            },
            scope: access.scope_text(namespace),
            message: message.to_string(),
            grant: self.grant.clone(),
        }
    }
}

/// Whether an error answer is the API server refusing onramp's identity:
/// only a `Status` whose reason says so, `Unauthorized` (401, its
/// authentication) or `Forbidden` (403, its authorizer). Any other 401 or
/// 403 — plain text from an egress proxy or a network policy agent, a
/// Service's own answer through the service proxy — is not about onramp's
/// credentials or RBAC, and is reported as what it says. The one place that
/// decides it, for the API server's answers and the proxy's alike.
pub fn refused_identity(code: u16, reason: &str) -> bool {
    matches!((code, reason), (401, "Unauthorized") | (403, "Forbidden"))
}

/// How an apply is sent.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions<'a> {
    /// The field manager (`onramp`).
    pub manager: &'a str,
    /// Take over fields another manager owns (`force=true`).
    pub force: bool,
    /// The server's dry run (`dryRun=All`): validated, nothing stored.
    pub dry_run: bool,
}

/// One field another manager owns, from a 409 apply conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The manager, as the server names it (`kubectl-client-side-apply`).
    pub manager: String,
    /// The field path (`.spec.endpoints`).
    pub field: String,
}

/// `conflict with "kubectl" using monitoring.coreos.com/v1` → `kubectl`.
fn manager_of(cause: &str) -> String {
    cause
        .split('"')
        .nth(1)
        .unwrap_or(cause.trim_start_matches("conflict with "))
        .to_string()
}

/// The selectors of a list request.
#[derive(Clone, Copy)]
struct Selectors<'a> {
    label: Option<&'a str>,
    field: Option<&'a str>,
}

/// A typed read must be sent with its kind's registry entry, in the
/// entry's scope: a mismatch is onramp's bug, caught by its tests.
fn check_entry<K: Resource>(access: &Access, namespace: Option<&str>) {
    debug_assert!(
        access.is_for::<K>(),
        "{access:?} is not an entry for {}/{} {}",
        K::GROUP,
        K::VERSION,
        K::URL_PATH_SEGMENT
    );
    check_scope(access, namespace);
}

/// A namespace is given exactly when the entry reaches one namespace.
fn check_scope(access: &Access, namespace: Option<&str>) {
    debug_assert_eq!(
        namespace.is_some(),
        access.scope == Scope::Namespace,
        "{access:?} sent with namespace {namespace:?}"
    );
}

/// One request to send.
struct Request<'a> {
    method: &'static str,
    path: &'a str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

/// The least-privilege ClusterRole that allows exactly `access`: one rule
/// per resource, its verbs merged.
pub fn cluster_role(name: &str, access: &[Access]) -> ClusterRole {
    ClusterRole {
        metadata: role_metadata(name, None),
        rules: Some(policy_rules(access)),
        ..ClusterRole::default()
    }
}

/// The least-privilege Role that allows exactly `access` in `namespace`.
pub fn role(name: &str, namespace: &str, access: &[Access]) -> Role {
    Role {
        metadata: role_metadata(name, Some(namespace)),
        rules: Some(policy_rules(access)),
    }
}

fn role_metadata(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_string(),
            "onramp".to_string(),
        )])),
        ..ObjectMeta::default()
    }
}

/// One rule per resource, its verbs merged and sorted.
fn policy_rules(access: &[Access]) -> Vec<PolicyRule> {
    let mut verbs: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for a in access {
        let entry = verbs.entry((a.group, a.resource)).or_default();
        if !entry.iter().any(|v| v == a.verb) {
            entry.push(a.verb.to_string());
        }
    }
    verbs
        .into_iter()
        .map(|((group, resource), mut verbs)| {
            verbs.sort();
            PolicyRule {
                api_groups: Some(vec![group.to_string()]),
                resources: Some(vec![resource.to_string()]),
                verbs,
                ..PolicyRule::default()
            }
        })
        .collect()
}

/// Decodes an answer, naming the request when it is not what was asked for.
fn decode<T: DeserializeOwned>(path: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Decode {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// Percent-encodes a query value (selectors hold `=`, `,`, `!`, spaces).
fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_cause_names_the_manager_with_or_without_its_api_version() {
        assert_eq!(
            manager_of(
                "conflict with \"kubectl-client-side-apply\" using monitoring.coreos.com/v1"
            ),
            "kubectl-client-side-apply"
        );
        assert_eq!(manager_of("conflict with \"helm\""), "helm");
    }

    #[test]
    fn only_a_status_with_the_refusing_reason_refuses_the_identity() {
        assert!(refused_identity(403, "Forbidden"));
        assert!(refused_identity(401, "Unauthorized"));
        // What the kube crate makes of a plain-text body.
        assert!(!refused_identity(403, "Failed to parse error data"));
        assert!(!refused_identity(403, ""));
        assert!(!refused_identity(404, "Forbidden"));
    }

    #[test]
    fn selectors_are_encoded_for_the_query_string() {
        assert_eq!(
            encode("app.kubernetes.io/name=grafana"),
            "app%2Ekubernetes%2Eio%2Fname%3Dgrafana"
        );
    }
}
