//! The pace of writes: how many per second the tenant will take, found while the run goes.
//!
//! A tenant's write limit is not published, depends on its size and is shared with every other
//! app, so a fixed rate is either too slow or a storm of 429s. Without `--max-rate` the pacer
//! *finds* the rate:
//!
//! - **Ramp.** Start at [`START_RATE`] and raise the pace by [`RAMP_FACTOR`] every
//!   [`RAMP_EVERY`] while writes succeed (and really go out at the pace: a pace `--parallel`
//!   cannot reach is not raised further). A raise waits for a write sent after it fell due to
//!   be accepted: a 429 already in flight ends the ramp first, rather than meeting more writes
//!   behind it. The factor is 1.5, not 2: the writes in flight when the first 429 comes back
//!   are refused too, and they are as many as the ramp's last step overshoots the tenant
//!   (at 100/s in the benchmark: 4 with doubling, 2 with 1.5; a shorter step makes up the
//!   slower climb).
//! - **First 429: step far back.** The tenant's burst hides its rate until it is spent, so the
//!   first 429 comes late, with writes in flight at a pace well above the limit. The pace drops
//!   to a quarter of the pace that drew it; the answers still in flight then say what the
//!   tenant took (see [`super::estimate`]) and the pace is set just under that. A cut also
//!   drops the slot booked at the old pace. A 429 raises the pace only on a measurement (two
//!   429s with accepted writes between them), never on bounds alone.
//! - **Go by the estimate.** Every 429 sharpens the bounds on the tenant's rate; the pace sits
//!   [`MARGIN`] below the best estimate. While the bounds are wide the pace climbs quickly
//!   towards the upper one; once they are narrow it holds (a plateau that doubles with every
//!   cut) and then creeps up by [`PROBE_PER_SEC`], never past the estimate while it is believed.
//! - **Follow a changing limit.** A 429 at a pace the estimate called safe, long after the last
//!   cut, means the limit fell (another app started): the estimate is forgotten and the search
//!   starts again from a step back. An estimate expires ([`super::estimate::HI_TTL`], longer
//!   each time the tenant repeats it), so a limit that rose is found by the probe, at the cost
//!   of a 429 each time.
//!
//! `--max-rate` is a ceiling on all of this (and, since the user knows it, where the pace
//! starts, with no ramp: a 429 steps back by [`STEP_BACK`], not [`FIRST_CUT`]); `--fixed-rate`
//! turns the search off. `Retry-After` is honoured by the request that
//! received it; when several arrive together (a storm), every worker is held until it has
//! passed, and released one slot at a time, spaced at the pace, so the workers do not all
//! fire at once.
//!
//! `benches/activate-bench.sh` measures this against the simulator; the unit tests below drive
//! it against a model tenant on tokio's paused clock.

use super::closure::{Closures, Refusal};
use super::estimate::RateEstimate;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The first pace, writes per second. Graph documents write budgets far above it (e.g. 3,000
/// per 150 s per app and tenant); a tenant slower than this is found by the first 429s.
pub const START_RATE: f64 = 40.0;
/// The ramp raises the pace this often (each raise also waits for an answer).
pub const RAMP_EVERY: Duration = Duration::from_millis(150);
/// The ramp multiplies the pace by this at each raise.
pub const RAMP_FACTOR: f64 = 1.5;
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
/// With no estimate believed (it lapsed, see [`super::estimate::BELIEVE`]), the probe
/// compounds by this share per second: a limit that doubled is found in about 7 s.
pub const SEARCH_PER_SEC: f64 = 0.1;
/// A 429 this long after the last cut, at a pace the estimate called safe, means the limit fell.
pub const SETTLE: Duration = Duration::from_secs(2);
/// Never slower than this (a tenant at one write a minute is a broken tenant, not a pace).
pub const MIN_RATE: f64 = 0.2;
/// Write slots a schedule that fell behind may make up at once.
pub const CATCH_UP: f64 = 3.0;
/// Throttled answers within one second that make a storm (hold every worker).
pub const STORM: usize = 3;

/// How the pace is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PaceMode {
    /// No pacing at all (reads; tests).
    Unlimited,
    /// Exactly this many writes per second (`--fixed-rate`).
    Fixed(f64),
    /// Find the tenant's rate, never above the ceiling (`--max-rate`).
    Adaptive { ceiling: Option<f64> },
}

