//! Typed shapes of the Prometheus HTTP API answers onramp reads: query
//! results, targets, rule groups, alerts and build info, plus the parsing of
//! sample values (`"NaN"`, `"+Inf"`, …) and of Prometheus' own `/metrics`
//! text. It owns the wire format only; requests are made by the client.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// A label set (`{job="shop", instance="…"}`), ordered by label name.
pub type Labels = BTreeMap<String, String>;

/// One metric's metadata as a target exposes it (`/api/v1/metadata`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MetricMetadata {
    /// `counter`, `gauge`, `histogram`, `summary`, `gaugehistogram`, `info`,
    /// `stateset` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The `# HELP` text.
    #[serde(default)]
    pub help: String,
    /// The `# UNIT` (OpenMetrics; usually empty).
    #[serde(default)]
    pub unit: String,
}

/// One value at one time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Unix time in seconds.
    pub timestamp: f64,
    /// The value; may be NaN or ±infinity.
    pub value: f64,
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (timestamp, raw): (f64, String) = Deserialize::deserialize(deserializer)?;
        let value = parse_sample_value(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid sample value {raw:?}")))?;
        Ok(Point { timestamp, value })
    }
}

/// One series of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels (`__name__` included when the query keeps it).
    pub labels: Labels,
    /// Unix time in seconds.
    pub timestamp: f64,
    /// The value; may be NaN or ±infinity.
    pub value: f64,
}

/// One series of a range vector.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RangeSeries {
    /// The series' labels.
    #[serde(rename = "metric")]
    pub labels: Labels,
    /// Float points, oldest first (native-histogram points are left out).
    #[serde(default)]
    pub values: Vec<Point>,
}

/// The result of an instant or range query.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryResult {
    /// An instant vector (native-histogram samples are left out).
    Vector(Vec<Sample>),
    /// A range vector.
    Matrix(Vec<RangeSeries>),
    /// A scalar.
    Scalar(Point),
    /// A string literal result.
    String {
        /// Unix time in seconds.
        timestamp: f64,
        /// The string.
        value: String,
    },
}

impl QueryResult {
    /// True when the query returned no data (an empty vector or matrix).
    pub fn is_empty(&self) -> bool {
        match self {
            QueryResult::Vector(samples) => samples.is_empty(),
            QueryResult::Matrix(series) => series.is_empty(),
            QueryResult::Scalar(_) | QueryResult::String { .. } => false,
        }
    }

    /// The instant-vector samples, or an empty slice for other result types.
    pub fn samples(&self) -> &[Sample] {
        match self {
            QueryResult::Vector(samples) => samples,
            _ => &[],
        }
    }

    /// The scalar value, or the value of the first vector sample.
    pub fn first_value(&self) -> Option<f64> {
        match self {
            QueryResult::Scalar(point) => Some(point.value),
            QueryResult::Vector(samples) => samples.first().map(|sample| sample.value),
            QueryResult::Matrix(_) | QueryResult::String { .. } => None,
        }
    }
}

/// The `data` of a query answer as Prometheus sends it.
#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub(crate) enum RawQueryData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RangeSeries>),
    Scalar(Point),
    String((f64, String)),
}

#[derive(Deserialize)]
pub(crate) struct RawSample {
    #[serde(default)]
    metric: Labels,
    // Absent for native-histogram samples, which carry `histogram` instead.
    value: Option<Point>,
}

impl From<RawQueryData> for QueryResult {
    fn from(raw: RawQueryData) -> Self {
        match raw {
            RawQueryData::Vector(samples) => QueryResult::Vector(
                samples
                    .into_iter()
                    .filter_map(|sample| {
                        sample.value.map(|point| Sample {
                            labels: sample.metric,
                            timestamp: point.timestamp,
                            value: point.value,
                        })
                    })
                    .collect(),
            ),
            RawQueryData::Matrix(series) => QueryResult::Matrix(series),
            RawQueryData::Scalar(point) => QueryResult::Scalar(point),
            RawQueryData::String((timestamp, value)) => QueryResult::String { timestamp, value },
        }
    }
}

