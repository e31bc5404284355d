//! A strict Kubernetes API server stand-in, for the tests of everything
//! onramp does with a cluster. The real kube-apiserver (`support::apiserver`)
//! runs the same tests where it can (`support::cluster`); what only the
//! stand-in can do — pod logs, the service proxy to a loopback server, RBAC
//! rules set in place, its request log — stays here.
//!
//! Owns: TLS with a throw-away CA and a real kubeconfig file; bearer-token
//! authentication (401) and optional RBAC rules (403 worded as the RBAC
//! authorizer words it); discovery with or without the Prometheus
//! Operator's group; get/list with label and field selectors (400 for a
//! field label the real server does not support) and pagination;
//! server-side apply with `managedFields`, conflicts, `force` and `dryRun`;
//! CRD schema validation of monitoring objects (422); `create` and
//! `delete` for test setup; `pods/log`; the service proxy to a real
//! loopback server; and a log of the requests it received.
//!
//! Fault injection ([`Fault`], worded as the real server words each case):
//! [`Standin::fail`] makes one exact path (`/api/v1/namespaces/shop/pods/
//! NAME/log`, any query) answer the fault after authentication and RBAC, as
//! the real server's handler would; [`Standin::proxy_answers`] makes a
//! Service behind the service proxy answer it for every path, passed through
//! verbatim as the real proxy passes the upstream's answer. A path that
//! names no served group/version answers plain-text `404 page not found`
//! (Go's `http.NotFound`), as the real server does; a served group/version
//! with an unknown resource answers a `NotFound` Status.
//!
//! Does not own: watch, `PUT`, JSON/merge patches, admission, garbage
//! collection, finalizers. Requests without the token get 401, as on a
//! server with anonymous auth off (kind's would say 403 for
//! `system:anonymous`).
//!
//! Scenarios are fixture files under `tests/fixtures/kube/`, shaped like
//! `kubectl get -o yaml` output (a `List`); pod logs live beside them in
//! `logs/NAMESPACE/POD/CONTAINER.log` (`.previous.log` for the last crash).
//!
//! ```ignore
//! let standin = Standin::start(Scenario::KubePrometheusStack);
//! let kubeconfig = standin.kubeconfig();          // a file for KUBECONFIG
//! standin.set_rbac(vec![Rule::new(&["list"], "", "pods", Some("shop"))]);
//! standin.proxy_to("monitoring", "prometheus-operated", "9090", prometheus_addr);
//! assert_eq!(standin.requests_to("/api/v1/pods"), 0);
//! ```

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

mod apply;
mod discovery;
mod fault;
mod fields;
mod proxy;
pub mod resources;
mod schema;
mod selector;
mod server;
mod status;
mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::Value;
use tokio_rustls::TlsAcceptor;

pub use fault::Fault;

/// The bearer token of the kubeconfig's user.
pub const TOKEN: &str = "onramp-standin-token-5f2b9c";
/// The user the token authenticates as (what 403 messages name).
pub const USER: &str = "system:serviceaccount:default:onramp";

/// A scenario: which fixture files make up the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// kube-prometheus-stack (Operator CRDs, Prometheus CR, Grafana with
    /// the dashboard sidecar) plus the demo shop's checkout in `shop`.
    KubePrometheusStack,
    /// The shop on a cluster without the Prometheus Operator.
    NoOperator,
    /// kube-prometheus-stack where someone created a ServiceMonitor
    /// `checkout` in `shop` with `kubectl apply` (client-side).
    ForeignMonitor,
    /// kube-prometheus-stack, the shop and a fleet of apps of three teams
    /// at every adoption level (`fleet.yaml`).
    Fleet,
    /// A troubleshoot case: `troubleshoot/CASE.yaml` (the app `checkout`
    /// in `shop`) beside a healthy neighbour (`troubleshoot/neighbour.yaml`),
    /// with the logs of `troubleshoot/logs/`. Its times are written
    /// against [`TROUBLESHOOT_NOW`] and served shifted to the real now, so a
    /// pod that crashed "4 minutes ago" in the fixture did so in every run.
    Troubleshoot(&'static str),
}

/// The moment the troubleshoot fixtures' timestamps are written against.
pub const TROUBLESHOOT_NOW: &str = "2026-11-27T09:00:00Z";

