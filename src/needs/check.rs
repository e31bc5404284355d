//! Checking need files for a needs repository's CI (`onramp needs check`):
//! every problem of each file — the schema, the placeholders, every
//! expression with each signal's alternatives, the walkthrough, ids unique
//! and not a built-in's — each with its file, line and column.
//!
//! The parser reports where a schema error is; the semantic checks
//! ([`resolve::need_findings`]) name the node (`panels`, `0`, `unit`), which
//! [`Tree`] places in the file's text.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::error::{Error, Location};
use crate::needs::resolve::{self, At};
use crate::needs::{Need, parse_need};

/// A problem of a need file, as `needs check` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, line and column.
    pub location: Location,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// How `needs check` treats a need with a built-in's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltInIds {
    /// A problem, unless the file is the built-in's own source.
    Refuse,
    /// Allowed: the need replaces the built-in in the catalog.
    Replace,
}

/// Checks need files given as `(file name, text)`, each against the others
/// (ids unique) and the built-in catalog; returns every problem, in file order.
pub fn check_texts(files: &[(String, String)], built_in: BuiltInIds) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<String, Location> = BTreeMap::new();
    for (file, text) in files {
        let need = match parse_need(file, text) {
            Ok(need) => need,
            Err(Error::NeedFile { location, message }) => {
                problems.push(Problem { location, message });
                continue;
            }
            Err(other) => {
                let location = Location::file(file);
                let message = other.to_string();
                problems.push(Problem { location, message });
                continue;
            }
        };
        let tree = Tree::parse(text);
        let place = |at: &At| match at {
            At::Span(l) if l.line() > 0 => {
                Location::at(file, l.line() as usize, Some(l.column() as usize))
            }
            At::Span(_) => Location::file(file),
            At::Path(path) => tree.as_ref().and_then(|t| t.locate(path)).map_or_else(
                || Location::file(file),
                |l| Location::at(file, l.line() as usize, Some(l.column() as usize)),
            ),
            At::Text { path, before } => match tree.as_ref().and_then(|t| t.locate(path)) {
                Some(l) => {
                    let start = (l.line() as usize, l.column() as usize);
                    let (line, column) = inside(text, start, before);
                    Location::at(file, line, Some(column))
                }
                None => Location::file(file),
            },
        };
        let mut found: Vec<Problem> = resolve::need_findings(&need)
            .into_iter()
            .chain(crate::needs::objective::findings(&need))
            .map(|finding| Problem {
                location: place(&finding.at),
                message: finding.message,
            })
            .collect();
        let id_at = place(&At::Path(vec!["id".into()]));
        if let Some(message) = id_problem(&need, text, &ids, built_in) {
            found.push(Problem {
                location: id_at.clone(),
                message,
            });
        }
        found.sort_by_key(|p| (p.location.line, p.location.column));
        problems.extend(found);
        ids.entry(need.id.clone()).or_insert(id_at);
    }
    problems
}

/// Why a need's id may not be used: another file has it, or a built-in
/// (unless the file is that built-in's source, or replacing is allowed).
fn id_problem(
    need: &Need,
    text: &str,
    ids: &BTreeMap<String, Location>,
    built_in: BuiltInIds,
) -> Option<String> {
    if let Some(first) = ids.get(&need.id) {
        return Some(format!(
            "need id {:?} is already defined at {first}; ids must be unique",
            need.id
        ));
    }
    let source = crate::needs::built_in_source(&need.id)?;
    let same: Option<bool> = (|| {
        let mine: serde_json::Value = serde_saphyr::from_str(text).ok()?;
        let theirs: serde_json::Value = serde_json::from_str(source).ok()?;
        Some(mine == theirs)
    })();
    if built_in == BuiltInIds::Replace || same == Some(true) {
        return None;
    }
    Some(format!(
        "need id {:?} is a built-in need's; a need with this id replaces the built-in one \
         everywhere it is loaded — choose another id, or pass --replace-built-in if that is what you mean",
        need.id
    ))
}

/// The problems of the `{…}` placeholders of a prose text: `classify` says,
/// for the text between the braces, whether it is a placeholder (`Ok(true)`),
/// not one of onramp's (`Ok(false)`, like a route's `{id}`), or a broken one
/// (`Err`, why). Prometheus templates (`{{ $value }}`) and selectors
/// (`{job="x"}`) are not placeholders.
pub fn placeholder_problems(
    text: &str,
    classify: impl Fn(&str) -> std::result::Result<bool, String>,
) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find('{').map(|i| from + i) {
        let after = &text[start + 1..];
        if let Some(template) = after.strip_prefix('{') {
            from = template
                .find("}}")
                .map_or(text.len(), |end| start + 2 + end + 2);
            continue;
        }
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        let word = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'));
        if word && let Err(why) = classify(inner) {
            problems.push((start, why));
        }
        from = start + 1 + end + 1;
    }
    problems
}

