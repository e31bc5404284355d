//! Feature-flag correlation: which flags changed their variant mix in the
//! window (from the OpenFeature evaluation counter the feature-flag need
//! resolves), and whether the error ratio or the latency moved with them.
//! A flag change that an error or latency rise follows becomes the cause
//! finding, ranked before the rise it explains; one that nothing followed is
//! information. It owns the reading of the evaluation series, not the
//! querying (see [`super::prometheus`]).

use std::collections::BTreeMap;

use super::trend::{self, Window};
use super::{Finding, Panel, Role, Severity};
use crate::client::prometheus::RangeSeries;

/// The smallest move of a variant's share of evaluations that counts as a
/// change: a 50/50 rollout wobbles by a few points, a switch moves by 100.
const MIN_MOVE: f64 = 0.2;

/// A flag whose variant mix changed in the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlagChange {
    /// The flag's key.
    pub flag: String,
    /// The variant whose share shrank most.
    pub from: String,
    /// The variant whose share grew most.
    pub to: String,
    /// Each variant's share of evaluations before the recent part.
    pub before: BTreeMap<String, f64>,
    /// Each variant's share in the recent part.
    pub after: BTreeMap<String, f64>,
    /// `to`'s share at the last evaluation in the window: what it serves now.
    pub latest: f64,
    /// When `to` passed half-way to its new share (Unix seconds).
    pub at: f64,
}

impl FlagChange {
    /// "`fail-error-rate` went from `off` to `on` for 100 % of evaluations".
    pub fn sentence(&self) -> String {
        let now = self.latest;
        if self.from == self.to {
            let was = self.before.get(&self.to).copied().unwrap_or(0.0);
            format!(
                "`{}` served `{}` to {} of evaluations, up from {}",
                self.flag,
                self.to,
                trend::percent(now),
                trend::percent(was)
            )
        } else {
            format!(
                "`{}` went from `{}` to `{}` for {} of evaluations",
                self.flag,
                self.from,
                self.to,
                trend::percent(now)
            )
        }
    }

    /// "before: off 100 %; now: on 100 %".
    fn mix(&self) -> String {
        let words = |mix: &BTreeMap<String, f64>| {
            mix.iter()
                .filter(|(_, share)| **share >= 0.005)
                .map(|(variant, share)| format!("`{variant}` {}", trend::percent(*share)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "`{}` evaluations by variant: {} before, {} in the recent part",
            self.flag,
            words(&self.before),
            words(&self.after)
        )
    }
}

/// The flags whose mix changed, from `sum by (flag, variant) (rate(…))`
/// series; `flag_label` and `variant_label` are the app's real label names.
pub(crate) fn changes(
    series: &[RangeSeries],
    flag_label: &str,
    variant_label: &str,
    split: f64,
) -> Vec<FlagChange> {
    let mut by_flag: BTreeMap<&str, BTreeMap<&str, &RangeSeries>> = BTreeMap::new();
    for s in series {
        let (Some(flag), Some(variant)) = (s.labels.get(flag_label), s.labels.get(variant_label))
        else {
            continue;
        };
        by_flag.entry(flag).or_default().insert(variant, s);
    }
    by_flag
        .into_iter()
        .filter_map(|(flag, variants)| change(flag, &variants, split))
        .collect()
}

/// One flag: the share of each variant at each step, averaged before and
/// after `split`; the variant that grew most decides whether it changed.
fn change(flag: &str, variants: &BTreeMap<&str, &RangeSeries>, split: f64) -> Option<FlagChange> {
    let shares = shares(variants);
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    for (variant, points) in &shares {
        let shift = trend::shift(points, split)?;
        // A flag first evaluated in the recent part has no mix to compare with.
        before.insert(variant.to_string(), shift.baseline?);
        after.insert(variant.to_string(), shift.recent);
    }
    let grew = |v: &String| after[v] - before[v];
    let to = after
        .keys()
        .max_by(|a, b| grew(a).total_cmp(&grew(b)))?
        .clone();
    if grew(&to) < MIN_MOVE {
        return None;
    }
    // The variant that lost most: in a 50/50 rollout switched to `on`, that
    // is `off`, even where `on` had a hair more before.
    let from = after
        .keys()
        .min_by(|a, b| grew(a).total_cmp(&grew(b)))?
        .clone();
    let half_way = (before[&to] + after[&to]) / 2.0;
    let series = &shares[to.as_str()];
    let at = trend::onset(series, half_way)?;
    let latest = series.last().map_or(0.0, |p| p.value);
    Some(FlagChange {
        flag: flag.to_string(),
        from,
        to,
        before,
        after,
        latest,
        at,
    })
}

/// Each variant's share of the flag's evaluations at each time the flag was
/// evaluated at all; a variant without a point at that time had none.
fn shares<'a>(
    variants: &BTreeMap<&'a str, &RangeSeries>,
) -> BTreeMap<&'a str, Vec<crate::client::prometheus::Point>> {
    let mut totals: BTreeMap<u64, f64> = BTreeMap::new();
    for s in variants.values() {
        for p in s.values.iter().filter(|p| p.value.is_finite()) {
            *totals.entry(p.timestamp.to_bits()).or_default() += p.value;
        }
    }
    variants
        .iter()
        .map(|(variant, s)| {
            let rate: BTreeMap<u64, f64> = s
                .values
                .iter()
                .map(|p| (p.timestamp.to_bits(), p.value))
                .collect();
            let points = totals
                .iter()
                .filter(|(_, total)| **total > 0.0)
                .map(|(t, total)| crate::client::prometheus::Point {
                    timestamp: f64::from_bits(*t),
                    value: rate
                        .get(t)
                        .copied()
                        .filter(|v| v.is_finite())
                        .unwrap_or(0.0)
                        / total,
                })
                .collect();
            (*variant, points)
        })
        .collect()
}

