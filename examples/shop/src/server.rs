//! The HTTP side of the shop: routes, handlers and request metrics.
//!
//! This module owns what a client sees — the shop pages (`/`, `/products`,
//! `POST /cart`, `POST /checkout`), the probes (`/healthz`, `/readyz`) and
//! `/metrics` — and the middleware that counts every request by route
//! template, method and status. The failure flags `fail-latency` and
//! `fail-error-rate` take effect here, per request; the session id in the
//! `x-session-id` header, when present, is their targeting key.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;

use crate::faults;
use crate::flags::{EvaluationContext, FlagStore};
use crate::metrics::{self, Metrics};
use crate::rng::SharedRng;

/// The request header carrying the session id (the flags' targeting key).
pub const SESSION_HEADER: &str = "x-session-id";

/// The `route` label of requests that match no route, so that unknown paths
/// cannot create unbounded series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The flags.
    pub flags: Arc<FlagStore>,
    /// Randomness for injected errors (seeded by `--seed`).
    pub rng: Arc<SharedRng>,
    /// Whether `/readyz` says ready; false before start and during shutdown.
    pub ready: Arc<AtomicBool>,
}

/// The shop's routes with the metrics middleware around all of them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/products", get(products))
        .route("/cart", post(cart))
        .route("/checkout", post(checkout))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Counts the request in flight, then records its route, method, status and duration.
async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let in_flight = state.metrics.request_started();
    let start = Instant::now();
    let response = next.run(request).await;
    state.metrics.record_request(
        &route,
        method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    drop(in_flight);
    response
}

/// The method as a label value; unusual methods share one value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Applies the failure flags to a shop request: waits for `fail-latency`, and
/// when `can_fail`, returns the 500 that `fail-error-rate` asks for.
async fn inject_faults(state: &AppState, headers: &HeaderMap, can_fail: bool) -> Option<Response> {
    let ctx = EvaluationContext {
        targeting_key: headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()),
    };
    let delay = faults::latency(&state.flags.evaluate(faults::FAIL_LATENCY, &ctx).value);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if can_fail {
        let share = faults::error_share(&state.flags.evaluate(faults::FAIL_ERROR_RATE, &ctx).value);
        if share > 0.0 && state.rng.next_f64() < share {
            return Some(json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "injected failure", "flag": faults::FAIL_ERROR_RATE}),
            ));
        }
    }
    None
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(failure) = inject_faults(&state, &headers, false).await {
        return failure;
    }
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "onramp demo shop: GET /products, POST /cart, POST /checkout\n",
    )
        .into_response()
}

async fn products(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(failure) = inject_faults(&state, &headers, false).await {
        return failure;
    }
    json_response(
        StatusCode::OK,
        json!([
            {"id": "espresso", "name": "Espresso beans, 1 kg", "price_cents": 2490},
            {"id": "grinder", "name": "Hand grinder", "price_cents": 6900},
            {"id": "kettle", "name": "Gooseneck kettle", "price_cents": 4500},
            {"id": "cups", "name": "Two ceramic cups", "price_cents": 1800}
        ]),
    )
}

async fn cart(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(failure) = inject_faults(&state, &headers, true).await {
        return failure;
    }
    json_response(StatusCode::OK, json!({"status": "added"}))
}

async fn checkout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(failure) = inject_faults(&state, &headers, true).await {
        return failure;
    }
    json_response(StatusCode::OK, json!({"status": "ordered"}))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        "ready\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn scrape(State(state): State<AppState>) -> Response {
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics\n").into_response(),
    }
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}
