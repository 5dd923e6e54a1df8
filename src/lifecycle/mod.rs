//! The token lifecycle around activation: `import` (seed file → tenant inventory),
//! `deactivate` / `unassign` / `remove`, and `undo` (revert what a run's journal says it did).
//!
//! Like `activate`, every engine reads the tenant before it writes, paces its writes
//! ([`Pacer`]), waits out throttling, and after an unanswered or failed write asks the tenant
//! whether it landed before sending anything again. Every final result is one record on
//! stdout, journaled first when a journal is kept.

pub mod change;
pub mod import;
pub mod journal;
pub mod undo;

use crate::auth::Redactor;
use crate::backend::{ApiError, Backend, Device, DeviceStatus};
use crate::clock::ServerClock;
use crate::diag::Diag;
use crate::engine::{Attempts, Client, Decision, Engine, EngineConfig, Stats};
use crate::output::Output;
use crate::record::{ChangeRecord, ChangeStatus, Fatal, ImportRecord, ImportStatus, Record, RowErrorRecord, Summary};
use crate::stop::{ExitCode, StopReason};
use anyhow::Result;
use journal::Journal;
use std::future::Future;
use std::sync::Arc;

/// How a lifecycle run talks to the tenant.
#[derive(Debug, Clone)]
pub struct Options {
    pub dry_run: bool,
    /// Parallelism, pace and retry policy.
    pub engine: EngineConfig,
}

/// What a lifecycle planner holds: the API, the run's engine, the tenant's clock.
pub type Ctx<B> = Client<B>;

/// The run's engine and its API.
pub fn shared<B: Backend>(backend: Arc<B>, stats: Arc<Stats>, clock: Arc<ServerClock>, o: &Options) -> Arc<Ctx<B>> {
    Arc::new(Client { backend, engine: Engine::start(o.engine, stats), clock })
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
    let result = shared.write(call).await;
    if let Err(e @ ApiError::Auth { .. }) = &result {
        shared.abort(StopReason::AuthRejected, crate::activate::auth_advice(e, shared.backend.name()));
    }
    result
}

/// A single-device change, and what the tenant shows once it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Deactivate,
    Unassign,
    Delete,
}

impl Op {
    /// Has the change landed? (`current`: the token as the tenant shows it now.)
    pub fn reached(self, current: Option<&Device>) -> bool {
        match (self, current) {
            (Op::Deactivate, Some(d)) => d.status == DeviceStatus::Assigned,
            (Op::Unassign, Some(d)) => d.status == DeviceStatus::Available,
            (Op::Delete, None) => true,
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
            Op::Delete => return None,
        }
        Some(d)
    }
}

