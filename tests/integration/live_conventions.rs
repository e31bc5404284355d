//! The metrics real applications expose, scraped by the real Prometheus:
//! each framework's exposition text (`tests/fixtures/exposition/`) is served
//! as the app's `/metrics`, and `plan --prometheus-url` must map every signal
//! it provides to the right name, type, unit and labels, so that the
//! service-health panels show the text's true numbers — on Prometheus 2.42
//! and on 3.x alike.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::exposition::ExpositionServer;
use crate::support::prometheus::{PrometheusServer, Version, on_both_prometheus};
use crate::support::{demo_manifests, onramp};

/// A framework's app, scraped as `checkout` in namespace `shop`.
struct Scraped {
    prometheus: PrometheusServer,
    _app: ExpositionServer,
}

impl Scraped {
    fn start(version: Version, fixture: &str) -> Scraped {
        let prometheus = PrometheusServer::of(version);
        let app = ExpositionServer::start(fixture);
        prometheus.write_target(
            "checkout",
            app.address(),
            &[("namespace", "shop"), ("job", "checkout")],
        );
        let scraped = Scraped {
            prometheus,
            _app: app,
        };
        // rate() needs a few scrapes (1 s apart) of the growing counters.
        scraped.wait_for(r#"count_over_time(up{job="checkout"}[1m])"#, 4.0);
        scraped
    }

    fn query(&self, expr: &str) -> Vec<(onramp::client::prometheus::Labels, f64)> {
        self.prometheus.query(expr)
    }

    fn wait_for(&self, expr: &str, min: f64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.query(expr).first().map_or(0.0, |s| s.1);
            if value >= min {
                return;
            }
            assert!(Instant::now() < deadline, "{expr} stayed below {min}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `plan --prometheus-url … -o json` for service-health.
    fn plan(&self) -> Value {
        crate::support::service_health_plan(&["--prometheus-url", &self.prometheus.url()])
    }

    /// The values of a panel's first query, as Prometheus answers it now.
    fn panel(&self, plan: &Value, title: &str) -> Vec<(onramp::client::prometheus::Labels, f64)> {
        let need = &plan["needs"][0];
        let expr = need["queries"]
            .as_array()
            .expect("queries")
            .iter()
            .find(|q| q["panel"] == title)
            .unwrap_or_else(|| panic!("no panel {title}"))["expr"]
            .as_str()
            .expect("expr")
            .to_string();
        self.query(&onramp::check::verify::instant_query(&expr, &[]))
    }
}

fn signal<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["needs"][0]["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no signal {name}"))
}

/// Each `(signal, series, type)` resolves to that series and type, chosen
/// because the app exposes it.
fn assert_resolves(plan: &Value, expected: &[(&str, &str, &str)]) {
    for (name, series, kind) in expected {
        let s = signal(plan, name);
        assert_eq!(s["metric"], *series, "signal {name}: {s}");
        assert_eq!(s["type"], *kind, "signal {name}: {s}");
        assert!(
            s["why"]
                .as_str()
                .is_some_and(|w| w.contains("the app exposes")),
            "signal {name}: {s}"
        );
    }
}

/// By-route panels split by the framework's route label, one line per route.
fn assert_split_by(scraped: &Scraped, plan: &Value, route_label: &str, routes: &[&str]) {
    assert_eq!(signal(plan, "requests")["labels"]["route"], route_label);
    let by_route = scraped.panel(plan, "Requests per second by route");
    let mut seen: Vec<&str> = by_route
        .iter()
        .map(|(labels, _)| labels.get(route_label).map_or("", String::as_str))
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, routes, "{by_route:?}");
}

fn single(values: &[(onramp::client::prometheus::Labels, f64)]) -> f64 {
    assert_eq!(values.len(), 1, "{values:?}");
    values[0].1
}