/// The place `before` leads to inside a string value that starts at `start`
/// in the file's `text`: past an opening quote, then a column per character
/// and a line per line break (a block scalar's lines keep its indentation).
fn inside(text: &str, start: (usize, usize), before: &str) -> (usize, usize) {
    let (mut line, column) = start;
    let first = text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.chars().nth(column.saturating_sub(1)));
    let mut column = column + usize::from(matches!(first, Some('\'' | '"')));
    for c in before.chars() {
        if c == '\n' {
            line += 1;
            column = start.1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// The name of `known` that `word` is a likely misspelling of: one edit
/// away, or two for names of six characters or more.
pub fn near<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known.iter().copied().find(|k| {
        let allowed = if k.len().min(word.len()) >= 6 { 2 } else { 1 };
        edit_distance(word, k) <= allowed
    })
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A need file's YAML with the position of every key and value, to place a
/// finding that names a node.
#[derive(Debug)]
pub enum Tree {
    /// A mapping: each key with its position, and its value.
    Map(Vec<(Spanned<String>, Spanned<Tree>)>),
    /// A sequence.
    Seq(Vec<Spanned<Tree>>),
    /// Anything else.
    Scalar,
}

impl Tree {
    /// The tree of a YAML text; `None` when it does not parse.
    pub fn parse(text: &str) -> Option<Tree> {
        serde_saphyr::from_str(text).ok()
    }

    /// Where the node at `path` is: a scalar's value, a mapping's or
    /// sequence's key; the nearest ancestor found when the node is missing.
    pub fn locate(&self, path: &[String]) -> Option<serde_saphyr::Location> {
        let mut node = self;
        let mut found = None;
        for part in path {
            let (key_at, child) = match node {
                Tree::Map(entries) => match entries.iter().find(|(k, _)| &k.value == part) {
                    Some((key, value)) => (key.referenced, value),
                    None => return found,
                },
                Tree::Seq(items) => match part.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => (item.referenced, item),
                    None => return found,
                },
                Tree::Scalar => return found,
            };
            found = Some(match child.value {
                Tree::Scalar => child.referenced,
                _ => key_at,
            });
            node = &child.value;
        }
        found
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let key = Spanned::new(key.value.0, key.referenced, key.defined);
            entries.push((key, map.next_value()?));
        }
        Ok(Tree::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar)
    }
}

/// A mapping key as text, whatever its YAML type.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_tree_places_values_keys_and_items() {
        let text = "id: x\npanels:\n  - title: A\n    unit: bogus\n  - {title: B, unit: s}\n";
        let tree = Tree::parse(text).expect("parses");
        let at = |p: &[&str]| {
            let l = tree.locate(&path(p)).expect("found");
            (l.line(), l.column())
        };
        assert_eq!(at(&["id"]), (1, 5));
        assert_eq!(at(&["panels"]), (2, 1));
        assert_eq!(at(&["panels", "0", "unit"]), (4, 11));
        assert_eq!(at(&["panels", "1", "unit"]), (5, 22));
        // A missing node: its nearest ancestor.
        assert_eq!(at(&["panels", "1", "width"]), (5, 5));
    }

    #[test]
    fn placeholders_skip_templates_and_selectors() {
        let text = "{app} {{ $value }} {job=\"x\"} /orders/{id} {namspace}";
        let seen = std::cell::RefCell::new(Vec::new());
        let problems: Vec<String> = placeholder_problems(text, |p| {
            seen.borrow_mut().push(p.to_string());
            match near(p, resolve::PROSE_PLACEHOLDERS) {
                Some(k) if k != p => Err(format!("{p} → {k}")),
                _ => Ok(true),
            }
        })
        .into_iter()
        .map(|(at, why)| format!("{at}: {why}"))
        .collect();
        assert_eq!(seen.into_inner(), vec!["app", "id", "namspace"]);
        assert_eq!(problems, vec!["42: namspace → namespace"]);
    }

    #[test]
    fn a_route_parameter_is_not_mistaken_for_a_misspelt_placeholder() {
        assert_eq!(near("id", resolve::PROSE_PLACEHOLDERS), None);
        assert_eq!(
            near("workloads", resolve::PROSE_PLACEHOLDERS),
            Some("workload")
        );
        assert_eq!(
            near("onramp-args", resolve::PROSE_PLACEHOLDERS),
            Some("onramp_args")
        );
    }
}
