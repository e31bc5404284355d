//! Regressions of the command lines the kind demo and the end-to-end suite
//! run: they only run where Docker and kind do, so what they would hit
//! first — a line onramp's parser refuses — is checked here.

use clap::Parser;

#[path = "../../e2e/lines.rs"]
mod e2e_lines;

/// The onramp lines a demo command runs (its steps whose program is onramp).
fn demo_lines(steps: &[onramp::demo::Step], onramp: &str) -> Vec<Vec<String>> {
    steps
        .iter()
        .flat_map(|step| &step.commands)
        .filter(|cmd| cmd.program == onramp)
        .map(|cmd| cmd.args.clone())
        .collect()
}

/// The e2e suite and `onramp demo` were written before the commands they
/// run existed, and a line that does not parse fails only on a kind
/// runner: every onramp line of `demo up/break/fix/status/down`, of what
/// `demo up` tells the user to run next, and of the e2e suite must parse.
#[test]
fn an_onramp_line_of_the_demo_or_the_e2e_suite_did_not_parse() {
    let demo = onramp::demo::Demo {
        source: ".".into(),
        onramp: "onramp".into(),
    };
    let mut lines = demo_lines(&demo.up(), "onramp");
    assert!(
        lines
            .iter()
            .any(|l| l.first().map(String::as_str) == Some("onboard")),
        "demo up onboards with onramp: {lines:?}"
    );
    for scenario in <onramp::demo::Scenario as clap::ValueEnum>::value_variants() {
        lines.extend(demo_lines(
            &demo.break_(*scenario).expect("break steps"),
            "onramp",
        ));
    }
    lines.extend(demo_lines(&demo.fix().expect("fix steps"), "onramp"));
    lines.extend(demo_lines(&demo.status(), "onramp"));
    lines.extend(demo_lines(&demo.down(), "onramp"));
    let printed: Vec<Vec<String>> = onramp::demo::steps::next_steps()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("onramp "))
        .map(|l| {
            let command = l.split('#').next().unwrap_or_default();
            command.split_whitespace().map(str::to_string).collect()
        })
        .collect();
    assert!(printed.len() >= 4, "{printed:?}");
    lines.extend(printed);
    lines.extend(e2e_lines::all("/tmp/onramp-e2e-out"));

    let refused: Vec<String> = lines
        .iter()
        .filter_map(|args| {
            let argv = std::iter::once("onramp").chain(args.iter().map(String::as_str));
            onramp::cli::Cli::try_parse_from(argv)
                .err()
                .map(|e| format!("onramp {}\n{e}", args.join(" ")))
        })
        .collect();
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}
