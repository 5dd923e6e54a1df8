//! The pace of writes: a rate controller under a schedule.
//!
//! A tenant's write limit is not published, depends on its size, is shared with every other
//! app, and may take any shape ("N requests per W seconds": a bucket, a fixed or sliding
//! window, several at once): a fixed rate is either too slow or a storm of 429s. The pacer
//! believes what the tenant says — its 429s and `Retry-After`s — and is two parts:
//!
//! - the **rate controller** ([`super::control`]): how many writes per second, from what was
//!   taken and what was refused as too fast;
//! - the **schedule** ([`super::schedule`]): when a write may go — slots at the pace, the
//!   gate a throttled read's `Retry-After` closes, and closures ([`super::closure`]): a
//!   long `Retry-After` is a window spent, which shuts the tenant for everyone until it ends
//!   and is no pace signal.
//!
//! Beside them, the writes in flight are counted ([`super::inflight`]): when the answers show
//! a limit on them (refusals only above some count, never below), no more than that many go
//! at once, those refusals are no pace signal, and the pace is not raised while the cap
//! decides.
//!
//! docs/pacing.md explains both on one page; `benches/activate-bench.sh` measures them
//! against the simulator under every limit shape, and the engine's pace table
//! (`pace_table.rs`) on tokio's paused clock.

use super::closure::{Closures, Refusal};
use super::control::{Adaptive, Fixed, RateControl, Unlimited};
use super::estimate::RateEstimate;
use super::inflight::{Concurrency, Verdict};
use super::schedule::Schedule;
use crate::throttle_hint::Hint;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

pub use super::control::{
    FIRST_CUT, MIN_RATE, PLATEAU, PLATEAU_MAX, RAMP_EVERY, RAMP_FACTOR, RAMP_MAX, START_RATE, STEP_BACK,
};
pub use super::schedule::CATCH_UP;

/// The pacer's mechanisms, each of which must earn its place in the pace table (issue 24):
/// all on in every run; the table's ablation turns one off at a time to measure it
/// (`cargo test --release --lib pace_table::ablation -- --ignored --nocapture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mechanisms {
    /// A long `Retry-After` closes the tenant ([`super::closure`]).
    pub closures: bool,
    /// After two closures, shut before the window's count is exceeded.
    pub forecast: bool,
    /// At a closure, pace the next window at the rate the last one took.
    pub open_rate: bool,
    /// The estimator replays a bucket to count refill a full bucket dropped.
    pub replay: bool,
    /// Slots missed in a lull are made up ([`CATCH_UP`]).
    pub catch_up: bool,
    /// The ramp's raise waits for a later write's acceptance.
    pub ramp_waits: bool,
    /// Throttle hints on taken writes are heeded ([`crate::throttle_hint`]).
    pub hints: bool,
    /// Answers that show a concurrency limit cap the writes in flight ([`super::inflight`]).
    pub inflight: bool,
}

impl Mechanisms {
    pub const ALL: Self = Self {
        closures: true,
        forecast: true,
        open_rate: true,
        replay: true,
        catch_up: true,
        ramp_waits: true,
        hints: true,
        inflight: true,
    };
}

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
    schedule: Schedule,
    control: Box<dyn RateControl>,
    /// The rate controller changes its pace on what the tenant says (adaptive).
    open_rate: bool,
    hints: bool,
    /// Writes in flight, and the cap on them a concurrency limit's answers show (adaptive
    /// only: a fixed pace is the user's word).
    concurrency: Concurrency,
}

/// A write the pacer let go: when, and which (to count the writes in flight around it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub at: Instant,
    /// 0: not counted (a write the unit tests invent).
    id: u64,
}

impl From<Instant> for Sent {
    fn from(at: Instant) -> Self {
        Self { at, id: 0 }
    }
}

