//! The crate's error type and its mapping to exit statuses.
//!
//! Each variant is one failure area and carries the file, URL or name involved,
//! so that the message alone tells the user what was expected, what was found
//! and what to do. Exit statuses follow the convention of CONVENTIONS.md, with
//! two more classes (README, "Exit statuses"): 1 a check failed or a write was
//! refused or failed, 2 bad input or usage, 3 a required service could not be
//! reached (or failed to answer), 4 a service answered and rejected onramp's
//! credentials, 5 an internal error (a bug in onramp).

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

/// A `Result` whose error defaults to onramp's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a file something was found: a path (or `<stdin>`) and, when known,
/// a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as the user named it, or `<stdin>` or `<built-in>/NAME`.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    /// A location at a line (and optionally column) of a file.
    pub fn at(file: impl Into<String>, line: usize, column: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong in onramp.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The path as the user gave it.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A Kubernetes manifest is malformed.
    #[error("{location}: {message}")]
    Manifest {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },

    /// The manifests do not contain the app the user named.
    #[error("{message}")]
    AppNotFound {
        /// What was looked for, where, and the workloads that do exist.
        message: String,
    },

    /// A need file (built-in or the user's) is malformed.
    #[error("{location}: {message}")]
    NeedFile {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what was expected.
        message: String,
    },

    /// The user asked for a need that is not in the catalog.
    #[error("unknown need {id:?}; the catalog has: {}", known.join(", "))]
    UnknownNeed {
        /// The id asked for.
        id: String,
        /// The ids that exist.
        known: Vec<String>,
    },

    /// A need cannot work for this app (for example, it has no metrics endpoint).
    #[error("need {need:?} cannot work for {app}: {reason}")]
    NeedUnsatisfiable {
        /// The need id.
        need: String,
        /// The app, as `kind/namespace/name`.
        app: String,
        /// Why, and what to add.
        reason: String,
    },

    /// A `--signal` mapping (or one in onramp.yaml) is invalid.
    #[error("{origin}: {message}")]
    SignalMapping {
        /// Where the mapping came from (`--signal` or the config file).
        origin: String,
        /// What is wrong, with the valid alternatives.
        message: String,
    },

    /// onramp.yaml is malformed.
    #[error("{location}: {message}")]
    Config {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
    },

    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),

    /// A step of `onramp demo` failed: a command it runs (kind, kubectl,
    /// helm, docker, onramp) could not start or exited non-zero.
    #[error("step {step:?} failed: `{command}` {how}; {next}")]
    DemoStep {
        /// The step's title.
        step: String,
        /// The command, as it can be typed.
        command: String,
        /// How it failed (`exited with status 1`, `could not start: …`).
        how: String,
        /// What to do next.
        next: String,
    },

    /// A rendered artifact failed its own validation (for example a PromQL
    /// expression that does not parse). Nothing is written when this happens.
    #[error("{artifact}: {message}")]
    Render {
        /// The artifact or need part involved.
        artifact: String,
        /// What failed.
        message: String,
    },

    /// A file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The path being written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// `promtool check rules` rejected the rules onramp was about to apply.
    #[error(
        "the rules for {app} do not pass `promtool check rules`, so nothing was changed:\n{message}"
    )]
    RulesRejected {
        /// The app.
        app: String,
        /// What promtool said.
        message: String,
    },

    /// A write or a reload failed, and putting the previous files back failed
    /// too: the folder is not as it was (a Prometheus may load the rejected
    /// files at its next reload).
    #[error(
        "{cause}\nand the previous files could not all be put back; fix or remove them by hand:\n  {}",
        failures.join("\n  ")
    )]
    RestoreFailed {
        /// Why the write or the reload failed.
        cause: String,
        /// Each file that could not be restored, and why.
        failures: Vec<String>,
    },

    /// A sink found files in the way that are not onramp's to replace: not
    /// written by onramp for this app, edited by hand since, or reached
    /// through a link.
    #[error(
        "refusing to overwrite {} file(s) for {app}:\n{}\nnothing was written",
        paths.len(),
        paths.iter().map(|p| format!("  {} ({})", p.0.display(), p.1)).collect::<Vec<_>>().join("\n")
    )]
    NotOurs {
        /// The app being codified.
        app: String,
        /// Each file in the way, with the reason it is not ours.
        paths: Vec<(PathBuf, String)>,
    },

    /// `detect --write` would change or drop lines a person wrote in
    /// onramp.yaml.
    #[error(
        "refusing to change {}: writing what the cluster says would change or drop lines in it:\n{diff}nothing was written; edit the file yourself, or pass --force to write it as shown (a line marked - that is not marked + elsewhere is lost)",
        path.display()
    )]
    ConfigEdited {
        /// onramp.yaml.
        path: PathBuf,
        /// A unified diff from the file to what onramp would write.
        diff: String,
    },

    /// Talking to Grafana failed.
    #[error(transparent)]
    Grafana(#[from] crate::client::grafana::Error),

    /// Talking to Prometheus failed.
    #[error(transparent)]
    Prometheus(#[from] crate::client::prometheus::Error),

    /// Talking to the Kubernetes API server failed.
    #[error(transparent)]
    Kube(#[from] crate::client::kube::Error),
}

/// Exit status: a check failed, or a write was refused or failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status: a required service could not be reached, or failed to answer.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Exit status: a service answered and rejected onramp's credentials (401/403).
pub const EXIT_CREDENTIALS: u8 = 4;
/// Exit status: an internal error — a bug in onramp, not the user's input.
pub const EXIT_INTERNAL: u8 = 5;

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_status())
    }

    /// True when the error is a write into a closed pipe (`onramp … | head`):
    /// the reader has what it wanted, so this is a normal end, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            source = err.source();
        }
        false
    }

    /// The numeric exit status, see the `EXIT_*` constants.
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::NotOurs { .. }
            | Error::ConfigEdited { .. }
            | Error::Write { .. }
            | Error::RestoreFailed { .. }
            | Error::DemoStep { .. } => EXIT_FAILED,
            Error::Render { .. } => EXIT_INTERNAL,
            Error::Grafana(err) => grafana_exit_status(err),
            Error::Prometheus(err) => prometheus_exit_status(err),
            Error::Kube(err) => kube_exit_status(err),
            _ => EXIT_BAD_INPUT,
        }
    }
}

