//! Alerting rules: the PrometheusRule for the Operator and the same groups as
//! a plain Prometheus rules file. Every alert carries `severity`, `summary`,
//! `description` and a `runbook_url` pointing at its section of the runbook.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::needs::resolve::ResolvedNeed;
use crate::needs::{AlertDef, Severity};
use crate::render::monitor::{MonitoringObject, OperatorSpec};
use crate::render::{Context, Metadata, prose, to_yaml};

/// An alert ready to render: names resolved, expressions expanded and checked.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The full alert name (`CheckoutHighErrorRate`).
    pub name: String,
    /// The need it belongs to.
    pub need: String,
    /// The PromQL expression.
    pub expr: String,
    /// How long the condition must hold.
    pub for_: String,
    /// How urgent it is.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// Templated description.
    pub description: String,
    /// The runbook URL (base + `#anchor`).
    pub runbook_url: String,
    /// The runbook heading anchor.
    pub anchor: String,
    /// Meaning, with the app's names.
    pub meaning: String,
    /// Impact, with the app's names.
    pub impact: String,
    /// Diagnosis steps, with the app's names.
    pub diagnosis: Vec<String>,
    /// Mitigation steps, with the app's names.
    pub mitigation: Vec<String>,
    /// Queries to run while diagnosing: (title, expression).
    pub queries: Vec<(String, String)>,
}

/// Expands one alert definition of a resolved need for the app.
pub fn alert(ctx: &Context<'_>, need: &ResolvedNeed<'_>, def: &AlertDef) -> Result<Alert> {
    let name = format!("{}{}", ctx.alert_prefix(), def.name);
    let fail = |message: String| Error::Render {
        artifact: format!("alert {name} of need {}", need.need.id),
        message,
    };
    let expr = need.checked_expr(&def.expr.value).map_err(fail)?;
    let queries = def
        .queries
        .iter()
        .map(|q| {
            let expr = need.checked_expr(&q.expr.value).map_err(fail)?;
            Ok((prose(ctx, &q.title), expr))
        })
        .collect::<Result<Vec<_>>>()?;
    let text = |t: &str| label_refs(need, &prose(ctx, t)).map_err(fail);
    let anchor = name.to_ascii_lowercase();
    Ok(Alert {
        runbook_url: format!("{}#{anchor}", ctx.runbook_url),
        anchor,
        need: need.need.id.clone(),
        expr,
        for_: def.for_.value.clone(),
        severity: def.severity,
        summary: text(&def.summary)?,
        description: text(&def.description)?,
        meaning: text(&def.runbook.meaning)?,
        impact: text(&def.runbook.impact)?,
        diagnosis: def
            .runbook
            .diagnosis
            .iter()
            .map(|s| text(s))
            .collect::<Result<_>>()?,
        mitigation: def
            .runbook
            .mitigation
            .iter()
            .map(|s| text(s))
            .collect::<Result<_>>()?,
        queries,
        name,
    })
}

/// Replaces `{label:SIGNAL.LABEL}` with the real label name.
fn label_refs(need: &ResolvedNeed<'_>, text: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{label:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{label:".len()..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed {{label:…}} in {text:?}"))?;
        let reference = &after[..end];
        let expanded = need.expr(&format!("{{{{{reference}}}}}"))?;
        out.push_str(&expanded);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One rule, as Prometheus reads it: an alerting rule (`alert`) or a
/// recording rule (`record`).
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The series a recording rule writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The alert name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// The expression.
    pub expr: String,
    /// How long an alert's condition must hold.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// `severity` and the app's identity; a recorded series' labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, `runbook_url`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A rule group (one per need).
#[derive(Debug, Clone, Serialize)]
pub struct RuleGroup {
    /// The group name.
    pub name: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// The spec of a PrometheusRule, and the whole of a plain rules file.
#[derive(Debug, Clone, Serialize)]
pub struct RuleGroups {
    /// The groups.
    pub groups: Vec<RuleGroup>,
}

/// The rule group of one need of the app: `namespace.app.need`.
pub fn group_name(ctx: &Context<'_>, need: &str) -> String {
    format!("{}.{}.{need}", ctx.app.namespace, ctx.app.name)
}

/// Groups the alerts by need, in the order given.
pub fn groups(ctx: &Context<'_>, alerts: &[Alert]) -> RuleGroups {
    let mut groups: Vec<RuleGroup> = Vec::new();
    for alert in alerts {
        let group_name = group_name(ctx, &alert.need);
        let rule = Rule {
            record: None,
            alert: Some(alert.name.clone()),
            expr: alert.expr.clone(),
            for_: Some(alert.for_.clone()),
            labels: BTreeMap::from([
                ("severity".to_string(), alert.severity.to_string()),
                ("namespace".to_string(), ctx.app.namespace.clone()),
                ("app".to_string(), ctx.app.name.clone()),
            ]),
            annotations: BTreeMap::from([
                ("summary".to_string(), alert.summary.clone()),
                ("description".to_string(), alert.description.clone()),
                ("runbook_url".to_string(), alert.runbook_url.clone()),
            ]),
        };
        match groups.iter_mut().find(|g| g.name == group_name) {
            Some(group) => group.rules.push(rule),
            None => groups.push(RuleGroup {
                name: group_name,
                rules: vec![rule],
            }),
        }
    }
    RuleGroups { groups }
}

impl OperatorSpec for &RuleGroups {
    const KIND: &'static str = "PrometheusRule";
}

/// The PrometheusRule object.
pub fn prometheus_rule(ctx: &Context<'_>, groups: &RuleGroups) -> Result<String> {
    let object = MonitoringObject::new(
        Metadata {
            name: ctx.app.name.clone(),
            namespace: ctx.app.namespace.clone(),
            labels: ctx.selected_labels(),
            annotations: BTreeMap::new(),
        },
        groups,
    );
    to_yaml(&object, "PrometheusRule")
}

/// The plain Prometheus rules file (the same groups).
pub fn rules_file(groups: &RuleGroups) -> Result<String> {
    to_yaml(groups, "rules file")
}
