//! Drafting a need from a story and the metrics chosen for it (`onramp
//! needs new`): the panels follow from each signal's type (a counter → its
//! rate; a histogram → p50/p95/p99; a gauge → its value; two counters of a
//! share → their ratio, `percentunit`), the alert's threshold from the live
//! data, the walkthrough from the developer's own words. The result is the
//! YAML of a need file (dashboards/README.md), which `needs check` accepts.

use std::fmt::Write;

use crate::needs::SignalType;
use crate::needs::story::Story;

/// A signal chosen for the need.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// Its name in the need (`latency`).
    pub name: String,
    /// The metric (a histogram's base name).
    pub metric: String,
    /// Its type.
    pub kind: SignalType,
    /// The label to split by.
    pub label: Option<String>,
    /// What it measures (the metric's help, or the story's words).
    pub description: String,
    /// True when the app does not expose it yet.
    pub missing: bool,
    /// What to add to the app when it is missing.
    pub instrumentation: String,
}

/// A drafted panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Its title.
    pub title: String,
    /// What it shows and how to read it.
    pub description: String,
    /// The Grafana unit.
    pub unit: String,
    /// `(expr, legend)` templates.
    pub queries: Vec<(String, String)>,
}

/// The alert a need's story supports: its name, the expression without
/// the comparison (over `[5m]`, as a rule evaluates it), what it measures.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertCandidate {
    /// The alert name, without the app prefix.
    pub name: String,
    /// The expression template, `… > THRESHOLD` to be appended.
    pub expr: String,
    /// What the value is, for people ("the p95 of latency").
    pub what: String,
    /// A share is at most 1.
    pub share: bool,
}

/// The alert with its threshold and why that threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The threshold.
    pub value: f64,
    /// Why it was chosen, for people and the runbook.
    pub why: String,
}

