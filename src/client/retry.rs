//! The one transport policy of every client — Grafana, Prometheus, the
//! Kubernetes API server and the service proxy through it: which requests
//! are sent again, after what, how often and how long apart, and the one
//! request log (`-v`).
//!
//! Owns: [`RetryPolicy`] (bounded exponential backoff with jitter), the
//! rule of when a request may be replayed ([`Replay`], judged on what an
//! attempt came to, [`Tried`]), the loop that applies both ([`send`]), the
//! log line of every attempt ([`log`]), and waiting for a service to come up
//! until a deadline ([`Deadline`], [`until`]), which `verify --wait` and
//! planning use. Does not own how a request is made or what an answer means:
//! each client makes its own attempts and turns the last one into its own
//! error.
//!
//! The rule, for every service alike: an answer of 429 (honouring
//! `Retry-After` up to [`MAX_RETRY_AFTER`]), 502, 503 or 504 says "come back
//! later" ([`transient`]) and is retried; so is a request that never reached
//! the server (no connection). A read is also retried after a lost answer (a
//! timeout, a connection broken once sent); a write never is — it may have
//! acted. Any other answer stands.

use std::future::Future;
use std::time::{Duration, Instant};

/// The longest wait a `Retry-After` may ask for; a longer one ends the retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Bounded exponential backoff with jitter: after failed attempt `n` (from 1)
/// the wait is between half and all of `min(base * 2^(n-1), cap)`, so that
/// clients that failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt (before jitter).
    pub base: Duration,
    /// Upper bound of any single wait.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
        }
    }
}

/// Whether a request may be sent again after an unclear outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// A read: retried on 429/502/503/504 and on any failure to get an answer.
    Read,
    /// A read whose every answer is final (a readiness 503, a reload's 500):
    /// retried only when no answer came.
    ReadAnyAnswer,
    /// A write: retried only when it certainly did not act (no connection) or
    /// an answer asks for it (429, 502/503/504); never after a lost answer (a
    /// timeout or a broken connection once sent). A gateway status may follow
    /// a write that did land: onramp's writes are conditional (a dashboard
    /// save names the version it replaces, a folder create meets 409, an
    /// apply is declarative, a delete names the object's uid), so a replay is
    /// refused or changes nothing rather than acting twice.
    Write,
}

impl Replay {
    /// The replay rule of an HTTP method: GET and HEAD are reads.
    pub fn of_method(method: &str) -> Replay {
        match method {
            "GET" | "HEAD" => Replay::Read,
            _ => Replay::Write,
        }
    }
}

/// What one attempt came to, as the policy judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// An HTTP answer, with the wait its `Retry-After` asked for.
    Answered {
        /// The status.
        status: u16,
        /// `Retry-After`, when the answer carried a readable one.
        retry_after: Option<Duration>,
    },
    /// No answer, and the request certainly never reached the server: no
    /// connection was made.
    NotSent,
    /// No answer, and the request may have reached the server: a timeout,
    /// or a connection broken once sent.
    Lost,
    /// The request cannot be sent at all (it could not be built): sending it
    /// again would fail the same way.
    Unsendable,
}

/// Whether an answer's status says "come back later": 429, 502, 503, 504.
/// The only statuses a request is sent again for, and, with no answer at
/// all, the only failures waiting for a service ([`until`]) waits out.
pub fn transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The longest wait after failed attempt `attempt` (counted from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The wait actually taken: [`RetryPolicy::backoff`] with equal jitter.
    pub fn jittered(&self, attempt: u32) -> Duration {
        let full = self.backoff(attempt);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// How long to wait before sending again after attempt `attempt` came to
    /// `tried`; `None`: its outcome stands (see the module's rule).
    pub fn wait_after(&self, tried: Tried, replay: Replay, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts.max(1) {
            return None;
        }
        let backoff = Some(self.jittered(attempt));
        match tried {
            Tried::Answered { .. } if replay == Replay::ReadAnyAnswer => None,
            Tried::Answered {
                status: 429,
                retry_after: Some(wait),
            } => (wait <= MAX_RETRY_AFTER).then_some(wait),
            Tried::Answered { status, .. } if transient(status) => backoff,
            Tried::Answered { .. } | Tried::Unsendable => None,
            Tried::NotSent => backoff,
            Tried::Lost if replay == Replay::Write => None,
            Tried::Lost => backoff,
        }
    }
}

/// One request, as the log names it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method (`GET`).
    pub method: &'a str,
    /// The full URL, without credentials.
    pub url: &'a str,
    /// The replay rule.
    pub replay: Replay,
}

/// Sends `request` under `policy`: `once` makes one attempt, `judge` says
/// what it came to and how the log line names its outcome. Every attempt is
/// logged; the last one's result is returned with the number of attempts.
pub async fn send<T, F, Fut>(
    policy: &RetryPolicy,
    request: Request<'_>,
    mut once: F,
    judge: impl Fn(&T) -> (Tried, String),
) -> (T, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let outcome = once().await;
        let (tried, said) = judge(&outcome);
        log(
            request.method,
            request.url,
            &said,
            started.elapsed(),
            attempt,
        );
        match policy.wait_after(tried, request.replay, attempt) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return (outcome, attempt),
        }
    }
}

