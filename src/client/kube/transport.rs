//! The API server's requests under the one transport policy
//! ([`crate::client::retry`]): the `kube` crate's connection (its TLS, its
//! credentials) with its own retries off, so an API call and a request
//! through the service proxy are retried, replayed and logged by the same
//! rule as Grafana's and Prometheus' requests.
//!
//! Knows how a `kube` outcome reads in the policy's terms; knows nothing of
//! paths, permissions or what an answer means ([`super`] does).

use crate::client::retry::{self, Replay, RetryPolicy, Tried};

use super::{KubeClient, Request};

/// The kube crate's own retry layer is off: it retries every method on
/// 429/503/504 up to 15 times with waits of up to minutes, where the policy
/// retries a bounded few times, and never replays a write whose answer was
/// lost.
pub(super) fn without_kube_retries(mut config: kube::Config) -> kube::Config {
    config.default_retry = false;
    config
}

/// The policy the API server's requests follow.
pub(super) fn policy() -> RetryPolicy {
    RetryPolicy::default()
}

impl KubeClient {
    /// Sends `request` as many times as the policy allows and returns the
    /// last answer's text, or the `kube` error it came to.
    pub(super) async fn exchange_text(
        &self,
        request: &Request<'_>,
    ) -> Result<String, RequestError> {
        let url = format!("{}{}", self.server, request.path);
        let logged = retry::Request {
            method: request.method,
            url: &url,
            replay: Replay::of_method(request.method),
        };
        let once = || async {
            let built = build(request).map_err(RequestError::Build)?;
            self.client
                .request_text(built)
                .await
                .map_err(RequestError::Kube)
        };
        let judge = |outcome: &Result<String, RequestError>| match outcome {
            // `request_text` keeps the success code to itself: a GET answers
            // 200; an apply 200 or 201.
            Ok(_) if request.method == "GET" => (answered(200), "200".to_string()),
            Ok(_) => (answered(200), "2xx".to_string()),
            Err(RequestError::Kube(kube::Error::Api(status))) => {
                (answered(status.code), status.code.to_string())
            }
            Err(RequestError::Kube(err)) => (
                lost_or_not_sent(err),
                format!("failed ({})", crate::client::http::innermost(err)),
            ),
            Err(RequestError::Build(reason)) => (Tried::Unsendable, format!("failed ({reason})")),
        };
        retry::send(&self.retry, logged, once, judge).await.0
    }

    /// Sends `request` through the raw connection (the service proxy's
    /// answers are the Service's, read whole whatever their status), as many
    /// times as the policy allows for `replay`, logging every attempt.
    pub(super) async fn send_raw(
        &self,
        method: &http::Method,
        path: &str,
        form: Option<&str>,
        replay: Replay,
    ) -> (Result<(u16, String), String>, u32) {
        let url = format!("{}{path}", self.server);
        let logged = retry::Request {
            method: method.as_str(),
            url: &url,
            replay,
        };
        let once = || self.exchange_raw(method, path, form);
        let judge = |outcome: &Result<(u16, String), (Tried, String)>| match outcome {
            Ok((status, _)) => (
                answered(*status),
                http::StatusCode::from_u16(*status)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|_| status.to_string()),
            ),
            Err((tried, reason)) => (*tried, format!("failed ({reason})")),
        };
        let (outcome, attempts) = retry::send(&self.retry, logged, once, judge).await;
        (outcome.map_err(|(_, reason)| reason), attempts)
    }

    /// One exchange through the connection, the body read whole.
    async fn exchange_raw(
        &self,
        method: &http::Method,
        path: &str,
        form: Option<&str>,
    ) -> Result<(u16, String), (Tried, String)> {
        let innermost = |e: &kube::Error| crate::client::http::innermost(e);
        let mut request = http::Request::builder().method(method.clone()).uri(path);
        if form.is_some() {
            request = request.header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        }
        let body = form.unwrap_or_default().as_bytes().to_vec();
        let request = request
            .body(kube::client::Body::from(body))
            .map_err(|e| (Tried::Unsendable, format!("cannot build the request: {e}")))?;
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| (lost_or_not_sent(&e), innermost(&e)))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| (Tried::Lost, innermost(&e)))?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Why an API request came to nothing.
pub(super) enum RequestError {
    /// It could not be built (never sent).
    Build(String),
    /// The `kube` crate's error: the server's `Status`, or no answer.
    Kube(kube::Error),
}

/// Builds one attempt of `request` (a request's body is consumed by sending).
fn build(request: &Request<'_>) -> Result<http::Request<Vec<u8>>, String> {
    let mut builder = http::Request::builder()
        .method(request.method)
        .uri(request.path);
    if let Some(content_type) = request.content_type {
        builder = builder.header(http::header::CONTENT_TYPE, content_type);
    }
    builder
        .body(request.body.clone())
        .map_err(|e| format!("cannot build the request: {e}"))
}

fn answered(status: u16) -> Tried {
    Tried::Answered {
        status,
        retry_after: None,
    }
}

/// A failure with no answer: `NotSent` when the connection was refused (the
/// request never reached the server), `Lost` otherwise.
fn lost_or_not_sent(err: &kube::Error) -> Tried {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Tried::NotSent;
        }
        current = e.source();
    }
    Tried::Lost
}
