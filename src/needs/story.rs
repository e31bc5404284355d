//! From a developer's story to the metrics that answer it (`onramp needs
//! new`): the story's parts (role, want, reason), what the app exposes
//! (metric names, types, help and labels, as Prometheus has them), and the
//! metrics proposed for the story, ranked, each with why.

use std::collections::{BTreeMap, BTreeSet};

use crate::needs::SignalType;

/// A user story: "As a ROLE, I want WANT, so that REASON".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    /// The whole text, as given.
    pub text: String,
    /// Who wants it ("a developer").
    pub role: Option<String>,
    /// What they want to see.
    pub want: Option<String>,
    /// Why: what the alert protects.
    pub reason: Option<String>,
}

impl Story {
    /// Splits a story into its parts; a missing part is `None`.
    pub fn parse(text: &str) -> Story {
        let text = text.trim().to_string();
        let lower = text.to_lowercase();
        let cut = |from: usize, ends: &[&str]| -> Option<String> {
            let rest = &text[from..];
            let lower_rest = &lower[from..];
            let end = ends
                .iter()
                .filter_map(|e| lower_rest.find(e))
                .min()
                .unwrap_or(rest.len());
            let part = rest[..end]
                .trim()
                .trim_end_matches(['.', ','])
                .trim()
                .to_string();
            (!part.is_empty()).then_some(part)
        };
        let role = lower
            .strip_prefix("as ")
            .and_then(|_| cut(3, &[",", " i want"]));
        let want = lower.find("i want").and_then(|at| {
            let mut from = at + "i want".len();
            if lower[from..].starts_with(" to ") {
                from += " to".len();
            }
            cut(from, &["so that"])
        });
        let reason = lower
            .find("so that")
            .and_then(|at| cut(at + "so that".len(), &[]));
        Story {
            text,
            role,
            want,
            reason,
        }
    }

    /// What the story lacks, for people: the parts and why each matters.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.role.is_none() {
            out.push("a role (\"As a developer, …\"): who reads the dashboard");
        }
        if self.want.is_none() {
            out.push("a want (\"I want to see …\"): what the dashboard shows");
        }
        if self.reason.is_none() {
            out.push("a reason (\"so that …\"): what makes the alert meaningful");
        }
        out
    }

    /// The want's words, lower-case, singular, without the small ones.
    pub fn words(&self) -> Vec<String> {
        words(self.want.as_deref().unwrap_or(&self.text))
    }

    /// The words after "per" and "by" in the want ("latency per payment
    /// provider" → `provider`): what to split or divide by.
    pub fn per(&self) -> Vec<String> {
        let want = self.want.as_deref().unwrap_or(&self.text).to_lowercase();
        let tokens: Vec<&str> = want.split(|c: char| !c.is_alphanumeric()).collect();
        let mut out = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            if matches!(*t, "per" | "by" | "each") {
                let phrase: Vec<String> = tokens[i + 1..]
                    .iter()
                    .take_while(|w| !w.is_empty() && !SMALL.contains(w))
                    .map(|w| singular(w))
                    .collect();
                out.extend(phrase);
            }
        }
        out
    }

    /// What kind of answer the want asks for.
    pub fn asks(&self) -> Asks {
        let want = self.want.as_deref().unwrap_or(&self.text).to_lowercase();
        let has = |list: &[&str]| list.iter().any(|w| want.contains(w));
        Asks {
            time: has(&["latency", "duration", "slow", "fast", "how long", "time"]),
            share: has(&[
                "share",
                "ratio",
                "percent",
                "proportion",
                "fraction",
                "leaving",
                "abandon",
                "rate of",
            ]),
            count: has(&["how many", "number of", "count", "per second", "per minute"]),
            level: has(&[
                "memory",
                "usage",
                "size",
                "queue",
                "in flight",
                "current",
                "open",
            ]),
        }
    }
}

/// What kind of answer a story asks for, from its words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asks {
    /// How long something takes: a histogram.
    pub time: bool,
    /// A share of a whole: a ratio of counters.
    pub share: bool,
    /// How many: a counter's rate.
    pub count: bool,
    /// A level now: a gauge.
    pub level: bool,
}

const SMALL: &[&str] = &[
    "a", "an", "the", "of", "to", "see", "know", "i", "my", "our", "and", "or", "in", "on", "for",
    "per", "by", "each", "once", "when", "with", "what", "how", "is", "are", "be", "have", "ve",
    "it", "its", "that", "this", "users", "user", "number", "many", "much",
];

/// The meaningful words of a text: lower-case, singular, no small words.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !SMALL.contains(w))
        .map(singular)
        .collect()
}

