//! Build script: embeds the built-in needs as JSON, and marks builds of the
//! tests made to run against real services.
//!
//! The built-in needs are written in YAML (`dashboards/*.yaml`). Parsing YAML
//! was most of `onramp`'s start-up time, so they are converted to JSON here,
//! once per build; the binary reads the JSON (`needs::BUILT_IN`). The test
//! `the_embedded_json_is_the_yaml_need` checks that both read the same.
//!
//! With `ONRAMP_TEST_GRAFANA_URL` set, the `real_grafana` cfg is on and the
//! Grafana contract tests that need the stand-in carry `#[ignore]`, so the test
//! report lists them as ignored rather than as passes that checked nothing.
//! With `ONRAMP_E2E=kind`, the `e2e` cfg is on and the end-to-end suite
//! (`tests/e2e`) runs against the kind demo cluster; without it the suite is
//! listed as ignored. With `ONRAMP_TEST_PROMETHEUS3=off`, the `no_prometheus3`
//! cfg is on and the live tests' Prometheus 3 variants carry `#[ignore]`
//! (without it they run, and fail saying `make deps` when it was not built).
//!
//! The `apiserver` cfg turns on the cluster tests against the real
//! kube-apiserver (`tests/support/apiserver`): on when `ONRAMP_TEST_APISERVER`
//! is `auto` (or unset) and `make deps` left `kube-apiserver` in
//! `~/.cache/onramp-test/k8s-VERSION/` and `etcd` on the PATH; `off` turns
//! it off. Without it those tests are listed as ignored, never as passes.
//! Cargo reruns this script (and rebuilds) when any of these variables, the
//! build script's pinned version or the cache folder changes.

use std::path::Path;

/// The built-in need files, in catalog order (`needs::BUILT_IN` includes them by these names).
const NEEDS: &[&str] = &[
    "service-health",
    "troubleshooting",
    "feature-flag-engagement",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_grafana)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_GRAFANA_URL");
    let real = std::env::var("ONRAMP_TEST_GRAFANA_URL").is_ok_and(|url| !url.trim().is_empty());
    if real {
        println!("cargo::rustc-cfg=real_grafana");
    }
    println!("cargo::rustc-check-cfg=cfg(e2e)");
    println!("cargo::rerun-if-env-changed=ONRAMP_E2E");
    if std::env::var("ONRAMP_E2E").is_ok_and(|v| v.trim() == "kind") {
        println!("cargo::rustc-cfg=e2e");
    }
    println!("cargo::rustc-check-cfg=cfg(no_prometheus3)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_PROMETHEUS3");
    if std::env::var("ONRAMP_TEST_PROMETHEUS3").is_ok_and(|v| v.trim() == "off") {
        println!("cargo::rustc-cfg=no_prometheus3");
    }
    match kube_apiserver() {
        Ok(Some(binary)) => {
            println!("cargo::rustc-cfg=apiserver");
            println!("cargo::rustc-env=ONRAMP_TEST_KUBE_APISERVER={binary}");
        }
        Ok(None) => {}
        Err(message) => println!("cargo::error={message}"),
    }
    if let Err(message) = needs_as_json() {
        // A broken need file is a broken build: say which and why.
        println!("cargo::error={message}");
    }
}

/// The built `kube-apiserver` when the real API server tier is on and its
/// binaries are there; an error for an `ONRAMP_TEST_APISERVER` that is
/// neither `auto` nor `off`.
fn kube_apiserver() -> Result<Option<String>, String> {
    println!("cargo::rustc-check-cfg=cfg(apiserver)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_APISERVER");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_CACHE");
    let script = "tests/tools/build-kube-apiserver.sh";
    println!("cargo::rerun-if-changed={script}");
    match std::env::var("ONRAMP_TEST_APISERVER")
        .unwrap_or_default()
        .trim()
    {
        "" | "auto" => {}
        "off" => return Ok(None),
        other => {
            return Err(format!(
                "ONRAMP_TEST_APISERVER={other:?}: use auto (the default: the real kube-apiserver tests run when `make deps` built it) or off"
            ));
        }
    }
    let text = std::fs::read_to_string(script).map_err(|e| format!("{script}: {e}"))?;
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("{script}: no KUBERNETES_VERSION= line"))?;
    let home = std::env::var("HOME").unwrap_or_default();
    let cache = std::env::var("ONRAMP_TEST_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(&home).join(".cache/onramp-test"));
    let folder = cache.join(format!("k8s-{version}"));
    // Watch the nearest folder that exists: it changes when the build
    // script creates what lies below it (a missing path would rerun this
    // script, and rebuild the crate, on every build).
    let watched = [folder.clone(), cache, Path::new(&home).join(".cache")]
        .into_iter()
        .find(|p| p.is_dir())
        .unwrap_or_else(|| Path::new(&home).to_path_buf());
    println!("cargo::rerun-if-changed={}", watched.display());
    let binary = folder.join("kube-apiserver");
    let etcd = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join("etcd").is_file()));
    Ok((binary.is_file() && etcd).then(|| binary.display().to_string()))
}

/// Writes `OUT_DIR/needs/NAME.json` for each `dashboards/NAME.yaml`.
fn needs_as_json() -> Result<(), String> {
    let out = std::env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    let out = Path::new(&out).join("needs");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for name in NEEDS {
        let yaml = format!("dashboards/{name}.yaml");
        println!("cargo::rerun-if-changed={yaml}");
        let text = std::fs::read_to_string(&yaml).map_err(|e| format!("{yaml}: {e}"))?;
        let value: serde_json::Value =
            serde_saphyr::from_str(&text).map_err(|e| format!("{yaml}: {e}"))?;
        let json = serde_json::to_string(&value).map_err(|e| format!("{yaml}: {e}"))?;
        let target = out.join(format!("{name}.json"));
        std::fs::write(&target, json).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}
