//! The rate controller: how many writes per second, from what the tenant's answers say.
//!
//! The controller only decides the pace. When writes may go — slots spaced at the pace, a
//! `Retry-After` that holds everyone, a tenant shut until its window ends — is the
//! schedule's business ([`super::schedule`]); the pacer ([`super::pacer`]) joins the two.
//! docs/pacing.md explains both on one page.
//!
//! [`Adaptive`] goes through [`Phase`]s:
//! - **Ramp.** Start at [`START_RATE`] and raise the pace by [`RAMP_FACTOR`] every
//!   [`RAMP_EVERY`] while writes succeed and really go out at the pace. A raise waits for a
//!   write sent after it fell due to be accepted: a 429 already in flight ends the ramp first.
//!   The first 429 ends the ramp at [`FIRST_CUT`] of the pace that drew it (the tenant's burst
//!   hid its rate, so the pace overshot by far); the answers still in flight then say what
//!   the tenant took ([`super::estimate`]) and the pace is set [`MARGIN`] under that. A
//!   closure (a window spent) ends the ramp where it is: it says nothing of a rate.
//! - **Climb.** An estimate is believed but its bounds are wide: climb towards the upper one
//!   by [`CLIMB_PER_SEC`] after [`CLIMB_HOLD`].
//! - **Hold.** The rate is known (narrow bounds): hold a plateau after each cut ([`PLATEAU`],
//!   doubling with every cut up to [`PLATEAU_MAX`]), then creep up by [`PROBE_PER_SEC`],
//!   never past the estimate while it is believed.
//! - **Search.** Nothing is believed (the estimate lapsed after
//!   [`super::estimate::BELIEVE`] writes, or was never measured): climb by
//!   [`SEARCH_PER_SEC`], compounding, until the tenant refuses — a limit that rose when
//!   another app left is found within the run.
//!
//! A 429 at a pace the estimate called safe, long after the last cut ([`FELL_AFTER`]), means
//! the limit fell: the estimate is forgotten. `--max-rate` is a ceiling on all of this and
//! where the pace starts, with no ramp (a 429 then steps back by [`STEP_BACK`]);
//! `--fixed-rate` is [`Fixed`].

