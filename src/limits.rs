//! The simulated tenant's write limits, in every shape Microsoft's documentation allows.
//!
//! Graph states its limits as "N requests per W seconds" and applies several at once; it does
//! not say whether a window is fixed, sliding or a token bucket. So the simulator (and the
//! engine's paused-clock model tests, which use this same module) offer each shape, alone or
//! layered, and the pacer is tested under all of them:
//!
//! - `bucket:RATE:BURST` — a token bucket: RATE writes per second, BURST at once.
//! - `fixed-window:N:SECS` — at most N writes in each window [k·SECS, (k+1)·SECS).
//! - `sliding-window:N:SECS` — at most N writes in any SECS seconds.
//! - `concurrency:K` — at most K requests in flight; no rate limit.
//!
//! Several specs are layered: a write passes only if every shape takes it, and a refused
//! write is taken by none. A `shared` period (`--limit-shared FROM:UNTIL:SHARE`) stands for
//! another app using the same budget: from FROM to UNTIL seconds after the first limited
//! write, every rate and count is cut by SHARE.
//!
//! `Retry-After` is what the shape knows: the seconds until the write would be taken, rounded
//! up to whole seconds (Graph sends whole seconds), at least 1.
//!
//! The module knows no clock: callers pass seconds since any fixed origin, so the same code
//! runs on the simulator's real clock and on tokio's paused clock in the engine's tests.

use anyhow::{bail, Context, Result};
use std::collections::VecDeque;

/// One limit, as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Bucket { rate: f64, burst: f64 },
    FixedWindow { count: u32, secs: f64 },
    SlidingWindow { count: u32, secs: f64 },
    Concurrency { max: u32 },
}

impl std::str::FromStr for Shape {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> Result<Self> {
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap_or_default();
        let nums: Vec<f64> = parts
            .map(|p| p.trim().parse::<f64>().with_context(|| format!("'{p}' in limit '{spec}' is not a number")))
            .collect::<Result<_>>()?;
        if nums.iter().any(|n| !(n.is_finite() && *n > 0.0)) {
            bail!("the numbers of limit '{spec}' must be positive");
        }
        let count = |n: f64| -> Result<u32> {
            if n.fract() != 0.0 || n > f64::from(u32::MAX) {
                bail!("the count of limit '{spec}' must be a whole number");
            }
            Ok(n as u32)
        };
        Ok(match (kind, nums.as_slice()) {
            ("bucket", [rate]) => Shape::Bucket { rate: *rate, burst: rate.max(1.0) },
            ("bucket", [rate, burst]) => Shape::Bucket { rate: *rate, burst: burst.max(1.0) },
            ("fixed-window", [n, secs]) => Shape::FixedWindow { count: count(*n)?, secs: *secs },
            ("sliding-window", [n, secs]) => Shape::SlidingWindow { count: count(*n)?, secs: *secs },
            ("concurrency", [k]) => Shape::Concurrency { max: count(*k)? },
            _ => bail!(
                "limit '{spec}' is not one of bucket:RATE[:BURST], fixed-window:N:SECS, sliding-window:N:SECS, \
                 concurrency:K"
            ),
        })
    }
}

/// Another app sharing the budget for a while (`FROM:UNTIL:SHARE`, seconds and a share).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharedPeriod {
    pub from: f64,
    pub until: f64,
    pub share: f64,
}

impl std::str::FromStr for SharedPeriod {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> Result<Self> {
        let nums: Vec<f64> = spec
            .split(':')
            .map(|p| p.trim().parse::<f64>().with_context(|| format!("'{p}' in '{spec}' is not a number")))
            .collect::<Result<_>>()?;
        match nums.as_slice() {
            [from, until, share] if *from >= 0.0 && until > from && (0.0..1.0).contains(share) => {
                Ok(Self { from: *from, until: *until, share: *share })
            }
            _ => bail!("a shared period is FROM:UNTIL:SHARE (seconds, seconds, a share in 0..1), got '{spec}'"),
        }
    }
}

/// The state of one shape.
#[derive(Debug, Clone)]
enum State {
    Bucket { rate: f64, burst: f64, tokens: f64, last: f64 },
    Fixed { count: u32, secs: f64, window: i64, taken: u32 },
    Sliding { count: u32, secs: f64, taken: VecDeque<f64> },
    Concurrency { max: u32 },
}

/// A tenant's limits: every shape at once.
#[derive(Debug, Clone)]
pub struct Limits {
    states: Vec<State>,
    shared: Option<SharedPeriod>,
    /// When the first limited write came (the shared period counts from it).
    first: Option<f64>,
    in_flight: u32,
}

