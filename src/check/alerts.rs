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

/// Each need of the plan that has alerts, with its loaded rule group.
pub fn need_rules<'a>(plan: &'a Plan, groups: &'a [RuleGroup]) -> Vec<NeedRules<'a>> {
    plan.needs
        .iter()
        .filter_map(|need| {
            let group_name = need.rule_group.as_deref()?;
            Some(NeedRules {
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
        let Some(group) = self.loaded else {
            return Vec::new();
        };
        group
            .rules
            .iter()
            .filter_map(|rule| {
                let planned = self.need.alert_rules.iter().find(|a| a.name == rule.name)?;
                Some(LoadedAlert { planned, rule })
            })
            .collect()
    }
}

/// Every alert of the plan that Prometheus has loaded.
pub fn loaded<'a>(plan: &'a Plan, groups: &'a [RuleGroup]) -> Vec<LoadedAlert<'a>> {
    need_rules(plan, groups)
        .iter()
        .flat_map(NeedRules::alerts)
        .collect()
}
