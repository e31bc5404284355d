//! Where a cluster test runs: the strict stand-in (`support::kube`), the
//! real kube-apiserver (`support::apiserver`), or the real cluster of
//! `ONRAMP_TEST_KUBECONFIG` (a kind cluster from `make demo`). One switch
//! for every cluster-facing test.
//!
//! A test that must hold against both servers is a `fn(&Cluster)` listed
//! with [`on_both`]: it runs as `NAME::standin` when the CRD schemas are
//! here (the `shared_crds` cfg of `build.rs`) and as `NAME::apiserver` when
//! the `apiserver` cfg is on too, each listed as ignored otherwise. A test that needs what only the stand-in can do
//! (pod logs, the service proxy, injected faults, its request log) is a
//! plain test named `…_standin_only`.

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

use super::apiserver::{self, ApiServer};
use super::kube::{Rule, Scenario, Standin};

/// Which server a test asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The stand-in, or the cluster of `ONRAMP_TEST_KUBECONFIG` when set.
    StandIn,
    /// The real kube-apiserver started by the harness.
    ApiServer,
}

/// A running cluster holding a scenario.
pub enum Cluster {
    /// The strict stand-in.
    StandIn(Standin),
    /// A real kube-apiserver over etcd, the scenario loaded through its API.
    ApiServer(ApiServer),
    /// The real cluster of `ONRAMP_TEST_KUBECONFIG`.
    Real(PathBuf),
}

impl Cluster {
    /// The cluster of `ONRAMP_TEST_KUBECONFIG`, else a stand-in of `scenario`.
    pub fn new(scenario: Scenario) -> Cluster {
        Cluster::start(scenario, Target::StandIn)
    }

    /// A cluster of `target` holding `scenario`.
    pub fn start(scenario: Scenario, target: Target) -> Cluster {
        match target {
            Target::ApiServer => {
                let server = ApiServer::start();
                apiserver::load::load(&server, scenario);
                Cluster::ApiServer(server)
            }
            Target::StandIn => match std::env::var("ONRAMP_TEST_KUBECONFIG") {
                Ok(path) if !path.trim().is_empty() => Cluster::Real(PathBuf::from(path)),
                _ => Cluster::StandIn(Standin::start(scenario)),
            },
        }
    }

    /// The stand-in, for what only it can tell (its request log).
    pub fn standin(&self) -> Option<&Standin> {
        match self {
            Cluster::StandIn(s) => Some(s),
            _ => None,
        }
    }

    /// A kubeconfig with full access.
    pub fn kubeconfig(&self) -> PathBuf {
        match self {
            Cluster::StandIn(s) => s.kubeconfig(),
            Cluster::ApiServer(s) => s.kubeconfig(apiserver::ADMIN_CONTEXT),
            Cluster::Real(path) => path.clone(),
        }
    }

    /// The server URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        match self {
            Cluster::StandIn(s) => s.url(),
            Cluster::ApiServer(s) => s.url(),
            Cluster::Real(_) => panic!("the URL of ONRAMP_TEST_KUBECONFIG is not known"),
        }
    }

    /// The name of [`Cluster::kubeconfig`]'s current context, as onramp
    /// prints it.
    pub fn context(&self) -> &'static str {
        match self {
            Cluster::StandIn(_) => "standin",
            Cluster::ApiServer(_) => apiserver::ADMIN_CONTEXT,
            Cluster::Real(_) => panic!("the context of ONRAMP_TEST_KUBECONFIG is not known"),
        }
    }

    /// A `kube` client with full access.
    pub async fn client(&self) -> Client {
        client_for(&self.kubeconfig()).await
    }

    /// The stored object, as a `GET` returns it.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        match self {
            Cluster::StandIn(s) => s.object(api_version, kind, namespace, name),
            Cluster::ApiServer(s) => {
                let path = apiserver::load::object_path(&json!({
                    "apiVersion": api_version,
                    "kind": kind,
                    "metadata": {"namespace": namespace, "name": name},
                }));
                match s.get(&path) {
                    (200, object) => Some(object),
                    (404, _) => None,
                    (code, body) => panic!("GET {path}: {code} {body}"),
                }
            }
            Cluster::Real(_) => {
                panic!("reading objects of ONRAMP_TEST_KUBECONFIG is not supported")
            }
        }
    }

    /// Changes a stored object, as an administrator's edit would (test
    /// setup: a Prometheus that watches other namespaces).
    pub fn edit(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) {
        match self {
            Cluster::StandIn(s) => s.edit(api_version, kind, namespace, name, change),
            Cluster::ApiServer(s) => {
                let mut object = self
                    .object(api_version, kind, namespace, name)
                    .expect("the object exists");
                change(&mut object);
                let path = apiserver::load::object_path(&object);
                let (code, body) = s.request("PUT", &path, "application/json", Some(&object));
                assert_eq!(code, 200, "update {path}: {body}");
            }
            Cluster::Real(_) => {
                panic!("editing objects of ONRAMP_TEST_KUBECONFIG is not supported")
            }
        }
    }

    /// Creates objects as someone else would have (another tool's object
    /// beside onramp's).
    pub fn insert(&self, items: Vec<Value>) {
        match self {
            Cluster::StandIn(s) => s.insert(items),
            Cluster::ApiServer(s) => {
                for item in items {
                    let path = apiserver::load::object_path(&item);
                    let (collection, _) = path.rsplit_once('/').expect("a path");
                    let (code, body) = s.post(collection, &item);
                    assert_eq!(code, 201, "create {path}: {body}");
                }
            }
            Cluster::Real(_) => {
                panic!("creating objects in ONRAMP_TEST_KUBECONFIG is not supported")
            }
        }
    }

    /// Grants exactly `roles` (ClusterRoles and Roles as `onramp rbac`
    /// prints them) to an identity that has nothing else, and returns a
    /// kubeconfig of that identity. On the stand-in the token's user gets
    /// the rules; on the real server the roles are created through the
    /// admin and bound to the unprivileged user.
    pub fn grant(&self, roles: &[Value]) -> PathBuf {
        match self {
            Cluster::StandIn(s) => {
                s.set_rbac(rules_of(roles));
                s.kubeconfig()
            }
            Cluster::ApiServer(s) => {
                for role in roles {
                    bind(s, role);
                }
                s.kubeconfig(apiserver::USER_CONTEXT)
            }
            Cluster::Real(_) => panic!("granting roles in ONRAMP_TEST_KUBECONFIG is not supported"),
        }
    }
}

