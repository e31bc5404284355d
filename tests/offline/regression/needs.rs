//! Regressions of reading need files: durations and dashboard variables
//! refused or accepted, with the need file and line.

use super::edited_need;
use crate::support::onramp;

#[test]
fn a_for_of_1s5m_was_not_refused_with_the_need_file_and_line() {
    let (dir, line) = edited_need("service-health", "for: 5m", "for: 1s5m");
    let needs_dir = dir.path().display().to_string();
    let run = onramp(&["needs", "--needs-dir", &needs_dir]);
    run.expect_status(2);
    let file = dir.path().join("service-health.yaml").display().to_string();
    assert!(
        run.stderr.contains(&format!("{file}:{line}")),
        "names file and line {line}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`for: 1s5m`") && run.stderr.contains("largest unit first"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_for_of_zero_or_of_compound_units_was_refused() {
    for good in ["for: 0", "for: 1h30m", "for: 90s"] {
        let (dir, _) = edited_need("service-health", "for: 5m", good);
        let needs_dir = dir.path().display().to_string();
        onramp(&["needs", "--needs-dir", &needs_dir]).expect_status(0);
    }
}

#[test]
fn a_dashboard_variable_matched_with_equals_was_accepted() {
    for op in ["=", "!="] {
        let (dir, _) = edited_need(
            "feature-flag-engagement",
            r#"{{clicks|flag=~"$flag"}}"#,
            &format!(r#"{{{{clicks|flag{op}"$flag"}}}}"#),
        );
        let needs_dir = dir.path().display().to_string();
        let run = onramp(&["needs", "--needs-dir", &needs_dir]);
        run.expect_status(2);
        for part in [
            "feature-flag-engagement.yaml:",
            "panel \"Clicks per session by variant\"",
            "$flag",
            "=~",
        ] {
            assert!(run.stderr.contains(part), "lacks {part:?}: {}", run.stderr);
        }
    }
}
