//! A server that quotes every request back in its error answers — headers
//! (credentials first) and body — as some proxies and misconfigured servers
//! do. Every path answers the same, so it stands in for any service whose
//! errors onramp might quote (Prometheus here; the Grafana stand-in has its
//! own echo fault).

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// How the echo is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A text page with this status (a proxy's error page).
    Text(u16),
    /// Prometheus' API error envelope, `{"status":"error","error":…}`, with 400.
    PrometheusError,
}

/// A running echo server; it stops when the test process ends.
pub struct EchoServer {
    url: String,
}

impl EchoServer {
    /// Starts an echo server answering every request in `shape`.
    pub fn start(shape: Shape) -> Self {
        let addr = super::spawn_server(move |listener| async move {
            let app = Router::new().fallback(move |request: Request| echo(request, shape));
            axum::serve(listener, app).await.expect("serve");
        });
        EchoServer {
            url: format!("http://{addr}"),
        }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The request quoted back: `pad` filler characters, its headers
/// (credentials first) each followed by `separator`, then method, URI and body.
pub async fn quote(request: Request, pad: usize, separator: &str) -> String {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    headers.sort_by_key(|(k, _)| k != "authorization");
    let mut text = "x".repeat(pad);
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}{separator}"));
    }
    text.push_str(&format!(
        "{} {} {}",
        parts.method,
        parts.uri,
        String::from_utf8_lossy(&body)
    ));
    text
}

async fn echo(request: Request, shape: Shape) -> Response {
    let text = quote(request, 0, "; ").await;
    match shape {
        Shape::Text(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            text,
        )
            .into_response(),
        Shape::PrometheusError => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "status": "error", "errorType": "bad_data", "error": text
            })),
        )
            .into_response(),
    }
}
