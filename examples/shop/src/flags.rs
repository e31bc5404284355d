//! Feature flags read from a flagd-format JSON file.
//!
//! This module owns the flag definitions and their evaluation: parsing and
//! validating the file, resolving a flag to a variant for an evaluation
//! context (`state`, `defaultVariant` and the `fractional` targeting operator
//! as flagd defines them), counting every evaluation like an OpenFeature
//! metrics hook, and re-reading the file when it changes while keeping the
//! last good flags if the new content is broken.
//!
//! It does not decide what a flag *means* to the shop: that is `faults` (the
//! failure flags) and `simulator` (the engagement flag).
//!
//! Supported flagd subset, on purpose small and strict — anything else is
//! rejected at load with a message naming the flag:
//! - `state`: `ENABLED` or `DISABLED` (disabled → `defaultVariant`, reason
//!   `DISABLED`);
//! - `variants` (any JSON values) and `defaultVariant`;
//! - `targeting`: absent or `{}` (reason `STATIC`), or
//!   `{"fractional": [BUCKET_BY?, ["variant", weight?], ...]}` where
//!   `BUCKET_BY` is a string, `{"var": "targetingKey"}`,
//!   `{"var": "$flagd.flagKey"}` or a `{"cat": [...]}` of those. Without a
//!   usable bucketing value flagd buckets by `flagKey + targetingKey`; without a
//!   targeting key either, the result is `defaultVariant` with reason `DEFAULT`.
//!
//! Bucketing follows flagd's reference implementation: MurmurHash3 (x86,
//! 32-bit, seed 0) of the bucketing value mapped onto `[0, 100]` and matched
//! against the variants' cumulative percentages, so a key lands in the same
//! variant as with flagd (checked against flagd's own test cases).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::log;
use crate::metrics::Metrics;

/// The provider name reported in `feature_flag_provider_name`.
pub const PROVIDER_NAME: &str = "flagd-file";

/// The variant the shop assumes for a flag that is not in the file: every
/// flag the shop understands is off unless the file says otherwise.
pub const FALLBACK_VARIANT: &str = "off";

/// A problem with the flags file.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    /// The file could not be read.
    #[error("cannot read flags file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON of the flagd shape (the source names line and column).
    #[error("flags file {} is not valid flagd JSON", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file is not UTF-8 text.
    #[error("flags file {} is not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where the bad bytes are.
        #[source]
        source: std::str::Utf8Error,
    },
    /// A flag is well-formed JSON but its definition is not usable.
    #[error("flags file {}: flag \"{flag}\": {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The flag's key.
        flag: String,
        /// What is wrong and what is expected instead.
        message: String,
    },
}

/// Why an evaluation resolved to its variant (OpenFeature resolution reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The flag has no targeting: `defaultVariant`.
    Static,
    /// Targeting chose the variant.
    TargetingMatch,
    /// Targeting did not apply (e.g. no targeting key): `defaultVariant`.
    Default,
    /// The flag is `DISABLED`: `defaultVariant`.
    Disabled,
    /// The flag is not defined: the shop's fallback (`off`).
    Error,
}

impl Reason {
    /// The reason as OpenFeature spells it, used as a label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Default => "DEFAULT",
            Reason::Disabled => "DISABLED",
            Reason::Error => "ERROR",
        }
    }
}

/// The outcome of evaluating one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The variant's name, e.g. `on`.
    pub variant: String,
    /// The variant's value from the file (`false` for the fallback).
    pub value: Value,
    /// Why this variant.
    pub reason: Reason,
}

/// What an evaluation knows about its caller (the OpenFeature evaluation
/// context). The shop only ever has a targeting key: the session id.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationContext<'a> {
    /// The key used for bucketing, e.g. a session id.
    pub targeting_key: Option<&'a str>,
}

/// `state` of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum State {
    Enabled,
    Disabled,
}

