//! The tenant's clock, learned from `Date` headers. A wrong local clock is the top cause of
//! failed activations, so codes are computed from server time, not local time.
//!
//! `Date` has one-second resolution. Each response bounds the offset: the server's second
//! `D` was current somewhere between sending (local `s`) and receiving (local `r`), so
//! `offset ∈ [D - r, D + 1 - s]`. Intersecting the bounds of every response narrows it.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Warn when the tenant's clock and ours differ by more than this (codes still come from
/// the tenant's clock, but a local clock this far off is worth fixing).
pub const WARN_OFFSET_MS: i64 = 5_000;

#[derive(Debug, Default)]
pub struct ServerClock {
    inner: Mutex<Bounds>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Bounds {
    /// Milliseconds; `None` until the first `Date` header.
    lo: Option<i64>,
    hi: Option<i64>,
}

fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

impl ServerClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock with a known offset (tests, `--clock-offset`).
    pub fn with_offset(offset_ms: i64) -> Self {
        Self { inner: Mutex::new(Bounds { lo: Some(offset_ms), hi: Some(offset_ms) }) }
    }

    /// Record one response's `Date` header.
    pub fn observe(&self, date: SystemTime, sent: SystemTime, received: SystemTime) {
        let d = millis(date);
        let lo = d - millis(received);
        let hi = d + 1000 - millis(sent);
        let mut b = self.inner.lock().unwrap();
        let new_lo = b.lo.map_or(lo, |x| x.max(lo));
        let new_hi = b.hi.map_or(hi, |x| x.min(hi));
        if new_lo <= new_hi {
            *b = Bounds { lo: Some(new_lo), hi: Some(new_hi) };
        } else {
            // Inconsistent: the server clock jumped (or was adjusted). Start over from this one.
            *b = Bounds { lo: Some(lo), hi: Some(hi) };
        }
    }

    /// Best estimate of server minus local time, milliseconds (`None` before any response).
    pub fn offset_ms(&self) -> Option<i64> {
        let b = *self.inner.lock().unwrap();
        Some((b.lo? + b.hi?) / 2)
    }

    /// Half-width of the uncertainty, milliseconds.
    pub fn uncertainty_ms(&self) -> Option<i64> {
        let b = *self.inner.lock().unwrap();
        Some((b.hi? - b.lo?) / 2)
    }

    /// The server's current time, Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        millis(SystemTime::now()) + self.offset_ms().unwrap_or(0)
    }

    /// The server's current time as a `SystemTime`.
    pub fn now(&self) -> SystemTime {
        let ms = self.now_ms();
        if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms as u64)
        } else {
            UNIX_EPOCH
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_narrow_to_the_true_offset() {
        let clock = ServerClock::new();
        let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // True offset +90.3 s; responses at different sub-second phases.
        for phase_ms in [0u64, 250, 500, 750, 900] {
            let sent = base + Duration::from_millis(phase_ms * 10 + phase_ms);
            let received = sent + Duration::from_millis(20);
            let server_ms = millis(sent) + 90_300 + 10;
            let date = UNIX_EPOCH + Duration::from_secs((server_ms / 1000) as u64);
            clock.observe(date, sent, received);
        }
        let off = clock.offset_ms().unwrap();
        assert!((off - 90_300).abs() <= 500, "{off}");
    }
}
