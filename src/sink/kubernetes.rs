//! The cluster sink: server-side applies the plan's Kubernetes objects
//! (ServiceMonitor or PodMonitor, PrometheusRule, and the dashboards'
//! ConfigMaps when Grafana's sidecar is the way in) as field manager
//! `onramp`, and prunes the objects onramp made for this app that the plan
//! no longer holds.
//!
//! The objects sent are the plan's artifacts parsed back from their text:
//! what `codify` writes is what the cluster gets. Ownership is the owner
//! labels the plan stamps on every object (`app.kubernetes.io/managed-by:
//! onramp` and the app's name): pruning lists by them and deletes nothing
//! else. A field another manager owns stops the apply of that object (409)
//! unless the user forces it. Depends on the plan and the kube client only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::client::kube::{self, Access, ApplyOptions, FieldConflict, KubeClient, access};
use crate::error::{Error, Result};
use crate::plan::{ArtifactKind, Plan};
use crate::sink::Change;

/// The field manager onramp applies as.
pub const FIELD_MANAGER: &str = "onramp";

/// A kind the sink applies and prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kind {
    kind: &'static str,
    access: Access,
}

impl Kind {
    /// The registry's entry for `verb` on this kind.
    fn with(self, verb: &str) -> Access {
        access::applying(self.access, verb)
    }
}

/// Every kind onramp writes into a cluster (their registry entries are the
/// group [`access::APPLY`]).
const KINDS: [Kind; 4] = [
    Kind {
        kind: "ServiceMonitor",
        access: access::SERVICE_MONITORS,
    },
    Kind {
        kind: "PodMonitor",
        access: access::POD_MONITORS,
    },
    Kind {
        kind: "PrometheusRule",
        access: access::PROMETHEUS_RULES,
    },
    Kind {
        kind: "ConfigMap",
        access: access::CONFIG_MAPS,
    },
];

/// How the plan is applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyMode {
    /// The server's dry run: validated and compared, nothing stored.
    pub dry_run: bool,
    /// Take over fields other managers own, knowingly.
    pub force_conflicts: bool,
    /// Apply the dashboards' ConfigMaps (Grafana's sidecar loads them);
    /// false when the dashboards go to Grafana's API instead, so that no
    /// dashboard is delivered twice.
    pub dashboard_config_maps: bool,
}

/// One object's result.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectReport {
    /// `ServiceMonitor`, `ConfigMap`…
    pub kind: String,
    /// Its name.
    pub name: String,
    /// What happened, in `kubectl apply`'s words.
    #[serde(serialize_with = "kubectl_word")]
    pub change: Change,
    /// On a conflict: the manager and field of each clash.
    pub conflicts: Vec<(String, String)>,
}

/// What the sink did in one namespace.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    /// The namespace.
    pub namespace: String,
    /// Every object applied or pruned, in order.
    pub objects: Vec<ObjectReport>,
    /// True on a server dry run.
    pub dry_run: bool,
    /// True when conflicts were forced.
    pub forced: bool,
    /// True when the dashboards' ConfigMaps were part of the apply.
    pub dashboard_config_maps: bool,
}

impl ApplyReport {
    /// True when an object was not applied because of a conflict.
    pub fn conflicted(&self) -> bool {
        self.objects.iter().any(|o| o.change == Change::Refused)
    }
}

/// Serialises a change as `kubectl apply` words it.
fn kubectl_word<S: serde::Serializer>(
    change: &Change,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(change.kubectl_word())
}

/// One object to apply.
#[derive(Debug, Clone)]
struct Desired {
    kind: Kind,
    name: String,
    object: Value,
}

/// The plan's Kubernetes objects, parsed from the artifacts' text, each
/// checked to carry the owner labels (an object without them could never
/// be pruned, or told apart from a person's).
fn desired(plan: &Plan, options: &ApplyMode) -> Result<Vec<Desired>> {
    let mut out = Vec::new();
    for artifact in &plan.artifacts {
        let ArtifactKind::Kubernetes { kind: name, .. } = &artifact.kind else {
            continue;
        };
        let internal = |message: String| Error::Render {
            artifact: artifact.path.clone(),
            message,
        };
        let kind = *KINDS
            .iter()
            .find(|k| k.kind == name)
            .ok_or_else(|| internal(format!("the cluster sink does not apply {name}")))?;
        if kind.kind == "ConfigMap" && !options.dashboard_config_maps {
            continue;
        }
        let documents: Vec<Value> = serde_saphyr::from_multiple(&artifact.content)
            .map_err(|e| internal(format!("does not parse back as YAML: {e}")))?;
        for object in documents {
            let labels = &object["metadata"]["labels"];
            if let Some((key, _)) = plan
                .owner_labels
                .iter()
                .find(|(k, v)| labels[k.as_str()].as_str() != Some(v.as_str()))
            {
                return Err(internal(format!("an object lacks the owner label {key}")));
            }
            let name = object["metadata"]["name"]
                .as_str()
                .ok_or_else(|| internal("an object has no metadata.name".to_string()))?
                .to_string();
            out.push(Desired { kind, name, object });
        }
    }
    Ok(out)
}

