//! The failure flags: what each one does to the shop when it is on.
//!
//! This module owns the meaning of `fail-error-rate`, `fail-latency`,
//! `fail-crash-at-start` and `fail-memory-leak`: how a variant's value turns
//! into a share, a delay or an amount of memory, and the memory leak itself.
//! A boolean `true` means "on with the default strength"; a number sets the
//! strength; `false`, `0`, anything else means off. Where the flags are
//! evaluated is up to the server (per request) and `run` (at start, and once a
//! second for the leak).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use crate::flags::{EvaluationContext, FlagStore};

/// The engagement flag the simulator splits sessions by.
pub const NEW_CHECKOUT_BUTTON: &str = "new-checkout-button";
/// When on, a share of `/cart` and `/checkout` requests fail with 500.
pub const FAIL_ERROR_RATE: &str = "fail-error-rate";
/// When on, shop pages answer late.
pub const FAIL_LATENCY: &str = "fail-latency";
/// When on, the process exits with status 1 right after start.
pub const FAIL_CRASH_AT_START: &str = "fail-crash-at-start";
/// When on, the process retains more memory every second.
pub const FAIL_MEMORY_LEAK: &str = "fail-memory-leak";

/// Every flag the shop understands, for `--help` and the README.
pub const KNOWN_FLAGS: [&str; 5] = [
    NEW_CHECKOUT_BUTTON,
    FAIL_ERROR_RATE,
    FAIL_LATENCY,
    FAIL_CRASH_AT_START,
    FAIL_MEMORY_LEAK,
];

/// Share of failing requests when `fail-error-rate` is simply `true`.
pub const DEFAULT_ERROR_SHARE: f64 = 0.3;
/// Extra latency when `fail-latency` is simply `true`.
pub const DEFAULT_LATENCY_MS: f64 = 800.0;
/// Leak per second when `fail-memory-leak` is simply `true`.
pub const DEFAULT_LEAK_MIB_PER_SECOND: f64 = 5.0;

/// The strength a variant's value asks for: `true` → `default`, a positive
/// number → that number, anything else → 0 (off).
fn strength(value: &Value, default: f64) -> f64 {
    match value {
        Value::Bool(true) => default,
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite() && *x > 0.0)
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The share of requests to fail, in `[0, 1]`.
pub fn error_share(value: &Value) -> f64 {
    strength(value, DEFAULT_ERROR_SHARE).min(1.0)
}

/// The extra latency to add (capped at one minute).
pub fn latency(value: &Value) -> Duration {
    Duration::from_secs_f64(strength(value, DEFAULT_LATENCY_MS).min(60_000.0) / 1000.0)
}

/// Whether the process must crash at start.
pub fn crash_at_start(value: &Value) -> bool {
    strength(value, 1.0) > 0.0
}

/// MiB to leak per second (capped at 1 GiB per second).
pub fn leak_mib_per_second(value: &Value) -> f64 {
    strength(value, DEFAULT_LEAK_MIB_PER_SECOND).min(1024.0)
}

/// Memory that is allocated on purpose and never given back.
#[derive(Debug, Default)]
pub struct MemoryLeak {
    retained: Mutex<Vec<Vec<u8>>>,
}

impl MemoryLeak {
    /// Retains `bytes` more bytes, written to so that they count as resident.
    pub fn grow(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        // Non-zero bytes: a zeroed allocation may be mapped lazily and not show in RSS.
        let block = vec![0xA5u8; bytes];
        self.retained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(block);
    }

    /// Bytes retained so far.
    pub fn retained_bytes(&self) -> usize {
        self.retained
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(Vec::len)
            .sum()
    }

    /// Every second until `shutdown`, evaluates `fail-memory-leak` and grows
    /// by what it asks for. Turning the flag off stops the growth; what leaked
    /// stays, as a real leak would.
    pub async fn run(
        self: Arc<Self>,
        flags: Arc<FlagStore>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            let resolution = flags.evaluate(FAIL_MEMORY_LEAK, &EvaluationContext::default());
            let mib = leak_mib_per_second(&resolution.value);
            self.grow((mib * 1024.0 * 1024.0) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_map_to_strengths() {
        assert_eq!(error_share(&json!(true)), 0.3);
        assert_eq!(error_share(&json!(0.5)), 0.5);
        assert_eq!(error_share(&json!(2)), 1.0);
        assert_eq!(error_share(&json!(false)), 0.0);
        assert_eq!(error_share(&json!(0)), 0.0);
        assert_eq!(error_share(&json!("on")), 0.0);
        assert_eq!(latency(&json!(true)), Duration::from_millis(800));
        assert_eq!(latency(&json!(250)), Duration::from_millis(250));
        assert_eq!(latency(&json!(false)), Duration::ZERO);
        assert!(crash_at_start(&json!(true)));
        assert!(!crash_at_start(&json!(false)));
        assert_eq!(leak_mib_per_second(&json!(true)), 5.0);
        assert_eq!(leak_mib_per_second(&json!(-3)), 0.0);
    }

    #[test]
    fn leak_retains_memory() {
        let leak = MemoryLeak::default();
        leak.grow(1024 * 1024);
        leak.grow(0);
        leak.grow(1024 * 1024);
        assert_eq!(leak.retained_bytes(), 2 * 1024 * 1024);
    }
}
