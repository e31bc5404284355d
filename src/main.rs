//! The `onramp` binary: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = onramp::cli::Cli::parse();
    match onramp::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {}", onramp::error::report(&err));
            err.exit_code()
        }
    }
}
