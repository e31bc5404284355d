//! A real Prometheus for tests: the OS package's `prometheus` binary (2.42),
//! or the pinned Prometheus 3 that `make deps` builds
//! (`tests/tools/build-prometheus3.sh`), started on a free loopback port with
//! a temporary directory, a 1 s scrape and (by default) evaluation interval, file-based
//! service discovery (`targets/*.json`) and rule files (`rules/*.yaml`), so a
//! test drives it by writing files and reloading. The process is killed when
//! the [`PrometheusServer`] is dropped, also when the test fails. A missing
//! binary fails the test with the command that installs it; it never passes.
//!
//! [`on_both_prometheus!`] defines a test once per [`Version`], as
//! `NAME::prometheus_2` and `NAME::prometheus_3`, so a failure names the
//! version. When a version is not here (the `prometheus` and `prometheus3`
//! cfgs from `build.rs`, `ONRAMP_TEST_PROMETHEUS` and
//! `ONRAMP_TEST_PROMETHEUS3`) its variants are listed as ignored, saying
//! what they need; a test turned `on` without its binary fails with the
//! command that installs it.

// Each test uses only part of this helper.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// What a test sees when the binary is missing.
pub const NOT_INSTALLED: &str =
    "prometheus is not installed: run `apt-get update && apt-get install -y prometheus`";

/// The scrape job (`job_name`) reading `targets/*.json`.
pub const FILE_SD_JOB: &str = "file_sd";

/// How long Prometheus may take to become ready (the machine may be busy).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a test sees when the pinned Prometheus 3 has not been built.
pub const NOT_BUILT_3: &str = "Prometheus 3 is not built: run `make deps` \
     (tests/tools/build-prometheus3.sh builds it into ~/.cache/onramp-test), \
     or build the tests with ONRAMP_TEST_PROMETHEUS3=auto (or off) to list its tests as ignored";

/// The Prometheus releases the tests run against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Version {
    /// Debian's package (2.42): `/usr/bin/prometheus`, `promtool` on PATH.
    #[default]
    V2,
    /// The pinned 3.x that `make deps` builds, what kube-prometheus-stack ships.
    V3,
}

impl Version {
    /// The folder holding this version's `prometheus` and `promtool`, put
    /// first on the PATH of the onramp processes a test runs against it (so
    /// `onramp apply` checks rules with the matching promtool). `None` for
    /// Debian's, which is on PATH already.
    pub fn bin_dir(self) -> Option<PathBuf> {
        match self {
            Version::V2 => None,
            // The folder `build.rs` derived from `tests/prometheus3/go.mod`
            // and the cache (`ONRAMP_TEST_CACHE`, else ~/.cache/onramp-test).
            Version::V3 => Some(PathBuf::from(env!("ONRAMP_TEST_PROMETHEUS3_DIR"))),
        }
    }

    /// The path of `tool` (`prometheus` or `promtool`) of this version;
    /// panics with the command that installs it when it is missing.
    pub fn tool(self, tool: &str) -> PathBuf {
        let Some(dir) = self.bin_dir() else {
            return debian_tool(tool);
        };
        let path = dir.join(tool);
        assert!(
            path.is_file(),
            "{} is missing. {NOT_BUILT_3}",
            path.display()
        );
        path
    }

    /// PATH for an onramp process run against this version: its folder first.
    pub fn path_env(self) -> OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let Some(dir) = self.bin_dir() else {
            return inherited;
        };
        let dirs = std::iter::once(dir).chain(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).expect("PATH entries without separators")
    }
}

