//! The Prometheus client against a real Prometheus (the OS package's 2.42 and
//! the pinned 3.x, each started per test on its own loopback port): queries, targets from file_sd, rules
//! and alerts, reload with confirmation, unreachable servers, bounded
//! concurrent queries, and `promtool` checks. Retry and credential handling
//! against a server that fails on purpose are in the offline tier
//! (`tests/offline/prometheus_retry.rs`); here only the same rules through
//! the Kubernetes stand-in's service proxy.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use onramp::client::prometheus::{
    AlertState, Error, PrometheusClient, QueryRange, QueryResult, RuleCheckError, RuleHealth,
    RuleKind, TargetHealth, promtool_check_rules, promtool_test_rules,
};

use crate::support::prometheus::{
    FILE_SD_JOB, PrometheusOptions, PrometheusServer, Version, free_port, on_both_prometheus,
};
use crate::support::prometheus_standin::{StandIn, client_for, stand_in};

/// The longest any test waits for Prometheus to scrape or evaluate.
const WAIT: Duration = Duration::from_secs(20);

const GOOD_RULES: &str = r#"groups:
  - name: onramp-test
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          severity: page
        annotations:
          summary: always firing, to prove alerts work
      - record: onramp:up:sum
        expr: sum(up)
"#;

const BROKEN_RULES: &str = r#"groups:
  - name: onramp-test
    rules:
      - alert: Broken
        expr: sum(rate(http_requests_total[5m])
"#;

/// Polls `check` until it succeeds, failing the test with the last reason
/// after [`WAIT`].
async fn eventually<T, Fut>(what: &str, mut check: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(reason) => panic!("{what}: not within {WAIT:?}; last: {reason}"),
        }
    }
}

