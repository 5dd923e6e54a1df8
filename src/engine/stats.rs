//! The run's counters, for the summary record. Every request sent is counted here (the HTTP
//! layer bumps `requests`), so the summary's `requests` is what the tenant saw.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// One throttled answer: when, its status, and the `Retry-After` it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub at: SystemTime,
    pub status: u16,
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    /// Moving average of request round trips, microseconds (0 until the first answer).
    pub latency_ewma_us: AtomicU64,
    /// Throttled answers not yet journaled (the sink takes them: `crate::sink`).
    pub throttles: Mutex<Vec<Throttle>>,
}

impl Stats {
    /// Fold one round trip into the moving average (weight 1/5: recent traffic dominates).
    pub fn record_latency(&self, d: Duration) {
        let sample = d.as_micros() as u64;
        let _ = self.latency_ewma_us.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some(if old == 0 { sample } else { (old * 4 + sample) / 5 })
        });
    }

    /// The tenant throttled a request: kept until the sink journals it.
    pub fn note_throttled(&self, status: u16, retry_after: Option<Duration>) {
        let mut t = self.throttles.lock().unwrap_or_else(|p| p.into_inner());
        t.push(Throttle { at: SystemTime::now(), status, retry_after });
    }

    /// The throttled answers noted since the last call.
    pub fn take_throttles(&self) -> Vec<Throttle> {
        std::mem::take(&mut *self.throttles.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