/// `/api/v1/status/buildinfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BuildInfo {
    /// For example `2.42.0`.
    pub version: String,
    /// The source revision.
    pub revision: String,
    /// The source branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When it was built.
    pub build_date: String,
    /// The Go version it was built with.
    pub go_version: String,
}

impl BuildInfo {
    /// The major version (`2` for `2.42.0`, `3` for `3.14.0`); `None` when
    /// the server does not say (a build without version information).
    pub fn major(&self) -> Option<u32> {
        let digits: String = self
            .version
            .trim_start_matches('v')
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

/// Health of a scrape target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetHealth {
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed; see [`Target::last_error`].
    Down,
    /// Not scraped yet.
    #[serde(other)]
    Unknown,
}

/// One active scrape target (`/api/v1/targets`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Labels before relabelling (`__address__`, `__metrics_path__`, …).
    #[serde(default)]
    pub discovered_labels: Labels,
    /// Labels after relabelling: what the target's series carry.
    #[serde(default)]
    pub labels: Labels,
    /// The scrape job (`job_name`) the target belongs to.
    pub scrape_pool: String,
    /// The URL Prometheus scrapes.
    pub scrape_url: String,
    /// The scrape URL with the host name Prometheus reports externally.
    #[serde(default)]
    pub global_url: String,
    /// Why the last scrape failed; empty when it succeeded.
    #[serde(default)]
    pub last_error: String,
    /// When the last scrape happened (RFC 3339).
    #[serde(default)]
    pub last_scrape: String,
    /// How long the last scrape took, in seconds.
    #[serde(default)]
    pub last_scrape_duration: f64,
    /// Up, down or unknown.
    pub health: TargetHealth,
    /// For example `30s`.
    #[serde(default)]
    pub scrape_interval: String,
    /// For example `10s`.
    #[serde(default)]
    pub scrape_timeout: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TargetsData {
    #[serde(default)]
    pub active_targets: Vec<Target>,
}

/// Evaluation health of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleHealth {
    /// The last evaluation succeeded.
    Ok,
    /// The last evaluation failed; see [`Rule::last_error`].
    Err,
    /// Not evaluated yet.
    #[serde(other)]
    Unknown,
}

/// Whether a rule records a series or raises alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// An alerting rule.
    Alerting,
    /// A recording rule.
    Recording,
    /// A kind this client does not know.
    #[serde(other)]
    Unknown,
}

/// State of an alerting rule or of one of its alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The expression returns nothing.
    Inactive,
    /// The expression returns data, for less than the rule's `for`.
    Pending,
    /// The alert is firing.
    Firing,
    /// A state this client does not know.
    #[serde(other)]
    Unknown,
}

/// One active alert (`/api/v1/alerts`, or inside an alerting rule).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// The alert's labels (`alertname` included).
    #[serde(default)]
    pub labels: Labels,
    /// The alert's annotations (`summary`, `runbook_url`, …).
    #[serde(default)]
    pub annotations: Labels,
    /// Pending or firing.
    pub state: AlertState,
    /// Since when the alert is active (RFC 3339).
    #[serde(default)]
    pub active_at: Option<String>,
    /// The value of the expression when last evaluated.
    #[serde(default = "nan", deserialize_with = "sample_value")]
    pub value: f64,
}

#[derive(Deserialize)]
pub(crate) struct AlertsData {
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// One loaded rule (`/api/v1/rules`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Alerting or recording.
    #[serde(rename = "type")]
    pub kind: RuleKind,
    /// The alert name or the recorded series name.
    pub name: String,
    /// The PromQL expression.
    pub query: String,
    /// Evaluation health.
    pub health: RuleHealth,
    /// Why the last evaluation failed, when it did.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The alerting rule's state; `None` for recording rules.
    #[serde(default)]
    pub state: Option<AlertState>,
    /// The alerting rule's `for`, in seconds.
    #[serde(default)]
    pub duration: f64,
    /// The rule's labels.
    #[serde(default)]
    pub labels: Labels,
    /// The alerting rule's annotations.
    #[serde(default)]
    pub annotations: Labels,
    /// The alerting rule's active alerts.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// When the rule was last evaluated (RFC 3339).
    #[serde(default)]
    pub last_evaluation: Option<String>,
}