/// Apply one change, never twice: after a failure that may have landed (5xx, an unanswered
/// request) the token is re-read, and the write is re-sent only while it still needs it.
pub async fn apply<B: Backend>(shared: &Ctx<B>, op: Op, user: &str, device: &Device) -> Result<(), ApiError> {
    let mut attempts = Attempts::default();
    let mut ambiguous = false;
    loop {
        let b = &shared.backend;
        let result = send(shared, || async {
            match op {
                Op::Deactivate => b.deactivate(user, device).await,
                Op::Unassign => b.unassign(user, device).await,
                Op::Delete => b.delete(device).await,
            }
        })
        .await;
        let err = match result {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let retry = match &err {
            ApiError::Unavailable { .. } | ApiError::Transport { .. } if !shared.stopped() => {
                shared.decide(&err, &mut attempts)
            }
            _ => Decision::GiveUp,
        };
        let Decision::Transient(wait) = retry else {
            // A refusal after an earlier ambiguous attempt may mean that attempt landed.
            if ambiguous && matches!(err, ApiError::Rejected { .. }) {
                if let Ok(current) = b.get(device).await {
                    if op.reached(current.as_ref()) {
                        return Ok(());
                    }
                }
            }
            return Err(err);
        };
        let maybe_applied = !matches!(err, ApiError::Transport { maybe_applied: false, .. });
        ambiguous |= maybe_applied;
        if !shared.sleep(wait).await {
            return Err(err);
        }
        if maybe_applied {
            let current = b.get(device).await?;
            if op.reached(current.as_ref()) {
                return Ok(());
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

/// Where lifecycle records go: journal (durable first), stdout, progress, summary.
pub struct Out {
    out: Output,
    journal: Option<Journal>,
    redactor: Redactor,
    diag: Diag,
    pub summary: Summary,
}

impl Out {
    pub fn new(out: Output, diag: Diag, command: &str) -> Self {
        Self {
            out,
            journal: None,
            redactor: Redactor::default(),
            diag,
            summary: Summary { command: command.into(), ..Default::default() },
        }
    }
    pub fn with_journal(mut self, journal: Option<Journal>) -> Self {
        self.journal = journal;
        self
    }
    pub fn set_redactor(&mut self, redactor: Redactor) {
        self.redactor = redactor;
    }
    pub fn diag(&self) -> &Diag {
        &self.diag
    }
    /// Close the journal (another writer takes it over).
    pub fn take_journal(&mut self) -> Option<Journal> {
        self.journal.take()
    }
    pub fn into_parts(self) -> (Output, Summary) {
        (self.out, self.summary)
    }

    fn count(&mut self, key: &str, error: bool) {
        self.summary.rows += 1;
        *self.summary.counts.entry(key.to_string()).or_default() += 1;
        if error {
            self.summary.errors += 1;
        } else {
            self.summary.ok += 1;
        }
    }

    /// One `import` row's final result. `journal`: record it (settled rows only).
    pub fn import(&mut self, mut r: ImportRecord, journal: bool) -> Result<()> {
        r.error_message = r.error_message.map(|m| self.redactor.redact(&m));
        if journal && matches!(r.status, ImportStatus::Created | ImportStatus::Exists) {
            if let Some(j) = &mut self.journal {
                j.append(&Record::Import(r.clone()))?;
            }
        }
        let key = serde_json::to_value(r.status)?.as_str().unwrap_or("unknown").to_string();
        let error = matches!(r.status, ImportStatus::Failed | ImportStatus::NotAttempted) || r.error_code.is_some();
        self.count(&key, error);
        self.out.emit(&Record::Import(r))?;
        self.diag.advance(1);
        Ok(())
    }

    /// One change's final result (journaled unless a dry run or not attempted).
    pub fn change(&mut self, mut r: ChangeRecord) -> Result<()> {
        r.error_message = r.error_message.map(|m| self.redactor.redact(&m));
        if !matches!(r.status, ChangeStatus::WouldDo | ChangeStatus::NotAttempted) {
            if let Some(j) = &mut self.journal {
                j.append(&Record::Change(r.clone()))?;
            }
        }
        let key = serde_json::to_value(r.status)?.as_str().unwrap_or("unknown").to_string();
        let error = matches!(
            r.status,
            ChangeStatus::Refused | ChangeStatus::NotFound | ChangeStatus::Failed | ChangeStatus::NotAttempted
        );
        self.count(&key, error);
        self.out.emit(&Record::Change(r))?;
        self.diag.advance(1);
        Ok(())
    }

    /// Journal that a write is about to be sent (so a resumed run can tell its own landed
    /// write from someone else's change). Not printed.
    pub fn intent(&mut self, r: &ChangeRecord) -> Result<()> {
        if let Some(j) = &mut self.journal {
            let mut r = r.clone();
            r.status = ChangeStatus::NotAttempted;
            r.reason = Some(journal::IN_FLIGHT.into());
            j.append(&Record::Change(r))?;
        }
        Ok(())
    }

    /// A step an earlier run already did (resume): counted, not printed again.
    pub fn skipped(&mut self) {
        *self.summary.counts.entry("skipped".into()).or_default() += 1;
    }

    pub fn row_error(&mut self, e: RowErrorRecord) -> Result<()> {
        self.summary.rows += 1;
        self.summary.errors += 1;
        *self.summary.counts.entry(e.code.clone()).or_default() += 1;
        self.out.emit(&Record::RowError(e))
    }

    pub fn emit(&mut self, r: &Record) -> Result<()> {
        self.out.emit(r)
    }

    /// Fill in the run-wide fields and print the summary last.
    pub fn finish<B: Backend>(
        mut self,
        shared: &Ctx<B>,
        started: std::time::Instant,
        dry_run: bool,
        fatal: Option<Fatal>,
    ) -> Result<Summary> {
        self.diag.finish();
        let fatal = fatal.or_else(|| shared.fatal());
        if let Some(f) = &fatal {
            self.diag.error(f.code.as_str(), &f.message);
        }
        let s = &mut self.summary;
        s.requests = Some(Stats::get(&shared.stats().requests));
        s.retries = Some(Stats::get(&shared.stats().retries));
        s.throttled = Some(Stats::get(&shared.stats().throttled));
        s.pace = shared.pace().rate.filter(|_| !dry_run);
        s.clock_offset_ms = shared.clock.offset_ms();
        s.backend = Some(shared.backend.name().to_string());
        s.dry_run = Some(dry_run);
        s.elapsed_ms = started.elapsed().as_millis() as u64;
        s.exit_code = match &fatal {
            Some(f) => f.code.exit_code(),
            None => ExitCode::for_rows(s.errors),
        }
        .code();
        s.fatal = fatal;
        let summary = self.summary.clone();
        self.out.emit(&Record::Summary(summary.clone()))?;
        self.out.finish()?;
        Ok(summary)
    }
}

/// Stop the run on Ctrl-C: no new writes; what is in flight settles.
pub fn on_interrupt<B>(shared: &Arc<Ctx<B>>) -> tokio::task::JoinHandle<()> {
    shared.engine.watch_interrupt()
}