/// The request log: one line per attempt at `-v`. The URL never carries
/// credentials: they left it when it was parsed
/// ([`crate::client::http::parse_base_url`]), and the API server's come from
/// the kubeconfig, never from its URL.
pub fn log(method: &str, url: &str, outcome: &str, elapsed: Duration, attempt: u32) {
    tracing::info!(
        target: "onramp::http",
        "{method} {url} -> {outcome} in {} ms (attempt {attempt})",
        elapsed.as_millis()
    );
}

/// Waiting for a service to come up (`verify --wait`, planning against a
/// Prometheus that is starting): the policy's rule of what is worth another
/// try, paced by a fixed interval up to a deadline instead of by a count and
/// a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When waiting ends; `None`: no waiting, one try.
    pub until: Option<Instant>,
    /// The pause between tries.
    pub interval: Duration,
}

impl Deadline {
    /// The pause before another try: the interval, the last one cut short to
    /// end at the deadline itself (so `--wait 2m` waits two minutes, not
    /// less); `None` once the deadline has passed, or without one.
    pub fn next_wait(&self) -> Option<Duration> {
        let until = self.until?;
        let now = Instant::now();
        (now < until).then(|| self.interval.min(until - now))
    }

    /// Whether a whole interval still ends before the deadline: room for
    /// another round of checks.
    pub fn room_for_a_round(&self) -> bool {
        self.until.is_some_and(|d| {
            Instant::now()
                .checked_add(self.interval)
                .is_some_and(|t| t < d)
        })
    }
}

/// Calls `attempt` until it succeeds, fails in a way waiting cannot cure
/// (`transient` says which may be cured), or `deadline` leaves no time for
/// another try.
pub async fn until<T, E, F, Fut>(
    deadline: Deadline,
    mut attempt: F,
    transient: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    loop {
        match attempt().await {
            Err(err) if transient(&err) => match deadline.next_wait() {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(err),
            },
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, retry_after: Option<u64>) -> Tried {
        Tried::Answered {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_within_half() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_millis(500),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(3), Duration::from_millis(500));
        assert_eq!(policy.backoff(40), Duration::from_millis(500));
        for _ in 0..100 {
            let wait = policy.jittered(2);
            assert!(
                wait >= Duration::from_millis(200) && wait <= Duration::from_millis(400),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn a_too_long_retry_after_ends_the_retries_and_writes_are_not_retried_on_500() {
        let policy = RetryPolicy::default();
        let long = answered(429, Some(3600));
        assert_eq!(policy.wait_after(long, Replay::Read, 1), None);
        let short = answered(429, Some(1));
        assert_eq!(
            policy.wait_after(short, Replay::Write, 1),
            Some(Duration::from_secs(1))
        );
        for replay in [Replay::Read, Replay::Write] {
            for status in [400, 401, 403, 404, 409, 412, 422, 500] {
                assert_eq!(
                    policy.wait_after(answered(status, None), replay, 1),
                    None,
                    "{status}"
                );
            }
            assert!(policy.wait_after(answered(503, None), replay, 1).is_some());
        }
        assert_eq!(
            policy.wait_after(answered(503, None), Replay::ReadAnyAnswer, 1),
            None
        );
    }

    #[test]
    fn a_lost_answer_is_retried_for_reads_only_and_attempts_are_bounded() {
        let policy = RetryPolicy::default();
        assert!(policy.wait_after(Tried::Lost, Replay::Read, 1).is_some());
        assert!(
            policy
                .wait_after(Tried::Lost, Replay::ReadAnyAnswer, 1)
                .is_some()
        );
        assert_eq!(policy.wait_after(Tried::Lost, Replay::Write, 1), None);
        assert!(
            policy
                .wait_after(Tried::NotSent, Replay::Write, 1)
                .is_some()
        );
        assert_eq!(policy.wait_after(Tried::Unsendable, Replay::Read, 1), None);
        assert_eq!(
            policy.wait_after(answered(503, None), Replay::Read, 3),
            None
        );
        assert_eq!(
            RetryPolicy::none().wait_after(Tried::NotSent, Replay::Read, 1),
            None
        );
    }

    #[test]
    fn only_get_and_head_are_reads() {
        assert_eq!(Replay::of_method("GET"), Replay::Read);
        assert_eq!(Replay::of_method("HEAD"), Replay::Read);
        for write in ["POST", "PATCH", "PUT", "DELETE"] {
            assert_eq!(Replay::of_method(write), Replay::Write);
        }
    }

    #[tokio::test]
    async fn waiting_stops_at_the_deadline_and_on_a_failure_waiting_cannot_cure() {
        let mut tries = 0;
        let deadline = Deadline {
            until: Some(Instant::now() + Duration::from_millis(120)),
            interval: Duration::from_millis(50),
        };
        let outcome: Result<(), u16> = until(
            deadline,
            || {
                tries += 1;
                async { Err(503) }
            },
            |status| transient(*status),
        )
        .await;
        assert_eq!(outcome, Err(503));
        assert!((3..=4).contains(&tries), "{tries}");
        let mut tries = 0;
        let refused: Result<(), u16> = until(
            deadline,
            || {
                tries += 1;
                async { Err(403) }
            },
            |status| transient(*status),
        )
        .await;
        assert_eq!((refused, tries), (Err(403), 1));
        let none = Deadline {
            until: None,
            interval: Duration::from_millis(50),
        };
        assert_eq!(none.next_wait(), None);
        assert!(!none.room_for_a_round());
    }
}
