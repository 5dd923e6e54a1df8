//! `undo`: revert what a run's journal says it did, newest first. Per token, in this order:
//! deactivate what it activated, unassign what it assigned (`assign_and_activate`, `import
//! --assign`), delete what it created (`import` `created`). A lifecycle run's journal is
//! reverted too: an `unassign` by assigning the token back to the user it was taken from, a
//! `deactivate` by activating it again with a code from its seed (the vendor CSV, `undo
//! --csv`; without it the step is refused, `needs_seed`). A `remove` cannot be reverted (the
//! tenant kept no seed): refused, `not_reversible`, so the run ends non-zero.
//!
//! Each step first reads the token and goes ahead only when the tenant still shows what the
//! run left (same device, same holder, same status); anything else is `refused` and the
//! token is left untouched (with the token's later steps). Steps go to the undo's own journal
//! (a `not_attempted`/`in_flight` line right before each write, the final record after), so
//! an undo resumes: `done` steps are skipped, and a step whose write was in flight when the
//! undo was killed is `done` if the tenant shows it landed.

use super::change::{change_record, with_error, NOTHING_TO_DO};
use super::{apply, describe, held_by, journal, send, Ctx, Op};
use crate::backend::{ApiError, Backend, CodeWrite, Device, DeviceStatus};
use crate::inventory::Row;
use crate::record::{
    Action, ActivationStatus, ChangeOperation, ChangeRecord, ChangeStatus, Fatal, ImportStatus, Record, TenantToken,
    IN_FLIGHT,
};
use crate::sink::Sink;
use anyhow::Result;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// `error_code` of a step refused because the token is not in the state the run left.
pub const CHANGED_SINCE_RUN: &str = "changed_since_run";

/// `error_code` of a step refused because its journal line names no device id: every line
/// a run writes for a change names the device it changed, so such a line was not written by
/// a run (hand-written, forged), and the token it names may be one no run touched.
pub const NO_DEVICE_ID: &str = "no_device_id";

/// `error_code` of the undo of a `remove`: a deleted token is not brought back by undo.
pub const NOT_REVERSIBLE: &str = "not_reversible";

/// `error_code` of the undo of a `deactivate` without the token's seed (`undo --csv`).
pub const NEEDS_SEED: &str = "needs_seed";

/// The seeds of `undo --csv`, by lower-case serial: what re-activating a token needs.
pub type Seeds = HashMap<String, Row>;

/// What a run did to one token, from its journal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    pub serial: String,
    pub upn: String,
    pub device_id: Option<String>,
    /// Journal lines of the records that show each change.
    pub activated: Option<u64>,
    pub assigned: Option<u64>,
    pub created: Option<u64>,
    /// Lines of a lifecycle run's `done` changes (`deactivate`, `unassign`, `remove`).
    pub deactivated: Option<u64>,
    pub unassigned: Option<u64>,
    pub removed: Option<u64>,
    pub last_line: u64,
    /// Known only from an intent line (the run was killed with this write in flight): it may
    /// or may not have landed, so a step whose change is not there is simply not needed.
    pub uncertain: bool,
    /// Lines of this token's changes that name no device id (hand-written: every line a run
    /// writes for a change names its device). Another line's id never vouches for them.
    pub unidentified_lines: std::collections::BTreeSet<u64>,
}

impl Effects {
    /// The undo steps, in the order they must run.
    pub fn steps(&self) -> Vec<(ChangeOperation, u64)> {
        // A lifecycle run's changes first, the newest kind first: a removal (refused, which
        // leaves the rest untouched), then the assignment back, then the activation. Then an
        // activate/import run's: deactivate, unassign, remove.
        [
            (self.removed, ChangeOperation::Import),
            (self.unassigned, ChangeOperation::Assign),
            (self.deactivated, ChangeOperation::Activate),
            (self.activated, ChangeOperation::Deactivate),
            (self.assigned, ChangeOperation::Unassign),
            (self.created, ChangeOperation::Remove),
        ]
        .into_iter()
        .filter_map(|(line, op)| line.map(|l| (op, l)))
        .collect()
    }