impl Cluster {
    /// Runs `onramp ARGS` in `dir` as [`super::kube::run`] does (its own
    /// home, no `KUBECONFIG`); fails when any token of the cluster shows
    /// in the output.
    pub fn run(&self, dir: &std::path::Path, args: &[&str]) -> super::Run {
        self.run_checked(super::kube::run(dir, args))
    }

    /// `run`, failed when any token of the cluster shows in its output.
    pub fn run_checked(&self, run: super::Run) -> super::Run {
        run.assert_hides(&[apiserver::ADMIN_TOKEN, apiserver::USER_TOKEN]);
        run
    }
}

/// Creates `role` and binds it to the unprivileged user: a ClusterRole
/// with a ClusterRoleBinding, a Role with a RoleBinding in its namespace.
fn bind(server: &ApiServer, role: &Value) {
    let path = apiserver::load::object_path(role);
    let (collection, name) = path.rsplit_once('/').expect("a path");
    let (code, body) = server.post(collection, role);
    assert_eq!(code, 201, "create {path}: {body}");
    let kind = role["kind"].as_str().expect("a kind");
    let mut binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": format!("{kind}Binding"),
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": apiserver::USER}],
    });
    if let Some(namespace) = role["metadata"]["namespace"].as_str() {
        binding["metadata"]["namespace"] = json!(namespace);
    }
    let path = apiserver::load::object_path(&binding);
    let (collection, _) = path.rsplit_once('/').expect("a path");
    let (code, body) = server.post(collection, &binding);
    assert_eq!(code, 201, "create {path}: {body}");
}

/// Asserts that `run` exited 4 because the API server refused `what`
/// (`list pods in namespace shop`), pointing at `onramp rbac COMMAND`.
#[track_caller]
pub fn assert_refused(run: &super::Run, what: &str, command: &str) {
    run.expect_status(4);
    for needle in [
        format!("refused to let onramp {what}"),
        format!("onramp rbac {command}"),
    ] {
        assert!(
            run.stderr.contains(&needle),
            "{needle:?} in:\n{}",
            run.stderr
        );
    }
}

/// A YAML list of strings (an RBAC rule's verbs, groups, resources).
pub fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// The roles' rules as the stand-in's: a ClusterRole's everywhere, a
/// Role's in its namespace.
pub fn rules_of(roles: &[Value]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for role in roles {
        let namespace = role["metadata"]["namespace"].as_str();
        for rule in role["rules"].as_array().expect("rules") {
            let verbs = strings(&rule["verbs"]);
            let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
            let group = strings(&rule["apiGroups"]).remove(0);
            for resource in strings(&rule["resources"]) {
                rules.push(Rule::new(&verbs, &group, &resource, namespace));
            }
        }
    }
    rules
}

/// A client from a kubeconfig file, loaded as `kube` loads `KUBECONFIG`.
pub async fn client_for(path: &std::path::Path) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::read_from(path).expect("the kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube::Config loads the kubeconfig");
    Client::try_from(config).expect("a client")
}

