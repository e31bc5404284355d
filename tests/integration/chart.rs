//! `charts/shop` with the real Helm engine (Helm 4 as a library, through the
//! PyPI package helm-python-sdk; `make deps` installs it): it lints, renders
//! with its default and its demo values, the objects are what the demo needs,
//! and onramp plans and codifies the rendered chart exactly as it does the
//! bundled manifests (examples/shop/k8s).

use std::process::Command;

use crate::support::{onramp_in, read, repo, yaml_documents};

/// The value files of each rendering: the defaults, and the kind demo's.
const DEMO_VALUES: &str = "charts/shop/values-demo.yaml";

/// `helm lint` and `helm template shop charts/shop -n shop -f VALUES…`.
fn helm(values: &[&str]) -> (serde_json::Value, String) {
    let out = Command::new("python3")
        .arg(repo().join("tests/support/helm_chart.py"))
        .args(["charts/shop", "shop", "shop"])
        .args(values)
        .current_dir(repo())
        .output()
        .expect("python3 runs (make deps installs python3 and helm-python-sdk)");
    assert!(
        out.status.success(),
        "rendering charts/shop failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut answer: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the helper prints JSON");
    let manifest = answer["manifest"].as_str().expect("a manifest").to_string();
    (answer["lint"].take(), manifest)
}

fn object<'a>(objects: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("the chart renders no {kind}"))
}

/// Lint: no errors, and nothing above info (`strict` turns warnings into errors).
fn assert_lints_clean(lint: &serde_json::Value) {
    assert_eq!(lint["errors"], serde_json::json!([]), "{lint}");
    let serious: Vec<&serde_json::Value> = lint["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["severity"].as_u64() > Some(1))
        .collect();
    assert!(serious.is_empty(), "lint findings: {serious:?}");
}

#[test]
#[cfg_attr(
    not(helm),
    ignore = "needs Helm for Python: make deps, or python3 -m pip install helm-python-sdk (ONRAMP_TEST_HELM)"
)]
fn shop_chart_lints_and_renders_what_the_demo_needs_with_default_and_demo_values() {
    for values in [&[][..], &[DEMO_VALUES][..]] {
        let (lint, manifest) = helm(values);
        assert_lints_clean(&lint);
        let objects = yaml_documents(&manifest);
        let deployment = object(&objects, "Deployment");
        let pod = &deployment["spec"]["template"];
        let container = &pod["spec"]["containers"][0];

        // The metrics endpoint onramp infers: the prometheus.io/port annotation
        // names container port 8080, whose name the Service targets.
        let annotations = &pod["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/port"], "8080");
        assert_eq!(annotations["prometheus.io/path"], "/metrics");
        let port = &container["ports"][0];
        assert_eq!(
            (&port["name"], &port["containerPort"]),
            (&"http".into(), &8080.into())
        );
        let service = object(&objects, "Service");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], port["name"]);
        let plan = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(&manifest));
        plan.expect_status(0);
        assert!(
            plan.stdout.contains("Metrics endpoint: port http (8080) from the prometheus.io/port annotation on container shop, path /metrics; Service checkout exposes it as port http, so a ServiceMonitor scrapes it"),
            "{}",
            plan.stdout
        );

        // The flag file: the shop's own, in a ConfigMap mounted where --flags reads it.
        let config_map = object(&objects, "ConfigMap");
        let flags = config_map["data"]["flags.json"]
            .as_str()
            .expect("flags.json");
        let parsed: serde_json::Value = serde_json::from_str(flags).expect("flags JSON");
        let shipped: serde_json::Value =
            serde_json::from_str(&read(repo().join("examples/shop/flags.json"))).expect("JSON");
        assert_eq!(parsed, shipped);
        // Byte for byte: `demo fix` patches this exact text back.
        assert_eq!(flags, read(repo().join("examples/shop/flags.json")));
        let volume = &pod["spec"]["volumes"][0];
        assert_eq!(volume["configMap"]["name"], config_map["metadata"]["name"]);
        let mount = &container["volumeMounts"][0];
        assert_eq!(
            (&mount["name"], &mount["mountPath"]),
            (&volume["name"], &"/etc/shop".into())
        );
        assert!(
            container["args"]
                .as_array()
                .expect("args")
                .contains(&"--flags=/etc/shop/flags.json".into()),
            "{}",
            container["args"]
        );

        // Probes and limits: what troubleshoot's readiness and OOM checks read.
        assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        assert_eq!(container["resources"]["limits"]["memory"], "128Mi");
        assert_eq!(container["resources"]["limits"]["cpu"], "500m");
        assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
    }
}