    /// Whether the step reverting journal line `line` may send a write: only when that line
    /// itself names the device it changed.
    pub fn identified(&self, line: u64) -> bool {
        self.device_id.as_deref().is_some_and(|id| !id.trim().is_empty()) && !self.unidentified_lines.contains(&line)
    }
}

/// What the run changed, per token, newest last change first. Records that changed nothing
/// (`exists`, `already_active`, conflicts, failures) add nothing.
pub fn effects(records: &[(u64, Record)]) -> Vec<Effects> {
    let mut by_serial: HashMap<String, Effects> = HashMap::new();
    let mut touch = |serial: &str, upn: &str, device_id: &Option<String>, line: u64| -> String {
        let key = serial.to_lowercase();
        let e = by_serial.entry(key.clone()).or_insert_with(|| Effects { serial: serial.into(), ..Default::default() });
        e.upn = upn.to_string();
        if device_id.is_some() {
            e.device_id = device_id.clone();
        }
        if device_id.as_deref().is_none_or(|id| id.trim().is_empty()) {
            e.unidentified_lines.insert(line);
        }
        e.last_line = line;
        key
    };
    let mut changes: Vec<(String, u64, bool, bool, bool)> = Vec::new();
    let mut lifecycle: Vec<(String, u64, ChangeOperation)> = Vec::new();
    // Intents (write in flight) not followed by that row's result: serial → (line, record).
    let mut pending: HashMap<String, (u64, crate::record::Activation)> = HashMap::new();
    for (line, r) in records {
        if let Record::Activation(a) = r {
            let key = a.serial.to_lowercase();
            if a.status == ActivationStatus::NotAttempted && a.error_code.as_deref() == Some(IN_FLIGHT) {
                pending.insert(key, (*line, a.clone()));
                continue;
            }
            pending.remove(&key);
        }
        match r {
            Record::Import(i) if i.status == ImportStatus::Created => {
                let k = touch(&i.serial, &i.upn, &i.device_id, *line);
                changes.push((k, *line, true, i.assigned, false));
            }
            Record::Import(i) if i.status == ImportStatus::Exists && i.assigned => {
                let k = touch(&i.serial, &i.upn, &i.device_id, *line);
                changes.push((k, *line, false, true, false));
            }
            Record::Activation(a) if a.status == ActivationStatus::Activated => {
                let k = touch(&a.serial, &a.upn, &a.device_id, *line);
                changes.push((k, *line, false, a.action == Action::AssignAndActivate, true));
            }
            Record::Change(c) if changed_something(c) => {
                let k = touch(&c.serial, c.upn.as_deref().unwrap_or_default(), &c.device_id, *line);
                lifecycle.push((k, *line, c.operation));
            }
            _ => {}
        }
    }
    let mut uncertain = HashSet::new();
    for (line, a) in pending.into_values() {
        let k = touch(&a.serial, &a.upn, &a.device_id, line);
        uncertain.insert(k.clone());
        changes.push((k, line, false, a.action == Action::AssignAndActivate, true));
    }
    // Each step names the newest line that made its change: a later run that re-activated
    // a token an earlier undo reverted is a new change to revert (undo progress is keyed by
    // that line), not the old one again.
    for (k, line, created, assigned, activated) in changes {
        let e = by_serial.get_mut(&k).expect("touched");
        e.uncertain |= uncertain.contains(&k);
        if created {
            e.created = Some(line);
        }
        if assigned {
            e.assigned = Some(line);
        }
        if activated {
            e.activated = Some(line);
        }
    }
    for (k, line, op) in lifecycle {
        let e = by_serial.get_mut(&k).expect("touched");
        match op {
            ChangeOperation::Deactivate => e.deactivated = Some(line),
            ChangeOperation::Unassign => e.unassigned = Some(line),
            ChangeOperation::Remove => e.removed = Some(line),
            // An undo's own steps: an undo journal is not undone (refused by the command).
            ChangeOperation::Assign | ChangeOperation::Activate | ChangeOperation::Import => {}
        }
    }
    let mut list: Vec<Effects> = by_serial.into_values().filter(|e| !e.steps().is_empty()).collect();
    list.sort_by_key(|e| std::cmp::Reverse(e.last_line));
    list
}