/// Declares the test `$name` — a `fn(&Cluster)` beside it — against both
/// servers: `$name::standin` on the stand-in of `$scenario`, and
/// `$name::apiserver` on the real kube-apiserver holding the same
/// scenario. Each is listed as ignored, saying what it needs, when its tier
/// is off: the stand-in needs the CRD schemas (`shared_crds` cfg of
/// `build.rs`) unless `ONRAMP_TEST_KUBECONFIG` puts a real cluster in its
/// place (`real_cluster`), the real server the schemas and its binaries
/// (`apiserver`).
///
/// `on_both!(async NAME, SCENARIO)` does the same for an `async fn(&Cluster)`.
///
/// `on_both!(NAME)` alone declares a `fn(Target)` test that starts its
/// clusters itself (an RBAC test needs a fresh one per identity).
///
/// `on_both!(prometheus; …)`: the test also runs a real Prometheus 2.x
/// (`prometheus` cfg).
///
/// `on_both!(prometheus 2 and 3; NAME, SCENARIO)`: a `fn(&Cluster,
/// Version)` run as `NAME::standin` and `NAME::apiserver` with Prometheus
/// 2.x, and as `NAME::standin_prometheus_3` with Prometheus 3 (`prometheus3`
/// cfg) on the stand-in: the Prometheus release does not depend on which
/// API server answers, so the real one is not started twice.
// The benchmarks share the test support without declaring tests.
#[allow(unused_macros)]
macro_rules! on_both {
    (prometheus 2 and 3; $name:ident, $scenario:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::support::cluster::{Cluster, Target};
            use $crate::support::prometheus::Version;

            #[test]
            #[cfg_attr(
                not(all(any(shared_crds, real_cluster), prometheus)),
                ignore = "needs ../shared/reference/crds (or a real cluster in ONRAMP_TEST_KUBECONFIG) and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
            )]
            fn standin() {
                super::$name(&Cluster::start($scenario, Target::StandIn), Version::V2);
            }

            #[test]
            #[cfg_attr(
                not(all(apiserver, shared_crds, prometheus)),
                ignore = "needs kube-apiserver and etcd (make deps), ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_APISERVER, ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
            )]
            fn apiserver() {
                super::$name(&Cluster::start($scenario, Target::ApiServer), Version::V2);
            }

            #[test]
            #[cfg_attr(
                not(all(any(shared_crds, real_cluster), prometheus3)),
                ignore = "needs ../shared/reference/crds (or a real cluster in ONRAMP_TEST_KUBECONFIG) and Prometheus 3 (make deps; ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS3)"
            )]
            fn standin_prometheus_3() {
                super::$name(&Cluster::start($scenario, Target::StandIn), Version::V3);
            }
        }
    };
    (prometheus; $($test:tt)*) => {
        $crate::support::cluster::on_both! { @needs
            [all(any(shared_crds, real_cluster), prometheus)]
            "needs ../shared/reference/crds (or a real cluster in ONRAMP_TEST_KUBECONFIG) and prometheus 2.x (ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
            [all(apiserver, shared_crds, prometheus)]
            "needs kube-apiserver and etcd (make deps), ../shared/reference/crds and prometheus 2.x (ONRAMP_TEST_APISERVER, ONRAMP_TEST_SHARED, ONRAMP_TEST_PROMETHEUS)"
            $($test)*
        }
    };
    (@needs [$($standin:tt)*] $why_standin:literal [$($real:tt)*] $why_real:literal $name:ident) => {
        mod $name {
            use $crate::support::cluster::Target;

            #[test]
            #[cfg_attr(not($($standin)*), ignore = $why_standin)]
            fn standin() {
                super::$name(Target::StandIn);
            }

            #[test]
            #[cfg_attr(not($($real)*), ignore = $why_real)]
            fn apiserver() {
                super::$name(Target::ApiServer);
            }
        }
    };
    (@needs [$($standin:tt)*] $why_standin:literal [$($real:tt)*] $why_real:literal
        async $name:ident, $scenario:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::support::cluster::{Cluster, Target};

            #[tokio::test]
            #[cfg_attr(not($($standin)*), ignore = $why_standin)]
            async fn standin() {
                super::$name(&Cluster::start($scenario, Target::StandIn)).await;
            }

            #[tokio::test]
            #[cfg_attr(not($($real)*), ignore = $why_real)]
            async fn apiserver() {
                super::$name(&Cluster::start($scenario, Target::ApiServer)).await;
            }
        }
    };
    (@needs [$($standin:tt)*] $why_standin:literal [$($real:tt)*] $why_real:literal
        $name:ident, $scenario:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::support::cluster::{Cluster, Target};

            #[test]
            #[cfg_attr(not($($standin)*), ignore = $why_standin)]
            fn standin() {
                super::$name(&Cluster::start($scenario, Target::StandIn));
            }

            #[test]
            #[cfg_attr(not($($real)*), ignore = $why_real)]
            fn apiserver() {
                super::$name(&Cluster::start($scenario, Target::ApiServer));
            }
        }
    };
    ($($test:tt)*) => {
        $crate::support::cluster::on_both! { @needs
            [any(shared_crds, real_cluster)]
            "needs ../shared/reference/crds beside the checkout, or a real cluster in ONRAMP_TEST_KUBECONFIG (ONRAMP_TEST_SHARED)"
            [all(apiserver, shared_crds)]
            "needs kube-apiserver and etcd (make deps) and ../shared/reference/crds (ONRAMP_TEST_APISERVER, ONRAMP_TEST_SHARED)"
            $($test)*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both;