on_both_prometheus! {
    fn fastapi_maps_handler_status_classes_and_the_fine_histogram(version) {
        let app = Scraped::start(version, "fastapi.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                ("requests", "http_requests_total", "counter"),
                (
                    "duration",
                    "http_request_duration_seconds_count",
                    "histogram",
                ),
                (
                    "latency",
                    "http_request_duration_highr_seconds_count",
                    "histogram",
                ),
                ("cpu", "process_cpu_seconds_total", "counter"),
                ("memory", "process_resident_memory_bytes", "gauge"),
            ],
        );
        assert!(
            signal(&plan, "latency")["why"]
                .as_str()
                .is_some_and(|w| w.contains("the finest of 2 histograms present (22 buckets)")),
            "{}",
            signal(&plan, "latency")
        );
        assert_split_by(&app, &plan, "handler", &["/items/{item_id}", "/metrics"]);
        // status="5xx": 2 of the 42 requests that are not scrapes.
        let errors = single(&app.panel(&plan, "Error ratio"));
        assert!((errors - 2.0 / 42.0).abs() < 1e-6, "{errors}");
        // The per-handler histogram tops out at 1 s; the fine one says ~21 s.
        let p95 = single(&app.panel(&plan, "95th percentile latency"));
        assert!((20.0..23.0).contains(&p95), "{p95}");
    }
}

on_both_prometheus! {
    fn micrometer_reads_cpu_as_a_gauge_and_memory_from_the_jvm_pools(version) {
        let app = Scraped::start(version, "micrometer.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                ("requests", "http_server_requests_seconds_count", "counter"),
                (
                    "duration",
                    "http_server_requests_seconds_count",
                    "histogram",
                ),
                ("latency", "http_server_requests_seconds_count", "histogram"),
                ("cpu", "process_cpu_usage", "gauge"),
                ("memory", "jvm_memory_used_bytes", "gauge"),
                (
                    "inflight",
                    "http_server_requests_active_seconds_active_count",
                    "gauge",
                ),
                ("start_time", "process_start_time_seconds", "gauge"),
            ],
        );
        assert_split_by(
            &app,
            &plan,
            "uri",
            &["/actuator/prometheus", "/orders/{id}"],
        );
        let cpu = single(&app.panel(&plan, "CPU used (cores)"));
        assert!(
            (cpu - 0.0123).abs() < 1e-9,
            "a gauge, not rate() of it: {cpu}"
        );
        let memory = single(&app.panel(&plan, "Memory (resident)"));
        assert!(
            (memory - 132_737_056.0).abs() < 1.0,
            "all pools summed: {memory}"
        );
    }
}

on_both_prometheus! {
    fn the_opentelemetry_java_agent_maps_http_route_and_its_cpu_counter(version) {
        let app = Scraped::start(version, "otel-java.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                (
                    "requests",
                    "http_server_request_duration_seconds_count",
                    "counter",
                ),
                (
                    "duration",
                    "http_server_request_duration_seconds_count",
                    "histogram",
                ),
                (
                    "latency",
                    "http_server_request_duration_seconds_count",
                    "histogram",
                ),
                ("cpu", "jvm_cpu_time_seconds_total", "counter"),
                ("memory", "jvm_memory_used_bytes", "gauge"),
            ],
        );
        assert_eq!(signal(&plan, "memory")["labels"]["area"], "jvm_memory_type");
        assert_split_by(&app, &plan, "http_route", &["/orders/{id}"]);
        let errors = single(&app.panel(&plan, "Error ratio"));
        assert!((errors - 2.0 / 40.0).abs() < 1e-6, "{errors}");
    }
}

on_both_prometheus! {
    fn the_opentelemetry_dotnet_exporter_maps_its_unit_spelling(version) {
        let app = Scraped::start(version, "dotnet-otel.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                (
                    "requests",
                    "http_server_request_duration_s_count",
                    "counter",
                ),
                (
                    "latency",
                    "http_server_request_duration_s_count",
                    "histogram",
                ),
                ("inflight", "http_server_active_requests__request_", "gauge"),
            ],
        );
        assert_split_by(&app, &plan, "http_route", &["/orders/{id}"]);
    }
}

on_both_prometheus! {
    fn the_older_dotnet_milliseconds_histogram_is_converted_to_seconds(version) {
        let app = Scraped::start(version, "dotnet-otel-ms.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                ("requests", "http_server_duration_ms_count", "counter"),
                ("latency", "http_server_duration_ms_count", "histogram"),
            ],
        );
        assert_eq!(signal(&plan, "latency")["unit"], "milliseconds");
        assert_split_by(&app, &plan, "http_route", &["/orders/{id}"]);
        // 38 of 40 requests under 250 ms: p95 is 0.25 s, not 250.
        let p95 = single(&app.panel(&plan, "95th percentile latency"));
        assert!((0.2..=0.25).contains(&p95), "{p95}");
    }
}