/// The file as flagd writes it; `$schema`, `$evaluators` and `metadata` are ignored.
#[derive(Debug, Deserialize)]
struct RawFile {
    flags: BTreeMap<String, RawFlag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFlag {
    state: State,
    variants: BTreeMap<String, Value>,
    default_variant: String,
    #[serde(default)]
    targeting: Value,
}

/// A validated flag.
#[derive(Debug, Clone)]
struct Flag {
    state: State,
    variants: BTreeMap<String, Value>,
    default_variant: String,
    targeting: Option<Fractional>,
}

/// A `fractional` targeting rule.
#[derive(Debug, Clone)]
struct Fractional {
    /// The bucketing value expression; `None` → `flagKey + targetingKey`.
    bucket_by: Option<Expr>,
    /// `(variant, weight)` in file order.
    buckets: Vec<(String, u64)>,
    /// Sum of the weights, > 0 and ≤ `i32::MAX` as flagd requires.
    total_weight: u64,
}

/// The JsonLogic expressions allowed as a bucketing value.
#[derive(Debug, Clone)]
enum Expr {
    Literal(String),
    Var(String),
    Cat(Vec<Expr>),
}

impl Expr {
    fn parse(value: &Value) -> Result<Expr, String> {
        match value {
            Value::String(s) => Ok(Expr::Literal(s.clone())),
            Value::Object(map) if map.len() == 1 => {
                if let Some(var) = map.get("var") {
                    // JsonLogic allows {"var": "x"} and {"var": ["x", default]}.
                    let name = match var {
                        Value::String(name) => Some(name),
                        Value::Array(items) => match items.first() {
                            Some(Value::String(name)) => Some(name),
                            _ => None,
                        },
                        _ => None,
                    };
                    return name.map(|n| Expr::Var(n.clone())).ok_or_else(|| {
                        format!("\"var\" must name a context property, found {var}")
                    });
                }
                if let Some(Value::Array(parts)) = map.get("cat") {
                    return parts
                        .iter()
                        .map(Expr::parse)
                        .collect::<Result<_, _>>()
                        .map(Expr::Cat);
                }
                Err(format!(
                    "unsupported bucketing expression {value}; expected a string, \
                     {{\"var\": \"targetingKey\"}}, {{\"var\": \"$flagd.flagKey\"}} or {{\"cat\": [...]}}"
                ))
            }
            other => Err(format!(
                "unsupported bucketing expression {other}; expected a string, \
                 {{\"var\": ...}} or {{\"cat\": [...]}}"
            )),
        }
    }

    /// The expression's value, `None` when a variable is not in the context.
    fn eval(&self, flag_key: &str, ctx: &EvaluationContext<'_>) -> Option<String> {
        match self {
            Expr::Literal(s) => Some(s.clone()),
            Expr::Var(name) => match name.as_str() {
                "targetingKey" => ctx.targeting_key.map(str::to_owned),
                "$flagd.flagKey" => Some(flag_key.to_owned()),
                _ => None,
            },
            // JsonLogic's `cat` joins its arguments; a missing one adds nothing.
            Expr::Cat(parts) => Some(parts.iter().filter_map(|p| p.eval(flag_key, ctx)).collect()),
        }
    }
}

impl Fractional {
    fn parse(args: &Value, variants: &BTreeMap<String, Value>) -> Result<Fractional, String> {
        let Value::Array(args) = args else {
            return Err(format!("\"fractional\" takes an array, found {args}"));
        };
        let (bucket_by, rest) = match args.first() {
            None => {
                return Err(
                    "\"fractional\" needs at least one [\"variant\", weight] bucket".into(),
                );
            }
            Some(Value::Array(_)) => (None, &args[..]),
            Some(Value::Null) => (None, &args[1..]),
            Some(first) => (Some(Expr::parse(first)?), &args[1..]),
        };
        if rest.is_empty() {
            return Err("\"fractional\" needs at least one [\"variant\", weight] bucket".into());
        }
        let mut buckets = Vec::with_capacity(rest.len());
        for bucket in rest {
            let Value::Array(items) = bucket else {
                return Err(format!(
                    "a fractional bucket must be [\"variant\", weight], found {bucket}"
                ));
            };
            let Some(Value::String(variant)) = items.first() else {
                return Err(format!(
                    "a fractional bucket must start with a variant name, found {bucket}"
                ));
            };
            if !variants.contains_key(variant) {
                return Err(format!(
                    "fractional bucket names variant \"{variant}\", which is not in variants ({})",
                    names(variants)
                ));
            }
            let weight = match items.get(1) {
                None | Some(Value::Null) => 1,
                Some(w) => w.as_u64().ok_or_else(|| {
                    format!("weight of fractional bucket \"{variant}\" must be a whole number ≥ 0, found {w}")
                })?,
            };
            buckets.push((variant.clone(), weight));
        }
        let total_weight: u64 = buckets.iter().map(|(_, w)| *w).sum();
        if total_weight == 0 || total_weight > i32::MAX as u64 {
            return Err(format!(
                "the fractional weights add up to {total_weight}; they must add up to between 1 and {}",
                i32::MAX
            ));
        }
        Ok(Fractional {
            bucket_by,
            buckets,
            total_weight,
        })
    }

