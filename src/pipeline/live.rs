//! What the cluster says about the app's monitoring, when the app is read
//! from it: the stack `detect` finds, the namespace's labels, and what that
//! changes in the plan (the labels monitors and rules carry, no monitors
//! without the Operator, the sidecar's label) and says in its notes.

use std::collections::BTreeMap;

use crate::app::{self, App};
use crate::cli::config::Config;
use crate::client::kube::KubeClient;
use crate::client::prometheus::PrometheusClient;
use crate::cluster::selection;
use crate::cluster::stack::Stack;
use crate::error::Result;
use crate::plan::{Plan, PlanOptions};

/// What the cluster said about the app's monitoring, when the app was read
/// from it: the stack `detect` finds and the app's namespace's labels.
pub struct Live {
    /// The connected client.
    pub client: KubeClient,
    /// The monitoring stack.
    pub stack: Stack,
    /// The labels of the app's namespace (read only when a Prometheus
    /// selects namespaces by label).
    pub namespace_labels: BTreeMap<String, String>,
    /// The labels taken from the cluster's Prometheus selectors (those that
    /// neither `--label` nor onramp.yaml set).
    pub labels_from_cluster: BTreeMap<String, String>,
}

impl Live {
    /// Asks the cluster what monitoring stack it runs, and the namespace's
    /// labels when a selector needs them.
    pub async fn read(client: KubeClient, app: &App) -> Result<Live> {
        let stack = crate::cluster::stack::detect(&client).await?;
        let namespace_labels = if selection::needs_namespace_labels(&stack) {
            app::deployed::namespace_labels(&client, &app.namespace).await?
        } else {
            BTreeMap::new()
        };
        Ok(Live {
            client,
            stack,
            namespace_labels,
            labels_from_cluster: BTreeMap::new(),
        })
    }

    /// Gives the plan what the cluster decides: the labels its Prometheus
    /// selects on (under `--label` and onramp.yaml, which win), and no
    /// monitors or rules without the Operator.
    pub(super) fn shape(&mut self, options: &mut PlanOptions) {
        let mut labels = self.stack.required_labels();
        labels.retain(|k, _| !options.selector_labels.contains_key(k));
        self.labels_from_cluster = labels.clone();
        labels.extend(std::mem::take(&mut options.selector_labels));
        options.selector_labels = labels;
        options.without_operator = self.stack.operator.is_none();
        // The dashboards' ConfigMaps carry what the cluster's sidecar
        // watches, unless onramp.yaml names the label.
        if let Some((_, sidecar)) = self.stack.sidecar() {
            if options.sidecar_label.is_none() {
                let value = sidecar.label_value.as_deref().unwrap_or("1");
                options.sidecar_label = Some((sidecar.label.clone(), value.to_string()));
            }
            options.sidecar_folder_annotation = sidecar.folder_annotation.clone();
        }
    }

    /// The cluster's Prometheus through the API server's service proxy
    /// (see [`super::prometheus::in_cluster`]).
    pub(super) fn prometheus(&self, config: &Config) -> Result<Option<PrometheusClient>> {
        super::prometheus::in_cluster(&self.client, &self.stack, config)
    }

    /// What the plan should say about the cluster: where the labels came
    /// from, and every monitor or rule no Prometheus would pick up.
    pub fn notes(&self, plan: &Plan) -> Vec<String> {
        let objects = selection::selectables(plan);
        let mut notes = Vec::new();
        if let Some(p) = self.stack.selecting()
            && !self.labels_from_cluster.is_empty()
            && !objects.is_empty()
        {
            let labels: Vec<String> = self
                .labels_from_cluster
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            notes.push(format!(
                "Monitors and rules carry {}: the cluster's Prometheus {}/{} selects them by it (read from the cluster; --label or labels: in onramp.yaml override it).",
                labels.join(","),
                p.namespace,
                p.name
            ));
        }
        notes.extend(selection::warnings(
            &self.stack,
            &objects,
            &self.namespace_labels,
        ));
        notes.extend(selection::sidecar_warning(&self.stack, plan));
        notes
    }
}
