//! Simulated users: sessions split by `new-checkout-button`, with known numbers.
//!
//! This module owns the engagement story's ground truth. Each simulated user
//! loops: start a session (its id is the flag's targeting key), evaluate
//! `new-checkout-button`, click and maybe leave as [`BEHAVIOURS`] says for the
//! variant, count it in the `user_*` metrics, then browse the shop over real
//! HTTP (`/`, `/products`, and unless the user left `POST /cart` and
//! `POST /checkout`) so that request metrics and failure flags show up too.
//!
//! Everything random comes from a SplitMix64 stream per user derived from
//! `--seed`, so the sessions — ids, variants, exits — are the same on every
//! run. [`play_session`] does no I/O and no sleeping; tests call it directly.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::faults::NEW_CHECKOUT_BUTTON;
use crate::flags::{EvaluationContext, FlagStore, Resolution};
use crate::metrics::Metrics;
use crate::rng::SplitMix64;
use crate::server::SESSION_HEADER;

/// How a session behaves for one variant of `new-checkout-button`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// The variant.
    pub variant: &'static str,
    /// Clicks in every session (exact, not random).
    pub clicks_per_session: u64,
    /// Probability that a session ends with the user leaving the page.
    pub exit_share: f64,
}

/// The one table of engagement numbers: the new button gets more clicks and
/// fewer users leaving; a third variant, `bold`, more still, so that a
/// rollout can be walked through with three distinguishable variants.
/// Dashboards and tests expect exactly these.
pub const BEHAVIOURS: [Behaviour; 3] = [
    Behaviour {
        variant: "on",
        clicks_per_session: 6,
        exit_share: 0.20,
    },
    Behaviour {
        variant: "off",
        clicks_per_session: 4,
        exit_share: 0.35,
    },
    Behaviour {
        variant: "bold",
        clicks_per_session: 8,
        exit_share: 0.10,
    },
];

/// The behaviour for a resolution: a boolean value decides (`true` → `on`,
/// `false` → `off`), otherwise the variant's name; anything unknown behaves
/// like `off`.
pub fn behaviour(resolution: &Resolution) -> &'static Behaviour {
    let name = match resolution.value {
        Value::Bool(true) => BEHAVIOURS[0].variant,
        Value::Bool(false) => BEHAVIOURS[1].variant,
        _ => resolution.variant.as_str(),
    };
    BEHAVIOURS
        .iter()
        .find(|b| b.variant == name)
        .unwrap_or(&BEHAVIOURS[1])
}

/// One played session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The session id, also the targeting key.
    pub id: String,
    /// The variant of `new-checkout-button` it saw (the label value).
    pub variant: String,
    /// Its clicks.
    pub clicks: u64,
    /// Whether the user left the page without continuing.
    pub exited: bool,
}

/// Plays one session: draws its id, evaluates the flag, decides clicks and
/// exit, and records it in the `user_*` metrics. No I/O.
pub fn play_session(flags: &FlagStore, metrics: &Metrics, rng: &mut SplitMix64) -> Session {
    let id = format!("{:016x}", rng.next_u64());
    let resolution = flags.evaluate(
        NEW_CHECKOUT_BUTTON,
        &EvaluationContext {
            targeting_key: Some(&id),
        },
    );
    let behaviour = behaviour(&resolution);
    let exited = rng.next_f64() < behaviour.exit_share;
    metrics.record_session(
        NEW_CHECKOUT_BUTTON,
        &resolution.variant,
        behaviour.clicks_per_session,
        exited,
    );
    Session {
        id,
        variant: resolution.variant,
        clicks: behaviour.clicks_per_session,
        exited,
    }
}

/// The requests a session makes. Failures (injected or not) are part of the
/// demo and are not retried; they show in the shop's own request metrics.
pub async fn visit(client: &mut Client, session: &Session) {
    let headers = [(SESSION_HEADER, session.id.as_str())];
    let _ = client.send(Method::GET, "/", &headers).await;
    let _ = client.send(Method::GET, "/products", &headers).await;
    if !session.exited {
        let _ = client.send(Method::POST, "/cart", &headers).await;
        let _ = client.send(Method::POST, "/checkout", &headers).await;
    }
}

/// Settings of the simulated traffic.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Number of simulated users (0: none).
    pub users: u32,
    /// The seed all users' randomness derives from.
    pub seed: u64,
    /// Time between the starts of one user's sessions.
    pub session_interval: Duration,
    /// Where the shop listens (loopback).
    pub target: SocketAddr,
}

/// Starts one task per user; they stop when `shutdown` turns true.
pub fn spawn(
    simulation: &Simulation,
    flags: &Arc<FlagStore>,
    metrics: &Arc<Metrics>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (0..simulation.users)
        .map(|user| {
            let task = run_user(
                user,
                simulation.clone(),
                Arc::clone(flags),
                Arc::clone(metrics),
                shutdown.clone(),
            );
            tokio::spawn(task)
        })
        .collect()
}