/// A lifecycle change that changed the tenant: `done`, and not "nothing to do" (the
/// token was already there, nothing was sent, so there is nothing to revert).
fn changed_something(c: &ChangeRecord) -> bool {
    c.status == ChangeStatus::Done && !c.reason.as_deref().is_some_and(|r| r.starts_with(NOTHING_TO_DO))
}

/// One undo step: (serial lower-case, operation, the run-journal line it reverts). The line
/// tells a change from a later run's same change to the same token: an undo's progress
/// is about the line it reverted, not about the serial forever.
pub type StepKey = (String, ChangeOperation, u64);

/// An earlier undo's progress: steps `done`, and steps whose write was in flight.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: HashSet<StepKey>,
    pub in_flight: HashSet<StepKey>,
}

/// Read an undo journal. A step line without the run-journal line it reverted names no
/// step: it is ignored (the tenant is read before every step anyway).
pub fn read_progress(path: &Path) -> Result<Progress> {
    let (records, _) = journal::read(path)?;
    let mut last: HashMap<StepKey, (ChangeStatus, bool)> = HashMap::new();
    for (_, r) in records {
        if let Record::Change(c) = r {
            let Some(line) = c.line else { continue };
            let flight = c.status == ChangeStatus::NotAttempted && c.reason.as_deref() == Some(IN_FLIGHT);
            last.insert((c.serial.to_lowercase(), c.operation, line), (c.status, flight));
        }
    }
    let mut p = Progress::default();
    for (k, (status, flight)) in last {
        if status == ChangeStatus::Done {
            p.done.insert(k);
        } else if flight {
            p.in_flight.insert(k);
        }
    }
    Ok(p)
}

/// The single-device change of a step that reverts an activation or an import.
fn internal(op: ChangeOperation) -> Option<Op> {
    match op {
        ChangeOperation::Deactivate => Some(Op::Deactivate),
        ChangeOperation::Unassign => Some(Op::Unassign),
        ChangeOperation::Remove => Some(Op::Remove),
        ChangeOperation::Assign | ChangeOperation::Activate | ChangeOperation::Import => None,
    }
}

/// The token as the tenant shows it once the step landed (for the next step's plan).
fn after(op: ChangeOperation, e: &Effects, d: &Device) -> Option<Device> {
    if let Some(iop) = internal(op) {
        return iop.apply(d);
    }
    let mut d = d.clone();
    let (status, name) = match op {
        ChangeOperation::Assign => (DeviceStatus::Assigned, "assigned"),
        _ => (DeviceStatus::Activated, "activated"),
    };
    d.status = status;
    d.token.status = name.into();
    d.owner_upn = Some(e.upn.clone());
    Some(d)
}

/// Has the step landed? (An interrupted undo's in-flight write.)
fn reached(op: ChangeOperation, current: Option<&Device>) -> bool {
    match (internal(op), op, current) {
        (Some(iop), _, _) => iop.reached(current),
        (None, ChangeOperation::Assign, Some(d)) => d.status == DeviceStatus::Assigned,
        (None, ChangeOperation::Activate, Some(d)) => d.status == DeviceStatus::Activated,
        _ => false,
    }
}

/// Send the step's write: the reverse of an activation or import through `apply` (never
/// twice), an assignment back, or an activation with the code the seed shows now.
async fn revert<B: Backend>(
    shared: &Ctx<B>,
    op: ChangeOperation,
    e: &Effects,
    d: &Device,
    seed: Option<&Row>,
) -> Result<(), ApiError> {
    let b = &shared.backend;
    match (internal(op), op, seed) {
        (Some(iop), _, _) => apply(shared, iop, &e.upn, d).await,
        (None, ChangeOperation::Assign, _) => send(shared, || b.assign(&e.upn, d)).await,
        (None, ChangeOperation::Activate, Some(row)) => {
            let code = code_now(shared, row).await;
            let write = CodeWrite { upn: &e.upn, device: d, code: &code, display_name: row.display_name.as_deref() };
            send(shared, || b.activate(write)).await
        }
        _ => unreachable!("checked by undo_one: an import is refused, an activation has its seed"),
    }
}