    /// The chosen variant, `None` when there is nothing to bucket by.
    fn variant(&self, flag_key: &str, ctx: &EvaluationContext<'_>) -> Option<&str> {
        let value = self
            .bucket_by
            .as_ref()
            .and_then(|e| e.eval(flag_key, ctx))
            .or_else(|| ctx.targeting_key.map(|k| format!("{flag_key}{k}")))?;
        Some(self.pick(murmur3_32(value.as_bytes(), 0)))
    }

    /// Maps a 32-bit hash to a point in `[0, 100]` and finds the bucket whose
    /// cumulative percentage range holds it — flagd's arithmetic, kept exactly
    /// (hash read as a signed 32-bit integer, absolute value over `i32::MAX`),
    /// so that keys land where flagd and its in-process providers put them.
    fn pick(&self, hash: u32) -> &str {
        let signed = f64::from(hash as i32);
        let point = signed.abs() / f64::from(i32::MAX) * 100.0;
        let total = self.total_weight as f64;
        let mut end = 0.0;
        for (variant, weight) in &self.buckets {
            end += 100.0 * *weight as f64 / total;
            if point < end {
                return variant;
            }
        }
        // Only a hash of exactly i32::MIN maps past 100; give it the last bucket.
        self.buckets.last().map_or("", |(v, _)| v.as_str())
    }
}

fn names(variants: &BTreeMap<String, Value>) -> String {
    variants
        .keys()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// MurmurHash3, x86 32-bit variant — the hash flagd uses for `fractional`.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        h ^= scramble(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .enumerate()
            .fold(0u32, |k, (i, b)| k | u32::from(*b) << (8 * i));
        h ^= scramble(k);
    }
    // The length is mixed in modulo 2^32, as in the reference implementation.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// A parsed, validated set of flags.
#[derive(Debug, Clone, Default)]
pub struct FlagSet {
    flags: BTreeMap<String, Flag>,
}

impl FlagSet {
    /// Parses flagd JSON; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<FlagSet, FlagsError> {
        let raw: RawFile = serde_json::from_str(text).map_err(|source| FlagsError::Syntax {
            path: path.to_owned(),
            source,
        })?;
        let mut flags = BTreeMap::new();
        for (key, raw) in raw.flags {
            let invalid = |message: String| FlagsError::Invalid {
                path: path.to_owned(),
                flag: key.clone(),
                message,
            };
            if raw.variants.is_empty() {
                return Err(invalid("\"variants\" is empty; define at least one, e.g. {\"on\": true, \"off\": false}".into()));
            }
            if !raw.variants.contains_key(&raw.default_variant) {
                return Err(invalid(format!(
                    "defaultVariant \"{}\" is not in variants ({})",
                    raw.default_variant,
                    names(&raw.variants)
                )));
            }
            let targeting = match &raw.targeting {
                Value::Null => None,
                Value::Object(map) if map.is_empty() => None,
                Value::Object(map) if map.len() == 1 => match map.iter().next() {
                    Some((op, args)) if op == "fractional" => {
                        Some(Fractional::parse(args, &raw.variants).map_err(invalid)?)
                    }
                    Some((op, _)) => {
                        return Err(invalid(format!(
                            "targeting operator \"{op}\" is not supported by the shop; supported: \"fractional\" (or no targeting)"
                        )));
                    }
                    None => None,
                },
                other => {
                    return Err(invalid(format!(
                        "targeting must be {{}} or {{\"fractional\": [...]}}, found {other}"
                    )));
                }
            };
            flags.insert(
                key,
                Flag {
                    state: raw.state,
                    variants: raw.variants,
                    default_variant: raw.default_variant,
                    targeting,
                },
            );
        }
        Ok(FlagSet { flags })
    }

