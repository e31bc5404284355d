//! Parsing Kubernetes manifests: texts (read by [`crate::app::source`]) split
//! into YAML documents that remember where they start, so every error names
//! file and line.
//!
//! This module owns the typed subset of the Kubernetes API that discovery needs
//! (workloads, Services, `List`). It does not decide which object is the app;
//! [`crate::app`] does.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::app::source::ManifestText;
use crate::error::{Error, Location, Result};

/// One YAML document of a file and the 1-based line it starts on.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The file name to show in messages.
    pub file: &'a str,
    /// The line of the file where this document's text begins.
    pub first_line: usize,
    /// The document's text.
    pub text: &'a str,
}

impl Document<'_> {
    /// The location in the file of a line/column inside this document.
    fn location(&self, line: usize, column: Option<usize>) -> Location {
        Location::at(self.file, self.first_line + line.saturating_sub(1), column)
    }

    /// True when the document holds nothing but comments and blank lines.
    fn is_blank(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "..."
        })
    }

    /// Deserialises this document, turning a parse error into a located [`Error::Manifest`].
    fn parse<'de, T: Deserialize<'de>>(&self, text: &'de str, what: &str) -> Result<T> {
        serde_saphyr::from_str(text).map_err(|err| {
            let (line, column) = err
                .location()
                .map(|l| (l.line() as usize, Some(l.column() as usize)))
                .unwrap_or((1, None));
            Error::Manifest {
                location: self.location(line, column),
                message: format!("{what}: {}", manifest_yaml_message(&err)),
            }
        })
    }
}

/// A duplicate key in a manifest almost always means two files were
/// concatenated without a separator; the YAML library's own advice (a parser
/// option) is no help to the user.
fn manifest_yaml_message(err: &serde_saphyr::Error) -> String {
    match err.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => format!(
            "the key {} appears twice in one document: two documents without a `---` separator?",
            key.as_deref()
                .map(|k| format!("`{k}`"))
                .unwrap_or_else(|| "here".to_string())
        ),
        _ => yaml_message(err),
    }
}

/// The message of a YAML error without the snippet and location decoration
/// (the caller prints the location in the `file:line:col` form).
pub fn yaml_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // serde-saphyr appends " at line N, column M"; the location is printed separately.
    match first.rfind(" at line ") {
        Some(idx) => first[..idx].to_string(),
        None => first.to_string(),
    }
}

/// Splits a multi-document YAML text on `---` separator lines.
pub fn split_documents<'a>(file: &'a str, text: &'a str) -> Vec<Document<'a>> {
    let mut docs = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t") {
            docs.push(Document {
                file,
                first_line: start_line,
                text: &text[start_byte..offset],
            });
            // Content after `--- ` on the same line belongs to the next document.
            start_byte = offset + 3;
            start_line = line_no;
        }
        offset += line.len();
    }
    docs.push(Document {
        file,
        first_line: start_line,
        text: &text[start_byte..],
    });
    docs.retain(|d| !d.is_blank());
    docs
}

/// Object metadata: the fields discovery reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Head {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    /// Exact label matches.
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    pub match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    /// The values for `In`/`NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A port given as a number or a name (`IntOrString`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PortRef {
    /// A port number.
    Number(u16),
    /// A port name.
    Name(String),
}

/// A container port.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// The port's name, if it has one.
    #[serde(default)]
    pub name: Option<String>,
    /// The port number.
    pub container_port: u16,
    /// TCP, UDP or SCTP.
    #[serde(default)]
    pub protocol: Option<String>,
}

/// A probe's HTTP GET action.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpGet {
    /// The path probed.
    #[serde(default)]
    pub path: Option<String>,
    /// The port probed.
    pub port: PortRef,
}

