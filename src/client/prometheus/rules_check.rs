//! Offline checks of rule files with `promtool`, the checker that ships with
//! Prometheus: `promtool check rules` for syntax and PromQL, `promtool test
//! rules` for rule unit tests. It owns running the tool and turning its output
//! into [`RuleCheckError`]; it does not write or choose the files.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The program run when no other is given.
pub const PROMTOOL: &str = "promtool";

/// How to install `promtool` on Debian and Ubuntu.
pub const INSTALL_COMMAND: &str = "apt-get update && apt-get install -y prometheus";

/// Why a rule file did not pass `promtool`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleCheckError {
    /// `promtool` could not be found.
    #[error(
        "`{program}` is not installed or not on PATH; install it with `{INSTALL_COMMAND}` \
         (Debian/Ubuntu) or from https://prometheus.io/download/"
    )]
    NotInstalled {
        /// The program that was looked for.
        program: String,
    },
    /// `promtool` exists but could not be run.
    #[error("could not run `{program}` on {}: {reason}", path.display())]
    Run {
        /// The program that was run.
        program: String,
        /// The file it was run on.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// `promtool` ran and rejected the file.
    #[error("promtool rejected {}:\n{message}", path.display())]
    Rejected {
        /// The file that was checked.
        path: PathBuf,
        /// promtool's own explanation (file, line, what is wrong).
        message: String,
    },
}

/// A `promtool` binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promtool {
    program: PathBuf,
}

impl Default for Promtool {
    fn default() -> Self {
        Promtool::new(PROMTOOL)
    }
}

impl Promtool {
    /// Uses `program` (a path, or a name looked up on PATH).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Promtool {
            program: program.into(),
        }
    }

    /// `promtool check rules PATH`: the file parses and every expression is
    /// valid PromQL.
    pub fn check_rules(&self, path: &Path) -> Result<(), RuleCheckError> {
        self.run(&["check", "rules"], path)
    }

    /// `promtool test rules PATH`: the rule unit tests in the file pass.
    pub fn test_rules(&self, path: &Path) -> Result<(), RuleCheckError> {
        self.run(&["test", "rules"], path)
    }

    fn run(&self, args: &[&str], path: &Path) -> Result<(), RuleCheckError> {
        let program = self.program.display().to_string();
        let output = Command::new(&self.program)
            .args(args)
            .arg(path)
            .output()
            .map_err(|err| match err.kind() {
                io::ErrorKind::NotFound => RuleCheckError::NotInstalled {
                    program: program.clone(),
                },
                _ => RuleCheckError::Run {
                    program: program.clone(),
                    path: path.to_path_buf(),
                    reason: err.to_string(),
                },
            })?;
        if output.status.success() {
            return Ok(());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut message = failure_message(&format!("{stdout}\n{stderr}"));
        if message.is_empty() {
            message = format!("promtool exited with {}", output.status);
        }
        Err(RuleCheckError::Rejected {
            path: path.to_path_buf(),
            message,
        })
    }
}

/// `promtool check rules PATH` with the `promtool` on PATH.
pub fn promtool_check_rules(path: &Path) -> Result<(), RuleCheckError> {
    Promtool::default().check_rules(path)
}

/// `promtool test rules PATH` with the `promtool` on PATH.
pub fn promtool_test_rules(path: &Path) -> Result<(), RuleCheckError> {
    Promtool::default().test_rules(path)
}

/// promtool's output without its progress lines (`Checking FILE`,
/// `Unit Testing: FILE`, `FAILED:`) and blank lines; the indentation of the
/// rest is kept because test failures use it to show expected and got.
fn failure_message(output: &str) -> String {
    output
        .lines()
        .filter(|line| {
            let line = line.trim();
            !(line.is_empty()
                || line.starts_with("Checking ")
                || line.starts_with("Unit Testing:")
                || line == "FAILED:")
        })
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_are_dropped_from_the_message() {
        let output = "Checking /tmp/bad.yaml\n\n  FAILED:\n/tmp/bad.yaml: 5:11: group \"g\", rule 1, \
                      \"Bad\": could not parse expression: 1:16: parse error: unclosed left parenthesis\n";
        assert_eq!(
            failure_message(output),
            "/tmp/bad.yaml: 5:11: group \"g\", rule 1, \"Bad\": could not parse expression: \
             1:16: parse error: unclosed left parenthesis"
        );
    }

    #[test]
    fn missing_promtool_names_the_install_command() {
        let err = Promtool::new("/nonexistent/promtool")
            .check_rules(Path::new("rules.yaml"))
            .expect_err("not installed");
        assert!(
            matches!(err, RuleCheckError::NotInstalled { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("apt-get install -y prometheus"),
            "{err}"
        );
    }
}