struct State {
    mode: PaceMode,
    rate: f64,
    /// Raising the pace (the ramp) until the first 429.
    ramping: bool,
    /// The ramp's next raise waits for the answers to the writes sent before it was due:
    /// a write sent after this was accepted (so a 429 in flight would have come first).
    ramp_due: Option<Instant>,
    born: Instant,
    /// The next free write slot.
    next_slot: Instant,
    /// Has a write slot been claimed yet (is there a schedule to catch up with)?
    sends_started: bool,
    /// No write (nor read) starts before this (a storm's `Retry-After`).
    gate: Instant,
    last_growth: Instant,
    /// When the last cut was made: writes sent before it were in flight at the old pace.
    last_cut: Option<Instant>,
    /// The pace the climb or probe starts from.
    base: f64,
    cuts: u64,
    estimate: RateEstimate,
    /// The tenant shut for everyone (a window spent), and the budget learnt from it.
    closures: Closures,
    /// Pace changes, to tell the pace a write was sent at.
    history: VecDeque<(Instant, f64)>,
    /// Writes claimed in the last second (is the pace reached at all?).
    sends: VecDeque<Instant>,
    /// Answers in the last second, for telling a storm: (when, accepted?).
    recent: VecDeque<(Instant, bool)>,
}

/// Shared by every worker of a run.
pub struct Pacer {
    state: Mutex<State>,
}

/// What the pace settled on, for the summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceReport {
    pub rate: Option<f64>,
    pub cuts: u64,
}

