//! Example series for a selector: label values that match each of its
//! matchers, or that break exactly one of them (`status=~"5.."` → `500`,
//! and `200` when the matcher must not hold). Every value is checked against
//! the matcher with the same anchored regex Prometheus uses, so an example
//! that does not do what it says is never written.

use std::collections::BTreeMap;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr};
use regex_syntax::hir::{Class, Hir, HirKind};

/// A series a test feeds: its metric name and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The metric name.
    pub name: String,
    /// The labels (the metric name is not one of them).
    pub labels: BTreeMap<String, String>,
}

impl Series {
    /// The series as promtool's `input_series` writes it: `name{k="v"}`.
    pub fn text(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::needs::promql::quote(v)))
            .collect();
        format!("{}{{{}}}", self.name, labels.join(","))
    }
}

/// The metric name and matchers of a plain selector (`m{a="1",b=~"x|y"}`).
pub fn selector(text: &str) -> Result<(String, Vec<Matcher>), String> {
    let expr = parser::parse(text).map_err(|e| format!("{text}: {e}"))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!("{text} is not a plain series selector"));
    };
    if !vs.matchers.or_matchers.is_empty() {
        return Err(format!("{text}: `or` inside a selector is not supported"));
    }
    let mut name = vs.name.clone();
    let mut matchers = Vec::new();
    for m in vs.matchers.matchers {
        if m.name == "__name__" && m.op == MatchOp::Equal {
            name = Some(m.value.clone());
        } else {
            matchers.push(m);
        }
    }
    let name = name.ok_or_else(|| format!("{text} names no metric"))?;
    Ok((name, matchers))
}

/// A series of `selector` whose labels satisfy every matcher, except
/// `broken`, which they must not satisfy.
pub fn series(selector_text: &str, broken: Option<&Matcher>) -> Result<Series, String> {
    let (name, matchers) = selector(selector_text)?;
    let mut names: Vec<&str> = matchers.iter().map(|m| m.name.as_str()).collect();
    names.extend(broken.map(|m| m.name.as_str()));
    names.sort_unstable();
    names.dedup();
    let mut labels = BTreeMap::new();
    for label in names {
        let holding: Vec<&Matcher> = matchers
            .iter()
            .filter(|m| m.name == label && Some(*m) != broken)
            .collect();
        let failing: Vec<&Matcher> = broken.filter(|m| m.name == label).into_iter().collect();
        let value = label_value(&holding, &failing).ok_or_else(|| {
            format!("no example value of label {label} fits the matchers of {selector_text}")
        })?;
        if !value.is_empty() {
            labels.insert(label.to_string(), value);
        }
    }
    Ok(Series { name, labels })
}

/// A value satisfying every matcher of `holding` and none of `failing`.
fn label_value(holding: &[&Matcher], failing: &[&Matcher]) -> Option<String> {
    // A path for a label that holds one reads better than `200`.
    let path = holding.iter().chain(failing).any(|m| {
        ["route", "path", "uri", "handler", "url"]
            .iter()
            .any(|word| m.name.contains(word))
    });
    let mut candidates: Vec<String> = Vec::new();
    if path {
        candidates.push("/example".to_string());
    }
    for m in holding.iter().chain(failing) {
        candidates.extend(examples(m, holding.contains(m)));
    }
    candidates.extend(
        [
            "example",
            "200",
            "GET",
            "x",
            "0",
            "onramp-example-value",
            "",
        ]
        .map(String::from),
    );
    candidates
        .into_iter()
        .find(|v| holding.iter().all(|m| m.is_match(v)) && failing.iter().all(|m| !m.is_match(v)))
}

/// Values that satisfy `m` (or break it, when `hold` is false), best first.
fn examples(m: &Matcher, hold: bool) -> Vec<String> {
    let positive = matches!(m.op, MatchOp::Equal | MatchOp::Re(_));
    let want_match = hold == positive;
    let pattern = match &m.op {
        MatchOp::Equal | MatchOp::NotEqual => crate::needs::promql::regex_escape(&m.value),
        MatchOp::Re(_) | MatchOp::NotRe(_) => m.value.clone(),
    };
    let found = if want_match {
        matching_value(&pattern)
    } else {
        non_matching_value(&pattern)
    };
    found.into_iter().collect()
}

/// A value the PromQL regex `pattern` matches (as a whole, as Prometheus
/// anchors it), or nothing when none is found.
pub fn matching_value(pattern: &str) -> Option<String> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    build(&hir, &mut out)?;
    anchored(pattern)?.is_match(&out).then_some(out)
}

