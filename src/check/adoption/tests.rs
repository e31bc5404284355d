use super::*;
use crate::app::WorkloadKind;

fn workload(namespace: &str, name: &str, labels: &[(&str, &str)]) -> FleetWorkload {
    FleetWorkload {
        namespace: namespace.into(),
        kind: WorkloadKind::Deployment,
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        pod_labels: BTreeMap::new(),
    }
}

#[test]
fn a_team_is_the_label_else_the_namespace() {
    let labelled = workload("shop", "checkout", &[(DEFAULT_TEAM_LABEL, "storefront")]);
    assert_eq!(team_of(&labelled, DEFAULT_TEAM_LABEL), "storefront");
    assert_eq!(team_of(&labelled, "team"), "shop");
    let blank = workload("shop", "cart", &[(DEFAULT_TEAM_LABEL, "")]);
    assert_eq!(team_of(&blank, DEFAULT_TEAM_LABEL), "shop");
}

#[test]
fn only_an_absolute_http_link_is_a_runbook_a_person_can_open() {
    assert!(openable("https://runbooks.example.com/shop/checkout.md#x"));
    assert!(openable("http://wiki/runbook"));
    assert!(!openable("runbook.md#checkouthigherrorrate"));
    assert!(!openable("/runbooks/checkout.md"));
    assert!(!openable("https://"));
    assert!(!openable("file:///tmp/runbook.md"));
}

fn app(team: &str, level: Option<u8>) -> AppAdoption {
    AppAdoption {
        app: CheckedApp::named(Some("ns"), "a"),
        namespace: "ns".into(),
        team: team.into(),
        level,
        level_name: "",
        stops: None,
        next: None,
        checks: Vec::new(),
        not_checked: Vec::new(),
        needs: Vec::new(),
        planned: Vec::new(),
        requests_per_second: None,
    }
}

#[test]
fn a_team_line_counts_each_level_and_the_unknown_apart() {
    let unanswered = |ids: &[&str]| {
        ids.iter()
            .map(|id| NeedState {
                need: id.to_string(),
                answered: false,
                missing: vec!["requests".into()],
            })
            .collect::<Vec<_>>()
    };
    let mut lacking_two = app("a", Some(2));
    lacking_two.needs = unanswered(&["feature-flag-engagement", "service-health"]);
    let mut lacking_one = app("a", Some(2));
    lacking_one.needs = unanswered(&["service-health"]);
    let apps = [
        app("a", Some(0)),
        lacking_two,
        app("a", None),
        app("a", Some(3)),
        app("a", Some(4)),
        app("b", Some(1)),
        lacking_one,
    ];
    let teams = summarise(&apps);
    assert_eq!(teams.len(), 2);
    assert_eq!(teams[0].team, "a");
    assert_eq!(teams[0].apps, 6);
    assert_eq!(teams[0].by_level, [1, 0, 2, 1, 1]);
    assert_eq!(teams[0].unknown, 1);
    // Level 3 or more: one at 3, one at 4, of six.
    assert_eq!(teams[0].share_needs_answered, 1.0 / 3.0);
    assert_eq!(
        teams[0].unanswered,
        [
            ("service-health".to_string(), 2),
            ("feature-flag-engagement".to_string(), 1)
        ]
    );
    assert_eq!(teams[1].by_level, [0, 1, 0, 0, 0]);
    assert_eq!(teams[1].share_needs_answered, 0.0);
}

fn report_of(apps: Vec<AppAdoption>) -> AdoptionReport {
    AdoptionReport {
        max_level: 4,
        prometheus: None,
        grafana: None,
        teams: summarise(&apps),
        apps,
        not_checked: Vec::new(),
    }
}

fn placed(team: &str, level: u8, rate: Option<f64>, next: &str) -> AppAdoption {
    let mut placed = app(team, Some(level));
    placed.requests_per_second = rate;
    placed.next = Some(next.to_string());
    placed
}

