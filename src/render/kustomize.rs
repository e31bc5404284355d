//! The kustomization that ties the app's Kubernetes artifacts together, so
//! `kubectl apply -k DIR` (or Argo CD / Flux) applies exactly what onramp wrote.

use serde::Serialize;

use crate::error::Result;
use crate::render::to_yaml;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization<'a> {
    api_version: &'static str,
    kind: &'static str,
    resources: &'a [String],
}

/// Renders `kustomization.yaml` listing `resources` (paths relative to it).
pub fn render(resources: &[String]) -> Result<String> {
    to_yaml(
        &Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources,
        },
        "kustomization",
    )
}
