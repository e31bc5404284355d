//! `onramp verify APP`: the smoke test, against a live Prometheus.

use crate::check::verify;
use crate::cli::VerifyArgs;
use crate::cli::config::Config;
use crate::client::secret::redact;
use crate::commands::{Outcome, Prepared};
use crate::error::{Error, Result};
use crate::sink::write_atomic;

/// Runs the checks and reports them.
pub async fn run(args: &VerifyArgs, config: &Config) -> Result<Outcome> {
    if args.selection.prometheus.prometheus_url.is_none() && config.file.prometheus.url.is_none() {
        return Err(Error::Usage(
            "no Prometheus to verify against: pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)".to_string(),
        ));
    }
    let prepared = Prepared::new(&args.selection, config).await?;
    let (Some(client), plan) = (&prepared.prometheus, &prepared.plan) else {
        return Err(Error::Usage("no Prometheus to verify against".to_string()));
    };
    let options = verify::Options {
        concurrency: args.concurrency.max(1),
        wait: args.wait,
        ..verify::Options::default()
    };
    let report = verify::run(client, plan, &options).await?;
    if let Some(path) = &args.junit {
        write_atomic(path, &redact(&verify::junit(&report)))?;
    }
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Render {
            artifact: "verify report".to_string(),
            message: e.to_string(),
        })?;
        println!("{}", redact(&json));
    } else {
        print!("{}", redact(&verify::table(&report)));
    }
    Ok(if report.passed {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}
