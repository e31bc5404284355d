//! What a new user tripped over following the README (issue 7 §4): each test
//! is named after what broke and asserts what the user now sees.

use std::path::Path;

use crate::support::prometheus::on_both_prometheus;
use crate::support::{Run, onramp, onramp_env, onramp_in, read, repo_path};

/// A folder holding the demo's checkout manifest and a kustomization that
/// moves it to namespace `prod` with the name prefix `eu-`.
fn kustomize_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        repo_path("examples/shop/k8s/checkout.yaml"),
        dir.path().join("checkout.yaml"),
    )
    .expect("copy the demo manifest");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nnamePrefix: eu-\nresources:\n  - checkout.yaml\n",
    )
    .expect("write the kustomization");
    dir
}

/// A folder with nothing in it, to stand for PATH on a machine without tools.
fn empty_path() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn is_on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

/// What `kubectl kustomize` prints for [`kustomize_folder`].
fn built_checkout() -> String {
    read(repo_path("examples/shop/k8s/checkout.yaml"))
        .replace("namespace: shop", "namespace: prod")
        .replace("name: checkout\n", "name: eu-checkout\n")
}

/// PATH for a run that must find `kubectl`: the real one when installed,
/// else a stand-in (kept alive by the returned folder) that prints
/// [`built_checkout`].
fn path_with_kubectl() -> (Option<tempfile::TempDir>, String) {
    let path = std::env::var("PATH").unwrap_or_default();
    if is_on_path("kubectl") {
        return (None, path);
    }
    let bin = only_tool("kubectl", &built_checkout());
    let with = format!("{}:{path}", bin.path().display());
    (Some(bin), with)
}

/// `plan` of [`kustomize_folder`] with `path` finds the app as built:
/// `eu-checkout` in namespace `prod`.
fn plans_the_built_app(folder: &str, path: &str) {
    let run = onramp_env(&["plan", "eu-checkout", "-f", folder], &[("PATH", path)]);
    run.expect_status(0);
    assert!(
        run.stdout
            .starts_with("Plan for deployment/eu-checkout in namespace prod"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_kustomize_folder_was_read_as_raw_files_ignoring_its_namespace_and_name_prefix() {
    let k8s = kustomize_folder();
    let (stand_in, path) = path_with_kubectl();
    let folder = k8s.path().display().to_string();

    plans_the_built_app(&folder, &path);
    // The raw file's name is not what gets deployed, so it is not found.
    let raw = onramp_env(&["plan", "checkout", "-f", &folder], &[("PATH", &path)]);
    raw.expect_status(2);
    assert!(
        raw.stderr
            .contains("deployment/eu-checkout (namespace prod)"),
        "{}",
        raw.stderr
    );
    if let Some(bin) = stand_in {
        assert_eq!(
            read(bin.path().join("args.log")).trim(),
            format!("kustomize {folder}")
        );
    }
}

/// A folder holding only a stand-in for `program` that logs its arguments
/// and prints `output`, like the tool on a machine that has only it.
fn only_tool(program: &str, output: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().expect("temp dir");
    std::fs::write(bin.path().join("output.yaml"), output).expect("write the output");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > {dir}/args.log\n/bin/cat {dir}/output.yaml\n",
        dir = bin.path().display()
    );
    let tool = bin.path().join(program);
    std::fs::write(&tool, script).expect("write the stand-in");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

#[test]
fn a_kustomize_folder_was_not_built_with_kustomize_build_when_kubectl_is_absent() {
    let k8s = kustomize_folder();
    let folder = k8s.path().display().to_string();
    let bin = only_tool("kustomize", &built_checkout());
    let path = bin.path().display().to_string();
    plans_the_built_app(&folder, &path);
    assert_eq!(
        read(bin.path().join("args.log")).trim(),
        format!("build {folder}")
    );
}

#[test]
fn a_lone_kustomization_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    )
    .expect("write the kustomization");
    let folder = dir.path().display().to_string();
    let bin = only_tool("kubectl", "");
    let path = bin.path().display().to_string();
    let run = onramp_env(&["plan", "checkout", "-f", &folder], &[("PATH", &path)]);
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        format!(
            "error: {folder}: `kubectl kustomize {folder}` printed no Kubernetes object: the kustomization lists no resources"
        )
    );
}