/// One loaded rule group.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    /// The group name.
    pub name: String,
    /// The file the group was loaded from.
    #[serde(default)]
    pub file: String,
    /// Evaluation interval in seconds.
    #[serde(default)]
    pub interval: f64,
    /// The group's rules, in file order.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
pub(crate) struct RulesData {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
pub(crate) struct ConfigData {
    pub yaml: String,
}

/// Whether Prometheus' last configuration reload worked, read from its own
/// `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReloadStatus {
    /// `prometheus_config_last_reload_successful == 1`.
    pub successful: bool,
    /// `prometheus_config_last_reload_success_timestamp_seconds`: Unix time of
    /// the last successful reload.
    pub last_success_timestamp: f64,
}

fn nan() -> f64 {
    f64::NAN
}

fn sample_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_sample_value(&raw)
        .ok_or_else(|| serde::de::Error::custom(format!("invalid sample value {raw:?}")))
}

/// Parses a sample value as Prometheus writes it: a Go float, `NaN`, `+Inf`
/// or `-Inf`.
pub fn parse_sample_value(raw: &str) -> Option<f64> {
    match raw {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// Finds the value of the first series called `name` whose labels include
/// every pair of `labels`, in Prometheus text exposition format.
pub fn exposition_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (series_labels, rest) = if let Some(inner) = rest.strip_prefix('{') {
                parse_exposition_labels(inner)?
            } else if rest.starts_with([' ', '\t']) {
                (Vec::new(), rest)
            } else {
                // A longer metric name that starts with `name`.
                return None;
            };
            let matches = labels.iter().all(|(key, value)| {
                series_labels
                    .iter()
                    .any(|(k, v)| k == key && v.as_str() == *value)
            });
            if !matches {
                return None;
            }
            parse_sample_value(rest.split_whitespace().next()?)
        })
}

