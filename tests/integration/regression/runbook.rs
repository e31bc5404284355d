//! Regressions of the runbook and the generated files' headers that need the
//! servers their commands reach: a real Prometheus and the Kubernetes
//! stand-in.

use std::path::Path;

use crate::support::read;

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
#[cfg_attr(
    not(all(shared_crds, prometheus)),
    ignore = "needs ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
)]
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