fn singular(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() > 2 && !word.ends_with("ss") => stem.to_string(),
        _ => word.to_string(),
    }
}

/// One metric the app exposes, as Prometheus knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The metric name (a histogram's base name).
    pub name: String,
    /// Its type, when onramp draws panels for it (summaries and untyped
    /// metrics are `None`).
    pub kind: Option<SignalType>,
    /// The type word from the metadata (`summary`, `unknown`…).
    pub type_word: String,
    /// The `# HELP` text.
    pub help: String,
    /// Its label names, without the scrape's (`namespace`, `job`, `instance`)
    /// and the histogram's `le`.
    pub labels: BTreeSet<String>,
}

/// The labels every series of the app has, which say nothing about it.
const SCRAPE_LABELS: &[&str] = &[
    "__name__",
    "namespace",
    "job",
    "instance",
    "pod",
    "container",
    "service",
    "endpoint",
    "le",
    "quantile",
];

/// The app's metrics from its series' label sets (`{__name__, …}`) and
/// `/api/v1/metadata` (`name → [type, help]`): a histogram's `_bucket`,
/// `_sum` and `_count` fold into its base name.
pub fn exposures<'a>(
    series: impl IntoIterator<Item = &'a BTreeMap<String, String>>,
    metadata: &BTreeMap<String, (String, String)>,
) -> Vec<Exposure> {
    let mut found: BTreeMap<String, Exposure> = BTreeMap::new();
    for labels in series {
        let Some(name) = labels.get("__name__") else {
            continue;
        };
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| {
                metadata
                    .get(*b)
                    .is_some_and(|(t, _)| t == "histogram" || t == "summary")
            })
            .unwrap_or(name);
        // OpenMetrics' creation timestamps (`…_created`) are not metrics of their own.
        if let Some(of) = base.strip_suffix("_created")
            && (metadata.contains_key(of) || metadata.contains_key(&format!("{of}_total")))
        {
            continue;
        }
        let (type_word, help) = metadata.get(base).cloned().unwrap_or_default();
        let entry = found.entry(base.to_string()).or_insert_with(|| Exposure {
            name: base.to_string(),
            kind: match type_word.as_str() {
                "counter" => Some(SignalType::Counter),
                "gauge" => Some(SignalType::Gauge),
                "histogram" => Some(SignalType::Histogram),
                _ => None,
            },
            type_word,
            help,
            labels: BTreeSet::new(),
        });
        entry.labels.extend(
            labels
                .keys()
                .filter(|k| !SCRAPE_LABELS.contains(&k.as_str()))
                .cloned(),
        );
    }
    found.into_values().collect()
}

/// A metric proposed for a story, with the label to split by and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The metric.
    pub metric: String,
    /// Its type.
    pub kind: SignalType,
    /// The label the story splits by, when the metric has one that fits.
    pub label: Option<String>,
    /// How well it fits (higher first).
    pub score: u32,
    /// Why it was proposed, for people.
    pub why: String,
}

/// The label that splits a metric as the story's "per" asks: the one whose
/// name holds most of the words after "per" (`feature_flag_result_variant`
/// over `feature_flag_key` for "per flag variant"), the first of equals.
fn per_label(labels: &std::collections::BTreeSet<String>, per: &[String]) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for label in labels {
        let label_words = words(&label.replace('_', " "));
        let matched = per.iter().filter(|p| label_words.contains(p)).count();
        if matched > 0 && best.is_none_or(|(most, _)| matched > most) {
            best = Some((matched, label));
        }
    }
    best.map(|(_, label)| label.clone())
}

