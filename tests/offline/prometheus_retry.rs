//! The Prometheus client's retry, credential and concurrency rules against
//! a stand-in that fails on purpose (nothing installed needed; the client
//! against a real Prometheus is in the integration tier).

use std::sync::atomic::Ordering;
use std::time::Duration;

use onramp::client::prometheus::{Auth, Error, PrometheusClient, PrometheusConfig};

use crate::support::prometheus_standin::{client_for, fast_retry, stand_in};

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_client_errors_are_not() {
    let flaky = stand_in(2, 503, "upstream unavailable", Duration::ZERO).await;
    let result = client_for(&flaky.url)
        .query("up", None)
        .await
        .expect("third attempt");
    assert_eq!(result.first_value(), Some(1.0));
    assert_eq!(flaky.hits.load(Ordering::SeqCst), 3);

    let down = stand_in(u32::MAX, 502, "bad gateway", Duration::ZERO).await;
    let err = client_for(&down.url)
        .query("up", None)
        .await
        .expect_err("502");
    assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
    assert_eq!(down.hits.load(Ordering::SeqCst), 3);
    assert_eq!(
        err.to_string(),
        format!(
            "Prometheus at {}/api/v1/query answered HTTP 502 (bad gateway); \
             Prometheus or a proxy in front of it failed, try again later",
            down.url
        )
    );

    let denied = stand_in(u32::MAX, 401, "Unauthorized", Duration::ZERO).await;
    let err = client_for(&denied.url)
        .query("up", None)
        .await
        .expect_err("401");
    assert!(
        matches!(
            err,
            Error::CredentialsRejected {
                status: 401,
                credentials_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(denied.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rate_limited_reads_are_retried_and_a_500_answer_is_not() {
    let limited = stand_in(2, 429, "slow down", Duration::ZERO).await;
    let result = client_for(&limited.url)
        .query("up", None)
        .await
        .expect("third attempt");
    assert_eq!(result.first_value(), Some(1.0));
    assert_eq!(limited.hits.load(Ordering::SeqCst), 3);

    let failing = stand_in(1, 500, "query failed", Duration::ZERO).await;
    let err = client_for(&failing.url)
        .query("up", None)
        .await
        .expect_err("500 is Prometheus' answer");
    assert!(matches!(err, Error::Http { status: 500, .. }), "{err:?}");
    assert_eq!(failing.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn credentials_are_sent_but_never_shown() {
    let denied = stand_in(u32::MAX, 401, "Unauthorized", Duration::ZERO).await;
    let bearer = PrometheusConfig::from_lookup(&denied.url, |name| {
        (name == "PROMETHEUS_TOKEN").then(|| "tok-s3cret".to_string())
    })
    .expect("config");
    let client = PrometheusClient::new(bearer).expect("client");
    let err = client.query("up", None).await.expect_err("401");
    let basic = PrometheusClient::new(
        PrometheusConfig::new(&denied.url)
            .expect("config")
            .with_auth(Auth::basic("ops", "pw-456")),
    )
    .expect("client");
    let basic_err = basic.query("up", None).await.expect_err("401");

    assert_eq!(
        *denied.authorization.lock().expect("lock"),
        vec!["Bearer tok-s3cret", "Basic b3BzOnB3LTQ1Ng=="]
    );
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        basic_err.to_string(),
        format!("{client:?}"),
        format!("{basic:?}"),
    ] {
        assert!(
            !shown.contains("tok-s3cret") && !shown.contains("pw-456"),
            "{shown}"
        );
    }
    assert!(
        err.to_string().contains(
            "did not accept the credentials (HTTP 401); \
             check PROMETHEUS_TOKEN, or PROMETHEUS_USER and PROMETHEUS_PASSWORD"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn query_all_runs_at_most_max_concurrency_queries_at_once() {
    let slow = stand_in(0, 200, "", Duration::from_millis(50)).await;
    let client = client_for(&slow.url);

    let results = client.query_all(vec!["up"; 20], 4).await;

    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(slow.hits.load(Ordering::SeqCst), 20);
    // Each answer takes 50 ms, so all four permits are in use at some point,
    // and never more.
    assert_eq!(slow.max_in_flight.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_server_that_never_answers_is_unreachable_after_the_timeout_and_retries() {
    let stuck = stand_in(0, 200, "", Duration::from_secs(30)).await;
    let client = PrometheusClient::new(
        PrometheusConfig::new(&stuck.url)
            .expect("config")
            .with_retry(fast_retry())
            .with_timeout(Duration::from_millis(200)),
    )
    .expect("client");

    let err = client.query("up", None).await.expect_err("times out");

    assert!(
        matches!(err, Error::Unreachable { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(stuck.hits.load(Ordering::SeqCst), 3);
    assert!(
        err.to_string().starts_with(&format!(
            "cannot reach Prometheus at {}/api/v1/query after 3 attempt(s): no answer within 200ms",
            stuck.url
        )),
        "{err}"
    );
}
