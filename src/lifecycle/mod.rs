//! The token lifecycle around activation: `import` (seed file → tenant inventory),
//! `deactivate` / `unassign` / `remove`, and `undo` (revert what a run's journal says it did).
//!
//! Like `activate`, every engine reads the tenant before it writes, paces its writes
//! ([`Pacer`]), waits out throttling, and after an unanswered or failed write asks the tenant
//! whether it landed before sending anything again. Every final result is one record
//! through the run's [`crate::sink::Sink`], journaled first when a journal is kept.

pub mod change;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod journal;
pub mod undo;

use crate::backend::{ApiError, Backend, Device, DeviceStatus};
use crate::clock::ServerClock;
use crate::context::Doubt;
use crate::engine::{Attempts, Engine, EngineConfig};
use crate::stop::StopReason;
use anyhow::Result;
use std::future::Future;
use std::sync::Arc;

/// How a lifecycle run talks to the tenant.
#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    /// Parallelism, pace and retry policy.
    pub engine: EngineConfig,
}

pub use crate::context::Ctx;

/// The run's engine and its API.
pub fn shared<B: Backend>(backend: Arc<B>, engine: Arc<Engine>, clock: Arc<ServerClock>) -> Arc<Ctx<B>> {
    Arc::new(Ctx::new(backend, engine, clock))
}

pub(crate) use crate::activate::executor::now_rfc3339;
pub use crate::activate::fatal_for;

/// Send one write through the engine (paced; throttling waited out, since a throttled
/// request was not applied). A rejected credential stops the run. Anything else comes back
/// for the caller to reconcile.
pub async fn send<B, T, F, Fut>(shared: &Ctx<B>, call: F) -> Result<T, ApiError>
where
    B: Backend,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let result = shared.engine.write(call).await;
    if let Err(e @ ApiError::Auth { .. }) = &result {
        shared.engine.abort(StopReason::AuthRejected, crate::activate::auth_advice(e, shared.backend.name()));
    }
    result
}

/// A single-device change, and what the tenant shows once it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Deactivate,
    Unassign,
    /// Delete the token from the tenant's inventory.
    Remove,
}

impl Op {
    /// Has the change landed? (`current`: the token as the tenant shows it now.)
    pub fn reached(self, current: Option<&Device>) -> bool {
        match (self, current) {
            (Op::Deactivate, Some(d)) => d.status == DeviceStatus::Assigned,
            (Op::Unassign, Some(d)) => d.status == DeviceStatus::Available,
            (Op::Remove, None) => true,
            _ => false,
        }
    }
    /// The state after the change, for planning the next step without a re-read.
    pub fn apply(self, d: &Device) -> Option<Device> {
        let mut d = d.clone();
        match self {
            Op::Deactivate => {
                d.status = DeviceStatus::Assigned;
                d.token.status = "assigned".into();
            }
            Op::Unassign => {
                d.status = DeviceStatus::Available;
                d.token.status = "available".into();
                d.token.assigned_to = None;
                d.token.assigned_to_id = None;
                d.owner_upn = None;
            }
            Op::Remove => return None,
        }
        Some(d)
    }
}

/// Apply one change, never twice ([`write_exactly_once`]): the token is re-read when in
/// doubt, and the change has landed when the tenant shows what it leaves ([`Op::reached`]).
pub async fn apply<B: Backend>(shared: &Ctx<B>, op: Op, user: &str, device: &Device) -> Result<(), ApiError> {
    let b = &shared.backend;
    let write = || async {
        match op {
            Op::Deactivate => b.deactivate(user, device).await,
            Op::Unassign => b.unassign(user, device).await,
            Op::Remove => b.delete(device).await,
        }
    };
    write_exactly_once(shared, write, || async { Ok(op.reached(b.get(device).await?.as_ref())) }).await
}

