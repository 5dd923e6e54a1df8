//! Writes in flight, and whether the tenant limits them (a concurrency limit).
//!
//! Some services limit the requests they hold at once ("at most K in flight") rather than a
//! rate. Paced at a rate, such a tenant refuses at random moments — whenever the answers'
//! jitter lets a (K+1)th write in — and a rate controller reads each refusal as "too fast":
//! the pace settled near 66–72/s where four in flight allow 75/s (docs/pacing.md). The cure
//! is to hold the writes in flight under K; the question is only whether the refusals are
//! a concurrency limit's, and what K is. The answers say it, with no statistics:
//!
//! - A refused write found at least K others in the service when it arrived. Every one of
//!   them was in flight here when it was sent: its `others` (writes in flight at its claim)
//!   is at least K.
//! - An accepted write found at most K − 1 others. Those whose answers came more than the
//!   way there and back ([`Concurrency::transit`]) after it was sent were surely still in the
//!   service when it arrived: its `sure` count is at most K − 1.
//!
//! So a concurrency limit explains the answers only while every accepted write's `sure` is
//! under every refused write's `others`; then K is at most the least `others` refused, and
//! holding the writes in flight to that many ([`Concurrency::cap`]) ends the refusals — a
//! cap too high by one draws a refusal that lowers it. A rate limit refuses whatever is in
//! flight: soon a refused write had fewer others than an accepted one surely had, and the
//! limit is no concurrency limit for the rest of the run. (Reads are not counted: a tenant
//! that counts them too refuses a write with fewer writes in flight than the limit, and is
//! paced as if it had none — as before this cap existed.)
//!
//! Before a limit is shown, a refused write that left with far more in flight than its pace
//! keeps was refused for a burst the pace did not mean ([`Verdict::Burst`]): it counts as an
//! overshoot here, and while the pace is still ramping it tells the pace nothing.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Pace refusals needed before a concurrency limit is believed: the ramp's last step
/// overshoots every limit at once, and one refusal is consistent with anything.
const MIN_REFUSALS: u32 = 2;
/// A refused write that left with more writes in flight than the pace keeps (pace × round
/// trip) by more than this many was refused for a burst, not the pace. Seen in the benchmark:
/// a catch-up of three slots at the start pace (40/s, two in flight) met a limit of four in
/// flight; read as the ramp's end, it cut the pace to 10/s and the run took 2.4× the floor.
const BURST_SLACK: f64 = 2.0;
/// Round trips remembered to judge how long the way there and back may take.
const RTTS: usize = 64;
/// Added to the spread of round trips: the shortest still travelled a little.
const TRANSIT_FLOOR: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Copy)]
struct Live {
    id: u64,
    sent: Instant,
    /// Writes in flight when it was claimed (not counting itself).
    others: u32,
    /// Of them, answered so soon after it was sent that the service may have let them go.
    early: u32,
    /// The pace that let it go, writes per second.
    pace: f64,
}

/// What a refused write says of writes in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing (no concurrency limit explains the answers): a pace signal.
    Pace,
    /// The answers now show a concurrency limit: at most this many in flight.
    NewCap(u32),
    /// Too many were in flight, under a limit already shown (the cap may have fallen).
    Concurrency,
    /// More were in flight than the pace keeps (a burst it did not mean: slots made up after
    /// a lull, writes a code-window question held back), and no limit is shown yet: the
    /// burst was refused, not the pace.
    Burst,
}

/// The writes in flight, what their answers showed of a limit on them, and the cap it gives.
#[derive(Debug, Default)]
pub struct Concurrency {
    live: Vec<Live>,
    next_id: u64,
    rtts: VecDeque<Duration>,
    /// The most others an accepted write surely met.
    sure_accepted: u32,
    /// The fewest others a refused write may have met.
    least_refused: Option<u32>,
    /// Refusals of writes sent after the last one counted was answered (the writes in
    /// flight when the pace overshot are refused together: one overshoot, one refusal).
    refusals: u32,
    counted_until: Option<Instant>,
    /// The answers contradicted a concurrency limit: none for the rest of the run.
    ruled_out: bool,
    /// Counting only: no cap, every refusal a pace signal (a fixed pace is the user's word;
    /// `--without inflight`).
    off: bool,
}

impl Concurrency {
    /// A count of writes in flight that never caps them.
    pub fn off() -> Self {
        Self { off: true, ..Self::default() }
    }

    /// Writes in flight now.
    pub fn in_flight(&self) -> u32 {
        self.live.len() as u32
    }

    /// The most writes that may be in flight, when a concurrency limit is shown.
    pub fn cap(&self) -> Option<u32> {
        if self.off || self.ruled_out || self.refusals < MIN_REFUSALS {
            return None;
        }
        self.least_refused
    }

    /// May another write go now?
    pub fn room(&self) -> bool {
        self.cap().is_none_or(|cap| self.in_flight() < cap)
    }