    /// Reads and parses a flags file.
    pub fn read(path: &Path) -> Result<FlagSet, FlagsError> {
        let text = std::fs::read_to_string(path).map_err(|source| FlagsError::Read {
            path: path.to_owned(),
            source,
        })?;
        FlagSet::parse(&text, path)
    }

    /// How many flags are defined.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether no flag is defined.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Resolves `key`; `None` when the flag is not defined.
    pub fn evaluate(&self, key: &str, ctx: &EvaluationContext<'_>) -> Option<Resolution> {
        let flag = self.flags.get(key)?;
        let (variant, reason) = match (flag.state, &flag.targeting) {
            (State::Disabled, _) => (flag.default_variant.as_str(), Reason::Disabled),
            (State::Enabled, None) => (flag.default_variant.as_str(), Reason::Static),
            (State::Enabled, Some(rule)) => match rule.variant(key, ctx) {
                Some(v) => (v, Reason::TargetingMatch),
                None => (flag.default_variant.as_str(), Reason::Default),
            },
        };
        Some(Resolution {
            variant: variant.to_owned(),
            value: flag.variants.get(variant).cloned().unwrap_or(Value::Null),
            reason,
        })
    }
}

/// The outcome of checking the flags file for changes.
#[derive(Debug)]
pub enum Reload {
    /// Same content as last time (or there is no file).
    Unchanged,
    /// New content, now in use.
    Reloaded {
        /// How many flags the new file defines.
        flags: usize,
    },
    /// New content that could not be used; the previous flags stay.
    Failed(FlagsError),
}

/// The flags in use, shared by the server and the simulator.
///
/// Evaluations go through here so that each one is counted in
/// `feature_flag_evaluation_requests_total`.
#[derive(Debug)]
pub struct FlagStore {
    path: Option<PathBuf>,
    current: RwLock<Arc<FlagSet>>,
    /// The bytes last read from the file, good or bad, so that a broken file
    /// is reported once rather than every second.
    last_read: Mutex<Option<Vec<u8>>>,
    metrics: Arc<Metrics>,
}

