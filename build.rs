//! Build script: embeds the built-in needs as JSON, and turns on the test
//! tiers whose tools this machine has.
//!
//! The built-in needs are written in YAML (`dashboards/*.yaml`). Parsing YAML
//! was most of `onramp`'s start-up time, so they are converted to JSON here,
//! once per build; the binary reads the JSON (`needs::BUILT_IN`). The test
//! `the_embedded_json_is_the_yaml_need` checks that both read the same.
//!
//! Test tiers (CONTRIBUTING, Test tiers): each tier that needs something
//! installed has a cfg and a variable, `auto` (the default: on when what it
//! needs is found when this script runs), `on` (run, and fail saying what is
//! missing) or `off`. Without the cfg, the tier's tests are listed as ignored
//! with what they need, never as passes:
//!
//! | cfg | variable | needs |
//! |---|---|---|
//! | `prometheus` | `ONRAMP_TEST_PROMETHEUS` | `prometheus` and `promtool` 2.x (`/usr/bin` or PATH) |
//! | `prometheus3` | `ONRAMP_TEST_PROMETHEUS3` | Prometheus 3, built by `make deps` |
//! | `helm` | `ONRAMP_TEST_HELM` | `python3` that imports `helm_python` |
//! | `shared_crds` | `ONRAMP_TEST_SHARED` | `../shared/reference/crds/` beside the checkout |
//! | `apiserver` | `ONRAMP_TEST_APISERVER` | `kube-apiserver` built by `make deps`, `etcd` on PATH |
//! | `alertmanager` | `ONRAMP_TEST_ALERTMANAGER` | `amtool` (`/usr/bin` or PATH; Debian package `prometheus-alertmanager`) |
//!
//! With `ONRAMP_TEST_GRAFANA_URL` set, the `real_grafana` cfg is on and the
//! Grafana contract tests that need the stand-in carry `#[ignore]`, so the test
//! report lists them as ignored rather than as passes that checked nothing;
//! with `ONRAMP_TEST_GRAFANA_V2=off` too (`no_grafana_v2`), so are the v2
//! cases, for a Grafana that serves no v2 dashboards (11.x). With
//! `ONRAMP_TEST_KUBECONFIG` set (`real_cluster`), the Kubernetes tests named
//! `…_standin_only` are listed as ignored.
//! With `ONRAMP_E2E=kind`, the `e2e` cfg is on and the end-to-end suite
//! (`tests/e2e`) runs against the kind demo cluster; without it the suite is
//! listed as ignored.
//! Cargo reruns this script (and rebuilds) when any of these variables, PATH,
//! the pinned versions or the cache folder changes; after installing a tool
//! by other means, `touch build.rs` (or set its variable to `on`).

use std::path::Path;

/// The built-in need files, in catalog order (`needs::BUILT_IN` includes them by these names).
const NEEDS: &[&str] = &[
    "service-health",
    "troubleshooting",
    "feature-flag-engagement",
    "platform-adoption",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_grafana)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_GRAFANA_URL");
    let real = std::env::var("ONRAMP_TEST_GRAFANA_URL").is_ok_and(|url| !url.trim().is_empty());
    if real {
        println!("cargo::rustc-cfg=real_grafana");
    }
    println!("cargo::rustc-check-cfg=cfg(no_grafana_v2)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_GRAFANA_V2");
    if std::env::var("ONRAMP_TEST_GRAFANA_V2").is_ok_and(|v| v.trim() == "off") {
        println!("cargo::rustc-cfg=no_grafana_v2");
    }
    println!("cargo::rustc-check-cfg=cfg(real_cluster)");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_KUBECONFIG");
    if std::env::var("ONRAMP_TEST_KUBECONFIG").is_ok_and(|path| !path.trim().is_empty()) {
        println!("cargo::rustc-cfg=real_cluster");
    }
    println!("cargo::rustc-check-cfg=cfg(e2e)");
    println!("cargo::rerun-if-env-changed=ONRAMP_E2E");
    if std::env::var("ONRAMP_E2E").is_ok_and(|v| v.trim() == "kind") {
        println!("cargo::rustc-cfg=e2e");
    }
    if let Err(message) = tiers() {
        println!("cargo::error={message}");
    }
    if let Err(message) = needs_as_json() {
        // A broken need file is a broken build: say which and why.
        println!("cargo::error={message}");
    }
}