/// A liveness, readiness or startup probe.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Probe {
    /// HTTP GET action.
    pub http_get: Option<HttpGet>,
    /// TCP socket action.
    pub tcp_socket: Option<serde_json::Value>,
    /// gRPC action.
    pub grpc: Option<serde_json::Value>,
    /// Exec action.
    pub exec: Option<serde_json::Value>,
    /// Seconds before the first probe.
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes.
    pub period_seconds: Option<u32>,
    /// Failures before the probe counts as failed.
    pub failure_threshold: Option<u32>,
}

/// A resource quantity: Kubernetes allows `1`, `0.5`, `"500m"`, `"128Mi"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    /// A quantity written as a string.
    Text(String),
    /// A quantity written as a number.
    Number(f64),
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quantity::Text(t) => f.write_str(t),
            Quantity::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Requests and limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// Resource limits.
    pub limits: BTreeMap<String, Quantity>,
    /// Resource requests.
    pub requests: BTreeMap<String, Quantity>,
}

/// An environment variable (only the literal value is read).
#[derive(Debug, Clone, Deserialize)]
pub struct EnvVar {
    /// The variable name.
    pub name: String,
    /// Its literal value, if set inline.
    #[serde(default)]
    pub value: Option<String>,
}

/// A container of the pod template.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// The container name.
    pub name: String,
    /// The image.
    #[serde(default)]
    pub image: Option<String>,
    /// Declared ports.
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
    /// Environment variables.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// Liveness probe.
    #[serde(default)]
    pub liveness_probe: Option<Probe>,
    /// Readiness probe.
    #[serde(default)]
    pub readiness_probe: Option<Probe>,
    /// Startup probe.
    #[serde(default)]
    pub startup_probe: Option<Probe>,
    /// Requests and limits.
    #[serde(default)]
    pub resources: Resources,
}

/// The pod spec fields discovery reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PodSpec {
    /// The app containers.
    pub containers: Vec<Container>,
}

/// A pod template.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplate {
    /// Labels and annotations of the pods.
    pub metadata: ObjectMeta,
    /// The pod spec.
    pub spec: PodSpec,
}

/// The spec of a Deployment, StatefulSet or DaemonSet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkloadSpec {
    /// Desired replicas (Deployment, StatefulSet).
    pub replicas: Option<u32>,
    /// The pod selector.
    pub selector: LabelSelector,
    /// The pod template.
    pub template: PodTemplate,
}

/// A workload object.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkloadObject {
    /// Its metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Its spec.
    #[serde(default)]
    pub spec: WorkloadSpec,
}

/// A Service port.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// The port's name (required when a Service has several ports).
    #[serde(default)]
    pub name: Option<String>,
    /// The Service port number.
    pub port: u16,
    /// The pod port it forwards to; defaults to `port`.
    #[serde(default)]
    pub target_port: Option<PortRef>,
    /// TCP, UDP or SCTP.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `appProtocol`, e.g. `grpc`.
    #[serde(default)]
    pub app_protocol: Option<String>,
}

/// The spec of a Service.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// The pod selector (empty for headless Services without a selector).
    pub selector: BTreeMap<String, String>,
    /// The ports.
    pub ports: Vec<ServicePort>,
}

/// A Service object.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceObject {
    /// Its metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Its spec.
    #[serde(default)]
    pub spec: ServiceSpec,
}

/// The workload kinds onramp onboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// All kinds, in the order they are tried.
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    /// The `kind` field value.
    pub fn as_kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The lower-case resource name used by kubectl and kube-state-metrics labels.
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    /// Parses `deployment`, `deploy`, `statefulset`, `sts`, `daemonset`, `ds`.
    pub fn from_resource(name: &str) -> Option<WorkloadKind> {
        match name.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }

    fn from_kind(kind: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|k| k.as_kind() == kind)
    }
}

/// An object found in the manifests, typed as far as discovery needs.
#[derive(Debug, Clone)]
pub enum Object {
    /// A Deployment, StatefulSet or DaemonSet.
    Workload(WorkloadKind, Box<WorkloadObject>),
    /// A Service.
    Service(Box<ServiceObject>),
}