async fn run_user(
    user: u32,
    simulation: Simulation,
    flags: Arc<FlagStore>,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut rng = SplitMix64::for_stream(simulation.seed, u64::from(user));
    let mut client = Client::new(simulation.target);
    // Spread the users over one interval so that load is even, not in bursts.
    let offset = simulation.session_interval * user / simulation.users.max(1);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + offset,
        simulation.session_interval,
    );
    // A slow shop (fail-latency) slows the users down instead of piling sessions up.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        let session = play_session(&flags, &metrics, &mut rng);
        tokio::select! {
            () = visit(&mut client, &session) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::FlagSet;
    use std::path::Path;

    fn store(json: &str) -> (FlagStore, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new("test"));
        let set = FlagSet::parse(json, Path::new("test.json")).expect("flags");
        (FlagStore::with_flags(set, Arc::clone(&metrics)), metrics)
    }

    fn forced(variant: &str) -> String {
        format!(
            r#"{{"flags": {{"new-checkout-button": {{"state": "ENABLED",
                "variants": {{"on": true, "off": false, "bold": "bold"}}, "defaultVariant": "{variant}"}}}}}}"#
        )
    }

    /// Plays `n` sessions spread over users like the real simulator does.
    fn play(flags: &FlagStore, metrics: &Metrics, n: u64) -> Vec<Session> {
        let mut users: Vec<SplitMix64> = (0..20).map(|u| SplitMix64::for_stream(42, u)).collect();
        (0..n)
            .map(|i| {
                let rng = &mut users[(i % 20) as usize];
                play_session(flags, metrics, rng)
            })
            .collect()
    }

    fn assert_numbers(metrics: &Metrics, b: &Behaviour, min_sessions: u64) {
        let (sessions, clicks, exits) = metrics.engagement(NEW_CHECKOUT_BUTTON, b.variant);
        assert!(
            sessions >= min_sessions,
            "{} sessions for {}",
            sessions,
            b.variant
        );
        assert_eq!(
            clicks,
            sessions * b.clicks_per_session,
            "clicks for {}",
            b.variant
        );
        let share = exits as f64 / sessions as f64;
        assert!(
            (share - b.exit_share).abs() <= 0.03,
            "exit share {share:.3} for {} (expected {})",
            b.variant,
            b.exit_share
        );
    }

    #[test]
    fn each_variant_has_its_clicks_and_exit_share() {
        for b in &BEHAVIOURS {
            let (flags, metrics) = store(&forced(b.variant));
            let sessions = play(&flags, &metrics, 2_000);
            assert!(sessions.iter().all(|s| s.variant == b.variant));
            assert_numbers(&metrics, b, 2_000);
            for other in BEHAVIOURS.iter().filter(|o| o.variant != b.variant) {
                assert_eq!(
                    metrics.engagement(NEW_CHECKOUT_BUTTON, other.variant),
                    (0, 0, 0)
                );
            }
        }
    }

    #[test]
    fn default_flags_split_sessions_evenly_with_both_stories() {
        let (flags, metrics) = store(include_str!("../flags.json"));
        play(&flags, &metrics, 4_000);
        let (on, _, _) = metrics.engagement(NEW_CHECKOUT_BUTTON, "on");
        let (off, _, _) = metrics.engagement(NEW_CHECKOUT_BUTTON, "off");
        assert_eq!(on + off, 4_000);
        assert!((1_800..=2_200).contains(&on), "{on} sessions on");
        for b in &BEHAVIOURS[..2] {
            assert_numbers(&metrics, b, 1_800);
        }
        let text = metrics.encode().expect("encode");
        assert!(text.contains(&format!(
            "feature_flag_evaluation_requests_total{{feature_flag_key=\"new-checkout-button\",feature_flag_result_variant=\"on\",feature_flag_provider_name=\"flagd-file\",feature_flag_result_reason=\"TARGETING_MATCH\"}} {on}"
        )), "{text}");
    }

    #[test]
    fn a_fractional_split_over_three_variants_gives_each_its_share_and_story() {
        let (flags, metrics) = store(
            r#"{"flags": {"new-checkout-button": {"state": "ENABLED",
                "variants": {"on": true, "off": false, "bold": "bold"}, "defaultVariant": "off",
                "targeting": {"fractional": [["on", 25], ["off", 25], ["bold", 50]]}}}}"#,
        );
        play(&flags, &metrics, 8_000);
        for (b, share) in BEHAVIOURS.iter().zip([0.25, 0.25, 0.50]) {
            let (sessions, _, _) = metrics.engagement(NEW_CHECKOUT_BUTTON, b.variant);
            let got = sessions as f64 / 8_000.0;
            assert!(
                (got - share).abs() < 0.03,
                "{}: {got:.3} of the sessions",
                b.variant
            );
            assert_numbers(&metrics, b, 1_500);
        }
    }

    #[test]
    fn same_seed_same_sessions() {
        let (flags, metrics) = store(include_str!("../flags.json"));
        let a = play(&flags, &metrics, 200);
        let b = play(&flags, &metrics, 200);
        assert_eq!(a, b);
        let mut other = SplitMix64::for_stream(43, 0);
        assert_ne!(a[0], play_session(&flags, &metrics, &mut other));
    }

    #[test]
    fn behaviour_follows_boolean_value_then_name() {
        let r = |variant: &str, value: Value| Resolution {
            variant: variant.into(),
            value,
            reason: crate::flags::Reason::Static,
        };
        assert_eq!(
            behaviour(&r("treatment", Value::Bool(true))).clicks_per_session,
            6
        );
        assert_eq!(
            behaviour(&r("on", Value::Bool(false))).clicks_per_session,
            4
        );
        assert_eq!(
            behaviour(&r("on", Value::from("blue"))).clicks_per_session,
            6
        );
        assert_eq!(behaviour(&r("other", Value::Null)).clicks_per_session, 4);
        assert_eq!(
            behaviour(&r("bold", Value::from("bold"))).clicks_per_session,
            8
        );
    }
}
