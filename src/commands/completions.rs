//! `onramp completions SHELL`: the shell completion script, generated from
//! the same clap definition that parses the command line.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::commands::Outcome;
use crate::error::{Error, Result};

/// Prints the completion script for the shell.
pub fn run(args: &CompletionsArgs) -> Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "onramp", &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(|source| Error::Write {
            path: "<stdout>".into(),
            source,
        })?;
    Ok(Outcome::Success)
}