/// What users notice that rose in the window (errors, latency), to be
/// explained by a flag change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rise {
    /// `Errors` or `Latency`: starts the finding's title.
    pub what: &'static str,
    /// When it rose (Unix seconds).
    pub at: f64,
    /// How bad the rise is.
    pub severity: Severity,
    /// Its numbers, as the symptom finding states them.
    pub evidence: Vec<String>,
    /// The dashboard panel showing it.
    pub panel: Option<Panel>,
}

/// The flag changes as findings: a change that a rise followed within the
/// window's lag is the cause of that rise (one finding per rise, naming the
/// nearest change before it); a change nothing followed is information.
pub(crate) fn explain(
    changes: &[FlagChange],
    rises: &[Rise],
    window: &Window,
    panel: Option<&Panel>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut explained = vec![false; changes.len()];
    for rise in rises {
        let lag = |c: &FlagChange| rise.at - c.at;
        let nearest = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| lag(c) >= -window.slack() && lag(c) <= window.max_lag())
            .min_by(|a, b| lag(a.1).abs().total_cmp(&lag(b.1).abs()));
        if let Some((index, change)) = nearest {
            explained[index] = true;
            findings.push(cause(change, rise, window, panel));
        }
    }
    for (change, _) in changes.iter().zip(&explained).filter(|(_, e)| !**e) {
        let mut finding = Finding::new(
            Severity::Info,
            Role::Cause,
            format!(
                "{} at {}; errors and latency did not move with it",
                change.sentence(),
                trend::clock(change.at)
            ),
        )
        .evidence(change.mix());
        finding.panel = panel.cloned();
        findings.push(finding);
    }
    findings
}

