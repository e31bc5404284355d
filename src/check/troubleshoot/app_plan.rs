//! The plan troubleshoot's Prometheus checks take their queries from: the
//! app as the cluster runs it (its workload and Services, as the API server
//! returned them), each signal mapped to the names Prometheus really has for
//! the app — the same planning `verify` does from manifests, so the checks
//! read what the dashboards read. It does not query for findings: see
//! [`super::prometheus`].

use super::NotChecked;
use super::diagnose::{Gathered, Workload};
use crate::app::AppRef;
use crate::app::source::ManifestText;
use crate::client::prometheus::PrometheusClient;
use crate::needs::Catalog;
use crate::plan::{Plan, PlanOptions};

/// The workload and the Services selecting it, as the API server returned
/// them, as manifest objects discovery reads.
pub fn objects_of(gathered: &Gathered) -> Vec<serde_json::Value> {
    let workload = match &gathered.workload {
        Workload::Deployment(w) => serde_json::to_value(w),
        Workload::StatefulSet(w) => serde_json::to_value(w),
        Workload::DaemonSet(w) => serde_json::to_value(w),
    };
    let services = gathered
        .services
        .iter()
        .filter_map(|s| serde_json::to_value(&s.service).ok());
    workload.into_iter().chain(services).collect()
}

/// Plans `app` from `objects` (its workload and the Services in its
/// namespace, as JSON from the API server) with the series Prometheus has.
pub async fn plan(
    objects: &[serde_json::Value],
    app: &AppRef,
    client: &PrometheusClient,
    grafana_url: Option<String>,
) -> Result<Plan, NotChecked> {
    let gap = |why: String| NotChecked {
        what: super::prometheus::CHECKS.to_string(),
        why,
    };
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
    let text = serde_saphyr::to_string(&list).map_err(|e| gap(e.to_string()))?;
    let texts = [ManifestText {
        name: "the cluster".to_string(),
        text,
    }];
    let objects = crate::app::manifest::parse_objects(&texts).map_err(|e| gap(e.to_string()))?;
    let app =
        crate::app::discover(&objects, "the cluster", app, None).map_err(|e| gap(e.to_string()))?;
    let exposed = crate::check::verify::exposed_metrics(client, &app)
        .await
        .map_err(|e| gap(e.to_string()))?;
    let catalog = Catalog::load(&[]).map_err(|e| gap(e.to_string()))?;
    let needs: Vec<_> = catalog.entries().iter().map(|e| &e.need).collect();
    let options = PlanOptions {
        available_metrics: Some(exposed),
        grafana_url,
        ..PlanOptions::default()
    };
    crate::plan::build(&app, &needs, &options).map_err(|e| gap(e.to_string()))
}
