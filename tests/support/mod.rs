//! Test support: running the onramp binary, paths to fixtures, the real
//! Prometheus tools, and the stand-ins for the servers that cannot run here.

pub mod apiserver;
pub mod cluster;
pub mod crd;
pub mod echo;
pub mod exposition;
pub mod grafana;
pub mod kube;
pub mod leaks;
pub mod prometheus;
pub mod prometheus_standin;
pub mod shop;
pub mod slo;
pub mod terminal;
pub mod tls;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs a server on its own thread and tokio runtime, so that sync and async
/// tests can both use it: binds a loopback port, hands the listener to
/// `serve`, and returns the bound address. The thread ends with the process.
pub fn spawn_server<F, Fut>(serve: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("a bound address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            serve(listener).await;
        });
    });
    addr
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    repo().join(relative)
}

/// The demo app's manifest, relative to the repository root where [`onramp`]
/// runs (so paths printed into generated files are the ones `make demo` prints).
/// The file, not its kustomize folder: building that needs kubectl or kustomize.
pub fn demo_manifests() -> String {
    "examples/shop/k8s/checkout.yaml".to_string()
}

/// `onramp plan checkout -f DEMO --need service-health -o json` with
/// `extra` arguments, parsed; the run must succeed.
pub fn service_health_plan(extra: &[&str]) -> serde_json::Value {
    let manifests = demo_manifests();
    let mut args = vec![
        "plan",
        "checkout",
        "-f",
        &manifests,
        "--need",
        "service-health",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = onramp(&args);
    run.expect_status(0);
    serde_json::from_str(&run.stdout).expect("plan json")
}

/// A discovery fixture.
pub fn fixture(name: &str) -> String {
    repo_path(&format!("tests/fixtures/manifests/{name}"))
        .display()
        .to_string()
}

/// A bad-input fixture.
pub fn bad_fixture(name: &str) -> String {
    repo_path(&format!("tests/fixtures/bad/{name}"))
        .display()
        .to_string()
}

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the run exited with `status`.
    #[track_caller]
    pub fn expect_status(&self, status: i32) -> &Self {
        assert_eq!(
            self.status, status,
            "expected exit {status}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        );
        self
    }

    /// Panics with both streams when any of `secrets` shows in them.
    #[track_caller]
    pub fn assert_hides(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "a secret leaked:\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout,
                self.stderr
            );
        }
    }

    /// The first line of stdout containing `needle`; panics with stdout when
    /// there is none.
    #[track_caller]
    pub fn stdout_line(&self, needle: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line of stdout contains {needle:?}:\n{}", self.stdout))
    }
}

/// Runs `onramp ARGS` in `dir` (the repository root when `None`), with `stdin`.
pub fn onramp_in(dir: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Run {
    onramp_with(dir, args, stdin, &[])
}

/// Runs `onramp ARGS` with extra environment variables.
pub fn onramp_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    onramp_with(None, args, None, env)
}

/// Runs `onramp ARGS` in `dir` (the repository root when `None`) with extra
/// environment variables.
pub fn onramp_dir_env(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    onramp_with(dir, args, None, env)
}

fn onramp_with(
    dir: Option<&Path>,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_onramp"));
    cmd.envs(env.iter().copied());
    for var in [
        "GRAFANA_URL",
        "GRAFANA_TOKEN",
        "GRAFANA_USER",
        "GRAFANA_PASSWORD",
        "PROMETHEUS_URL",
    ] {
        if !env.iter().any(|(k, _)| *k == var) {
            cmd.env_remove(var);
        }
    }
    cmd.args(args)
        .current_dir(dir.map(Path::to_path_buf).unwrap_or_else(repo))
        .env_remove("ONRAMP_CONFIG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the onramp binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("onramp finishes");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `onramp ARGS` from the repository root.
pub fn onramp(args: &[&str]) -> Run {
    onramp_in(None, args, None)
}

/// Codifies the demo app into a fresh temporary folder and returns it.
pub fn codify_demo(extra: &[&str]) -> tempfile::TempDir {
    codify_app("checkout", &demo_manifests(), extra)
}

/// Codifies `app` from `manifests` into a fresh temporary folder and returns it.
pub fn codify_app(app: &str, manifests: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().display().to_string();
    let mut args = vec!["codify", app, "-f", manifests, "--out", &out];
    args.extend_from_slice(extra);
    onramp(&args).expect_status(0);
    dir
}

/// Codifies the demo app in a fresh folder whose onramp.yaml holds
/// `config`, as a user runs it there; the files are under `out/`.
pub fn codify_demo_with_config(config: &str) -> tempfile::TempDir {
    let dir = dir_with("onramp.yaml", config);
    let out = dir.path().join("out").display().to_string();
    let manifests = repo_path(&demo_manifests()).display().to_string();
    onramp_in(
        Some(dir.path()),
        &["codify", "checkout", "-f", &manifests, "--out", &out],
        None,
    )
    .expect_status(0);
    dir
}

/// The fenced code blocks of `lang` (```` ```yaml ````) in Markdown `text`,
/// each as printed between its fences.
pub fn fenced(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    text.match_indices(&fence)
        .map(|(i, _)| {
            let body = &text[i + fence.len()..];
            body[..body.find("```").expect("a closed block")].to_string()
        })
        .collect()
}

/// A fresh temporary folder holding one file `name` with `text`.
pub fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(name), text).expect("write the file");
    dir
}

/// Reads a file, with the path in the panic message.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The dashboard of `need` that codify wrote into `dir`, parsed.
pub fn codified_dashboard(dir: &tempfile::TempDir, need: &str) -> serde_json::Value {
    serde_json::from_str(&read(dir.path().join(format!("dashboards/{need}.json")))).expect("json")
}

/// The ids of the needs a plan's JSON (`plan -o json`) uses, in order.
pub fn plan_need_ids(plan: &serde_json::Value) -> Vec<&str> {
    plan["needs"]
        .as_array()
        .expect("needs")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect()
}

/// Parses YAML into JSON values (one per document).
pub fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple(text).expect("generated YAML parses")
}

/// Runs `promtool ARGS` of Prometheus `version` in `dir`; returns (success,
/// combined output).
pub fn promtool(version: prometheus::Version, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(version.tool("promtool"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// CPU time this thread has run (`/proc/thread-self/schedstat`, in ns), for
/// the benchmarks: on a machine shared with other work, wall time measures
/// the neighbours too.
pub fn thread_cpu_time() -> std::time::Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(std::time::Duration::from_nanos)
        .unwrap_or_default()
}