use super::estimate::RateEstimate;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The first pace, writes per second. Graph documents write budgets far above it (e.g. 3,000
/// per 150 s per app and tenant); a tenant slower than this is found by the first 429s.
pub const START_RATE: f64 = 40.0;
/// The ramp raises the pace this often (each raise also waits for an answer).
pub const RAMP_EVERY: Duration = Duration::from_millis(150);
/// The ramp multiplies the pace by this at each raise. 1.5, not 2: the writes in flight when
/// the first 429 comes back are refused too, as many as the last step overshoots (at 100/s:
/// 4 with doubling, 2 with 1.5; the shorter step makes up the slower climb).
pub const RAMP_FACTOR: f64 = 1.5;
/// The ramp raises the pace no higher than this. When a window closes, every write in
/// flight is refused (pace × latency: 16 at 320/s and 50 ms, twice what the pace table's
/// requests-per-token targets leave for the mixed case), and a window's burst gains nothing
/// from a faster pace. It is six times the fastest write limit Graph documents (3,000 per
/// 150 s); a tenant known to be faster is told so with `--max-rate`, which starts there.
/// (Ending the ramp at its top and searching on put the sliding window back at 17 429s.)
pub const RAMP_MAX: f64 = 128.0;
/// The first 429 ends the ramp at this share of the pace that drew it.
pub const FIRST_CUT: f64 = 0.25;
/// A 429 without an estimate steps back to this share of the pace that drew it.
pub const STEP_BACK: f64 = 0.95;
/// The pace sits this far below the estimate (the estimate is a count, off by one).
pub const MARGIN: f64 = 0.02;
/// While the bounds are wide: hold briefly, then climb by this share of the pace per second.
pub const CLIMB_HOLD: Duration = Duration::from_millis(300);
pub const CLIMB_PER_SEC: f64 = 0.3;
/// Once the rate is known: hold this long after a cut (doubling with each cut, up to
/// [`PLATEAU_MAX`]), then probe upwards by this share per second.
pub const PLATEAU: Duration = Duration::from_secs(2);
pub const PLATEAU_MAX: Duration = Duration::from_secs(60);
pub const PROBE_PER_SEC: f64 = 0.02;
/// With no estimate believed (it lapsed, see [`super::estimate::BELIEVE`]), the search
/// compounds by this share per second: a limit that doubled is found in about 7 s.
pub const SEARCH_PER_SEC: f64 = 0.1;
/// A 429 this long after the last cut, at a pace the estimate called safe, means the limit fell.
pub const FELL_AFTER: Duration = Duration::from_secs(2);
/// A search past a lapsed estimate, refused: if the tenant took more than this factor of the
/// estimate over the [`RISE_PROOF`] before, the limit rose meanwhile and the old estimate is
/// history (seen in the benchmark: a shared tenant back at 25/s, found at 23/s, then
/// 'confirmed' at 12/s by one 429 near 25/s, and paced at 12/s for the rest of the run);
/// otherwise the refusal confirms it. What the tenant took, not the pace that drew the
/// refusal: a search overshoots a bucket by more than 10% before its burst is spent.
pub const CONFIRMS: f64 = 1.1;
pub const RISE_PROOF: Duration = Duration::from_secs(2);
/// Never slower than this (a tenant at one write a minute is a broken tenant, not a pace).
pub const MIN_RATE: f64 = 0.2;

/// What a rate controller is told, and what it says: the pace.
pub trait RateControl: Send {
    /// Writes per second now (infinite: no pacing).
    fn rate(&self) -> f64;
    /// A write sent at `sent` was taken (or refused for its content: it spent the budget too).
    fn accepted(&mut self, _sent: Instant, _now: Instant) {}
    /// A write sent at `sent` was refused as too fast (429 or 503; a closure never comes here).
    fn throttled(&mut self, _sent: Instant, _now: Instant) {}
    /// The tenant shut for everyone (a window spent): not a pace signal. `open_rate`: what
    /// the window took while it was open.
    fn closed(&mut self, _now: Instant, _open_rate: Option<f64>) {}
    /// Time passed: raise the pace if it should. `reaching(span)`: did writes go out at the
    /// pace over the last `span` (a pace `--parallel` keeps out of reach is not raised)?
    fn tick(&mut self, _now: Instant, _reaching: &dyn Fn(Duration, f64) -> bool) {}
    /// How many times the pace was cut.
    fn cuts(&self) -> u64 {
        0
    }
    /// Still ramping (no refusal yet): its first refusal cuts far ([`FIRST_CUT`]).
    fn ramping(&self) -> bool {
        false
    }
    /// The refusals so far were another limit's (writes in flight, [`super::inflight`]):
    /// forget what they taught, and search on from no slower than `from`.
    fn restart(&mut self, _now: Instant, _from: f64) {}
}

/// No pacing (reads; tests).
pub struct Unlimited;

impl RateControl for Unlimited {
    fn rate(&self) -> f64 {
        f64::INFINITY
    }
}

/// Exactly this many writes per second (`--fixed-rate`).
pub struct Fixed(pub f64);

impl RateControl for Fixed {
    fn rate(&self) -> f64 {
        self.0.max(MIN_RATE)
    }
}

/// Where the adaptive controller is (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// No refusal yet. `raise_due`: the next raise waits for a write sent after this.
    Ramp { raise_due: Option<Instant> },
    /// An estimate believed, its bounds wide: climb towards the upper one.
    Climb,
    /// The rate known: a plateau after each cut, then a slow probe, never past it.
    Hold,
    /// Nothing believed: search upwards, compounding.
    Search,
}

/// Finds the tenant's rate, never above `ceiling` (`--max-rate`).
pub struct Adaptive {
    ceiling: f64,
    rate: f64,
    /// `Some` while ramping; after the ramp, the phase follows from the estimate.
    ramp: Option<Option<Instant>>,
    /// The ramp's raise waits for a later acceptance (the ablation turns it off).
    ramp_waits: bool,
    born: Instant,
    last_growth: Instant,
    /// When the last cut was made: writes sent before it were in flight at the old pace.
    last_cut: Option<Instant>,
    /// The pace the climb or probe starts from.
    base: f64,
    cuts: u64,
    estimate: RateEstimate,
    /// Pace changes, to tell the pace a write was sent at.
    history: VecDeque<(Instant, f64)>,
}

