//! Runs the demo's steps: progress step by step, a step already done is
//! skipped, the first failure stops with the command that failed and what to
//! do next. The commands' own output goes straight to the terminal.

use std::process::{Command, Stdio};

use super::{Cmd, Done, Step};
use crate::error::{Error, Result};

/// Runs `steps` in order, telling `say` the progress. `again` is the demo
/// command to run after fixing a failure (`onramp demo up`).
pub fn steps(steps: &[Step], again: &str, say: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        if is_done(&step.done) {
            say(&format!(
                "[{n}/{total}] {} — already done, skipped\n",
                step.title
            ))?;
            continue;
        }
        say(&format!("[{n}/{total}] {}\n", step.title))?;
        for cmd in &step.commands {
            say(&format!("  $ {}\n", cmd.display()))?;
            run(cmd).map_err(|how| Error::DemoStep {
                step: step.title.clone(),
                command: cmd.display(),
                how,
                next: format!(
                    "fix the cause and run `{again}` again: the steps before this one are skipped or re-applied unchanged"
                ),
            })?;
        }
    }
    Ok(())
}

/// Prints the steps' commands without running anything (`--dry-run`).
pub fn describe(steps: &[Step]) -> String {
    let total = steps.len();
    let mut text = String::new();
    for (i, step) in steps.iter().enumerate() {
        text.push_str(&format!("[{}/{total}] {}\n", i + 1, step.title));
        if let Done::WhenLine(probe, line) = &step.done {
            text.push_str(&format!(
                "  (skipped when `{}` prints {line})\n",
                probe.display()
            ));
        }
        for cmd in &step.commands {
            text.push_str(&format!("  $ {}\n", cmd.display()));
        }
    }
    text
}

fn is_done(done: &Done) -> bool {
    match done {
        Done::Never => false,
        Done::WhenLine(probe, line) => {
            command(probe)
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|out| {
                    out.status.success()
                        && String::from_utf8_lossy(&out.stdout)
                            .lines()
                            .any(|l| l.trim() == line)
                })
        }
    }
}

fn command(cmd: &Cmd) -> Command {
    let mut command = Command::new(&cmd.program);
    command
        .args(&cmd.args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    command
}

/// Runs one command; `Err` says how it failed.
fn run(cmd: &Cmd) -> std::result::Result<(), String> {
    let status = command(cmd)
        .status()
        .map_err(|e| format!("could not start: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(format!("exited with status {code}")),
        None => Err("was killed by a signal".to_string()),
    }
}
