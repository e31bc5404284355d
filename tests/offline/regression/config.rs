//! Regressions of `onramp.yaml`: paths relative to it, signals mapped in it,
//! the README's example, and errors that name the config key.

use std::path::Path;

use super::demo;
use crate::support::{demo_manifests, dir_with, onramp_in, read, repo_path};

#[test]
fn config_dir_in_onramp_yaml_was_not_relative_to_the_config_file() {
    let config = dir_with("onramp.yaml", "prometheus:\n  config_dir: prom\n");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let config_file = config.path().join("onramp.yaml").display().to_string();
    // Run from elsewhere: the manifests by their absolute path.
    let manifests = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(demo_manifests())
        .display()
        .to_string();
    let run = onramp_in(
        Some(elsewhere.path()),
        &[
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--config",
            &config_file,
            "--target",
            "127.0.0.1:8080",
        ],
        None,
    );
    run.expect_status(0);
    let written = config.path().join("prom/targets");
    assert!(
        written.is_dir() && std::fs::read_dir(&written).expect("read").count() == 1,
        "the target file is next to onramp.yaml: {}",
        run.stdout
    );
    assert!(
        !elsewhere.path().join("prom").exists(),
        "nothing is written relative to the working directory"
    );
}

#[test]
fn a_signal_mapped_in_onramp_yaml_was_not_reported_as_from_onramp_yaml() {
    let config = dir_with(
        "onramp.yaml",
        "signals:\n  requests: http_server_requests_seconds_count\n",
    );
    let config_file = config.path().join("onramp.yaml").display().to_string();
    let from_file = format!("({config_file})");
    let mapping = "requests=http_server_requests_seconds_count";
    for (args, origin) in [
        (["--config", &config_file], from_file.as_str()),
        (["--signal", mapping], "(--signal)"),
    ] {
        let run = demo("plan", &args);
        run.expect_status(0);
        let line = run.stdout_line("http_server_requests_seconds_count");
        assert!(line.contains(origin), "{line}");
    }
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