/// The code the token shows now on the tenant's clock; one of a fresh step when this one
/// ends within 3 s (the request must arrive while its code is still valid).
async fn code_now<B: Backend>(shared: &Ctx<B>, row: &Row) -> String {
    let secret = row.secret.as_ref().map(|s| s.bytes().to_vec()).unwrap_or_default();
    let unix = || shared.clock.now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let mut code = crate::otp::code_at(&secret, row.hash, row.time_interval, unix());
    if code.valid_for < 3 {
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(code.valid_for))).await;
        code = crate::otp::code_at(&secret, row.hash, row.time_interval, unix());
    }
    code.code
}

/// What the run left before this step: `Ok(())` or why not.
async fn expected<B: Backend>(
    shared: &Ctx<B>,
    op: ChangeOperation,
    e: &Effects,
    current: Option<&Device>,
) -> Result<Result<(), String>, crate::backend::ApiError> {
    let Some(d) = current else { return Ok(Err("no longer in the tenant".into())) };
    if e.device_id.as_deref().is_some_and(|id| !id.eq_ignore_ascii_case(&d.token.id)) {
        return Ok(Err(format!("a different token (id {}) now has this serial", d.token.id)));
    }
    let (want, ok) = match op {
        ChangeOperation::Deactivate => ("activated", d.status == DeviceStatus::Activated),
        ChangeOperation::Unassign => {
            ("assigned", matches!(d.status, DeviceStatus::Assigned | DeviceStatus::FailedActivation))
        }
        ChangeOperation::Remove | ChangeOperation::Assign => ("available", d.status == DeviceStatus::Available),
        ChangeOperation::Activate => ("assigned", d.status == DeviceStatus::Assigned),
        ChangeOperation::Import => ("gone", false),
    };
    if !ok {
        return Ok(Err(format!("the token is {} now, not {want} as the run left it", describe(Some(d)))));
    }
    let unheld = matches!(op, ChangeOperation::Remove | ChangeOperation::Assign);
    if !unheld && !held_by(shared, d, &e.upn).await? {
        return Ok(Err(format!("the token is {} now, no longer {}'s as the run left it", describe(Some(d)), e.upn)));
    }
    Ok(Ok(()))
}

/// For a write known only from its intent line: the token shows no trace of it (never
/// activated, or never assigned).
fn never_landed(op: ChangeOperation, current: Option<&Device>) -> bool {
    match (op, current) {
        (ChangeOperation::Deactivate, Some(d)) => matches!(d.status, DeviceStatus::Available | DeviceStatus::Assigned),
        (ChangeOperation::Unassign, Some(d)) => d.status == DeviceStatus::Available,
        _ => false,
    }
}

/// Read the token as it is now (by id when the journal has it, else by serial).
async fn read_current<B: Backend>(shared: &Ctx<B>, e: &Effects) -> Result<Option<Device>, crate::backend::ApiError> {
    match &e.device_id {
        Some(id) => {
            let probe = Device {
                token: TenantToken { id: id.clone(), serial: e.serial.clone(), ..Default::default() },
                status: DeviceStatus::Unknown,
                owner_upn: Some(e.upn.clone()),
            };
            shared.backend.get(&probe).await
        }
        None => {
            let wanted = [(e.serial.clone(), e.upn.clone())];
            let found = shared.backend.find(&wanted).await?;
            Ok(found.into_iter().find(|d| d.token.serial.eq_ignore_ascii_case(&e.serial)))
        }
    }
}

