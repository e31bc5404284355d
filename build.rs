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
//! Cargo reruns this script (and rebuilds) when any of these variables changes.

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
    if let Err(message) = needs_as_json() {
        // A broken need file is a broken build: say which and why.
        println!("cargo::error={message}");
    }
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