impl Scenario {
    /// The fixture files, loaded in order.
    pub fn files(self) -> Vec<String> {
        let files: &[&str] = match self {
            Scenario::Troubleshoot(case) => {
                return vec![
                    "cluster.yaml".into(),
                    "troubleshoot/neighbour.yaml".into(),
                    format!("troubleshoot/{case}.yaml"),
                ];
            }
            Scenario::KubePrometheusStack => &[
                "cluster.yaml",
                "operator-crds.yaml",
                "kube-prometheus-stack.yaml",
                "shop.yaml",
            ],
            Scenario::NoOperator => &["cluster.yaml", "shop.yaml"],
            Scenario::Fleet => &[
                "cluster.yaml",
                "operator-crds.yaml",
                "kube-prometheus-stack.yaml",
                "shop.yaml",
                "fleet.yaml",
            ],
            Scenario::ForeignMonitor => &[
                "cluster.yaml",
                "operator-crds.yaml",
                "kube-prometheus-stack.yaml",
                "shop.yaml",
                "foreign-monitor.yaml",
            ],
        };
        files.iter().map(|f| f.to_string()).collect()
    }

    /// How far the fixture's times move to be as old now as they were
    /// written (zero for the scenarios written without a "now").
    pub fn shift(self) -> Option<k8s_openapi::jiff::SignedDuration> {
        let Scenario::Troubleshoot(_) = self else {
            return None;
        };
        let then: k8s_openapi::jiff::Timestamp = TROUBLESHOOT_NOW.parse().expect("a timestamp");
        Some(k8s_openapi::jiff::Timestamp::now().duration_since(then))
    }
}

/// One RBAC rule: verbs on a resource (`pods`, `pods/log`) of an API group
/// (`""` for core), in one namespace or (`None`) everywhere. `"*"` matches
/// any verb or resource.
#[derive(Debug, Clone)]
pub struct Rule {
    verbs: Vec<String>,
    group: String,
    resource: String,
    namespace: Option<String>,
}

impl Rule {
    /// A rule; `namespace: None` is a ClusterRole binding's reach.
    pub fn new(verbs: &[&str], group: &str, resource: &str, namespace: Option<&str>) -> Rule {
        Rule {
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            group: group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.map(str::to_string),
        }
    }

    /// Whether the rule allows `verb` on `resource` (`pods/log` for a
    /// subresource) of `group` in `namespace` (empty: cluster-wide).
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: &str) -> bool {
        (self.verbs.iter().any(|v| v == verb || v == "*"))
            && self.group == group
            && (self.resource == resource || self.resource == "*")
            && self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }
}

/// The mutable state behind the server.
#[derive(Debug, Default)]
pub struct StandinState {
    store: store::Store,
    rbac: Option<Vec<Rule>>,
    /// (method, path, raw query) of every request, in order.
    requests: Vec<(String, String, String)>,
    /// (namespace, pod, container, previous) → log text.
    logs: HashMap<(String, String, String, bool), String>,
    /// (namespace, service, port as written in the URL) → where to forward.
    proxies: HashMap<(String, String, String), SocketAddr>,
    /// Exact path → the answer it gives instead of its own.
    faults: HashMap<String, Fault>,
    /// (namespace, service, port) → what the Service answers every request.
    proxy_faults: HashMap<(String, String, String), Fault>,
}

impl StandinState {
    /// Whether the Operator's CRDs are installed (its group is served).
    fn operator_installed(&self) -> bool {
        let crds = resources::find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .expect("CRDs are served");
        self.store
            .get(&store::key(
                crds,
                "",
                "servicemonitors.monitoring.coreos.com",
            ))
            .is_some()
    }
}

/// What the request handlers share.
pub struct Inner {
    state: Mutex<StandinState>,
    schemas: schema::Schemas,
    token: String,
}

/// A running stand-in; it serves until the test process ends.
pub struct Standin {
    inner: Arc<Inner>,
    url: String,
    ca_pem: String,
    dir: tempfile::TempDir,
}

/// The fixture folder of the scenarios.
pub fn fixtures() -> PathBuf {
    super::repo_path("tests/fixtures/kube")
}