/// Undo one token's steps, in order; the first that does not complete leaves the rest
/// untouched.
async fn undo_one<B: Backend>(
    shared: &Ctx<B>,
    e: &Effects,
    progress: &Progress,
    seeds: &Seeds,
    dry_run: bool,
    out: &mut Sink,
) -> Result<()> {
    let key = e.serial.to_lowercase();
    let seed = seeds.get(&key);
    let mut token = TokenUndo { shared, e, progress, seed, dry_run, key, current: None, stopped_because: None };
    for (op, line) in e.steps() {
        if progress.done.contains(&(token.key.clone(), op, line)) {
            out.skipped();
            token.current = None;
            continue;
        }
        token.step(op, line, out).await?;
    }
    Ok(())
}

/// One token's undo while it runs.
struct TokenUndo<'a, B: Backend> {
    shared: &'a Ctx<B>,
    e: &'a Effects,
    progress: &'a Progress,
    /// The token's row of `undo --csv`: its seed re-activates it.
    seed: Option<&'a Row>,
    dry_run: bool,
    /// The serial, lower-case.
    key: String,
    /// The token as the last step left it (known without a re-read), `None` to read it.
    current: Option<Option<Device>>,
    /// Why an earlier step did not complete: the later ones are left untouched.
    stopped_because: Option<String>,
}

