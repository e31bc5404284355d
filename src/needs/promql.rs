//! PromQL helpers: escaping values into PromQL strings and regexes, and the
//! offline checks every generated expression passes before anything is written
//! (it parses; counters appear only inside `rate`/`irate`/`increase`).

use promql_parser::parser::{self, Expr};

/// Escapes a value for a double-quoted PromQL string literal, with
/// promql-parser's own escaping (the inverse of its lexer's unquoting):
/// backslash, double quote, newline, carriage return and tab are escaped;
/// everything else, unicode included, is valid inside the quotes as it is.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", promql_parser::util::escape_string(value))
}

/// Escapes a literal for use inside an RE2 regular expression.
pub fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// True for a valid Prometheus metric name.
pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// True for a valid Prometheus label name.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces Grafana's built-in range variables by durations so the expression
/// can be parsed offline, as Grafana's linter does.
pub fn expand_grafana_variables(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h")
}

/// Parses an expression (after Grafana variable expansion) and checks that
/// counters are only read through rate/irate/increase. Returns a message
/// naming the problem.
pub fn check(expr: &str) -> Result<(), String> {
    check_except(expr, &[])
}

/// [`check`], with `gauges` known to be gauges whatever their name says
/// (Micrometer's `…_active_count` is a gauge; the name alone would call it a counter).
pub fn check_except(expr: &str, gauges: &[String]) -> Result<(), String> {
    let parsed = parser::parse(&expand_grafana_variables(expr))
        .map_err(|e| format!("PromQL does not parse: {e}"))?;
    check_counters(&parsed, false, gauges)?;
    check_bucket_matchers(&parsed)
}

/// Checks that no matcher compares a histogram bound (`le`) or a summary
/// quantile (`quantile`) with a number written without a fraction, such as
/// `le="1"`: Prometheus 3 stores the bounds it scrapes as floats (`1.0`), so
/// such a matcher finds nothing there while it finds the series on
/// Prometheus 2, which keeps the app's spelling. A regex matching both
/// spellings answers the same on both.
fn check_bucket_matchers(expr: &Expr) -> Result<(), String> {
    for_each_literal_matcher(expr, |m, op| {
        if m.name != "le" && m.name != "quantile" {
            return Ok(());
        }
        let value = m.value.as_str();
        let integral = value.parse::<f64>().is_ok_and(f64::is_finite)
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
        if !integral {
            return Ok(());
        }
        let regex = if op == "=" { "=~" } else { "!~" };
        Err(format!(
            "`{0}{op}\"{value}\"` finds nothing on Prometheus 3, which stores the {0} values it scrapes as floats (`{0}=\"{value}.0\"`), while Prometheus 2 keeps the app's `{value}`; match both with `{0}{regex}\"{value}(\\\\.0)?\"`",
            m.name
        ))
    })
}

/// Calls `check` with every label matcher of `expr` that compares literally
/// (`=` or `!=`, given as the operator's text), in every selector, `or`
/// alternatives included; the first error ends the walk. Regex matchers are
/// skipped: what they match does not depend on one spelling.
fn for_each_literal_matcher(
    expr: &Expr,
    check: impl FnMut(&promql_parser::label::Matcher, &str) -> Result<(), String>,
) -> Result<(), String> {
    use promql_parser::label::MatchOp;
    use promql_parser::util::{ExprVisitor, walk_expr};
    struct Visitor<F>(F);
    impl<F> ExprVisitor for Visitor<F>
    where
        F: FnMut(&promql_parser::label::Matcher, &str) -> Result<(), String>,
    {
        type Error = String;
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
            let matchers = match expr {
                Expr::VectorSelector(vs) => &vs.matchers,
                Expr::MatrixSelector(ms) => &ms.vs.matchers,
                _ => return Ok(true),
            };
            let all = matchers
                .matchers
                .iter()
                .chain(matchers.or_matchers.iter().flatten());
            for m in all {
                let op = match m.op {
                    MatchOp::Equal => "=",
                    MatchOp::NotEqual => "!=",
                    MatchOp::Re(_) | MatchOp::NotRe(_) => continue,
                };
                (self.0)(m, op)?;
            }
            Ok(true)
        }
    }
    walk_expr(&mut Visitor(check), expr).map(|_| ())
}

/// [`check`], remembering the outcome per expression for the life of the
/// process: the same expression is parsed once however many apps use it.
pub fn check_cached(expr: &str) -> Result<(), String> {
    check_cached_except(expr, &[])
}

