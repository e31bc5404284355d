//! `onramp verify APP`: the smoke test, against a live Prometheus.

use crate::cli::{AppSettings, VerifyArgs};
use crate::commands::{Outcome, load};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::{codify, plan, verify};

/// Runs the checks and reports them.
pub async fn run(args: &VerifyArgs, config: &Config) -> Result<Outcome> {
    let settings = AppSettings::new(&args.selection, config)?;
    let Some(client) = args.prometheus.client(config)? else {
        return Err(Error::Usage(
            "no Prometheus to verify against: pass --prometheus-url URL (or set PROMETHEUS_URL, or prometheus.url in onramp.yaml)".to_string(),
        ));
    };
    let loaded = load(&settings)?;
    let plan = plan::build(&loaded.app, &loaded.needs(), &settings.plan)?;
    let options = verify::Options {
        concurrency: args.concurrency.max(1),
        wait: args.wait,
        ..verify::Options::default()
    };
    let report = verify::run(&client, &plan, &options).await?;
    if let Some(path) = &args.junit {
        codify::write_atomic(path, &verify::junit(&report))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Render {
                artifact: "verify report".to_string(),
                message: e.to_string(),
            })?
        );
    } else {
        print!("{}", verify::table(&report));
    }
    Ok(if report.passed {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}
