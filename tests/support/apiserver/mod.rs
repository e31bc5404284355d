//! The real Kubernetes API server for the cluster tests, run the way
//! controller-runtime's envtest runs it: `kube-apiserver` (built by `make
//! deps`, see `tests/tools/build-kube-apiserver.sh`) over Debian's `etcd`,
//! with no kubelet, no scheduler and no controllers.
//!
//! Owns: one etcd per test binary (started on first use, shared through a
//! `OnceLock`), and one API server per test over it with an etcd prefix of
//! its own, so every test gets a cluster holding exactly its scenario — the
//! Prometheus Operator's CRDs and the `Prometheus` objects onramp discovers
//! are cluster-wide, so tests sharing one API server would see each other's.
//! At start: free loopback ports, a serving certificate and service-account
//! keys made with rcgen, `--authorization-mode=RBAC`, a static token file
//! with an admin (group `system:masters`) and an unprivileged user, and a
//! kubeconfig with one context per user. It waits for `/readyz`, installs
//! the Operator's CRDs from `../shared/reference/crds/` when the scenario has
//! them, and loads the scenario's fixtures (`load`).
//!
//! Stopping: an API server dies with its [`ApiServer`] value (also when the
//! test panics); every process runs under a small shell watchdog that kills
//! it once the test process is gone, so nothing outlives the test binary.
//!
//! Does not own: deciding whether the real server runs (the `apiserver` cfg
//! from `build.rs`: `ONRAMP_TEST_APISERVER` and the built binaries).

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

pub mod load;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

/// The admin's bearer token (group `system:masters`).
pub const ADMIN_TOKEN: &str = "onramp-apiserver-admin-7d1e40";
/// The unprivileged user's bearer token: RBAC grants it nothing until a
/// test binds roles to [`USER`].
pub const USER_TOKEN: &str = "onramp-apiserver-user-93c5aa";
/// The unprivileged user's name, the subject of the tests' bindings.
pub const USER: &str = "onramp-user";
/// The kubeconfig context of the admin.
pub const ADMIN_CONTEXT: &str = "apiserver-admin";
/// The kubeconfig context of the unprivileged user.
pub const USER_CONTEXT: &str = "apiserver-user";

/// The `kube-apiserver` binary `build.rs` found, when the tier is on.
fn kube_apiserver_binary() -> PathBuf {
    match option_env!("ONRAMP_TEST_KUBE_APISERVER") {
        Some(path) => PathBuf::from(path),
        None => panic!(
            "this build has no real kube-apiserver (the `apiserver` cfg of build.rs is off): run `make deps`, then test again"
        ),
    }
}

/// A process in its own process group under a watchdog shell: the shell
/// kills the process when the test process (its parent's pid) is gone.
struct Watched {
    name: &'static str,
    shell: Child,
    log: PathBuf,
}

/// The watchdog: `sh -c WATCHDOG watchdog PARENT_PID CLEANUP_DIR PROGRAM ARGS…`.
const WATCHDOG: &str = r#"parent=$1; cleanup=$2; shift 2
"$@" &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill "$child" 2>/dev/null; wait "$child"
[ -n "$cleanup" ] && rm -rf "$cleanup""#;

impl Watched {
    /// Starts `program ARGS` with its output in `log`; `cleanup` (a folder)
    /// is removed once the process is gone, when the test process ended first.
    fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        log: &Path,
        cleanup: Option<&Path>,
    ) -> Watched {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let shell = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("watchdog")
            .arg(std::process::id().to_string())
            .arg(cleanup.map(|c| c.display().to_string()).unwrap_or_default())
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({}): {e}", program.display()));
        Watched {
            name,
            shell,
            log: log.to_path_buf(),
        }
    }

    /// The last lines of the process's output, for a failure message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Whether the process ended.
    fn exited(&mut self) -> bool {
        !matches!(self.shell.try_wait(), Ok(None))
    }
}

impl Drop for Watched {
    /// Kills the whole process group (the watchdog and the server) and reaps it.
    fn drop(&mut self) {
        let group = format!("-{}", self.shell.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.shell.wait();
    }
}

/// A free loopback port (bound then released: another process could take
/// it in between, which the start-up wait would then report).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A temporary folder, in memory (`/dev/shm`) when the machine has one:
/// etcd fsyncs every write.
fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new().prefix(prefix).to_owned();
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("a temporary folder")
}