impl Adaptive {
    pub fn new(ceiling: Option<f64>, estimate: RateEstimate, ramp_waits: bool) -> Self {
        let now = Instant::now();
        // A ceiling the user gave is the tenant's pace as they know it: start there, and
        // its first 429 is one more refusal near a known rate (a step back), not the end
        // of a search (a far cut).
        let rate = ceiling.map_or(START_RATE, |c| c.max(MIN_RATE));
        Self {
            ceiling: ceiling.unwrap_or(f64::INFINITY),
            rate,
            ramp: ceiling.is_none().then_some(None),
            ramp_waits,
            born: now,
            last_growth: now,
            last_cut: None,
            base: rate,
            cuts: 0,
            estimate,
            history: VecDeque::from([(now, rate)]),
        }
    }

    /// The phase the controller is in at `now`.
    pub fn phase(&self, now: Instant) -> Phase {
        match (self.ramp, self.estimate.known(now), self.estimate.narrow(now)) {
            (Some(raise_due), _, _) => Phase::Ramp { raise_due },
            (None, true, false) => Phase::Climb,
            (None, true, true) => Phase::Hold,
            (None, false, _) => Phase::Search,
        }
    }

    fn set(&mut self, rate: f64, now: Instant) {
        let rate = rate.min(self.ceiling).max(MIN_RATE);
        if rate == self.rate {
            return;
        }
        self.rate = rate;
        self.history.push_back((now, rate));
        // A write's answer comes within the client's timeout; older changes are never asked.
        while self.history.len() > 2
            && self.history.get(1).is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(120))
        {
            self.history.pop_front();
        }
    }

    /// The pace when `sent` left.
    fn rate_at(&self, sent: Instant) -> f64 {
        let i = self.history.partition_point(|(t, _)| *t <= sent);
        self.history.get(i.saturating_sub(1)).map_or(self.rate, |(_, r)| *r)
    }
}

impl RateControl for Adaptive {
    fn rate(&self) -> f64 {
        self.rate
    }

    fn cuts(&self) -> u64 {
        self.cuts
    }

    fn ramping(&self) -> bool {
        self.ramp.is_some()
    }

    fn restart(&mut self, now: Instant, from: f64) {
        self.estimate = RateEstimate::new(self.estimate.replay);
        self.ramp = None;
        self.last_cut = Some(now);
        self.last_growth = now;
        self.set(self.rate.max(from), now);
        self.base = self.rate;
    }

    fn accepted(&mut self, sent: Instant, now: Instant) {
        if let Some(Some(due)) = self.ramp {
            if sent >= due || !self.ramp_waits {
                self.set((self.rate * RAMP_FACTOR).min(RAMP_MAX.max(self.rate)), now);
                self.ramp = Some(None);
                self.last_growth = now;
            }
        }
        self.estimate.accepted(sent, now);
        // What the tenant was seen to take is safe: never sit below it.
        let floor = self.estimate.lo().min(self.estimate.hi()) * (1.0 - MARGIN);
        if self.ramp.is_none() && floor > self.rate {
            self.set(floor, now);
            self.base = self.rate;
        }
    }

    fn closed(&mut self, now: Instant, open_rate: Option<f64>) {
        // A window hides no rate to search for: the ramp ends where it was, and no pair of
        // refusals may span the closure.
        self.ramp = None;
        self.estimate.break_pairs();
        if let Some(open) = open_rate.filter(|open| *open < self.rate) {
            // The next window goes at the pace the last one was seen to take, no faster:
            // fewer writes in flight when it shuts again.
            self.set(open, now);
            self.base = self.rate;
        }
    }