on_both_prometheus! {
    fn node_prom_client_maps_path_and_status_code(version) {
        let app = Scraped::start(version, "node-prom-client.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                ("requests", "http_request_duration_seconds_count", "counter"),
                (
                    "duration",
                    "http_request_duration_seconds_count",
                    "histogram",
                ),
                ("cpu", "process_cpu_seconds_total", "counter"),
                ("memory", "process_resident_memory_bytes", "gauge"),
                ("start_time", "process_start_time_seconds", "gauge"),
            ],
        );
        assert_eq!(signal(&plan, "requests")["labels"]["status"], "status_code");
        assert_split_by(&app, &plan, "path", &["/orders/:id"]);
        let errors = single(&app.panel(&plan, "Error ratio"));
        assert!((errors - 2.0 / 40.0).abs() < 1e-6, "{errors}");
    }
}

on_both_prometheus! {
    fn go_client_golang_maps_handler_and_code(version) {
        let app = Scraped::start(version, "go-client-golang.prom");
        let plan = app.plan();
        assert_resolves(
            &plan,
            &[
                ("requests", "http_requests_total", "counter"),
                (
                    "duration",
                    "http_request_duration_seconds_count",
                    "histogram",
                ),
                ("inflight", "http_requests_in_flight", "gauge"),
                ("cpu", "process_cpu_seconds_total", "counter"),
            ],
        );
        assert_eq!(signal(&plan, "requests")["labels"]["status"], "code");
        assert_split_by(&app, &plan, "handler", &["/orders"]);
        let errors = single(&app.panel(&plan, "Error ratio"));
        assert!((errors - 2.0 / 40.0).abs() < 1e-6, "{errors}");
    }
}

/// `verify -o json` of service-health against the scraped app.
fn verify(scraped: &Scraped, extra: &[&str]) -> Value {
    let (manifests, url) = (demo_manifests(), scraped.prometheus.url());
    let mut args = vec![
        "verify",
        "checkout",
        "-f",
        &manifests,
        "--need",
        "service-health",
        "--prometheus-url",
        &url,
        "--json",
    ];
    args.extend_from_slice(extra);
    let run = onramp(&args);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("verify json: {e}\n{}\n{}", run.stdout, run.stderr))
}

fn signal_check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["category"] == "signal" && c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report}"))
}

