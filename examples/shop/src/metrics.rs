//! The shop's Prometheus metrics and their text exposition.
//!
//! This module owns the metric names, labels and help texts — the convention
//! onramp's built-in needs document — and renders them in the Prometheus text
//! format (0.0.4) for `GET /metrics`. It does not decide when something is
//! counted: the server, the flag store and the simulator call the `record_*`
//! methods.
//!
//! prometheus-client appends `_total` to counters itself, so counters are
//! registered without it (`http_requests` is exposed as `http_requests_total`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::flags::{PROVIDER_NAME, Resolution};
use crate::process::ProcessCollector;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of `http_request_duration_seconds`, in seconds.
pub const DURATION_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Labels of `http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template, e.g. `/checkout`.
    pub route: String,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The status code, e.g. `500`.
    pub status: String,
}

/// Labels of `http_request_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template.
    pub route: String,
    /// The HTTP method.
    pub method: String,
}

/// Labels of `feature_flag_evaluation_requests_total` (OpenFeature hook style,
/// OpenTelemetry attribute names with `.` → `_`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlagEvaluationLabels {
    /// The flag's key.
    pub feature_flag_key: String,
    /// The variant it resolved to.
    pub feature_flag_result_variant: String,
    /// Always [`PROVIDER_NAME`].
    pub feature_flag_provider_name: String,
    /// The resolution reason, e.g. `TARGETING_MATCH`.
    pub feature_flag_result_reason: String,
}

/// Labels of the engagement metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VariantLabels {
    /// The flag that split the sessions (`new-checkout-button`).
    pub feature_flag_key: String,
    /// The variant the session saw.
    pub feature_flag_result_variant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Every metric the shop exposes, and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
    in_flight: Gauge,
    flag_evaluations: Family<FlagEvaluationLabels, Counter>,
    sessions: Family<VariantLabels, Counter>,
    clicks: Family<VariantLabels, Counter>,
    page_exits: Family<VariantLabels, Counter>,
}

impl Metrics {
    /// Registers every metric; `version` goes into `shop_build_info`.
    pub fn new(version: &str) -> Metrics {
        let mut registry = Registry::default();

        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests handled, by route template, method and status code",
            requests.clone(),
        );
        let durations: HistogramFamily = Family::new_with_constructor(duration_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to handle an HTTP request, in seconds, by route template and method",
            durations.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled right now",
            in_flight.clone(),
        );
        let flag_evaluations = Family::<FlagEvaluationLabels, Counter>::default();
        registry.register(
            "feature_flag_evaluation_requests",
            "Feature flag evaluations, by flag, resolved variant, provider and reason",
            flag_evaluations.clone(),
        );
        let sessions = Family::<VariantLabels, Counter>::default();
        registry.register(
            "user_sessions",
            "User sessions started, by the feature flag variant the session saw",
            sessions.clone(),
        );
        let clicks = Family::<VariantLabels, Counter>::default();
        registry.register(
            "user_clicks",
            "User clicks, by the feature flag variant the session saw; clicks per session = rate(user_clicks_total) / rate(user_sessions_total)",
            clicks.clone(),
        );
        let page_exits = Family::<VariantLabels, Counter>::default();
        registry.register(
            "user_page_exits",
            "Sessions whose user left the page without continuing, by feature flag variant; share leaving = rate(user_page_exits_total) / rate(user_sessions_total)",
            page_exits.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: version.to_owned(),
            })
            .set(1);
        registry.register(
            "shop_build_info",
            "Always 1; the version label says which build of the shop is running",
            build,
        );
        registry.register_collector(Box::new(ProcessCollector));

        Metrics {
            registry,
            requests,
            durations,
            in_flight,
            flag_evaluations,
            sessions,
            clicks,
            page_exits,
        }
    }

    /// Renders every metric in the Prometheus text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Counts a request entering the handler; returns a guard that counts it
    /// leaving, so the gauge is right even if the handler is cancelled.
    pub fn request_started(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Records one handled request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(seconds);
    }

    /// Records one flag evaluation.
    pub fn record_flag_evaluation(&self, key: &str, resolution: &Resolution) {
        self.flag_evaluations
            .get_or_create(&FlagEvaluationLabels {
                feature_flag_key: key.to_owned(),
                feature_flag_result_variant: resolution.variant.clone(),
                feature_flag_provider_name: PROVIDER_NAME.to_owned(),
                feature_flag_result_reason: resolution.reason.as_str().to_owned(),
            })
            .inc();
    }

    /// Records one finished session: it started, its clicks, and whether the
    /// user left the page.
    pub fn record_session(&self, flag_key: &str, variant: &str, clicks: u64, exited: bool) {
        let labels = VariantLabels {
            feature_flag_key: flag_key.to_owned(),
            feature_flag_result_variant: variant.to_owned(),
        };
        self.sessions.get_or_create(&labels).inc();
        // Create the series even at zero so that rates divide cleanly from the start.
        self.clicks.get_or_create(&labels).inc_by(clicks);
        let exits = self.page_exits.get_or_create(&labels);
        if exited {
            exits.inc();
        }
    }

    /// `(sessions, clicks, exits)` counted so far for one variant.
    pub fn engagement(&self, flag_key: &str, variant: &str) -> (u64, u64, u64) {
        let labels = VariantLabels {
            feature_flag_key: flag_key.to_owned(),
            feature_flag_result_variant: variant.to_owned(),
        };
        let get =
            |family: &Family<VariantLabels, Counter>| family.get(&labels).map_or(0, |c| c.get());
        (
            get(&self.sessions),
            get(&self.clicks),
            get(&self.page_exits),
        )
    }
}