/// The test binary's etcd: its client URL.
struct Etcd {
    url: String,
    _process: Watched,
}

static ETCD: OnceLock<Result<Etcd, String>> = OnceLock::new();

/// Starts etcd once per test binary; it stops when the test process ends.
fn etcd() -> &'static str {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let etcd = ETCD.get_or_init(|| {
        // Kept until the process ends; the watchdog removes it afterwards.
        let dir = scratch_dir("onramp-etcd-").keep();
        let (client, peer) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args = [
            "--name=onramp-test".to_string(),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--listen-client-urls={url}"),
            format!("--advertise-client-urls={url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=onramp-test={peer_url}"),
            "--log-level=warn".to_string(),
        ];
        let mut process = Watched::spawn(
            "etcd",
            Path::new("etcd"),
            &args,
            &dir.join("etcd.log"),
            Some(&dir),
        );
        let health = format!("{url}/health");
        if let Err(message) = wait_until(&mut process, Duration::from_secs(30), || {
            http_get_ok(&health)
        }) {
            drop(process);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(message);
        }
        Ok(Etcd {
            url,
            _process: process,
        })
    });
    match etcd {
        Ok(etcd) => &etcd.url,
        Err(message) => panic!("{message}"),
    }
}

/// Polls `ready` every 50 ms until it holds; fails with the process's log
/// when the process ends or `limit` passes.
fn wait_until(
    process: &mut Watched,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if process.exited() {
            return Err(format!(
                "{} exited during start-up:\n{}",
                process.name,
                process.log_tail()
            ));
        }
        if start.elapsed() > limit {
            return Err(format!(
                "{} was not ready after {limit:?}:\n{}",
                process.name,
                process.log_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain-HTTP GET that answered 200 (etcd's `/health`).
fn http_get_ok(url: &str) -> bool {
    block_on(async {
        reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
}

/// Runs a future to completion on a thread of its own, so that both sync
/// and `#[tokio::test]` tests can call the harness.
pub fn block_on<T: Send>(future: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A running kube-apiserver holding one test's cluster.
pub struct ApiServer {
    // Dropped first: the process stops before its folder goes.
    process: Watched,
    url: String,
    ca_pem: String,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

/// One answer of the API server: status code and JSON body (`Null` when
/// the body is not JSON).
pub type Answer = (u16, Value);

impl ApiServer {
    /// Starts an API server over the test binary's etcd and waits until it
    /// is ready.
    pub fn start() -> ApiServer {
        let etcd = etcd();
        let dir = scratch_dir("onramp-apiserver-");
        let port = free_port();
        let url = format!("https://127.0.0.1:{port}");
        let cert = super::tls::private_ca_cert("onramp test kube-apiserver CA");
        let service_accounts = rcgen::KeyPair::generate().expect("a service-account key");
        let files = [
            ("serving.crt", cert.cert_pem.clone()),
            ("serving.key", cert.key_pem.clone()),
            ("sa.pub", service_accounts.public_key_pem()),
            ("sa.key", service_accounts.serialize_pem()),
            (
                "tokens.csv",
                format!(
                    "{ADMIN_TOKEN},onramp-admin,onramp-admin,\"system:masters\"\n{USER_TOKEN},{USER},{USER}\n"
                ),
            ),
        ];
        for (name, text) in &files {
            std::fs::write(dir.path().join(name), text).expect("write the API server's files");
        }
        let file = |name: &str| dir.path().join(name).display().to_string();
        let prefix = format!(
            "/onramp-{}",
            dir.path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("test")
        );
        let args = vec![
            format!("--etcd-servers={etcd}"),
            format!("--etcd-prefix={prefix}"),
            "--bind-address=127.0.0.1".to_string(),
            "--advertise-address=127.0.0.1".to_string(),
            format!("--secure-port={port}"),
            format!("--tls-cert-file={}", file("serving.crt")),
            format!("--tls-private-key-file={}", file("serving.key")),
            format!("--service-account-key-file={}", file("sa.pub")),
            format!("--service-account-signing-key-file={}", file("sa.key")),
            format!("--service-account-issuer={url}"),
            format!("--token-auth-file={}", file("tokens.csv")),
            "--authorization-mode=RBAC".to_string(),
            "--service-cluster-ip-range=10.96.0.0/16".to_string(),
            "--allow-privileged=true".to_string(),
            // No controllers run: the ServiceAccount admission would wait
            // for a `default` ServiceAccount nobody creates.
            "--disable-admission-plugins=ServiceAccount".to_string(),
            "--enable-priority-and-fairness=false".to_string(),
            "--profiling=false".to_string(),
            format!("--cert-dir={}", file("certs")),
        ];
        let binary = kube_apiserver_binary();
        let started = Instant::now();
        let mut process = Watched::spawn(
            "kube-apiserver",
            &binary,
            &args,
            &dir.path().join("kube-apiserver.log"),
            None,
        );
        let http = reqwest::Client::builder()
            .tls_certs_only([
                reqwest::Certificate::from_pem(cert.ca_pem.as_bytes()).expect("CA PEM")
            ])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTPS client");
        let waited = wait_until(&mut process, Duration::from_secs(60), || {
            send(&http, &url, "GET", "/readyz", "", None).0 == 200
        });
        if let Err(message) = waited {
            panic!("{message}");
        }
        eprintln!(
            "kube-apiserver {url} ready in {} ms",
            started.elapsed().as_millis()
        );
        ApiServer {
            process,
            url,
            ca_pem: cert.ca_pem,
            http,
            dir,
        }
    }

    /// The server URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A request as the admin: `body` is sent as `content_type`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> Answer {
        send(&self.http, &self.url, method, path, content_type, body)
    }

    /// `GET path` as the admin.
    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, "", None)
    }

    /// `POST path` of a JSON object as the admin.
    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.request("POST", path, "application/json", Some(body))
    }

    /// Writes a kubeconfig whose current context is `context`
    /// ([`ADMIN_CONTEXT`] or [`USER_CONTEXT`]; both are in it) and returns
    /// its path.
    pub fn kubeconfig(&self, context: &str) -> PathBuf {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: apiserver\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: admin\n  user:\n    token: {ADMIN_TOKEN}\n- name: {USER}\n  user:\n    token: {USER_TOKEN}\ncontexts:\n- name: {ADMIN_CONTEXT}\n  context:\n    cluster: apiserver\n    user: admin\n    namespace: default\n- name: {USER_CONTEXT}\n  context:\n    cluster: apiserver\n    user: {USER}\n    namespace: default\ncurrent-context: {context}\n",
            url = self.url
        );
        let path = self.dir.path().join(format!("kubeconfig-{context}"));
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }

    /// Installs the Prometheus Operator's CRDs (`../shared/reference/crds/`)
    /// and waits until the API server serves their group.
    pub fn install_operator_crds(&self) {
        let folder = super::repo().join("../shared/reference/crds");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("the CRDs live in {}: {e}", folder.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut plurals = Vec::new();
        for path in &files {
            let text = super::read(path);
            let crd: Value = serde_saphyr::from_str(&text).expect("a CRD parses");
            plurals.push(
                crd["spec"]["names"]["plural"]
                    .as_str()
                    .expect("a plural")
                    .to_string(),
            );
            let (code, body) = self.post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                &crd,
            );
            assert_eq!(code, 201, "create the CRD {}: {body}", path.display());
        }
        let start = Instant::now();
        loop {
            let (code, body) = self.get("/apis/monitoring.coreos.com/v1");
            let served: Vec<&str> = body["resources"]
                .as_array()
                .map(|r| r.iter().filter_map(|r| r["name"].as_str()).collect())
                .unwrap_or_default();
            if code == 200 && plurals.iter().all(|p| served.contains(&p.as_str())) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the Operator's CRDs were not served after 30 s: {code} {body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One request as the admin to the API server at `url`; status 0 when no
/// answer came.
fn send(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: Option<&Value>,
) -> Answer {
    let mut request = http
        .request(
            method.parse().expect("an HTTP method"),
            format!("{url}{path}"),
        )
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request
            .header("content-type", content_type)
            .body(serde_json::to_string(body).expect("JSON"));
    }
    block_on(async move {
        match request.send().await {
            Ok(response) => {
                let code = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                (code, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    })
}
