//! The run's counters, for the summary record. Every request sent is counted here (the HTTP
//! layer bumps `requests`), so the summary's `requests` is what the tenant saw.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    /// Moving average of request round trips, microseconds (0 until the first answer).
    pub latency_ewma_us: AtomicU64,
}

impl Stats {
    /// Fold one round trip into the moving average (weight 1/5: recent traffic dominates).
    pub fn record_latency(&self, d: Duration) {
        let sample = d.as_micros() as u64;
        let _ = self.latency_ewma_us.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
            Some(if old == 0 { sample } else { (old * 4 + sample) / 5 })
        });
    }

    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
