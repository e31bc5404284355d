//! The GitHub workflows (`.github/workflows/`): they parse, pin every action
//! and image to a version, and run the commands the README and the Makefile
//! give a person — so CI tests what a person runs.

use std::collections::BTreeMap;

use crate::support::{read, repo};

/// Every workflow, by file name, as parsed YAML.
fn workflows() -> BTreeMap<String, serde_json::Value> {
    let dir = repo().join(".github/workflows");
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect(".github/workflows exists") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let text = read(&path);
        let value: serde_json::Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
        found.insert(name, value);
    }
    found
}

/// Every step of every job of a workflow.
fn steps(workflow: &serde_json::Value) -> Vec<&serde_json::Value> {
    workflow["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_array().expect("steps").iter())
        .collect()
}

/// The shell commands a workflow runs, one per line (folded `>-` lines are one).
fn commands(workflow: &serde_json::Value) -> Vec<String> {
    steps(workflow)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .flat_map(|run| {
            run.lines()
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn workflows_parse_and_each_job_runs_on_a_pinned_runner_with_steps() {
    let all = workflows();
    let names: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(names, ["e2e-kind.yml", "grafana-contract.yml", "tests.yml"]);
    for (name, workflow) in &all {
        assert!(
            workflow["on"].is_object(),
            "{name}: `on` names its triggers: {}",
            workflow["on"]
        );
        assert!(
            workflow["on"].get("push").is_some(),
            "{name} runs on every push"
        );
        for (job, body) in workflow["jobs"].as_object().expect("jobs") {
            assert_eq!(
                body["runs-on"], "ubuntu-24.04",
                "{name}/{job}: a pinned runner image"
            );
            assert!(
                body["timeout-minutes"].is_u64(),
                "{name}/{job}: a time limit"
            );
            assert!(
                !body["steps"].as_array().expect("steps").is_empty(),
                "{name}/{job}"
            );
        }
    }
}

/// `vMAJOR.MINOR.PATCH` or `MAJOR.MINOR.PATCH`.
fn is_exact_version(version: &str) -> bool {
    let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn workflows_pin_every_action_and_image_version() {
    for (name, workflow) in workflows() {
        for step in steps(&workflow) {
            if let Some(uses) = step["uses"].as_str() {
                let version = uses.rsplit_once('@').map(|(_, v)| v).unwrap_or_default();
                assert!(
                    is_exact_version(version),
                    "{name}: {uses} is not pinned to a version"
                );
            }
        }
        for (job, body) in workflow["jobs"].as_object().expect("jobs") {
            let Some(services) = body["services"].as_object() else {
                continue;
            };
            for (service, spec) in services {
                let image = spec["image"].as_str().expect("an image");
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
                let tags: Vec<String> = match tag.strip_prefix("${{ matrix.") {
                    Some(key) => body["strategy"]["matrix"][key.trim_end_matches(" }}")]
                        .as_array()
                        .expect("the matrix values")
                        .iter()
                        .map(|v| v.as_str().expect("a tag").to_string())
                        .collect(),
                    None => vec![tag.to_string()],
                };
                for tag in &tags {
                    assert!(
                        is_exact_version(tag),
                        "{name}/{job}/{service}: image tag {tag:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn grafana_contract_workflow_covers_the_current_and_the_previous_major() {
    let all = workflows();
    let versions: Vec<u64> =
        all["grafana-contract.yml"]["jobs"]["grafana"]["strategy"]["matrix"]["grafana"]
            .as_array()
            .expect("Grafana versions")
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|v| v.split('.').next()?.parse().ok())
                    .expect("a major")
            })
            .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(
        versions[0],
        versions[1] + 1,
        "current and previous major: {versions:?}"
    );
}

#[test]
fn workflows_run_the_commands_the_readme_and_makefile_give() {
    let readme = read(repo().join("README.md"));
    let makefile = read(repo().join("Makefile"));
    let all = workflows();
    let runs = |name: &str| commands(&all[name]);
    assert!(
        runs("tests.yml").contains(&"make test".to_string()),
        "{:?}",
        runs("tests.yml")
    );
    assert!(
        runs("e2e-kind.yml").contains(&"make e2e".to_string()),
        "{:?}",
        runs("e2e-kind.yml")
    );
    let mut checked = 0;
    for name in all.keys() {
        for command in runs(name) {
            if let Some(target) = command
                .strip_prefix("make ")
                .or(command.strip_prefix("sudo make "))
            {
                assert!(
                    makefile.contains(&format!("\n{target}:")),
                    "{name} runs `{command}`: the Makefile has no target {target}"
                );
                assert!(
                    readme.contains(&format!("make {target}")),
                    "{name} runs `{command}`: the README does not say so"
                );
                checked += 1;
            } else if command.contains("cargo test") {
                assert!(
                    readme.contains(&command),
                    "{name} runs `{command}`, which the README does not show"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked} commands checked");
}
