//! Request pacing shared by every worker: a global rate cap (GCRA via `governor`), a
//! throttle gate that holds *all* workers after a 429/503 `Retry-After`, and backoff with
//! jitter for failures that name no wait.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

pub struct Pacer {
    limiter: Option<DefaultDirectRateLimiter>,
    /// No request may start before this instant (set by `Retry-After`).
    gate: Mutex<Instant>,
}

impl Pacer {
    /// `rate`: requests per second; `None` or non-positive: unlimited.
    pub fn new(rate: Option<f64>) -> Self {
        let limiter = rate.filter(|r| r.is_finite() && *r > 0.0).and_then(|r| {
            // Evenly spaced, with a burst of one second's worth: after a pause (every token
            // waits out the end of a step together) the tenant's bucket has refilled, and the
            // burst spends what it saved instead of losing that time for good.
            let period = Duration::from_secs_f64(1.0 / r);
            let burst = NonZeroU32::new((r.round() as u32).clamp(1, 1000)).expect("at least 1");
            Quota::with_period(period).map(|q| RateLimiter::direct(q.allow_burst(burst)))
        });
        Self { limiter, gate: Mutex::new(Instant::now()) }
    }

    /// Wait for the gate, then for a rate slot (writes).
    pub async fn ready(&self) {
        self.gate_ready().await;
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
    }

    /// Wait for the throttle gate only (reads: the cap is on writes, which is what tenants
    /// and the portal's documented 200-per-5-minutes limit count).
    pub async fn gate_ready(&self) {
        loop {
            let gate = *self.gate.lock().unwrap();
            if gate > Instant::now() {
                tokio::time::sleep_until(gate).await;
                continue;
            }
            break;
        }
    }

    /// Hold every worker for `wait` (the server's `Retry-After`).
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut gate = self.gate.lock().unwrap();
        if until > *gate {
            *gate = until;
        }
    }
}

/// Exponential backoff with full jitter: attempt 1 → up to 0.5 s, doubling, capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(500).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(30));
    let ms = rand::rng().random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(500));
        assert!(backoff(3) >= Duration::from_secs(2));
        assert!(backoff(20) <= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn gate_holds_everyone() {
        let p = Pacer::new(None);
        p.hold(Duration::from_secs(5));
        let start = Instant::now();
        p.ready().await;
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
