//! Regressions in typed objects: manifests read into Kubernetes API types and
//! Operator objects rendered from types that match the CRDs.

use serde_json::json;

use crate::support::{codify_app, crd, fixture, read, yaml_documents};

#[test]
fn a_podmonitor_ignored_the_workloads_match_expressions_and_selected_the_canary_too() {
    let dir = codify_app("api", &fixture("match-expressions.yaml"), &["-n", "web"]);
    let docs = yaml_documents(&read(dir.path().join("podmonitor.yaml")));
    assert_eq!(docs.len(), 1);
    assert_eq!(
        docs[0]["spec"]["selector"],
        json!({
            "matchLabels": {"app": "api"},
            "matchExpressions": [
                {"key": "track", "operator": "In", "values": ["stable"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        })
    );
    let errors = crd::validate(
        &crd::schema("monitoring.coreos.com_podmonitors.yaml"),
        &docs[0],
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_runbooks_kubectl_selector_dropped_the_match_expressions() {
    let dir = codify_app("api", &fixture("match-expressions.yaml"), &["-n", "web"]);
    let runbook = read(dir.path().join("runbook.md"));
    assert!(
        runbook.contains("kubectl -n web get pods -l 'app=api,track in (stable),!canary'"),
        "{runbook}"
    );
}