impl Limits {
    pub fn new(shapes: &[Shape], shared: Option<SharedPeriod>) -> Self {
        let states = shapes
            .iter()
            .map(|s| match *s {
                Shape::Bucket { rate, burst } => State::Bucket { rate, burst, tokens: burst, last: f64::NAN },
                Shape::FixedWindow { count, secs } => State::Fixed { count, secs, window: i64::MIN, taken: 0 },
                Shape::SlidingWindow { count, secs } => State::Sliding { count, secs, taken: VecDeque::new() },
                Shape::Concurrency { max } => State::Concurrency { max },
            })
            .collect();
        Self { states, shared, first: None, in_flight: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The share of every budget left to us at `t` (another app takes the rest).
    fn ours(&self, t: f64) -> f64 {
        match (self.shared, self.first) {
            (Some(s), Some(first)) if (s.from..s.until).contains(&(t - first)) => 1.0 - s.share,
            _ => 1.0,
        }
    }

    /// A request arrives (before the service's work): the concurrency limits count it until
    /// [`Limits::leave`]. `Err(retry_after_secs)` when too many are in flight (it is not
    /// counted then, and must not leave).
    pub fn enter(&mut self) -> Result<(), u64> {
        let full = self.states.iter().any(|s| matches!(s, State::Concurrency { max } if self.in_flight >= *max));
        if full {
            return Err(1);
        }
        self.in_flight += 1;
        Ok(())
    }

    /// A request counted by [`Limits::enter`] was answered.
    pub fn leave(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// A write at `t` seconds: taken, or refused with the whole seconds to wait.
    pub fn take(&mut self, t: f64) -> Result<(), u64> {
        self.first.get_or_insert(t);
        let ours = self.ours(t);
        // Refill and slide first, then ask every shape; commit only when all take it.
        let mut wait: f64 = 0.0;
        for s in &mut self.states {
            if let Some(w) = s.wait(t, ours) {
                wait = wait.max(w);
            }
        }
        if wait > 0.0 {
            return Err(whole_seconds(wait));
        }
        for s in &mut self.states {
            s.commit(t);
        }
        Ok(())
    }
}

/// What a tenant could say of its limits after a write it took (the simulator's throttle
/// hints, `--throttle-hints`): the tightest limit's count left, its size, and when it is
/// restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headroom {
    pub remaining: u64,
    pub limit: u64,
    /// Whole seconds until the limit takes the next write (0: it would now).
    pub reset_secs: u64,
}

impl Limits {
    /// The tightest rate limit's headroom at `t` (`None`: no rate limit, or none counted yet).
    pub fn headroom(&mut self, t: f64) -> Option<Headroom> {
        let ours = self.ours(t);
        self.states
            .iter_mut()
            .filter_map(|s| s.headroom(t, ours))
            .min_by(|a, b| (a.remaining * b.limit.max(1)).cmp(&(b.remaining * a.limit.max(1))))
    }
}

impl State {
    fn headroom(&mut self, t: f64, ours: f64) -> Option<Headroom> {
        let wait = self.wait(t, ours).unwrap_or(0.0);
        let (remaining, limit) = match self {
            State::Bucket { burst, tokens, .. } => (tokens.max(0.0).floor() as u64, burst.floor() as u64),
            State::Fixed { count, taken, .. } => {
                let allowed = (f64::from(*count) * ours).floor() as u32;
                (u64::from(allowed.saturating_sub(*taken)), u64::from(*count))
            }
            State::Sliding { count, taken, .. } => {
                let allowed = (f64::from(*count) * ours).floor() as usize;
                (allowed.saturating_sub(taken.len()) as u64, u64::from(*count))
            }
            State::Concurrency { .. } => return None,
        };
        let reset_secs = if wait > 0.0 { whole_seconds(wait) } else { 0 };
        Some(Headroom { remaining, limit, reset_secs })
    }

    /// Bring the shape to `t`; `Some(seconds)` until it would take one more write.
    fn wait(&mut self, t: f64, ours: f64) -> Option<f64> {
        match self {
            State::Bucket { rate, burst, tokens, last } => {
                let rate = *rate * ours;
                if !last.is_nan() {
                    *tokens = (*tokens + rate * (t - *last).max(0.0)).min(*burst);
                }
                *last = t;
                (*tokens < 1.0).then(|| (1.0 - *tokens) / rate)
            }
            State::Fixed { count, secs, window, taken } => {
                let w = (t / *secs).floor() as i64;
                if w != *window {
                    *window = w;
                    *taken = 0;
                }
                let allowed = (f64::from(*count) * ours).floor() as u32;
                (*taken >= allowed).then(|| (w + 1) as f64 * *secs - t)
            }
            State::Sliding { count, secs, taken } => {
                while taken.front().is_some_and(|at| *at <= t - *secs) {
                    taken.pop_front();
                }
                let allowed = (f64::from(*count) * ours).floor() as usize;
                if taken.len() < allowed {
                    return None;
                }
                // A place is free once the (len − allowed + 1) oldest writes have left.
                let freeing = taken.get(taken.len() - allowed).copied().unwrap_or(t);
                Some(freeing + *secs - t)
            }
            State::Concurrency { .. } => None,
        }
    }

    fn commit(&mut self, t: f64) {
        match self {
            State::Bucket { tokens, .. } => *tokens -= 1.0,
            State::Fixed { taken, .. } => *taken += 1,
            State::Sliding { taken, .. } => taken.push_back(t),
            State::Concurrency { .. } => {}
        }
    }
}

/// `Retry-After` as Graph sends it: whole seconds, rounded up, at least one.
fn whole_seconds(wait: f64) -> u64 {
    (wait - 1e-9).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(specs: &[&str]) -> Limits {
        Limits::new(&specs.iter().map(|s| s.parse().unwrap()).collect::<Vec<Shape>>(), None)
    }

    #[test]
    fn specs_parse_and_bad_ones_are_named() {
        assert_eq!("bucket:25:5".parse::<Shape>().unwrap(), Shape::Bucket { rate: 25.0, burst: 5.0 });
        assert_eq!("fixed-window:250:10".parse::<Shape>().unwrap(), Shape::FixedWindow { count: 250, secs: 10.0 });
        assert_eq!("concurrency:4".parse::<Shape>().unwrap(), Shape::Concurrency { max: 4 });
        for bad in ["bucket", "fixed-window:2.5:10", "sliding-window:0:10", "window:5:10", "bucket:x"] {
            assert!(bad.parse::<Shape>().is_err(), "{bad}");
        }
        assert!("10:20:0.5".parse::<SharedPeriod>().is_ok());
        assert!("20:10:0.5".parse::<SharedPeriod>().is_err());
    }

    #[test]
    fn a_fixed_window_takes_n_then_refuses_until_it_ends() {
        let mut l = limits(&["fixed-window:3:10"]);
        for t in [0.1, 0.2, 0.3] {
            assert_eq!(l.take(t), Ok(()));
        }
        assert_eq!(l.take(0.4), Err(10), "9.6 s left, rounded up");
        assert_eq!(l.take(9.5), Err(1));
        assert_eq!(l.take(10.0), Ok(()), "a new window");
    }

    #[test]
    fn a_sliding_window_frees_a_place_when_the_oldest_write_leaves() {
        let mut l = limits(&["sliding-window:2:10"]);
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(4.0), Ok(()));
        assert_eq!(l.take(5.0), Err(5), "the write at 0 leaves at 10");
        assert_eq!(l.take(10.5), Ok(()));
        assert_eq!(l.take(11.0), Err(3), "the write at 4 leaves at 14");
    }

    #[test]
    fn a_bucket_refills_at_its_rate() {
        let mut l = limits(&["bucket:10:2"]);
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(0.0), Err(1));
        assert_eq!(l.take(0.1), Ok(()), "one token after 100 ms");
    }

