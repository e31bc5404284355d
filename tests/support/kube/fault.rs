//! Faults a test injects: one path (or one Service behind the proxy)
//! answers with a given status and body instead of what the stand-in would
//! serve. Each constructor answers as the real kube-apiserver (or what sits
//! behind it) does in that case, so a test names the situation, not bytes:
//!
//! - [`Fault::pod_gone`]: `pods/log` of a pod deleted since it was listed
//!   (`getPod` in `pkg/registry/core/pod/strategy.go`: 404 NotFound
//!   `pods "NAME" not found`).
//! - [`Fault::kubelet_unreachable`]: the API server could not dial the
//!   kubelet for a log (`LocationStreamer`'s `client.Do` error turned into
//!   a `Status` by `ErrorToAPIStatus`: 500, no reason, the dial error as the
//!   message).
//! - [`Fault::kubelet_failed`]: the kubelet (or the tunnel to it) answered
//!   an error (`GenericHttpResponseChecker`: `NewGenericServerResponse`,
//!   500+ as InternalError `an error on the server ("…") has prevented the
//!   request from succeeding ( pods/log NAME)`).
//! - [`Fault::not_served`]: a group/version the server does not serve (not
//!   installed, disabled, or an aggregated API gone): its `NotFound` handler
//!   is Go's `http.NotFound`, plain text `404 page not found`, no `Status`.
//! - [`Fault::text`]: a plain-text answer from something that is not the API
//!   server's handlers (a network policy agent or an egress proxy denying
//!   the destination): passed through the service proxy verbatim.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::status::{self, Failure};

/// One injected answer: status, content type, body.
#[derive(Debug, Clone)]
pub struct Fault {
    code: u16,
    content_type: &'static str,
    body: String,
}

impl Fault {
    /// 404 for `pods/log` of a pod that no longer exists.
    pub fn pod_gone(pod: &str) -> Fault {
        let pods = super::resources::find("", "v1", "pods").expect("pods are served");
        Fault::from(status::not_found(pods, pod))
    }

    /// 500 for a log read when the API server cannot dial the kubelet:
    /// `Get "URL": DIAL_ERROR`, as Go's HTTP client words it.
    pub fn kubelet_unreachable(kubelet_url: &str, dial_error: &str) -> Fault {
        let message = format!("Get \"{kubelet_url}\": {dial_error}");
        // `StatusReasonUnknown` is empty, and `reason` is omitted when empty.
        let body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "code": 500,
        });
        Fault::from(Failure { code: 500, body })
    }

    /// `code` (500 or more) for a log read when the kubelet, or the tunnel to
    /// it, answered `code` with `body`.
    pub fn kubelet_failed(code: u16, pod: &str, body: &str) -> Fault {
        assert!(
            code >= 500,
            "the kubelet's errors the stand-in words are 5xx"
        );
        let message = format!(
            "an error on the server ({body:?}) has prevented the request from succeeding ( pods/log {pod})"
        );
        Fault::from(status::failure(
            code,
            "InternalError",
            &message,
            Some(json!({"name": pod, "kind": "pods/log"})),
        ))
    }

    /// 404 `404 page not found` (text/plain) for a group/version the server
    /// does not serve.
    pub fn not_served() -> Fault {
        Fault::text(404, "404 page not found\n")
    }

    /// A plain-text answer (`403`, `resolve_deny: denied destination`).
    pub fn text(code: u16, body: &str) -> Fault {
        Fault {
            code,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
        }
    }

    /// The answer.
    pub fn response(&self) -> Response {
        let code = StatusCode::from_u16(self.code).expect("a valid HTTP status");
        (
            code,
            [("content-type", self.content_type)],
            self.body.clone(),
        )
            .into_response()
    }
}

impl From<Failure> for Fault {
    fn from(failure: Failure) -> Fault {
        Fault {
            code: failure.code,
            content_type: "application/json",
            body: failure.body.to_string(),
        }
    }
}
