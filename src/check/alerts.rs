//! The app's alerts as Prometheus runs them: the one way `verify` and
//! `troubleshoot` find them. Their identity comes from the plan (each need's
//! rule group, each alert's name, severity and runbook section,
//! [`crate::plan::PlannedAlert`]); their state from Prometheus' loaded rule
//! groups (`/api/v1/rules`), which also hold each alerting rule's pending and
//! firing instances. An alert is the app's because the plan made it, never
//! because of a label a person may have set on another rule.

use crate::client::prometheus::{Alert, AlertState, Rule, RuleGroup};
use crate::plan::{NeedReport, Plan, PlannedAlert};

/// A need's rule group, and the group Prometheus has loaded under its name
/// (`None`: not loaded).
pub struct NeedRules<'a> {
    /// The need.
    pub need: &'a NeedReport,
    /// Its rule group's name.
    pub group_name: &'a str,
    /// The group as Prometheus has it loaded.
    pub loaded: Option<&'a RuleGroup>,
}

/// One of the plan's alerts as Prometheus has it loaded.
pub struct LoadedAlert<'a> {
    /// What the plan says of it: name, severity, runbook section.
    pub planned: &'a PlannedAlert,
    /// The loaded rule: state, health, annotations, active instances.
    pub rule: &'a Rule,
}

impl<'a> LoadedAlert<'a> {
    /// Its pending and firing instances.
    pub fn active(&self) -> impl Iterator<Item = &'a Alert> {
        self.rule
            .alerts
            .iter()
            .filter(|a| matches!(a.state, AlertState::Pending | AlertState::Firing))
    }
}

/// Each rule group of the plan — a need's alerts, each of its objectives'
/// own — with the group Prometheus has loaded under its name.
pub fn need_rules<'a>(plan: &'a Plan, groups: &'a [RuleGroup]) -> Vec<NeedRules<'a>> {
    plan.needs
        .iter()
        .flat_map(|need| {
            need.rule_group
                .as_deref()
                .into_iter()
                .chain(need.objectives.iter().filter_map(|o| o.rule_group()))
                .map(move |group_name| NeedRules {
                    need,
                    group_name,
                    loaded: groups.iter().find(|g| g.name == group_name),
                })
        })
        .collect()
}

impl<'a> NeedRules<'a> {
    /// The need's alerts that its loaded group holds, in the group's order.
    pub fn alerts(&self) -> Vec<LoadedAlert<'a>> {
        self.loaded
            .map(|group| planned_in(&self.need.alert_rules, group))
            .unwrap_or_default()
    }
}

/// The rules of `group` that are among `planned`, in the group's order: a
/// rule a person added to the group is not the plan's.
fn planned_in<'a>(planned: &'a [PlannedAlert], group: &'a RuleGroup) -> Vec<LoadedAlert<'a>> {
    group
        .rules
        .iter()
        .filter_map(|rule| {
            // An objective's page and ticket share a name: their severity tells them apart.
            let planned = planned.iter().find(|a| {
                a.name == rule.name
                    && rule
                        .labels
                        .get("severity")
                        .is_none_or(|s| s == a.severity.as_str())
            })?;
            Some(LoadedAlert { planned, rule })
        })
        .collect()
}

/// Every alert of the plan that Prometheus has loaded.
pub fn loaded<'a>(plan: &'a Plan, groups: &'a [RuleGroup]) -> Vec<LoadedAlert<'a>> {
    need_rules(plan, groups)
        .iter()
        .flat_map(NeedRules::alerts)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::needs::Severity;

    /// A group as `/api/v1/rules` answers it: a rule a person added by hand,
    /// firing, and the plan's alert, firing.
    const GROUP: &str = r#"{"name":"shop-checkout-service-health","file":"/etc/prometheus/rules/shop-checkout.yaml","interval":30,
      "rules":[
        {"type":"alerting","name":"CheckoutHandWritten","query":"vector(1)","health":"ok","state":"firing","duration":0,
         "labels":{"severity":"critical"},"annotations":{},
         "alerts":[{"labels":{"alertname":"CheckoutHandWritten"},"annotations":{},"state":"firing","activeAt":"2026-12-07T14:00:00Z","value":"1e+00"}]},
        {"type":"alerting","name":"CheckoutHighErrorRate","query":"x > 0.05","health":"ok","state":"firing","duration":300,
         "labels":{"severity":"critical"},"annotations":{"summary":"checkout fails more than 5% of its requests."},
         "alerts":[{"labels":{"alertname":"CheckoutHighErrorRate"},"annotations":{},"state":"firing","activeAt":"2026-12-07T14:03:07.5Z","value":"7.38e-02"}]}
      ]}"#;

    #[test]
    fn only_the_alerts_the_plan_made_are_the_apps() {
        let group: RuleGroup = serde_json::from_str(GROUP).expect("a rules answer");
        let planned = [PlannedAlert {
            name: "CheckoutHighErrorRate".into(),
            severity: Severity::Critical,
            runbook_section: "runbook.md#checkouthigherrorrate".into(),
        }];
        let alerts = planned_in(&planned, &group);
        let names: Vec<&str> = alerts.iter().map(|a| a.rule.name.as_str()).collect();
        assert_eq!(names, ["CheckoutHighErrorRate"]);
        assert_eq!(alerts[0].planned.severity, Severity::Critical);
        let active: Vec<f64> = alerts[0].active().map(|a| a.value).collect();
        assert_eq!(active, [0.0738]);
        assert!(planned_in(&[], &group).is_empty());
    }
}
