//! Whether a need's signals have series, for the whole fleet at once: the
//! metric names any of which shows a signal's data (its default name, the
//! name for the workload's kind, every accepted alternative; a histogram's
//! `_bucket` series), asked in two aggregated queries — the app's own series
//! counted by `namespace`, `job` and name, Kubernetes' (kube-state-metrics,
//! cAdvisor) by `namespace` and name — never a query per app. Planning is
//! not needed for it: the catalog's signals are enough, and no dashboard is
//! rendered.

use std::collections::BTreeSet;

use crate::app::WorkloadKind;
use crate::needs::promql;
use crate::needs::{Catalog, Signal, SignalType};

/// The series name that shows a metric of `kind` has data.
fn series_name(metric: &str, kind: SignalType) -> String {
    match kind {
        SignalType::Histogram => format!("{metric}_bucket"),
        _ => metric.to_string(),
    }
}

/// The names any of which shows `signal` has series for a workload of `kind`.
pub fn names(signal: &Signal, kind: WorkloadKind) -> Vec<String> {
    let default = signal
        .metric_by_kind
        .get(kind.resource())
        .unwrap_or(&signal.metric);
    let mut out = vec![series_name(default, signal.kind)];
    for alternative in &signal.alternatives {
        let name = series_name(&alternative.metric, alternative.kind.unwrap_or(signal.kind));
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// True when the signal's series carry the app's `job` (scraped from it,
/// or about its scrapes); false for Kubernetes' series, which are counted
/// per namespace.
pub fn per_app(signal: &Signal) -> bool {
    !signal.source.needs_kubernetes()
}

/// Every name of the catalog's signals, for any workload kind: the app's
/// and Kubernetes' apart.
fn catalog_names(catalog: &Catalog) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut app = BTreeSet::new();
    let mut kubernetes = BTreeSet::new();
    for id in catalog.ids() {
        let Ok(entry) = catalog.get(&id) else {
            continue;
        };
        for signal in entry.need.signals.values() {
            let into = if per_app(signal) {
                &mut app
            } else {
                &mut kubernetes
            };
            for kind in WorkloadKind::ALL {
                into.extend(names(signal, kind));
            }
        }
    }
    (app, kubernetes)
}

/// `count by (LABELS) ({__name__=~"a|b|…"})`.
fn count_by(labels: &str, names: &BTreeSet<String>) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let alternatives: Vec<String> = names.iter().map(|n| promql::regex_escape(n)).collect();
    Some(format!(
        "count by ({labels}) ({{__name__=~{}}})",
        promql::quote(&alternatives.join("|"))
    ))
}

/// The two questions: the app's series by namespace, job and name; and
/// Kubernetes' by namespace and name.
pub fn queries(catalog: &Catalog) -> (Option<String>, Option<String>) {
    let (app, kubernetes) = catalog_names(catalog);
    (
        count_by("namespace, job, __name__", &app),
        count_by("namespace, __name__", &kubernetes),
    )
}

/// The need and signal whose rate is an app's traffic (`--next` breaks
/// ties between teams by it).
pub const TRAFFIC: (&str, &str) = ("service-health", "requests");

/// `sum by (namespace, job) (rate({__name__=~"…"}[5m]))` over the names of
/// [`TRAFFIC`]'s signal: every app's requests per second, in one query.
pub fn traffic_query(catalog: &Catalog) -> Option<String> {
    let need = &catalog.get(TRAFFIC.0).ok()?.need;
    let signal = need.signals.get(TRAFFIC.1)?;
    let names: BTreeSet<String> = WorkloadKind::ALL
        .iter()
        .flat_map(|kind| names(signal, *kind))
        .collect();
    let alternatives: Vec<String> = names.iter().map(|n| promql::regex_escape(n)).collect();
    Some(format!(
        "sum by (namespace, job) (rate({{__name__=~{}}}[5m]))",
        promql::quote(&alternatives.join("|"))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_shows_by_its_names_for_the_kind_and_its_alternatives() {
        let catalog = Catalog::load(&[]).expect("the built-in catalog");
        let health = &catalog.get("service-health").expect("service-health").need;
        let duration = names(&health.signals["duration"], WorkloadKind::Deployment);
        assert_eq!(duration[0], "http_request_duration_seconds_bucket");
        assert!(duration.contains(&"http_server_duration_ms_bucket".to_string()));
        let troubleshooting = &catalog
            .get("troubleshooting")
            .expect("troubleshooting")
            .need;
        let desired = &troubleshooting.signals["desired"];
        assert_eq!(
            names(desired, WorkloadKind::StatefulSet),
            ["kube_statefulset_replicas"]
        );
        assert!(!per_app(desired));
        assert!(per_app(&troubleshooting.signals["up"]));
    }

    #[test]
    fn the_fleet_is_asked_two_aggregated_questions() {
        let catalog = Catalog::load(&[]).expect("the built-in catalog");
        let (app, kubernetes) = queries(&catalog);
        let app = app.expect("app signals");
        assert!(
            app.starts_with("count by (namespace, job, __name__) ({__name__=~\""),
            "{app}"
        );
        assert!(app.contains("http_requests_total|"), "{app}");
        let kubernetes = kubernetes.expect("Kubernetes signals");
        assert!(
            kubernetes.starts_with("count by (namespace, __name__) ("),
            "{kubernetes}"
        );
        assert!(kubernetes.contains("kube_daemonset_status_number_available"));
        let traffic = traffic_query(&catalog).expect("service-health's requests");
        assert!(
            traffic.starts_with(
                "sum by (namespace, job) (rate({__name__=~\"http_request_duration_seconds_count|"
            ),
            "{traffic}"
        );
        assert!(traffic.ends_with("\"}[5m]))"), "{traffic}");
    }
}