/// [`check_except`], remembering the outcome per expression and gauges, and
/// knowing the built-in needs' expressions without parsing them (see [`KNOWN_GOOD`]).
pub fn check_cached_except(expr: &str, gauges: &[String]) -> Result<(), String> {
    use std::collections::{HashMap, HashSet};
    use std::sync::{LazyLock, Mutex, OnceLock};
    static KNOWN: LazyLock<HashSet<String>> =
        LazyLock::new(|| serde_json::from_str(KNOWN_GOOD).unwrap_or_default());
    static CHECKED: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let key = check_key(expr, gauges);
    if KNOWN.contains(&key) {
        return Ok(());
    }
    let cache = CHECKED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(outcome) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return outcome;
    }
    let outcome = check_except(expr, gauges);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, outcome.clone());
    }
    outcome
}

/// The expressions, each with the gauges it was checked with (as
/// [`check_key`] joins them), that pass [`check_except`]: every expression of
/// the built-in needs in the canonical scope of each workload kind. Parsing
/// them — and compiling each `=~` regex — was most of a plan's time in a
/// fresh process. The test `the_known_good_expressions_are_current`
/// computes and checks them, and says how to update this file.
pub const KNOWN_GOOD: &str = include_str!("known_good.json");

/// What a check is remembered by: the expression and the gauges it was checked with.
pub fn check_key(expr: &str, gauges: &[String]) -> String {
    format!("{expr}\n{}", gauges.join(","))
}

/// The duration pattern of the PrometheusRule CRD for `for` and
/// `keep_firing_for` (monitoring.coreos.com_prometheusrules.yaml): each unit
/// at most once, the largest first.
const CRD_DURATION: &str =
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$";

/// Checks a duration written into a rule (`for: 5m`) against the CRD's
/// pattern and Prometheus' duration grammar (promql-parser's parser, which
/// also refuses a value too large for Prometheus). Zero (`0`, `0m`) is valid:
/// the alert fires on the first evaluation.
pub fn check_duration(text: &str) -> Result<(), String> {
    use std::sync::LazyLock;
    static PATTERN: LazyLock<Result<regex::Regex, regex::Error>> =
        LazyLock::new(|| regex::Regex::new(CRD_DURATION));
    let pattern = PATTERN.as_ref().map_err(|e| format!("internal: {e}"))?;
    let grammar = "write whole numbers with units, the largest unit first and each at most once: y, w, d, h, m, s, ms (e.g. 5m, 1h30m, 90s, 0)";
    if text.is_empty() || !pattern.is_match(text) {
        return Err(format!("is not a Prometheus duration; {grammar}"));
    }
    if text.chars().filter(char::is_ascii_digit).all(|c| c == '0') {
        return Ok(());
    }
    promql_parser::util::parse_duration(text)
        .map(|_| ())
        .map_err(|e| format!("is not a Prometheus duration ({e}); {grammar}"))
}

/// Checks that every label matcher using one of the dashboard's `variables`
/// matches with `=~` (or `!~`): Grafana's multi-value and "All" choices, and
/// verify's stand-in `.+`, are regexes that `=` and `!=` would compare as
/// literal text.
pub fn check_variable_matchers(expr: &str, variables: &[String]) -> Result<(), String> {
    let parsed = parser::parse(&expand_grafana_variables(expr))
        .map_err(|e| format!("PromQL does not parse: {e}"))?;
    for_each_literal_matcher(&parsed, |m, op| {
        let used = variables
            .iter()
            .find(|v| m.value.contains(&format!("${v}")) || m.value.contains(&format!("${{{v}}}")));
        match used {
            Some(var) => Err(format!(
                "the dashboard variable ${var} is matched with `{}{op}\"{}\"`; a variable holds a regex (several values, All), so use `{}=~\"{}\"`",
                m.name, m.value, m.name, m.value
            )),
            None => Ok(()),
        }
    })
}

fn is_counter_name(name: &str) -> bool {
    name.ends_with("_total") || name.ends_with("_bucket") || name.ends_with("_count")
}

