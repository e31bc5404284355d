//! The layout of `src/` is the architecture: imports flow one way, down the
//! data path (app → needs → render → plan → sinks; clients below everything;
//! checks and commands on top). These tests read the source and fail when a
//! module reaches up or sideways, naming the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which top-level modules each top-level module may use (besides itself).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("client", &[][..]),
        ("error", &["client"][..]),
        // The cluster is a source of the App beside manifests (`app::cluster`).
        ("app", &["error", "client"][..]),
        ("needs", &["error", "app"][..]),
        ("render", &["error", "app", "needs"][..]),
        ("plan", &["error", "app", "needs", "render"][..]),
        // A sink depends on the plan and a client: never on render, never on another sink.
        ("sink", &["error", "plan", "client"][..]),
        ("check", &["error", "app", "needs", "plan", "client"][..]),
        (
            "cli",
            &["error", "app", "needs", "plan", "client", "demo"][..],
        ),
        // The kind demo runs tools (and onramp itself) as processes.
        ("demo", &["error"][..]),
        // A leaf: small helpers, depending on nothing of ours.
        ("util", &[][..]),
    ])
}

/// Leaves every module may use: they depend on nothing of ours.
const LEAVES: &[&str] = &["util"];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/sink/files.rs` → `sink`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// Every `crate::MODULE` a line of code names (comments and strings aside).
fn used_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or_default();
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
        rest = after;
    }
    // `use crate::{a, b::c}` names several modules at once.
    if let Some(group) = code.split("use crate::{").nth(1) {
        for part in group.split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn imports_flow_one_way_down_the_data_path() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let allowed = allowed();
    let mut violations = Vec::new();
    for file in &files {
        let module = top_module(&src, file);
        let Some(may_use) = allowed.get(module.as_str()) else {
            continue; // lib.rs, main.rs, commands/: the top, may use anything
        };
        let text = std::fs::read_to_string(file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            for used in used_modules(line) {
                if used != module
                    && !may_use.contains(&used.as_str())
                    && !LEAVES.contains(&used.as_str())
                {
                    violations.push(format!(
                        "{}:{}: `{module}` uses `{used}` (allowed: {may_use:?})",
                        file.strip_prefix(&src).unwrap_or(file).display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that flow the wrong way:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_place_in_the_layering() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let allowed = allowed();
    let unplaced: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .filter(|m| *m != "commands" && !allowed.contains_key(m))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no place in the layering (add them to allowed()): {unplaced:?}"
    );
}

#[test]
fn a_sink_that_imports_render_is_caught() {
    // The checker itself must be able to fail.
    assert_eq!(
        used_modules("use crate::render::dashboard::MARKER_KEY;"),
        vec!["render".to_string()]
    );
    assert_eq!(
        used_modules("use crate::{plan, sink::files};"),
        vec!["plan".to_string(), "sink".to_string()]
    );
    assert!(used_modules("//! see [`crate::render`]").is_empty());
}
