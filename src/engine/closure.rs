//! When the tenant shuts for everyone: a window spent, not a pace too fast.
//!
//! A 429 says one of two things. Against a token bucket (or a concurrency limit) it says the
//! pace was a little too fast: a write sent a moment later is taken, and the rate controller
//! steps back. Against a window ("N requests per W seconds", as Graph states its limits) it
//! says the window's budget is spent: every write is refused until the window ends, however
//! slow. The tenant says which in its `Retry-After`: a bucket asks for the time one write
//! needs (under a second at any useful rate, so `1`, Graph's whole seconds rounded up), a
//! spent window for the time it has left. So a `Retry-After` of [`CLOSED_FOR`] or more
//! **closes** the tenant: no write goes before it has passed, the pace is left as it is (it
//! was not too fast), and the refusal is no evidence about the rate.
//!
//! Closures also teach a **budget**. The writes the tenant took between one reopening and the
//! next closure are what one window holds; the time between two reopenings is the window.
//! - After one closure, the window's count is a guess (the run may have started mid-window):
//!   once that many writes went out after the reopening, one more goes alone (a probe), and
//!   the others wait for its answer — refused, it closes the tenant with one 429 instead of
//!   every write in flight.
//! - After two, count and period are known: once the count went out after a reopening, the
//!   tenant is closed by us until the next reopening is due, and no 429 is spent at all.
//!   The period is rounded up to whole seconds (the `Retry-After`s it comes from were
//!   rounded up too), so a reopening is never expected early by more than a rounding.
//!   If one is expected early anyway, the write sent into it is refused before anything
//!   was taken since the reopening: that refusal closes the tenant too, and the period
//!   grows by what the tenant asked.

use std::time::Duration;
use tokio::time::Instant;

/// A `Retry-After` this long or longer closes the tenant for everyone. A bucket of one write
/// a second or faster asks for 1 s (rounded up from less); anything longer is a window spent.
pub const CLOSED_FOR: Duration = Duration::from_secs(2);
/// While a probe's answer is awaited, other writes look again this often.
const PROBE_POLL: Duration = Duration::from_millis(5);
/// A probe whose answer never came (no reply at all) holds the others no longer than this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What one window held, and how long it lasted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub count: u32,
    pub period: Duration,
}

/// How a refusal is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant is shut until the given moment: not a pace signal.
    Closed,
    /// The pace was too fast: for the rate controller.
    Pace,
}

#[derive(Debug, Default)]
pub struct Closures {
    /// No write before this (the tenant's word, or the budget's forecast).
    shut_until: Option<Instant>,
    /// Was the current shutting forecast by the budget (not said by the tenant)?
    forecast: bool,
    /// When the current closure's first refusal arrived: writes sent before it and refused
    /// belong to it.
    began: Option<Instant>,
    /// When the tenant last reopened, and whether that moment was forecast.
    opened: Option<Instant>,
    opened_forecast: bool,
    /// Writes claimed, and taken by the tenant, since it last reopened.
    claimed: u32,
    taken: u32,
    /// The window that ended in the current closure: (when it opened, writes it took).
    ending: Option<(Option<Instant>, u32)>,
    /// The count of the last window (a guess until a period is known too).
    guess: Option<u32>,
    budget: Option<Budget>,
    /// A probe past the guessed count is out; the others wait for its answer.
    probe: Option<Instant>,
    /// When the first write was claimed (the first window opened then, for all we know).
    first: Option<Instant>,
    /// The rate the tenant took while the window that just closed was open.
    open_rate: Option<f64>,
    /// Shut by the budget's forecast (off: every window ends in a refusal).
    forecasting: bool,
}

impl Closures {
    pub fn new(forecasting: bool) -> Self {
        Self { forecasting, ..Self::default() }
    }

    /// May a write go now? `Err(when)`: look again then.
    pub fn claim(&mut self, now: Instant) -> Result<(), Instant> {
        if let Some(until) = self.shut_until {
            if now < until {
                return Err(until);
            }
            self.reopen(until);
        }
        if let (Some(opened), Some(b)) = (self.opened, self.budget) {
            if self.claimed >= b.count {
                // The window's budget went out: the tenant would refuse the next write until
                // the window ends. Shut it ourselves, at no cost.
                let due = opened + b.period;
                if now < due {
                    self.shut_until = Some(due);
                    self.forecast = true;
                    return Err(due);
                }
                self.reopen(due.max(now));
            }
        } else if let (Some(_), Some(count)) = (self.opened, self.guess) {
            if self.claimed >= count {
                match self.probe {
                    // One write past the guess goes alone; the others wait for its answer.
                    None => self.probe = Some(now),
                    Some(p) if now.duration_since(p) < PROBE_TIMEOUT => return Err(now + PROBE_POLL),
                    // Its answer never came: say nothing of the window, wait no longer.
                    Some(_) => {
                        self.probe = None;
                        self.guess = None;
                    }
                }
            }
        }
        self.claimed += 1;
        self.first.get_or_insert(now);
        Ok(())
    }