impl FlagStore {
    /// Loads the flags file, or starts with no flags when `path` is `None`.
    pub fn load(path: Option<&Path>, metrics: Arc<Metrics>) -> Result<FlagStore, FlagsError> {
        let (set, bytes) = match path {
            None => (FlagSet::default(), None),
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| FlagsError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                (parse_bytes(&bytes, path)?, Some(bytes))
            }
        };
        Ok(FlagStore {
            path: path.map(Path::to_owned),
            current: RwLock::new(Arc::new(set)),
            last_read: Mutex::new(bytes),
            metrics,
        })
    }

    /// A store with fixed flags and no file (for tests and embedding).
    pub fn with_flags(set: FlagSet, metrics: Arc<Metrics>) -> FlagStore {
        FlagStore {
            path: None,
            current: RwLock::new(Arc::new(set)),
            last_read: Mutex::new(None),
            metrics,
        }
    }

    /// The flags file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The flags in use now.
    pub fn snapshot(&self) -> Arc<FlagSet> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Evaluates `key` and counts the evaluation. A flag missing from the file
    /// resolves to [`FALLBACK_VARIANT`] (value `false`) with reason `ERROR`.
    pub fn evaluate(&self, key: &str, ctx: &EvaluationContext<'_>) -> Resolution {
        let resolution = self
            .snapshot()
            .evaluate(key, ctx)
            .unwrap_or_else(|| Resolution {
                variant: FALLBACK_VARIANT.to_owned(),
                value: Value::Bool(false),
                reason: Reason::Error,
            });
        self.metrics.record_flag_evaluation(key, &resolution);
        resolution
    }

    /// Re-reads the file and swaps the flags in when its content changed and
    /// is valid. Broken content leaves the previous flags in use.
    pub fn reload_if_changed(&self) -> Reload {
        let Some(path) = &self.path else {
            return Reload::Unchanged;
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(source) => {
                // Report a vanished file once, then wait for it to come back.
                let mut last = self
                    .last_read
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.is_none() {
                    return Reload::Unchanged;
                }
                *last = None;
                return Reload::Failed(FlagsError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        {
            let mut last = self
                .last_read
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.as_deref() == Some(bytes.as_slice()) {
                return Reload::Unchanged;
            }
            *last = Some(bytes.clone());
        }
        match parse_bytes(&bytes, path) {
            Ok(set) => {
                let flags = set.len();
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
                Reload::Reloaded { flags }
            }
            Err(err) => Reload::Failed(err),
        }
    }

    /// Checks the file every `every` until `shutdown` turns true, logging each
    /// reload and each error.
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let path = path.display().to_string();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            match self.reload_if_changed() {
                Reload::Unchanged => {}
                Reload::Reloaded { flags } => {
                    log::info("flags reloaded", &[("file", &path), ("flags", &flags)])
                }
                Reload::Failed(err) => log::error(
                    "flags file error, keeping the last good flags",
                    &[("file", &path), ("error", &log::chain(&err))],
                ),
            }
        }
    }
}

