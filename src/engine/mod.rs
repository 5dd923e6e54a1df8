//! The request engine: the one place requests are scheduled, paced, retried, interrupted and
//! counted. `activate`, `import` and the lifecycle commands are planners: they decide *what*
//! to send for a row and hand each attempt to the engine, which decides *when* — and whether
//! the run goes on at all.
//!
//! - **Scheduling**: at most `--parallel` requests in flight ([`Engine::slot`], [`Engine::read`]).
//! - **Pace**: writes take a slot from the [`pacer::Pacer`], which finds the tenant's rate
//!   from what its answers tell ([`estimate::RateEstimate`]).
//! - **Retries**: one [`retry::RetryPolicy`] for every request; the HTTP layer and the backends
//!   make exactly one attempt per call, so retries never nest.
//! - **Stopping**: Ctrl-C, a rejected credential or a journal that cannot be written stop the
//!   run ([`Engine::abort`]); every wait — pace, `Retry-After`, backoff — ends at once.
//! - **Counting**: [`Stats`], the summary's `requests`, `retries`, `throttled`.
//!
//! The engine knows nothing of rows, CSV files or which command planned the step.

pub mod closure;
pub mod control;
pub mod estimate;
pub mod inflight;
#[cfg(test)]
mod model_tenant;
#[cfg(test)]
mod pace_table;
pub mod pacer;
pub mod retry;
pub mod schedule;
pub mod stats;

pub use pacer::{PaceMode, PaceReport, Pacer};
pub use retry::{Attempts, Decision, RetryPolicy};
pub use stats::Stats;

use crate::api_error::ApiError;
use crate::record::Fatal;
use crate::stop::StopReason;
use crate::throttle_hint::Hint;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// How a run's engine behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// Requests in flight at once.
    pub parallel: usize,
    pub pace: PaceMode,
    pub policy: RetryPolicy,
    /// The pacer's mechanisms: all on, but when measuring one's worth.
    pub mechanisms: pacer::Mechanisms,
}

impl EngineConfig {
    /// A run's engine, with counters of its own: made by the command before it connects, so
    /// the client it builds retries reads through it (`commands/connect.rs`).
    pub fn start(self) -> Arc<Engine> {
        Arc::new(Engine::new(self, Default::default()))
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            parallel: 16,
            pace: PaceMode::Adaptive { ceiling: None },
            policy: RetryPolicy::default(),
            mechanisms: pacer::Mechanisms::ALL,
        }
    }
}

pub struct Engine {
    permits: Semaphore,
    /// Reads have their own places: a write's planner may read while it holds a write's
    /// place (a refused write explained), and must not wait for itself.
    read_permits: Semaphore,
    parallel: usize,
    pacer: Pacer,
    policy: RetryPolicy,
    stop: watch::Sender<bool>,
    fatal: Mutex<Option<Fatal>>,
    stats: Arc<Stats>,
}

/// A granted write slot: a place among the requests in flight, at a paced moment.
pub struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    sent: pacer::Sent,
    /// Its answer was told to the pacer ([`Engine::finish_write`]); if not, the pacer hears
    /// it had none when the slot is dropped.
    told: bool,
    engine: &'a Engine,
}

impl Drop for Slot<'_> {
    /// A task that panics (a bug) while it holds a slot stops the run *before* its place is
    /// freed: on a multi-threaded runtime another worker would otherwise take the place and
    /// send before anyone noticed. The run then ends as for Ctrl-C (exit 70, resumable).
    fn drop(&mut self) {
        if !self.told {
            self.engine.pacer.unanswered(self.sent);
        }
        if std::thread::panicking() {
            self.engine.abort(
                StopReason::Internal,
                "internal error (a bug, please report it): a task panicked with a request in flight",
            );
        }
    }
}