on_both_prometheus! {
    fn verify_said_label_mismatch_when_the_metric_exists_only_for_other_apps(version) {
        // The Java agent has no process_start_time_seconds; a Go app beside it has.
        let app = Scraped::start(version, "otel-java.prom");
        let other = ExpositionServer::start("go-client-golang.prom");
        app.prometheus.write_target(
            "payments",
            other.address(),
            &[("namespace", "shop"), ("job", "payments")],
        );
        app.wait_for(r#"count(process_start_time_seconds{job="payments"})"#, 1.0);
        let report = verify(&app, &[]);
        let check = signal_check(&report, "service-health/start_time");
        assert_eq!(check["status"], "fail", "{check}");
        let detail = check["detail"].as_str().expect("detail");
        assert!(
            detail.starts_with("metric missing for this app: process_start_time_seconds has series only for other apps (namespace=\"shop\" job=\"payments\")"),
            "{detail}"
        );
        assert!(
            detail
                .contains("Conventions tried: process_start_time_seconds (Prometheus client defaults)"),
            "{detail}"
        );
        assert!(!detail.contains("label mismatch"), "{detail}");
    }
}

on_both_prometheus! {
    fn verify_passed_a_signal_whose_route_label_exists_on_no_series(version) {
        // Mapped by hand to FastAPI's name with the default's `route` label,
        // which FastAPI does not have (it says `handler`).
        let app = Scraped::start(version, "fastapi.prom");
        let report = verify(&app, &["--signal", "requests=http_requests_total"]);
        let check = signal_check(&report, "service-health/requests");
        assert_eq!(check["status"], "fail", "{check}");
        let detail = check["detail"].as_str().expect("detail");
        assert!(detail.contains("none has the label route"), "{detail}");
        assert!(detail.contains("--signal requests.LABEL=NAME"), "{detail}");
        // Resolved from the series, the same app passes the check.
        let report = verify(&app, &[]);
        assert_eq!(
            signal_check(&report, "service-health/requests")["status"],
            "pass"
        );
    }
}

on_both_prometheus! {
    fn plan_did_not_say_which_convention_was_chosen_or_which_were_tried(version) {
        let app = Scraped::start(version, "otel-java.prom");
        let (manifests, url) = (demo_manifests(), app.prometheus.url());
        let run = onramp(&[
            "plan",
            "checkout",
            "-f",
            &manifests,
            "--need",
            "service-health",
            "--prometheus-url",
            &url,
        ]);
        run.expect_status(0);
        for line in [
            "cpu              jvm_cpu_time_seconds_total (alternative (OpenTelemetry Java agent))",
            "chosen: the app exposes jvm_cpu_time_seconds_total",
            "chosen: the app exposes http_server_request_duration_seconds_count with label http_request_method, http_route, http_response_status_code",
            "start_time       process_start_time_seconds (default)",
            "no convention matched the app's series; tried:",
            "- process_start_time_seconds (Prometheus client defaults): no series process_start_time_seconds",
        ] {
            assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
        }
    }
}

/// A need whose panel reads the one-second bucket of the Go app's latency
/// histogram, selected with `matcher`.
fn one_second_bucket_need(matcher: &str) -> tempfile::TempDir {
    crate::support::dir_with(
        "fast-requests.yaml",
        &format!(
            r#"id: fast-requests
title: Fast requests
story: As a developer I want to see how many requests finish within a second.
signals:
  duration: {{description: Request durations., type: histogram, metric: http_request_duration_seconds, unit: seconds, instrumentation: Observe them.}}
panels:
  - {{title: Requests within a second, description: Requests per second finishing within one second., unit: reqps, type: stat, queries: [{{expr: 'sum(rate(http_request_duration_seconds_bucket{{{matcher}}}[$__rate_interval]))'}}]}}
walkthrough: Look at it.
"#
        ),
    )
}

on_both_prometheus! {
    /// Prometheus 3 stores the `le="1"` an app writes as `le="1.0"`: a panel
    /// selecting `le="1"` showed data on Prometheus 2 and none on 3. onramp
    /// refuses it, naming the regex that finds the bucket on both.
    fn a_panel_on_le_1_showed_no_data_on_prometheus_3(version) {
        let app = Scraped::start(version, "go-client-golang.prom");
        let stored: Vec<String> = app
            .query(r#"count by (le) (http_request_duration_seconds_bucket{le=~"1(\\.0)?"})"#)
            .into_iter()
            .map(|(labels, _)| labels.get("le").cloned().unwrap_or_default())
            .collect();
        let spelling = match version {
            Version::V2 => "1",
            Version::V3 => "1.0",
        };
        assert_eq!(stored, [spelling], "how Prometheus {version:?} stores the bound");

        let exact = one_second_bucket_need(r#"le="1""#);
        let exact_dir = exact.path().display().to_string();
        let manifests = demo_manifests();
        let run = onramp(&[
            "plan", "checkout", "-f", &manifests, "--needs-dir", &exact_dir, "--need",
            "fast-requests",
        ]);
        run.expect_status(2);
        assert!(
            run.stderr.contains(r#"`le="1"` finds nothing on Prometheus 3"#)
                && run.stderr.contains(r#"match both with `le=~"1(\\.0)?"`"#),
            "{}",
            run.stderr
        );

        let both = one_second_bucket_need(r#"le=~"1(\\.0)?""#);
        let both_dir = both.path().display().to_string();
        let report = verify(&app, &["--needs-dir", &both_dir, "--need", "fast-requests"]);
        let panel = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == "fast-requests/Requests within a second [A]")
            .unwrap_or_else(|| panic!("no panel check: {report:#}"));
        assert_eq!(panel["status"], "pass", "{panel}");
    }
}
