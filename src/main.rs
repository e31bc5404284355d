//! The `onramp` binary: parse the command line, set up the request log, run,
//! map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = onramp::cli::Cli::parse();
    if cli.verbose {
        // Every line goes through the run's redaction before stderr.
        tracing_subscriber::fmt()
            .with_writer(onramp::client::secret::RedactedStderr)
            .with_target(false)
            .without_time()
            .with_ansi(false)
            .init();
    }
    match onramp::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        // The reader of stdout went away (`| head`): a normal end, as in ripgrep.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            // Through the redacting printer, as every other output; if
            // stderr itself is gone there is no one left to tell.
            let message = format!("error: {}\n", onramp::error::report(&err));
            let _ = onramp::commands::print_err(&message);
            err.exit_code()
        }
    }
}
