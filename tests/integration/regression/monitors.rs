//! Regressions of the Operator objects onramp renders, checked against the
//! Prometheus Operator's CRD schemas.

use serde_json::json;

use crate::support::{codify_app, crd, fixture, read, yaml_documents};

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
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
