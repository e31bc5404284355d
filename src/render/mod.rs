//! Rendering: turns an app and its resolved needs into the text of every
//! artifact. Structured outputs (YAML, JSON) are built from typed values and
//! serialised; only prose (the runbook) goes through a template.
//!
//! Each submodule renders one kind of artifact; [`crate::plan`] decides which
//! ones an app gets and in which order, and stamps them (render produces the
//! content only, so that stamps are written and read in one place).

pub mod dashboard;
pub mod kustomize;
pub mod monitor;
pub mod rules;
pub mod runbook;
pub mod scrape;
pub mod slo;
pub mod slo_tests;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::{App, AppId};
use crate::error::{Error, Result};

/// The label every object onramp creates carries, and its value.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "onramp");
/// The label naming the app an object belongs to.
pub const APP_LABEL: &str = "onramp.dev/app";
/// The label naming the need a dashboard ConfigMap shows.
pub const NEED_LABEL: &str = "onramp.dev/need";

/// What renders the same way for every artifact of an app.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The app.
    pub app: &'a App,
    /// Its identity: namespace, kind and name, checked.
    pub id: AppId,
    /// The arguments that select the app and its manifests for any onramp
    /// command (`deployment/checkout -n shop -f k8s/checkout.yaml`).
    pub onramp_args: String,
    /// Where the runbook is published (its alerts' `runbook_url` points there).
    pub runbook_url: String,
    /// Labels the Prometheus custom resource selects on (the `release` label trap).
    pub selector_labels: BTreeMap<String, String>,
    /// Grafana folder for the sidecar ConfigMaps' folder annotation.
    pub grafana_folder: String,
    /// The label Grafana's dashboard sidecar loads ConfigMaps by, and its
    /// folder annotation.
    pub sidecar: dashboard::SidecarLabels,
    /// The Prometheus datasource (by name) the dashboards' `datasource` variable is limited to.
    pub grafana_datasource: Option<String>,
}

impl Context<'_> {
    /// True when the runbook URL is absolute, so Grafana and Alertmanager can
    /// open it; the default relative `runbook.md` only works inside the repo.
    pub fn runbook_published(&self) -> bool {
        self.runbook_url.starts_with("https://") || self.runbook_url.starts_with("http://")
    }

    /// Labels for every Kubernetes object onramp creates for this app.
    pub fn object_labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        labels.insert(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string());
        labels.insert(APP_LABEL.to_string(), self.app.name.clone());
        labels
    }

    /// Labels for objects a Prometheus custom resource must select (monitors and rules).
    pub fn selected_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.object_labels();
        labels.extend(self.selector_labels.clone());
        labels
    }

    /// The CamelCase prefix of the app's alert names (`checkout-api` → `CheckoutApi`).
    pub fn alert_prefix(&self) -> String {
        camel_case(&self.app.name)
    }
}

/// `checkout-api.v2` → `CheckoutApiV2`.
pub fn camel_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Kubernetes object metadata as onramp writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    /// The object name.
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations, when any.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Serialises a typed value as a YAML document (the plan stamps it).
pub fn to_yaml<T: Serialize>(value: &T, what: &str) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::Render {
        artifact: what.to_string(),
        message: format!("cannot serialise as YAML: {e}"),
    })
}

/// Substitutes the prose placeholders of need texts: `{app}`, `{namespace}`,
/// `{workload}`, `{kind}`, `{container}`, `{selector}`, `{prefix}`.
///
/// The values are Kubernetes names and label selectors, which discovery has
/// checked against Kubernetes' own syntax, so they carry no Markdown or YAML
/// specials; `{label:SIGNAL.LABEL}` is handled by the caller that knows the signals.
pub fn prose(ctx: &Context<'_>, text: &str) -> String {
    let app = ctx.app;
    let container = app.main_container().map(|c| c.name.as_str()).unwrap_or("");
    text.replace("{app}", &app.name)
        .replace("{namespace}", &app.namespace)
        .replace("{workload}", &app.workload())
        .replace("{kind}", app.kind.resource())
        .replace("{container}", container)
        .replace("{selector}", &app.selector_arg())
        .replace("{prefix}", &ctx.alert_prefix())
        .replace("{onramp_args}", &ctx.onramp_args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_joins_name_parts() {
        assert_eq!(camel_case("checkout"), "Checkout");
        assert_eq!(camel_case("checkout-api.v2"), "CheckoutApiV2");
    }
}
