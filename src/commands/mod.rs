//! The subcommands' entry points, thin: each parses its arguments, runs the
//! [`crate::pipeline`] (arguments and onramp.yaml to the App, its needs and
//! the plan), hands the result to a sink or a check, and prints what came of
//! it. Every output leaves through [`print()`] (or [`print_err()`]), which
//! redacts the run's secrets. No logic lives here that another command or
//! sink would need.

pub mod adoption;
pub mod apply;
pub mod codify;
pub mod completions;
pub mod demo;
pub mod detect;
pub mod needs;
pub mod needs_new;
pub mod onboard;
pub mod plan;
pub mod prompt;
pub mod rbac;
pub mod troubleshoot;
pub mod verify;

use crate::error::{Error, Result};

/// What a command leaves behind for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// A check failed (verify, troubleshoot) or a write was refused.
    CheckFailed,
    /// The report was printed, but part of it could not be checked: exit
    /// with this status (3: a service could not be reached; 2: none was
    /// configured).
    Partial(u8),
    /// The input was read and is wrong (`needs check` found problems): exit 2.
    BadInput,
}

impl Outcome {
    /// The process exit status.
    pub fn exit_code(self) -> std::process::ExitCode {
        match self {
            Outcome::Success => std::process::ExitCode::SUCCESS,
            Outcome::CheckFailed => std::process::ExitCode::from(1),
            Outcome::Partial(status) => std::process::ExitCode::from(status),
            Outcome::BadInput => std::process::ExitCode::from(2),
        }
    }
}

/// Writes `text` to standard output. A reader that went away (`| head`,
/// `| true`) comes back as a write error on `<stdout>`, which `main` ends
/// quietly with status 0, as ripgrep does.
pub fn print(text: &str) -> Result<()> {
    // The one redaction step every output passes, whatever it quotes.
    let text = crate::client::secret::redact(text);
    write_to(std::io::stdout().lock(), "<stdout>", &text)
}

/// Writes `text` to standard error, redacted as [`print()`] redacts: what a
/// command says beside its output (`detect --write --output json` keeps
/// stdout pure JSON).
pub fn print_err(text: &str) -> Result<()> {
    write_to(crate::client::secret::RedactedStderr, "<stderr>", text)
}

/// Writes and flushes `text`; a failure names the stream.
fn write_to(mut out: impl std::io::Write, stream: &str, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Write {
            path: stream.into(),
            source,
        })
}

/// Prints `value` as pretty JSON; a value that cannot be serialised is an
/// error naming `what`, never an empty output.
pub fn print_json(what: &str, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::Render {
        artifact: what.to_string(),
        message: format!("cannot serialise it as JSON: {e}"),
    })?;
    print(&format!("{json}\n"))
}