fn title_case(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The two counters whose ratio the story asks for (a share, or "per X"
/// with X a counter): the first counter over the second.
fn ratio<'a>(story: &Story, signals: &'a [Chosen]) -> Option<(&'a Chosen, &'a Chosen)> {
    let counters: Vec<&Chosen> = signals
        .iter()
        .filter(|s| s.kind == SignalType::Counter)
        .collect();
    let per = story.per();
    let per_counter = counters.iter().skip(1).any(|c| {
        per.iter()
            .any(|p| crate::needs::story::words(&c.metric.replace('_', " ")).contains(p))
    });
    (counters.len() >= 2 && (story.asks().share || per_counter)).then(|| (counters[0], counters[1]))
}

/// `sum by (label) (` or `sum(` — the caller closes it — over signal
/// `name`'s label `label` (its logical name is the real one).
fn sum_by(name: &str, label: Option<&str>, with_le: bool) -> String {
    match (label, with_le) {
        (Some(l), true) => format!("sum by (le, {{{{{name}.{l}}}}}) ("),
        (None, true) => "sum by (le) (".to_string(),
        (Some(l), false) => format!("sum by ({{{{{name}.{l}}}}}) ("),
        (None, false) => "sum(".to_string(),
    }
}

fn legend(signal: &Chosen, prefix: &str) -> String {
    match &signal.label {
        Some(l) => format!("{prefix}{{{{{}.{l}}}}}", signal.name),
        None => prefix.trim().to_string(),
    }
}

/// The panels of the chosen signals, the ratio first when there is one.
pub fn panels(story: &Story, signals: &[Chosen]) -> Vec<Panel> {
    let mut out = Vec::new();
    if let Some((part, whole)) = ratio(story, signals) {
        let share = story.asks().share;
        out.push(Panel {
            title: if share {
                format!("Share of {}", title_case(&part.name).to_lowercase())
            } else {
                format!("{} per {}", title_case(&part.name), whole.name.replace('_', " "))
            },
            description: format!(
                "{} divided by {}, per second over the window{}: {}.",
                part.name,
                whole.name,
                part.label.as_ref().map_or(String::new(), |l| format!(", by {l}")),
                story.want.as_deref().unwrap_or(&story.text)
            ),
            unit: if share { "percentunit" } else { "short" }.into(),
            queries: vec![(
                format!(
                    "{}rate({{{{{}}}}}[$__rate_interval])) / {}({}rate({{{{{}}}}}[$__rate_interval])) > 0)",
                    sum_by(&part.name, part.label.as_deref(), false),
                    part.name,
                    if part.label.is_some() && whole.label != part.label { "on() group_left() " } else { "" },
                    sum_by(&whole.name, part.label.as_deref().filter(|_| whole.label == part.label), false),
                    whole.name
                ),
                legend(part, ""),
            )],
        });
    }
    for s in signals {
        out.push(signal_panel(s));
    }
    out
}

/// The panel of one signal, by its type.
fn signal_panel(s: &Chosen) -> Panel {
    let by = s
        .label
        .as_ref()
        .map_or(String::new(), |l| format!(" by {l}"));
    let name = title_case(&s.name);
    match s.kind {
        SignalType::Counter => Panel {
            title: format!("{name} per second{by}"),
            description: format!("How many per second ({}){by}.", s.metric),
            unit: unit(
                &s.metric,
                &[("_bytes_total", "Bps"), ("request", "reqps")],
                "ops",
            ),
            queries: vec![(
                format!(
                    "{}rate({{{{{}}}}}[$__rate_interval]))",
                    sum_by(&s.name, s.label.as_deref(), false),
                    s.name
                ),
                legend(s, ""),
            )],
        },
        SignalType::Histogram => Panel {
            title: format!("{name} p50 / p95 / p99{by}"),
            description: format!(
                "Half of the observations of {} are under p50, 95% under p95, 99% under p99{by}.",
                s.metric
            ),
            unit: unit(
                &s.metric,
                &[
                    ("_seconds", "s"),
                    ("_milliseconds", "ms"),
                    ("_bytes", "bytes"),
                ],
                "short",
            ),
            queries: [("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")]
                .iter()
                .map(|(q, p)| {
                    (
                        format!(
                            "histogram_quantile({q}, {}rate({{{{{}:bucket}}}}[$__rate_interval])))",
                            sum_by(&s.name, s.label.as_deref(), true),
                            s.name
                        ),
                        legend(s, &format!("{p} ")),
                    )
                })
                .collect(),
        },
        SignalType::Gauge => Panel {
            title: format!("{name}{by}"),
            description: format!("The value of {} now{by}.", s.metric),
            unit: unit(
                &s.metric,
                &[("_bytes", "bytes"), ("_seconds", "s")],
                "short",
            ),
            queries: vec![(
                format!(
                    "{}{{{{{}}}}})",
                    sum_by(&s.name, s.label.as_deref(), false),
                    s.name
                ),
                legend(s, ""),
            )],
        },
    }
}

/// The Grafana unit of the first rule whose word the metric's name
/// contains (`_seconds` → `s`), else `default`.
fn unit(metric: &str, rules: &[(&str, &str)], default: &str) -> String {
    rules
        .iter()
        .find(|(word, _)| metric.contains(word))
        .map_or(default, |(_, unit)| unit)
        .to_string()
}

/// The alert the story supports: the ratio's share, else the first
/// histogram's p95, else the first gauge; a counter's rate alone has no
/// threshold to read from one moment.
pub fn alert_candidate(story: &Story, signals: &[Chosen]) -> Option<AlertCandidate> {
    if let Some((part, whole)) = ratio(story, signals) {
        return Some(AlertCandidate {
            name: format!("High{}", title_case(&part.name).replace(' ', "")),
            expr: format!(
                "sum(rate({{{{{}}}}}[5m])) / (sum(rate({{{{{}}}}}[5m])) > 0)",
                part.name, whole.name
            ),
            what: format!("{} divided by {}", part.name, whole.name),
            share: story.asks().share,
        });
    }
    let s = signals
        .iter()
        .find(|s| s.kind == SignalType::Histogram)
        .or_else(|| signals.iter().find(|s| s.kind == SignalType::Gauge))?;
    let name = title_case(&s.name).replace(' ', "");
    Some(match s.kind {
        SignalType::Histogram => AlertCandidate {
            name: format!("Slow{name}"),
            expr: format!(
                "histogram_quantile(0.95, sum by (le) (rate({{{{{}:bucket}}}}[5m])))",
                s.name
            ),
            what: format!("the p95 of {}", s.name),
            share: false,
        },
        _ => AlertCandidate {
            name: format!("High{name}"),
            expr: format!("max({{{{{}}}}})", s.name),
            what: format!("the highest {}", s.name),
            share: false,
        },
    })
}

/// The threshold for a value seen now: twice it, rounded up to two
/// significant digits (at most 1 for a share), and why.
pub fn threshold(candidate: &AlertCandidate, now: f64) -> Option<Threshold> {
    if !(now.is_finite() && now > 0.0) {
        return None;
    }
    let doubled = now * 2.0;
    let magnitude = 10f64.powf(doubled.log10().floor() - 1.0);
    let mut value = (doubled / magnitude).ceil() * magnitude;
    if candidate.share {
        value = value.min(1.0);
    }
    let value = (value * 1e6).round() / 1e6;
    Some(Threshold {
        value,
        why: format!(
            "{} is {} now; the alert fires at twice that, {value}, held for 10 minutes — change it once you know what normal is",
            candidate.what,
            (now * 1e4).round() / 1e4
        ),
    })
}

/// A YAML double-quoted scalar (JSON's string syntax is YAML's).
fn q(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// The need file's YAML.
pub fn need_yaml(
    id: &str,
    story: &Story,
    signals: &[Chosen],
    alert: Option<(&AlertCandidate, &Threshold)>,
) -> String {
    let mut out = String::new();
    let want = story.want.as_deref().unwrap_or(&story.text);
    let title = want.strip_prefix("see ").unwrap_or(want);
    let title = capitalised(title);
    let _ = writeln!(
        out,
        "# Made by `onramp needs new` from the story below; edit freely, then `onramp needs check` this file."
    );
    let _ = writeln!(
        out,
        "id: {id}\ntitle: {}\nstory: {}\nsignals:",
        q(&title),
        q(&story.text)
    );
    for s in signals {
        let _ = writeln!(out, "  {}:", s.name);
        let _ = writeln!(out, "    description: {}", q(&s.description));
        let _ = writeln!(out, "    type: {}\n    metric: {}", s.kind.word(), s.metric);
        if let Some(l) = &s.label {
            let _ = writeln!(out, "    labels: {{{l}: {l}}}");
        }
        if s.missing {
            let _ = writeln!(
                out,
                "    # Missing: the app does not expose {} yet.",
                s.metric
            );
        }
        let _ = writeln!(out, "    instrumentation: {}", q(&s.instrumentation));
    }
    let panels = panels(story, signals);
    let _ = writeln!(out, "panels:");
    for p in &panels {
        let _ = writeln!(
            out,
            "  - title: {}\n    description: {}\n    unit: {}\n    queries:",
            q(&p.title),
            q(&p.description),
            p.unit
        );
        for (expr, legend) in &p.queries {
            let _ = writeln!(out, "      - expr: {}", q(expr));
            if !legend.is_empty() {
                let _ = writeln!(out, "        legend: {}", q(legend));
            }
        }
    }
    if let Some((candidate, threshold)) = alert {
        alert_yaml(&mut out, story, candidate, threshold, &panels);
    }
    let _ = writeln!(out, "walkthrough: |");
    for line in walkthrough(story, &panels).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

fn alert_yaml(
    out: &mut String,
    story: &Story,
    candidate: &AlertCandidate,
    threshold: &Threshold,
    panels: &[Panel],
) {
    let reason = story.reason.as_deref().unwrap_or("the story holds");
    let first = panels.first().map_or("", |p| p.title.as_str());
    let _ = writeln!(out, "alerts:\n  - name: {}", candidate.name);
    let _ = writeln!(
        out,
        "    expr: {}",
        q(&format!("{} > {}", candidate.expr, threshold.value))
    );
    let _ = writeln!(out, "    for: 10m\n    severity: warning");
    let _ = writeln!(
        out,
        "    summary: {}",
        q(&format!(
            "{} of {{app}} is above {}.",
            capitalised(&candidate.what),
            threshold.value
        ))
    );
    let _ = writeln!(
        out,
        "    description: {}",
        q(&format!(
            "{} is {{{{ $value }}}} in {{namespace}}.",
            capitalised(&candidate.what)
        ))
    );
    let _ = writeln!(out, "    runbook:");
    let _ = writeln!(
        out,
        "      meaning: {}",
        q(&format!(
            "{} of {{app}} stayed above {} for 10 minutes. Why this threshold: {}.",
            capitalised(&candidate.what),
            threshold.value,
            threshold.why
        ))
    );
    let _ = writeln!(
        out,
        "      impact: {}",
        q(&format!("The story is at risk: {reason}."))
    );
    let _ = writeln!(
        out,
        "      diagnosis:\n        - {}",
        q(&format!(
            "Open the *{first}* panel: which series rose first, and when."
        ))
    );
    let _ = writeln!(
        out,
        "        - {}",
        q("Compare with the moment of the last deploy or flag change.")
    );
    let _ = writeln!(
        out,
        "      mitigation:\n        - {}",
        q("Roll back or switch off what changed for the series that rose.")
    );
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The walkthrough, in the developer's words: the story, then each panel.
fn walkthrough(story: &Story, panels: &[Panel]) -> String {
    let mut out = format!("The story: {}\n\n", story.text);
    for (i, p) in panels.iter().enumerate() {
        let _ = writeln!(out, "{}. *{}*: {}", i + 1, p.title, p.description);
    }
    if let Some(reason) = &story.reason {
        let _ = writeln!(
            out,
            "{}. When it is not what you expect, act on it: so that {reason}.",
            panels.len() + 1
        );
    }
    out
}

/// `--signal NAME=METRIC[.LABEL]`: a signal's name, its metric and the label to split by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSpec {
    /// The signal's name in the need.
    pub name: String,
    /// The metric.
    pub metric: String,
    /// The label, when given.
    pub label: Option<String>,
}

impl SignalSpec {
    /// Parses `NAME=METRIC[.LABEL]`; the error says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<SignalSpec, String> {
        let (name, rest) = text.split_once('=').ok_or_else(|| {
            format!("--signal {text:?}: write NAME=METRIC or NAME=METRIC.LABEL, e.g. latency=checkout_duration_seconds.provider")
        })?;
        let (name, rest) = (name.trim(), rest.trim());
        let (metric, label) = match rest.split_once('.') {
            Some((m, l)) => (m, Some(l)),
            None => (rest, None),
        };
        let name_ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(format!(
                "--signal {text:?}: the name {name:?} must be lower-case letters, digits and '_', starting with a letter"
            ));
        }
        let metric = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| metric.strip_suffix(s))
            .filter(|_| metric.contains("_seconds") || metric.contains("duration"))
            .unwrap_or(metric);
        if !crate::needs::promql::is_metric_name(metric) {
            return Err(format!(
                "--signal {text:?}: {metric:?} is not a Prometheus metric name"
            ));
        }
        if let Some(l) = label
            && !crate::needs::promql::is_label_name(l)
        {
            return Err(format!(
                "--signal {text:?}: {l:?} is not a Prometheus label name"
            ));
        }
        Ok(SignalSpec {
            name: name.to_string(),
            metric: metric.to_string(),
            label: label.map(str::to_string),
        })
    }

    /// The signal this spec names, as the app exposes it: its type and help
    /// from Prometheus; a metric the app does not expose is kept, marked
    /// missing, with the instrumentation to add (`exposed` is `None` when
    /// Prometheus was not asked: the type then follows the name). A label the
    /// metric does not have, or a type onramp draws nothing for, is an error.
    pub fn choose(
        &self,
        exposed: Option<&[crate::needs::story::Exposure]>,
        framework: Option<crate::needs::story::Framework>,
    ) -> std::result::Result<Chosen, String> {
        let found = exposed.and_then(|all| all.iter().find(|e| e.name == self.metric));
        let guessed = if self.metric.ends_with("_total") {
            SignalType::Counter
        } else if self.metric.ends_with("_seconds") || self.metric.contains("duration") {
            SignalType::Histogram
        } else {
            SignalType::Gauge
        };
        let (kind, description) = match found {
            Some(e) => {
                let kind = e.kind.ok_or_else(|| format!(
                    "--signal {}={}: the app exposes it as a {}; onramp drafts panels for counters, gauges and histograms",
                    self.name, self.metric, e.type_word
                ))?;
                if let Some(l) = &self.label
                    && !e.labels.contains(l)
                {
                    let labels: Vec<&str> = e.labels.iter().map(String::as_str).collect();
                    return Err(format!(
                        "--signal {}={}.{l}: {} has no label {l:?}; its labels: {}",
                        self.name,
                        self.metric,
                        self.metric,
                        if labels.is_empty() {
                            "none".to_string()
                        } else {
                            labels.join(", ")
                        }
                    ));
                }
                (
                    kind,
                    if e.help.is_empty() {
                        self.metric.clone()
                    } else {
                        e.help.clone()
                    },
                )
            }
            None => (guessed, self.metric.clone()),
        };
        let missing = exposed.is_some() && found.is_none();
        let instrumentation = crate::needs::story::instrumentation(
            framework,
            &self.metric,
            kind,
            self.label.as_deref(),
        );
        Ok(Chosen {
            name: self.name.clone(),
            metric: self.metric.clone(),
            kind,
            label: self.label.clone(),
            description,
            missing,
            instrumentation,
        })
    }
}