on_both_prometheus! {
    async fn self_scrape_behind_a_path_prefix_is_up_with_the_file_sd_labels(version) {
        let server = PrometheusServer::start(PrometheusOptions {
            version,
            route_prefix: Some("/prom".into()),
            ..PrometheusOptions::default()
        });
        let client = client_for(&server.url());

        assert!(client.ready().await.expect("ready answers"));
        let info = client.build_info().await.expect("build info");
        let major = match version {
            Version::V2 => "2.",
            Version::V3 => "3.",
        };
        assert!(info.version.starts_with(major), "version {:?}", info.version);

        let metrics_path = server.metrics_path();
        server.write_target(
            "self",
            &server.address(),
            &[
                ("job", "onramp-self"),
                ("namespace", "shop"),
                ("__metrics_path__", &metrics_path),
            ],
        );
        let closed = format!("127.0.0.1:{}", free_port());
        server.write_target("closed", &closed, &[("job", "closed-port")]);

        let c = &client;
        let up = eventually("up{job=\"onramp-self\"} == 1", || async move {
            let result = c
                .query(r#"up{job="onramp-self"}"#, None)
                .await
                .map_err(|e| e.to_string())?;
            match result.first_value() {
                Some(1.0) => Ok(result),
                other => Err(format!("up is {other:?}")),
            }
        })
        .await;
        let labels = &up.samples()[0].labels;
        // The job label from file_sd wins over the scrape config's job_name.
        assert_eq!(labels["job"], "onramp-self");
        assert_eq!(labels["namespace"], "shop");
        assert_eq!(labels["instance"], server.address());

        let targets = eventually("both targets scraped", || async move {
            let targets = c.targets().await.map_err(|e| e.to_string())?;
            let scraped = targets
                .iter()
                .filter(|t| t.health != TargetHealth::Unknown)
                .count();
            if targets.len() == 2 && scraped == 2 {
                Ok(targets)
            } else {
                Err(format!("{targets:?}"))
            }
        })
        .await;
        let me = targets
            .iter()
            .find(|t| t.labels["job"] == "onramp-self")
            .expect("the self target");
        assert_eq!(me.health, TargetHealth::Up);
        assert_eq!(me.scrape_pool, FILE_SD_JOB);
        assert_eq!(
            me.scrape_url,
            format!("http://{}/prom/metrics", server.address())
        );
        assert_eq!(me.discovered_labels["__metrics_path__"], "/prom/metrics");
        assert_eq!(me.last_error, "");
        assert!(!me.last_scrape.is_empty());

        let down = targets
            .iter()
            .find(|t| t.labels["job"] == "closed-port")
            .expect("the closed-port target");
        assert_eq!(down.health, TargetHealth::Down);
        assert!(
            down.last_error.contains(&closed) && down.last_error.contains("connection refused"),
            "lastError: {:?}",
            down.last_error
        );

        assert_eq!(
            client
                .series_count(r#"up{namespace="shop"}"#)
                .await
                .expect("series"),
            1
        );
    }
}

on_both_prometheus! {
    async fn queries_return_typed_values_and_bad_promql_is_not_retried(version) {
        let server = PrometheusServer::of(version);
        let client = client_for(&server.url());

        let nan = client.query("0/0", None).await.expect("0/0");
        assert!(
            matches!(nan, QueryResult::Scalar(p) if p.value.is_nan()),
            "{nan:?}"
        );
        let inf = client.query("1/0", None).await.expect("1/0");
        assert_eq!(inf.first_value(), Some(f64::INFINITY));
        let neg = client.query("-1/0", None).await.expect("-1/0");
        assert_eq!(neg.first_value(), Some(f64::NEG_INFINITY));

        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let time = client.query("time()", Some(at)).await.expect("time()");
        assert_eq!(time.first_value(), Some(1_700_000_000.0));

        let vector = client
            .query(
                r#"label_replace(vector(42), "route", "/cart", "", "")"#,
                None,
            )
            .await
            .expect("vector");
        assert_eq!(vector.samples().len(), 1);
        assert_eq!(vector.samples()[0].labels["route"], "/cart");
        assert_eq!(vector.samples()[0].value, 42.0);

        let end = SystemTime::now();
        let range = client
            .query_range(
                "vector(7)",
                QueryRange {
                    start: end - Duration::from_secs(10),
                    end,
                    step: Duration::from_secs(1),
                },
            )
            .await
            .expect("range query");
        let QueryResult::Matrix(series) = &range else {
            panic!("expected a matrix, got {range:?}");
        };
        assert_eq!(series[0].values.len(), 11);
        assert!(series[0].values.iter().all(|p| p.value == 7.0));

        let requests_400 = || async {
            client
                .self_metric(
                    "prometheus_http_requests_total",
                    &[("handler", "/api/v1/query"), ("code", "400")],
                )
                .await
                .expect("Prometheus' own metrics")
                .unwrap_or(0.0)
        };
        let before = requests_400().await;
        let err = client
            .query("sum(rate(http_requests_total[5m])", None)
            .await
            .expect_err("a parse error");
        let Error::Api {
            url,
            error_type,
            error,
        } = &err
        else {
            panic!("expected an API error, got {err:?}");
        };
        assert_eq!(url, &format!("{}/api/v1/query", server.url()));
        assert_eq!(error_type, "bad_data");
        assert!(error.contains("parse error"), "{error}");
        assert!(
            err.to_string().contains(
                "rejected the request (bad_data): invalid parameter \"query\": 1:34: parse error"
            ),
            "{err}"
        );
        // Prometheus itself counted exactly one 400: the client did not retry.
        assert_eq!(requests_400().await - before, 1.0);
    }
}

on_both_prometheus! {
    async fn valid_rules_load_healthy_and_an_always_true_alert_fires(version) {
        let server = PrometheusServer::of(version);
        let client = client_for(&server.url());
        let rules_file = server.write_rules("onramp", GOOD_RULES);

        let status = client.reload_and_confirm().await.expect("reload works");
        assert!(status.successful);
        assert!(client.last_reload_successful().await.expect("status"));

        let c = &client;
        let groups = eventually("both rules evaluated ok", || async move {
            let groups = c.rules().await.map_err(|e| e.to_string())?;
            let healthy = groups
                .iter()
                .flat_map(|g| &g.rules)
                .filter(|r| r.health == RuleHealth::Ok)
                .count();
            if healthy == 2 {
                Ok(groups)
            } else {
                Err(format!("{groups:?}"))
            }
        })
        .await;
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "onramp-test");
        assert_eq!(groups[0].file, rules_file.display().to_string());
        assert_eq!(groups[0].interval, 1.0);
        let kinds: Vec<(RuleKind, &str)> = groups[0]
            .rules
            .iter()
            .map(|r| (r.kind, r.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (RuleKind::Alerting, "AlwaysFiring"),
                (RuleKind::Recording, "onramp:up:sum")
            ]
        );
        assert!(groups[0].rules.iter().all(|r| r.last_error.is_none()));

        let alert = eventually("AlwaysFiring fires", || async move {
            let alerts = c.alerts().await.map_err(|e| e.to_string())?;
            alerts
                .into_iter()
                .find(|a| a.labels.get("alertname").map(String::as_str) == Some("AlwaysFiring"))
                .filter(|a| a.state == AlertState::Firing)
                .ok_or_else(|| "not firing yet".to_string())
        })
        .await;
        assert_eq!(alert.labels["severity"], "page");
        assert_eq!(
            alert.annotations["summary"],
            "always firing, to prove alerts work"
        );
        assert_eq!(alert.value, 1.0);
        assert!(alert.active_at.is_some());

        let rules = client.rules().await.expect("rules");
        let always = &rules[0].rules[0];
        assert_eq!(always.state, Some(AlertState::Firing));
        assert_eq!(always.alerts.len(), 1);
    }
}

on_both_prometheus! {
    async fn broken_rules_are_refused_and_the_old_rules_stay_loaded(version) {
        let server = PrometheusServer::of(version);
        let client = client_for(&server.url());
        let rules_file = server.write_rules("onramp", GOOD_RULES);
        client.reload_and_confirm().await.expect("good rules load");

        server.write_rules("onramp", BROKEN_RULES);
        let err = client
            .reload_and_confirm()
            .await
            .expect_err("broken rules are refused");
        let Error::ReloadFailed { url, reason } = &err else {
            panic!("expected ReloadFailed, got {err:?}");
        };
        assert_eq!(url, &format!("{}/-/reload", server.url()));
        assert!(
            reason.starts_with(
                "failed to reload config: one or more errors occurred while applying the new configuration"
            ),
            "{reason}"
        );
        assert!(err.to_string().contains("promtool check rules"), "{err}");
        assert!(!client.last_reload_successful().await.expect("status"));
        assert!(
            server
                .log_tail(20)
                .contains("error loading rules, previous rule set restored"),
            "{}",
            server.log_tail(20)
        );

        // The rules loaded before are still the ones Prometheus evaluates.
        let names: Vec<String> = client
            .rules()
            .await
            .expect("rules")
            .iter()
            .flat_map(|g| g.rules.iter().map(|r| r.name.clone()))
            .collect();
        assert_eq!(names, vec!["AlwaysFiring", "onramp:up:sum"]);

        // promtool says what Prometheus' reload answer does not: where and why.
        let check = promtool_check_rules(&rules_file).expect_err("promtool rejects it");
        assert!(
            check.to_string().contains(
                "5:15: group \"onramp-test\", rule 1, \"Broken\": could not parse expression: \
                 1:34: parse error: unclosed left parenthesis"
            ),
            "{check}"
        );

        server.write_rules("onramp", GOOD_RULES);
        let status = client.reload_and_confirm().await.expect("good rules again");
        assert!(status.successful);
        assert!(client.last_reload_successful().await.expect("status"));
    }
}

on_both_prometheus! {
    async fn reload_without_the_lifecycle_flag_says_how_to_enable_it(version) {
        let server = PrometheusServer::start(PrometheusOptions {
            version,
            enable_lifecycle: false,
            ..PrometheusOptions::default()
        });
        let client = client_for(&server.url());
        let err = client.reload().await.expect_err("reload is disabled");
        assert!(matches!(err, Error::ReloadFailed { .. }), "{err:?}");
        assert!(
            err.to_string().contains(
                "Lifecycle API is not enabled. (HTTP 403): start Prometheus with --web.enable-lifecycle"
            ),
            "{err}"
        );
    }
}

on_both_prometheus! {
    async fn stopped_prometheus_is_unreachable_after_bounded_attempts(version) {
        let mut server = PrometheusServer::of(version);
        let client = client_for(&server.url());
        assert!(client.ready().await.expect("ready"));
        server.stop();

        let started = Instant::now();
        let err = client.query("up", None).await.expect_err("unreachable");
        let elapsed = started.elapsed();
        let Error::Unreachable {
            url,
            attempts,
            reason,
        } = &err
        else {
            panic!("expected Unreachable, got {err:?}");
        };
        assert_eq!(url, &format!("{}/api/v1/query", server.url()));
        assert_eq!(*attempts, 3);
        assert!(reason.contains("Connection refused"), "{reason}");
        assert!(err.is_unreachable());
        assert!(
            err.to_string().starts_with(&format!(
                "cannot reach Prometheus at {}/api/v1/query after 3 attempt(s): Connection refused",
                server.url()
            )),
            "{err}"
        );
        // Two backoffs of 20 ms and 40 ms, nowhere near a timeout.
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

        let ready = client.ready().await.expect_err("not ready either");
        assert!(ready.is_unreachable(), "{ready:?}");
    }
}

on_both_prometheus! {
    async fn query_all_returns_results_in_input_order(version) {
        let server = PrometheusServer::of(version);
        let client = client_for(&server.url());
        let exprs: Vec<String> = (0..20)
            .map(|i| {
                if i == 7 {
                    "vector(".to_string()
                } else {
                    format!("vector({i})")
                }
            })
            .collect();

        let results = client.query_all(exprs.clone(), 4).await;

        assert_eq!(results.len(), 20);
        for (i, result) in results.iter().enumerate() {
            if i == 7 {
                assert!(
                    matches!(result, Err(Error::Api { error_type, .. }) if error_type == "bad_data"),
                    "{result:?}"
                );
            } else {
                let value = result.as_ref().expect("a result").first_value();
                assert_eq!(value, Some(i as f64), "query {i}: {}", exprs[i]);
            }
        }
    }
}

#[test]
#[cfg_attr(
    not(prometheus),
    ignore = "needs prometheus and promtool 2.x: apt-get install prometheus (ONRAMP_TEST_PROMETHEUS)"
)]
fn promtool_checks_rule_files_and_unit_tests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, GOOD_RULES).expect("write");
    promtool_check_rules(&good).expect("good rules pass");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, BROKEN_RULES).expect("write");
    let err = promtool_check_rules(&bad).expect_err("bad rules fail");
    assert!(matches!(err, RuleCheckError::Rejected { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "promtool rejected {0}:\n{0}: 5:15: group \"onramp-test\", rule 1, \"Broken\": \
             could not parse expression: 1:34: parse error: unclosed left parenthesis",
            bad.display()
        )
    );

    let unit_test = |severity: &str| {
        format!(
            "rule_files: [good.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    \
             input_series: []\n    alert_rule_test:\n      - eval_time: 1m\n        \
             alertname: AlwaysFiring\n        exp_alerts:\n          - exp_labels: {{severity: {severity}}}\n            \
             exp_annotations: {{summary: \"always firing, to prove alerts work\"}}\n"
        )
    };
    let passing = dir.path().join("passing_test.yaml");
    std::fs::write(&passing, unit_test("page")).expect("write");
    promtool_test_rules(&passing).expect("the unit test passes");

    let failing = dir.path().join("failing_test.yaml");
    std::fs::write(&failing, unit_test("ticket")).expect("write");
    let err = promtool_test_rules(&failing).expect_err("the unit test fails");
    let message = err.to_string();
    assert!(
        message.contains("alertname: AlwaysFiring, time: 1m"),
        "{message}"
    );
    assert!(message.contains(r#"severity="ticket""#), "{message}");
}

/// A query to the Prometheus behind the Kubernetes service proxy.
async fn query_through_the_service_proxy(
    upstream: &StandIn,
) -> onramp::client::prometheus::Result<QueryResult> {
    use crate::support::kube::{Scenario, Standin};
    use onramp::client::kube::{ClusterRef, KubeClient, ServiceProxy};
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let address = upstream
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address");
    standin.proxy_to("monitoring", "prometheus-operated", "9090", address);
    let settings = ClusterRef {
        kubeconfig: Some(standin.kubeconfig()),
        ..ClusterRef::default()
    };
    let kube = KubeClient::connect(&settings).await.expect("a client");
    let proxy = ServiceProxy::new(kube, "monitoring", "prometheus-operated", "9090");
    let client = PrometheusClient::through(proxy).expect("a client");
    client.query("up", None).await
}

#[tokio::test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
async fn a_query_through_the_service_proxy_was_not_retried_like_a_direct_one() {
    // Direct: three attempts, the third answers.
    let direct = stand_in(2, 503, "upstream unavailable", Duration::ZERO).await;
    let result = client_for(&direct.url).query("up", None).await;
    assert_eq!(result.expect("third attempt").first_value(), Some(1.0));
    assert_eq!(direct.hits.load(Ordering::SeqCst), 3);
    // Through the API server's service proxy: the same policy.
    let proxied = stand_in(2, 503, "upstream unavailable", Duration::ZERO).await;
    let result = query_through_the_service_proxy(&proxied).await;
    assert_eq!(result.expect("third attempt").first_value(), Some(1.0));
    assert_eq!(proxied.hits.load(Ordering::SeqCst), 3);
    // And as bounded: a Service that keeps failing is asked three times.
    let down = stand_in(u32::MAX, 502, "bad gateway", Duration::ZERO).await;
    let err = query_through_the_service_proxy(&down)
        .await
        .expect_err("502");
    assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
    assert_eq!(down.hits.load(Ordering::SeqCst), 3);
}
