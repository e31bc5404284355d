//! Preflight: before a demo command creates anything, every tool it needs is
//! on PATH and answers with its version (Docker's daemon too), and the
//! repository's demo files are there. Every missing piece is named with how
//! to get it, all at once.

use std::path::Path;

use super::{Cmd, Demo, SOURCE_FILES};

/// A tool the demo runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Its program name.
    pub name: &'static str,
    /// The arguments that print its version (and, for Docker, reach the daemon).
    pub version_args: &'static [&'static str],
    /// How to install it.
    pub install: &'static str,
}

/// Docker: `docker version` asks the daemon too and fails without one.
pub const DOCKER: Tool = Tool {
    name: "docker",
    version_args: &[
        "version",
        "--format",
        "client {{.Client.Version}}, server {{.Server.Version}}",
    ],
    install: "install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/",
};
/// kind.
pub const KIND: Tool = Tool {
    name: "kind",
    version_args: &["version"],
    install: "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or `go install sigs.k8s.io/kind@v0.29.0`)",
};
/// kubectl.
pub const KUBECTL: Tool = Tool {
    name: "kubectl",
    version_args: &["version", "--client"],
    install: "install kubectl: https://kubernetes.io/docs/tasks/tools/",
};
/// Helm.
pub const HELM: Tool = Tool {
    name: "helm",
    version_args: &["version", "--short"],
    install: "install Helm: https://helm.sh/docs/intro/install/",
};

/// Every tool the preflight knows, in the order it checks them.
pub const TOOLS: [Tool; 4] = [DOCKER, KIND, KUBECTL, HELM];

/// The tools `steps` run (their commands and their done-probes): so the
/// preflight checks exactly what the steps need. kind runs its nodes in
/// Docker, so a step with kind needs Docker's daemon too.
pub fn tools_for(steps: &[super::Step]) -> Vec<Tool> {
    let mut programs: Vec<&str> = Vec::new();
    for step in steps {
        if let super::Done::WhenLine(probe, _) = &step.done {
            programs.push(&probe.program);
        }
        programs.extend(step.commands.iter().map(|c| c.program.as_str()));
    }
    if programs.contains(&KIND.name) {
        programs.push(DOCKER.name);
    }
    TOOLS
        .into_iter()
        .filter(|tool| programs.contains(&tool.name))
        .collect()
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The tool answered: its version line.
    Ok(String),
    /// A problem, with what to do about it.
    Missing(String),
}

/// One preflight line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The tool or file checked.
    pub what: String,
    /// What was found.
    pub found: Found,
}

/// Checks `tools` and the demo's files; runs only the version commands.
pub fn check(demo: &Demo, tools: &[Tool]) -> Vec<Check> {
    let mut checks: Vec<Check> = tools.iter().map(|tool| check_tool(*tool)).collect();
    let missing: Vec<&str> = SOURCE_FILES
        .iter()
        .copied()
        .filter(|file| !demo.source.join(file).is_file())
        .collect();
    if !missing.is_empty() {
        checks.push(Check {
            what: "demo files".into(),
            found: Found::Missing(format!(
                "{} not found in {}: run onramp from a checkout of its repository, or pass --source DIR",
                missing.join(", "),
                demo.source.display()
            )),
        });
    }
    checks
}

/// Whether kubectl knows the demo's context: `break` and `fix` change the
/// demo cluster, so it must be up (and never another cluster instead).
pub fn check_context() -> Check {
    let probe = Cmd::new(KUBECTL.name, &["config", "get-contexts", "--output=name"]);
    let known = std::process::Command::new(&probe.program)
        .args(&probe.args)
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|out| {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.trim() == super::CONTEXT)
        });
    let found = if known {
        Found::Ok(format!("context {}", super::CONTEXT))
    } else {
        Found::Missing(format!(
            "kubectl has no context {}: the demo cluster is not up; run `onramp demo up` first",
            super::CONTEXT
        ))
    };
    Check {
        what: "cluster".into(),
        found,
    }
}

fn check_tool(tool: Tool) -> Check {
    let found = match crate::util::shell::on_path(tool.name) {
        None => Found::Missing(format!("not found on PATH; {}", tool.install)),
        Some(path) => version(tool, &path),
    };
    Check {
        what: tool.name.to_string(),
        found,
    }
}

/// Runs the tool's version command and keeps its first line.
fn version(tool: Tool, path: &Path) -> Found {
    let cmd = Cmd::new(tool.name, tool.version_args);
    let output = std::process::Command::new(path)
        .args(tool.version_args)
        .stdin(std::process::Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return Found::Missing(format!("{} cannot be run: {e}", path.display())),
    };
    let first_line = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string()
    };
    if output.status.success() {
        return Found::Ok(first_line(&output.stdout));
    }
    let said = first_line(&output.stderr);
    if tool == DOCKER {
        // The client is there; without a daemon `docker version` fails, and
        // kind cannot create a node.
        return Found::Missing(format!(
            "the Docker daemon cannot be reached (`{}` failed: {said}); start Docker (Docker Desktop, or `sudo systemctl start docker`) and try again",
            cmd.display()
        ));
    }
    Found::Missing(format!("`{}` failed: {said}", cmd.display()))
}

/// The preflight as a person reads it: one line per check.
pub fn report(checks: &[Check]) -> String {
    let mut text = String::from("Preflight:\n");
    for check in checks {
        let (mark, detail) = match &check.found {
            Found::Ok(version) => ("ok     ", version.as_str()),
            Found::Missing(why) => ("MISSING", why.as_str()),
        };
        text.push_str(&format!("  {mark}  {:<10} {detail}\n", check.what));
    }
    text
}

/// The names of the failed checks, when there are any.
pub fn failures(checks: &[Check]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| matches!(c.found, Found::Missing(_)))
        .map(|c| c.what.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{Demo, Scenario};

    fn demo() -> Demo {
        Demo {
            source: ".".into(),
            onramp: "/usr/local/bin/onramp".into(),
        }
    }

    fn names(tools: &[Tool]) -> Vec<&str> {
        tools.iter().map(|t| t.name).collect()
    }

    #[test]
    fn preflight_checks_every_tool_the_steps_run() {
        let demo = demo();
        assert_eq!(
            names(&tools_for(&demo.up())),
            ["docker", "kind", "kubectl", "helm"]
        );
        assert_eq!(names(&tools_for(&demo.down())), ["docker", "kind"]);
        let errors = demo.break_(Scenario::Errors).expect("steps");
        assert_eq!(names(&tools_for(&errors)), ["kubectl"]);
        let image = demo.break_(Scenario::BadImage).expect("steps");
        assert_eq!(names(&tools_for(&image)), ["helm"]);
        assert_eq!(
            names(&tools_for(&demo.fix().expect("steps"))),
            ["kubectl", "helm"]
        );
        // Every program a step runs is checked, but onramp itself.
        for steps in [demo.up(), demo.status(), demo.fix().expect("steps")] {
            let tools = tools_for(&steps);
            let checked = names(&tools);
            for cmd in steps.iter().flat_map(|s| &s.commands) {
                assert!(
                    checked.contains(&cmd.program.as_str()) || cmd.program.ends_with("onramp"),
                    "{} is not checked",
                    cmd.program
                );
            }
        }
    }
}
