//! Build script: marks a build of the tests made to run against a real Grafana.
//!
//! With `ONRAMP_TEST_GRAFANA_URL` set, the `real_grafana` cfg is on and the
//! Grafana contract tests that need the stand-in carry `#[ignore]`, so the test
//! report lists them as ignored rather than as passes that checked nothing.
//! Cargo reruns this script (and rebuilds) when the variable changes.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_grafana)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_GRAFANA_URL");
    let real = std::env::var("ONRAMP_TEST_GRAFANA_URL").is_ok_and(|url| !url.trim().is_empty());
    if real {
        println!("cargo::rustc-cfg=real_grafana");
    }
}