/// An object and where it was defined.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The object.
    pub value: T,
    /// Where its document starts.
    pub location: Location,
}

/// Parses every document of every text into the objects discovery reads.
/// Other kinds (ConfigMaps, Ingresses, CRDs…) are skipped; a malformed document
/// is an error naming file and line.
pub fn parse_objects(texts: &[ManifestText]) -> Result<Vec<Located<Object>>> {
    let mut objects = Vec::new();
    for text in texts {
        for doc in split_documents(&text.name, &text.text) {
            parse_document(&doc, &mut objects)?;
        }
    }
    Ok(objects)
}

fn parse_document(doc: &Document<'_>, out: &mut Vec<Located<Object>>) -> Result<()> {
    let head: Head = doc.parse(doc.text, "not a Kubernetes object")?;
    let Some(kind) = head.kind else {
        if head.api_version.is_none() {
            return Err(Error::Manifest {
                location: doc.location(1, None),
                message:
                    "this document has no `apiVersion` or `kind`; is it a Kubernetes manifest?"
                        .to_string(),
            });
        }
        return Err(Error::Manifest {
            location: doc.location(1, None),
            message: "this document has no `kind`".to_string(),
        });
    };
    let location = doc.location(1, None);
    if kind == "List" || kind.ends_with("List") {
        #[derive(Deserialize)]
        struct ListDoc {
            #[serde(default)]
            items: Vec<serde_json::Value>,
        }
        let list: ListDoc = doc.parse(doc.text, "invalid List")?;
        for item in list.items {
            let item_kind = item
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default();
            if let Some(object) = typed_from_value(item_kind, item.clone(), &location)? {
                out.push(Located {
                    value: object,
                    location: location.clone(),
                });
            }
        }
        return Ok(());
    }
    if let Some(workload_kind) = WorkloadKind::from_kind(&kind) {
        let object: WorkloadObject = doc.parse(doc.text, &format!("invalid {kind}"))?;
        out.push(Located {
            value: Object::Workload(workload_kind, Box::new(object)),
            location,
        });
    } else if kind == "Service" {
        let object: ServiceObject = doc.parse(doc.text, "invalid Service")?;
        out.push(Located {
            value: Object::Service(Box::new(object)),
            location,
        });
    }
    Ok(())
}

fn typed_from_value(
    kind: &str,
    value: serde_json::Value,
    location: &Location,
) -> Result<Option<Object>> {
    let invalid = |err: serde_json::Error| Error::Manifest {
        location: location.clone(),
        message: format!("invalid {kind} in List items: {err}"),
    };
    if let Some(workload_kind) = WorkloadKind::from_kind(kind) {
        let object: WorkloadObject = serde_json::from_value(value).map_err(invalid)?;
        return Ok(Some(Object::Workload(workload_kind, Box::new(object))));
    }
    if kind == "Service" {
        let object: ServiceObject = serde_json::from_value(value).map_err(invalid)?;
        return Ok(Some(Object::Service(Box::new(object))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_documents_tracks_first_lines_and_skips_comment_only_documents() {
        let text = "---\n# Source: chart/templates/svc.yaml\napiVersion: v1\nkind: Service\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\n";
        let docs = split_documents("x.yaml", text);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].first_line, 1);
        assert!(docs[0].text.contains("kind: Service"));
        assert_eq!(docs[1].first_line, 7);
        assert!(docs[1].text.contains("kind: Deployment"));
    }

    #[test]
    fn a_type_error_is_reported_at_the_line_in_the_file() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          ports:\n            - containerPort: eighty\n";
        let texts = vec![ManifestText {
            name: "k8s/app.yaml".into(),
            text: text.into(),
        }];
        let err = parse_objects(&texts).expect_err("containerPort is not a number");
        let msg = err.to_string();
        assert!(msg.starts_with("k8s/app.yaml:16:"), "{msg}");
        assert!(msg.contains("invalid Deployment"), "{msg}");
    }
}