/// The exit status of a Grafana error.
fn grafana_exit_status(err: &crate::client::grafana::Error) -> u8 {
    use crate::client::grafana::Error as G;
    match err {
        G::MissingUrl
        | G::InvalidUrl { .. }
        | G::InvalidOrgId { .. }
        | G::Credentials { .. }
        | G::HttpClient { .. }
        | G::DatasourceNotFound { .. }
        | G::DatasourceNotPrometheus { .. }
        | G::NoPrometheusDatasource { .. }
        | G::AmbiguousPrometheusDatasource { .. }
        | G::NotServed { .. } => EXIT_BAD_INPUT,
        G::Unauthorized { .. } | G::Forbidden { .. } => EXIT_CREDENTIALS,
        _ => EXIT_UNREACHABLE,
    }
}

/// The exit status of a Prometheus error.
fn prometheus_exit_status(err: &crate::client::prometheus::Error) -> u8 {
    use crate::client::prometheus::Error as P;
    match err {
        P::Config { .. } => EXIT_BAD_INPUT,
        P::ReloadFailed { .. } => EXIT_FAILED,
        P::CredentialsRejected { .. } | P::ProxyRefused { .. } => EXIT_CREDENTIALS,
        _ => EXIT_UNREACHABLE,
    }
}

/// The exit status of a Kubernetes error: a missing or unusable kubeconfig
/// is bad input; a 401 or 403 is the credentials class, as for Grafana.
fn kube_exit_status(err: &crate::client::kube::Error) -> u8 {
    use crate::client::kube::Error as K;
    match err {
        K::NoConfig { .. } | K::BadConfig { .. } => EXIT_BAD_INPUT,
        K::Unauthorized { .. } | K::Forbidden { .. } => EXIT_CREDENTIALS,
        // Refused on the way, not by the API server: it was not reached.
        K::Refused { .. } => EXIT_UNREACHABLE,
        // Another field manager owns the fields: a write refused.
        K::Conflict { .. } => EXIT_FAILED,
        // 422: the server refused an object onramp rendered.
        K::Status { code: 422, .. } => EXIT_INTERNAL,
        _ => EXIT_UNREACHABLE,
    }
}

/// Formats an error and its chain of causes once, each cause on its own
/// line, with every secret of the run redacted.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    crate::client::secret::redact(&out)
}
