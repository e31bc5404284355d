//! The layout of `src/` is the architecture: imports flow one way, down the
//! data path (app → needs → render → plan → sinks; clients below everything;
//! checks and commands on top). These tests read the source and fail when a
//! module reaches up or sideways, naming the file and line: any path that
//! leaves the module (`crate::…`, `super::…` past its top, every item of a
//! `use crate::{…}` group over several lines), re-exports (`pub use`)
//! included, from any file below `src/`, submodules included.

use std::path::{Path, PathBuf};

/// The layering of `src/`, lowest first: each top-level module with the
/// modules it may use. A module may use only modules listed above it (a test
/// checks this), so the list is the order; a new module is one line here, at
/// its place. `lib.rs`, `main.rs` and `commands/` are the top: they may use
/// anything.
const LAYERS: &[(&str, &[&str])] = &[
    // A leaf: small helpers, depending on nothing of ours (see LEAVES).
    ("util", &[]),
    ("client", &[]),
    ("error", &["client"]),
    // The kind demo runs tools (and onramp itself) as processes.
    ("demo", &["error"]),
    // The cluster is a source of the App beside manifests (`app::deployed`).
    ("app", &["error", "client"]),
    // What Prometheus exposes for the app (`needs::exposed`) is asked
    // through its client.
    ("needs", &["error", "app", "client"]),
    ("render", &["error", "app", "needs"]),
    ("plan", &["error", "app", "needs", "render"]),
    // A sink depends on the plan and a client: never on render, never on another sink.
    ("sink", &["error", "plan", "client"]),
    // The monitoring stack a cluster runs, and whether it picks up a plan.
    ("cluster", &["error", "app", "needs", "plan", "client"]),
    (
        "check",
        &["error", "app", "needs", "plan", "cluster", "client"],
    ),
    ("cli", &["error", "app", "needs", "plan", "client", "demo"]),
    // From arguments and onramp.yaml to the App, its needs and the plan.
    (
        "pipeline",
        &["error", "app", "needs", "plan", "cluster", "client", "cli"],
    ),
];

/// Leaves every module may use: they depend on nothing of ours.
const LEAVES: &[&str] = &["util"];

/// The modules `module` may use; `None` for the top (and files outside the layering).
fn may_use(module: &str) -> Option<&'static [&'static str]> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, uses)| *uses)
}

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

/// The module path of a file below `src/`: `check/troubleshoot/mod.rs` →
/// `check::troubleshoot`, `render/dashboard.rs` → `render::dashboard`,
/// `lib.rs` → the crate root (empty).
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The code of `text` with comments, strings and character literals blanked
/// out (newlines kept, so line numbers stay true).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let rest = &chars[i..];
        let end = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|c| *c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            (2..rest.len())
                .find(|&j| rest[j - 1] == '*' && rest[j] == '/')
                .map_or(rest.len(), |j| j + 1)
        } else if raw_string_at(&chars, i) {
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let start = 2 + hashes;
            (start..rest.len())
                .find(|&j| rest[j..].starts_with(&close))
                .map_or(rest.len(), |j| j + close.len())
        } else if rest[0] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            (j + 1).min(rest.len())
        } else if rest[0] == '\'' && (rest.get(1) == Some(&'\\') || rest.get(2) == Some(&'\'')) {
            (2..rest.len())
                .find(|&j| rest[j] == '\'' && (rest[j - 1] != '\\' || rest[j - 2] == '\\'))
                .map_or(rest.len(), |j| j + 1)
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        out.extend(rest[..end].iter().map(|c| blank(*c)));
        i += end;
    }
    out
}

/// Whether a raw string (`r"…"`, `r#"…"#`) starts at `i` (not a raw
/// identifier such as `r#type`, not the end of a word).
fn raw_string_at(chars: &[char], i: usize) -> bool {
    let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
    chars[i] == 'r'
        && chars.get(i + 1 + hashes) == Some(&'"')
        && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
}

/// A path of the code: its line, the inline modules it is written in
/// (`mod paths { … }`), and its segments.
struct Use {
    line: usize,
    inline: Vec<String>,
    segments: Vec<String>,
}

