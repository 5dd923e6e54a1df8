//! Model tenants for the engine's unit tests: a plain token bucket, and every limit shape of
//! the simulator ([`shapes`]), driven on tokio's paused clock.

use std::time::Duration;
use tokio::time::Instant;

/// A token-bucket tenant: `cap` writes per second (which may change during the run), a
/// bucket of `burst`.
pub struct Bucket {
    pub caps: Vec<(Duration, f64)>,
    pub start: Instant,
    pub burst: f64,
    pub tokens: f64,
    pub last: Instant,
    pub throttled: u64,
}

impl Bucket {
    fn cap(&self, at: Instant) -> f64 {
        let t = at.duration_since(self.start);
        self.caps.iter().rev().find(|(from, _)| t >= *from).map_or(self.caps[0].1, |(_, c)| *c)
    }

    pub fn take(&mut self, at: Instant) -> bool {
        let cap = self.cap(at);
        self.tokens = (self.tokens + cap * at.duration_since(self.last).as_secs_f64()).min(self.burst);
        self.last = at;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.throttled += 1;
            false
        }
    }
}

/// A tenant of any limit shape ([`crate::limits`]), driven as the engine drives
/// the simulator: `WORKERS` workers claim slots from the pacer, each write arrives after
/// `LATENCY` (a concurrency limit counts it from when it is sent until its answer), a
/// throttled write waits its whole-second `Retry-After` and goes again.
pub mod shapes {
    use crate::engine::Pacer;
    use crate::limits::{Limits, Shape, SharedPeriod};
    use crate::throttle_hint::Hint;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::time::Instant;

    pub const WORKERS: usize = 16;
    pub const LATENCY: Duration = Duration::from_millis(50);