impl Standin {
    /// Starts a stand-in holding `scenario`'s objects and logs.
    pub fn start(scenario: Scenario) -> Standin {
        let mut state = StandinState::default();
        for file in scenario.files() {
            load_list(&mut state.store, &fixtures().join(file), scenario.shift());
        }
        load_logs(&mut state.logs, &fixtures().join("logs"));
        if let Scenario::Troubleshoot(_) = scenario {
            load_logs(&mut state.logs, &fixtures().join("troubleshoot/logs"));
        }
        let (ca_pem, acceptor) = super::tls::private_ca_acceptor("kubernetes stand-in CA");
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            schemas: schema::Schemas::load(),
            token: TOKEN.to_string(),
        });
        let shared = inner.clone();
        let address = super::spawn_server(move |tcp| async move {
            let app = axum::Router::new()
                .fallback(server::handle)
                .with_state(shared);
            let _ = axum::serve(TlsListener { tcp, acceptor }, app).await;
        });
        Standin {
            inner,
            url: format!("https://{address}"),
            ca_pem,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The server URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PEM of the throw-away CA that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes a kubeconfig (cluster with CA data and URL, a user with the
    /// bearer token, a context `standin` with namespace `default`) and
    /// returns its path.
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig_with_token(TOKEN)
    }

    /// Like [`Standin::kubeconfig`] with another token (a rejected one).
    pub fn kubeconfig_with_token(&self, token: &str) -> PathBuf {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: onramp\n  user:\n    token: {token}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: onramp\n    namespace: default\ncurrent-context: standin\n",
            url = self.url
        );
        let path = self.dir.path().join(format!("kubeconfig-{}", token.len()));
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }

    /// Stores objects as if someone had created them, as a fixture file
    /// would (another tool's object beside onramp's; a benchmark's
    /// thousands of pods).
    pub fn insert(&self, items: Vec<Value>) {
        let mut state = self.inner.lock();
        for item in items {
            put_item(&mut state.store, item, None, "Standin::insert");
        }
    }

    /// Limits the token's user to `rules` (no call: everything allowed).
    pub fn set_rbac(&self, rules: Vec<Rule>) {
        self.inner.lock().rbac = Some(rules);
    }

    /// Makes `/api/v1/namespaces/NS/services/SERVICE:PORT/proxy/…` forward
    /// to `address` (`port` as the URL writes it: a number or a name, or
    /// empty for `SERVICE` alone).
    pub fn proxy_to(&self, namespace: &str, service: &str, port: &str, address: SocketAddr) {
        self.inner
            .lock()
            .proxies
            .insert((namespace.into(), service.into(), port.into()), address);
    }

    /// Makes every request to exactly `path` (any query, any method) answer
    /// `fault` once authenticated and authorized. `path` must be a resource
    /// path (`/api/…` or `/apis/…`) without a query.
    pub fn fail(&self, path: &str, fault: Fault) {
        assert!(
            (path.starts_with("/api/") || path.starts_with("/apis/"))
                && !path.contains('?')
                && !path.ends_with('/'),
            "a fault is set on a resource path without a query, not {path:?}"
        );
        self.inner.lock().faults.insert(path.to_string(), fault);
    }

    /// Makes the Service `namespace/service:port` (as [`Standin::proxy_to`]
    /// names it) answer `fault` to every request through the service proxy,
    /// as a destination refused on the way would.
    pub fn proxy_answers(&self, namespace: &str, service: &str, port: &str, fault: Fault) {
        self.inner
            .lock()
            .proxy_faults
            .insert((namespace.into(), service.into(), port.into()), fault);
    }

    /// Sets the log of a container (`previous`: of its last terminated run).
    pub fn set_log(&self, namespace: &str, pod: &str, container: &str, previous: bool, text: &str) {
        self.inner.lock().logs.insert(
            (namespace.into(), pod.into(), container.into(), previous),
            text.to_string(),
        );
    }

    /// How many requests went to exactly this path (any method, any query).
    pub fn requests_to(&self, path: &str) -> usize {
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|(_, p, _)| p == path)
            .count()
    }

    /// Every request as `METHOD /path?query`, in order.
    pub fn request_log(&self) -> Vec<String> {
        self.inner
            .lock()
            .requests
            .iter()
            .map(|(m, p, q)| {
                if q.is_empty() {
                    format!("{m} {p}")
                } else {
                    format!("{m} {p}?{q}")
                }
            })
            .collect()
    }

    /// Changes a stored object in place, as an administrator's edit would
    /// (test setup: a Prometheus that watches other namespaces).
    pub fn edit(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) {
        let resource = resources::of_kind(api_version, kind).expect("a served kind");
        let key = store::key(resource, namespace, name);
        let mut state = self.inner.lock();
        let mut object = state.store.get(&key).cloned().expect("the object exists");
        change(&mut object);
        state.store.put(key, object);
    }

    /// The stored object, as a `GET` would return it.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let resource = resources::of_kind(api_version, kind)?;
        self.inner
            .lock()
            .store
            .get(&store::key(resource, namespace, name))
            .cloned()
    }
}

