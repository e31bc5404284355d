//! The Alertmanager configuration the runbook prints, checked by the real
//! `amtool`: the inhibition rule of the objectives' burn-rate alerts is
//! pasted into a configuration as a platform engineer would, and Alertmanager
//! loads it. (What it matches is checked offline:
//! `tests/offline/error_budget.rs`.)

use std::process::Command;

use crate::support::{codify_demo_with_config, fenced, read};

#[test]
#[cfg_attr(
    not(alertmanager),
    ignore = "needs amtool: make deps, or apt-get install prometheus-alertmanager (ONRAMP_TEST_ALERTMANAGER)"
)]
fn alertmanager_loads_the_inhibition_rule_the_runbook_prints() {
    let dir = codify_demo_with_config("objectives:\n  availability: {}\n  latency: {}\n");
    let runbook = read(dir.path().join("out/runbook.md"));
    let snippets = fenced(&runbook, "yaml");
    assert_eq!(snippets.len(), 2, "one snippet per objective section");
    assert_eq!(snippets[0], snippets[1], "the same rule");
    let config = format!(
        "route:\n  receiver: on-call\nreceivers:\n  - name: on-call\n{}",
        snippets[0]
    );
    let path = dir.path().join("alertmanager.yml");
    std::fs::write(&path, config).expect("write alertmanager.yml");
    let amtool = option_env!("ONRAMP_TEST_AMTOOL_BIN").unwrap_or("amtool");
    let out = Command::new(amtool)
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{amtool} runs: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("SUCCESS") && text.contains("1 inhibit rules"),
        "{text}"
    );
}