    /// The writes per second the last window took while it was open (taken, and forgotten).
    pub fn take_open_rate(&mut self) -> Option<f64> {
        self.open_rate.take()
    }

    /// The tenant reopened at `at`: a new window starts.
    fn reopen(&mut self, at: Instant) {
        if let Some((Some(prev), count)) = self.ending.take().filter(|_| !self.forecast) {
            // Two reopenings the tenant announced bracket one window: its count and period.
            let period = round_up_to_seconds(at.saturating_duration_since(prev));
            if period >= CLOSED_FOR && self.forecasting {
                self.budget = Some(Budget { count: count.max(1), period });
            }
        }
        self.opened_forecast = self.forecast;
        self.opened = Some(at);
        self.shut_until = None;
        self.forecast = false;
        self.began = None;
        self.claimed = 0;
        self.taken = 0;
        self.probe = None;
    }

    /// A write sent at `sent` was taken.
    pub fn accepted(&mut self, sent: Instant) {
        if self.opened.is_none_or(|o| sent >= o) {
            self.taken += 1;
        }
        if self.probe.is_some_and(|p| sent >= p) {
            // The probe went through: the window holds more than the last one did.
            self.probe = None;
            self.guess = None;
        }
    }

    /// A write sent at `sent` was refused at `now`, the tenant asking for `retry_after`.
    pub fn refused(&mut self, sent: Instant, now: Instant, retry_after: Option<Duration>) -> Refusal {
        let wait = retry_after.unwrap_or(Duration::ZERO);
        let current = self.began.is_some_and(|b| sent < b) && self.shut_until.is_some();
        // Refused before anything was taken since a reopening we forecast: we came early.
        let early = self.opened_forecast && self.opened.is_some_and(|o| sent >= o) && self.taken == 0;
        // A probe sent alone past the window's count and refused: the window is spent,
        // whatever the wait.
        let probe = self.probe.is_some_and(|p| sent >= p);
        if !(current || early || probe || wait >= CLOSED_FOR) {
            return Refusal::Pace;
        }
        let until = now + wait.max(PROBE_POLL);
        if current {
            // Another answer from the same closure: the earliest reopening said is the
            // tightest (each is rounded up).
            if self.shut_until.is_some_and(|u| until < u && until > now) {
                self.shut_until = Some(until);
            }
            return Refusal::Closed;
        }
        if early {
            if let Some(b) = self.budget.as_mut() {
                b.period += round_up_to_seconds(wait.max(Duration::from_secs(1)));
            }
            self.shut(now, until);
        } else {
            self.close(now, until, self.taken);
        }
        Refusal::Closed
    }

    /// The tenant said, on a write it took, that its budget is spent for `wait` (a throttle
    /// hint: `RateLimit` remaining 0). A window ends as a refusal would end it, without
    /// the refusal. A short wait is a bucket's next write, no closure. True: newly closed.
    pub fn announced(&mut self, now: Instant, wait: Duration) -> bool {
        if wait < CLOSED_FOR || self.shut_until.is_some_and(|u| u > now) {
            return false;
        }
        // The write that carried the hint was taken; its acceptance is counted after this.
        self.close(now, now + wait, self.taken + 1);
        true
    }

    /// A window ended at `now` after taking `taken` writes: shut until `until`, and learn.
    fn close(&mut self, now: Instant, until: Instant, taken: u32) {
        self.ending = Some((self.opened, taken));
        self.guess = Some(taken.max(1));
        self.open_rate = self.opened.or(self.first).map(|o| {
            let open = now.saturating_duration_since(o).max(Duration::from_millis(100));
            f64::from(taken) / open.as_secs_f64()
        });
        self.shut(now, until);
    }

    fn shut(&mut self, now: Instant, until: Instant) {
        self.began = Some(now);
        self.shut_until = Some(until);
        self.forecast = false;
        self.probe = None;
    }

    /// The budget learnt, if any.
    pub fn budget(&self) -> Option<Budget> {
        self.budget
    }
}