/// Decrements `http_requests_in_flight` when dropped.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Reason;

    #[test]
    fn counters_are_exposed_with_one_total_suffix() {
        let m = Metrics::new("1.2.3");
        m.record_request("/checkout", "POST", 500, 0.03);
        m.record_flag_evaluation(
            "new-checkout-button",
            &Resolution {
                variant: "on".into(),
                value: serde_json::Value::Bool(true),
                reason: Reason::TargetingMatch,
            },
        );
        m.record_session("new-checkout-button", "on", 6, true);
        let text = m.encode().expect("encode");
        for line in [
            "# TYPE http_requests_total counter",
            "http_requests_total{route=\"/checkout\",method=\"POST\",status=\"500\"} 1",
            "http_request_duration_seconds_bucket{route=\"/checkout\",method=\"POST\",le=\"0.025\"} 0",
            "http_request_duration_seconds_bucket{route=\"/checkout\",method=\"POST\",le=\"0.05\"} 1",
            "http_request_duration_seconds_bucket{route=\"/checkout\",method=\"POST\",le=\"+Inf\"} 1",
            "http_request_duration_seconds_count{route=\"/checkout\",method=\"POST\"} 1",
            "http_requests_in_flight 0",
            "feature_flag_evaluation_requests_total{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\",feature_flag_provider_name=\"flagd-file\",feature_flag_result_reason=\"TARGETING_MATCH\"} 1",
            "user_sessions_total{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\"} 1",
            "user_clicks_total{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\"} 6",
            "user_page_exits_total{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\"} 1",
            "shop_build_info{version=\"1.2.3\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(!text.contains("_total_total"), "{text}");
    }

    #[test]
    fn in_flight_guard_decrements() {
        let m = Metrics::new("t");
        let a = m.request_started();
        let b = m.request_started();
        assert!(
            m.encode()
                .expect("encode")
                .contains("\nhttp_requests_in_flight 2\n")
        );
        drop(a);
        drop(b);
        assert!(
            m.encode()
                .expect("encode")
                .contains("\nhttp_requests_in_flight 0\n")
        );
    }
}
