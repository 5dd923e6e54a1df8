//! What a planner (`activate`, `lifecycle`) holds while it runs: its API, the run's engine,
//! the tenant's clock, and state of its own. One type for every planner, with no `Deref`:
//! `ctx.engine.stopped()`, `ctx.backend.get(..)` say which part answers.

use crate::clock::ServerClock;
use crate::engine::Engine;
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
