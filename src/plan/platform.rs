//! The platform's plan: the one dashboard of a platform need (`scope:
//! platform`, the built-in `platform-adoption`) over the whole fleet, its
//! sidecar ConfigMap and a kustomization — never part of an app's plan.
//!
//! The dashboard is rendered by [`crate::render::dashboard`] as an app's
//! are (the same panels, variables and checks), stamped as theirs and
//! written by the same sinks; only its frame differs: one uid for the fleet,
//! no app's links, the need's walkthrough on top. Its owner, in stamps and
//! labels, is onramp itself ([`OWNER`]), whose `adoption` run writes the
//! series it reads.

use std::collections::BTreeMap;

use super::stamp::{self, Stamp};
use super::{
    APP_LABEL, Artifact, ArtifactKind, GrafanaFolder, MANAGED_BY, Plan, PlanOptions,
    PlannedDashboard, paths, sidecar_labels, stamped_dashboard, text_artifact,
};
use crate::app::{AppId, WorkloadKind};
use crate::error::{Error, Result};
use crate::needs::resolve::{ResolvedNeed, Scope};
use crate::needs::{Need, NeedScope};
use crate::render::dashboard::{self, ConfigMapSite, DashboardFile, DashboardInput};

/// The owner of the platform's objects and files: onramp itself.
pub const OWNER: &str = "onramp";

/// The Grafana folder of the platform's dashboards when onramp.yaml names none.
pub const DEFAULT_FOLDER: &str = "Platform";

/// The namespace of the sidecar ConfigMap when none is given: where
/// kube-prometheus-stack's Grafana and its sidecar usually run.
pub const DEFAULT_NAMESPACE: &str = "monitoring";

/// The plan of platform need `need`: its dashboard (`dashboards/ID.json`),
/// the sidecar ConfigMap in `namespace` (`grafana-dashboards.yaml`) and a
/// kustomization, stamped with `command` (the command that writes them).
/// `options` gives the Grafana folder and datasource and the sidecar's label.
pub fn build(need: &Need, namespace: &str, command: &str, options: &PlanOptions) -> Result<Plan> {
    if need.scope != NeedScope::Platform {
        return Err(Error::Usage(format!(
            "need {:?} is an app's need: `onramp codify APP --need {}` writes its dashboards",
            need.id, need.id
        )));
    }
    let id = AppId::new(namespace, WorkloadKind::Deployment, OWNER)
        .map_err(|m| Error::Usage(format!("namespace {namespace:?}: {m}")))?;
    let stamp = Stamp {
        generator: stamp::generator(),
        app: id.clone(),
        command: command.to_string(),
    };
    let planned = dashboard(need, &stamp, options)?;
    let folder = GrafanaFolder::of(
        &id,
        Some(options.grafana_folder.as_deref().unwrap_or(DEFAULT_FOLDER)),
    );
    let owner_labels = BTreeMap::from([
        (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
        (APP_LABEL.to_string(), OWNER.to_string()),
    ]);
    let site = ConfigMapSite {
        owner: OWNER,
        namespace,
        labels: owner_labels.clone(),
        sidecar: &sidecar_labels(options),
        folder: &folder.title,
    };
    let config_map = config_map(&stamp, &site, &planned)?;
    let kustomization = text_artifact(
        &stamp,
        paths::KUSTOMIZATION,
        ArtifactKind::Kustomization,
        crate::render::kustomize::render(&[paths::DASHBOARD_CONFIGMAPS.to_string()])?,
    );
    let signals: Vec<&str> = need.signals.values().map(|s| s.metric.as_str()).collect();
    Ok(Plan {
        workload: id.workload(),
        namespace: namespace.to_string(),
        app: id,
        metrics: String::new(),
        needs: Vec::new(),
        skipped_needs: Vec::new(),
        artifacts: vec![
            super::dashboard_artifact(&planned),
            config_map,
            kustomization,
        ],
        notes: vec![format!(
            "the dashboard reads {}: run `onramp adoption -A -o openmetrics` on a schedule and put its output into Prometheus (a node-exporter textfile collector or a Pushgateway; README, \"Adoption over time in Grafana\")",
            signals.join(" and ")
        )],
        grafana_folder: folder,
        owner_labels,
    })
}

/// The need's dashboard, rendered and stamped.
fn dashboard(need: &Need, stamp: &Stamp, options: &PlanOptions) -> Result<PlannedDashboard> {
    // Fleet-wide signals have no selector: the scope only names the kind
    // their (kind-independent) names resolve for.
    let resolved = ResolvedNeed::new(
        need,
        Scope::canonical(WorkloadKind::Deployment),
        &options.overrides,
        None,
    );
    let input = DashboardInput {
        need: &resolved,
        panels: need.panels.iter().collect(),
        siblings: &[],
        objectives: Vec::new(),
    };
    let rendered = dashboard::render_platform(&input, options.grafana_datasource.clone())?;
    stamped_dashboard(stamp, &rendered, options)
}

/// The sidecar ConfigMap carrying `planned` at `site`.
fn config_map(
    stamp: &Stamp,
    site: &ConfigMapSite<'_>,
    planned: &PlannedDashboard,
) -> Result<Artifact> {
    let file = DashboardFile {
        uid: planned.uid.as_str(),
        need: &planned.need,
        json: &planned.json,
    };
    Ok(text_artifact(
        stamp,
        paths::DASHBOARD_CONFIGMAPS,
        ArtifactKind::Kubernetes {
            api_version: "v1".to_string(),
            kind: "ConfigMap".to_string(),
            namespace: site.namespace.to_string(),
            names: vec![format!("{}-{}-dashboard", site.owner, planned.need)],
        },
        dashboard::sidecar_config_maps(site, &[file])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needs::Catalog;

    #[test]
    fn the_platform_plan_holds_one_dashboard_its_config_map_and_a_kustomization() {
        let catalog = Catalog::load(&[]).expect("built-in needs");
        let need = &catalog.get("platform-adoption").expect("built in").need;
        let plan = build(
            need,
            "monitoring",
            "onramp adoption --dashboard --out DIR",
            &PlanOptions::default(),
        )
        .expect("plans");
        let paths: Vec<&str> = plan.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "dashboards/platform-adoption.json",
                "grafana-dashboards.yaml",
                "kustomization.yaml"
            ]
        );
        let config_map = &plan.artifacts[1].content;
        assert!(
            config_map.contains("name: onramp-platform-adoption-dashboard\n")
                && config_map.contains("namespace: monitoring\n")
                && config_map.contains("onramp.dev/need: platform-adoption\n")
                && config_map.contains("grafana_folder: Platform\n"),
            "{config_map}"
        );
        let health = &catalog.get("service-health").expect("built in").need;
        let refused =
            build(health, "monitoring", "x", &PlanOptions::default()).expect_err("an app's need");
        assert_eq!(refused.exit_status(), 2);
    }
}