#[test]
#[cfg_attr(
    not(helm),
    ignore = "needs Helm for Python: make deps, or python3 -m pip install helm-python-sdk (ONRAMP_TEST_HELM)"
)]
fn shop_chart_demo_values_use_the_loaded_image_the_simulator_and_the_api_key_secret() {
    let (_, manifest) = helm(&[DEMO_VALUES]);
    let objects = yaml_documents(&manifest);
    let container = &object(&objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    // kind load puts the image on the node: never pull it.
    assert_eq!(container["image"], "onramp-shop:dev");
    assert_eq!(container["imagePullPolicy"], "Never");
    assert!(
        container["args"]
            .as_array()
            .expect("args")
            .contains(&"--simulate-users=20".into())
    );
    let key_ref = &container["env"][1]["valueFrom"]["secretKeyRef"];
    let secret = object(&objects, "Secret");
    assert_eq!(key_ref["name"], secret["metadata"]["name"]);
    let key = key_ref["key"].as_str().expect("a key");
    assert!(
        secret["stringData"][key].is_string(),
        "the Secret has the key {key}: {secret}"
    );

    let (_, defaults) = helm(&[]);
    assert!(
        !yaml_documents(&defaults)
            .iter()
            .any(|o| o["kind"] == "Secret"),
        "no Secret by default, as in examples/shop/k8s"
    );
}

#[test]
#[cfg_attr(
    not(helm),
    ignore = "needs Helm for Python: make deps, or python3 -m pip install helm-python-sdk (ONRAMP_TEST_HELM)"
)]
fn shop_chart_flag_file_is_the_shops_flag_file() {
    assert_eq!(
        read(repo().join("charts/shop/files/flags.json")),
        read(repo().join("examples/shop/flags.json")),
        "charts/shop/files/flags.json is a copy of examples/shop/flags.json: copy it again"
    );
}

/// Every file of a codified folder, by relative path.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read the folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                found.insert(rel, read(&path));
            }
        }
    }
    found
}

/// The text without its ownership hash line.
fn without_hashes(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("onramp-sha256"))
        .collect();
    lines.join("\n")
}

#[test]
#[cfg_attr(
    not(helm),
    ignore = "needs Helm for Python: make deps, or python3 -m pip install helm-python-sdk (ONRAMP_TEST_HELM)"
)]
fn shop_chart_codifies_to_the_same_artifacts_as_the_bundled_manifests() {
    let bundled_dir = tempfile::tempdir().expect("temp dir");
    let bundled_out = bundled_dir.path().display().to_string();
    onramp_in(
        None,
        &[
            "codify",
            "checkout",
            "-f",
            "examples/shop/k8s",
            "--out",
            &bundled_out,
        ],
        None,
    )
    .expect_status(0);
    let bundled: std::collections::BTreeMap<String, String> = files(bundled_dir.path())
        .into_iter()
        .map(|(path, text)| (path, without_hashes(&text)))
        .collect();
    assert!(bundled.len() > 5, "{:?}", bundled.keys());
    let plan_bundled = onramp_in(None, &["plan", "checkout", "-f", "examples/shop/k8s"], None);

    for values in [&[][..], &[DEMO_VALUES][..]] {
        let (_, manifest) = helm(values);
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().display().to_string();
        onramp_in(
            None,
            &["codify", "checkout", "-f", "-", "--out", &out],
            Some(&manifest),
        )
        .expect_status(0);
        // The stamps name the command that made each file: only `-f` differs
        // (and so the hash of a file that embeds another's stamp).
        let from_chart: std::collections::BTreeMap<String, String> = files(dir.path())
            .into_iter()
            .map(|(path, text)| (path, text.replace(" -f - ", " -f examples/shop/k8s ")))
            .map(|(path, text)| (path, text.replace(" -f -`", " -f examples/shop/k8s`")))
            .map(|(path, text)| (path, without_hashes(&text)))
            .collect();
        assert_eq!(
            from_chart.keys().collect::<Vec<_>>(),
            bundled.keys().collect::<Vec<_>>()
        );
        for (path, text) in &bundled {
            assert!(
                from_chart[path] == *text,
                "{path} differs with values {values:?}"
            );
        }
        let plan = onramp_in(None, &["plan", "checkout", "-f", "-"], Some(&manifest));
        assert_eq!(plan.stdout, plan_bundled.stdout, "values {values:?}");
    }
}