/// Write, re-read on doubt, never twice. `write` sends one attempt (paced, throttling waited
/// out: [`send`]); `landed` re-reads the tenant: is the change there? After a failure that may
/// have landed (a 5xx, an unanswered request) the tenant is asked before anything is sent
/// again ([`Ctx::wait_out_doubt`], the step activation shares); a refusal after such a failure,
/// or giving up right after one, asks too — the earlier attempt may be what the tenant shows.
pub async fn write_exactly_once<B, W, WFut, L, LFut>(
    shared: &Ctx<B>,
    mut write: W,
    mut landed: L,
) -> Result<(), ApiError>
where
    B: Backend,
    W: FnMut() -> WFut,
    WFut: Future<Output = Result<(), ApiError>>,
    L: FnMut() -> LFut,
    LFut: Future<Output = Result<bool, ApiError>>,
{
    let mut attempts = Attempts::default();
    let mut ambiguous = false;
    loop {
        let err = match send(shared, &mut write).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let doubtful =
            matches!(err, ApiError::Unavailable { .. } | ApiError::Transport { .. }) && !shared.engine.stopped();
        let maybe_applied = doubtful && !matches!(err, ApiError::Transport { maybe_applied: false, .. });
        let doubt = if doubtful {
            shared.wait_out_doubt(&err, &mut attempts, maybe_applied, &mut landed).await
        } else {
            Doubt::GiveUp
        };
        match doubt {
            Doubt::SendAgain => {}
            Doubt::Reread(now) => {
                ambiguous = true;
                if now? {
                    return Ok(());
                }
            }
            Doubt::Stopped => return Err(err),
            Doubt::GiveUp => {
                let refused_after_doubt = ambiguous && matches!(err, ApiError::Rejected { .. });
                if (refused_after_doubt || maybe_applied) && landed().await.unwrap_or(false) {
                    return Ok(());
                }
                return Err(err);
            }
        }
    }
}

/// Is `device` held by `upn`? The portal names holders by UPN; Graph only by object id, so
/// the UPN is looked up (cached by the backend).
pub async fn held_by<B: Backend>(shared: &Ctx<B>, device: &Device, upn: &str) -> Result<bool, ApiError> {
    if let Some(owner) = &device.owner_upn {
        return Ok(owner.eq_ignore_ascii_case(upn));
    }
    let Some(id) = device.token.assigned_to_id.as_deref() else { return Ok(false) };
    if id.eq_ignore_ascii_case(upn) {
        return Ok(true);
    }
    let user = shared.backend.lookup_user(upn).await?;
    Ok(user.is_some_and(|u| u.id.eq_ignore_ascii_case(id)))
}

/// The holder of a token as `(path segment for user calls, UPN for records)`.
pub async fn holder_of<B: Backend>(shared: &Ctx<B>, device: &Device) -> Result<Option<(String, String)>, ApiError> {
    if let Some(owner) = &device.owner_upn {
        return Ok(Some((owner.clone(), owner.clone())));
    }
    let Some(id) = device.token.assigned_to_id.clone() else { return Ok(None) };
    let user = shared.backend.lookup_user(&id).await?;
    let upn = user.map(|u| u.upn).filter(|u| !u.is_empty()).or_else(|| device.token.assigned_to.clone());
    Ok(Some((id.clone(), upn.unwrap_or(id))))
}

/// Describe a token's state for a refusal.
pub fn describe(d: Option<&Device>) -> String {
    match d {
        None => "not in the tenant".into(),
        Some(d) => {
            let holder = d.owner_upn.clone().or(d.token.assigned_to.clone()).or(d.token.assigned_to_id.clone());
            match holder {
                Some(h) => format!("{} (held by {h})", d.token.status),
                None => d.token.status.clone(),
            }
        }
    }
}

/// Stop the run on Ctrl-C: no new writes; what is in flight settles.
pub fn on_interrupt<B>(shared: &Arc<Ctx<B>>) -> tokio::task::JoinHandle<()> {
    shared.engine.watch_interrupt()
}
