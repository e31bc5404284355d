//! One-line log events on stderr, in logfmt.
//!
//! Each event is one line: `ts=… level=… msg="…" key=value …`, which reads
//! well in a terminal and in `kubectl logs`, and parses with any logfmt tool.
//! The shop logs few events (start, flags reloaded, flags file error, crash
//! at start, shutdown), so a logging framework would be more than it needs.

use std::fmt::{Display, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Logs an event at level `info`.
pub fn info(msg: &str, fields: &[(&str, &dyn Display)]) {
    emit("info", msg, fields);
}

/// Logs an event at level `error`.
pub fn error(msg: &str, fields: &[(&str, &dyn Display)]) {
    emit("error", msg, fields);
}

/// An error and its sources joined by `: `, printed once.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn emit(level: &str, msg: &str, fields: &[(&str, &dyn Display)]) {
    let line = format_line(SystemTime::now(), level, msg, fields);
    // A closed stderr must not take the shop down; there is nowhere else to report it.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Formats one event; public within the crate for tests.
pub(crate) fn format_line(
    now: SystemTime,
    level: &str,
    msg: &str,
    fields: &[(&str, &dyn Display)],
) -> String {
    let mut line = format!("ts={} level={level} msg={}", rfc3339(now), quote(msg));
    for (key, value) in fields {
        let _ = write!(line, " {key}={}", quote(&value.to_string()));
    }
    line.push('\n');
    line
}

/// Quotes a value when logfmt needs it (spaces, quotes, `=`, control characters).
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=');
    if plain {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn rfc3339(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_a_logfmt_line() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_199_123); // 2024-02-29T23:59:59.123Z
        let line = format_line(
            t,
            "info",
            "flags reloaded",
            &[("file", &"a b.json"), ("flags", &5), ("q", &"say \"hi\"")],
        );
        assert_eq!(
            line,
            "ts=2024-02-29T23:59:59.123Z level=info msg=\"flags reloaded\" file=\"a b.json\" flags=5 q=\"say \\\"hi\\\"\"\n"
        );
    }

    #[test]
    fn epoch_and_leap_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
