//! How troubleshoot words its proof: ages, event lines with count and age,
//! what an exit code usually means, the telling line of a log, memory
//! quantities.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

/// `45s`, `12m`, `3h`, `2d`: how long ago `then` was.
pub fn age(now: Timestamp, then: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(then.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The last time an event was seen: the series' last observation, else
/// `lastTimestamp`, else `eventTime` (events.k8s.io writers), else creation.
pub fn event_last_seen(event: &Event) -> Option<Timestamp> {
    event
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| event.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// How many times an event happened (`series.count` or `count`, at least 1).
pub fn event_count(event: &Event) -> i32 {
    event
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(event.count)
        .unwrap_or(1)
        .max(1)
}

/// `event Unhealthy on pod/checkout-…, 42× in the last 10m, last 1m ago: Readiness probe failed: …`.
pub fn event_line(event: &Event, now: Timestamp) -> String {
    let object = format!(
        "{}/{}",
        event
            .involved_object
            .kind
            .as_deref()
            .unwrap_or("object")
            .to_ascii_lowercase(),
        event.involved_object.name.as_deref().unwrap_or("?")
    );
    let count = event_count(event);
    let last = event_last_seen(event)
        .map(|t| format!(", last {} ago", age(now, t)))
        .unwrap_or_default();
    let first = event
        .first_timestamp
        .as_ref()
        .map(|t| format!(" over {}", age(now, t.0)))
        .filter(|_| count > 1)
        .unwrap_or_default();
    format!(
        "event {} on {object}: {count}×{first}{last}: {}",
        event.reason.as_deref().unwrap_or("?"),
        event.message.as_deref().unwrap_or("").trim()
    )
}

/// What an exit code usually means.
pub fn exit_meaning(code: i32) -> String {
    let meaning = match code {
        0 => "the process ended on its own (exit 0) — a server should not",
        1 => "the application exited with an error",
        2 => "misuse: bad arguments or configuration, as the program reports it",
        126 => "the command cannot be executed (permissions, not a binary)",
        127 => "the command was not found in the image",
        128 => "invalid exit argument",
        134 => "SIGABRT: the process aborted (a failed assertion, an abort())",
        137 => "SIGKILL: killed from outside — the memory limit (OOM) or a failed liveness probe",
        139 => "SIGSEGV: the process crashed on a memory access",
        143 => "SIGTERM: asked to stop (a rollout, a liveness probe, a node drain)",
        c if c > 128 => return format!("exit code {c}: killed by signal {}", c - 128),
        c => return format!("exit code {c}: an application-defined error"),
    };
    format!("exit code {code}: {meaning}")
}

/// Words that mark a log line as the one that says what went wrong.
const TELLING: &[&str] = &[
    "fatal",
    "panic",
    "error",
    "exception",
    "invalid",
    "failed",
    "timeout",
    "timed out",
    "refused",
    "cannot",
    "unable",
    "missing",
];

/// The line of a log that says what went wrong: the last line with a
/// telling word, else the last non-empty line.
pub fn telling_line(lines: &[String]) -> Option<&str> {
    lines
        .iter()
        .rev()
        .find(|l| {
            let lower = l.to_ascii_lowercase();
            TELLING.iter().any(|w| lower.contains(w))
        })
        .or_else(|| lines.iter().rev().find(|l| !l.trim().is_empty()))
        .map(|l| l.trim())
}

/// A log line without its leading timestamp, for a title.
pub fn without_timestamp(line: &str) -> &str {
    match line.split_once(char::is_whitespace) {
        Some((first, rest)) if first.parse::<Timestamp>().is_ok() => rest.trim_start(),
        _ => line,
    }
}

/// A memory quantity in bytes (`64Mi`, `1G`, `134217728`), for comparing.
pub fn bytes(quantity: &str) -> Option<u64> {
    let q = quantity.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (number, unit) = q.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        _ => return None,
    };
    Some((number * factor) as u64)
}

/// Twice a memory quantity, written as Kubernetes writes it (`64Mi` → `128Mi`).
pub fn doubled(quantity: &str) -> String {
    let q = quantity.trim();
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    match q[..split].parse::<u64>() {
        Ok(n) => format!("{}{}", n * 2, &q[split..]),
        Err(_) => format!("more than {q}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_say_what_they_usually_mean() {
        assert!(exit_meaning(137).contains("OOM"));
        assert_eq!(exit_meaning(3), "exit code 3: an application-defined error");
        assert_eq!(exit_meaning(130), "exit code 130: killed by signal 2");
    }

    #[test]
    fn the_telling_line_is_the_last_error_not_the_last_line() {
        let lines: Vec<String> = ["starting", "FATAL: bad PORT \"eighty\"", "shutting down"]
            .map(String::from)
            .to_vec();
        assert_eq!(telling_line(&lines), Some("FATAL: bad PORT \"eighty\""));
    }

    #[test]
    fn memory_quantities_compare_and_double() {
        assert_eq!(bytes("64Mi"), Some(64 * 1024 * 1024));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(doubled("64Mi"), "128Mi");
    }

    #[test]
    fn ages_are_short() {
        let now: Timestamp = "2026-11-27T09:00:00Z".parse().expect("a time");
        let then: Timestamp = "2026-11-27T08:56:00Z".parse().expect("a time");
        assert_eq!(age(now, then), "4m");
    }
}
