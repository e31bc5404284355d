//! Looking for secrets where they must not be: the base64 spellings of
//! basic auth, every file below a folder, and one assertion over a run's
//! output and files.

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::Run;
use super::grafana::{ADMIN_PASSWORD, ADMIN_USER};

/// Every spelling of `Authorization: Basic` for `user:password`.
pub fn basic_spellings(user: &str, password: &str) -> Vec<String> {
    let pair = format!("{user}:{password}");
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .map(|e| e.encode(&pair))
        .collect()
}

/// The stand-in admin's password and every base64 spelling of its basic auth.
pub fn admin_secrets() -> Vec<String> {
    [
        vec![ADMIN_PASSWORD.to_string()],
        basic_spellings(ADMIN_USER, ADMIN_PASSWORD),
    ]
    .concat()
}

/// Every file below `dir`, as text.
pub fn files_below(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_below(&path));
        } else {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

/// Fails when any secret (or a 6-character start of one) shows in the run's
/// output or in a file below `dir`.
#[track_caller]
pub fn assert_no_secret(run: &Run, dir: &Path, secrets: &[String]) {
    let mut places = vec![
        ("stdout".to_string(), run.stdout.clone()),
        ("stderr".to_string(), run.stderr.clone()),
    ];
    places.extend(files_below(dir));
    for (place, text) in &places {
        for secret in secrets {
            let start: String = secret.chars().take(6).collect();
            assert!(
                !text.contains(secret.as_str()) && !text.contains(&start),
                "{place} shows {secret:?} (or its start):\n{text}"
            );
        }
    }
}
