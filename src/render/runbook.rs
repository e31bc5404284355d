//! The runbook: Markdown an on-call engineer can follow at 3 a.m. For each
//! alert, Meaning / Impact / Diagnosis / Mitigation with the app's real names,
//! commands and queries; for each dashboard, a walkthrough of troubleshooting
//! with it. Prose goes through the `templates/runbook.md.j2` template (Jinja syntax, rendered
//! with minijinja); values
//! that come from input pass the `md` escaping filter.

use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::needs::Severity;
use crate::render::Context;
use crate::render::rules::Alert;

const TEMPLATE: &str = include_str!("../../templates/runbook.md.j2");

/// A dashboard as the runbook shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookDashboard {
    /// The need it answers.
    pub need: String,
    /// Its title.
    pub title: String,
    /// Its URL in Grafana (`GRAFANA/d/UID`), when Grafana's URL is known.
    pub url: Option<String>,
    /// Its uid, to find it in Grafana when there is no URL.
    pub uid: String,
    /// Its JSON file in the codify folder.
    pub path: String,
    /// The need's story.
    pub story: String,
    /// The walkthrough (Markdown, already filled with the app's names).
    pub walkthrough: String,
    /// The signals it reads.
    pub signals: Vec<RunbookSignal>,
}

/// A signal as the runbook lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookSignal {
    /// The signal name.
    pub name: String,
    /// The metric it maps to.
    pub metric: String,
    /// What it is.
    pub description: String,
    /// What to add when it is missing.
    pub instrumentation: String,
}

#[derive(Serialize)]
struct AppView {
    onramp_args: String,
    name: String,
    namespace: String,
    kind: String,
    workload: String,
    selector: String,
    container: String,
    containers: Vec<String>,
}

#[derive(Serialize)]
struct AlertView<'a> {
    name: &'a str,
    anchor: &'a str,
    severity: Severity,
    for_: &'a str,
    /// `for: 0m`: the alert fires on the first evaluation that matches.
    for_zero: bool,
    expr: &'a str,
    meaning: &'a str,
    impact: &'a str,
    diagnosis: &'a [String],
    mitigation: &'a [String],
    queries: &'a [(String, String)],
}

#[derive(Serialize)]
struct View<'a> {
    /// True when onramp generated a scrape object (the app has metrics).
    scraped: bool,
    app: AppView,
    metrics: String,
    scraped_by: String,
    dashboards: &'a [RunbookDashboard],
    alerts: Vec<AlertView<'a>>,
}

/// Escapes Markdown specials in a value that comes from input.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Makes Markdown fit one table cell: a `|` would end the cell and a newline
/// the row. Need texts are Markdown already (code spans, emphasis), so
/// nothing else is escaped — escaping them again shows literal backslashes.
pub fn table_cell(text: &str) -> String {
    text.replace('|', r"\|").replace(['\n', '\r'], " ")
}

/// The `cell` filter: Markdown made to fit one table cell.
fn cell_filter(value: minijinja::Value) -> String {
    match value.as_str() {
        Some(text) => table_cell(text),
        None => table_cell(&value.to_string()),
    }
}

/// True for a Prometheus duration of zero (`0m`, `0s`, `0h0m`).
fn is_zero_duration(duration: &str) -> bool {
    !duration.chars().any(|c| c.is_ascii_digit() && c != '0')
}

/// Keeps the walkthrough lines whose `{if:SIGNAL}` marker names a signal the
/// app has (`has`), and drops the others, so the runbook only sends readers
/// to rows and panels that were generated.
pub fn walkthrough(text: &str, has: impl Fn(&str) -> bool) -> String {
    const MARK: &str = "{if:";
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find(MARK) else {
            out.push(line.to_string());
            continue;
        };
        let after = &line[start + MARK.len()..];
        let Some(end) = after.find('}') else {
            out.push(line.to_string());
            continue;
        };
        if has(&after[..end]) {
            out.push(format!("{}{}", &line[..start], &after[end + 1..]));
        }
    }
    out.join("\n")
}

/// The `md` filter: input text made safe for Markdown.
fn md_filter(value: minijinja::Value) -> String {
    match value.as_str() {
        Some(text) => escape_markdown(text),
        None => escape_markdown(&value.to_string()),
    }
}

/// The parsed template, parsed once per process.
fn template() -> std::result::Result<&'static minijinja::Environment<'static>, &'static String> {
    static ENV: OnceLock<std::result::Result<minijinja::Environment<'static>, String>> =
        OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // Markdown, not HTML: escaping is the `md` filter's job, applied where input lands.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("md", md_filter);
        env.add_filter("cell", cell_filter);
        env.add_template("runbook.md", TEMPLATE)
            .map_err(|e| crate::error::report(&e))?;
        Ok(env)
    })
    .as_ref()
}

/// Renders the runbook.
pub fn render(
    ctx: &Context<'_>,
    metrics: &str,
    scraped_by: &str,
    dashboards: &[RunbookDashboard],
    alerts: &[Alert],
) -> Result<String> {
    let app = ctx.app;
    let view = View {
        scraped: app.metrics.is_some(),
        app: AppView {
            onramp_args: ctx.onramp_args.clone(),
            name: app.name.clone(),
            namespace: app.namespace.clone(),
            kind: app.kind.as_kind().to_string(),
            workload: app.workload(),
            selector: app.selector_arg(),
            container: app
                .main_container()
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            containers: app.containers.iter().map(|c| c.name.clone()).collect(),
        },
        metrics: metrics.to_string(),
        scraped_by: scraped_by.to_string(),
        dashboards,
        alerts: alerts
            .iter()
            .map(|a| AlertView {
                name: &a.name,
                anchor: &a.anchor,
                severity: a.severity,
                for_: &a.for_,
                for_zero: is_zero_duration(&a.for_),
                expr: &a.expr,
                meaning: &a.meaning,
                impact: &a.impact,
                diagnosis: &a.diagnosis,
                mitigation: &a.mitigation,
                queries: &a.queries,
            })
            .collect(),
    };
    let fail = |e: minijinja::Error| Error::Render {
        artifact: "runbook".to_string(),
        message: crate::error::report(&e),
    };
    let env = template().map_err(|message| Error::Render {
        artifact: "runbook template".to_string(),
        message: message.clone(),
    })?;
    let text = env
        .get_template("runbook.md")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(fail)?;
    Ok(tidy(&text))
}

/// Collapses runs of blank lines that template control flow leaves behind.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(escape_markdown("a_b*c|d\ne"), r"a\_b\*c\|d e");
    }

    #[test]
    fn a_table_cell_keeps_markdown_and_escapes_only_the_cell_end() {
        assert_eq!(table_cell("a `x_y` | b\nc"), r"a `x_y` \| b c");
    }

    #[test]
    fn zero_durations_are_recognised() {
        assert!(is_zero_duration("0m") && is_zero_duration("0s") && is_zero_duration("0h0m"));
        assert!(!is_zero_duration("5m") && !is_zero_duration("10s"));
    }

    #[test]
    fn walkthrough_lines_for_missing_signals_are_dropped() {
        let text = "1. always\n2. {if:up}**Scrape health**\n3. {if:other}gone";
        assert_eq!(
            walkthrough(text, |s| s == "up"),
            "1. always\n2. **Scrape health**"
        );
    }
}