/// Runs `onramp ARGS` in `dir` with a home folder of its own and no
/// `KUBECONFIG`, so that nothing of the machine's cluster setup leaks in;
/// fails when the stand-in's token shows in any output.
pub fn run(dir: &Path, args: &[&str]) -> super::Run {
    run_env(dir, args, &[])
}

/// [`run`] with more environment variables (`GRAFANA_TOKEN`).
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> super::Run {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("a home folder");
    let home = home.to_string_lossy().into_owned();
    let mut vars = vec![
        ("HOME", home.as_str()),
        ("KUBECONFIG", ""),
        ("KUBERNETES_SERVICE_HOST", ""),
    ];
    vars.extend_from_slice(env);
    let run = super::onramp_dir_env(Some(dir), args, &vars);
    run.assert_hides(&[TOKEN]);
    run
}

/// A TCP listener that hands out TLS streams; failed handshakes (a client
/// that refused the certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(tls)) =
                tokio::time::timeout(std::time::Duration::from_secs(5), handshake).await
            {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Moves every RFC 3339 time in `value` by `shift`.
pub fn shift_times(value: &mut Value, shift: k8s_openapi::jiff::SignedDuration) {
    match value {
        Value::String(s) => {
            if let Ok(t) = s.parse::<k8s_openapi::jiff::Timestamp>()
                && s.len() >= 20
                && let Ok(moved) = t.checked_add(shift)
            {
                *s = moved.round(k8s_openapi::jiff::Unit::Second).map_or_else(
                    |_| s.clone(),
                    |m| m.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                );
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_times(v, shift)),
        Value::Object(map) => map.values_mut().for_each(|v| shift_times(v, shift)),
        _ => {}
    }
}

/// Loads a `kubectl get -o yaml` `List` into the store, its times moved by
/// `shift` when given.
fn load_list(
    store: &mut store::Store,
    path: &Path,
    shift: Option<k8s_openapi::jiff::SignedDuration>,
) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read the scenario fixture {}: {e}", path.display()));
    let list: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} is YAML: {e}", path.display()));
    for item in list["items"].as_array().cloned().unwrap_or_default() {
        put_item(store, item, shift, &path.display().to_string());
    }
}

/// Stores one object as a fixture holds it, stamped as on create.
fn put_item(
    store: &mut store::Store,
    mut item: Value,
    shift: Option<k8s_openapi::jiff::SignedDuration>,
    origin: &str,
) {
    let api_version = item["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = item["kind"].as_str().unwrap_or_default().to_string();
    let resource = resources::of_kind(&api_version, &kind)
        .unwrap_or_else(|| panic!("{origin}: the stand-in does not serve {api_version} {kind}"));
    let namespace = item["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = item["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    store.stamp_new(&mut item);
    if let Some(shift) = shift {
        shift_times(&mut item, shift);
    }
    store.put(store::key(resource, &namespace, &name), item);
}

/// Loads `logs/NS/POD/CONTAINER[.previous].log`.
fn load_logs(logs: &mut HashMap<(String, String, String, bool), String>, root: &Path) {
    let Ok(namespaces) = std::fs::read_dir(root) else {
        return;
    };
    for ns in namespaces.flatten() {
        for pod in std::fs::read_dir(ns.path()).into_iter().flatten().flatten() {
            for file in std::fs::read_dir(pod.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let file_name = file.file_name().to_string_lossy().to_string();
                let Some(stem) = file_name.strip_suffix(".log") else {
                    continue;
                };
                let (container, previous) = match stem.strip_suffix(".previous") {
                    Some(c) => (c.to_string(), true),
                    None => (stem.to_string(), false),
                };
                let text = std::fs::read_to_string(file.path()).expect("read a log fixture");
                let key = (
                    ns.file_name().to_string_lossy().to_string(),
                    pod.file_name().to_string_lossy().to_string(),
                    container,
                    previous,
                );
                logs.insert(key, text);
            }
        }
    }
}
