//! `onramp detect` and `onramp rbac` without a cluster: no kubeconfig found
//! (what onramp looked at and how to point at one) and `rbac --help`. The
//! tests against the Kubernetes stand-in and the real kube-apiserver are in
//! `tests/integration/detect.rs`.

use crate::support::kube::run as detect_in;

#[test]
fn no_kubeconfig_says_where_onramp_looked_and_how_to_point_at_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = detect_in(dir.path(), &["detect"]);
    run.expect_status(2);
    assert!(run.stderr.contains("no Kubernetes cluster configured: looked at --kubeconfig (not given), KUBECONFIG (not set), "), "{}", run.stderr);
    assert!(run.stderr.contains(".kube/config (not found)"));
    assert!(
        run.stderr
            .contains("pass --kubeconfig FILE, set KUBECONFIG")
    );
}

#[test]
fn rbac_help_matches_its_snapshot_and_lists_every_command_with_a_role() {
    let run = crate::support::onramp(&["rbac", "--help"]);
    run.expect_status(0);
    for command in [
        "detect",
        "troubleshoot",
        "plan",
        "apply",
        "onboard",
        "adoption",
    ] {
        assert!(
            run.stdout.contains(&format!("- {command}:")),
            "{command} in:\n{}",
            run.stdout
        );
    }
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("rbac-help", run.stdout);
    });
}

#[test]
fn adoption_refused_a_namespace_kubernetes_cannot_have_before_asking_any_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = detect_in(dir.path(), &["adoption", "-n", "shop", "-n", "Shop_2"]);
    run.expect_status(2);
    assert!(run.stderr.contains("-n \"Shop_2\": "), "{}", run.stderr);
    // Refused before looking for a cluster: nothing about a kubeconfig.
    assert!(!run.stderr.contains("kubeconfig"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn rbac_adoption_printed_a_read_only_cluster_role_and_for_n_a_role_of_its_lists() {
    let run = crate::support::onramp(&["rbac", "adoption"]);
    run.expect_status(0);
    let roles = crate::support::yaml_documents(&run.stdout);
    assert_eq!(roles.len(), 1);
    let verbs: std::collections::BTreeSet<String> = roles[0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .flat_map(|r| r["verbs"].as_array().expect("verbs").clone())
        .map(|v| v.as_str().expect("a verb").to_string())
        .collect();
    assert_eq!(
        verbs.into_iter().collect::<Vec<_>>(),
        ["create", "get", "list"],
        "only reads (and a POST through the service proxy, which RBAC calls create)"
    );
    let resources: Vec<String> = roles[0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["resources"][0].as_str().expect("a resource"),
                r["verbs"]
            )
        })
        .collect();
    for expected in [
        r#"daemonsets ["list"]"#,
        r#"statefulsets ["list"]"#,
        r#"namespaces ["get","list"]"#,
        r#"prometheusrules ["list"]"#,
        r#"services/proxy ["create","get"]"#,
    ] {
        assert!(
            resources.iter().any(|r| r == expected),
            "{expected} in {resources:#?}"
        );
    }

    let run = crate::support::onramp(&["rbac", "adoption", "-n", "shop"]);
    run.expect_status(0);
    let roles = crate::support::yaml_documents(&run.stdout);
    let kinds: Vec<&str> = roles.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["ClusterRole", "Role"]);
    assert_eq!(roles[1]["metadata"]["namespace"], "shop");
    let local: Vec<&str> = roles[1]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["resources"][0].as_str().expect("a resource"))
        .collect();
    assert_eq!(
        local,
        [
            "configmaps",
            "daemonsets",
            "deployments",
            "statefulsets",
            "podmonitors",
            "prometheusrules",
            "servicemonitors"
        ]
    );
    assert!(
        run.stdout
            .contains("# What `onramp adoption` reads, in namespace shop only:"),
        "{}",
        run.stdout
    );
}