/// A need id from the story's want: its first meaningful words, kebab-case,
/// at most 40 characters.
pub fn id_from(story: &Story) -> String {
    let mut id = String::new();
    for word in crate::needs::story::words(story.want.as_deref().unwrap_or(&story.text)) {
        let word: String = word.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        if word.is_empty() || id.len() + word.len() + 1 > 40 {
            continue;
        }
        if !id.is_empty() {
            id.push('-');
        }
        id.push_str(&word);
    }
    if id.is_empty() {
        "my-need".to_string()
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needs::{parse_need, resolve};

    fn chosen(name: &str, metric: &str, kind: SignalType, label: Option<&str>) -> Chosen {
        Chosen {
            name: name.into(),
            metric: metric.into(),
            kind,
            label: label.map(str::to_string),
            description: format!("{metric}."),
            missing: false,
            instrumentation: "Expose it.".into(),
        }
    }

    /// Each kind of draft is a need that parses and passes every check.
    #[test]
    fn drafts_of_each_kind_pass_the_need_checks() {
        let cases = [
            (
                "As a developer, I want to see checkout latency per provider, so that I notice a slow provider.",
                vec![chosen(
                    "latency",
                    "checkout_duration_seconds",
                    SignalType::Histogram,
                    Some("provider"),
                )],
            ),
            (
                "As a developer, I want to see how many requests per route, so that I see traffic.",
                vec![chosen(
                    "requests",
                    "http_requests_total",
                    SignalType::Counter,
                    Some("route"),
                )],
            ),
            (
                "As an operator, I want to see memory usage, so that I size pods.",
                vec![chosen(
                    "memory",
                    "process_resident_memory_bytes",
                    SignalType::Gauge,
                    None,
                )],
            ),
            (
                "As a product owner, I want the share of carts abandoned per variant, so that I stop a bad variant.",
                vec![
                    chosen(
                        "abandoned",
                        "carts_abandoned_total",
                        SignalType::Counter,
                        Some("variant"),
                    ),
                    chosen("created", "carts_created_total", SignalType::Counter, None),
                ],
            ),
        ];
        for (text, signals) in cases {
            let story = Story::parse(text);
            let candidate = alert_candidate(&story, &signals);
            let threshold = candidate.as_ref().and_then(|c| threshold(c, 0.25));
            let alert = candidate.as_ref().zip(threshold.as_ref());
            let yaml = need_yaml("mine", &story, &signals, alert);
            let need = parse_need("mine.yaml", &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
            let findings = resolve::need_findings(&need);
            assert!(findings.is_empty(), "{findings:?}\n{yaml}");
        }
    }

    #[test]
    fn a_share_is_drafted_as_a_ratio_in_percentunit() {
        let story = Story::parse(
            "As a product owner, I want the share of carts abandoned per variant, so that I stop a bad variant.",
        );
        let signals = [
            chosen(
                "abandoned",
                "carts_abandoned_total",
                SignalType::Counter,
                Some("variant"),
            ),
            chosen("created", "carts_created_total", SignalType::Counter, None),
        ];
        let p = &panels(&story, &signals)[0];
        assert_eq!(p.title, "Share of abandoned");
        assert_eq!(p.unit, "percentunit");
        assert_eq!(
            p.queries[0].0,
            "sum by ({{abandoned.variant}}) (rate({{abandoned}}[$__rate_interval])) / on() group_left() (sum(rate({{created}}[$__rate_interval])) > 0)"
        );
    }

    #[test]
    fn the_threshold_is_twice_now_rounded_up_and_a_share_stays_under_one() {
        let story = Story::parse("As a dev, I want the share of carts abandoned, so that x.");
        let signals = [
            chosen(
                "abandoned",
                "carts_abandoned_total",
                SignalType::Counter,
                None,
            ),
            chosen("created", "carts_created_total", SignalType::Counter, None),
        ];
        let c = alert_candidate(&story, &signals).expect("a ratio alert");
        assert_eq!(threshold(&c, 0.123).expect("t").value, 0.25);
        assert_eq!(threshold(&c, 0.7).expect("t").value, 1.0);
        assert_eq!(threshold(&c, 0.0), None);
    }
}