/// Every path of `code` that starts at `crate` or `super`, with each item of
/// a `use` group (`crate::{a, b::{c, d}}`) a path of its own, on the item's
/// line.
fn paths(code: &str) -> Vec<Use> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    // The inline modules open here, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < chars.len() {
        let starts_word = chars[i].is_alphabetic() || chars[i] == '_';
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if starts_word && !after_word {
            let mut here = Vec::new();
            let end = path_at(&chars, i, &[], &mut here);
            if let Some(name) = inline_module_at(&chars, &here, end) {
                inline.push((name, depth + 1));
            }
            let names: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
            found.extend(here.into_iter().map(|(line, segments)| Use {
                line,
                inline: names.clone(),
                segments,
            }));
            i = end;
            continue;
        }
        match chars[i] {
            '{' => depth += 1,
            '}' => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        i += 1;
    }
    found.retain(|u| {
        u.segments
            .first()
            .is_some_and(|s| s == "crate" || s == "super")
    });
    found
}

/// The name of the inline module `mod NAME {` whose `mod` was just read
/// (as the one-segment path `here`, ending at `end`).
fn inline_module_at(chars: &[char], here: &[(usize, Vec<String>)], end: usize) -> Option<String> {
    if here.len() != 1 || here[0].1 != ["mod"] {
        return None;
    }
    let mut name = Vec::new();
    let after = path_at(chars, end, &[], &mut name);
    let brace = skip_space(chars, after);
    match (name.as_slice(), chars.get(brace)) {
        ([(_, segments)], Some('{')) if segments.len() == 1 => Some(segments[0].clone()),
        _ => None,
    }
}