/// Under a cap on writes in flight, the pace sits this far above what the cap allows (the
/// writes in flight times the round trip): the cap decides, and the pace is not raised.
const CAP_BINDS: f64 = 1.1;
/// How soon a worker held by the cap on writes in flight looks again.
const ROOM_POLL: Duration = Duration::from_millis(1);

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
        Self::with(mode, Mechanisms::ALL)
    }

    /// A pacer with some mechanisms off (the table's ablation).
    pub fn with(mode: PaceMode, on: Mechanisms) -> Self {
        let adaptive = matches!(mode, PaceMode::Adaptive { .. });
        let control: Box<dyn RateControl> = match mode {
            PaceMode::Unlimited => Box::new(Unlimited),
            PaceMode::Fixed(r) => Box::new(Fixed(r)),
            PaceMode::Adaptive { ceiling } => {
                Box::new(Adaptive::new(ceiling, RateEstimate::new(on.replay), on.ramp_waits))
            }
        };
        // Only a pace that listens to the tenant learns its closures: a fixed pace is the
        // user's word, and each throttled write waits its own `Retry-After`.
        let closing = adaptive && on.closures;
        let schedule = Schedule::new(Closures::new(on.forecast), on.catch_up, closing);
        let state = State {
            schedule,
            control,
            open_rate: on.open_rate,
            hints: on.hints,
            concurrency: if adaptive && on.inflight { Concurrency::default() } else { Concurrency::off() },
        };
        Self { state: Mutex::new(state) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current pace, writes per second (`None`: unlimited).
    pub fn rate(&self) -> Option<f64> {
        let rate = self.lock().control.rate();
        rate.is_finite().then_some(rate)
    }

    pub fn report(&self) -> PaceReport {
        let s = self.lock();
        let mut rate = s.control.rate();
        if let Some(cap) = s.concurrency.cap() {
            // The cap decides how fast writes go (the pace sits above it, see CAP_BINDS).
            rate = rate.min(f64::from(cap) / s.concurrency.rtt().as_secs_f64());
        }
        PaceReport { rate: rate.is_finite().then_some(rate), cuts: s.control.cuts() }
    }

    /// Claim the next write slot now, or say when to try again (see [`super::schedule`]).
    /// Every write claimed is answered ([`Pacer::accepted`], [`Pacer::throttled`]) or
    /// given up ([`Pacer::unanswered`]).
    pub fn try_claim(&self, now: Instant) -> Result<Sent, Instant> {
        let mut s = self.lock();
        s.tick(now);
        if !s.concurrency.room() {
            return Err(now + ROOM_POLL);
        }
        let rate = s.control.rate();
        s.schedule.claim(now, rate)?;
        Ok(Sent { at: now, id: s.concurrency.claim(now, rate) })
    }

    /// A write claimed had no answer (it failed on the way, or was never sent).
    pub fn unanswered(&self, sent: Sent) {
        self.lock().concurrency.given_up(sent.id, Instant::now());
    }

    /// Writes claimed and not yet answered or given up.
    pub fn in_flight(&self) -> u32 {
        self.lock().concurrency.in_flight()
    }

    /// The cap on writes in flight a concurrency limit's answers showed.
    pub fn cap(&self) -> Option<u32> {
        self.lock().concurrency.cap()
    }

    /// When the gate opens (reads wait for it too).
    pub fn gate(&self) -> Instant {
        self.lock().schedule.gate()
    }

    /// A write was accepted.
    pub fn accepted(&self, sent: impl Into<Sent>, now: Instant) {
        let Sent { at: sent, id } = sent.into();
        let mut s = self.lock();
        s.concurrency.accepted(id, now);
        s.schedule.accepted(sent);
        s.control.accepted(sent, now);
        s.tick(now);
    }

    /// A write was throttled (429, or 503 with `Retry-After`): the write itself waits its
    /// `Retry-After` (the engine sees to it); a long one shuts the tenant for everyone.
    pub fn throttled(&self, sent: impl Into<Sent>, now: Instant, retry_after: Option<Duration>) {
        let Sent { at: sent, id } = sent.into();
        let mut s = self.lock();
        let before = s.control.rate();
        if s.schedule.refused(sent, now, retry_after) == Refusal::Closed {
            s.concurrency.given_up(id, now);
            s.closed(now);
        } else {
            match s.concurrency.refused(id, now) {
                Verdict::Concurrency => {}
                // Read as the ramp's end, a burst's refusal would cut the pace to a quarter;
                // later, a refusal is a step back at most, and the windows' refusals at a
                // reopening (the count going at once) are the pace's to hear.
                Verdict::Burst if s.control.ramping() => {}
                // The refusals the pace learnt from were the cap's: find the pace anew,
                // from where the cap binds.
                Verdict::NewCap(cap) => {
                    let allows = f64::from(cap) / s.concurrency.rtt().as_secs_f64();
                    s.control.restart(now, allows * CAP_BINDS);
                }
                Verdict::Pace | Verdict::Burst => s.control.throttled(sent, now),
            }
        }
        s.after_change(before);
    }

    /// What the tenant said about its limits on a write it took ([`crate::throttle_hint`]):
    /// its budget spent until a moment a window away (not a bucket's next second), the
    /// tenant is shut until then, as by a refusal but without one. `reset` is clamped by
    /// the caller.
    pub fn told(&self, now: Instant, hint: Hint) {
        let mut s = self.lock();
        if !s.hints {
            return;
        }
        if let Some(wait) = hint.spent_for() {
            if s.schedule.announced(now, wait) {
                let before = s.control.rate();
                s.closed(now);
                s.after_change(before);
            }
        }
    }

    /// Hold every worker until `until` (a `Retry-After` on a read).
    pub fn hold_until(&self, until: Instant) {
        self.lock().schedule.hold_until(until);
    }
}

impl State {
    /// The tenant shut (a refusal or a hint said so): the controller is told, with what the
    /// window took while it was open.
    fn closed(&mut self, now: Instant) {
        let open = self.schedule.take_open_rate().filter(|_| self.open_rate);
        self.control.closed(now, open);
    }

    /// Let the controller raise the pace as time passes (not while the cap on writes in
    /// flight decides how fast they go).
    fn tick(&mut self, now: Instant) {
        if self.concurrency.cap().is_some() {
            return;
        }
        let before = self.control.rate();
        let schedule = &self.schedule;
        self.control.tick(now, &|span, rate| schedule.reaching(now, span, rate));
        self.after_change(before);
    }

    /// A pace cut drops the slot booked at the old pace.
    fn after_change(&mut self, before: f64) {
        let rate = self.control.rate();
        if rate < before {
            self.schedule.cut(rate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model_tenant::Bucket;

    /// Drive the pacer against a token-bucket tenant whose rate may change (`caps`), as the
    /// engine does (the shape table's harness: 16 workers, 50 ms, whole-second
    /// `Retry-After`). Returns (wall time, 429s).
    async fn run_against(n: usize, caps: Vec<(Duration, f64)>, burst: f64, mode: PaceMode) -> (Duration, u64) {
        let start = Instant::now();
        let bucket = Bucket { caps, start, burst, tokens: burst, last: start, throttled: 0 };
        let out = crate::engine::model_tenant::shapes::run_with(n, bucket, Pacer::new(mode)).await;
        (out.wall, out.throttled)
    }

    async fn run_against_bucket(n: usize, cap: f64, burst: f64, mode: PaceMode) -> (Duration, u64) {
        run_against(n, vec![(Duration::ZERO, cap)], burst, mode).await
    }

    /// Send at every free slot for `span`, each write accepted at once. Returns the time after.
    fn write_freely(p: &Pacer, from: Instant, span: Duration) -> Instant {
        let mut now = from;
        while now < from + span {
            match p.try_claim(now) {
                Ok(_) => p.accepted(now, now),
                Err(at) => now = at.max(now + Duration::from_millis(1)),
            }
        }
        now
    }

    #[tokio::test(start_paused = true)]
    async fn ramps_up_while_writes_succeed() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        let t1 = write_freely(&p, t0, RAMP_EVERY * 3 + Duration::from_millis(10));
        // Raised at least twice in three periods (each raise waits for an answer)…
        assert!(p.rate().unwrap() >= START_RATE * RAMP_FACTOR.powi(2) * 0.999, "rate {:?}", p.rate());
        // …up to its top, and no further (a faster tenant is told with --max-rate).
        write_freely(&p, t1, Duration::from_secs(5));
        assert_eq!(p.rate(), Some(RAMP_MAX), "the ramp's top");
        let told = Pacer::new(PaceMode::Adaptive { ceiling: Some(500.0) });
        assert_eq!(told.rate(), Some(500.0), "a told pace starts where it was told, above the ramp's top");
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
                Ok(_) => sent.push(now),
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
    async fn a_refusal_of_a_burst_the_pace_did_not_mean_is_no_pace_signal() {
        // Seen in the benchmark: slots made up after a lull sent four writes at once at the
        // start pace; a limit of four in flight refused one, and read as the ramp's end it cut
        // the pace to a quarter (the run took 2.4x the floor).
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        let alone = p.try_claim(t0).expect("the first slot");
        let later = t0 + Duration::from_millis(200);
        let burst: Vec<Sent> = std::iter::from_fn(|| p.try_claim(later).ok()).collect();
        assert_eq!(burst.len(), 1 + CATCH_UP as usize, "the slots missed in the lull, made up at once");
        assert_eq!(p.in_flight(), 5);
        p.throttled(burst[3], later + Duration::from_millis(50), Some(Duration::from_secs(1)));
        assert_eq!(p.rate(), Some(START_RATE), "five in flight at a pace that keeps two: the burst's refusal");
        p.throttled(alone, later + Duration::from_millis(60), Some(Duration::from_secs(1)));
        assert_eq!(p.rate(), Some(START_RATE * FIRST_CUT), "refused alone: the pace's");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_drops_the_slot_booked_at_the_old_pace() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: Some(40.0) });
        let t0 = Instant::now();
        assert!(p.try_claim(t0).is_ok());
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
                    Ok(_) => {
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
        // Believed for BELIEVE_FIRST writes (at 20/s: 30 s), and at least BELIEVE_FOR.
        let believed = Duration::from_secs_f64(f64::from(super::super::estimate::BELIEVE_FIRST - 10) / 20.0)
            .max(super::super::estimate::BELIEVE_FOR - Duration::from_millis(500));
        let t2 = write_freely(&p, t1, believed);
        // (Every write of this model tenant is accepted, so the lower bound may rise to the
        // upper one; the pace never passes the upper bound while it is believed.)
        assert!(p.rate().unwrap() <= 20.5, "no probing past a believed estimate: {:?}", p.rate());
        write_freely(&p, t2, Duration::from_secs(15));
        assert!(p.rate().unwrap() > settled * 1.1, "an expired estimate is probed past: {:?}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_far_above_a_lapsed_estimate_is_a_risen_limit_not_a_confirmation() {
        let p = Pacer::new(PaceMode::Adaptive { ceiling: None });
        let t0 = Instant::now();
        // A drained bucket: refused, 24 accepted over 2 s, refused: 12/s.
        p.throttled(t0, t0, None);
        for i in 1..=24u64 {
            let t = t0 + Duration::from_millis(2000 * i / 25);
            p.accepted(t, t);
        }
        let t1 = t0 + Duration::from_secs(2);
        p.throttled(t1, t1, None);
        assert!(p.rate().unwrap() < 12.5, "paced at {:?} for a tenant taking 12/s", p.rate());
        // The estimate lapses; the search climbs past it, every write taken (the limit rose).
        let t2 = write_freely(&p, t1, Duration::from_secs(60));
        let searched = p.rate().unwrap();
        assert!(searched > 20.0, "the search climbed: {searched}");
        // Refused there: the old estimate is history, the pace steps back from where it was.
        p.throttled(t2, t2 + Duration::from_millis(50), Some(Duration::from_secs(1)));
        assert!(p.rate().unwrap() >= searched * 0.9, "fell back to {:?} from {searched}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_at_the_pace() {
        let p = Pacer::new(PaceMode::Fixed(10.0));
        let mut now = Instant::now();
        assert!(p.try_claim(now).is_ok());
        for _ in 0..5 {
            let next = p.try_claim(now).expect_err("one slot per 100 ms");
            assert_eq!(next.duration_since(now), Duration::from_millis(100));
            now = next;
            assert!(p.try_claim(now).is_ok());
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
    async fn a_held_gate_releases_the_workers_spaced() {
        let p = Pacer::new(PaceMode::Fixed(10.0));
        let now = Instant::now();
        p.hold_until(now + Duration::from_secs(2));
        let open = p.try_claim(now).expect_err("held");
        assert!(open >= now + Duration::from_secs(2), "held until Retry-After passed");
        assert!(p.try_claim(open).is_ok(), "one worker leaves when the gate opens");
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
        // The estimate of 20/s, learnt after the fall, is believed for BELIEVE writes (and
        // BELIEVE_FOR) before the search looks past it: ~132 s (with a 150 s belief it was
        // ~225 s). Never finding the rise: 1,040 writes by 40 s, the other 4,960 at 20/s: 288 s.
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
