//! Running onramp on a pseudo-terminal (`pty_run.py`, Python's `pty`):
//! keys sent, the screen read, as a person at a terminal would.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::repo_path;

/// One step of a terminal session.
pub enum Step<'a> {
    /// Wait until this text is on the screen (and drawing has stopped).
    Expect(&'a str),
    /// Type these keys ("\x1b[B" down, "\r" Enter, "\x1b" Esc, "\x03" Ctrl-C).
    Send(&'a str),
}

/// What a terminal session showed.
pub struct Session {
    /// What onramp wrote during each `Expect` step (no escape sequences).
    pub screens: Vec<String>,
    /// What it wrote after the last step.
    pub rest: String,
    /// Its exit status (128 + the signal when a signal ended it).
    pub status: i64,
}

impl Session {
    /// Everything written, in order.
    pub fn all(&self) -> String {
        format!("{}{}", self.screens.concat(), self.rest)
    }
}

/// Runs `onramp ARGS` in `dir` on a 200×40 pseudo-terminal, playing `steps`.
pub fn onramp_on_terminal(dir: &Path, args: &[&str], steps: &[Step]) -> Session {
    let steps: Vec<[&str; 2]> = steps
        .iter()
        .map(|s| match s {
            Step::Expect(text) => ["expect", text],
            Step::Send(keys) => ["send", keys],
        })
        .collect();
    let script = repo_path("tests/support/pty_run.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["200", "40"])
        .arg(serde_json::to_string(&steps).expect("steps as JSON"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_onramp"))
        .args(args)
        .current_dir(dir)
        .env_remove("ONRAMP_CONFIG")
        .env_remove("PROMETHEUS_URL")
        .env("TERM", "xterm")
        .output()
        .expect("python3 runs tests/support/pty_run.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "pty_run.py: {e}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let screens: Vec<String> = report["screens"]
        .as_array()
        .expect("screens")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        report["failed"].is_null(),
        "{}\nso far:\n{}",
        report["failed"],
        screens.concat()
    );
    Session {
        screens,
        rest: report["rest"].as_str().unwrap_or_default().to_string(),
        status: report["status"].as_i64().expect("status"),
    }
}