    /// A write leaves at `now`, let go at `pace` writes per second: its id (never 0).
    pub fn claim(&mut self, now: Instant, pace: f64) -> u64 {
        self.next_id += 1;
        let live = Live { id: self.next_id, sent: now, others: self.in_flight(), early: 0, pace };
        self.live.push(live);
        live.id
    }

    /// How long the way there and back may take: the spread of recent round trips (the
    /// service's own time is in every one of them), half as much again (a few dozen round
    /// trips show less than the whole spread), and a little more. Too short, and a sure
    /// count is too high: a concurrency limit is ruled out, and the pace goes on as without
    /// one. Too long, and a rate limit passes for a concurrency limit longer. Measured on the
    /// pace table over a jittery network: the spread alone ruled out two seeds of eight,
    /// half as much again one, twice as much believed a cap of a 100/s bucket in two.
    pub fn transit(&self) -> Duration {
        let (Some(min), Some(max)) = (self.rtts.iter().min(), self.rtts.iter().max()) else {
            return TRANSIT_FLOOR;
        };
        (*max - *min) * 3 / 2 + TRANSIT_FLOOR
    }

    /// A typical round trip (the median of the recent ones; 50 ms before any).
    pub fn rtt(&self) -> Duration {
        let mut all: Vec<Duration> = self.rtts.iter().copied().collect();
        all.sort();
        all.get(all.len() / 2).copied().unwrap_or(Duration::from_millis(50))
    }

    /// The write `id` left the flight at `now`: `None` if it was not counted here. The
    /// writes claimed after it counted it among their others; for their sure counts, it was
    /// not in the service when they arrived if it was `held` nowhere (refused, or its fate
    /// unknown) or if this answer came too soon after they were sent.
    fn release(&mut self, id: u64, now: Instant, held: bool) -> Option<Live> {
        let i = self.live.iter().position(|w| w.id == id)?;
        let gone = self.live.swap_remove(i);
        let transit = self.transit();
        for w in self.live.iter_mut().filter(|w| w.id > id && (!held || now <= w.sent + transit)) {
            w.early += 1;
        }
        Some(gone)
    }

    /// The write `id` had no answer.
    pub fn given_up(&mut self, id: u64, now: Instant) {
        self.release(id, now, false);
    }

    /// The write `id` was taken at `now`.
    pub fn accepted(&mut self, id: u64, now: Instant) {
        let Some(w) = self.release(id, now, true) else { return };
        self.note_rtt(now.duration_since(w.sent));
        self.sure_accepted = self.sure_accepted.max(w.others.saturating_sub(w.early));
        self.check();
    }

    /// The write `id` was refused as too fast at `now`: was it too many in flight?
    pub fn refused(&mut self, id: u64, now: Instant) -> Verdict {
        let Some(w) = self.release(id, now, false) else { return Verdict::Pace };
        self.note_rtt(now.duration_since(w.sent));
        if self.off {
            return Verdict::Pace;
        }
        let before = self.cap();
        if self.counted_until.is_none_or(|t| w.sent > t) {
            self.refusals += 1;
            self.counted_until = Some(now);
        }
        self.least_refused = Some(self.least_refused.map_or(w.others, |l| l.min(w.others)));
        self.check();
        let keeps = w.pace * self.rtt().as_secs_f64();
        match (before, self.cap()) {
            (_, None) if f64::from(w.others) + 1.0 > keeps + BURST_SLACK => Verdict::Burst,
            (_, None) => Verdict::Pace,
            (None, Some(cap)) => Verdict::NewCap(cap),
            (Some(_), Some(_)) => Verdict::Concurrency,
        }
    }

    fn note_rtt(&mut self, rtt: Duration) {
        self.rtts.push_back(rtt);
        if self.rtts.len() > RTTS {
            self.rtts.pop_front();
        }
    }

