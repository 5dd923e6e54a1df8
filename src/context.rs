//! What a planner (`activate`, `lifecycle`) holds while it runs: its API, the run's engine,
//! the tenant's clock, and state of its own. One type for every planner, with no `Deref`:
//! `ctx.engine.stopped()`, `ctx.backend.get(..)` say which part answers.

use crate::api_error::ApiError;
use crate::clock::ServerClock;
use crate::engine::{Attempts, Decision, Engine};
use std::future::Future;
use std::sync::Arc;

/// A planner's context. `S`: what the planner's own tasks share besides (activation's
/// margins, owners and journal: `activate::executor::ActivationState`); nothing for the
/// lifecycle commands.
pub struct Ctx<B, S = ()> {
    /// The API (Graph or the portal).
    pub backend: Arc<B>,
    /// Pace, retries and the stop of the run.
    pub engine: Arc<Engine>,
    /// The tenant's clock, from its `Date` headers.
    pub clock: Arc<ServerClock>,
    pub state: S,
}

impl<B> Ctx<B> {
    pub fn new(backend: Arc<B>, engine: Arc<Engine>, clock: Arc<ServerClock>) -> Self {
        Self { backend, engine, clock, state: () }
    }

    /// The same context with a planner's own state.
    pub fn with_state<S>(self, state: S) -> Ctx<B, S> {
        Ctx { backend: self.backend, engine: self.engine, clock: self.clock, state }
    }
}

/// Where a write stands after a failure that gave no clear answer ([`Ctx::wait_out_doubt`]).
#[derive(Debug)]
pub enum Doubt<T> {
    /// The run's retry policy gives up: the failure is the write's result.
    GiveUp,
    /// The run stopped during the backoff.
    Stopped,
    /// The attempt cannot have landed (refused before it was sent): send it again.
    SendAgain,
    /// It may have landed: the tenant as re-read now, which decides whether to send again.
    Reread(T),
}

impl<B, S> Ctx<B, S> {
    /// A write failed without a clear answer (a 5xx, a dropped connection): back off under the
    /// run's retry policy, then, if it may have landed, re-read the tenant (`reread`) before
    /// anything is sent again — never a blind resend, so no write lands twice. The one such
    /// step of every write: activation's rows (`activate::executor`) and the lifecycle
    /// commands' ([`crate::lifecycle::write_exactly_once`]).
    pub async fn wait_out_doubt<T, Fut>(
        &self,
        err: &ApiError,
        attempts: &mut Attempts,
        maybe_applied: bool,
        reread: impl FnOnce() -> Fut,
    ) -> Doubt<T>
    where
        Fut: Future<Output = T>,
    {
        let Decision::Transient(wait) = self.engine.decide(err, attempts) else { return Doubt::GiveUp };
        if !self.engine.sleep(wait).await {
            return Doubt::Stopped;
        }
        if !maybe_applied {
            return Doubt::SendAgain;
        }
        Doubt::Reread(reread().await)
    }
}
