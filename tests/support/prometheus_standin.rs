//! A stand-in for Prometheus' query endpoint that fails on purpose (retry,
//! credential and concurrency tests of the Prometheus client, directly and
//! through the Kubernetes service proxy), and a client tuned to retry fast.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use onramp::client::prometheus::{PrometheusClient, PrometheusConfig, RetryPolicy};

/// Three attempts, 20 ms to 100 ms apart: the policy's shape, test-fast.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(100),
    }
}

/// A Prometheus client for `url` with [`fast_retry`] and a 5 s timeout.
pub fn client_for(url: &str) -> PrometheusClient {
    let config = PrometheusConfig::new(url)
        .expect("a valid URL")
        .with_retry(fast_retry())
        .with_timeout(Duration::from_secs(5));
    PrometheusClient::new(config).expect("a client")
}

/// A stand-in for Prometheus' query endpoint that fails the first `failures`
/// requests with `status`, then answers `vector(1)` after `delay`; it records
/// each request's `Authorization` header and the most requests it had in
/// flight at once.
pub struct StandIn {
    /// Its base URL.
    pub url: String,
    /// Requests it has answered.
    pub hits: Arc<AtomicU32>,
    /// The most requests it had in flight at once.
    pub max_in_flight: Arc<AtomicU32>,
    /// Each request's `Authorization` header.
    pub authorization: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the stand-in on a free loopback port.
pub async fn stand_in(failures: u32, status: u16, body: &'static str, delay: Duration) -> StandIn {
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    let hits = Arc::new(AtomicU32::new(0));
    let in_flight = Arc::new(AtomicU32::new(0));
    let max_in_flight = Arc::new(AtomicU32::new(0));
    let authorization = Arc::new(Mutex::new(Vec::new()));
    let (h, f, m, a) = (
        Arc::clone(&hits),
        in_flight,
        Arc::clone(&max_in_flight),
        Arc::clone(&authorization),
    );
    let handler = move |headers: HeaderMap| async move {
        let n = h.fetch_add(1, Ordering::SeqCst) + 1;
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        f.fetch_sub(1, Ordering::SeqCst);
        if let Some(value) = headers.get("authorization") {
            a.lock()
                .expect("lock")
                .push(value.to_str().unwrap_or_default().to_string());
        }
        if n <= failures {
            let code = StatusCode::from_u16(status).expect("status");
            (code, body).into_response()
        } else {
            axum::Json(serde_json::json!({
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}
            }))
            .into_response()
        }
    };
    let app = axum::Router::new().route("/api/v1/query", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    StandIn {
        url,
        hits,
        max_in_flight,
        authorization,
        task,
    }
}