/// Turns on the cfg of every test tier whose tools are here (or that its
/// variable turns on); an error for a variable that is not `auto`, `on` or
/// `off`.
fn tiers() -> Result<(), String> {
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=ONRAMP_TEST_CACHE");
    let (prometheus, promtool) = (on_path("prometheus"), on_path("promtool"));
    // Where the tests find them (`support::prometheus::Version::tool`).
    for (var, found) in [
        ("ONRAMP_TEST_PROMETHEUS_BIN", &prometheus),
        ("ONRAMP_TEST_PROMTOOL_BIN", &promtool),
    ] {
        if let Some(path) = found {
            println!("cargo::rustc-env={var}={}", path.display());
        }
    }
    tier("prometheus", "ONRAMP_TEST_PROMETHEUS", || {
        prometheus.is_some() && promtool.is_some()
    })?;
    let version = prometheus3_version()?;
    let prometheus3 = cache().join(format!("prometheus-{version}"));
    watch_nearest(&prometheus3);
    // Where the tests find it (`support::prometheus::Version::bin_dir`).
    println!(
        "cargo::rustc-env=ONRAMP_TEST_PROMETHEUS3_DIR={}",
        prometheus3.display()
    );
    tier("prometheus3", "ONRAMP_TEST_PROMETHEUS3", || {
        prometheus3.join("prometheus").is_file() && prometheus3.join("promtool").is_file()
    })?;
    let amtool = on_path("amtool");
    if let Some(path) = &amtool {
        // Where the tests find it.
        println!("cargo::rustc-env=ONRAMP_TEST_AMTOOL_BIN={}", path.display());
    }
    tier("alertmanager", "ONRAMP_TEST_ALERTMANAGER", || {
        amtool.is_some()
    })?;
    tier("helm", "ONRAMP_TEST_HELM", || {
        std::process::Command::new("python3")
            .args(["-c", "import helm_python"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })?;
    let crds = Path::new("../shared/reference/crds");
    if crds.is_dir() {
        println!("cargo::rerun-if-changed={}", crds.display());
    }
    tier("shared_crds", "ONRAMP_TEST_SHARED", || crds.is_dir())?;
    let apiserver = kube_apiserver()?;
    let on = tier("apiserver", "ONRAMP_TEST_APISERVER", || {
        apiserver.is_file() && on_path("etcd").is_some()
    })?;
    if on {
        println!(
            "cargo::rustc-env=ONRAMP_TEST_KUBE_APISERVER={}",
            apiserver.display()
        );
    }
    Ok(())
}

/// Declares the cfg `name` and turns it on as the variable `var` says:
/// `auto` (or unset) when `found`, `on` always, `off` never.
fn tier(name: &str, var: &str, found: impl FnOnce() -> bool) -> Result<bool, String> {
    println!("cargo::rustc-check-cfg=cfg({name})");
    println!("cargo::rerun-if-env-changed={var}");
    let on = match std::env::var(var).unwrap_or_default().trim() {
        "" | "auto" => found(),
        "on" => true,
        "off" => false,
        other => {
            return Err(format!(
                "{var}={other:?}: use auto (the default: the tests run when what they need is here), on or off"
            ));
        }
    };
    if on {
        println!("cargo::rustc-cfg={name}");
    }
    Ok(on)
}

/// `/usr/bin/TOOL` (where Debian puts it), else the first `TOOL` on PATH.
fn on_path(tool: &str) -> Option<std::path::PathBuf> {
    let debian = Path::new("/usr/bin").join(tool);
    if debian.is_file() {
        return Some(debian);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// Where `make deps` caches what it builds: `ONRAMP_TEST_CACHE`, else
/// `~/.cache/onramp-test`.
fn cache() -> std::path::PathBuf {
    match std::env::var_os("ONRAMP_TEST_CACHE") {
        Some(dir) if !dir.is_empty() => std::path::PathBuf::from(dir),
        _ => Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/onramp-test"),
    }
}

/// Reruns this script when `folder`, or the nearest folder above it that
/// exists, changes: it changes when `make deps` creates what lies below it
/// (a missing path would rerun this script, and rebuild the crate, on every
/// build).
fn watch_nearest(folder: &Path) {
    let home = std::env::var_os("HOME").unwrap_or_default();
    let cache = cache();
    let watched = [folder.to_path_buf(), cache, Path::new(&home).join(".cache")]
        .into_iter()
        .find(|p| p.is_dir())
        .unwrap_or_else(|| Path::new(&home).to_path_buf());
    println!("cargo::rerun-if-changed={}", watched.display());
}

/// The Prometheus 3 release `tests/prometheus3/go.mod` pins (module version
/// v0.3MM.P is Prometheus 3.MM.P).
fn prometheus3_version() -> Result<String, String> {
    let go_mod = "tests/prometheus3/go.mod";
    println!("cargo::rerun-if-changed={go_mod}");
    let text = std::fs::read_to_string(go_mod).map_err(|e| format!("{go_mod}: {e}"))?;
    text.lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("github.com/prometheus/prometheus v0.3")
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|module| module.split_once('.'))
        .and_then(|(minor, patch)| Some(format!("3.{}.{patch}", minor.parse::<u32>().ok()?)))
        .ok_or_else(|| format!("{go_mod}: no github.com/prometheus/prometheus v0.3MM.P line"))
}

/// Where `make deps` builds `kube-apiserver`, at the version
/// `tests/tools/build-kube-apiserver.sh` pins.
fn kube_apiserver() -> Result<std::path::PathBuf, String> {
    let script = "tests/tools/build-kube-apiserver.sh";
    println!("cargo::rerun-if-changed={script}");
    let text = std::fs::read_to_string(script).map_err(|e| format!("{script}: {e}"))?;
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("{script}: no KUBERNETES_VERSION= line"))?;
    let folder = cache().join(format!("k8s-{version}"));
    watch_nearest(&folder);
    Ok(folder.join("kube-apiserver"))
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
