//! The ways the shop can fail to start or keep running, and their exit status.

use std::net::SocketAddr;

use crate::flags::FlagsError;

/// A failure that ends the process.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The flags file at start is missing or broken.
    #[error(transparent)]
    Flags(#[from] FlagsError),
    /// `fail-crash-at-start` is on: the shop stops on purpose.
    #[error(
        "crashing at start on purpose: feature flag fail-crash-at-start is on (variant \"{variant}\"); turn it off to start"
    )]
    CrashAtStart {
        /// The variant that asked for the crash.
        variant: String,
    },
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an error.
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    /// The async runtime could not be created.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// `Result` with the shop's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit status: 2 for bad input, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Flags(_) => 2,
            Error::CrashAtStart { .. }
            | Error::Listen { .. }
            | Error::Serve(_)
            | Error::Runtime(_) => 1,
        }
    }
}