/// Defines a test once per Prometheus version: `NAME::prometheus_2` and
/// `NAME::prometheus_3` run the body with `VERSION` bound to
/// [`Version::V2`] and [`Version::V3`] (`async fn`: as `#[tokio::test]`s).
/// Each is listed as ignored, saying what it needs, when its tier is off
/// (the `prometheus` and `prometheus3` cfgs of `build.rs`).
///
/// `on_both_prometheus! { stand_in; fn … }` is a test that also runs the
/// Kubernetes stand-in, which needs the CRD schemas (`shared_crds`).
// The benches include this file and use no test macro.
#[allow(unused_macros)]
macro_rules! on_both_prometheus {
    (stand_in; $($test:tt)*) => {
        $crate::support::prometheus::on_both_prometheus! { @needs
            [all(prometheus, shared_crds)]
            "needs prometheus and promtool 2.x (apt-get install prometheus) and ../shared/reference/crds (ONRAMP_TEST_PROMETHEUS, ONRAMP_TEST_SHARED)"
            [all(prometheus3, shared_crds)]
            "needs Prometheus 3 (make deps) and ../shared/reference/crds (ONRAMP_TEST_PROMETHEUS3, ONRAMP_TEST_SHARED)"
            $($test)*
        }
    };
    (@needs [$($two:tt)*] $why2:literal [$($three:tt)*] $why3:literal
        $(#[$meta:meta])* fn $name:ident($version:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($version: $crate::support::prometheus::Version) $body

            #[test]
            #[cfg_attr(not($($two)*), ignore = $why2)]
            fn prometheus_2() {
                run($crate::support::prometheus::Version::V2)
            }

            #[test]
            #[cfg_attr(not($($three)*), ignore = $why3)]
            fn prometheus_3() {
                run($crate::support::prometheus::Version::V3)
            }
        }
    };
    (@needs [$($two:tt)*] $why2:literal [$($three:tt)*] $why3:literal
        $(#[$meta:meta])* async fn $name:ident($version:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($version: $crate::support::prometheus::Version) $body

            #[tokio::test]
            #[cfg_attr(not($($two)*), ignore = $why2)]
            async fn prometheus_2() {
                run($crate::support::prometheus::Version::V2).await
            }

            #[tokio::test]
            #[cfg_attr(not($($three)*), ignore = $why3)]
            async fn prometheus_3() {
                run($crate::support::prometheus::Version::V3).await
            }
        }
    };
    ($($test:tt)*) => {
        $crate::support::prometheus::on_both_prometheus! { @needs
            [prometheus]
            "needs prometheus and promtool 2.x: apt-get install prometheus (ONRAMP_TEST_PROMETHEUS)"
            [prometheus3]
            "needs Prometheus 3: make deps (ONRAMP_TEST_PROMETHEUS3)"
            $($test)*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_prometheus;

/// How a test Prometheus is started.
#[derive(Clone, Debug)]
pub struct PrometheusOptions {
    /// Which release runs.
    pub version: Version,
    /// Serve everything under this path (`/prom`), as behind a reverse proxy.
    pub route_prefix: Option<String>,
    /// Pass `--web.enable-lifecycle` so `/-/reload` works (on by default).
    pub enable_lifecycle: bool,
    /// More command-line flags.
    pub extra_args: Vec<String>,
    /// How often rule groups are evaluated (`evaluation_interval`); 1 s by
    /// default, longer when thousands of groups are loaded.
    pub evaluation_interval: Duration,
    /// OpenMetrics text (with timestamps) to backfill into the data folder
    /// with `promtool tsdb create-blocks-from openmetrics` before starting:
    /// series with a past, as a Prometheus that scraped them for a while.
    pub backfill: Option<String>,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        PrometheusOptions {
            version: Version::V2,
            route_prefix: None,
            enable_lifecycle: true,
            extra_args: Vec::new(),
            evaluation_interval: Duration::from_secs(1),
            backfill: None,
        }
    }
}

/// A running Prometheus, killed on drop.
pub struct PrometheusServer {
    version: Version,
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    prefix: String,
}

impl PrometheusServer {
    /// Starts Prometheus and waits until `/-/ready` answers 200; panics with
    /// the tail of its log when it does not come up.
    pub fn start(options: PrometheusOptions) -> Self {
        let binary = options.version.tool("prometheus");
        let dir = tempfile::Builder::new()
            .prefix("onramp-prometheus-")
            .tempdir()
            .expect("create a temporary directory for Prometheus");
        for sub in ["targets", "rules", "data"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create Prometheus directories");
        }
        write_config(dir.path(), options.evaluation_interval);
        if let Some(text) = &options.backfill {
            backfill(options.version, dir.path(), text);
        }
        let prefix = options
            .route_prefix
            .as_deref()
            .map(|p| format!("/{}", p.trim_matches('/')))
            .filter(|p| p != "/")
            .unwrap_or_default();

        let mut server = PrometheusServer {
            version: options.version,
            child: None,
            dir,
            port: 0,
            prefix,
        };
        // The port is free when picked but may be taken before Prometheus
        // binds it: then try another one.
        let tries = 3;
        for attempt in 1..=tries {
            server.port = free_port();
            server.spawn(&binary, &options);
            match server.wait_ready() {
                Ok(()) => return server,
                Err(_)
                    if attempt < tries
                        && server.log_tail(50).contains("address already in use") =>
                {
                    server.stop();
                }
                Err(reason) => panic!(
                    "Prometheus {:?} ({}) did not become ready on {}: {reason}\n--- its log ---\n{}",
                    options.version,
                    binary.display(),
                    server.url(),
                    server.log_tail(40)
                ),
            }
        }
        unreachable!("the last try either returns or panics")
    }

    /// Starts Prometheus `version` with the default options.
    pub fn of(version: Version) -> Self {
        Self::start(PrometheusOptions {
            version,
            ..PrometheusOptions::default()
        })
    }

    /// An instant query through onramp's own client: each sample's labels
    /// and value. Panics naming the expression when Prometheus refuses it.
    pub fn query(&self, expr: &str) -> Vec<(onramp::client::prometheus::Labels, f64)> {
        self.query_at(expr, None)
    }

    /// [`PrometheusServer::query`] at `time` (now when `None`).
    pub fn query_at(
        &self,
        expr: &str,
        time: Option<std::time::SystemTime>,
    ) -> Vec<(onramp::client::prometheus::Labels, f64)> {
        let (client, runtime) = self.client();
        let result = runtime
            .block_on(client.query(expr, time))
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        result
            .samples()
            .iter()
            .map(|s| (s.labels.clone(), s.value))
            .collect()
    }

    /// The rule groups `/api/v1/rules` lists, through onramp's own client.
    pub fn rules(&self) -> Vec<onramp::client::prometheus::RuleGroup> {
        let (client, runtime) = self.client();
        runtime.block_on(client.rules()).expect("the rules")
    }

    /// onramp's own client for this server, and a runtime to wait on it.
    fn client(
        &self,
    ) -> (
        onramp::client::prometheus::PrometheusClient,
        tokio::runtime::Runtime,
    ) {
        let client = onramp::client::prometheus::PrometheusClient::new(
            onramp::client::prometheus::PrometheusConfig::new(&self.url()).expect("url"),
        )
        .expect("client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        (client, runtime)
    }

    /// The release this server runs.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The base URL, with the route prefix: `http://127.0.0.1:PORT[/prefix]`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.prefix)
    }

    /// `127.0.0.1:PORT`: the address to put in a file_sd target so that
    /// Prometheus scrapes itself.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The path of Prometheus' own metrics (`[/prefix]/metrics`), for the
    /// `__metrics_path__` label.
    pub fn metrics_path(&self) -> String {
        format!("{}/metrics", self.prefix)
    }

    /// The temporary directory holding config, targets, rules and data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `prometheus.yml`.
    pub fn config_file(&self) -> PathBuf {
        self.dir().join("prometheus.yml")
    }

    /// Where file_sd target files (`*.json`) go; re-read every second.
    pub fn targets_dir(&self) -> PathBuf {
        self.dir().join("targets")
    }

    /// Where rule files (`*.yaml`) go; loaded on reload.
    pub fn rules_dir(&self) -> PathBuf {
        self.dir().join("rules")
    }

    /// Writes `targets/NAME.json` with one target group (atomically, so
    /// Prometheus never reads half a file).
    pub fn write_target(&self, name: &str, address: &str, labels: &[(&str, &str)]) -> PathBuf {
        let labels: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let groups = json!([{ "targets": [address], "labels": labels }]);
        let text = serde_json::to_string_pretty(&groups).expect("serialise file_sd targets");
        write_atomically(&self.targets_dir().join(format!("{name}.json")), &text)
    }

    /// Writes `rules/NAME.yaml` (atomically); Prometheus loads it on reload.
    pub fn write_rules(&self, name: &str, yaml: &str) -> PathBuf {
        write_atomically(&self.rules_dir().join(format!("{name}.yaml")), yaml)
    }

    /// Reloads the configuration and rule files (`POST /-/reload`), as the
    /// Operator's config reloader does; panics with the log when refused.
    pub fn reload(&self) {
        let path = format!("{}/-/reload", self.prefix);
        let status = http_request(self.port, "POST", &path);
        assert_eq!(status, Some(200), "reload: {}", self.log_tail(20));
    }

    /// Prometheus' own metrics (`GET [/prefix]/metrics`), as text: read
    /// directly, not scraped, so counters such as
    /// `prometheus_http_requests_total` are exact at the moment of asking.
    pub fn own_metrics(&self) -> String {
        let path = self.metrics_path();
        let answer = http_exchange(self.port, "GET", &path).unwrap_or_default();
        answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }

    /// The last `lines` lines of Prometheus' log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(self.log_file()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Kills Prometheus (its URL then refuses connections). Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_file(&self) -> PathBuf {
        self.dir().join("prometheus.log")
    }

    fn spawn(&mut self, binary: &Path, options: &PrometheusOptions) {
        let log = fs::File::create(self.log_file()).expect("create the Prometheus log file");
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", self.config_file().display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                self.dir().join("data").display()
            ))
            .arg(format!("--web.listen-address={}", self.address()))
            .args(&options.extra_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file handle"))
            .stderr(log);
        if options.enable_lifecycle {
            command.arg("--web.enable-lifecycle");
        }
        if !self.prefix.is_empty() {
            command.arg(format!("--web.external-url={}/", self.url()));
        }
        let child = command.spawn().unwrap_or_else(|err| {
            panic!("cannot start {}: {err}\n{NOT_INSTALLED}", binary.display())
        });
        self.child = Some(child);
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let ready_path = format!("{}/-/ready", self.prefix);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("it exited with {status}"));
            }
            if http_status(self.port, &ready_path) == Some(200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no 200 from {ready_path} within {READY_TIMEOUT:?}"))
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Debian's `prometheus` or `promtool` as `build.rs` found them (`/usr/bin`,
/// else the first on PATH); panics with the command that installs them.
fn debian_tool(tool: &str) -> PathBuf {
    let found = match tool {
        "prometheus" => option_env!("ONRAMP_TEST_PROMETHEUS_BIN"),
        "promtool" => option_env!("ONRAMP_TEST_PROMTOOL_BIN"),
        _ => None,
    };
    found.map(PathBuf::from).unwrap_or_else(|| {
        panic!("{tool} is not installed: run `apt-get update && apt-get install -y prometheus`")
    })
}

/// Writes `text` (OpenMetrics) as blocks into `dir/data` with `promtool
/// tsdb create-blocks-from openmetrics`; panics with promtool's output when
/// it refuses.
fn backfill(version: Version, dir: &Path, text: &str) {
    let input = dir.join("backfill.om");
    fs::write(&input, text).expect("write the OpenMetrics to backfill");
    let promtool = version.tool("promtool");
    let output = std::process::Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(dir.join("data"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    assert!(
        output.status.success(),
        "promtool tsdb create-blocks-from openmetrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a free loopback port")
}

/// `prometheus.yml`: 1 s scrape, evaluation every `evaluation`, file_sd
/// over `targets/*.json` and `targets/*.yaml` (what `onramp apply
/// --prometheus-config-dir` writes) refreshed every second, rules from
/// `rules/*.yaml`.
fn write_config(dir: &Path, evaluation: Duration) {
    let config = json!({
        "global": {
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "evaluation_interval": format!("{}ms", evaluation.as_millis()),
        },
        "scrape_configs": [{
            "job_name": FILE_SD_JOB,
            "file_sd_configs": [{
                "files": [dir.join("targets").join("*.json"), dir.join("targets").join("*.yaml")],
                "refresh_interval": "1s",
            }],
        }],
        "rule_files": [dir.join("rules").join("*.yaml")],
    });
    let yaml = serde_saphyr::to_string(&config).expect("serialise prometheus.yml");
    fs::write(dir.join("prometheus.yml"), yaml).expect("write prometheus.yml");
}

/// Writes through a temporary name that no glob matches, then renames.
fn write_atomically(path: &Path, text: &str) -> PathBuf {
    let temporary = path.with_extension("tmp");
    fs::write(&temporary, text).expect("write a temporary file");
    fs::rename(&temporary, path).expect("rename into place");
    path.to_path_buf()
}

/// The status code of `GET path` on the loopback port, or `None` when there is
/// no HTTP answer. Plain std so the helper works outside any async runtime.
fn http_status(port: u16, path: &str) -> Option<u16> {
    http_request(port, "GET", path)
}

/// The status code of `METHOD path` (no body) on the loopback port.
fn http_request(port: u16, method: &str, path: &str) -> Option<u16> {
    let answer = http_exchange(port, method, path)?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// The whole HTTP/1.0 answer (status line, headers, body) to `METHOD path`.
fn http_exchange(port: u16, method: &str, path: &str) -> Option<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    // A reload answers once every rule file is loaded: thousands of groups
    // take seconds on a busy machine.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}
