//! `onramp completions SHELL`: scripts a shell can load, made without reading
//! the config file.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{onramp, onramp_env};

#[test]
fn bash_completions_load_in_bash_and_offer_the_subcommands() {
    let run = onramp(&["completions", "bash"]);
    run.expect_status(0);
    for word in ["codify", "verify", "completions", "--metrics-port"] {
        assert!(run.stdout.contains(word), "{word} missing:\n{}", run.stdout);
    }
    // Load the script and ask it what follows `onramp co`, as bash would on TAB.
    let mut bash = Command::new("bash")
        .arg("-c")
        .arg(
            "source /dev/stdin; COMP_WORDS=(onramp co); COMP_CWORD=1; COMP_LINE='onramp co'; \
             COMP_POINT=${#COMP_LINE}; _onramp onramp co onramp; printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("bash runs");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(run.stdout.as_bytes())
        .expect("script written");
    let out = bash.wait_with_output().expect("bash ends");
    let offered = String::from_utf8_lossy(&out.stdout);
    let mut words: Vec<&str> = offered.lines().collect();
    words.sort_unstable();
    assert_eq!(words, ["codify", "completions"], "{offered}");
}

#[test]
fn completions_work_even_when_the_config_file_is_broken() {
    let run = onramp_env(
        &["completions", "zsh"],
        &[("ONRAMP_CONFIG", "/nonexistent/onramp.yaml")],
    );
    run.expect_status(0);
    assert!(run.stdout.starts_with("#compdef onramp"), "{}", run.stdout);
}

#[test]
fn an_unknown_shell_is_bad_input_that_lists_the_shells() {
    let run = onramp(&["completions", "tcsh"]);
    run.expect_status(2);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(run.stderr.contains(shell), "{shell}:\n{}", run.stderr);
    }
}
