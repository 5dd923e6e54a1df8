//! When writes may go: slots spaced at the pace, and the gates that hold every worker.
//!
//! The pace itself is the rate controller's ([`super::control`]); the schedule turns it into
//! moments, and keeps what the tenant said about *when*:
//! - **Slots.** One write per `1 / rate`. Slots are never booked ahead (a worker that books a
//!   slot a second away would send at a pace since changed): waiting workers look again at
//!   the next free moment and one of them wins it. After a lull at most [`CATCH_UP`] missed
//!   slots are made up at once; a cut drops the slot booked at the old pace.
//! - **The gate.** A throttled read holds every worker until its `Retry-After` has passed;
//!   they leave one slot at a time. (A "storm" hold on throttled writes was measured across
//!   the pace table and bought nothing on any shape: closures do its work, and it went.)
//! - **Closures** ([`super::closure`]): a long `Retry-After` shuts the tenant for everyone
//!   until its window ends, and the budget learnt from closures shuts it before a refusal.

use super::closure::{Closures, Refusal};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Write slots a schedule that fell behind may make up at once.
pub const CATCH_UP: f64 = 3.0;

pub struct Schedule {
    born: Instant,
    /// The next free write slot.
    next_slot: Instant,
    /// Has a write slot been claimed yet (is there a schedule to catch up with)?
    sends_started: bool,
    /// No write (nor read) starts before this (a throttled read's `Retry-After`).
    gate: Instant,
    /// Writes claimed in the last second (is the pace reached at all?).
    sends: VecDeque<Instant>,
    closures: Closures,
    /// Which mechanisms are on (all, but in the pace table's ablation).
    catch_up: bool,
    closing: bool,
}

impl Schedule {
    pub fn new(closures: Closures, catch_up: bool, closing: bool) -> Self {
        let now = Instant::now();
        Self {
            born: now,
            next_slot: now,
            sends_started: false,
            gate: now,
            sends: VecDeque::new(),
            closures,
            catch_up,
            closing,
        }
    }

    /// Claim the next write slot at `rate` now, or say when to look again.
    pub fn claim(&mut self, now: Instant, rate: f64) -> Result<(), Instant> {
        if now < self.gate {
            return Err(self.gate);
        }
        if !rate.is_finite() {
            return Ok(());
        }
        if now < self.next_slot {
            return Err(self.next_slot);
        }
        if self.closing {
            self.closures.claim(now)?;
        }
        let interval = Duration::from_secs_f64(1.0 / rate);
        // Slots missed while every worker waited (a round trip for the code window's answer,
        // a slow journal write) are made up, up to [`CATCH_UP`]: the tenant refilled as many
        // meanwhile, since the pace never exceeds what it takes. Lost instead, they let its
        // bucket fill, and a full bucket overflows: the refill it drops makes the next pair
        // of 429s understate its rate. Before the first write there is nothing to make up
        // (one slot of credit, as ever), and none across a gate: a release is spaced.
        let credit = if self.sends_started && self.catch_up { interval.mul_f64(CATCH_UP) } else { interval };
        let earliest = now.checked_sub(credit).unwrap_or(now).max(self.gate);
        self.sends_started = true;
        self.next_slot = self.next_slot.max(earliest) + interval;
        self.sends.push_back(now);
        while self.sends.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1)) {
            self.sends.pop_front();
        }
        Ok(())
    }

    /// The pace was cut to `rate`: the next write waits a whole interval of the new pace
    /// after the last one (the slot booked at the old pace is not kept).
    pub fn cut(&mut self, rate: f64) {
        if let Some(last) = self.sends.back() {
            self.next_slot = self.next_slot.max(*last + Duration::from_secs_f64(1.0 / rate));
        }
    }

    /// Did writes go out at `rate` over the last `span` (at most a second)?
    pub fn reaching(&self, now: Instant, span: Duration, rate: f64) -> bool {
        let span = span.min(Duration::from_secs(1)).min(now.duration_since(self.born));
        let sent = self.sends.iter().filter(|t| now.duration_since(**t) <= span).count();
        sent as f64 >= 0.5 * rate * span.as_secs_f64()
    }

    pub fn gate(&self) -> Instant {
        self.gate
    }

    /// Hold every worker until `until`.
    pub fn hold_until(&mut self, until: Instant) {
        self.gate = self.gate.max(until);
    }

    /// A write sent at `sent` was taken.
    pub fn accepted(&mut self, sent: Instant) {
        self.closures.accepted(sent);
    }

    /// A write was refused: is the tenant shut (a closure), or was the pace too fast?
    pub fn refused(&mut self, sent: Instant, now: Instant, retry_after: Option<Duration>) -> Refusal {
        if self.closing {
            return self.closures.refused(sent, now, retry_after);
        }
        Refusal::Pace
    }

    /// The tenant said its budget is spent for `wait` (a throttle hint). True: newly closed.
    pub fn announced(&mut self, now: Instant, wait: Duration) -> bool {
        self.closing && self.closures.announced(now, wait)
    }

    /// What the window that just closed took while it was open, per second.
    pub fn take_open_rate(&mut self) -> Option<f64> {
        self.closures.take_open_rate()
    }
}
