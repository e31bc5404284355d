//! Regressions found while building `onramp troubleshoot`.

use crate::support::kube::{Scenario, Standin, TOKEN};

/// The stand-in matched raw paths: a pod name written percent-encoded (as
/// a client may send it, and the real API server decodes) was "not found".
#[tokio::test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn a_percent_encoded_pod_name_in_a_log_path_was_not_found() {
    let standin = Standin::start(Scenario::Troubleshoot("crashloop"));
    let auth = format!("Bearer {TOKEN}");
    let (code, _, body) = crate::kube_standin::raw(
        &standin,
        "GET",
        "/api/v1/namespaces/shop/pods/checkout%2D5c7d9b8f4d%2Dh8xkq/log?container=checkout&previous=true&tailLines=1",
        &[("authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body, "2026-11-27T08:58:29.142Z INFO  shutting down\n");
}
