//! The demo's steps as data: for each demo command, the exact commands it
//! runs. Building them runs nothing.

use super::{
    CLUSTER, CONTEXT, Cmd, Demo, Done, GRAFANA_DEMO_PASSWORD, GRAFANA_URL, GRAFANA_USER,
    MONITORING_NAMESPACE, PROMETHEUS_URL, SHOP_IMAGE, SHOP_NAMESPACE, Scenario, Step,
};
use crate::error::{Error, Result};

/// The shop's flag file as the chart ships it: every flag off.
const FLAGS: &str = include_str!("../../examples/shop/flags.json");
/// The kube-prometheus-stack chart version the demo is tested with.
pub const STACK_CHART_VERSION: &str = "79.7.1";
/// The Helm repository of kube-prometheus-stack.
const STACK_REPO: &str = "https://prometheus-community.github.io/helm-charts";
/// A tag of the shop's image that exists nowhere (`demo break bad-image`).
const MISSING_TAG: &str = "v0.0.0-does-not-exist";
/// A key the shop's API key Secret does not have (`demo break bad-config`).
const MISSING_KEY: &str = "api-token";
/// Where `demo up` has `onboard` write the codified artifacts.
pub const ONBOARD_OUT: &str = "out/demo/checkout";

fn step(title: &str, commands: Vec<Cmd>) -> Step {
    Step {
        title: title.to_string(),
        done: Done::Never,
        commands,
    }
}

fn kubectl(args: &[&str]) -> Cmd {
    Cmd::new("kubectl", &["--context", CONTEXT]).args_from(args)
}

fn kubectl_shop(args: &[&str]) -> Cmd {
    kubectl(&["--namespace", SHOP_NAMESPACE]).args_from(args)
}

impl Demo {
    /// `demo up`: cluster, stack, image, shop, readiness, onboarding.
    pub fn up(&self) -> Vec<Step> {
        vec![
            self.create_cluster(),
            self.install_stack(),
            self.build_image(),
            self.install_shop(),
            step(
                "Wait until the shop, Prometheus and Grafana are ready",
                vec![
                    kubectl_shop(&["rollout", "status", "deployment/checkout", "--timeout=5m"]),
                    kubectl(&["--namespace", MONITORING_NAMESPACE, "rollout", "status"])
                        .args_from(&["deployment/kube-prometheus-stack-grafana", "--timeout=5m"]),
                    // The operator creates Prometheus' StatefulSet after helm
                    // returns: wait on the Prometheus resource, which helm made.
                    kubectl(&["--namespace", MONITORING_NAMESPACE, "wait"])
                        .args_from(&["--for=condition=Available", "--timeout=5m"])
                        .arg("prometheus/kube-prometheus-stack-prometheus"),
                ],
            ),
            step("Onboard checkout with onramp", vec![self.onboard()]),
        ]
    }

    fn create_cluster(&self) -> Step {
        Step {
            title: format!("Create the kind cluster {CLUSTER}"),
            done: Done::WhenLine(Cmd::new("kind", &["get", "clusters"]), CLUSTER.to_string()),
            commands: vec![
                Cmd::new(
                    "kind",
                    &["create", "cluster", "--name", CLUSTER, "--config"],
                )
                .arg(self.file("kind-config.yaml"))
                .arg("--wait=2m"),
            ],
        }
    }

    fn install_stack(&self) -> Step {
        let repo = [
            "repo",
            "add",
            "prometheus-community",
            STACK_REPO,
            "--force-update",
        ];
        let install = Cmd::new("helm", &["upgrade", "--install", "kube-prometheus-stack"])
            .args_from(&["prometheus-community/kube-prometheus-stack"])
            .args_from(&["--version", STACK_CHART_VERSION, "--kube-context", CONTEXT])
            .args_from(&["--namespace", MONITORING_NAMESPACE, "--create-namespace"])
            .arg("--values")
            .arg(self.file("deploy/demo/kube-prometheus-stack.yaml"))
            .args_from(&["--wait", "--timeout=10m"]);
        step(
            "Install kube-prometheus-stack (Prometheus Operator, Prometheus, Grafana)",
            vec![Cmd::new("helm", &repo), install],
        )
    }

    fn build_image(&self) -> Step {
        step(
            "Build the shop's image and load it into kind",
            vec![
                Cmd::new("docker", &["build", "--file"])
                    .arg(self.file("examples/shop/Dockerfile"))
                    .args_from(&["--tag", SHOP_IMAGE])
                    .arg(super::path_arg(&self.source)),
                Cmd::new(
                    "kind",
                    &["load", "docker-image", SHOP_IMAGE, "--name", CLUSTER],
                ),
            ],
        )
    }

    fn install_shop(&self) -> Step {
        step(
            "Install the shop",
            vec![self.helm_shop(&["--create-namespace"])],
        )
    }

    /// `helm upgrade --install shop` with the demo values, then `extra`.
    fn helm_shop(&self, extra: &[&str]) -> Cmd {
        Cmd::new("helm", &["upgrade", "--install", "shop"])
            .arg(self.file("charts/shop"))
            .args_from(&["--kube-context", CONTEXT, "--namespace", SHOP_NAMESPACE])
            .arg("--values")
            .arg(self.file("charts/shop/values-demo.yaml"))
            .args_from(extra)
    }

