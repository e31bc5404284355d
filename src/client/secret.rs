//! The run's secrets and the one redaction step every outgoing string goes
//! through.
//!
//! A [`Secret`] remembers its value in a process-wide list when it is made;
//! basic-auth credentials also remember the base64 of `user:password` in every
//! spelling a server may echo back (standard and URL-safe, with and without
//! padding). [`redact`] replaces every remembered value in a string — error
//! messages quoting server bodies, logs, `--json`, JUnit, backups — and must
//! run before anything is cut short, so that no prefix of a secret survives a
//! truncation. [`redact_userinfo`] hides the credentials of a URL that did not
//! parse, when the parser could not say where they end.

use std::fmt;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// What replaces a secret in any text onramp shows.
pub const REDACTED: &str = "<redacted>";

/// Every secret value of this run, longest first (so that a secret containing
/// another is replaced whole).
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A credential (token or password). Only the request that sends it sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential and remembers it, so [`redact`] scrubs it anywhere.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The credential itself, for the one place that puts it on the wire.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Adds a value to the run's secrets. Empty values are ignored.
pub fn remember(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut known = KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_owned());
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Remembers what an `Authorization: Basic` header of `user:password` carries,
/// in each base64 alphabet and padding a server or proxy may echo it in.
pub fn remember_basic(user: &str, password: &str) {
    let pair = format!("{user}:{password}");
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        remember(&engine.encode(&pair));
    }
}

/// Secrets shorter than this are replaced only where they stand alone (not
/// inside a longer word), so that a one-letter test password does not turn
/// every message into noise; longer ones are replaced wherever they occur.
const SHORT_SECRET: usize = 8;

/// Replaces every secret of the run in `text` with [`REDACTED`]. Call it on
/// every string that leaves the process, before cutting it short.
pub fn redact(text: &str) -> String {
    let known = KNOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut out = text.to_owned();
    for secret in known.iter() {
        if !out.contains(secret.as_str()) {
            continue;
        }
        out = if secret.len() >= SHORT_SECRET {
            out.replace(secret.as_str(), REDACTED)
        } else {
            replace_standalone(&out, secret)
        };
    }
    out
}

/// Replaces the occurrences of `secret` not preceded or followed by a letter,
/// digit or `_`.
fn replace_standalone(text: &str, secret: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(secret) {
        let before = out.chars().last().or_else(|| rest[..at].chars().last());
        let before = if at > 0 {
            rest[..at].chars().last()
        } else {
            before
        };
        let after = rest[at + secret.len()..].chars().next();
        out.push_str(&rest[..at]);
        if word(before) || word(after) {
            out.push_str(secret);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}

/// Replaces the user info of a URL-ish string with `***`, for messages about
/// a URL that may not parse. Everything between `://` and the last `@` counts
/// as user info: a password holding `/`, `#` or `?` hides the real end of the
/// user info from a parser, and showing too little beats leaking a password.
pub fn redact_userinfo(raw: &str) -> String {
    let raw = raw.trim();
    let Some(scheme_end) = raw.find("://") else {
        return raw.to_owned();
    };
    let rest = &raw[scheme_end + 3..];
    match rest.rfind('@') {
        Some(at) => format!("{}://***@{}", &raw[..scheme_end], &rest[at + 1..]),
        None => raw.to_owned(),
    }
}

/// Standard error through [`redact`], for the `-v` log: a `tracing`
/// subscriber writes each formatted line through it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactedStderr;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = redact(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedStderr
    }
}

/// An environment lookup over fixed pairs, for tests that must not touch the
/// process environment.
#[cfg(test)]
pub(crate) fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("glsa_abc");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
    }

    #[test]
    fn userinfo_is_redacted_even_when_the_password_holds_url_delimiters() {
        assert_eq!(
            redact_userinfo("http://u:p@host:3000/x"),
            "http://***@host:3000/x"
        );
        assert_eq!(
            redact_userinfo("http://admin:p/s#s?w@host:3000/"),
            "http://***@host:3000/"
        );
        assert_eq!(redact_userinfo("http://host/path"), "http://host/path");
    }

    #[test]
    fn a_short_secret_is_redacted_only_where_it_stands_alone() {
        remember("q7");
        assert_eq!(
            redact("token q7, expected q7x or xq7 or \"q7\""),
            "token <redacted>, expected q7x or xq7 or \"<redacted>\""
        );
    }

    #[test]
    fn redaction_covers_the_secret_and_every_base64_spelling_of_basic_auth() {
        let _password = Secret::new("s3cr?t>pw");
        remember_basic("ops", "s3cr?t>pw");
        // "ops:s3cr?t>pw" in base64 holds `+`/`/` and padding, so the four
        // spellings differ.
        let std = STANDARD.encode("ops:s3cr?t>pw");
        let url = URL_SAFE_NO_PAD.encode("ops:s3cr?t>pw");
        assert_ne!(std.trim_end_matches('='), url);
        let text = format!("value=s3cr?t>pw Authorization: Basic {std} echo {url}");
        assert_eq!(
            redact(&text),
            "value=<redacted> Authorization: Basic <redacted> echo <redacted>"
        );
    }
}
