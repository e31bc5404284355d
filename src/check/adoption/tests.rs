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