    fn onboard(&self) -> Cmd {
        let mut cmd = Cmd::new(super::path_arg(&self.onramp), &["onboard", "checkout"])
            .args_from(&["--namespace", SHOP_NAMESPACE, "--context", CONTEXT])
            .args_from(&[
                "--grafana-url",
                GRAFANA_URL,
                "--prometheus-url",
                PROMETHEUS_URL,
            ])
            .args_from(&["--out", ONBOARD_OUT, "--wait", "5m"]);
        cmd.env = vec![
            ("GRAFANA_USER".into(), GRAFANA_USER.into()),
            ("GRAFANA_PASSWORD".into(), GRAFANA_DEMO_PASSWORD.into()),
        ];
        cmd
    }

    /// `demo break SCENARIO`.
    pub fn break_(&self, scenario: Scenario) -> Result<Vec<Step>> {
        let title = format!("Break the shop: {}", scenario.name());
        let commands = match scenario {
            Scenario::Errors | Scenario::Latency | Scenario::Oom => {
                vec![patch_flags(scenario.flag())?]
            }
            // The shop reads fail-crash-at-start when it starts: new pods crash.
            Scenario::Crashloop => vec![
                patch_flags(scenario.flag())?,
                kubectl_shop(&["rollout", "restart", "deployment/checkout"]),
            ],
            Scenario::BadConfig => vec![self.helm_break(&format!("apiKey.key={MISSING_KEY}"))],
            Scenario::BadImage => vec![self.helm_break(&format!(
                "image.tag={MISSING_TAG},image.pullPolicy=IfNotPresent"
            ))],
        };
        Ok(vec![step(&title, commands)])
    }

    fn helm_break(&self, set: &str) -> Cmd {
        Cmd::new("helm", &["upgrade", "shop"])
            .arg(self.file("charts/shop"))
            .args_from(&["--kube-context", CONTEXT, "--namespace", SHOP_NAMESPACE])
            .args_from(&["--reuse-values", "--set", set])
    }

    /// `demo fix`: every flag off, the chart's values back, fresh pods.
    pub fn fix(&self) -> Result<Vec<Step>> {
        Ok(vec![step(
            "Fix the shop: flags off, the chart's demo values, fresh pods",
            vec![
                patch_flags(None)?,
                self.helm_shop(&["--reset-values"]),
                // New pods mount the flags as they are now, and drop leaked memory.
                kubectl_shop(&["rollout", "restart", "deployment/checkout"]),
                kubectl_shop(&["rollout", "status", "deployment/checkout", "--timeout=5m"]),
            ],
        )])
    }

    /// `demo status`.
    pub fn status(&self) -> Vec<Step> {
        vec![
            step(
                "Clusters of kind",
                vec![Cmd::new("kind", &["get", "clusters"])],
            ),
            step(
                "The shop",
                vec![kubectl_shop(&["get", "deployments,pods", "--output=wide"])],
            ),
            step(
                "The monitoring stack",
                vec![kubectl(&[
                    "--namespace",
                    MONITORING_NAMESPACE,
                    "get",
                    "pods",
                ])],
            ),
        ]
    }

    /// `demo down`: deletes the demo's cluster, and nothing else.
    pub fn down(&self) -> Vec<Step> {
        vec![step(
            &format!("Delete the kind cluster {CLUSTER}"),
            vec![Cmd::new("kind", &["delete", "cluster", "--name", CLUSTER])],
        )]
    }
}

/// Sets the shop's flag ConfigMap to the shipped flags with `on` switched on
/// (none: all off), as one merge patch built from typed JSON.
fn patch_flags(on: Option<&str>) -> Result<Cmd> {
    let bad = |message: String| Error::Render {
        artifact: "the shop's flags (examples/shop/flags.json)".into(),
        message,
    };
    // All off is the shipped file byte for byte: the value the chart's
    // ConfigMap holds, so a later helm upgrade finds nothing to change.
    let file = match on {
        None => FLAGS.to_string(),
        Some(name) => {
            let mut flags: serde_json::Value =
                serde_json::from_str(FLAGS).map_err(|e| bad(format!("not JSON: {e}")))?;
            let flag = flags
                .pointer_mut(&format!("/flags/{name}"))
                .ok_or_else(|| bad(format!("no flag {name:?}")))?;
            flag["defaultVariant"] = serde_json::Value::from("on");
            let text = serde_json::to_string_pretty(&flags).map_err(|e| bad(e.to_string()))?;
            format!("{text}\n")
        }
    };
    let patch = serde_json::json!({ "data": { "flags.json": file } });
    Ok(kubectl_shop(&[
        "patch",
        "configmap",
        "shop-flags",
        "--type=merge",
        "--patch",
    ])
    .arg(patch.to_string()))
}

/// What `demo up` prints at the end: where to look and what to run next.
pub fn next_steps() -> String {
    format!(
        "The demo is up.\n\
         \x20 Grafana     {GRAFANA_URL}  (user {GRAFANA_USER}, password {GRAFANA_DEMO_PASSWORD}: for this demo only)\n\
         \x20 Prometheus  {PROMETHEUS_URL}\n\
         \x20 Artifacts   {ONBOARD_OUT}/ (runbook.md, dashboards, rules)\n\n\
         Next:\n\
         \x20 onramp demo break errors        # or latency, crashloop, oom, bad-config, bad-image\n\
         \x20 onramp troubleshoot checkout -n shop --context {CONTEXT} --prometheus-url {PROMETHEUS_URL}\n\
         \x20 onramp demo fix\n\
         \x20 onramp demo status\n\
         \x20 onramp demo down\n"
    )
}
