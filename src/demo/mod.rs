//! The kind demo (`onramp demo up | break | fix | status | down`): a local
//! kind cluster with kube-prometheus-stack and the demo shop, onboarded, ready
//! to break and troubleshoot.
//!
//! Every step is data: a title, the external commands it runs (kind, kubectl,
//! helm, docker, onramp itself) with their exact argv, and how to tell it is
//! already done. [`steps`] builds them, [`preflight`] checks the tools first,
//! [`run`] executes them. So a test can assert each step's argv without a
//! cluster, and `--dry-run` shows them to a person. This module does not know
//! onramp's other commands: it calls `onramp onboard` as a process, as a
//! person would.

pub mod preflight;
pub mod run;
pub mod steps;

use std::path::{Path, PathBuf};

use crate::util::shell::shell_word as quote;

/// The kind cluster's name (also in `kind-config.yaml`).
pub const CLUSTER: &str = "onramp";
/// The kubeconfig context kind creates for [`CLUSTER`]; every kubectl and
/// helm command names it, so the demo never touches another cluster.
pub const CONTEXT: &str = "kind-onramp";
/// The shop's namespace and Helm release.
pub const SHOP_NAMESPACE: &str = "shop";
/// The monitoring stack's namespace.
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// The shop's image, built locally and loaded into kind.
pub const SHOP_IMAGE: &str = "onramp-shop:dev";
/// Grafana on the host (kind-config.yaml maps the NodePort).
pub const GRAFANA_URL: &str = "http://localhost:3000";
/// Prometheus on the host (kind-config.yaml maps the NodePort).
pub const PROMETHEUS_URL: &str = "http://localhost:9090";
/// Grafana's admin user in the demo (deploy/demo/kube-prometheus-stack.yaml).
pub const GRAFANA_USER: &str = "admin";
/// Grafana's admin password, known on purpose: it is for this local demo only
/// (deploy/demo/kube-prometheus-stack.yaml) and printed by `demo up`.
pub const GRAFANA_DEMO_PASSWORD: &str = "onramp-demo";

/// The files of onramp's repository the demo uses, relative to its root.
pub const SOURCE_FILES: [&str; 5] = [
    "kind-config.yaml",
    "charts/shop/Chart.yaml",
    "charts/shop/values-demo.yaml",
    "deploy/demo/kube-prometheus-stack.yaml",
    "examples/shop/Dockerfile",
];

/// A way to break the shop, each one a cause `onramp troubleshoot` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// 30 % of checkouts fail: the `fail-error-rate` flag.
    Errors,
    /// Checkouts take 800 ms longer: the `fail-latency` flag.
    Latency,
    /// The shop exits at start, pods crash-loop: the `fail-crash-at-start` flag and a restart.
    Crashloop,
    /// The shop leaks memory until its 128Mi limit kills it: the `fail-memory-leak` flag.
    Oom,
    /// The API key points at a key its Secret does not have: pods cannot start.
    BadConfig,
    /// The image tag does not exist: the new pods cannot pull it.
    BadImage,
}

impl Scenario {
    /// The name typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Errors => "errors",
            Scenario::Latency => "latency",
            Scenario::Crashloop => "crashloop",
            Scenario::Oom => "oom",
            Scenario::BadConfig => "bad-config",
            Scenario::BadImage => "bad-image",
        }
    }

    /// The shop's feature flag this scenario turns on, if it is a flag.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Scenario::Errors => Some("fail-error-rate"),
            Scenario::Latency => Some("fail-latency"),
            Scenario::Crashloop => Some("fail-crash-at-start"),
            Scenario::Oom => Some("fail-memory-leak"),
            Scenario::BadConfig | Scenario::BadImage => None,
        }
    }
}

/// One external command: the program, its arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// The program, looked up on PATH (or a path, for onramp itself).
    pub program: String,
    /// The arguments, exactly as passed (no shell in between).
    pub args: Vec<String>,
    /// Variables added to the environment.
    pub env: Vec<(String, String)>,
}

impl Cmd {
    /// A command without extra environment.
    pub fn new(program: impl Into<String>, args: &[&str]) -> Cmd {
        Cmd {
            program: program.into(),
            args: args.iter().map(|a| (*a).to_string()).collect(),
            env: Vec::new(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args_from(mut self, args: &[&str]) -> Cmd {
        self.args.extend(args.iter().map(|a| (*a).to_string()));
        self
    }

    /// The argv: program first.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect()
    }

    /// The command as a person would type it in a POSIX shell (quoted where
    /// needed), so a printed step can be copied and run by hand.
    pub fn display(&self) -> String {
        let env = self.env.iter().map(|(k, v)| format!("{k}={}", quote(v)));
        let argv = self.argv().into_iter().map(quote);
        env.chain(argv).collect::<Vec<_>>().join(" ")
    }
}

/// How to tell that a step is already done, so `up` after a failure continues
/// where it stopped instead of failing on what exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// Always run the step (its commands are idempotent themselves).
    Never,
    /// Done when this command succeeds and prints this exact line.
    WhenLine(Cmd, String),
}

/// One step of a demo command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the step does, as progress shows it.
    pub title: String,
    /// When to skip it.
    pub done: Done,
    /// The commands, run in order; the first failure stops the step.
    pub commands: Vec<Cmd>,
}

/// Where the demo's files and the onramp binary are.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The root of onramp's repository (kind-config.yaml, charts/shop, …).
    pub source: PathBuf,
    /// The onramp binary that runs `onramp onboard` (the running one).
    pub onramp: PathBuf,
}

impl Demo {
    /// A path under the repository root, as an argument.
    fn file(&self, relative: &str) -> String {
        path_arg(&self.source.join(relative))
    }
}

/// A path as a command argument: `./x` shown as `x` so printed steps read cleanly.
fn path_arg(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_command_can_be_pasted_into_a_shell() {
        let mut cmd = Cmd::new("kubectl", &["patch", "-p", r#"{"a":"it's"}"#]);
        cmd.env.push(("GRAFANA_USER".into(), "admin".into()));
        assert_eq!(
            cmd.display(),
            r#"GRAFANA_USER=admin kubectl patch -p '{"a":"it'\''s"}'"#
        );
        assert_eq!(quote(""), "''");
    }
}