/// Parses `a="x",b="y\"z"} rest` (after the opening brace) into the label
/// pairs and `rest`.
fn parse_exposition_labels(input: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut pairs = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((pairs, after));
        }
        let (key, after_key) = rest.split_once('=')?;
        let quoted = after_key.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut escaped = false;
        let mut end = None;
        for (index, c) in quoted.char_indices() {
            match (escaped, c) {
                (true, 'n') => {
                    value.push('\n');
                    escaped = false;
                }
                (true, c) => {
                    value.push(c);
                    escaped = false;
                }
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(index);
                    break;
                }
                (false, c) => value.push(c),
            }
        }
        pairs.push((key.trim().to_string(), value));
        // The closing quote is one byte long.
        rest = &quoted[end? + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> QueryResult {
        serde_json::from_str::<RawQueryData>(json)
            .expect("decodes")
            .into()
    }

    #[test]
    fn the_major_version_is_read_from_the_build_info() {
        let info = |version: &str| BuildInfo {
            version: version.to_string(),
            ..BuildInfo::default()
        };
        assert_eq!(info("2.42.0").major(), Some(2));
        assert_eq!(info("3.14.0").major(), Some(3));
        assert_eq!(info("v3.0.0-rc.1").major(), Some(3));
        assert_eq!(info("").major(), None);
    }

    #[test]
    fn special_sample_values_parse() {
        assert!(parse_sample_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_sample_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample_value("1e+00"), Some(1.0));
        assert_eq!(parse_sample_value("0.25"), Some(0.25));
        assert_eq!(parse_sample_value("one"), None);
    }

    #[test]
    fn vector_scalar_matrix_and_string_decode() {
        let vector = decode(
            r#"{"resultType":"vector","result":[
                {"metric":{"__name__":"up","job":"shop"},"value":[1700000000.5,"1"]},
                {"metric":{"job":"h"},"histogram":[1700000000.5,{"count":"1"}]}]}"#,
        );
        assert_eq!(
            vector,
            QueryResult::Vector(vec![Sample {
                labels: [("__name__", "up"), ("job", "shop")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                timestamp: 1_700_000_000.5,
                value: 1.0,
            }])
        );
        assert_eq!(vector.first_value(), Some(1.0));

        let scalar = decode(r#"{"resultType":"scalar","result":[1700000000,"-Inf"]}"#);
        assert_eq!(scalar.first_value(), Some(f64::NEG_INFINITY));

        let matrix = decode(
            r#"{"resultType":"matrix","result":[{"metric":{"job":"shop"},"values":[[1,"NaN"],[2,"3"]]}]}"#,
        );
        let QueryResult::Matrix(series) = &matrix else {
            panic!("expected a matrix, got {matrix:?}");
        };
        assert!(series[0].values[0].value.is_nan());
        assert_eq!(
            series[0].values[1],
            Point {
                timestamp: 2.0,
                value: 3.0
            }
        );

        let string = decode(r#"{"resultType":"string","result":[1,"hello"]}"#);
        assert_eq!(
            string,
            QueryResult::String {
                timestamp: 1.0,
                value: "hello".into()
            }
        );
        assert!(decode(r#"{"resultType":"vector","result":[]}"#).is_empty());
    }

    #[test]
    fn rules_decode_with_state_and_alerts() {
        let data: RulesData = serde_json::from_str(
            r#"{"groups":[{"name":"g","file":"/r.yaml","interval":1,"rules":[
              {"state":"firing","name":"Always","query":"vector(1)","duration":0,
               "labels":{"severity":"page"},"annotations":{},"alerts":[{"labels":{"alertname":"Always"},
               "annotations":{},"state":"firing","activeAt":"2026-01-01T00:00:00Z","value":"1e+00"}],
               "health":"ok","type":"alerting"},
              {"name":"x:y","query":"up","health":"err","lastError":"boom","type":"recording"}]}]}"#,
        )
        .expect("decodes");
        let rules = &data.groups[0].rules;
        assert_eq!(rules[0].kind, RuleKind::Alerting);
        assert_eq!(rules[0].state, Some(AlertState::Firing));
        assert_eq!(rules[0].alerts[0].value, 1.0);
        assert_eq!(rules[1].health, RuleHealth::Err);
        assert_eq!(rules[1].last_error.as_deref(), Some("boom"));
        assert_eq!(rules[1].state, None);
    }

    #[test]
    fn exposition_values_are_found_by_name_and_labels() {
        let text = "# HELP prometheus_config_last_reload_successful Whether…\n\
            prometheus_config_last_reload_successful 1\n\
            prometheus_config_last_reload_success_timestamp_seconds 1.795707476059767e+09\n\
            prometheus_http_requests_total{code=\"200\",handler=\"/api/v1/query\"} 7\n\
            prometheus_http_requests_total{code=\"400\",handler=\"/api/v1/query\"} 2\n\
            odd{a=\"x\\\"},y\",b=\"2\"} 5\n";
        assert_eq!(
            exposition_value(text, "prometheus_config_last_reload_successful", &[]),
            Some(1.0)
        );
        assert_eq!(
            exposition_value(
                text,
                "prometheus_config_last_reload_success_timestamp_seconds",
                &[]
            ),
            Some(1_795_707_476.059_767)
        );
        assert_eq!(
            exposition_value(
                text,
                "prometheus_http_requests_total",
                &[("handler", "/api/v1/query"), ("code", "400")]
            ),
            Some(2.0)
        );
        assert_eq!(exposition_value(text, "odd", &[("a", "x\"},y")]), Some(5.0));
        assert_eq!(exposition_value(text, "prometheus_config", &[]), None);
    }
}
