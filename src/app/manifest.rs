//! Parsing Kubernetes manifests: texts (read by [`crate::app::source`]) split
//! into YAML documents that remember where they start, so every error names
//! file and line.
//!
//! This module owns the typed subset of the Kubernetes API that discovery needs
//! (workloads, Services, `List`). It does not decide which object is the app;
//! [`crate::app`] does.

use serde::Deserialize;

use crate::app::source::ManifestText;
use crate::error::{Error, Location, Result};
use crate::util::yaml::yaml_message;

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
        self.located(what, serde_saphyr::from_str(text))
    }

    /// Turns a YAML error into a located [`Error::Manifest`].
    fn located<T>(
        &self,
        what: &str,
        parsed: std::result::Result<T, serde_saphyr::Error>,
    ) -> Result<T> {
        parsed.map_err(|err| {
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

pub use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
pub use k8s_openapi::api::core::v1::{Container, ContainerPort, PodTemplateSpec, Service};
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
pub use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

#[derive(Debug, Deserialize)]
struct Head {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// A Deployment, StatefulSet or DaemonSet as the Kubernetes API defines it:
/// the one workload model, whether read from a manifest or from the
/// cluster (where troubleshoot also reads its status).
#[derive(Debug, Clone)]
pub enum Workload {
    /// apps/v1 Deployment.
    Deployment(Deployment),
    /// apps/v1 StatefulSet.
    StatefulSet(StatefulSet),
    /// apps/v1 DaemonSet.
    DaemonSet(DaemonSet),
}

impl Workload {
    /// Which of the three kinds it is.
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Deployment(_) => WorkloadKind::Deployment,
            Workload::StatefulSet(_) => WorkloadKind::StatefulSet,
            Workload::DaemonSet(_) => WorkloadKind::DaemonSet,
        }
    }

    /// The workload's own metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::Deployment(w) => &w.metadata,
            Workload::StatefulSet(w) => &w.metadata,
            Workload::DaemonSet(w) => &w.metadata,
        }
    }

    /// `spec.selector`, when the manifest has a spec.
    pub fn selector(&self) -> Option<&LabelSelector> {
        match self {
            Workload::Deployment(w) => w.spec.as_ref().map(|s| &s.selector),
            Workload::StatefulSet(w) => w.spec.as_ref().map(|s| &s.selector),
            Workload::DaemonSet(w) => w.spec.as_ref().map(|s| &s.selector),
        }
    }

    /// `spec.template`, when the manifest has a spec.
    pub fn template(&self) -> Option<&PodTemplateSpec> {
        match self {
            Workload::Deployment(w) => w.spec.as_ref().map(|s| &s.template),
            Workload::StatefulSet(w) => w.spec.as_ref().map(|s| &s.template),
            Workload::DaemonSet(w) => w.spec.as_ref().map(|s| &s.template),
        }
    }

    /// Its name (`metadata.name`).
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// Its namespace (`metadata.namespace`; empty in a manifest without one).
    pub fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or_default()
    }

    /// `deployment/checkout`, as kubectl takes it.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind().resource(), self.name())
    }

    /// The pod template's labels (what a Service selects).
    pub fn template_labels(&self) -> std::collections::BTreeMap<String, String> {
        self.template()
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default()
    }

    /// The rollout's replica counts, as each kind's status spells them (an
    /// unset count is 0; a Deployment or StatefulSet without `replicas`
    /// wants 1). All 0 for a manifest, which has no status.
    pub fn replicas(&self) -> Replicas {
        let count = |n: Option<i32>| n.unwrap_or(0);
        match self {
            Workload::Deployment(d) => {
                let s = d.status.clone().unwrap_or_default();
                Replicas {
                    desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                    updated: count(s.updated_replicas),
                    ready: count(s.ready_replicas),
                    available: count(s.available_replicas),
                }
            }
            Workload::StatefulSet(w) => {
                let s = w.status.clone().unwrap_or_default();
                Replicas {
                    desired: w.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                    updated: count(s.updated_replicas),
                    ready: count(s.ready_replicas),
                    available: count(s.available_replicas),
                }
            }
            Workload::DaemonSet(d) => {
                let s = d.status.clone().unwrap_or_default();
                Replicas {
                    desired: s.desired_number_scheduled,
                    updated: count(s.updated_number_scheduled),
                    ready: s.number_ready,
                    available: count(s.number_available),
                }
            }
        }
    }
}

/// A workload's replicas: wanted, of the current version, ready, available.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replicas {
    /// Replicas wanted (a DaemonSet: nodes it should run on).
    pub desired: i32,
    /// Replicas of the current version.
    pub updated: i32,
    /// Ready replicas.
    pub ready: i32,
    /// Available replicas.
    pub available: i32,
}

/// A source one object can be read from: a YAML document or a JSON value
/// (a `List` item), so the choice of workload type is written once.
trait ReadObject {
    /// What a failed read returns.
    type Error;
    /// Reads the object as `T`.
    fn read<T: serde::de::DeserializeOwned>(self) -> std::result::Result<T, Self::Error>;
}