#[test]
fn the_next_team_has_the_most_apps_below_alerted_then_the_most_traffic() {
    let report = report_of(vec![
        placed("a", 1, Some(5.0), "onramp apply a1 -n a"),
        placed("a", 0, None, "onramp onboard a0 -n a"),
        placed("b", 0, Some(0.5), "onramp onboard b0 -n b"),
        placed("b", 1, Some(9.0), "onramp apply b1 -n b"),
        placed("c", 0, None, "onramp onboard c0 -n c"),
        placed("c", 3, Some(100.0), "onramp verify c3 -n c"),
    ]);
    let next = report.next_team().expect("a team");
    assert_eq!(next.team, "b");
    assert_eq!(next.below_alerted, 2);
    assert_eq!(next.requests_per_second, 9.5);
    assert_eq!(
        next.why,
        "2 of its 2 apps are at level 0–1, as many as a (5/s); it serves the most requests among them (9.50/s)"
    );
    // Level 0 first.
    assert_eq!(
        next.commands,
        ["onramp onboard b0 -n b", "onramp apply b1 -n b"]
    );

    let alone = report_of(vec![
        placed("a", 0, None, "onramp onboard a0 -n a"),
        placed("b", 2, None, "onramp apply b2 -n b"),
    ]);
    let next = alone.next_team().expect("a team");
    assert_eq!(
        next.why,
        "1 of its 1 apps are at level 0–1, the most of any team"
    );
    assert_eq!(report_of(vec![placed("b", 2, None, "x")]).next_team(), None);
}

#[test]
fn a_kube_state_metrics_signal_told_the_platform_engineer_to_instrument_the_app() {
    let catalog = crate::needs::Catalog::load(&[]).expect("the built-in needs");
    let troubleshooting = &catalog
        .get("troubleshooting")
        .expect("troubleshooting")
        .need;
    let hint = "Comes from kube-state-metrics; nothing to add to the app";
    assert_eq!(
        levels::missing_signal_next(troubleshooting, "available", hint),
        "have the cluster's Prometheus scrape it: Comes from kube-state-metrics; nothing to add to the app"
    );
    let health = &catalog.get("service-health").expect("service-health").need;
    assert!(
        levels::missing_signal_next(health, "requests", "Count every request")
            .starts_with("instrument the app: "),
    );
}

fn dashboard_config_map(
    namespace: &str,
    app: &str,
    need: &str,
) -> crate::cluster::fleet::OnrampObject {
    crate::cluster::fleet::OnrampObject {
        kind: "ConfigMap",
        namespace: namespace.into(),
        name: format!("{app}-{need}-dashboard"),
        labels: [("onramp.dev/app", app), ("onramp.dev/need", need)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        rule_groups: Vec::new(),
        data: BTreeMap::new(),
    }
}

#[test]
fn the_platform_dashboard_counted_as_a_dashboard_of_a_workload_named_onramp() {
    let catalog = crate::needs::Catalog::load(&[]).expect("the built-in needs");
    let fleet = Fleet {
        dashboards: vec![
            dashboard_config_map("monitoring", "onramp", "platform-adoption"),
            dashboard_config_map("monitoring", "onramp", "service-health"),
        ],
        ..Fleet::default()
    };
    let index = Index::of(&fleet, &catalog, None);
    let needs: Vec<Option<&str>> = index.dashboards[&("monitoring", "onramp")]
        .iter()
        .map(|d| d.need())
        .collect();
    assert_eq!(needs, [Some("service-health")]);
}

#[test]
fn an_apps_groups_are_found_by_name_in_prometheus_order_also_when_loaded_twice() {
    let group = |name: &str, file: &str| -> RuleGroup {
        serde_json::from_value(serde_json::json!({"name": name, "file": file, "rules": []}))
            .expect("a rule group")
    };
    let state = PrometheusState {
        groups: vec![
            group("shop.cart.service-health", "a.yaml"),
            group("shop.checkout.troubleshooting", "a.yaml"),
            group("shop.checkout.service-health", "a.yaml"),
            group("shop.checkout.troubleshooting", "b.yaml"),
        ],
        ..PrometheusState::default()
    };
    let fleet = Fleet::default();
    let catalog = crate::needs::Catalog::load(&[]).expect("the built-in needs");
    let index = Index::of(&fleet, &catalog, Some(&state));
    let (health, troubleshooting, missing) = (
        "shop.checkout.service-health".to_string(),
        "shop.checkout.troubleshooting".to_string(),
        "shop.checkout.other".to_string(),
    );
    let found: Vec<(&str, &str)> = index
        .groups_named(&[&health, &troubleshooting, &missing, &health])
        .iter()
        .map(|g| (g.name.as_str(), g.file.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("shop.checkout.troubleshooting", "a.yaml"),
            ("shop.checkout.service-health", "a.yaml"),
            ("shop.checkout.troubleshooting", "b.yaml"),
        ]
    );
    assert!(
        Index::of(&fleet, &catalog, None)
            .groups_named(&[&health])
            .is_empty()
    );
}