/// The app's metrics that fit the story, best first (at most `limit`):
/// points for each story word in the metric's name (or help), for the type
/// the story asks for (time → histogram, share or count → counter, level →
/// gauge) and for a label the story splits by ("per payment provider" →
/// `provider`). Metrics that match no word are left out.
pub fn propose(story: &Story, exposed: &[Exposure], limit: usize) -> Vec<Proposal> {
    let story_words = story.words();
    let per = story.per();
    let asks = story.asks();
    let mut out: Vec<Proposal> = exposed
        .iter()
        .filter_map(|e| Some((e, e.kind?)))
        .filter_map(|(e, kind)| {
            let name_words = words(&e.name.replace('_', " "));
            let help_words = words(&e.help);
            let in_name: Vec<&String> = story_words
                .iter()
                .filter(|w| name_words.iter().any(|n| same_meaning(w, n)))
                .collect();
            let in_help: Vec<&String> = story_words
                .iter()
                .filter(|w| !name_words.contains(w) && help_words.contains(w))
                .collect();
            if in_name.is_empty() && in_help.is_empty() {
                return None;
            }
            let mut score = 3 * in_name.len() as u32 + in_help.len() as u32;
            let mut why = vec![format!(
                "its {} matches the story's {}",
                if in_name.is_empty() { "help" } else { "name" },
                quoted(if in_name.is_empty() {
                    &in_help
                } else {
                    &in_name
                })
            )];
            if let Some(reason) = type_fit(asks, kind) {
                score += 4;
                why.push(reason);
            }
            let label = per_label(&e.labels, &per);
            if let Some(l) = &label {
                score += 4;
                why.push(format!(
                    "its label {l} splits it as the story's \"per\" asks"
                ));
            }
            Some(Proposal {
                metric: e.name.clone(),
                kind,
                label,
                score,
                why: why.join("; "),
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.metric.cmp(&b.metric)));
    out.truncate(limit);
    out
}

fn quoted(words: &[&String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    quoted.join(", ")
}

/// Words a story and a metric name use for the same thing: the word
/// itself, or a synonym ("latency" in a story, `duration` or `seconds` in
/// a name).
fn same_meaning(story_word: &str, name_word: &str) -> bool {
    const SYNONYMS: &[(&str, &[&str])] = &[
        ("latency", &["duration", "seconds", "time"]),
        ("slow", &["duration", "seconds"]),
        ("memory", &["bytes", "heap", "resident"]),
        ("error", &["failure", "failed", "status"]),
    ];
    story_word == name_word
        || SYNONYMS
            .iter()
            .any(|(w, alike)| *w == story_word && alike.contains(&name_word))
}

/// A name for a signal of `metric`: its last word that is not a unit or
/// suffix (`http_request_duration_seconds` → `duration`).
pub fn signal_name(metric: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "total", "seconds", "bytes", "count", "sum", "bucket", "ms", "info",
    ];
    metric
        .split('_')
        .rev()
        .find(|w| {
            !w.is_empty()
                && !SUFFIXES.contains(w)
                && w.starts_with(|c: char| c.is_ascii_lowercase())
        })
        .unwrap_or("signal")
        .to_string()
}

/// Why a type fits what the story asks, when it does.
fn type_fit(asks: Asks, kind: SignalType) -> Option<String> {
    match kind {
        SignalType::Histogram if asks.time => {
            Some("a histogram, for the time the story asks about (p50/p95/p99)".into())
        }
        SignalType::Counter if asks.share => {
            Some("a counter, to divide by another for the share the story asks about".into())
        }
        SignalType::Counter if asks.count => {
            Some("a counter, for the how-many the story asks about".into())
        }
        SignalType::Gauge if asks.level => {
            Some("a gauge, for the level the story asks about".into())
        }
        _ => None,
    }
}

/// The instrumentation library an app's metrics come from, from names
/// each one exposes by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// Spring Boot / Micrometer.
    Micrometer,
    /// An OpenTelemetry SDK with the Prometheus exporter.
    OpenTelemetry,
    /// Python's prometheus_client.
    PrometheusClient,
    /// Node's prom-client.
    PromClient,
    /// Go's client_golang.
    ClientGolang,
}

impl Framework {
    /// Recognises the framework from the metric names the app exposes.
    pub fn detect(names: &[&str]) -> Option<Framework> {
        let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
        if has("jvm_") || has("http_server_requests_seconds") {
            Some(Framework::Micrometer)
        } else if has("target_info") || has("otel_") {
            Some(Framework::OpenTelemetry)
        } else if has("python_") {
            Some(Framework::PrometheusClient)
        } else if has("nodejs_") {
            Some(Framework::PromClient)
        } else if has("go_") {
            Some(Framework::ClientGolang)
        } else {
            None
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Micrometer => "Micrometer",
            Framework::OpenTelemetry => "OpenTelemetry",
            Framework::PrometheusClient => "prometheus_client (Python)",
            Framework::PromClient => "prom-client (Node.js)",
            Framework::ClientGolang => "client_golang (Go)",
        }
    }
}

/// What to add to the app for a missing metric, in its framework's words
/// (every framework's when it is not known).
pub fn instrumentation(
    framework: Option<Framework>,
    metric: &str,
    kind: SignalType,
    label: Option<&str>,
) -> String {
    let labels = label.map_or(String::new(), |l| format!(" labelled by {l}"));
    let head = format!("Expose {metric}, a {}{labels}.", kind.word());
    let all = [
        Framework::Micrometer,
        Framework::OpenTelemetry,
        Framework::PrometheusClient,
        Framework::PromClient,
        Framework::ClientGolang,
    ];
    let chosen: Vec<Framework> = framework.map_or(all.to_vec(), |f| vec![f]);
    let lines: Vec<String> = chosen
        .iter()
        .map(|f| format!("{}: {}", f.name(), snippet(*f, metric, kind, label)))
        .collect();
    format!("{head} {}", lines.join(" — "))
}

fn snippet(framework: Framework, metric: &str, kind: SignalType, label: Option<&str>) -> String {
    let base = metric
        .trim_end_matches("_total")
        .trim_end_matches("_seconds");
    let dotted = base.replace('_', ".");
    let l = label.unwrap_or("");
    let tag = |f: &dyn Fn(&str) -> String| if l.is_empty() { String::new() } else { f(l) };
    match (framework, kind) {
        (Framework::Micrometer, SignalType::Counter) => format!(
            "Counter.builder(\"{dotted}\"){}.register(registry).increment();",
            tag(&|l| format!(".tag(\"{l}\", value)"))
        ),
        (Framework::Micrometer, SignalType::Histogram) => format!(
            "Timer.builder(\"{dotted}\").publishPercentileHistogram(){}.register(registry).record(duration);",
            tag(&|l| format!(".tag(\"{l}\", value)"))
        ),
        (Framework::Micrometer, SignalType::Gauge) => format!(
            "Gauge.builder(\"{dotted}\", obj, fn){}.register(registry);",
            tag(&|l| format!(".tag(\"{l}\", value)"))
        ),
        (Framework::OpenTelemetry, SignalType::Counter) => format!(
            "meter.createCounter(\"{dotted}\").add(1{});",
            tag(&|l| format!(", {{\"{l}\": value}}"))
        ),
        (Framework::OpenTelemetry, SignalType::Histogram) => format!(
            "meter.createHistogram(\"{dotted}\", {{unit: \"s\"}}).record(seconds{});",
            tag(&|l| format!(", {{\"{l}\": value}}"))
        ),
        (Framework::OpenTelemetry, SignalType::Gauge) => format!(
            "meter.createObservableGauge(\"{dotted}\"){};",
            tag(&|l| format!(" observed with {{\"{l}\": value}}"))
        ),
        (Framework::PrometheusClient, k) => format!(
            "{}('{}', '…'{}){}",
            py_type(k),
            // prometheus_client adds `_total` to a counter's name itself.
            if k == SignalType::Counter {
                metric.trim_end_matches("_total")
            } else {
                metric
            },
            tag(&|l| format!(", ['{l}']")),
            py_use(k, l)
        ),
        (Framework::PromClient, k) => format!(
            "new client.{}({{ name: '{metric}', help: '…'{} }}){}",
            js_type(k),
            tag(&|l| format!(", labelNames: ['{l}']")),
            js_use(k, l)
        ),
        (Framework::ClientGolang, k) => format!(
            "promauto.New{}{}(prometheus.{}Opts{{Name: \"{metric}\", Help: \"…\"}}{}){}",
            go_type(k),
            if l.is_empty() { "" } else { "Vec" },
            go_type(k),
            tag(&|l| format!(", []string{{\"{l}\"}}")),
            go_use(k, l)
        ),
    }
}

fn py_type(kind: SignalType) -> &'static str {
    match kind {
        SignalType::Counter => "Counter",
        SignalType::Histogram => "Histogram",
        SignalType::Gauge => "Gauge",
    }
}

