//! `onramp detect` and `onramp rbac` against the Kubernetes stand-in (and,
//! with `on_both!`, the real kube-apiserver): what a
//! user reads about the cluster's monitoring stack, what `--write` saves,
//! and every way reaching the cluster fails (exit statuses and messages,
//! never the token).

use std::path::Path;

use serde_json::Value;

use crate::support::cluster::{Cluster, Target, assert_refused, on_both, strings};
use crate::support::kube::{Rule, Scenario, Standin, TOKEN};
use crate::support::{Run, onramp_dir_env, read, yaml_documents};

/// Runs `onramp ARGS` in `dir`, isolated from the machine's cluster setup.
pub(crate) fn detect_in(dir: &Path, args: &[&str]) -> Run {
    crate::support::kube::run(dir, args)
}

/// Runs `onramp detect --kubeconfig KUBECONFIG ARGS` in a fresh folder.
fn detect(cluster: &Cluster, extra: &[&str]) -> Run {
    detect_as(cluster, &cluster.kubeconfig(), extra)
}

/// [`detect`] with the identity of `kubeconfig`.
fn detect_as(cluster: &Cluster, kubeconfig: &Path, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec![
        "detect",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    cluster.run_checked(detect_in(dir.path(), &args))
}

#[track_caller]
fn assert_no_token(run: &Run) {
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token leaked:\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

fn kube_prometheus_stack_reports_the_release_label_and_the_sidecar_label(cluster: &Cluster) {
    let run = detect(cluster, &[]);
    run.expect_status(0);
    assert!(
        run.stdout_line("Prometheus Operator")
            .contains("installed (monitoring.coreos.com/v1)")
    );
    assert!(
        run.stdout
            .contains("Prometheus monitoring/kube-prometheus-stack-prometheus\n")
    );
    for kind in ["ServiceMonitors", "PodMonitors", "PrometheusRules"] {
        assert_eq!(
            run.stdout_line(&format!("  {kind}:")),
            format!(
                "  {:<19}labels release=kube-prometheus-stack, in every namespace",
                format!("{kind}:")
            )
        );
    }
    assert_eq!(
        run.stdout_line("need the label"),
        "Monitors and rules need the label release=kube-prometheus-stack, or monitoring/kube-prometheus-stack-prometheus ignores them."
    );
    assert!(
        run.stdout_line("dashboard sidecar").contains(
            "container grafana-sc-dashboard loads ConfigMaps labelled grafana_dashboard=1 in every namespace (folder from the annotation grafana_folder)"
        )
    );
    assert!(
        run.stdout
            .contains("service monitoring/prometheus-operated port 9090 (http-web)")
    );
    assert!(
        run.stdout
            .contains("service monitoring/kube-prometheus-stack-grafana port 80 (http-web)")
    );
    assert!(
        run.stdout_line("Save this")
            .ends_with("onramp detect --write")
    );
    // Label selectors and names only: never every pod, deployment or service.
    let Some(standin) = cluster.standin() else {
        return;
    };
    for everything in [
        "/api/v1/pods",
        "/api/v1/services",
        "/apis/apps/v1/deployments",
    ] {
        assert!(
            standin
                .request_log()
                .iter()
                .all(|r| !r.starts_with(&format!("GET {everything}?"))
                    || r.contains("labelSelector=")),
            "listed {everything} without a selector: {:?}",
            standin.request_log()
        );
    }
    assert_eq!(standin.requests_to("/api/v1/pods"), 0);
}
on_both!(
    kube_prometheus_stack_reports_the_release_label_and_the_sidecar_label,
    Scenario::KubePrometheusStack
);

fn output_json_carries_the_selectors_the_sidecar_and_the_services(cluster: &Cluster) {
    let run = detect(cluster, &["--output", "json"]);
    run.expect_status(0);
    let json: Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(json["operator"]["group"], "monitoring.coreos.com");
    assert_eq!(json["operator"]["version"], "v1");
    let prometheus = &json["prometheuses"][0];
    assert_eq!(prometheus["name"], "kube-prometheus-stack-prometheus");
    for selection in ["service_monitors", "pod_monitors", "rules"] {
        assert_eq!(
            prometheus[selection]["selector"]["matchLabels"]["release"], "kube-prometheus-stack",
            "{selection}"
        );
        assert_eq!(
            prometheus[selection]["namespace_selector"],
            serde_json::json!({})
        );
    }
    assert_eq!(prometheus["service"]["name"], "prometheus-operated");
    assert_eq!(prometheus["service"]["port"], 9090);
    let grafana = &json["grafanas"][0];
    assert_eq!(grafana["name"], "kube-prometheus-stack-grafana");
    assert_eq!(grafana["sidecar"]["label"], "grafana_dashboard");
    assert_eq!(grafana["sidecar"]["label_value"], "1");
    assert_eq!(grafana["sidecar"]["folder_annotation"], "grafana_folder");
    assert_eq!(grafana["service"]["port"], 80);
}
on_both!(
    output_json_carries_the_selectors_the_sidecar_and_the_services,
    Scenario::KubePrometheusStack
);

fn write_saves_onramp_yaml_and_refuses_to_change_a_hand_edited_one(cluster: &Cluster) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let args = [
        "detect",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "--write",
    ];
    let first = detect_in(dir.path(), &args);
    first.expect_status(0);
    assert!(
        first.stdout.contains("wrote onramp.yaml"),
        "{}",
        first.stdout
    );
    let config = dir.path().join("onramp.yaml");
    let written = yaml_documents(&read(&config));
    assert_eq!(written[0]["labels"]["release"], "kube-prometheus-stack");
    assert_eq!(
        written[0]["grafana"]["sidecar_label"],
        "grafana_dashboard=1"
    );
    // Nothing reads grafana.service: detect no longer writes it (issue 19).
    assert!(
        written[0]["grafana"]["service"].is_null(),
        "{:?}",
        written[0]["grafana"]
    );
    assert_eq!(
        written[0]["prometheus"]["service"],
        "monitoring/prometheus-operated:9090"
    );

    // Again: onramp reads its own file back and has nothing to change.
    let again = detect_in(dir.path(), &args);
    again.expect_status(0);
    assert!(
        again
            .stdout
            .contains("onramp.yaml already says this; unchanged")
    );

    // A person adds a need: nothing of it is detect's, so the file stays as is.
    let with_need = read(&config) + "needs:\n- latency\n";
    std::fs::write(&config, &with_need).expect("hand edit");
    let kept = detect_in(dir.path(), &args);
    kept.expect_status(0);
    assert!(
        kept.stdout
            .contains("onramp.yaml already says this; unchanged")
    );
    assert_eq!(read(&config), with_need);

    // And points the label elsewhere: detect refuses, showing the change.
    let edited = with_need.replace("release: kube-prometheus-stack", "release: prod");
    std::fs::write(&config, &edited).expect("hand edit");
    let refused = detect_in(dir.path(), &args);
    refused.expect_status(1);
    assert!(
        refused.stderr.contains("refusing to change onramp.yaml"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("\n-  release: prod\n"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("\n+  release: kube-prometheus-stack\n"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("pass --force"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        read(&config),
        edited,
        "a refused write leaves the file as it was"
    );

    // --force takes the cluster's value and keeps the person's need.
    let mut forced_args = args.to_vec();
    forced_args.push("--force");
    detect_in(dir.path(), &forced_args).expect_status(0);
    let forced = yaml_documents(&read(&config));
    assert_eq!(forced[0]["labels"]["release"], "kube-prometheus-stack");
    assert_eq!(forced[0]["needs"], serde_json::json!(["latency"]));
}
on_both!(
    write_saves_onramp_yaml_and_refuses_to_change_a_hand_edited_one,
    Scenario::KubePrometheusStack
);

fn without_the_operator_detect_says_so_and_points_at_the_plain_prometheus_path(cluster: &Cluster) {
    let run = detect(cluster, &[]);
    run.expect_status(0);
    assert!(
        run.stdout_line("Prometheus Operator")
            .contains("not installed (no monitoring.coreos.com group in discovery)")
    );
    assert!(
        run.stdout_line("--prometheus-config-dir").trim()
            == "onramp apply APP -n NAMESPACE -f MANIFESTS --prometheus-config-dir DIR"
    );
    if let Some(standin) = cluster.standin() {
        assert_eq!(
            standin.requests_to("/apis/monitoring.coreos.com/v1/prometheuses"),
            0,
            "no Prometheus resources are asked for without the Operator"
        );
    }
}
on_both!(
    without_the_operator_detect_says_so_and_points_at_the_plain_prometheus_path,
    Scenario::NoOperator
);

/// The rules `onramp rbac COMMAND` prints: (verbs, group, resource).
pub(crate) fn printed_rules_of(command: &str) -> Vec<(Vec<String>, String, String)> {
    let run = crate::support::onramp(&["rbac", command]);
    run.expect_status(0);
    let role = &yaml_documents(&run.stdout)[0];
    assert_eq!(role["kind"], "ClusterRole");
    assert_eq!(role["metadata"]["name"], format!("onramp-{command}"));
    role["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                strings(&r["verbs"]),
                strings(&r["apiGroups"])[0].clone(),
                strings(&r["resources"])[0].clone(),
            )
        })
        .collect()
}

/// Printed rules as the stand-in's RBAC rules.
pub(crate) fn as_rules(printed: &[(Vec<String>, String, String)]) -> Vec<Rule> {
    printed
        .iter()
        .map(|(verbs, group, resource)| {
            let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
            Rule::new(&verbs, group, resource, None)
        })
        .collect()
}

fn detect_works_with_exactly_the_rules_onramp_rbac_prints(target: Target) {
    let printed = printed_rules_of("detect");
    assert_eq!(
        printed,
        vec![
            (
                vec!["get".into(), "list".into()],
                String::new(),
                "services".into()
            ),
            (vec!["list".into()], "apps".into(), "deployments".into()),
            (
                vec!["list".into()],
                "monitoring.coreos.com".into(),
                "prometheuses".into()
            ),
        ]
    );
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&crate::kube_apply::printed_roles(&["detect"]));
    let run = detect_as(&cluster, &granted, &[]);
    run.expect_status(0);
    assert!(run.stdout.contains("labels release=kube-prometheus-stack"));
}
on_both!(detect_works_with_exactly_the_rules_onramp_rbac_prints);

fn a_refused_list_names_the_verb_the_resource_the_namespace_and_the_rbac_line(target: Target) {
    let roles = crate::kube_apply::printed_roles(&["detect"]);
    let cluster = Cluster::start(Scenario::KubePrometheusStack, target);
    let granted = cluster.grant(&crate::kube_apply::without(&roles, "list", "prometheuses"));
    let run = detect_as(&cluster, &granted, &[]);
    assert_refused(
        &run,
        "list prometheuses.monitoring.coreos.com in all namespaces",
        "detect",
    );
    assert!(
        run.stderr
            .contains("grant it with: the ClusterRole printed by `onramp rbac detect`")
    );
    assert!(
        run.stdout.is_empty(),
        "nothing half-detected is printed: {}",
        run.stdout
    );
}
on_both!(a_refused_list_names_the_verb_the_resource_the_namespace_and_the_rbac_line);

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_unknown_context_lists_the_kubeconfig_s_contexts() {
    let cluster = Cluster::new(Scenario::KubePrometheusStack);
    let run = detect(&cluster, &["--context", "prod"]);
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("it has no context \"prod\"; its contexts are: standin"),
        "{}",
        run.stderr
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn an_unreachable_api_server_exits_3_naming_it() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let text =
        read(standin.kubeconfig()).replace(standin.url(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(&kubeconfig, text).expect("write");
    let run = detect_in(
        dir.path(),
        &[
            "detect",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(3);
    assert!(
        run.stderr.contains(&format!(
            "cannot reach the Kubernetes API server at https://127.0.0.1:{port} (standin)"
        )),
        "{}",
        run.stderr
    );
}

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn a_rejected_token_exits_with_the_credentials_status_and_never_shows() {
    let standin = Standin::start(Scenario::KubePrometheusStack);
    let wrong = "expired-token-0123456789abcdef";
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig_with_token(wrong);
    let run = detect_in(
        dir.path(),
        &[
            "-v",
            "detect",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
        ],
    );
    run.expect_status(4);
    assert!(
        run.stderr
            .contains("rejected the credentials of standin (401"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(wrong) && !run.stdout.contains(wrong),
        "{}",
        run.stderr
    );
}

fn verbose_logs_every_request_without_the_token(cluster: &Cluster) {
    let run = detect(cluster, &["-v"]);
    run.expect_status(0);
    let url = cluster.url();
    assert!(
        run.stderr.contains(&format!("GET {url}/apis -> 200 in ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "GET {url}/apis/monitoring.coreos.com/v1/prometheuses?limit=250 -> 200 in "
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&format!(
        "GET {url}/api/v1/namespaces/monitoring/services/prometheus-operated -> 200 in "
    )));
    let logged = run
        .stderr
        .lines()
        .filter(|l| l.contains(&format!("GET {url}")))
        .count();
    if let Some(standin) = cluster.standin() {
        assert_eq!(logged, standin.request_log().len(), "one line per request");
    }
}
on_both!(
    verbose_logs_every_request_without_the_token,
    Scenario::KubePrometheusStack
);

#[test]
#[cfg_attr(
    not(shared_crds),
    ignore = "needs ../shared/reference/crds beside the checkout (ONRAMP_TEST_SHARED)"
)]
fn kubeconfig_comes_from_the_environment_and_context_picks_one_of_its_contexts() {
    let standin = Standin::start(Scenario::NoOperator);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = standin.kubeconfig();
    let home = dir.path().to_string_lossy().into_owned();
    let run = onramp_dir_env(
        Some(dir.path()),
        &["detect", "--context", "standin"],
        &[
            ("HOME", &home),
            ("KUBECONFIG", kubeconfig.to_str().expect("utf-8")),
            ("KUBERNETES_SERVICE_HOST", ""),
        ],
    );
    run.expect_status(0);
    assert_eq!(
        run.stdout_line("Cluster:"),
        format!("Cluster: {} (context standin)", standin.url())
    );
    assert_no_token(&run);
}

#[test]
fn write_with_output_json_keeps_stdout_json_and_says_what_it_wrote_on_stderr() {
    let cluster = Cluster::new(Scenario::KubePrometheusStack);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let run = detect_in(
        dir.path(),
        &[
            "detect",
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
            "--write",
            "--output",
            "json",
        ],
    );
    run.expect_status(0);
    let found: Value = serde_json::from_str(&run.stdout).expect("stdout is JSON alone");
    assert!(found.is_object(), "{}", run.stdout);
    assert_eq!(run.stderr, "wrote onramp.yaml\n");
}

#[test]
fn a_grafana_service_an_older_detect_wrote_still_loads_and_is_kept() {
    let cluster = Cluster::new(Scenario::KubePrometheusStack);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = cluster.kubeconfig();
    let args = [
        "detect",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf-8"),
        "--write",
    ];
    detect_in(dir.path(), &args).expect_status(0);
    let config = dir.path().join("onramp.yaml");
    let older = read(&config).replace(
        "grafana:\n",
        "grafana:\n  service: monitoring/kube-prometheus-stack-grafana:80\n",
    );
    std::fs::write(&config, &older).expect("an older detect's file");
    let again = detect_in(dir.path(), &args);
    again.expect_status(0);
    assert!(
        again
            .stdout
            .contains("onramp.yaml already says this; unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(read(&config), older);
}
