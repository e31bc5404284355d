//! `onramp demo`: the preflight that runs before anything is created, the
//! exact commands of every step (`--dry-run`), progress, and `up` continuing
//! after a failure — with stand-in docker/kind/kubectl/helm programs on PATH
//! that log their argv, since no Docker engine runs here. The real cluster is
//! the e2e suite's (`tests/e2e`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{onramp, onramp_dir_env, read, repo};

/// A folder of stand-in tools. Each logs `NAME ARGS` to `$DEMO_LOG` and
/// answers as the real one does to what the demo asks; `docker` answers like
/// a client whose daemon is not running unless `DOCKER_DAEMON` is set.
fn fake_tools(tools: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for tool in tools {
        let answer = match *tool {
            "docker" => {
                r#"case "$1" in version) if [ -n "$DOCKER_DAEMON" ]; then echo "client 28.2.2, server 28.2.2"; else echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; fi;; esac"#
            }
            "kind" => {
                r#"case "$1" in version) echo "kind v0.29.0 go1.24.2 linux/amd64";; get) if [ -n "$KIND_HAS_CLUSTER" ]; then echo onramp; fi;; esac"#
            }
            "kubectl" => {
                r#"case "$1" in version) echo "Client Version: v1.33.1";; config) echo kind-other; if [ -n "$KIND_HAS_CLUSTER" ]; then echo kind-onramp; fi;; esac"#
            }
            "helm" => {
                r#"case "$*" in "version --short") echo "v3.19.0+g3d8990f";; *"upgrade --install shop"*) if [ -n "$HELM_FAIL_SHOP" ]; then echo "Error: INSTALLATION FAILED: context deadline exceeded" >&2; exit 1; fi;; esac"#
            }
            other => panic!("no stand-in for {other}"),
        };
        // printf, not echo: dash's echo would expand the `\n` in a JSON patch.
        let script =
            format!("#!/bin/sh\nprintf '%s\\n' \"{tool} $*\" >> \"$DEMO_LOG\"\n{answer}\nexit 0\n");
        let path = dir.path().join(tool);
        std::fs::write(&path, script).expect("write a stand-in tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

/// Runs `onramp ARGS` from the repository root with only `tools` on PATH.
fn demo_with(tools: &Path, log: &Path, args: &[&str], env: &[(&str, &str)]) -> crate::support::Run {
    let path = tools.display().to_string();
    let log = log.display().to_string();
    let mut all = vec![("PATH", path.as_str()), ("DEMO_LOG", log.as_str())];
    all.extend_from_slice(env);
    onramp_dir_env(None, args, &all)
}

fn logged(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn demo_up_without_a_docker_daemon_stops_at_preflight_with_exit_2_and_creates_nothing() {
    let tools = fake_tools(&["docker", "kind", "kubectl", "helm"]);
    let log = tools.path().join("calls.log");
    let run = demo_with(tools.path(), &log, &["demo", "up"], &[]);
    run.expect_status(2);
    let docker = run.stdout_line("docker");
    assert!(docker.contains("MISSING"), "{docker}");
    assert!(
        docker.contains("the Docker daemon cannot be reached")
            && docker.contains("Cannot connect to the Docker daemon")
            && docker.contains("start Docker"),
        "{docker}"
    );
    assert!(
        run.stdout_line("kind ")
            .contains("ok       kind       kind v0.29.0")
    );
    assert!(
        run.stdout_line("kubectl")
            .contains("Client Version: v1.33.1")
    );
    assert!(run.stdout_line("helm").contains("v3.19.0"));
    assert!(
        run.stderr.contains(
            "`onramp demo up` cannot start: docker (see the preflight above); nothing was created or changed"
        ),
        "{}",
        run.stderr
    );
    // Only the version questions were asked: no cluster, no install, no build.
    assert_eq!(
        logged(&log),
        [
            "docker version --format client {{.Client.Version}}, server {{.Server.Version}}",
            "kind version",
            "kubectl version --client",
            "helm version --short",
        ]
    );
}

#[test]
fn demo_up_names_every_missing_tool_with_how_to_install_it() {
    let empty = tempfile::tempdir().expect("temp dir");
    let log = empty.path().join("calls.log");
    let run = demo_with(empty.path(), &log, &["demo", "up"], &[]);
    run.expect_status(2);
    for (tool, how) in [
        ("docker", "https://docs.docker.com/get-docker/"),
        (
            "kind",
            "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        ),
        ("kubectl", "https://kubernetes.io/docs/tasks/tools/"),
        ("helm", "https://helm.sh/docs/intro/install/"),
    ] {
        let line = run.stdout_line(&format!("MISSING  {tool} "));
        assert!(
            line.contains("not found on PATH") && line.contains(how),
            "{line}"
        );
    }
    assert!(
        run.stderr
            .contains("cannot start: docker, kind, kubectl, helm"),
        "{}",
        run.stderr
    );
    assert!(!log.exists(), "nothing ran");
}

#[test]
fn demo_up_outside_the_repository_names_the_missing_demo_files() {
    let tools = fake_tools(&["docker", "kind", "kubectl", "helm"]);
    let log = tools.path().join("calls.log");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let source = elsewhere.path().display().to_string();
    let run = demo_with(
        tools.path(),
        &log,
        &["demo", "up", "--source", &source],
        &[("DOCKER_DAEMON", "1")],
    );
    run.expect_status(2);
    let files = run.stdout_line("demo files");
    assert!(
        files.contains("kind-config.yaml, charts/shop/Chart.yaml")
            && files.contains(&format!("not found in {source}"))
            && files.contains("--source DIR"),
        "{files}"
    );
    assert!(
        run.stderr.contains("cannot start: demo files"),
        "{}",
        run.stderr
    );
}

#[test]
fn demo_up_continues_where_it_stopped_after_a_failure() {
    let tools = fake_tools(&["docker", "kind", "kubectl", "helm"]);
    let log = tools.path().join("calls.log");
    let daemon = ("DOCKER_DAEMON", "1");
    let first = demo_with(
        tools.path(),
        &log,
        &["demo", "up"],
        &[daemon, ("HELM_FAIL_SHOP", "1")],
    );
    first.expect_status(1);
    assert!(
        first
            .stdout
            .contains("[1/6] Create the kind cluster onramp\n"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("[4/6] Install the shop\n"),
        "{}",
        first.stdout
    );
    assert!(
        !first.stdout.contains("[5/6]"),
        "stopped at the failed step:\n{}",
        first.stdout
    );
    assert!(
        first.stderr.contains(
            r#"step "Install the shop" failed: `helm upgrade --install shop charts/shop"#
        ) && first.stderr.contains("exited with status 1")
            && first.stderr.contains("run `onramp demo up` again"),
        "{}",
        first.stderr
    );
    let calls = logged(&log);
    assert!(calls.contains(
        &"kind create cluster --name onramp --config kind-config.yaml --wait=2m".to_string()
    ));
    assert!(calls.contains(
        &"docker build --file examples/shop/Dockerfile --tag onramp-shop:dev .".to_string()
    ));

    // The cluster exists now: the second run reuses it and goes on.
    std::fs::remove_file(&log).expect("clear the log");
    let second = demo_with(
        tools.path(),
        &log,
        &["demo", "up"],
        &[daemon, ("KIND_HAS_CLUSTER", "1")],
    );
    assert!(
        second
            .stdout
            .contains("[1/6] Create the kind cluster onramp — already done, skipped"),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("[5/6] Wait until the shop, Prometheus and Grafana are ready")
    );
    assert!(
        second.stdout.contains("[6/6] Onboard checkout with onramp"),
        "{}",
        second.stdout
    );
    let calls = logged(&log);
    assert!(
        !calls.iter().any(|c| c.starts_with("kind create")),
        "the cluster is not created twice: {calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("helm upgrade --install shop charts/shop"))
    );
}

#[test]
fn demo_steps_are_exact_commands_shown_by_dry_run() {
    let exe = env!("CARGO_BIN_EXE_onramp");
    let mut all = String::new();
    for args in [
        vec!["up"],
        vec!["break", "errors"],
        vec!["break", "crashloop"],
        vec!["break", "bad-config"],
        vec!["break", "bad-image"],
        vec!["fix"],
        vec!["status"],
        vec!["down"],
    ] {
        let mut argv = vec!["demo"];
        argv.extend(&args);
        argv.push("--dry-run");
        let run = onramp(&argv);
        run.expect_status(0);
        all.push_str(&format!(
            "$ onramp {}\n{}\n",
            argv.join(" "),
            run.stdout.replace(exe, "ONRAMP")
        ));
    }
    insta::assert_snapshot!("demo_dry_run", all);
}

#[test]
fn demo_break_flips_one_flag_in_the_flag_configmap() {
    let shipped: serde_json::Value =
        serde_json::from_str(&read(repo().join("examples/shop/flags.json"))).expect("flags JSON");
    for (scenario, flag) in [
        ("errors", "fail-error-rate"),
        ("latency", "fail-latency"),
        ("oom", "fail-memory-leak"),
        ("crashloop", "fail-crash-at-start"),
    ] {
        let run = onramp(&["demo", "break", scenario, "--dry-run"]);
        run.expect_status(0);
        let patch_line = run.stdout_line("patch configmap shop-flags");
        // The patch is the last, single-quoted argument.
        let quoted = patch_line.rsplit_once(" '").expect("a quoted patch").1;
        let patch: serde_json::Value =
            serde_json::from_str(quoted.trim_end_matches('\'')).expect("the patch is JSON");
        let file: serde_json::Value =
            serde_json::from_str(patch["data"]["flags.json"].as_str().expect("the flag file"))
                .expect("the flag file is JSON");
        let mut expected = shipped.clone();
        expected["flags"][flag]["defaultVariant"] = "on".into();
        assert_eq!(
            file, expected,
            "{scenario} turns on {flag} and nothing else"
        );
    }
    let fix = onramp(&["demo", "fix", "--dry-run"]);
    let quoted = fix
        .stdout_line("patch configmap")
        .rsplit_once(" '")
        .expect("patch")
        .1;
    let patch: serde_json::Value =
        serde_json::from_str(quoted.trim_end_matches('\'')).expect("JSON");
    let file: serde_json::Value =
        serde_json::from_str(patch["data"]["flags.json"].as_str().expect("file")).expect("JSON");
    assert_eq!(file, shipped, "fix puts every flag back off");
    assert_eq!(
        patch["data"]["flags.json"].as_str(),
        Some(read(repo().join("charts/shop/files/flags.json")).as_str()),
        "byte for byte what the chart's ConfigMap holds"
    );
}

#[test]
fn demo_cluster_publishes_grafana_and_prometheus_where_the_demo_says() {
    let kind = &crate::support::yaml_documents(&read(repo().join("kind-config.yaml")))[0];
    let stack = &crate::support::yaml_documents(&read(
        repo().join("deploy/demo/kube-prometheus-stack.yaml"),
    ))[0];
    assert_eq!(kind["name"], onramp::demo::CLUSTER);
    let mappings = kind["nodes"][0]["extraPortMappings"]
        .as_array()
        .expect("port mappings");
    let host_port = |node_port: &serde_json::Value| {
        mappings
            .iter()
            .find(|m| m["containerPort"] == *node_port)
            .map(|m| format!("http://localhost:{}", m["hostPort"]))
            .unwrap_or_else(|| panic!("kind-config.yaml maps no node port {node_port}"))
    };
    assert_eq!(
        host_port(&stack["grafana"]["service"]["nodePort"]),
        onramp::demo::GRAFANA_URL
    );
    assert_eq!(
        host_port(&stack["prometheus"]["service"]["nodePort"]),
        onramp::demo::PROMETHEUS_URL
    );
    assert_eq!(stack["grafana"]["adminUser"], onramp::demo::GRAFANA_USER);
    assert_eq!(
        stack["grafana"]["adminPassword"],
        onramp::demo::GRAFANA_DEMO_PASSWORD
    );
    // onramp's dashboard ConfigMaps carry grafana_dashboard=1, in the app's namespace.
    let sidecar = &stack["grafana"]["sidecar"]["dashboards"];
    assert_eq!(
        (&sidecar["enabled"], &sidecar["label"]),
        (&true.into(), &"grafana_dashboard".into())
    );
    assert_eq!(sidecar["searchNamespace"], "ALL");
}

#[test]
fn shop_dockerfile_is_multi_stage_pinned_and_runs_as_non_root() {
    let dockerfile = read(repo().join("examples/shop/Dockerfile"));
    let from: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(from.len(), 2, "a build stage and a runtime stage: {from:?}");
    for line in &from {
        let image = line.split_whitespace().nth(1).expect("an image");
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
        assert!(!tag.is_empty() && tag != "latest", "{image} is pinned");
    }
    assert!(
        from[1].contains("distroless") && from[1].ends_with(":nonroot"),
        "{}",
        from[1]
    );
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    // What it copies exists, and the binary is the shop's.
    assert!(dockerfile.contains("cargo build --release --locked -p shop"));
    assert!(repo().join("examples/shop/flags.json").is_file());
    let ignore = read(repo().join(".dockerignore"));
    assert!(
        ignore.lines().any(|l| l == "target"),
        "the build context leaves out target/"
    );
}

#[test]
fn demo_break_before_up_says_to_run_up_first_and_changes_nothing() {
    let tools = fake_tools(&["docker", "kind", "kubectl", "helm"]);
    let log = tools.path().join("calls.log");
    let run = demo_with(tools.path(), &log, &["demo", "break", "errors"], &[]);
    run.expect_status(2);
    let cluster = run.stdout_line("cluster");
    assert!(
        cluster.contains("kubectl has no context kind-onramp")
            && cluster.contains("run `onramp demo up` first"),
        "{cluster}"
    );
    assert_eq!(
        logged(&log),
        [
            "kubectl version --client",
            "kubectl config get-contexts --output=name"
        ]
    );

    // With the cluster up, the break patches the flags in that cluster's context.
    std::fs::remove_file(&log).expect("clear the log");
    let run = demo_with(
        tools.path(),
        &log,
        &["demo", "break", "errors"],
        &[("KIND_HAS_CLUSTER", "1")],
    );
    run.expect_status(0);
    assert!(
        run.stdout.contains("[1/1] Break the shop: errors"),
        "{}",
        run.stdout
    );
    let calls = logged(&log);
    assert!(
        calls.last().is_some_and(|c| c.starts_with(
            "kubectl --context kind-onramp --namespace shop patch configmap shop-flags --type=merge --patch"
        )),
        "{calls:?}"
    );
}