    /// The way to the tenant and back: each leg takes up to `jitter` more, drawn from a
    /// seeded generator (the real simulator's answers come 0–6 ms late, and a concurrency
    /// limit counts a request only while the service holds it — not while it travels).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Net {
        pub jitter: Duration,
        pub seed: u64,
    }

    impl Net {
        /// Each leg up to 3 ms late: answers 0–6 ms late, as the benchmark's are.
        pub fn jittery(seed: u64) -> Self {
            Self { jitter: Duration::from_millis(3), seed }
        }
    }

    /// How a run went.
    #[derive(Debug, Clone, Copy)]
    pub struct Outcome {
        pub wall: Duration,
        pub throttled: u64,
        pub writes: usize,
        /// The cap on writes in flight believed at the end ([`crate::engine::inflight`]).
        pub cap: Option<u32>,
        /// The pace the summary reports.
        pub pace: Option<f64>,
    }

    impl Outcome {
        pub fn per_token(&self) -> f64 {
            (self.writes as f64 + self.throttled as f64) / self.writes as f64
        }
    }

    /// What a model tenant answers (times are seconds since the run began).
    pub trait Tenant: Send + 'static {
        /// A request arrives: `Err(retry_after_secs)` when too many are in flight.
        fn enter(&mut self) -> Result<(), u64> {
            Ok(())
        }
        /// A request that entered was answered.
        fn leave(&mut self) {}
        /// A write at `t`: taken, or refused with the whole seconds to wait.
        fn take(&mut self, t: f64) -> Result<(), u64>;
        /// What the answer to a write taken at `t` says of the limits (none, by default).
        fn hint(&mut self, _t: f64) -> Option<Hint> {
            None
        }
    }

    /// A tenant whose taken writes carry `RateLimit-Remaining` / `-Reset` hints.
    pub struct Hinting(pub Limits);

    impl Tenant for Hinting {
        fn enter(&mut self) -> Result<(), u64> {
            self.0.enter()
        }
        fn leave(&mut self) {
            self.0.leave()
        }
        fn take(&mut self, t: f64) -> Result<(), u64> {
            self.0.take(t)
        }
        fn hint(&mut self, t: f64) -> Option<Hint> {
            let room = self.0.headroom(t)?;
            Some(Hint { remaining: Some(room.remaining), reset: Some(Duration::from_secs(room.reset_secs)) })
        }
    }

    impl Tenant for Limits {
        fn enter(&mut self) -> Result<(), u64> {
            Limits::enter(self)
        }
        fn leave(&mut self) {
            Limits::leave(self)
        }
        fn take(&mut self, t: f64) -> Result<(), u64> {
            Limits::take(self, t)
        }
    }

    impl Tenant for super::Bucket {
        /// A refused write waits one second (the whole-second `Retry-After` of a fast bucket).
        fn take(&mut self, t: f64) -> Result<(), u64> {
            let at = self.start + Duration::from_secs_f64(t);
            if super::Bucket::take(self, at) {
                Ok(())
            } else {
                Err(1)
            }
        }
    }

    /// `n` writes against `tenant`, paced by `pacer` (see the module), over a network without jitter.
    pub async fn run_with(n: usize, tenant: impl Tenant, pacer: Pacer) -> Outcome {
        run_over(n, tenant, pacer, Net::default()).await
    }

    /// `n` writes against `tenant`, paced by `pacer`, over `net`.
    pub async fn run_over(n: usize, tenant: impl Tenant, pacer: Pacer, net: Net) -> Outcome {
        let pacer = Arc::new(pacer);
        let start = Instant::now();
        let limits = Arc::new(Mutex::new(tenant));
        let throttled = Arc::new(AtomicUsize::new(0));
        let left = Arc::new(AtomicUsize::new(n));
        let trace = std::env::var_os("PACER_TRACE").is_some();
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..WORKERS {
            let (pacer, limits, left, throttled) = (pacer.clone(), limits.clone(), left.clone(), throttled.clone());
            let mut rng = StdRng::seed_from_u64(net.seed.wrapping_mul(1_000_003).wrapping_add(worker as u64));
            let max_us = net.jitter.as_micros() as u64;
            let mut leg = move || Duration::from_micros(if max_us == 0 { 0 } else { rng.random_range(0..=max_us) });
            workers.spawn(async move {
                while left.fetch_update(SeqCst, SeqCst, |l| l.checked_sub(1)).is_ok() {
                    loop {
                        let sent = loop {
                            match pacer.try_claim(Instant::now()) {
                                Ok(sent) => break sent,
                                Err(at) => tokio::time::sleep_until(at).await,
                            }
                        };
                        travel(leg()).await;
                        let entered = limits.lock().unwrap().enter();
                        tokio::time::sleep(LATENCY).await;
                        let served = Instant::now();
                        let answer = match entered {
                            Ok(()) => {
                                let mut l = limits.lock().unwrap();
                                l.leave();
                                let t = served.duration_since(start).as_secs_f64();
                                l.take(t).map(|()| l.hint(t))
                            }
                            Err(ra) => Err(ra),
                        };
                        travel(leg()).await;
                        let now = Instant::now();
                        match answer {
                            Ok(hint) => {
                                if let Some(hint) = hint {
                                    pacer.told(now, hint);
                                }
                                pacer.accepted(sent, now);
                                break;
                            }
                            Err(ra) => {
                                throttled.fetch_add(1, SeqCst);
                                let before = pacer.rate();
                                let ra = Duration::from_secs(ra);
                                pacer.throttled(sent, now, Some(ra));
                                if trace {
                                    eprintln!(
                                        "429 sent {:.3} answered {:.3} ra {ra:?} rate {before:?} -> {:?}",
                                        sent.at.duration_since(start).as_secs_f64(),
                                        now.duration_since(start).as_secs_f64(),
                                        pacer.rate()
                                    );
                                }
                                tokio::time::sleep(ra).await;
                            }
                        }
                    }
                }
            });
        }
        if trace {
            let (pacer, left) = (pacer.clone(), left.clone());
            tokio::spawn(async move {
                while left.load(SeqCst) > 0 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    eprintln!("t {:.2} rate {:?} cap {:?}", start.elapsed().as_secs_f64(), pacer.rate(), pacer.cap());
                }
            });
        }
        while workers.join_next().await.is_some() {}
        Outcome {
            wall: start.elapsed(),
            throttled: throttled.load(SeqCst) as u64,
            writes: n,
            cap: pacer.cap(),
            pace: pacer.report().rate,
        }
    }

    /// One leg of the way (no await at all without jitter: the runs stay as they were).
    async fn travel(d: Duration) {
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// The least wall time any client could take for `n` writes (the floors): a
    /// bucket `(n − burst) / rate`, windows `(⌈n / N⌉ − 1) × W`, concurrency `n × latency / K`,
    /// layered limits the largest; a shared period is integrated.
    pub fn floor(n: usize, shapes: &[Shape], shared: Option<SharedPeriod>) -> f64 {
        let n = n as f64;
        shapes
            .iter()
            .map(|s| match *s {
                Shape::Bucket { rate, burst } => bucket_floor(n, rate, burst, shared),
                Shape::FixedWindow { count, secs } | Shape::SlidingWindow { count, secs } => {
                    ((n / f64::from(count)).ceil() - 1.0).max(0.0) * secs
                }
                Shape::Concurrency { max } => n * LATENCY.as_secs_f64() / f64::from(max),
            })
            .fold(0.0, f64::max)
    }

    fn bucket_floor(n: f64, rate: f64, burst: f64, shared: Option<SharedPeriod>) -> f64 {
        let Some(s) = shared else { return (n - burst).max(0.0) / rate };
        // Writes the bucket has let through by t: the burst, then its refill.
        let (mut t, mut taken, dt) = (0.0, burst, 0.001);
        while taken < n {
            let ours = if (s.from..s.until).contains(&t) { 1.0 - s.share } else { 1.0 };
            taken += rate * ours * dt;
            t += dt;
        }
        t
    }
}
