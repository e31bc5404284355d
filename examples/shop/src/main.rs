//! `shop`: parse the command line, run the shop, map failure to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let config = shop::Config::from(shop::Cli::parse());
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(shop::Error::Runtime)
        .and_then(|runtime| runtime.block_on(shop::run(config)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.exit_code();
            shop::log::error(&shop::log::chain(&err), &[("exit_status", &code)]);
            ExitCode::from(code)
        }
    }
}
