//! A static `/metrics` endpoint serving a framework's exposition text from
//! `tests/fixtures/exposition/`, for the real Prometheus to scrape. Counter,
//! histogram and summary samples are multiplied by the number of scrapes so
//! far: the text is one moment of a live app, and `rate()` needs them to grow.
//! The proportions (error ratio, latency distribution) stay those of the text.

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::get;

/// A running exposition server; it stops when the test process ends.
pub struct ExpositionServer {
    address: String,
}

impl ExpositionServer {
    /// Serves `tests/fixtures/exposition/NAME` at `/metrics`, as
    /// `text/plain; charset=utf-8`.
    pub fn start(name: &str) -> Self {
        Self::serve(name, true)
    }

    /// Like [`ExpositionServer::start`], but answering without any
    /// `Content-Type`, as some hand-written exporters do.
    pub fn without_content_type(name: &str) -> Self {
        Self::serve(name, false)
    }

    fn serve(name: &str, content_type: bool) -> Self {
        let path = super::repo_path(&format!("tests/fixtures/exposition/{name}"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let scrapes = Arc::new(AtomicU64::new(0));
        let addr = super::spawn_server(move |listener| async move {
            let app = Router::new().route(
                "/metrics",
                get(move || {
                    let n = scrapes.fetch_add(1, Ordering::SeqCst) + 1;
                    let body = scaled(&text, n as f64);
                    async move {
                        let mut response =
                            axum::response::Response::new(axum::body::Body::from(body));
                        if content_type {
                            response.headers_mut().insert(
                                axum::http::header::CONTENT_TYPE,
                                axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
                            );
                        }
                        response
                    }
                }),
            );
            axum::serve(listener, app).await.expect("serve");
        });
        ExpositionServer {
            address: addr.to_string(),
        }
    }

    /// `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// The text with every cumulative sample multiplied by `n`.
fn scaled(text: &str, n: f64) -> String {
    let mut cumulative: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some("counter" | "histogram")) = (parts.next(), parts.next()) {
                cumulative.push(name.to_string());
            }
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let grows = !line.starts_with('#')
            && cumulative.iter().any(|family| {
                name == *family
                    || ["_total", "_bucket", "_count", "_sum"]
                        .iter()
                        .any(|suffix| name == format!("{family}{suffix}"))
            });
        match line.rsplit_once(' ') {
            Some((head, value)) if grows => {
                let v: f64 = value.parse().expect("a sample value");
                out.push_str(&format!("{head} {}\n", v * n));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}