/// Applies the plan's objects into its namespace, then prunes what onramp
/// made for this app and no longer plans. Every object is applied on its
/// own: a conflict stops that object only, and then nothing is pruned (a
/// run that did not apply everything deletes nothing).
pub async fn apply(client: &KubeClient, plan: &Plan, options: &ApplyMode) -> Result<ApplyReport> {
    let wanted = desired(plan, options)?;
    let mut report = ApplyReport {
        namespace: plan.namespace.clone(),
        objects: Vec::new(),
        dry_run: options.dry_run,
        forced: options.force_conflicts,
        dashboard_config_maps: options.dashboard_config_maps,
    };
    for object in &wanted {
        let result = apply_one(client, &plan.namespace, object, options).await?;
        report.objects.push(result);
    }
    if !report.conflicted() {
        let pruned = prune(client, plan, &wanted, options.dry_run).await?;
        report.objects.extend(pruned);
    }
    Ok(report)
}

/// Applies one object and says what changed: created when there was none,
/// unchanged when the server kept its `resourceVersion` (on a dry run: when
/// the answer is the object as it is).
async fn apply_one(
    client: &KubeClient,
    namespace: &str,
    desired: &Desired,
    options: &ApplyMode,
) -> Result<ObjectReport> {
    let kind = desired.kind;
    let before = client
        .get_object(kind.with("get"), namespace, &desired.name)
        .await?;
    let sent = ApplyOptions {
        manager: FIELD_MANAGER,
        force: options.force_conflicts,
        dry_run: options.dry_run,
    };
    let mut report = ObjectReport {
        kind: kind.kind.to_string(),
        name: desired.name.clone(),
        change: Change::Created,
        conflicts: Vec::new(),
    };
    let after = match client
        .apply(
            kind.with("patch"),
            namespace,
            &desired.name,
            &desired.object,
            sent,
        )
        .await
    {
        Ok(after) => after,
        Err(kube::Error::Conflict { conflicts, .. }) => {
            report.change = Change::Refused;
            report.conflicts = conflicts
                .into_iter()
                .map(|FieldConflict { manager, field }| (manager, field))
                .collect();
            return Ok(report);
        }
        Err(kube::Error::Status {
            code: 404, message, ..
        }) => return Err(not_served(kind, namespace, &desired.name, &message)),
        Err(err) => return Err(err.into()),
    };
    report.change = match before {
        None => Change::Created,
        Some(before) if options.dry_run && before == after => Change::Unchanged,
        Some(before)
            if !options.dry_run
                && before["metadata"]["resourceVersion"]
                    == after["metadata"]["resourceVersion"] =>
        {
            Change::Unchanged
        }
        Some(_) => Change::Updated,
    };
    Ok(report)
}

/// A 404 to an apply: the namespace is missing, or the cluster does not
/// serve the kind (no Prometheus Operator).
fn not_served(kind: Kind, namespace: &str, name: &str, message: &str) -> Error {
    let hint = if kind.access.group.is_empty() {
        format!("does namespace {namespace} exist?")
    } else {
        format!(
            "is the Prometheus Operator installed (`onramp detect` says)? Without it, onramp writes scrape and rule files for a plain Prometheus: --prometheus-config-dir DIR instead of --cluster; or does namespace {namespace} exist?"
        )
    };
    Error::Usage(format!(
        "cannot apply {} {name} in namespace {namespace}: the API server answered 404 ({message}); {hint}",
        kind.kind
    ))
}

/// Deletes the objects carrying exactly this app's owner labels that the
/// plan no longer holds, kind by kind in the app's namespace.
async fn prune(
    client: &KubeClient,
    plan: &Plan,
    wanted: &[Desired],
    dry_run: bool,
) -> Result<Vec<ObjectReport>> {
    let selector: Vec<String> = plan
        .owner_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let selector = selector.join(",");
    let mut pruned = Vec::new();
    for kind in KINDS {
        let listed = match client
            .list_objects(kind.with("list"), &plan.namespace, &selector)
            .await
        {
            Ok(items) => items,
            // The Operator's kinds are not served: nothing of them to prune.
            Err(kube::Error::Status { code: 404, .. }) => continue,
            Err(err) => return Err(err.into()),
        };
        for object in listed {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let planned = wanted.iter().any(|w| w.kind == kind && w.name == name);
            if planned || name.is_empty() || !owned(&object, &plan.owner_labels) {
                continue;
            }
            let uid = object["metadata"]["uid"].as_str();
            client
                .delete(kind.with("delete"), &plan.namespace, name, uid, dry_run)
                .await?;
            pruned.push(ObjectReport {
                kind: kind.kind.to_string(),
                name: name.to_string(),
                change: Change::Removed,
                conflicts: Vec::new(),
            });
        }
    }
    Ok(pruned)
}

/// Whether a listed object carries every owner label: the selector already
/// asked for that; checking again costs nothing and keeps a lax server
/// from making onramp delete what it does not own.
fn owned(object: &Value, owner: &BTreeMap<String, String>) -> bool {
    let labels = &object["metadata"]["labels"];
    owner
        .iter()
        .all(|(k, v)| labels[k.as_str()].as_str() == Some(v.as_str()))
}