    /// A limit K needs every accepted write under K and every refused one at K or more.
    fn check(&mut self) {
        if self.least_refused.is_some_and(|least| least == 0 || self.sure_accepted >= least) {
            self.ruled_out = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ms;

    /// A tenant holding at most `k` writes for 50 ms each, each way to it and back taking
    /// 0–2 ms: `n` writes claimed `gap` ms apart, each answered in turn. Returns the tracker.
    fn against_concurrency(k: u32, n: u64, gap: u64) -> Concurrency {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        let mut held: Vec<Instant> = Vec::new(); // when the service lets each go
        let mut pending: Vec<(u64, Instant, bool)> = Vec::new(); // (id, answered, taken)
        for i in 0..n {
            let now = ms(t0, i * gap);
            pending.sort_by_key(|p| p.1);
            for (id, at, taken) in pending.iter().filter(|p| p.1 <= now) {
                if *taken {
                    c.accepted(*id, *at);
                } else {
                    c.refused(*id, *at);
                }
            }
            pending.retain(|p| p.1 > now);
            let id = c.claim(now, f64::INFINITY);
            let (there, back) = (Duration::from_millis(i % 3), Duration::from_millis(i * 7 % 3));
            let arrives = now + there;
            held.retain(|until| *until > arrives);
            let taken = (held.len() as u32) < k;
            if taken {
                held.push(arrives + Duration::from_millis(50));
            }
            pending.push((id, arrives + Duration::from_millis(50) + back, taken));
        }
        c
    }

    #[tokio::test(start_paused = true)]
    async fn a_concurrency_limit_is_found_and_capped_where_it_is() {
        // 4 held at once, writes every 11 ms: at times a fifth arrives while four are held.
        let c = against_concurrency(4, 300, 11);
        assert_eq!(c.cap(), Some(4), "the answers show at most 4 in flight: {c:?}");
        assert!(!c.ruled_out);
        let c = against_concurrency(2, 300, 21);
        assert_eq!(c.cap(), Some(2), "and at most 2: {c:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_overshoot_is_one_refusal_and_one_refusal_is_no_limit() {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        let ids: Vec<u64> = (0..6).map(|i| c.claim(ms(t0, i), f64::INFINITY)).collect();
        // The last two, in flight together, refused together: one overshoot.
        for id in &ids[..4] {
            c.accepted(*id, ms(t0, 60));
        }
        c.refused(ids[4], ms(t0, 61));
        c.refused(ids[5], ms(t0, 61));
        assert_eq!(c.cap(), None, "refusals of one overshoot count once");
        // Another overshoot later, as far in flight: now it is a limit.
        let later: Vec<u64> = (0..5).map(|i| c.claim(ms(t0, 200 + i), f64::INFINITY)).collect();
        for id in &later[..4] {
            c.accepted(*id, ms(t0, 260));
        }
        assert_eq!(c.refused(later[4], ms(t0, 261)), Verdict::NewCap(4));
        for i in 0..4 {
            assert!(c.room(), "{i} in flight: room under the cap");
            c.claim(ms(t0, 300), f64::INFINITY);
        }
        assert!(!c.room(), "4 in flight: the cap holds the next");
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_refusing_with_few_in_flight_is_no_concurrency_limit_for_the_run() {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        // Three in flight, all surely in the service together (answers long after), taken.
        let ids: Vec<u64> = (0..3).map(|i| c.claim(ms(t0, i), f64::INFINITY)).collect();
        for id in &ids {
            c.accepted(*id, ms(t0, 50));
        }
        let lone = c.claim(ms(t0, 100), f64::INFINITY);
        let crowd: Vec<u64> = (0..3).map(|i| c.claim(ms(t0, 101 + i), f64::INFINITY)).collect();
        // Refused with only one other in flight, though one was taken with two others.
        assert_eq!(c.refused(crowd[0], ms(t0, 150)), Verdict::Pace);
        assert!(c.ruled_out, "a write met two and was taken; one met one and was refused");
        c.accepted(lone, ms(t0, 151));
        for id in &crowd[1..] {
            c.refused(*id, ms(t0, 300));
        }
        assert_eq!(c.cap(), None, "ruled out for the rest of the run");
        assert!(c.room());
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_with_nothing_else_in_flight_rules_it_out() {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        let id = c.claim(t0, f64::INFINITY);
        assert_eq!(c.refused(id, ms(t0, 50)), Verdict::Pace);
        assert!(c.ruled_out);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_that_came_just_after_a_write_left_are_not_sure_company() {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        // Round trips of 50–52 ms: the way there and back takes at most ~3 ms.
        for i in 0..10 {
            let id = c.claim(ms(t0, i * 100), f64::INFINITY);
            c.accepted(id, ms(t0, i * 100 + 50 + i % 3));
        }
        let base = 2_000;
        let old = c.claim(ms(t0, base), f64::INFINITY);
        let new = c.claim(ms(t0, base + 50), f64::INFINITY);
        c.accepted(old, ms(t0, base + 51)); // answered 1 ms after `new` left: maybe gone
        c.accepted(new, ms(t0, base + 101));
        assert_eq!(c.sure_accepted, 0, "the old write may have left the service before the new one came");
        let (a, b) = (c.claim(ms(t0, base + 200), f64::INFINITY), c.claim(ms(t0, base + 210), f64::INFINITY));
        c.accepted(a, ms(t0, base + 251)); // 41 ms after `b` left: surely met it
        c.accepted(b, ms(t0, base + 261));
        assert_eq!(c.sure_accepted, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_given_up_leave_the_count() {
        let t0 = Instant::now();
        let mut c = Concurrency::default();
        let ids: Vec<u64> = (0..5).map(|i| c.claim(ms(t0, i), f64::INFINITY)).collect();
        assert_eq!(c.in_flight(), 5);
        for id in ids {
            c.given_up(id, ms(t0, 10));
        }
        assert_eq!(c.in_flight(), 0);
        c.given_up(999, ms(t0, 11)); // never claimed here: nothing happens
        assert_eq!(c.in_flight(), 0);
    }
}