fn py_use(kind: SignalType, label: &str) -> String {
    let labels = if label.is_empty() {
        String::new()
    } else {
        format!(".labels({label}=value)")
    };
    match kind {
        SignalType::Counter => format!("{labels}.inc()"),
        SignalType::Histogram => format!("{labels}.observe(seconds)"),
        SignalType::Gauge => format!("{labels}.set(value)"),
    }
}

fn js_type(kind: SignalType) -> &'static str {
    py_type(kind)
}

fn js_use(kind: SignalType, label: &str) -> String {
    let labels = if label.is_empty() {
        String::new()
    } else {
        format!(".labels({{ {label}: value }})")
    };
    match kind {
        SignalType::Counter => format!("{labels}.inc()"),
        SignalType::Histogram => format!("{labels}.observe(seconds)"),
        SignalType::Gauge => format!("{labels}.set(value)"),
    }
}

fn go_type(kind: SignalType) -> &'static str {
    py_type(kind)
}

fn go_use(kind: SignalType, label: &str) -> String {
    let labels = if label.is_empty() {
        String::new()
    } else {
        ".WithLabelValues(value)".to_string()
    };
    match kind {
        SignalType::Counter => format!("{labels}.Inc()"),
        SignalType::Histogram => format!("{labels}.Observe(seconds)"),
        SignalType::Gauge => format!("{labels}.Set(value)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_story_splits_into_role_want_and_reason() {
        let s = Story::parse(
            "As a developer, I want to see checkout latency per payment provider, so that I notice a slow provider before shoppers do.",
        );
        assert_eq!(s.role.as_deref(), Some("a developer"));
        assert_eq!(
            s.want.as_deref(),
            Some("see checkout latency per payment provider")
        );
        assert_eq!(
            s.reason.as_deref(),
            Some("I notice a slow provider before shoppers do")
        );
        assert!(s.missing().is_empty());
        assert_eq!(s.per(), vec!["payment", "provider"]);
        assert!(s.asks().time);
    }

    #[test]
    fn a_story_without_a_want_or_reason_names_what_is_missing() {
        let s = Story::parse("As a developer, so that I sleep.");
        assert_eq!(s.want, None);
        assert_eq!(
            s.missing(),
            vec!["a want (\"I want to see …\"): what the dashboard shows"]
        );
        let s = Story::parse("I want the share of carts abandoned per flag variant");
        assert_eq!(s.role, None);
        assert_eq!(s.reason, None);
        assert_eq!(
            s.want.as_deref(),
            Some("the share of carts abandoned per flag variant")
        );
        assert_eq!(s.missing().len(), 2);
    }

    fn exposure(name: &str, kind: SignalType, help: &str, labels: &[&str]) -> Exposure {
        Exposure {
            name: name.into(),
            kind: Some(kind),
            type_word: kind.word().into(),
            help: help.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    fn shop() -> Vec<Exposure> {
        vec![
            exposure(
                "checkout_duration_seconds",
                SignalType::Histogram,
                "Checkout duration.",
                &["provider"],
            ),
            exposure(
                "checkouts_total",
                SignalType::Counter,
                "Checkouts.",
                &["provider", "status"],
            ),
            exposure(
                "carts_abandoned_total",
                SignalType::Counter,
                "Carts abandoned.",
                &["variant"],
            ),
            exposure(
                "carts_created_total",
                SignalType::Counter,
                "Carts created.",
                &["variant"],
            ),
            exposure(
                "process_resident_memory_bytes",
                SignalType::Gauge,
                "Resident memory size in bytes.",
                &[],
            ),
            exposure(
                "http_requests_total",
                SignalType::Counter,
                "Requests.",
                &["route"],
            ),
        ]
    }

    #[test]
    fn latency_per_provider_proposes_the_histogram_with_the_provider_label_first() {
        let s = Story::parse(
            "As a developer, I want to see checkout latency per payment provider, so that I notice a slow one.",
        );
        let p = propose(&s, &shop(), 5);
        assert_eq!(p[0].metric, "checkout_duration_seconds");
        assert_eq!(p[0].label.as_deref(), Some("provider"));
        assert!(
            p[0].why.contains("a histogram, for the time"),
            "{}",
            p[0].why
        );
        assert_eq!(p[1].metric, "checkouts_total");
        assert!(
            !p.iter()
                .any(|x| x.metric == "process_resident_memory_bytes")
        );
    }

    #[test]
    fn a_share_of_carts_proposes_the_two_cart_counters() {
        let s = Story::parse(
            "As a product owner, I want the share of carts abandoned per flag variant, so that I stop a bad variant.",
        );
        let p = propose(&s, &shop(), 5);
        let names: Vec<&str> = p.iter().map(|x| x.metric.as_str()).collect();
        assert_eq!(names[..2], ["carts_abandoned_total", "carts_created_total"]);
        assert_eq!(p[0].label.as_deref(), Some("variant"));
        assert!(p[0].why.contains("to divide by another"), "{}", p[0].why);
    }

    #[test]
    fn a_story_per_flag_variant_was_split_by_the_flag_key_not_the_variant() {
        let s = Story::parse(
            "As a product owner, I want to see the share of users leaving the page per flag variant, so that I can stop a variant that drives users away",
        );
        let exits = exposure(
            "user_page_exits_total",
            SignalType::Counter,
            "Sessions that left the page.",
            &["feature_flag_key", "feature_flag_result_variant"],
        );
        let p = propose(&s, &[exits], 5);
        assert_eq!(p[0].label.as_deref(), Some("feature_flag_result_variant"));
    }

    #[test]
    fn memory_usage_proposes_the_gauge() {
        let s = Story::parse(
            "As an operator, I want to see the memory usage, so that I size the pods.",
        );
        let p = propose(&s, &shop(), 5);
        assert_eq!(p[0].metric, "process_resident_memory_bytes");
        assert!(p[0].why.contains("a gauge"), "{}", p[0].why);
    }
}