/// "Errors rose at 14:03:07 UTC, 2 min after `fail-error-rate` went from
/// `off` to `on` for 100 % of evaluations".
fn cause(change: &FlagChange, rise: &Rise, window: &Window, panel: Option<&Panel>) -> Finding {
    let lag = rise.at - change.at;
    let when = if lag < window.step.as_secs_f64() {
        "as".to_string()
    } else {
        format!("{} after", trend::span(lag))
    };
    let mut finding = Finding::new(
        rise.severity,
        Role::Cause,
        format!(
            "{} rose at {}, {when} {}",
            rise.what,
            trend::clock(rise.at),
            change.sentence()
        ),
    )
    .evidence(format!(
        "`{}` changed at {}",
        change.flag,
        trend::clock(change.at)
    ))
    .evidence(change.mix())
    .next(format!(
        "Serve `{}` again (the variant of `{}` before the change) and watch the error ratio and latency; then find out why `{}` misbehaves",
        change.from, change.flag, change.to
    ));
    finding.evidence.extend(rise.evidence.iter().cloned());
    finding.panel = panel.cloned().or_else(|| rise.panel.clone());
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::prometheus::{Labels, Point};
    use std::time::{Duration, UNIX_EPOCH};

    fn variant(flag: &str, variant: &str, values: &[(f64, f64)]) -> RangeSeries {
        RangeSeries {
            labels: Labels::from([
                ("feature_flag_key".to_string(), flag.to_string()),
                (
                    "feature_flag_result_variant".to_string(),
                    variant.to_string(),
                ),
            ]),
            values: values
                .iter()
                .map(|&(timestamp, value)| Point { timestamp, value })
                .collect(),
        }
    }

    fn switched() -> Vec<RangeSeries> {
        vec![
            // Switched from off to on at t=70; `on` only exists from then.
            variant(
                "fail-error-rate",
                "off",
                &[(0.0, 5.0), (30.0, 5.0), (60.0, 5.0), (70.0, 2.0)],
            ),
            variant(
                "fail-error-rate",
                "on",
                &[(10.0, 0.0), (70.0, 3.0), (80.0, 5.0), (90.0, 5.0)],
            ),
            // A 50/50 rollout that wobbles: no change.
            variant(
                "new-checkout-button",
                "on",
                &[(0.0, 2.6), (30.0, 2.4), (80.0, 2.3), (90.0, 2.7)],
            ),
            variant(
                "new-checkout-button",
                "off",
                &[(0.0, 2.4), (30.0, 2.6), (80.0, 2.7), (90.0, 2.3)],
            ),
        ]
    }

    #[test]
    fn a_switched_flag_is_found_with_its_variants_and_time_and_a_wobbling_rollout_is_not() {
        let found = changes(
            &switched(),
            "feature_flag_key",
            "feature_flag_result_variant",
            75.0,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].at, 70.0);
        assert_eq!(
            found[0].sentence(),
            "`fail-error-rate` went from `off` to `on` for 100 % of evaluations"
        );
    }

    #[test]
    fn a_rollout_switched_to_everyone_went_from_the_variant_that_lost_share() {
        let series = vec![
            variant(
                "new-checkout-button",
                "on",
                &[(0.0, 2.6), (30.0, 2.6), (80.0, 5.0), (90.0, 5.0)],
            ),
            variant(
                "new-checkout-button",
                "off",
                &[(0.0, 2.4), (30.0, 2.4), (80.0, 0.0), (90.0, 0.0)],
            ),
        ];
        let found = changes(
            &series,
            "feature_flag_key",
            "feature_flag_result_variant",
            75.0,
        );
        assert_eq!(
            found[0].sentence(),
            "`new-checkout-button` went from `off` to `on` for 100 % of evaluations"
        );
    }

    #[test]
    fn errors_that_rose_after_a_flag_change_are_explained_by_it() {
        let found = changes(
            &switched(),
            "feature_flag_key",
            "feature_flag_result_variant",
            75.0,
        );
        let window = Window::new(
            UNIX_EPOCH + Duration::from_secs(100),
            Duration::from_secs(100),
            Duration::from_secs(1),
        );
        let rise = Rise {
            what: "Errors",
            at: 72.0,
            severity: Severity::Critical,
            evidence: vec!["error ratio 30 % now, 0 % before".to_string()],
            panel: None,
        };
        let findings = explain(&found, std::slice::from_ref(&rise), &window, None);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].title,
            "Errors rose at 00:01:12 UTC, 2 s after `fail-error-rate` went from `off` to `on` for 100 % of evaluations"
        );
        assert_eq!(findings[0].role, Role::Cause);
        assert!(findings[0].next_step.contains("Serve `off` again"));
        // Long after the change, the rise is not the flag's doing.
        let late = Rise {
            at: 70.0 + window.max_lag() + 1.0,
            ..rise
        };
        let findings = explain(&found, &[late], &window, None);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(
            findings[0]
                .title
                .ends_with("errors and latency did not move with it")
        );
    }
}