impl Pacer {
    pub fn new(mode: PaceMode) -> Self {
        let now = Instant::now();
        let rate = match mode {
            PaceMode::Unlimited => f64::INFINITY,
            PaceMode::Fixed(r) => r.max(MIN_RATE),
            // A ceiling the user gave is the tenant's pace as they know it: start there.
            PaceMode::Adaptive { ceiling: Some(c) } => c.max(MIN_RATE),
            PaceMode::Adaptive { ceiling: None } => START_RATE,
        };
        Self {
            state: Mutex::new(State {
                mode,
                rate,
                // A told pace starts where a ramp would end: its first 429 is one more refusal
                // near a known rate (a step back), not the end of a search (a far cut).
                ramping: matches!(mode, PaceMode::Adaptive { ceiling: None }),
                ramp_due: None,
                born: now,
                next_slot: now,
                sends_started: false,
                gate: now,
                last_growth: now,
                last_cut: None,
                base: rate,
                cuts: 0,
                estimate: RateEstimate::default(),
                closures: Closures::default(),
                history: VecDeque::from([(now, rate)]),
                sends: VecDeque::new(),
                recent: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current pace, writes per second (`None`: unlimited).
    pub fn rate(&self) -> Option<f64> {
        let s = self.lock();
        s.rate.is_finite().then_some(s.rate)
    }

    pub fn report(&self) -> PaceReport {
        let s = self.lock();
        PaceReport { rate: s.rate.is_finite().then_some(s.rate), cuts: s.cuts }
    }

    /// Claim the next write slot now, or say when to try again. Slots are never booked
    /// ahead: a worker that books a slot a second away would send at a pace the pacer has
    /// since changed, so waiting workers try again at the next free moment and one of them
    /// wins it — a crowd leaves spaced at the pace, never all at once: after a lull, at most
    /// [`CATCH_UP`] missed slots are made up before the spacing resumes.
    pub fn try_claim(&self, now: Instant) -> Result<(), Instant> {
        let mut s = self.lock();
        s.grow(now);
        if now < s.gate {
            return Err(s.gate);
        }
        if !s.rate.is_finite() {
            return Ok(());
        }
        if now < s.next_slot {
            return Err(s.next_slot);
        }
        if s.adaptive() {
            s.closures.claim(now)?;
        }
        let interval = Duration::from_secs_f64(1.0 / s.rate);
        // Slots missed while every worker waited (a round trip for the code window's answer,
        // a slow journal write) are made up, up to [`CATCH_UP`]: the tenant refilled as many
        // meanwhile, since the pace never exceeds what it takes. Lost instead, they let its
        // bucket fill, and a full bucket overflows: the refill it drops makes the next pair
        // of 429s understate its rate. Before the first write there is nothing to make up
        // (one slot of credit, as ever), and none across a gate: a release is spaced.
        let credit = if s.sends_started { interval.mul_f64(CATCH_UP) } else { interval };
        let earliest = now.checked_sub(credit).unwrap_or(now).max(s.gate);
        s.sends_started = true;
        s.next_slot = s.next_slot.max(earliest) + interval;
        s.sends.push_back(now);
        while s.sends.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1)) {
            s.sends.pop_front();
        }
        Ok(())
    }

    /// When the gate opens (reads wait for it too).
    pub fn gate(&self) -> Instant {
        self.lock().gate
    }

    /// A write was accepted.
    pub fn accepted(&self, sent: Instant, now: Instant) {
        let mut s = self.lock();
        s.answer(now, true);
        s.closures.accepted(sent);
        if s.ramping && s.ramp_due.is_some_and(|due| sent >= due) {
            let raised = s.rate * RAMP_FACTOR;
            s.set(raised, now);
            s.ramp_due = None;
            s.last_growth = now;
        }
        if s.adaptive() {
            s.estimate.accepted(sent, now);
            // What the tenant was seen to take is safe: never sit below it.
            let floor = s.estimate.lo().min(s.estimate.hi()) * (1.0 - MARGIN);
            if !s.ramping && floor > s.rate {
                s.set(floor, now);
                s.base = s.rate;
            }
        }
        s.grow(now);
    }

    /// A write was throttled (429, or 503 with `Retry-After`). Returns true when this was a
    /// storm and every worker is now held until `retry_after` has passed.
    pub fn throttled(&self, sent: Instant, now: Instant, retry_after: Option<Duration>) -> bool {
        let mut s = self.lock();
        if s.adaptive() && s.closures.refused(sent, now, retry_after) == Refusal::Closed {
            // A window spent: the pace was not too fast, and the refusal says nothing of the
            // rate. The ramp ends where it was (a window hides no rate to search for); no
            // pair of refusals may span the closure.
            s.ramping = false;
            s.ramp_due = None;
            s.estimate.break_pairs();
            if let Some(open) = s.closures.take_open_rate() {
                // The next window goes at the pace the last one was seen to take, no faster:
                // fewer writes in flight when it shuts again.
                if open < s.rate {
                    s.set(open.max(MIN_RATE), now);
                    s.base = s.rate;
                }
            }
            return false;
        }
        s.answer(now, false);
        if s.adaptive() {
            s.adapt(sent, now);
        }
        // A storm: 429s keep coming and most recent writes were refused: the tenant is
        // saturated for everyone. Hold every worker until its `Retry-After` has passed.
        let refused = s.recent.iter().filter(|(_, ok)| !ok).count();
        let storm = refused >= STORM && refused * 2 > s.recent.len();
        if storm {
            if let Some(wait) = retry_after {
                let until = now + wait.min(Duration::from_secs(3600));
                if until > s.gate {
                    s.gate = until;
                }
            }
            s.recent.retain(|(_, ok)| *ok);
        }
        storm
    }

    /// Hold every worker until `until` (a `Retry-After` on a read, or a storm).
    pub fn hold_until(&self, until: Instant) {
        let mut s = self.lock();
        if until > s.gate {
            s.gate = until;
        }
    }
}

impl State {
    fn adaptive(&self) -> bool {
        matches!(self.mode, PaceMode::Adaptive { .. })
    }

    fn ceiling(&self) -> f64 {
        match self.mode {
            PaceMode::Adaptive { ceiling } => ceiling.unwrap_or(f64::INFINITY),
            _ => self.rate,
        }
    }

    fn set(&mut self, rate: f64, now: Instant) {
        let rate = rate.min(self.ceiling()).max(MIN_RATE);
        if rate == self.rate {
            // (a climb that meets the ceiling): nothing changes, and the slot booked stays
            // where it is: moving it would lose the lateness the schedule absorbs.
            return;
        }
        let cut = rate < self.rate;
        self.rate = rate;
        // A slot booked at the old pace is not kept after a cut: the next write waits a
        // whole interval of the new pace after the last one.
        if let Some(last) = self.sends.back().filter(|_| cut) {
            self.next_slot = self.next_slot.max(*last + Duration::from_secs_f64(1.0 / self.rate));
        }
        self.history.push_back((now, self.rate));
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

    fn answer(&mut self, now: Instant, ok: bool) {
        self.recent.push_back((now, ok));
        while self.recent.front().is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1)) {
            self.recent.pop_front();
        }
    }

    /// Are writes really going out at the pace (over `span`)? A pace that `--parallel` or
    /// slow answers keep out of reach is not raised further.
    fn reaching(&self, now: Instant, span: Duration) -> bool {
        let span = span.min(Duration::from_secs(1)).min(now.duration_since(self.born));
        let sent = self.sends.iter().filter(|t| now.duration_since(**t) <= span).count();
        sent as f64 >= 0.5 * self.rate * span.as_secs_f64()
    }

    /// A 429: what it says about the tenant's rate, and the pace that follows.
    fn adapt(&mut self, sent: Instant, now: Instant) {
        let drew = self.rate_at(sent);
        let fresh = self.last_cut.is_none_or(|c| sent >= c);
        let settled = self.last_cut.is_some_and(|c| sent > c && sent.duration_since(c) > SETTLE);
        if fresh && settled && self.estimate.learnt() && drew <= self.estimate.best() * (1.0 - MARGIN / 2.0) {
            // Refused at a pace the estimate called safe, long after the last cut: the limit
            // fell (another app shares it).
            self.estimate.forget();
        }
        self.estimate.refused(sent, now, fresh);
        let best = self.estimate.best() * (1.0 - MARGIN);
        let next = if self.ramping {
            self.ramping = false;
            drew * FIRST_CUT
        } else if fresh {
            if self.estimate.known(now) {
                best
            } else if self.estimate.hi().is_finite() && drew >= self.estimate.best() {
                // Probed past an estimate that had expired, and refused: it still holds.
                self.estimate.confirm(now);
                best
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

    /// Ramp while nothing was throttled; climb or probe once settled.
    fn grow(&mut self, now: Instant) {
        if !self.adaptive() {
            return;
        }
        let since = now.duration_since(self.last_growth);
        if self.ramping {
            // Due: the raise itself waits for a later write's acceptance (see
            // `ramp_due`). Otherwise a raise lands while the 429 that ends the ramp is
            // in flight, and more writes follow it into an empty bucket.
            if since >= RAMP_EVERY && self.ramp_due.is_none() {
                if self.reaching(now, since) {
                    self.ramp_due = Some(now);
                } else {
                    self.last_growth = now;
                }
            }
            return;
        }
        let known = self.estimate.known(now);
        let narrow = self.estimate.narrow(now);
        let plateau = PLATEAU.saturating_mul(1 << self.cuts.saturating_sub(1).min(5)).min(PLATEAU_MAX);
        let (hold, climb) = match (known, narrow) {
            (true, false) => (CLIMB_HOLD, CLIMB_PER_SEC),
            (true, true) => (plateau, PROBE_PER_SEC),
            // Nothing believed: the hold is already behind (an estimate lapses only after
            // many writes); a plateau that doubled with every cut would hold for a minute.
            (false, _) => (CLIMB_HOLD, SEARCH_PER_SEC),
        };
        let quiet = self.last_cut.map_or(Duration::MAX, |c| now.duration_since(c));
        if quiet <= hold || since < Duration::from_millis(50) {
            return;
        }
        // Never past the estimate while it is believed (the upper bound while it is wide).
        let mut top = f64::INFINITY;
        if known {
            let bound = if narrow { self.estimate.best() } else { self.estimate.hi() };
            top = (bound * (1.0 - MARGIN)).max(self.estimate.lo() * (1.0 - MARGIN));
        }
        // Climbing towards a known bound goes straight (by a share of where it started);
        // probing into the unknown compounds, so a limit that rose a lot is found in time.
        let next = if known {
            self.base * (1.0 + climb * (quiet - hold).as_secs_f64())
        } else {
            self.rate * (1.0 + climb * since.as_secs_f64())
        }
        .min(top.max(self.rate));
        if next > self.rate && self.reaching(now, Duration::from_secs(1)) {
            self.set(next, now);
        }
        self.last_growth = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model_tenant::Bucket;
    use std::sync::atomic::Ordering::SeqCst;

    /// Drive the pacer against a token-bucket tenant on tokio's paused clock, as the engine
    /// does: 16 workers claim slots, each write answers after 50 ms, a throttled write waits
    /// its whole-second `Retry-After` and goes again. Returns (wall time, 429s).
    async fn run_against(n: usize, caps: Vec<(Duration, f64)>, burst: f64, mode: PaceMode) -> (Duration, u64) {
        let latency = Duration::from_millis(50);
        let pacer = std::sync::Arc::new(Pacer::new(mode));
        let start = Instant::now();
        let bucket =
            std::sync::Arc::new(Mutex::new(Bucket { caps, start, burst, tokens: burst, last: start, throttled: 0 }));
        let left = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(n));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (pacer, bucket, left) = (pacer.clone(), bucket.clone(), left.clone());
            workers.spawn(async move {
                while left.fetch_update(SeqCst, SeqCst, |l| l.checked_sub(1)).is_ok() {
                    loop {
                        while let Err(at) = pacer.try_claim(Instant::now()) {
                            tokio::time::sleep_until(at).await;
                        }
                        let sent = Instant::now();
                        tokio::time::sleep(latency).await;
                        let ok = bucket.lock().unwrap().take(Instant::now());
                        if ok {
                            pacer.accepted(sent, Instant::now());
                            break;
                        }
                        let rate_before = pacer.rate();
                        pacer.throttled(sent, Instant::now(), Some(Duration::from_secs(1)));
                        if std::env::var_os("PACER_TRACE").is_some() {
                            eprintln!(
                                "429 sent {:.3} rate {:?} -> {:?}",
                                sent.duration_since(start).as_secs_f64(),
                                rate_before,
                                pacer.rate()
                            );
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            });
        }
        while workers.join_next().await.is_some() {}
        let throttled = bucket.lock().unwrap().throttled;
        (Instant::now().duration_since(start), throttled)
    }

    async fn run_against_bucket(n: usize, cap: f64, burst: f64, mode: PaceMode) -> (Duration, u64) {
        run_against(n, vec![(Duration::ZERO, cap)], burst, mode).await
    }

    /// Send at every free slot for `span`, each write accepted at once. Returns the time after.
    fn write_freely(p: &Pacer, from: Instant, span: Duration) -> Instant {
        let mut now = from;
        while now < from + span {
            match p.try_claim(now) {
                Ok(()) => p.accepted(now, now),
                Err(at) => now = at.max(now + Duration::from_millis(1)),
            }
        }
        now
    }

    #[tokio::test(start_paused = true)]
    async fn ramps_up_while_writes_succeed() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        write_freely(&p, Instant::now(), RAMP_EVERY * 5 + Duration::from_millis(10));
        // Raised at least four times in five periods (each raise waits for an answer).
        assert!(p.rate().unwrap() >= START_RATE * RAMP_FACTOR.powi(4) * 0.999, "rate {:?}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn a_raise_waits_for_the_answers_already_in_flight() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        // Writes at the start pace, their answers not back yet.
        let mut now = t0;
        let mut sent = Vec::new();
        while now < t0 + RAMP_EVERY + Duration::from_millis(30) {
            match p.try_claim(now) {
                Ok(()) => sent.push(now),
                Err(at) => now = at,
            }
        }
        assert_eq!(p.rate(), Some(START_RATE), "due, but nothing sent since has been accepted");
        // The answers come: the writes sent before the raise fell due are accepted, but
        // one in flight when it fell due was refused — the ramp ends without a raise.
        let due = t0 + RAMP_EVERY;
        for t in sent.iter().filter(|t| **t < due) {
            p.accepted(*t, *t + Duration::from_millis(50));
        }
        assert_eq!(p.rate(), Some(START_RATE), "answers to writes sent before it fell due do not raise it");
        let late = *sent.iter().find(|t| **t >= due).unwrap();
        p.throttled(due - Duration::from_millis(1), late + Duration::from_millis(40), None);
        assert_eq!(p.rate(), Some(START_RATE * FIRST_CUT), "the 429 in flight ends the ramp at the old pace");

        // Without the 429, a later write's acceptance raises it.
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let end = write_freely(&p, t0, RAMP_EVERY + Duration::from_millis(30));
        assert_eq!(p.rate(), Some(START_RATE * RAMP_FACTOR), "accepted at once: raised at {end:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_drops_the_slot_booked_at_the_old_pace() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: Some(40.0) });
        let t0 = Instant::now();
        assert_eq!(p.try_claim(t0), Ok(()));
        assert_eq!(p.try_claim(t0), Err(t0 + Duration::from_millis(25)), "40/s: the next slot is 25 ms on");
        p.throttled(t0, t0 + Duration::from_millis(10), None);
        let rate = p.rate().unwrap();
        assert!(rate < 40.0);
        let next = p.try_claim(t0 + Duration::from_millis(25)).expect_err("the old slot is gone");
        let want = t0 + Duration::from_secs_f64(1.0 / rate);
        assert!(
            next.duration_since(want) < Duration::from_millis(2),
            "{next:?} vs {want:?}: one interval of the new pace"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_told_pace_steps_back_a_little_on_a_429_and_climbs_back() {
        // One 429 at the pace the user gave (a jitter, another app's burst) is not the end
        // of a search: quartering the pace there made a 24 s run take 54 s.
        let p = Pacer::new(PaceMode::Adaptive { ceiling: Some(25.0) });
        let t0 = Instant::now();
        let t1 = write_freely(&p, t0, Duration::from_secs(1));
        p.throttled(t1, t1 + Duration::from_millis(50), Some(Duration::from_secs(1)));
        let after = p.rate().unwrap();
        assert!((25.0 * STEP_BACK - 0.01..25.0).contains(&after), "stepped back to {after}");
        write_freely(&p, t1, PLATEAU + Duration::from_secs(5));
        assert_eq!(p.rate(), Some(25.0), "and back at the ceiling");
    }

    #[tokio::test(start_paused = true)]
    async fn workers_that_wake_late_still_send_at_the_full_pace() {
        // Timers wake a millisecond late; the schedule absorbs that (a slot is booked one
        // interval after the last *slot*, not after the late send). Nothing may undo it:
        // re-setting the pace at its ceiling every 50 ms once cost 2% of a 100/s run.
        for mode in [PaceMode::Adaptive { ceiling: Some(100.0) }, PaceMode::Fixed(100.0)] {
            let p = Pacer::new(mode);
            let t0 = Instant::now();
            let (mut now, mut sent) = (t0, 0);
            while now < t0 + Duration::from_secs(2) {
                match p.try_claim(now) {
                    Ok(()) => {
                        sent += 1;
                        p.accepted(now, now);
                    }
                    Err(at) => now = at + Duration::from_millis(1),
                }
            }
            assert!(sent >= 199, "{mode:?}: {sent} writes in 2 s at 100/s");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_with_nothing_accepted_between_never_raise_the_pace() {
        // After the ramp's first 429 the pace is cut; the writes that were in flight are
        // refused milliseconds apart. Such a pair bounds the rate (below 1/span) but does
        // not measure it: the pace stays cut.
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        p.throttled(t0, t0 + Duration::from_millis(50), None);
        let cut = p.rate().unwrap();
        for ms in [25, 50] {
            let sent = t0 + Duration::from_millis(ms);
            p.throttled(sent, sent + Duration::from_millis(50), None);
            assert!(p.rate().unwrap() <= cut, "raised to {:?} by a pair {ms} ms apart", p.rate());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pace_that_is_not_reached_is_not_raised() {
        // Writes held back elsewhere (one at a time, slow answers): the pace must not run away.
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let mut now = Instant::now();
        for _ in 0..100 {
            while let Err(at) = p.try_claim(now) {
                now = at;
            }
            now += Duration::from_millis(200);
            p.accepted(now, now);
        }
        assert!(p.rate().unwrap() <= START_RATE * 2.0, "rate {:?}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn the_ceiling_is_respected() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: Some(12.0) });
        assert_eq!(p.rate(), Some(12.0), "a ceiling the user gave is where the pace starts");
        let t0 = Instant::now();
        let t1 = write_freely(&p, t0, Duration::from_secs(2));
        assert_eq!(p.rate(), Some(12.0), "the ramp stops at the ceiling");
        p.throttled(t1, t1, None);
        assert!(p.rate().unwrap() < 12.0, "a 429 still cuts it");
        write_freely(&p, t1, PLATEAU_MAX * 3);
        assert_eq!(p.rate(), Some(12.0), "probing never passes the ceiling");
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_429_steps_far_back_and_the_answers_in_flight_set_the_pace() {
        let p = Pacer::new(PaceMode::Fixed(100.0));
        p.throttled(Instant::now(), Instant::now(), None);
        assert_eq!(p.rate(), Some(100.0), "fixed rates are not searched");

        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        let drew = p.rate().unwrap();
        p.throttled(t0, t0 + Duration::from_millis(50), None);
        assert_eq!(p.rate().unwrap(), drew * FIRST_CUT);
        // Writes sent after the refused one, at 40/s into an empty bucket of a 25/s tenant:
        // 25 of every 40 accepted, the rest refused.
        let mut refused = 0;
        for i in 1..=40u64 {
            let sent = t0 + Duration::from_millis(25 * i);
            let answer = sent + Duration::from_millis(50);
            if i % 8 == 0 || i % 8 == 3 || i % 8 == 6 {
                p.throttled(sent, answer, None);
                refused += 1;
            } else {
                p.accepted(sent, answer);
            }
        }
        assert!(refused > 10);
        let rate = p.rate().unwrap();
        assert!((22.0..=25.5).contains(&rate), "paced at {rate} for a tenant taking 25/s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_known_rate_holds_then_probes_past_it_once_the_estimate_expires() {
        let (took, throttled) = run_against_bucket(300, 20.0, 5.0, PaceMode::Adaptive { ceiling: None }).await;
        assert!(took < Duration::from_secs(20), "{took:?}, {throttled} 429s");
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        // A drained bucket: refused, 40 accepted over 2 s, refused: 20/s, narrow bounds.
        p.throttled(t0, t0, None);
        for i in 1..=40u64 {
            let t = t0 + Duration::from_millis(50 * i - 25);
            p.accepted(t, t);
        }
        let t1 = t0 + Duration::from_secs(2);
        p.throttled(t1, t1, None);
        let settled = p.rate().unwrap();
        assert!((19.0..=20.5).contains(&settled), "paced at {settled} for a tenant taking 20/s");
        // Believed for BELIEVE writes (at 20/s: 7.5 s), and at least BELIEVE_FOR.
        let believed = Duration::from_secs_f64(f64::from(super::super::estimate::BELIEVE - 10) / 20.0)
            .max(super::super::estimate::BELIEVE_FOR - Duration::from_millis(500));
        let t2 = write_freely(&p, t1, believed);
        // (Every write of this model tenant is accepted, so the lower bound may rise to the
        // upper one; the pace never passes the upper bound while it is believed.)
        assert!(p.rate().unwrap() <= 20.5, "no probing past a believed estimate: {:?}", p.rate());
        write_freely(&p, t2, Duration::from_secs(10));
        assert!(p.rate().unwrap() > settled * 1.1, "an expired estimate is probed past: {:?}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_at_the_pace() {
        let p = Pacer::new(PaceMode::Fixed(10.0));
        let mut now = Instant::now();
        assert_eq!(p.try_claim(now), Ok(()));
        for _ in 0..5 {
            let next = p.try_claim(now).expect_err("one slot per 100 ms");
            assert_eq!(next.duration_since(now), Duration::from_millis(100));
            now = next;
            assert_eq!(p.try_claim(now), Ok(()));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn slots_missed_in_a_lull_are_made_up_a_few_at_most() {
        let p = Pacer::new(PaceMode::Fixed(10.0));
        let t0 = Instant::now();
        let at_once = |now: Instant| (0..20).take_while(|_| p.try_claim(now).is_ok()).count();
        // Before the first write nothing was missed: one slot of credit, as ever.
        assert_eq!(at_once(t0 + Duration::from_secs(1)), 2);
        // Every worker waited a second (ten slots): three are made up, then the spacing.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(at_once(later), 1 + CATCH_UP as usize);
        let next = p.try_claim(later).expect_err("spaced again");
        assert_eq!(next.duration_since(later), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_storm_holds_everyone_and_releases_them_spaced() {
        let p = Pacer::new(PaceMode::Fixed(10.0));
        let now = Instant::now();
        let mut storm = false;
        for _ in 0..STORM {
            storm = p.throttled(now, now, Some(Duration::from_secs(2)));
        }
        assert!(storm);
        let open = p.try_claim(now).expect_err("held");
        assert!(open >= now + Duration::from_secs(2), "held until Retry-After passed");
        assert_eq!(p.try_claim(open), Ok(()), "one worker leaves when the gate opens");
        let next = p.try_claim(open).expect_err("the next waits its turn");
        assert_eq!(next.duration_since(open), Duration::from_millis(100), "released one slot at a time");
    }

    /// A survey for tuning, not a check: wall time and 429s against tenants of many caps and
    /// bursts (`GRID_CAPS=5,25 GRID_BURSTS=5 PACER_TRACE=1 cargo test --release --lib
    /// survey -- --ignored --nocapture`; `PACER_TRACE` prints every 429 and the pace it left).
    #[tokio::test(start_paused = true)]
    #[ignore]
    async fn survey_of_tenants() {
        let mut total = 0;
        for burst in std::env::var("GRID_BURSTS")
            .map(|s| s.split(',').map(|c| c.parse::<f64>().unwrap()).collect::<Vec<_>>())
            .unwrap_or(vec![5.0, 20.0])
        {
            for cap in std::env::var("GRID_CAPS")
                .map(|s| s.split(',').map(|c| c.parse::<f64>().unwrap()).collect::<Vec<_>>())
                .unwrap_or(vec![3.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0])
            {
                let n = 600;
                let (took, throttled) = run_against_bucket(n, cap, burst, PaceMode::Adaptive { ceiling: None }).await;
                let floor = (n as f64 - burst) / cap;
                let ratio = took.as_secs_f64() / floor;
                total += throttled;
                eprintln!("GRID burst {burst} cap {cap}: ratio {ratio:.3}, {throttled} throttled");
            }
        }
        eprintln!("GRID total {total}");
    }

    #[tokio::test(start_paused = true)]
    async fn finds_each_tenant_rate_without_being_told() {
        // The model tenant of benches/activate-bench.sh (burst 5, whole-second Retry-After,
        // 50 ms): the targets are wall ≤ 1.10 × floor and ~1% of requests refused;
        // the model meets 1.03–1.06 with 4 429s for 600 writes (three drawn while the burst
        // hid the rate, one measuring it). Asserted with a little room: 6 429s and one
        // inventory read are the 1% the seed's case may spend.
        let mut misses = Vec::new();
        for cap in [5.0, 25.0, 100.0] {
            let n = 600;
            let (took, throttled) = run_against_bucket(n, cap, 5.0, PaceMode::Adaptive { ceiling: None }).await;
            let floor = (n as f64 - 5.0) / cap;
            let ratio = took.as_secs_f64() / floor;
            eprintln!(
                "cap {cap}: {:.2} s (floor {floor:.2} s, ratio {ratio:.3}), {throttled} throttled",
                took.as_secs_f64()
            );
            if ratio > 1.10 || throttled > 6 {
                misses.push(format!("cap {cap}: ratio {ratio:.3}, {throttled} 429s"));
            }
        }
        assert!(misses.is_empty(), "{misses:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn follows_a_limit_that_falls_and_rises() {
        // Another app takes most of the tenant's budget for a while, then leaves.
        let caps = vec![(Duration::ZERO, 100.0), (Duration::from_secs(3), 20.0), (Duration::from_secs(40), 60.0)];
        let (took, throttled) = run_against(6000, caps, 5.0, PaceMode::Adaptive { ceiling: None }).await;
        // The estimate of 20/s is believed for HI_TTL (150 s) before the probe looks past it,
        // then climbs to 60/s in about a minute: ~225 s. Never finding the rise: 1,040 writes
        // by 40 s, the other 4,960 at 20/s: 288 s.
        eprintln!("{took:?}, {throttled} 429s");
        assert!(took < Duration::from_secs(250), "{took:?}: the rise was not found");
        assert!(throttled < 60, "{throttled} 429s: the fall was not followed");
    }

    proptest::proptest! {
        /// Any sequence of claims and answers (accepted, throttled with any `Retry-After`,
        /// answered late or out of order), under any mode: no panic, and the pace stays a
        /// finite number within [`MIN_RATE`, ceiling] (the ceiling the user gave is never passed).
        #[test]
        fn any_answers_keep_the_pace_within_its_bounds(
            ceiling in proptest::option::of(0.1f64..500.0),
            events in proptest::collection::vec((0u64..500, 0u64..400, 0u8..3, proptest::option::of(0u64..u64::MAX)), 1..300)
        ) {
            let p = Pacer::new(PaceMode::Adaptive { ceiling });
            let t0 = Instant::now();
            let mut clock = 0u64;
            for (gap, latency, what, retry_after) in events {
                clock += gap;
                let now = t0 + Duration::from_millis(clock);
                let sent = t0 + Duration::from_millis(clock.saturating_sub(latency));
                match what {
                    0 => { let _ = p.try_claim(now); }
                    1 => p.accepted(sent, now),
                    _ => { p.throttled(sent, now, retry_after.map(Duration::from_millis)); }
                }
                let rate = p.rate().unwrap_or(f64::INFINITY);
                proptest::prop_assert!(rate.is_finite() && rate >= MIN_RATE, "rate {rate}");
                if let Some(c) = ceiling {
                    proptest::prop_assert!(rate <= c.max(MIN_RATE) + 1e-9, "rate {rate} above the ceiling {c}");
                }
                proptest::prop_assert!(p.gate() <= now + Duration::from_secs(3600), "a gate past the hour");
            }
        }
    }
}