#[test]
fn a_kustomize_folder_without_kubectl_or_kustomize_was_ignored_instead_of_refused() {
    let k8s = kustomize_folder();
    let bin = empty_path();
    let folder = k8s.path().display().to_string();
    let run = onramp_env(
        &["codify", "checkout", "-f", &folder, "--out", "unused"],
        &[("PATH", &bin.path().display().to_string())],
    );
    run.expect_status(2);
    assert!(
        run.stderr.contains(&format!(
            "\n  kustomize build {folder} | onramp codify checkout -f - --out unused\n"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("neither `kubectl` nor `kustomize` is on PATH"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_helm_chart_folder_said_its_chart_yaml_has_no_kind() {
    let chart = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        chart.path().join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .expect("write Chart.yaml");
    std::fs::create_dir(chart.path().join("templates")).expect("templates");
    let folder = chart.path().display().to_string();
    let run = onramp(&["plan", "cart", "-n", "shop", "-f", &folder]);
    run.expect_status(2);
    assert!(!run.stderr.contains("has no kind"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "\n  helm template RELEASE {folder} | onramp plan cart -n shop -f -"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_file_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.yaml"), "# nothing yet\n").expect("write");
    let run = onramp_in(
        Some(dir.path()),
        &["plan", "checkout", "-f", "app.yaml"],
        None,
    );
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        "error: app.yaml: the file is empty: it holds no Kubernetes object"
    );
}

#[test]
fn an_empty_folder_said_no_workload_without_saying_it_was_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("k8s")).expect("mkdir");
    let run = onramp_in(Some(dir.path()), &["plan", "checkout", "-f", "k8s/"], None);
    run.expect_status(2);
    assert_eq!(
        run.stderr.trim(),
        "error: k8s/: this folder holds no manifest files (*.yaml, *.yml, *.json)"
    );
}

#[test]
fn empty_stdin_said_no_workload_without_saying_nothing_was_piped_in() {
    let run = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(""));
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("<stdin>: nothing was piped in: standard input is empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn yaml_files_concatenated_without_a_separator_gave_the_yaml_librarys_advice() {
    let text = read(repo_path("examples/shop/k8s/checkout.yaml"))
        .lines()
        .filter(|l| *l != "---")
        .collect::<Vec<_>>()
        .join("\n");
    let run = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(&text));
    run.expect_status(2);
    assert!(!run.stderr.contains("DuplicateKeyPolicy"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the key `apiVersion` appears twice in one document: two documents without a `---` separator?"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn out_pointing_at_a_file_did_not_say_it_is_not_a_folder() {
    let dir = crate::support::dir_with("out.txt", "mine\n");
    let out = dir.path().join("out.txt").display().to_string();
    let run = onramp(&[
        "codify",
        "checkout",
        "-f",
        &crate::support::demo_manifests(),
        "--out",
        &out,
    ]);
    run.expect_status(2);
    assert!(
        run.stderr
            .contains(&format!("--out {out}: {out} is a file, not a folder")),
        "{}",
        run.stderr
    );
    assert_eq!(read(&out), "mine\n");
}

#[test]
fn no_workload_in_the_manifests_did_not_name_the_files_read() {
    let run: Run = onramp(&[
        "plan",
        "cart",
        "-f",
        "examples/shop/k8s/checkout.yaml",
        "-f",
        "examples/shop/k8s/flags.yaml",
    ]);
    run.expect_status(2);
    assert!(
        run.stderr.contains(
            "no workload \"cart\" in the manifests read (examples/shop/k8s/checkout.yaml, examples/shop/k8s/flags.yaml)"
        ),
        "{}",
        run.stderr
    );
}

/// The README's `onramp.yaml` example, exactly as printed.
fn readme_onramp_yaml() -> String {
    let readme = read(repo_path("README.md"));
    let start = readme
        .find("```yaml\n# onramp.yaml")
        .expect("the README shows an onramp.yaml");
    let block = &readme[start + "```yaml\n".len()..];
    block[..block.find("```").expect("the block ends")].to_string()
}

#[test]
fn the_readmes_onramp_yaml_example_failed_as_written() {
    let dir = crate::support::dir_with("onramp.yaml", &readme_onramp_yaml());
    let manifests = repo_path("examples/shop/k8s/checkout.yaml");
    let run = onramp_in(
        Some(dir.path()),
        &[
            "codify",
            "checkout",
            "-f",
            &manifests.display().to_string(),
            "--out",
            "observability/checkout",
        ],
        None,
    );
    run.expect_status(0);
    let out = dir.path().join("observability/checkout");
    assert!(read(out.join("servicemonitor.yaml")).contains("release: kube-prometheus-stack"));
    let rule = crate::support::yaml_documents(&read(out.join("prometheusrule.yaml")));
    assert_eq!(
        rule[0]["spec"]["groups"][0]["rules"][0]["annotations"]["runbook_url"],
        "https://git.example.com/shop/blob/main/observability/checkout/runbook.md#checkouthigherrorrate"
    );
    assert!(
        read(out.join("dashboards/service-health.json"))
            .contains("http_server_requests_seconds_count"),
        "the signal mapping of the example applies"
    );
}

#[test]
fn a_missing_needs_dir_from_onramp_yaml_did_not_name_the_config_key() {
    let dir = crate::support::dir_with("onramp.yaml", "needs_dirs: [observability/needs]\n");
    let run = onramp_in(Some(dir.path()), &["needs"], None);
    run.expect_status(2);
    let expected = format!(
        "error: onramp.yaml: needs_dirs: {} is not a folder (entries are relative to the config file's folder)",
        Path::new("observability/needs").display()
    );
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
}

/// Every `onramp …` command in backticks in `text`.
fn onramp_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| span.starts_with("onramp "))
        .map(str::to_string)
        .collect()
}

#[test]
fn commands_printed_in_the_runbook_and_file_headers_failed_as_written() {
    let demo = crate::support::codify_demo(&[]);
    let mut commands = onramp_commands(&read(demo.path().join("runbook.md")));
    for file in [
        "servicemonitor.yaml",
        "prometheusrule.yaml",
        "grafana-dashboards.yaml",
        "kustomization.yaml",
        "prometheus/rules.yaml",
        "prometheus/scrape-config.yaml",
    ] {
        let text = read(demo.path().join(file));
        let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
        commands.extend(onramp_commands(&header));
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(demo.path().join("dashboards/service-health.json")))
            .expect("dashboard JSON");
    commands.push(
        dashboard["onramp"]["command"]
            .as_str()
            .expect("the dashboard names its command")
            .to_string(),
    );
    commands.sort();
    commands.dedup();
    let verbs: Vec<&str> = commands
        .iter()
        .filter_map(|c| c.split_whitespace().nth(1))
        .collect();
    for verb in ["codify", "plan", "verify", "troubleshoot"] {
        assert!(
            verbs.contains(&verb),
            "no `onramp {verb}` among {commands:?}"
        );
    }

    let prometheus = crate::support::prometheus::PrometheusServer::start(Default::default());
    // `troubleshoot` reads the cluster: the shop in the stand-in's cluster.
    let cluster =
        crate::support::kube::Standin::start(crate::support::kube::Scenario::KubePrometheusStack);
    let out = tempfile::tempdir().expect("temp dir");
    let bin = Path::new(env!("CARGO_BIN_EXE_onramp"))
        .parent()
        .expect("the binary's folder");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in &commands {
        // The placeholders a reader fills: the Prometheus URL and the folder.
        let filled = command
            .replace(" URL", &format!(" {}", prometheus.url()))
            .replace(" DIR", &format!(" {}", out.path().display()));
        let run = std::process::Command::new("sh")
            .args(["-c", &filled])
            .current_dir(crate::support::repo())
            .env("PATH", &path)
            .env("KUBECONFIG", cluster.kubeconfig())
            .env_remove("ONRAMP_CONFIG")
            .output()
            .expect("sh runs");
        let stderr = String::from_utf8_lossy(&run.stderr);
        // verify may find failing checks (exit 1) against a Prometheus that
        // scrapes nothing, troubleshoot findings; what must not happen is
        // bad usage or input (2).
        assert!(
            matches!(run.status.code(), Some(0 | 1)),
            "`{filled}` failed ({:?}):\n{stderr}",
            run.status.code()
        );
    }
}

#[test]
fn the_runbooks_missing_column_escaped_markdown_twice() {
    let demo = crate::support::codify_demo(&[]);
    let runbook = read(demo.path().join("runbook.md"));
    assert!(!runbook.contains(r"\`"), "literal backslash-backticks");
    assert!(runbook.contains(
        "| Add a gauge `http_requests_in_flight`, incremented when a request starts and decremented when it ends. |"
    ));
}

#[test]
fn an_alert_with_for_0m_said_it_fires_when_this_holds_for_0m() {
    let demo = crate::support::codify_demo(&[]);
    let runbook = read(demo.path().join("runbook.md"));
    assert!(!runbook.contains("holds for 0m"));
    let section = &runbook[runbook.find("### CheckoutOOMKilled").expect("section")..];
    assert!(
        section.starts_with(
            "### CheckoutOOMKilled\n\nSeverity **warning**, fires as soon as this holds:"
        ),
        "{}",
        &section[..200]
    );
}

on_both_prometheus! {
    fn metrics_target_down_never_fired_when_the_target_disappeared_entirely(version) {
        let demo = crate::support::codify_demo(&[]);
        let alert = r#"ALERTS{alertname="CheckoutMetricsTargetDown",alertstate="firing"}"#;
        let up = r#"up{namespace="shop",job="checkout",instance="10.0.0.7:8080"}"#;
        let other = r#"up{namespace="shop",job="cart",instance="10.0.0.8:8080"}"#;
        let case = |series: &str, values: &str, firing: bool| {
            let check = if firing {
                serde_json::json!({"expr": format!("count({alert})"), "eval_time": "15m",
                    "exp_samples": [{"labels": "{}", "value": 1}]})
            } else {
                serde_json::json!({"expr": format!("absent({alert})"), "eval_time": "15m",
                    "exp_samples": [{"labels": r#"{alertname="CheckoutMetricsTargetDown",alertstate="firing"}"#, "value": 1}]})
            };
            serde_json::json!({"interval": "1m",
                "input_series": [{"series": series, "values": values}],
                "promql_expr_test": [check]})
        };
        let tests = serde_json::json!({
            "rule_files": ["prometheus/rules.yaml"],
            "evaluation_interval": "1m",
            "tests": [
                case(up, "0x30", true),     // the target is there and down
                case(other, "1x30", true),  // no `up` series of checkout at all
                case(up, "1x30", false),    // the target is up
            ],
        });
        std::fs::write(
            demo.path().join("target-down-test.yaml"),
            serde_json::to_string_pretty(&tests).expect("json"),
        )
        .expect("write the promtool test");
        let (ok, out) =
            crate::support::promtool(version, demo.path(), &["test", "rules", "target-down-test.yaml"]);
        assert!(ok, "promtool test rules:\n{out}");
    }
}

#[test]
fn the_runbook_of_an_app_without_metrics_sent_readers_to_what_was_not_generated() {
    let out = crate::support::codify_app(
        "pricing",
        &crate::support::fixture("grpc-no-metrics.yaml"),
        &[],
    );
    let runbook = read(out.path().join("runbook.md"));
    for absent in [
        "Scrape health",
        "| up |",
        "| start_time |",
        "process_start_time_seconds",
        "Feature flag engagement",
        "feature flag dashboard",
        "checks that the scrape",
    ] {
        assert!(!runbook.contains(absent), "{absent:?} in:\n{runbook}");
    }
    assert!(runbook.contains("### pricing · Troubleshooting"));
    assert!(runbook.contains("| Metrics | none found |"));
}

#[test]
fn dashboard_links_pointed_at_what_grafana_cannot_open() {
    let manifests = repo_path("examples/shop/k8s/checkout.yaml")
        .display()
        .to_string();
    let codify = |config: &str| {
        let dir = crate::support::dir_with("onramp.yaml", config);
        let run = onramp_in(
            Some(dir.path()),
            &["codify", "checkout", "-f", &manifests, "--out", "out"],
            None,
        );
        run.expect_status(0);
        (dir, run)
    };
    let links = |dir: &Path| -> Vec<serde_json::Value> {
        let d: serde_json::Value =
            serde_json::from_str(&read(dir.join("out/dashboards/service-health.json")))
                .expect("dashboard JSON");
        d["links"].as_array().expect("links").clone()
    };

    let (bare, run) = codify("{}\n");
    assert!(links(bare.path()).iter().all(|l| l["title"] != "Runbook"));
    assert!(
        run.stdout
            .contains("note: The runbook has no address a person can open")
    );
    assert!(
        run.stdout
            .contains("note: The runbook names the dashboards by uid, without links")
    );
    let runbook = read(bare.path().join("out/runbook.md"));
    assert!(!runbook.contains("](dashboards/"), "links to JSON files");
    assert!(runbook.contains("search for uid `checkout-service-health-df9c7e84`"));

    let (published, run) = codify(
        "runbook_base_url: https://git.example.com/runbook.md\ngrafana: {url: https://grafana.example.com}\n",
    );
    assert!(
        links(published.path())
            .iter()
            .any(|l| l["title"] == "Runbook" && l["url"] == "https://git.example.com/runbook.md")
    );
    assert!(!run.stdout.contains("The runbook has no address"));
    let runbook = read(published.path().join("out/runbook.md"));
    assert!(runbook.contains(
        "[Open the dashboard](https://grafana.example.com/d/checkout-service-health-df9c7e84)"
    ));

    // A Grafana URL on the command line links too, never with its password.
    let out = tempfile::tempdir().expect("temp dir");
    let run = onramp(&[
        "codify",
        "checkout",
        "-f",
        &manifests,
        "--out",
        &out.path().display().to_string(),
        "--grafana-url",
        "http://admin:s3cret@grafana.example.com/grafana",
    ]);
    run.expect_status(0);
    let runbook = read(out.path().join("runbook.md"));
    assert!(runbook.contains(
        "[Open the dashboard](http://grafana.example.com/grafana/d/checkout-service-health-df9c7e84)"
    ));
    assert!(!runbook.contains("s3cret") && !run.stdout.contains("s3cret"));
}