/// Why a write got no slot: the run stopped while it waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl Engine {
    pub fn new(config: EngineConfig, stats: Arc<Stats>) -> Self {
        let (stop, _) = watch::channel(false);
        let parallel = config.parallel.max(1);
        Self {
            permits: Semaphore::new(parallel),
            read_permits: Semaphore::new(parallel),
            parallel,
            pacer: Pacer::with(config.pace, config.mechanisms),
            policy: config.policy,
            stop,
            fatal: Mutex::new(None),
            stats,
        }
    }

    /// How many requests may be in flight at once (`--parallel`).
    pub fn parallel(&self) -> usize {
        self.parallel
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// What the pace settled on.
    pub fn pace(&self) -> PaceReport {
        self.pacer.report()
    }

    pub fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Stop the run: the first reason wins and is the one reported. Every wait ends.
    pub fn abort(&self, code: StopReason, message: impl Into<String>) {
        let mut f = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(Fatal { code, message: message.into() });
        }
        self.stop.send_replace(true);
    }

    /// Why the run stopped, if it did.
    pub fn fatal(&self) -> Option<Fatal> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Ctrl-C stops the run (requests in flight settle; nothing new is sent).
    pub fn watch_interrupt(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                engine.abort(StopReason::Interrupted, "interrupted (Ctrl-C)");
            }
        })
    }

    /// Sleep unless the run stops first. Returns false when stopped.
    pub async fn sleep(&self, d: Duration) -> bool {
        self.sleep_until(Instant::now() + d.min(Duration::from_secs(86_400))).await
    }

    async fn sleep_until(&self, until: Instant) -> bool {
        let mut rx = self.stop.subscribe();
        if *rx.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until) => !self.stopped(),
            _ = rx.wait_for(|s| *s) => false,
        }
    }

    /// A place among the requests in flight and a paced moment to send a write. `Err` when
    /// the run stopped while waiting (a stopped run never drains its queue at the pace).
    pub async fn slot(&self) -> Result<Slot<'_>, Stopped> {
        if self.stopped() {
            return Err(Stopped);
        }
        let permit = tokio::select! {
            p = self.permits.acquire() => p.expect("the semaphore is never closed"),
            _ = self.wait_stopped() => return Err(Stopped),
        };
        let sent = loop {
            match self.pacer.try_claim(Instant::now()) {
                Ok(sent) => break sent,
                Err(at) if !self.sleep_until(at).await => return Err(Stopped),
                Err(_) => {}
            }
        };
        let slot = Slot { _permit: permit, sent, told: false, engine: self };
        // The run may have stopped while this worker waited for its place (a place freed by
        // the request that stopped it): a stopped run sends nothing more.
        if self.stopped() {
            return Err(Stopped);
        }
        Ok(slot)
    }

    async fn wait_stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// The write sent in `slot` has its answer: tell the pacer how it fared, and free the slot.
    pub fn finish_write<T>(&self, mut slot: Slot<'_>, result: &Result<T, ApiError>) {
        let now = Instant::now();
        slot.told = true;
        match result {
            // A refused write (wrong code, someone else's token) was still taken from the
            // tenant's budget: it counts for the pace like an accepted one.
            Ok(_) | Err(ApiError::Rejected { .. }) => self.pacer.accepted(slot.sent, now),
            Err(ApiError::Throttled { retry_after, .. }) => {
                let retry_after = retry_after.map(|d| d.min(self.policy.max_wait));
                self.pacer.throttled(slot.sent, now, retry_after);
            }
            // Failures without an answer (or before the limit was looked at) say nothing.
            Err(_) => self.pacer.unanswered(slot.sent),
        }
    }

    /// What the tenant said about its limits on an answer to a write (a throttle hint; the
    /// client built for the run reports each, see `http::ApiClient::retrying_reads`). A
    /// hint is advice: one asking to wait past `--max-wait` is not taken (were it true, the
    /// tenant's next 429 says so, and that stops the run as any such wait does).
    pub fn told(&self, hint: Hint) {
        if hint.reset.is_some_and(|r| r > self.policy.max_wait) {
            return;
        }
        self.pacer.told(Instant::now(), hint);
    }

    /// The retry policy's verdict on a failed attempt, counted in the statistics. A wait
    /// longer than `--max-wait` stops the run (exit 4, resumable) rather than hanging it.
    pub fn decide(&self, err: &ApiError, attempts: &mut Attempts) -> Decision {
        if let ApiError::Throttled { status, retry_after } = err {
            self.stats.note_throttled(*status, *retry_after); // for the journal (`report`)
        }
        let d = self.policy.decide(err, attempts);
        match &d {
            Decision::Throttled(_) => {
                Stats::bump(&self.stats.throttled);
                Stats::bump(&self.stats.retries);
            }
            Decision::Transient(_) => Stats::bump(&self.stats.retries),
            Decision::WaitTooLong(wait) => self.abort(
                StopReason::Service,
                format!(
                    "the tenant asked to wait {}, longer than --max-wait ({} s); run again later with --resume",
                    describe_wait(*wait),
                    self.policy.max_wait.as_secs()
                ),
            ),
            Decision::GiveUp => {}
        }
        d
    }

    /// A read, safe to repeat: waits for the gate and a place in flight, and is tried again
    /// through throttling and transient failures under the policy. Stops with the run. The
    /// client built for a run wraps each GET in this (`http::ApiClient::retrying_reads`);
    /// planners never wrap a backend call in it, so retries never nest.
    pub async fn read<T>(&self, mut call: impl Attempt<T>) -> Result<T, ApiError> {
        let mut attempts = Attempts::default();
        loop {
            if self.stopped() || !self.sleep_until(self.pacer.gate()).await {
                return Err(stopped_error());
            }
            let permit = tokio::select! {
                p = self.read_permits.acquire() => p.expect("the semaphore is never closed"),
                _ = self.wait_stopped() => return Err(stopped_error()),
            };
            let result = call.attempt().await;
            drop(permit);
            let err = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match self.decide(&err, &mut attempts) {
                Decision::Throttled(wait) => {
                    // A read throttled: the tenant is busy for everyone; hold every worker.
                    self.pacer.hold_until(Instant::now() + wait);
                }
                Decision::Transient(wait) => {
                    if !self.sleep(wait).await {
                        return Err(err);
                    }
                }
                Decision::GiveUp | Decision::WaitTooLong(_) => return Err(err),
            }
        }
    }

    /// A write that is safe to send again after throttling only (a throttled request was not
    /// applied): paced, throttling waited out under the policy. Every other failure comes
    /// back for the planner to reconcile against the tenant before anything is re-sent.
    pub async fn write<T>(&self, mut call: impl Attempt<T>) -> Result<T, ApiError> {
        let mut attempts = Attempts::default();
        loop {
            let Ok(slot) = self.slot().await else { return Err(stopped_error()) };
            let result = call.attempt().await;
            self.finish_write(slot, &result);
            match result {
                Err(e @ ApiError::Throttled { .. }) => match self.wait_out_throttle(&e, &mut attempts).await {
                    Resend::Yes => {}
                    Resend::Stopped => return Err(stopped_error()),
                    Resend::GiveUp => return Err(e),
                },
                other => return other,
            }
        }
    }

    /// A throttled write: was not applied, so it may go again once its `Retry-After` has
    /// passed, under the policy (bounded attempts and wait). The one throttle loop step of
    /// every write — [`Engine::write`]'s and the activation executor's.
    pub async fn wait_out_throttle(&self, err: &ApiError, attempts: &mut Attempts) -> Resend {
        match self.decide(err, attempts) {
            Decision::Throttled(wait) if self.sleep(wait).await => Resend::Yes,
            Decision::Throttled(_) => Resend::Stopped,
            _ => Resend::GiveUp,
        }
    }
}

