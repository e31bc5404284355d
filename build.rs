//! Build script: marks builds of the tests made to run against real services.
//!
//! With `ONRAMP_TEST_GRAFANA_URL` set, the `real_grafana` cfg is on and the
//! Grafana contract tests that need the stand-in carry `#[ignore]`, so the test
//! report lists them as ignored rather than as passes that checked nothing.
//! With `ONRAMP_E2E=kind`, the `e2e` cfg is on and the end-to-end suite
//! (`tests/e2e`) runs against the kind demo cluster; without it the suite is
//! listed as ignored. Cargo reruns this script (and rebuilds) when either
//! variable changes.

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
}
