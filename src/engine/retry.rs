//! The one retry policy: what a failed attempt leads to. Every command's requests go through
//! it (reads in [`super::Engine::read`], writes through the planners asking
//! [`super::Engine::decide`]); nothing below retries on its own, so attempts never nest.

use crate::api_error::ApiError;
use rand::Rng;
use std::time::Duration;

/// Bounds on the attempts for one request, and on the waits the server may ask for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Transient failures (5xx, no answer) tried again at most this many times.
    pub max_transient: u32,
    /// Throttled answers (429, 503 with `Retry-After`) tried again at most this many times.
    pub max_throttled: u32,
    /// The longest total wait for one request, and the longest single `Retry-After` honoured:
    /// a server asking for more stops the run (resumable) instead of hanging it.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_transient: 6, max_throttled: 30, max_wait: Duration::from_secs(300) }
    }
}

/// What one request has been through so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attempts {
    pub transient: u32,
    pub throttled: u32,
    pub waited: Duration,
}

/// The policy's verdict on one failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Throttled: send again after this wait (the server's `Retry-After`, bounded).
    Throttled(Duration),
    /// Transient failure: send again after this backoff — for a write, only after asking the
    /// tenant whether the failed attempt landed.
    Transient(Duration),
    /// Not worth another attempt: the error is the request's result.
    GiveUp,
    /// The server asks to wait longer than the policy allows: stop the run (resumable).
    WaitTooLong(Duration),
}

impl RetryPolicy {
    /// Decide after `err`, and count the attempt in `a`.
    pub fn decide(&self, err: &ApiError, a: &mut Attempts) -> Decision {
        match err {
            ApiError::Throttled { retry_after, .. } => {
                if a.throttled >= self.max_throttled {
                    return Decision::GiveUp;
                }
                a.throttled += 1;
                let wait = retry_after.unwrap_or_else(|| backoff(a.throttled));
                if wait > self.max_wait || a.waited.saturating_add(wait) > self.max_wait.saturating_mul(2) {
                    return Decision::WaitTooLong(wait);
                }
                a.waited = a.waited.saturating_add(wait);
                Decision::Throttled(wait)
            }
            ApiError::Unavailable { .. } | ApiError::Transport { .. } => {
                if a.transient >= self.max_transient {
                    return Decision::GiveUp;
                }
                a.transient += 1;
                let wait = backoff(a.transient).min(self.max_wait);
                if a.waited.saturating_add(wait) > self.max_wait.saturating_mul(2) {
                    return Decision::GiveUp;
                }
                a.waited = a.waited.saturating_add(wait);
                Decision::Transient(wait)
            }
            ApiError::Auth { .. } | ApiError::Rejected { .. } => Decision::GiveUp,
        }
    }
}

/// Exponential backoff with jitter: attempt 1 → 0.25–0.5 s, doubling, capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(500).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(30));
    let cap_ms = cap.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(cap_ms / 2..=cap_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled(secs: Option<u64>) -> ApiError {
        ApiError::Throttled { status: 429, retry_after: secs.map(Duration::from_secs) }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(500));
        assert!(backoff(3) >= Duration::from_secs(2));
        assert!(backoff(20) <= Duration::from_secs(30));
    }

    #[test]
    fn retry_after_is_honoured_as_sent() {
        let p = RetryPolicy::default();
        let mut a = Attempts::default();
        assert_eq!(p.decide(&throttled(Some(7)), &mut a), Decision::Throttled(Duration::from_secs(7)));
        assert_eq!(a.throttled, 1);
    }

    #[test]
    fn a_huge_retry_after_stops_instead_of_hanging() {
        let p = RetryPolicy::default();
        let mut a = Attempts::default();
        let huge = ApiError::Throttled { status: 429, retry_after: Some(Duration::MAX) };
        assert!(matches!(p.decide(&huge, &mut a), Decision::WaitTooLong(_)));
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy { max_transient: 3, max_throttled: 2, max_wait: Duration::from_secs(3600) };
        let mut a = Attempts::default();
        let e = ApiError::Unavailable { status: 503, code: "x".into(), message: "y".into() };
        let retries = (0..10).take_while(|_| matches!(p.decide(&e, &mut a), Decision::Transient(_))).count();
        assert_eq!(retries, 3);
        let mut a = Attempts::default();
        let retries =
            (0..10).take_while(|_| matches!(p.decide(&throttled(Some(1)), &mut a), Decision::Throttled(_))).count();
        assert_eq!(retries, 2);
    }

    #[test]
    fn total_wait_is_bounded() {
        let p = RetryPolicy { max_transient: 1000, max_throttled: 1000, max_wait: Duration::from_secs(10) };
        let mut a = Attempts::default();
        let mut n = 0;
        while let Decision::Throttled(_) = p.decide(&throttled(Some(4)), &mut a) {
            n += 1;
        }
        assert_eq!(n, 5, "4 s waits fit 5 times in twice the 10 s bound");
        assert!(a.waited <= Duration::from_secs(20));
    }

    #[test]
    fn refusals_and_auth_are_never_retried() {
        let p = RetryPolicy::default();
        let mut a = Attempts::default();
        let e = ApiError::Auth { status: 401, code: "x".into(), message: "y".into() };
        assert_eq!(p.decide(&e, &mut a), Decision::GiveUp);
        let e = ApiError::Rejected { status: 400, code: "x".into(), message: "y".into(), body: String::new() };
        assert_eq!(p.decide(&e, &mut a), Decision::GiveUp);
    }
}