fn parse_bytes(bytes: &[u8], path: &Path) -> Result<FlagSet, FlagsError> {
    let text = std::str::from_utf8(bytes).map_err(|source| FlagsError::NotUtf8 {
        path: path.to_owned(),
        source,
    })?;
    FlagSet::parse(text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> FlagSet {
        FlagSet::parse(json, Path::new("test.json")).expect("valid flags")
    }

    fn err(json: &str) -> String {
        let e = FlagSet::parse(json, Path::new("test.json")).expect_err("invalid flags");
        log::chain(&e)
    }

    fn ctx(key: &str) -> EvaluationContext<'_> {
        EvaluationContext {
            targeting_key: Some(key),
        }
    }

    #[test]
    fn murmur3_matches_reference_vectors() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
        assert_eq!(murmur3_32(b"Hello, world!", 1234), 0xfaf6_cdb3);
        assert_eq!(
            murmur3_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2e4f_f723
        );
    }

    const COLORS: &str =
        r##"{"red": "#FF0000", "blue": "#0000FF", "green": "#00FF00", "yellow": "#FFFF00"}"##;

    fn color_flag(key: &str, fractional: &str) -> FlagSet {
        set(&format!(
            r#"{{"flags": {{"{key}": {{"state": "ENABLED", "variants": {COLORS}, "defaultVariant": "red",
                "targeting": {{"fractional": {fractional}}}}}}}}}"#
        ))
    }

    fn variant(flags: &FlagSet, key: &str, targeting_key: Option<&str>) -> (String, Reason) {
        let r = flags
            .evaluate(key, &EvaluationContext { targeting_key })
            .expect("flag exists");
        (r.variant, r.reason)
    }

    /// The same assignments as flagd's own tests (core/pkg/evaluator/fractional_test.go),
    /// with the email passed as a literal bucketing value.
    #[test]
    fn fractional_assigns_like_flagd() {
        let cases = [
            ("headerColor", "rachel@faas.com", "yellow"),
            ("headerColor", "monica@faas.com", "blue"),
            ("headerColor", "joey@faas.com", "red"),
            ("headerColor", "ross@faas.com", "green"),
        ];
        for (key, email, expected) in cases {
            let rule = format!(
                r#"[{{"cat": [{{"var": "$flagd.flagKey"}}, "{email}"]}}, ["red",25],["blue",25],["green",25],["yellow",25]]"#
            );
            let flags = color_flag(key, &rule);
            assert_eq!(
                variant(&flags, key, None),
                (expected.to_owned(), Reason::TargetingMatch),
                "{email}"
            );
        }
        let seeded = [
            ("rachel@faas.com", "green"),
            ("monica@faas.com", "red"),
            ("joey@faas.com", "green"),
            ("ross@faas.com", "green"),
        ];
        for (email, expected) in seeded {
            let rule = format!(
                r#"[{{"cat": ["my-seed", "{email}"]}}, ["red",25],["blue",25],["green",25],["yellow",25]]"#
            );
            let flags = color_flag("customSeededHeaderColor", &rule);
            assert_eq!(
                variant(&flags, "customSeededHeaderColor", None).0,
                expected,
                "{email}"
            );
        }
        // Without a bucketing value: flagKey + targetingKey.
        let flags = color_flag("headerColor", r#"[["blue",50],["green",50]]"#);
        assert_eq!(
            variant(&flags, "headerColor", Some("foo@foo.com")),
            ("blue".to_owned(), Reason::TargetingMatch)
        );
        // A variable missing from the context also falls back to flagKey + targetingKey.
        let flags = color_flag(
            "headerColor",
            r#"[{"var": "email"}, ["red",50],["blue",50]]"#,
        );
        assert_eq!(variant(&flags, "headerColor", Some("foo@foo.com")).0, "red");
        // Weights default to 1.
        let flags = color_flag(
            "headerColor",
            r#"[{"cat": [{"var": "$flagd.flagKey"}, "foo@foo.com"]}, ["red"],["blue"]]"#,
        );
        assert_eq!(variant(&flags, "headerColor", None).0, "red");
    }

    #[test]
    fn fractional_without_targeting_key_is_default() {
        let flags = color_flag("headerColor", r#"[["blue",50],["green",50]]"#);
        assert_eq!(
            variant(&flags, "headerColor", None),
            ("red".to_owned(), Reason::Default)
        );
    }

    #[test]
    fn fractional_is_stable_and_splits_evenly() {
        let flags = set(include_str!("../flags.json"));
        let key = "new-checkout-button";
        let n = 20_000;
        let mut on = 0;
        for i in 0..n {
            let session = format!("session-{i}");
            let first = flags.evaluate(key, &ctx(&session)).expect("flag exists");
            let again = flags.evaluate(key, &ctx(&session)).expect("flag exists");
            assert_eq!(first, again, "bucketing must be sticky for {session}");
            assert_eq!(first.reason, Reason::TargetingMatch);
            if first.variant == "on" {
                on += 1;
            }
        }
        let share = f64::from(on) / f64::from(n);
        assert!((share - 0.5).abs() < 0.01, "share on = {share}");
    }

    #[test]
    fn uneven_weights_split_in_proportion() {
        let flags = color_flag("f", r#"[["red",10],["blue",90]]"#);
        let n = 20_000;
        let red = (0..n)
            .filter(|i| variant(&flags, "f", Some(&format!("k{i}"))).0 == "red")
            .count();
        let share = red as f64 / f64::from(n);
        assert!((share - 0.10).abs() < 0.01, "share red = {share}");
    }

    #[test]
    fn static_disabled_and_missing_flags() {
        let flags = set(
            r#"{"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {
                "a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
                "b": {"state": "DISABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
                      "targeting": {"fractional": [["on", 100]]}},
                "c": {"state": "ENABLED", "variants": {"on": 0.5, "off": 0}, "defaultVariant": "on", "targeting": {}}
            }}"#,
        );
        let a = flags.evaluate("a", &ctx("s")).expect("a");
        assert_eq!(
            (a.variant.as_str(), a.value.clone(), a.reason),
            ("on", Value::Bool(true), Reason::Static)
        );
        let b = flags.evaluate("b", &ctx("s")).expect("b");
        assert_eq!((b.variant.as_str(), b.reason), ("off", Reason::Disabled));
        let c = flags.evaluate("c", &ctx("s")).expect("c");
        assert_eq!((c.value.as_f64(), c.reason), (Some(0.5), Reason::Static));
        assert!(flags.evaluate("nope", &ctx("s")).is_none());
    }

    #[test]
    fn bad_files_are_rejected_with_a_clear_message() {
        let e = err(
            "{\"flags\": {\n  \"a\": {\"state\": \"ON\", \"variants\": {\"on\": true}, \"defaultVariant\": \"on\"}}}",
        );
        assert!(e.contains("test.json is not valid flagd JSON"), "{e}");
        assert!(
            e.contains("unknown variant `ON`, expected `ENABLED` or `DISABLED`"),
            "{e}"
        );
        assert!(e.contains("line 2"), "{e}");

        let e = err(
            r#"{"flags": {"a": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "of"}}}"#,
        );
        assert_eq!(
            e,
            "flags file test.json: flag \"a\": defaultVariant \"of\" is not in variants (\"on\")"
        );

        let e = err(
            r#"{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
            "targeting": {"if": [true, "on", "off"]}}}}"#,
        );
        assert!(
            e.contains("targeting operator \"if\" is not supported"),
            "{e}"
        );

        let e = err(
            r#"{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
            "targeting": {"fractional": [["onn", 50], ["off", 50]]}}}}"#,
        );
        assert!(
            e.contains("variant \"onn\", which is not in variants (\"off\", \"on\")"),
            "{e}"
        );

        let e = err(
            r#"{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
            "targeting": {"fractional": [["on", 0.5], ["off", 50]]}}}}"#,
        );
        assert!(e.contains("must be a whole number"), "{e}");
    }

    #[test]
    fn reload_picks_up_changes_and_keeps_last_good_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("flags.json");
        let write = |json: &str| std::fs::write(&path, json).expect("write flags");
        let flag = |variant: &str| {
            format!(
                r#"{{"flags": {{"fail-latency": {{"state": "ENABLED", "variants": {{"on": 100, "off": 0}}, "defaultVariant": "{variant}"}}}}}}"#
            )
        };
        write(&flag("off"));
        let metrics = Arc::new(Metrics::new("test"));
        let store = FlagStore::load(Some(&path), metrics).expect("load");
        let current = |store: &FlagStore| {
            store
                .evaluate("fail-latency", &EvaluationContext::default())
                .variant
        };
        assert_eq!(current(&store), "off");
        assert!(matches!(store.reload_if_changed(), Reload::Unchanged));

        write(&flag("on"));
        assert!(matches!(
            store.reload_if_changed(),
            Reload::Reloaded { flags: 1 }
        ));
        assert_eq!(current(&store), "on");

        write("{\"flags\": {");
        match store.reload_if_changed() {
            Reload::Failed(e) => assert!(
                log::chain(&e).contains("flags.json is not valid flagd JSON"),
                "{e}"
            ),
            other => panic!("expected a failure, got {other:?}"),
        }
        // Reported once, and the last good flags stay in use.
        assert!(matches!(store.reload_if_changed(), Reload::Unchanged));
        assert_eq!(current(&store), "on");

        write(&flag("off"));
        assert!(matches!(
            store.reload_if_changed(),
            Reload::Reloaded { flags: 1 }
        ));
        assert_eq!(current(&store), "off");
    }

    #[test]
    fn missing_flag_falls_back_to_off_and_is_counted() {
        let metrics = Arc::new(Metrics::new("test"));
        let store = FlagStore::with_flags(FlagSet::default(), Arc::clone(&metrics));
        let r = store.evaluate("fail-crash-at-start", &EvaluationContext::default());
        assert_eq!((r.variant.as_str(), r.reason), ("off", Reason::Error));
        let text = metrics.encode().expect("encode");
        assert!(text.contains(
            "feature_flag_evaluation_requests_total{feature_flag_key=\"fail-crash-at-start\",feature_flag_result_variant=\"off\",feature_flag_provider_name=\"flagd-file\",feature_flag_result_reason=\"ERROR\"} 1"
        ), "{text}");
    }
}