impl<B: Backend> TokenUndo<'_, B> {
    /// One step: refused before any read, or checked against the tenant, then reverted.
    async fn step(&mut self, op: ChangeOperation, line: u64, out: &mut Sink) -> Result<()> {
        let mut rec = change_record(op, ChangeStatus::Done, &self.e.serial);
        rec.upn = Some(self.e.upn.clone());
        rec.device_id = self.e.device_id.clone();
        rec.line = Some(line);
        if !self.may_try(op, line, &mut rec) {
            return out.settle(rec, None);
        }
        let (cur, check) = match self.read_and_check(op).await {
            Ok(found) => found,
            Err(err) => {
                self.stopped_because = Some(err.code());
                return out.settle(with_error(rec, &err), None);
            }
        };
        match check {
            Ok(()) => self.revert_step(op, line, rec, cur, out).await,
            Err(why) => {
                self.not_as_left(op, line, &mut rec, why, cur.as_ref());
                self.current = Some(cur);
                out.settle(rec, None)
            }
        }
    }

    /// Whether the step may be tried at all: not once the run stopped, not after an earlier
    /// step of the token did not complete, never for a removal (not reversible). When not,
    /// `rec` says why.
    fn may_try(&mut self, op: ChangeOperation, line: u64, rec: &mut ChangeRecord) -> bool {
        if self.shared.engine.stopped() {
            rec.status = ChangeStatus::NotAttempted;
            rec.reason = Some("the run stopped before this step".into());
            return false;
        }
        if let Some(why) = &self.stopped_because {
            rec.status = ChangeStatus::Refused;
            rec.reason = Some(format!("left untouched: an earlier step for this token did not complete ({why})"));
            return false;
        }
        if op == ChangeOperation::Import {
            rec.status = ChangeStatus::Refused;
            rec.error_code = Some(NOT_REVERSIBLE.into());
            rec.reason = Some(format!(
                "journal line {line} removed this token from the tenant, which keeps no seed: undo cannot bring it \
                 back. Import it again from the vendor's seed file (oathbulk import --assign, \
                 New-OathBulkTenantToken -Assign -Activate)"
            ));
            self.stopped_because = Some(NOT_REVERSIBLE.into());
            return false;
        }
        true
    }

    /// The token now (as the last step left it, or read), and whether it is as the run left
    /// it (`Err(why not)`).
    async fn read_and_check(&mut self, op: ChangeOperation) -> Result<(Option<Device>, Result<(), String>), ApiError> {
        let cur = match self.current.take() {
            Some(c) => c,
            None => read_current(self.shared, self.e).await?,
        };
        let check = expected(self.shared, op, self.e, cur.as_ref()).await?;
        Ok((cur, check))
    }

    /// The token is as the run left it: refused without a device id or a seed it needs,
    /// described in a dry run, or reverted.
    async fn revert_step(
        &mut self,
        op: ChangeOperation,
        line: u64,
        mut rec: ChangeRecord,
        cur: Option<Device>,
        out: &mut Sink,
    ) -> Result<()> {
        let no_seed = op == ChangeOperation::Activate && self.seed.is_none_or(|r| r.secret.is_none());
        if !self.e.identified(line) {
            // A write needs the device the run changed: a line without one (hand-written)
            // could name a token no run touched. Nothing is sent for it.
            rec.status = ChangeStatus::Refused;
            rec.error_code = Some(NO_DEVICE_ID.into());
            rec.reason = Some(format!(
                "journal line {line} names no device id, which every line a run writes for a change it made \
                 does (a hand-edited line?); left untouched"
            ));
            self.stopped_because = Some("refused".into());
            self.current = Some(cur);
        } else if no_seed {
            // Activating again needs a code, so the seed: the vendor CSV (--csv).
            rec.status = ChangeStatus::Refused;
            rec.error_code = Some(NEEDS_SEED.into());
            rec.reason = Some(
                "activating the token again needs its seed: give the vendor CSV with --csv \
                 (Undo-OathBulkRun -Path); left deactivated"
                    .into(),
            );
            self.stopped_because = Some(NEEDS_SEED.into());
            self.current = Some(cur);
        } else if self.dry_run {
            rec.status = ChangeStatus::WouldDo;
            rec.reason = Some(format!("would {} (token is {})", super::change::op_label(op), describe(cur.as_ref())));
            self.current = Some(cur.as_ref().and_then(|d| after(op, self.e, d)));
        } else {
            let d = cur.expect("checked present");
            return self.write(op, rec, &d, out).await;
        }
        out.settle(rec, None)
    }

    /// Send the step's write, its intent journaled first.
    async fn write(&mut self, op: ChangeOperation, mut rec: ChangeRecord, d: &Device, out: &mut Sink) -> Result<()> {
        if let Err(why) = out.intent(&rec, &self.shared.engine) {
            rec.status = ChangeStatus::NotAttempted;
            rec.reason = Some(why);
            return out.settle(rec, None);
        }
        match revert(self.shared, op, self.e, d, self.seed).await {
            Ok(()) => {
                self.current = Some(after(op, self.e, d));
                out.settle(rec, None)
            }
            Err(err) => {
                self.stopped_because = Some(err.code());
                out.settle(with_error(rec, &err), None)
            }
        }
    }

    /// The token is not as the run left it: nothing to undo when the run's write never
    /// landed or an interrupted undo's did; otherwise someone changed it after the run, and
    /// their change is never reverted.
    fn not_as_left(
        &mut self,
        op: ChangeOperation,
        line: u64,
        rec: &mut ChangeRecord,
        why: String,
        cur: Option<&Device>,
    ) {
        if self.e.uncertain && never_landed(op, cur) {
            rec.reason =
                Some("nothing to undo: the run was stopped with this write in flight, and it never landed".into());
        } else if self.progress.in_flight.contains(&(self.key.clone(), op, line)) && reached(op, cur) {
            rec.reason = Some("completed by an interrupted undo (its write had landed)".into());
        } else {
            rec.status = ChangeStatus::Refused;
            rec.error_code = Some(CHANGED_SINCE_RUN.into());
            rec.reason = Some(format!("{why}; left untouched"));
            self.stopped_because = Some("refused".into());
        }
    }
}

/// Undo the run recorded in `records`. Every step gets one record (skipped ones a count).
pub async fn run<B: Backend>(
    shared: &Arc<Ctx<B>>,
    records: &[(u64, Record)],
    progress: &Progress,
    seeds: &Seeds,
    dry_run: bool,
    out: &mut Sink,
) -> Result<Option<Fatal>> {
    let list = effects(records);
    let steps: usize = list.iter().map(|e| e.steps().len()).sum();
    out.diag().start("undo", Some(steps as u64));
    for e in &list {
        undo_one(shared, e, progress, seeds, dry_run, out).await?;
    }
    Ok(None)
}