fn round_up_to_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ms;

    #[tokio::test(start_paused = true)]
    async fn a_short_retry_after_is_a_pace_signal_and_a_long_one_closes_the_tenant() {
        let mut c = Closures::new(true);
        let t0 = Instant::now();
        assert_eq!(c.refused(t0, ms(t0, 50), Some(Duration::from_secs(1))), Refusal::Pace);
        assert_eq!(c.claim(ms(t0, 60)), Ok(()), "a bucket's refusal shuts nothing");
        assert_eq!(c.refused(t0, ms(t0, 100), Some(Duration::from_secs(9))), Refusal::Closed);
        assert_eq!(c.claim(ms(t0, 200)), Err(ms(t0, 9100)), "shut until the Retry-After has passed");
        // Writes in flight when it shut are refused too: part of the same closure, whatever
        // they say, and the earliest reopening wins.
        assert_eq!(c.refused(ms(t0, 90), ms(t0, 140), Some(Duration::from_secs(1))), Refusal::Closed);
        assert_eq!(c.claim(ms(t0, 200)), Err(ms(t0, 1140)));
        assert_eq!(c.claim(ms(t0, 1140)), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn two_closures_teach_the_window_and_the_third_costs_no_refusal() {
        let mut c = Closures::new(true);
        let t0 = Instant::now();
        // Window 1: five taken, the sixth refused with 9 s to go.
        for i in 0..5 {
            assert_eq!(c.claim(ms(t0, i * 10)), Ok(()));
            c.accepted(ms(t0, i * 10));
        }
        assert_eq!(c.claim(ms(t0, 50)), Ok(()));
        c.refused(ms(t0, 50), ms(t0, 100), Some(Duration::from_secs(9)));
        // Window 2 opens at 9.1 s: five go, the sixth is a lone probe.
        let open = ms(t0, 9100);
        for i in 0..5 {
            assert_eq!(c.claim(open + Duration::from_millis(i)), Ok(()));
            c.accepted(open + Duration::from_millis(i));
        }
        let probe = open + Duration::from_millis(5);
        assert_eq!(c.claim(probe), Ok(()), "the probe");
        assert!(c.claim(probe).is_err(), "the others wait for its answer");
        c.refused(probe, probe + Duration::from_millis(50), Some(Duration::from_secs(10)));
        // Window 3 opens 10 s after window 2: count 5, period 10 s (rounded up).
        let open3 = probe + Duration::from_millis(50) + Duration::from_secs(10);
        for i in 0..5 {
            assert_eq!(c.claim(open3 + Duration::from_millis(i)), Ok(()));
        }
        assert_eq!(c.budget().map(|b| b.count), Some(5));
        let due = c.claim(open3 + Duration::from_millis(10)).expect_err("the budget is spent: shut by us");
        assert!(due >= open3 + Duration::from_secs(10), "not before the window ends: {:?}", due - open3);
        assert!(due <= open3 + Duration::from_secs(11), "nor long after: {:?}", due - open3);
        assert_eq!(c.claim(due), Ok(()), "and open again when it is due");
    }

    #[tokio::test(start_paused = true)]
    async fn a_forecast_that_came_early_is_corrected_by_the_tenant() {
        let mut c = Closures::new(true);
        let t0 = Instant::now();
        c.budget = Some(Budget { count: 1, period: Duration::from_secs(9) });
        c.opened = Some(t0);
        assert_eq!(c.claim(t0), Ok(()));
        c.accepted(t0);
        let due = c.claim(ms(t0, 10)).unwrap_err();
        assert_eq!(due, ms(t0, 9000));
        assert_eq!(c.claim(due), Ok(()));
        // The tenant's window is 10 s: the write sent at 9 s is refused, 1 s to go.
        assert_eq!(c.refused(due, due + Duration::from_millis(50), Some(Duration::from_secs(1))), Refusal::Closed);
        assert_eq!(c.budget().unwrap().period, Duration::from_secs(10), "the period grows by what was asked");
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_goes_through_drops_the_guess() {
        let mut c = Closures::new(true);
        let t0 = Instant::now();
        c.claim(t0).unwrap();
        c.accepted(t0);
        c.refused(ms(t0, 1), ms(t0, 50), Some(Duration::from_secs(3)));
        let open = ms(t0, 3050);
        c.claim(open).unwrap();
        c.accepted(open);
        let probe = ms(t0, 3060);
        c.claim(probe).unwrap();
        assert!(c.claim(probe).is_err());
        c.accepted(probe);
        assert_eq!(c.claim(probe + Duration::from_millis(1)), Ok(()), "the window is larger: no more waiting");
    }
}