    /// A 429: what it says about the tenant's rate, and the pace that follows.
    fn throttled(&mut self, sent: Instant, now: Instant) {
        let drew = self.rate_at(sent);
        let fresh = self.last_cut.is_none_or(|c| sent >= c);
        let long_after = self.last_cut.is_some_and(|c| sent > c && sent.duration_since(c) > FELL_AFTER);
        if fresh && long_after && self.estimate.learnt() && drew <= self.estimate.best() * (1.0 - MARGIN / 2.0) {
            // Refused at a pace the estimate called safe, long after the last cut: the limit
            // fell (another app shares it).
            self.estimate.forget();
        }
        let lapsed = self.last_cut.is_some_and(|c| sent > c && sent.duration_since(c) > super::estimate::BELIEVE_FOR);
        if fresh && lapsed && !self.estimate.known(now) {
            // Searching past a lapsed estimate: the refusals before it are old news (the pace
            // sat under the tenant meanwhile, its bucket overflowed), and a pair across the
            // lapse would bring back the old rate as if measured anew.
            self.estimate.break_pairs();
        }
        self.estimate.refused(sent, now, fresh);
        let best = self.estimate.best() * (1.0 - MARGIN);
        let next = if self.ramp.take().is_some() {
            drew * FIRST_CUT
        } else if fresh {
            if self.estimate.known(now) {
                best
            } else if self.estimate.hi().is_finite()
                && (self.estimate.best()..=self.estimate.best() * CONFIRMS).contains(&drew)
            {
                // Probed past an estimate that had lapsed, and refused near it: it still holds.
                self.estimate.confirm(now);
                best
            } else if self.estimate.hi().is_finite() && drew > self.estimate.best() {
                // Refused far above a lapsed estimate: the limit rose since. Step back from
                // where the tenant refused, and measure it anew.
                self.estimate.forget();
                drew * STEP_BACK
            } else {
                drew * STEP_BACK
            }
        } else if self.estimate.known(now) {
            // In flight at the cut: its answer sharpens the estimate, either way.
            best
        } else {
            return;
        };
        // A refusal speeds the pace up only on a measurement (refusals with accepted writes
        // between them): bounds alone are no reason to send faster.
        let next = if self.estimate.measured() { next } else { next.min(self.rate) };
        self.set(next, now);
        self.base = self.rate;
        if fresh {
            self.last_cut = Some(now);
            self.last_growth = now;
            self.cuts += 1;
        }
    }

    /// Ramp while nothing was throttled; climb, hold or search once settled.
    fn tick(&mut self, now: Instant, reaching: &dyn Fn(Duration, f64) -> bool) {
        let since = now.duration_since(self.last_growth);
        let phase = self.phase(now);
        if let Phase::Ramp { raise_due } = phase {
            // Due: the raise itself waits for a later write's acceptance (see `accepted`).
            // Otherwise a raise lands while the 429 that ends the ramp is in flight, and
            // more writes follow it into an empty bucket.
            if since >= RAMP_EVERY && raise_due.is_none() {
                let span = since.min(now.duration_since(self.born));
                if reaching(span, self.rate) {
                    self.ramp = Some(Some(now));
                } else {
                    self.last_growth = now;
                }
            }
            return;
        }
        let plateau = PLATEAU.saturating_mul(1 << self.cuts.saturating_sub(1).min(5)).min(PLATEAU_MAX);
        let (hold, climb) = match phase {
            Phase::Climb => (CLIMB_HOLD, CLIMB_PER_SEC),
            Phase::Hold => (plateau, PROBE_PER_SEC),
            // Nothing believed: the hold is already behind (an estimate lapses only after
            // many writes); a plateau that doubled with every cut would hold for a minute.
            _ => (CLIMB_HOLD, SEARCH_PER_SEC),
        };
        let quiet = self.last_cut.map_or(Duration::MAX, |c| now.duration_since(c));
        if quiet <= hold {
            // Held: a search that follows compounds from now, not over the hold (a 10 s
            // plateau once doubled the pace in one step when the estimate lapsed).
            self.last_growth = now;
            return;
        }
        if since < Duration::from_millis(50) {
            return;
        }
        let next = match phase {
            // Towards a known bound: straight, by a share of where it started; never past
            // the estimate while it is believed (the upper bound while it is wide).
            Phase::Climb | Phase::Hold => {
                let bound = if phase == Phase::Hold { self.estimate.best() } else { self.estimate.hi() };
                let top = (bound * (1.0 - MARGIN)).max(self.estimate.lo() * (1.0 - MARGIN));
                (self.base * (1.0 + climb * (quiet - hold).as_secs_f64())).min(top.max(self.rate))
            }
            // Into the unknown: compounding, so a limit that rose a lot is found in time.
            _ => self.rate * (1.0 + climb * since.as_secs_f64()),
        };
        if next > self.rate && reaching(Duration::from_secs(1), self.rate) {
            self.set(next, now);
        }
        self.last_growth = now;
    }
}
