//! `onramp demo up | break | fix | status | down`: preflight, then the
//! demo's steps (built in `demo::steps`), with progress.

use crate::cli::{DemoArgs, DemoCommand};
use crate::commands::{Outcome, print};
use crate::demo::preflight;
use crate::demo::{Demo, Step, run, steps};
use crate::error::{Error, Result};

/// Runs one demo command.
pub fn run(args: &DemoArgs) -> Result<Outcome> {
    let onramp = std::env::current_exe()
        .map_err(|e| Error::Usage(format!("cannot find the running onramp binary: {e}")))?;
    let demo = Demo {
        source: args.source.clone(),
        onramp,
    };
    let (name, plan): (&str, Vec<Step>) = match args.command {
        DemoCommand::Up => ("up", demo.up()),
        DemoCommand::Break { scenario } => ("break", demo.break_(scenario)?),
        DemoCommand::Fix => ("fix", demo.fix()?),
        DemoCommand::Status => ("status", demo.status()),
        DemoCommand::Down => ("down", demo.down()),
    };
    if args.dry_run {
        print(&run::describe(&plan))?;
        return Ok(Outcome::Success);
    }
    let mut checks = preflight::check(&demo, &preflight::tools_for(&plan));
    let changes_the_cluster = matches!(args.command, DemoCommand::Break { .. } | DemoCommand::Fix);
    if changes_the_cluster && preflight::failures(&checks).is_empty() {
        checks.push(preflight::check_context());
    }
    print(&preflight::report(&checks))?;
    let failed = preflight::failures(&checks);
    if !failed.is_empty() {
        return Err(Error::Usage(format!(
            "`onramp demo {name}` cannot start: {} (see the preflight above); nothing was created or changed",
            failed.join(", ")
        )));
    }
    let again = match args.command {
        DemoCommand::Break { scenario } => format!("onramp demo break {}", scenario.name()),
        _ => format!("onramp demo {name}"),
    };
    run::steps(&plan, &again, &mut |line| print(line))?;
    if matches!(args.command, DemoCommand::Up | DemoCommand::Status) {
        print(&format!("\n{}", steps::next_steps()))?;
    }
    Ok(Outcome::Success)
}