fn line_of(chars: &[char], at: usize) -> usize {
    chars[..at].iter().filter(|c| **c == '\n').count() + 1
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Reads the path starting at `i` (after `prefix`), recording it and the
/// items of any group it ends in; returns where it ends.
fn path_at(
    chars: &[char],
    start: usize,
    prefix: &[String],
    found: &mut Vec<(usize, Vec<String>)>,
) -> usize {
    let line = line_of(chars, start);
    let mut segments = prefix.to_vec();
    let mut i = start;
    loop {
        i = skip_space(chars, i);
        if chars.get(i) == Some(&'{') {
            return group_at(chars, i + 1, &segments, found);
        }
        let word_start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i == word_start {
            break;
        }
        segments.push(chars[word_start..i].iter().collect());
        let next = skip_space(chars, i);
        if chars.get(next) == Some(&':') && chars.get(next + 1) == Some(&':') {
            i = next + 2;
        } else {
            break;
        }
    }
    found.push((line, segments));
    i
}

/// Reads the items of a `{…}` group after `prefix` up to its closing brace.
fn group_at(
    chars: &[char],
    mut i: usize,
    prefix: &[String],
    found: &mut Vec<(usize, Vec<String>)>,
) -> usize {
    loop {
        i = skip_space(chars, i);
        match chars.get(i) {
            None => return i,
            Some('}') => return i + 1,
            Some(c) if c.is_alphabetic() || *c == '_' || *c == '{' => {
                i = path_at(chars, i, prefix, found);
                // `x as y`, `*`: skip to the item's end.
                while i < chars.len() && !matches!(chars[i], ',' | '}') {
                    i += 1;
                }
            }
            Some(_) => i += 1,
        }
    }
}

/// The top-level module a path names, seen from `module` (a module path):
/// `crate::check::x` → `check`; from `render::dashboard`, `super::super::check`
/// → `check` and `super::colors` → `render`.
fn top_module_of(module: &[String], segments: &[String]) -> Option<String> {
    let supers = segments.iter().take_while(|s| *s == "super").count();
    let (base, rest) = if supers == 0 {
        (&[][..], &segments[1..])
    } else {
        (
            &module[..module.len().saturating_sub(supers)],
            &segments[supers..],
        )
    };
    base.first().or(rest.first()).cloned()
}

/// The imports of one source file (`relative` to `src/`) that flow the wrong
/// way, one line each: `FILE:LINE: `MODULE` uses `OTHER` (allowed: […])`.
fn violations(relative: &str, text: &str) -> Vec<String> {
    let module = module_path(relative);
    let Some(top) = module.first() else {
        return Vec::new(); // lib.rs, main.rs: the top
    };
    let Some(allowed) = may_use(top) else {
        return Vec::new(); // commands/: the top, may use anything
    };
    let mut out = Vec::new();
    for Use {
        line,
        inline,
        segments,
    } in paths(&code_only(text))
    {
        let within: Vec<String> = module.iter().chain(&inline).cloned().collect();
        let Some(used) = top_module_of(&within, &segments) else {
            continue;
        };
        if used != *top && !allowed.contains(&used.as_str()) && !LEAVES.contains(&used.as_str()) {
            out.push(format!(
                "{relative}:{line}: `{top}` uses `{used}` (allowed: {allowed:?})"
            ));
        }
    }
    out
}

#[test]
fn imports_flow_one_way_down_the_data_path() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy();
        let text = std::fs::read_to_string(file).expect("a source file");
        found.extend(violations(&relative, &text));
    }
    assert!(
        found.is_empty(),
        "imports that flow the wrong way:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_place_in_the_layering() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let unplaced: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim_start_matches("pub ").strip_prefix("mod "))
        .map(|l| l.trim_end_matches(';'))
        .filter(|m| *m != "commands" && may_use(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no place in the layering (add them to LAYERS): {unplaced:?}"
    );
}

#[test]
fn the_layers_list_each_module_after_what_it_uses() {
    for (at, (module, uses)) in LAYERS.iter().enumerate() {
        for used in *uses {
            assert!(
                LAYERS[..at].iter().any(|(name, _)| name == used),
                "`{module}` may use `{used}`, which is not listed above it in LAYERS"
            );
        }
    }
}

#[test]
fn the_checker_names_the_line_of_a_submodule_import_a_re_export_and_a_super_path() {
    // The checker itself must be able to fail: a fake `render` file reaching
    // up to `check` through a submodule path in a group over several lines,
    // a `plan` file re-exporting a sink, and a `super::super` path out of a
    // nested module; comments and strings that name modules do not count.
    let render = "//! Links to [`crate::check`] in a doc comment do not count.\n\
                  use crate::{\n    app::AppId,\n    check::troubleshoot::Finding,\n};\n\
                  const NOTE: &str = \"crate::sink\";\n";
    assert_eq!(
        violations("render/dashboard.rs", render),
        vec![
            "render/dashboard.rs:4: `render` uses `check` (allowed: [\"error\", \"app\", \"needs\"])"
                .to_string()
        ]
    );
    let plan = "pub use crate::sink::files::Written;\n";
    assert_eq!(
        violations("plan/mod.rs", plan),
        vec![
            "plan/mod.rs:1: `plan` uses `sink` (allowed: [\"error\", \"app\", \"needs\", \"render\"])"
                .to_string()
        ]
    );
    // From `render::dashboard`, `super` is `render` and `super::super` the crate.
    let nested = "use super::colors;\nfn f() -> super::super::check::Report { todo!() }\n";
    assert_eq!(
        violations("render/dashboard.rs", nested),
        vec![
            "render/dashboard.rs:2: `render` uses `check` (allowed: [\"error\", \"app\", \"needs\"])"
                .to_string()
        ]
    );
    // In an inline module (`mod names { … }`), `super` is the file's module.
    let fine = "use crate::{error::Result, plan::{Plan, names}};\nuse super::super::needs;\n\
                mod inner {\n    use super::super::Plan;\n}\n";
    assert!(violations("sink/grafana/mod.rs", fine).contains(
        &"sink/grafana/mod.rs:2: `sink` uses `needs` (allowed: [\"error\", \"plan\", \"client\"])"
            .to_string()
    ));
    assert_eq!(violations("sink/grafana/mod.rs", fine).len(), 1);
}
