//! The app's identity: its namespace, workload kind and name, checked once
//! against Kubernetes' name rules. Plans, stamps, dashboard uids and the
//! Grafana folder take it instead of strings split and joined at each use.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::app::WorkloadKind;
use crate::app::validate;

/// Namespace, workload kind and name of one app, each a valid Kubernetes
/// name. Shown (and serialised) as `namespace/name`, the app's identity in
/// stamps and dashboards; [`AppId::workload`] is `kind/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppId {
    namespace: String,
    kind: WorkloadKind,
    name: String,
}

impl AppId {
    /// Checks `name` as a workload name (a DNS-1123 subdomain) and
    /// `namespace` as a namespace name (a DNS-1123 label); the message names
    /// the value and the rule it breaks.
    pub fn new(namespace: &str, kind: WorkloadKind, name: &str) -> Result<AppId, String> {
        validate::dns_subdomain(name)
            .map_err(|m| format!("{} name {name:?}: {m}", kind.as_kind()))?;
        validate::namespace(namespace).map_err(|m| format!("namespace {namespace:?}: {m}"))?;
        Ok(AppId {
            namespace: namespace.to_string(),
            kind,
            name: name.to_string(),
        })
    }

    /// Reads an identity back as a stamp writes it: `namespace/name` and
    /// `kind/name` (the same name twice).
    pub fn parse(id: &str, workload: &str) -> Result<AppId, String> {
        let (namespace, name) = id
            .split_once('/')
            .ok_or_else(|| format!("app {id:?} is not NAMESPACE/NAME"))?;
        let (kind, workload_name) = workload
            .split_once('/')
            .ok_or_else(|| format!("workload {workload:?} is not KIND/NAME"))?;
        let kind = WorkloadKind::from_resource(kind)
            .ok_or_else(|| format!("workload {workload:?}: unknown kind {kind:?}"))?;
        if workload_name != name {
            return Err(format!("workload {workload:?} is not app {id:?}"));
        }
        AppId::new(namespace, kind, name)
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The workload kind.
    pub fn kind(&self) -> WorkloadKind {
        self.kind
    }

    /// The workload name (the app's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `deployment/checkout`: the workload as kubectl and onramp's commands name it.
    pub fn workload(&self) -> String {
        format!("{}/{}", self.kind.resource(), self.name)
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl Serialize for AppId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_shows_as_namespace_and_name_and_reads_back_from_a_stamp() {
        let id = AppId::new("shop", WorkloadKind::StatefulSet, "ledger.v2").expect("valid");
        assert_eq!(id.to_string(), "shop/ledger.v2");
        assert_eq!(id.workload(), "statefulset/ledger.v2");
        assert_eq!(
            serde_json::to_string(&id).expect("serialises"),
            r#""shop/ledger.v2""#
        );
        assert_eq!(
            AppId::parse("shop/ledger.v2", "statefulset/ledger.v2"),
            Ok(id)
        );
    }

    #[test]
    fn names_kubernetes_would_refuse_are_refused_with_the_rule() {
        let err = AppId::new("shop", WorkloadKind::Deployment, "Check\"out").expect_err("quote");
        assert_eq!(
            err,
            "Deployment name \"Check\\\"out\": may only contain lower-case letters, digits and '-'"
        );
        let err = AppId::new("a/b", WorkloadKind::Deployment, "x").expect_err("slash");
        assert!(
            err.starts_with("namespace \"a/b\": not a valid namespace name"),
            "{err}"
        );
        assert!(AppId::parse("shop/checkout", "deployment/other").is_err());
        assert!(AppId::parse("shop/checkout", "cronjob/checkout").is_err());
        assert!(AppId::parse("checkout", "deployment/checkout").is_err());
    }
}