fn check_counters(expr: &Expr, in_counter_fn: bool, gauges: &[String]) -> Result<(), String> {
    let is_counter = |name: &str| is_counter_name(name) && !gauges.iter().any(|g| g == name);
    match expr {
        Expr::Aggregate(a) => {
            check_counters(&a.expr, false, gauges)?;
            if let Some(p) = &a.param {
                check_counters(p, false, gauges)?;
            }
            Ok(())
        }
        Expr::Unary(u) => check_counters(&u.expr, false, gauges),
        Expr::Binary(b) => {
            check_counters(&b.lhs, false, gauges)?;
            check_counters(&b.rhs, false, gauges)
        }
        Expr::Paren(p) => check_counters(&p.expr, false, gauges),
        Expr::Subquery(s) => check_counters(&s.expr, false, gauges),
        Expr::VectorSelector(vs) => match &vs.name {
            Some(name) if is_counter(name) => Err(format!(
                "counter {name} is used without rate(), irate() or increase(); a raw counter only ever grows"
            )),
            _ => Ok(()),
        },
        Expr::MatrixSelector(ms) => match &ms.vs.name {
            Some(name) if is_counter(name) && !in_counter_fn => Err(format!(
                "counter {name} must be read through rate(), irate() or increase()"
            )),
            _ => Ok(()),
        },
        Expr::Call(call) => {
            let counter_fn = matches!(call.func.name, "rate" | "irate" | "increase" | "resets");
            for arg in &call.args.args {
                check_counters(arg, counter_fn, gauges)?;
            }
            Ok(())
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_bound_without_a_fraction_is_refused_with_the_regex_for_both_versions() {
        let err = check(r#"sum(rate(latency_seconds_bucket{le="1"}[5m]))"#).expect_err("le=\"1\"");
        assert!(err.contains("finds nothing on Prometheus 3"), "{err}");
        assert!(err.contains(r#"`le=~"1(\\.0)?"`"#), "{err}");
        let err = check(r#"rpc_seconds{quantile!="0"}"#).expect_err("quantile!=\"0\"");
        assert!(err.contains(r#"`quantile!~"0(\\.0)?"`"#), "{err}");
        for good in [
            r#"sum(rate(latency_seconds_bucket{le="0.5"}[5m]))"#,
            r#"sum(rate(latency_seconds_bucket{le="+Inf"}[5m]))"#,
            r#"sum(rate(latency_seconds_bucket{le=~"1(\\.0)?"}[5m]))"#,
            r#"histogram_quantile(0.95, sum by (le) (rate(latency_seconds_bucket[5m])))"#,
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn quote_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        let expr = format!("up{{job={}}}", quote("we\"ird\\name\n{x}"));
        assert!(check(&expr).is_ok(), "{expr}");
    }

    /// Whatever a value holds, the quoted literal parses back to exactly that
    /// value: in a matcher, and through promql-parser's unquoting.
    #[test]
    fn a_quoted_value_parses_back_to_itself() {
        use promql_parser::util::unquote_string;
        for value in [
            "",
            "plain",
            "double \" quote",
            "single ' quote",
            "back\\slash at the end\\",
            "\\\"",
            "new\nline and\r\ncarriage return",
            "tab\there",
            "unicode: café ☕ 𝔘 \u{200b}",
            "braces {x} and `backticks`",
            "\u{7f} and \u{1} control",
        ] {
            let quoted = quote(value);
            assert_eq!(unquote_string(&quoted).as_deref(), Ok(value), "{quoted}");
            let parsed = parser::parse(&format!("up{{job={quoted}}}")).expect("parses");
            let Expr::VectorSelector(vs) = parsed else {
                panic!("not a selector: {parsed:?}");
            };
            let job = vs.matchers.matchers.iter().find(|m| m.name == "job");
            assert_eq!(job.map(|m| m.value.as_str()), Some(value), "{quoted}");
        }
    }

    #[test]
    fn a_raw_counter_is_rejected_and_a_rated_one_accepted() {
        let err = check("sum(http_requests_total)").expect_err("raw counter");
        assert!(err.contains("http_requests_total"), "{err}");
        assert!(check("sum(rate(http_requests_total[$__rate_interval]))").is_ok());
        assert!(check("max_over_time(http_requests_total[5m])").is_err());
    }

    #[test]
    fn a_syntax_error_is_reported() {
        let err = check("sum(rate(x[5m])").expect_err("unbalanced");
        assert!(err.starts_with("PromQL does not parse"), "{err}");
    }

    #[test]
    fn durations_follow_the_crd_pattern_and_prometheus_grammar() {
        for good in ["5m", "1h30m", "90s", "0", "0m", "1w", "500ms"] {
            assert_eq!(check_duration(good), Ok(()), "{good}");
        }
        for bad in ["1s5m", "5", "m", "", "1.5m", "5m5m", "99999999999y"] {
            assert!(check_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_variable_must_be_matched_as_a_regex() {
        let vars = ["flag".to_string()];
        assert!(check_variable_matchers(r#"x{flag=~"$flag"}"#, &vars).is_ok());
        let err = check_variable_matchers(r#"rate(x{flag="${flag}"}[5m])"#, &vars)
            .expect_err("= with a variable");
        assert!(err.contains(r#"use `flag=~"${flag}"`"#), "{err}");
        assert!(check_variable_matchers(r#"x{flag!="$flag"}"#, &vars).is_err());
    }

    #[test]
    fn regex_escape_keeps_dots_literal() {
        assert_eq!(regex_escape("a.b-c"), r"a\.b-c");
    }
}