/// A YAML document, with the words that introduce its error.
struct YamlDoc<'a, 'd>(&'a Document<'d>, &'a str);

impl ReadObject for YamlDoc<'_, '_> {
    type Error = Error;
    fn read<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        self.0.parse(self.0.text, self.1)
    }
}

impl ReadObject for serde_json::Value {
    type Error = serde_json::Error;
    fn read<T: serde::de::DeserializeOwned>(self) -> std::result::Result<T, serde_json::Error> {
        serde_json::from_value(self)
    }
}

/// Reads one workload of a known kind.
fn workload_from<R: ReadObject>(
    kind: WorkloadKind,
    source: R,
) -> std::result::Result<Workload, R::Error> {
    Ok(match kind {
        WorkloadKind::Deployment => Workload::Deployment(source.read()?),
        WorkloadKind::StatefulSet => Workload::StatefulSet(source.read()?),
        WorkloadKind::DaemonSet => Workload::DaemonSet(source.read()?),
    })
}

/// The `apiVersion` of the workloads onramp reads; older groups
/// (`extensions/v1beta1`, `apps/v1beta2`) were removed in Kubernetes 1.16.
const WORKLOAD_API_VERSION: &str = "apps/v1";

/// The `apiVersion` of a core Service. Other groups reuse the kind name
/// (Knative's `serving.knative.dev/v1` Service) and are not what discovery wants.
const SERVICE_API_VERSION: &str = "v1";

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

/// An object found in the manifests, as the Kubernetes API types it.
#[derive(Debug, Clone)]
pub enum Object {
    /// A Deployment, StatefulSet or DaemonSet.
    Workload(Box<Workload>),
    /// A Service.
    Service(Box<Service>),
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

/// What a document's `apiVersion` and `kind` make of it.
enum Wanted {
    Workload(WorkloadKind),
    Service,
    List,
    Other,
}

/// Decides from the head alone, so a kind onramp does not read is skipped
/// without being deserialised, and a workload of a removed API group is named.
fn wanted(api_version: Option<&str>, kind: &str, location: &Location) -> Result<Wanted> {
    if kind == "List" || kind.ends_with("List") {
        return Ok(Wanted::List);
    }
    if let Some(workload_kind) = WorkloadKind::from_kind(kind) {
        return match api_version {
            None | Some(WORKLOAD_API_VERSION) => Ok(Wanted::Workload(workload_kind)),
            Some(other) => Err(Error::Manifest {
                location: location.clone(),
                message: format!(
                    "{kind} has apiVersion {other:?}; onramp reads {WORKLOAD_API_VERSION:?} (the only group Kubernetes serves since 1.16): change the manifest's apiVersion"
                ),
            }),
        };
    }
    if kind == "Service" && api_version.is_none_or(|v| v == SERVICE_API_VERSION) {
        return Ok(Wanted::Service);
    }
    Ok(Wanted::Other)
}

fn parse_document(doc: &Document<'_>, out: &mut Vec<Located<Object>>) -> Result<()> {
    let head: Head = doc.parse(doc.text, "not a Kubernetes object")?;
    let location = doc.location(1, None);
    let Some(kind) = head.kind else {
        let message = if head.api_version.is_none() {
            "this document has no `apiVersion` or `kind`; is it a Kubernetes manifest?"
        } else {
            "this document has no `kind`"
        };
        return Err(Error::Manifest {
            location,
            message: message.to_string(),
        });
    };
    let value = match wanted(head.api_version.as_deref(), &kind, &location)? {
        Wanted::List => {
            #[derive(Deserialize)]
            struct ListDoc {
                #[serde(default)]
                items: Vec<serde_json::Value>,
            }
            let list: ListDoc = doc.parse(doc.text, "invalid List")?;
            for item in list.items {
                if let Some(object) = typed_from_value(item, &location)? {
                    out.push(Located {
                        value: object,
                        location: location.clone(),
                    });
                }
            }
            return Ok(());
        }
        Wanted::Workload(workload_kind) => {
            let what = format!("invalid {kind}");
            let workload = workload_from(workload_kind, YamlDoc(doc, &what))?;
            Object::Workload(Box::new(workload))
        }
        Wanted::Service => Object::Service(Box::new(doc.parse(doc.text, "invalid Service")?)),
        Wanted::Other => return Ok(()),
    };
    out.push(Located { value, location });
    Ok(())
}

/// Types one item of a `List` (its location is the List's).
fn typed_from_value(value: serde_json::Value, location: &Location) -> Result<Option<Object>> {
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or_default()
        .to_string();
    let api_version = value.get("apiVersion").and_then(|v| v.as_str());
    let invalid = |err: serde_json::Error| Error::Manifest {
        location: location.clone(),
        message: format!("invalid {kind} in List items: {err}"),
    };
    Ok(match wanted(api_version, &kind, location)? {
        Wanted::Workload(workload_kind) => Some(Object::Workload(Box::new(
            workload_from(workload_kind, value).map_err(invalid)?,
        ))),
        Wanted::Service => Some(Object::Service(Box::new(value.read().map_err(invalid)?))),
        Wanted::List | Wanted::Other => None,
    })
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
