//! A model tenant for the engine's unit tests: a token bucket, as Graph's limits are.

use std::time::Duration;
use tokio::time::Instant;

/// A token-bucket tenant: `cap` writes per second (which may change during the run), a
/// bucket of `burst`.
pub struct Bucket {
    pub caps: Vec<(Duration, f64)>,
    pub start: Instant,
    pub burst: f64,
    pub tokens: f64,
    pub last: Instant,
    pub throttled: u64,
}

impl Bucket {
    fn cap(&self, at: Instant) -> f64 {
        let t = at.duration_since(self.start);
        self.caps.iter().rev().find(|(from, _)| t >= *from).map_or(self.caps[0].1, |(_, c)| *c)
    }

    pub fn take(&mut self, at: Instant) -> bool {
        let cap = self.cap(at);
        self.tokens = (self.tokens + cap * at.duration_since(self.last).as_secs_f64()).min(self.burst);
        self.last = at;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.throttled += 1;
            false
        }
    }
}