/// One attempt at a request, made again for each retry: any `FnMut` returning its future.
pub trait Attempt<T> {
    type Answer: Future<Output = Result<T, ApiError>>;
    fn attempt(&mut self) -> Self::Answer;
}

impl<T, F, Fut> Attempt<T> for F
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    type Answer = Fut;
    fn attempt(&mut self) -> Fut {
        self()
    }
}

/// After a throttled write: send it again, or not (and why not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Its `Retry-After` has passed: send the same write again.
    Yes,
    /// The run stopped during the wait.
    Stopped,
    /// Throttled too often, or asked to wait longer than `--max-wait` (which stops the run).
    GiveUp,
}

/// The error a request gets when the run stopped before it was sent.
pub fn stopped_error() -> ApiError {
    ApiError::Transport { maybe_applied: false, message: "the run stopped before this request was sent".into() }
}

/// `ms` milliseconds after `t0` (the engine's tests speak in milliseconds from a start).
#[cfg(test)]
pub(crate) fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

fn describe_wait(d: Duration) -> String {
    if d.as_secs() > 86_400 * 365 {
        "more than a year".into()
    } else {
        format!("{} s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn engine(pace: PaceMode, policy: RetryPolicy) -> Arc<Engine> {
        Arc::new(Engine::new(
            EngineConfig { parallel: 4, pace, policy, mechanisms: pacer::Mechanisms::ALL },
            Arc::new(Stats::default()),
        ))
    }

    #[tokio::test]
    async fn a_place_freed_by_the_request_that_stopped_the_run_sends_nothing() {
        for _ in 0..20 {
            let e1 = Arc::new(Engine::new(
                EngineConfig { parallel: 1, pace: PaceMode::Unlimited, ..Default::default() },
                Arc::new(Stats::default()),
            ));
            let held = e1.slot().await.expect("a place");
            let waiter = {
                let e1 = e1.clone();
                tokio::spawn(async move { e1.slot().await.map(|_| ()) })
            };
            tokio::task::yield_now().await;
            // The request in the only place stops the run and frees its place at once.
            e1.abort(StopReason::Service, "stop");
            drop(held);
            assert_eq!(waiter.await.unwrap(), Err(Stopped), "nothing is sent after a stop");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_write_slot_leaves_the_count_of_writes_in_flight_however_it_ends() {
        let e = engine(PaceMode::Adaptive { ceiling: None }, RetryPolicy::default());
        let answered = e.slot().await.expect("a place");
        let failed = e.slot().await.expect("a place");
        let dropped = e.slot().await.expect("a place");
        assert_eq!(e.pacer.in_flight(), 3);
        e.finish_write::<()>(answered, &Ok(()));
        let lost = ApiError::Transport { maybe_applied: true, message: "reset".into() };
        e.finish_write::<()>(failed, &Err(lost));
        drop(dropped); // the run stopped, or the task ended without an answer
        assert_eq!(e.pacer.in_flight(), 0, "a write that leaves the count late would hold the cap shut");
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_is_retried_through_throttling_and_honours_retry_after() {
        let e = engine(PaceMode::Unlimited, RetryPolicy::default());
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let r: Result<u32, ApiError> = e
            .read(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(ApiError::Throttled { status: 429, retry_after: Some(Duration::from_secs(3)) })
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert_eq!(Stats::get(&e.stats().throttled), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_retry_after_stops_the_run_instead_of_hanging() {
        let e = engine(PaceMode::Unlimited, RetryPolicy::default());
        let r: Result<(), ApiError> =
            e.read(|| async { Err(ApiError::Throttled { status: 429, retry_after: Some(Duration::MAX) }) }).await;
        assert!(r.is_err());
        assert!(e.stopped());
        assert_eq!(e.fatal().unwrap().code, StopReason::Service);
    }

    #[tokio::test(start_paused = true)]
    async fn abort_ends_every_wait_at_once() {
        let e = engine(PaceMode::Fixed(0.2), RetryPolicy::default());
        let first = e.slot().await.map(|_| ());
        assert!(first.is_ok());
        let waiter = {
            let e = e.clone();
            tokio::spawn(async move { e.slot().await.map(|_| ()) })
        };
        let sleeper = {
            let e = e.clone();
            tokio::spawn(async move { e.sleep(Duration::from_secs(3600)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let t = Instant::now();
        e.abort(StopReason::Interrupted, "test");
        assert_eq!(waiter.await.unwrap(), Err(Stopped));
        assert!(!sleeper.await.unwrap());
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_window_hinted_shuts_writes_until_its_reset_but_a_hostile_reset_is_not_taken() {
        let e = engine(PaceMode::Adaptive { ceiling: Some(10.0) }, RetryPolicy::default());
        drop(e.slot().await.expect("a place"));
        let spent = |secs| Hint { remaining: Some(0), reset: Some(Duration::from_secs(secs)) };
        e.told(spent(86_000)); // past --max-wait: advice not taken
        let t = Instant::now();
        drop(e.slot().await.expect("a place"));
        assert!(t.elapsed() < Duration::from_secs(1), "not held by a hostile reset: {:?}", t.elapsed());
        e.told(spent(5));
        let t = Instant::now();
        drop(e.slot().await.expect("a place"));
        assert!(t.elapsed() >= Duration::from_secs(5), "held until the window's reset: {:?}", t.elapsed());
        assert!(t.elapsed() < Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_is_resent_only_after_throttling() {
        let e = engine(PaceMode::Unlimited, RetryPolicy::default());
        let calls = AtomicU32::new(0);
        let r: Result<(), ApiError> = e
            .write(|| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(ApiError::Throttled { status: 429, retry_after: Some(Duration::from_secs(1)) }),
                    _ => Err(ApiError::Unavailable { status: 500, code: "x".into(), message: "y".into() }),
                }
            })
            .await;
        assert!(matches!(r, Err(ApiError::Unavailable { .. })), "a 5xx goes back to the planner");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_read_failures_are_bounded() {
        let policy = RetryPolicy { max_transient: 2, ..RetryPolicy::default() };
        let e = engine(PaceMode::Unlimited, policy);
        let calls = AtomicU32::new(0);
        let r: Result<(), ApiError> = e
            .read(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ApiError::Transport { maybe_applied: false, message: "refused".into() })
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one attempt and two retries, no nesting");
    }
}
