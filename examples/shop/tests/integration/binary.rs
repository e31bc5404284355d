//! The `shop` binary: help, exit statuses, log lines, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn shop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shop"))
}

fn run(args: &[&str]) -> Output {
    shop().args(args).output().expect("run shop")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_every_flag() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen <ADDR>",
        "[default: 0.0.0.0:8080]",
        "--flags <FILE>",
        "--simulate-users <N>",
        "--seed <S>",
        "[default: 42]",
        "--session-interval-ms <MS>",
        "[default: 1000]",
        "fail-crash-at-start",
        "Exit status",
    ] {
        assert!(help.contains(flag), "--help lacks {flag:?}:\n{help}");
    }
}

#[test]
fn bad_command_line_exits_2() {
    let out = run(&["--listen", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'not-an-address' for '--listen <ADDR>'"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--simulate-users", "-1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_flags_file_exits_2() {
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--flags",
        "/nonexistent/flags.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("level=error msg=\"cannot read flags file /nonexistent/flags.json: No such file or directory"),
        "{err}"
    );
    assert!(err.contains("exit_status=2"), "{err}");
}

#[test]
fn broken_flags_file_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flags.json");
    std::fs::write(
        &path,
        "{\n  \"flags\": {\n    \"a\": {\"state\": \"ENABLED\",}\n  }\n}\n",
    )
    .expect("write");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--flags",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("is not valid flagd JSON"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn crash_at_start_flag_exits_1_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flags.json");
    std::fs::write(
        &path,
        r#"{"flags": {"fail-crash-at-start": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"}}}"#,
    )
    .expect("write");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--flags",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("level=info msg=starting"), "{err}");
    assert!(
        err.contains("crashing at start on purpose: feature flag fail-crash-at-start is on (variant \\\"on\\\")"),
        "{err}"
    );
    assert!(err.contains("exit_status=1"), "{err}");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let flags = concat!(env!("CARGO_MANIFEST_DIR"), "/flags.json");
    let mut child = shop()
        .args([
            "--listen",
            "127.0.0.1:0",
            "--flags",
            flags,
            "--simulate-users",
            "3",
            "--session-interval-ms",
            "50",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shop");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let listening = lines
        .by_ref()
        .map(|l| l.expect("log line"))
        .find(|l| l.contains("msg=listening"))
        .expect("a listening line");
    assert!(listening.contains("addr=127.0.0.1:"), "{listening}");
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let rest: Vec<String> = lines.map(|l| l.expect("log line")).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("msg=\"shutting down\" signal=SIGTERM")),
        "{rest:?}"
    );
    assert!(rest.iter().any(|l| l.contains("msg=stopped")), "{rest:?}");
}