    #[test]
    fn layered_limits_take_a_write_only_when_all_do_and_wait_for_the_slowest() {
        let mut l = limits(&["bucket:100:100", "fixed-window:2:60"]);
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(1.0), Err(59), "the window, not the bucket");
        // The refused write took nothing from the bucket: 98 tokens + refill are left.
        let mut l = limits(&["bucket:1:1", "fixed-window:5:60"]);
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(0.5), Err(1));
        assert_eq!(l.take(1.0), Ok(()), "the refused write was not counted by the window either");
    }

    #[test]
    fn a_shared_period_cuts_the_budget_while_it_lasts() {
        let shapes = ["bucket:10:1".parse().unwrap()];
        let mut l = Limits::new(&shapes, Some("1:2:0.5".parse().unwrap()));
        assert_eq!(l.take(0.0), Ok(()));
        assert_eq!(l.take(1.05), Ok(()), "refilled before the period starts");
        // From 1 s on: 5/s, one token in 200 ms.
        assert_eq!(l.take(1.15), Err(1));
        assert_eq!(l.take(1.26), Ok(()));
        let mut l = Limits::new(&["fixed-window:4:10".parse().unwrap()], Some("0:5:0.5".parse().unwrap()));
        assert_eq!((0..4).filter(|i| l.take(f64::from(*i) * 0.1).is_ok()).count(), 2, "half the window's count");
    }

    #[test]
    fn headroom_names_the_tightest_limit_and_when_it_reopens() {
        let mut l = limits(&["bucket:50:20", "fixed-window:3:10"]);
        assert_eq!(l.take(0.5), Ok(()));
        assert_eq!(l.headroom(0.5), Some(Headroom { remaining: 2, limit: 3, reset_secs: 0 }));
        assert_eq!(l.take(0.6), Ok(()));
        assert_eq!(l.take(0.7), Ok(()));
        let h = l.headroom(0.7).unwrap();
        assert_eq!((h.remaining, h.reset_secs), (0, 10), "the window is spent until 10 s (9.3 s, rounded up)");
        assert!(limits(&["concurrency:4"]).headroom(1.0).is_none(), "no rate limit: no headroom to tell");
    }

    #[test]
    fn concurrency_counts_requests_in_flight() {
        let mut l = limits(&["concurrency:2"]);
        assert_eq!(l.enter(), Ok(()));
        assert_eq!(l.enter(), Ok(()));
        assert_eq!(l.enter(), Err(1));
        l.leave();
        assert_eq!(l.enter(), Ok(()));
        assert_eq!(l.take(0.0), Ok(()), "no rate limit");
    }
}
