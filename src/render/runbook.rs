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
    /// Its URL (Grafana base URL + `/d/uid` when known, else the path).
    pub url: String,
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
    expr: &'a str,
    meaning: &'a str,
    impact: &'a str,
    diagnosis: &'a [String],
    mitigation: &'a [String],
    queries: &'a [(String, String)],
}

#[derive(Serialize)]
struct View<'a> {
    stamp: String,
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
        stamp: ctx.markdown_stamp().trim_end().to_string(),
        app: AppView {
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
}