/// A value the PromQL regex `pattern` does not match, or nothing when it
/// matches every value tried.
pub fn non_matching_value(pattern: &str) -> Option<String> {
    let regex = anchored(pattern)?;
    let near = matching_value(pattern).map(|v| format!("{v}x"));
    ["200", "example", "x", "0", "/", "onramp-example-value", ""]
        .map(String::from)
        .into_iter()
        .chain(near)
        .find(|v| !regex.is_match(v))
}

fn anchored(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// Appends the shortest string `hir` matches, preferring letters and digits
/// within a class; `None` where the walk cannot tell (a class of nothing).
fn build(hir: &Hir, out: &mut String) -> Option<()> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(()),
        HirKind::Literal(lit) => {
            out.push_str(std::str::from_utf8(&lit.0).ok()?);
            Some(())
        }
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges();
            let nice = ranges.iter().find_map(|r| {
                (r.start()..=r.end())
                    .take(512)
                    .find(char::is_ascii_alphanumeric)
            });
            out.push(nice.or_else(|| ranges.first().map(|r| r.start()))?);
            Some(())
        }
        HirKind::Class(Class::Bytes(class)) => {
            let byte = class.ranges().first()?.start();
            out.push(char::from(byte).is_ascii().then_some(char::from(byte))?);
            Some(())
        }
        HirKind::Repetition(rep) => {
            for _ in 0..rep.min {
                build(&rep.sub, out)?;
            }
            Some(())
        }
        HirKind::Capture(cap) => build(&cap.sub, out),
        HirKind::Concat(parts) => parts.iter().try_for_each(|p| build(p, out)),
        HirKind::Alternation(branches) => build(branches.first()?, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(pattern: &str, value: &str) -> bool {
        anchored(pattern).expect("regex").is_match(value)
    }

    #[test]
    fn a_status_class_gets_a_matching_and_a_non_matching_status() {
        assert_eq!(matching_value("5..").as_deref(), Some("500"));
        let other = non_matching_value("5..").expect("a value");
        assert!(!holds("5..", &other), "{other}");
    }

    #[test]
    fn alternatives_classes_and_repetitions_give_a_value_the_regex_matches() {
        for pattern in [
            "/healthz|/metrics|/readyz",
            "[45]\\d\\d",
            "(GET|POST)",
            "api-v[0-9]+",
            "a{3}b?",
            ".*error.*",
            "",
        ] {
            let value = matching_value(pattern).expect(pattern);
            assert!(holds(pattern, &value), "{pattern} → {value:?}");
            let other = non_matching_value(pattern).expect(pattern);
            assert!(!holds(pattern, &other), "{pattern} → {other:?}");
        }
        assert_eq!(
            matching_value("/healthz|/metrics").as_deref(),
            Some("/healthz")
        );
    }

    #[test]
    fn a_regex_matching_everything_has_no_non_matching_value() {
        assert_eq!(non_matching_value(".*"), None);
    }

    #[test]
    fn a_route_outside_the_internal_routes_and_a_5xx_make_a_bad_event() {
        let bad = r#"http_requests_total{job="checkout",route!~"/healthz|/metrics",status=~"5.."}"#;
        let series = series(bad, None).expect("series");
        assert_eq!(series.name, "http_requests_total");
        assert_eq!(series.labels["job"], "checkout");
        assert_eq!(series.labels["status"], "500");
        let route = &series.labels["route"];
        assert!(!holds("/healthz|/metrics", route), "{route}");
    }

    #[test]
    fn breaking_one_matcher_keeps_the_others() {
        let (_, matchers) =
            selector(r#"m{job="checkout",status=~"5..",route!~"/healthz"}"#).expect("selector");
        let status = matchers
            .iter()
            .find(|m| m.name == "status")
            .expect("status");
        let good = series(
            r#"m{job="checkout",status=~"5..",route!~"/healthz"}"#,
            Some(status),
        )
        .expect("series");
        assert_eq!(good.labels["job"], "checkout");
        assert!(!holds("5..", &good.labels["status"]), "{:?}", good.labels);
        assert_ne!(good.labels["route"], "/healthz");
    }

    #[test]
    fn a_negative_matcher_broken_takes_a_value_it_excludes() {
        let text = r#"m{route!~"/healthz|/metrics"}"#;
        let (_, matchers) = selector(text).expect("selector");
        let internal = series(text, Some(&matchers[0])).expect("series");
        assert_eq!(internal.labels["route"], "/healthz");
        assert_eq!(internal.text(), r#"m{route="/healthz"}"#);
    }
}
