//! `deactivate`, `unassign`, `remove`: one serial or every row of a CSV. The tenant's state
//! decides: a token already where the command would take it is `done` with nothing sent; a
//! token held by another user than the one named is `refused` and left untouched.

use super::{apply, describe, held_by, holder_of, now_rfc3339, Ctx, Op};
use crate::activate::plan::TenantIndex;
use crate::backend::{ApiError, Backend, Device, DeviceStatus};
use crate::record::{ChangeOperation, ChangeRecord, ChangeStatus, Fatal, Record};
use crate::sink::Sink;
use anyhow::Result;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// How the `reason` of a `done` change that sent nothing begins (the token was already
/// there): `undo` reverts only the changes a run made.
pub const NOTHING_TO_DO: &str = "nothing to do";

/// One token to change.
#[derive(Debug, Clone)]
pub struct Target {
    pub serial: String,
    /// The user it must belong to (`--upn`, the CSV's column); `None`: whoever holds it.
    pub upn: Option<String>,
    /// CSV line.
    pub line: Option<u64>,
}

pub fn change_record(op: ChangeOperation, status: ChangeStatus, serial: &str) -> ChangeRecord {
    ChangeRecord {
        operation: op,
        status,
        serial: serial.to_string(),
        upn: None,
        device_id: None,
        line: None,
        reason: None,
        http_status: None,
        error_code: None,
        error_message: None,
        time: now_rfc3339(),
    }
}

pub fn with_error(mut r: ChangeRecord, e: &ApiError) -> ChangeRecord {
    r.status = if matches!(e, ApiError::Auth { .. }) { ChangeStatus::NotAttempted } else { ChangeStatus::Failed };
    (r.http_status, r.error_code, r.error_message) = e.record_fields();
    r
}

/// Serials (lower-case) whose `op` an earlier run with this journal finished (`--resume`).
pub fn read_done(path: &Path, op: ChangeOperation) -> Result<HashSet<String>> {
    let (records, _) = super::journal::read(path)?;
    Ok(records
        .into_iter()
        .filter_map(|(_, r)| match r {
            Record::Change(c) if c.operation == op && c.status == ChangeStatus::Done => Some(c.serial.to_lowercase()),
            _ => None,
        })
        .collect())
}

/// The writes `op` needs for a token in this state (empty: already there).
fn writes_for(op: ChangeOperation, status: DeviceStatus) -> Option<Vec<Op>> {
    use DeviceStatus::*;
    Some(match (op, status) {
        (_, Unknown) => return None,
        (ChangeOperation::Deactivate, Activated | FailedActivation) => vec![Op::Deactivate],
        (ChangeOperation::Deactivate, Assigned | Available) => vec![],
        (ChangeOperation::Unassign, Activated | FailedActivation | Assigned) => vec![Op::Unassign],
        (ChangeOperation::Unassign, Available) => vec![],
        (ChangeOperation::Remove, Activated | FailedActivation | Assigned) => vec![Op::Unassign, Op::Remove],
        (ChangeOperation::Remove, Available) => vec![Op::Remove],
        // Undo's own steps (lifecycle::undo), never a change command's.
        (ChangeOperation::Assign | ChangeOperation::Activate | ChangeOperation::Import, _) => return None,
    })
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Deactivate => "deactivate",
        Op::Unassign => "unassign",
        Op::Remove => "remove",
    }
}

/// Change one token. Returns its record.
async fn change_one<B: Backend>(
    shared: &Ctx<B>,
    op: ChangeOperation,
    target: &Target,
    found: &[Device],
    dry_run: bool,
    out: &mut Sink,
) -> Result<ChangeRecord> {
    let mut rec = change_record(op, ChangeStatus::Done, &target.serial);
    rec.line = target.line;
    rec.upn = target.upn.clone();
    let device = match found {
        [] => {
            rec.status = ChangeStatus::NotFound;
            rec.reason = Some(format!("no token with serial {} in the tenant", target.serial));
            return Ok(rec);
        }
        [d] => d,
        many => {
            rec.status = ChangeStatus::Failed;
            rec.error_code = Some("ambiguous_serial".into());
            rec.reason = Some(format!("{} tokens in the tenant have serial {}", many.len(), target.serial));
            return Ok(rec);
        }
    };
    rec.device_id = device.known_id();
    let Some(writes) = writes_for(op, device.status) else {
        rec.status = ChangeStatus::Failed;
        rec.error_code = Some("unknown_status".into());
        rec.reason = Some(format!("the tenant reports status '{}'", device.token.status));
        return Ok(rec);
    };
    // Who holds it: the user calls go to them, and a named user must be the holder.
    let mut user = None;
    if device.status != DeviceStatus::Available {
        let holder = match holder_of(shared, device).await {
            Ok(h) => h,
            Err(e) => return Ok(with_error(rec, &e)),
        };
        match (&target.upn, holder) {
            (Some(upn), Some((path, holder_upn))) => match held_by(shared, device, upn).await {
                Ok(true) => user = Some(path),
                Ok(false) => {
                    rec.status = ChangeStatus::Refused;
                    rec.reason = Some(format!("the token is held by {holder_upn}, not {upn}; left untouched"));
                    return Ok(rec);
                }
                Err(e) => return Ok(with_error(rec, &e)),
            },
            (None, Some((path, holder_upn))) => {
                rec.upn = Some(holder_upn);
                user = Some(path);
            }
            (_, None) => {}
        }
    }
    if writes.is_empty() {
        rec.reason = Some(format!("{NOTHING_TO_DO}: the token is {}; nothing sent", describe(Some(device))));
        return Ok(rec);
    }
    let plan: Vec<&str> = writes.iter().map(|w| op_name(*w)).collect();
    if dry_run {
        rec.status = ChangeStatus::WouldDo;
        rec.reason = Some(format!("would {} (token is {})", plan.join(", then "), describe(Some(device))));
        return Ok(rec);
    }
    let user_path = user.unwrap_or_default();
    if let Err(why) = out.intent(&rec, &shared.engine) {
        rec.status = ChangeStatus::NotAttempted;
        rec.reason = Some(why);
        return Ok(rec);
    }
    let mut current = device.clone();
    for w in writes {
        if w != Op::Remove && user_path.is_empty() {
            rec.status = ChangeStatus::Failed;
            rec.reason = Some("the tenant does not say who holds the token".into());
            return Ok(rec);
        }
        if let Err(e) = apply(shared, w, &user_path, &current).await {
            return Ok(with_error(rec, &e));
        }
        match w.apply(&current) {
            Some(next) => current = next,
            None => break,
        }
    }
    rec.reason = Some(format!("{} (was {})", plan.join(", then "), describe(Some(device))));
    Ok(rec)
}

/// Run `op` over the targets, one record each.
pub async fn run<B: Backend>(
    shared: &Arc<Ctx<B>>,
    op: ChangeOperation,
    targets: Vec<Target>,
    done_before: &HashSet<String>,
    dry_run: bool,
    out: &mut Sink,
) -> Result<Option<Fatal>> {
    let backend = shared.backend.clone();
    let mut work = Vec::new();
    let mut seen = HashSet::new();
    for t in targets {
        if done_before.contains(&t.serial.to_lowercase()) {
            out.skipped();
        } else if !seen.insert(t.serial.to_lowercase()) {
            let mut rec = change_record(op, ChangeStatus::Failed, &t.serial);
            rec.line = t.line;
            rec.error_code = Some("duplicate_serial".into());
            rec.reason = Some(format!("serial {} appears more than once; changed once", t.serial));
            out.settle(rec, None)?;
        } else {
            work.push(t);
        }
    }
    if work.is_empty() {
        return Ok(None);
    }
    out.diag().start("resolve", None);
    let wanted: Vec<(String, String)> =
        work.iter().map(|t| (t.serial.clone(), t.upn.clone().unwrap_or_default())).collect();
    let index = match backend.find(&wanted).await {
        Ok(d) => TenantIndex::new(d),
        Err(e) => {
            let fatal = super::fatal_for(&e, backend.name());
            for t in &work {
                let mut rec = change_record(op, ChangeStatus::NotAttempted, &t.serial);
                rec.line = t.line;
                rec.reason = Some("the run stopped before this token was resolved".into());
                out.settle(rec, None)?;
            }
            return Ok(Some(fatal));
        }
    };
    out.diag().start(op_label(op), Some(work.len() as u64));
    for t in &work {
        if shared.engine.stopped() {
            let mut rec = change_record(op, ChangeStatus::NotAttempted, &t.serial);
            rec.line = t.line;
            rec.reason = Some("the run stopped before this token was changed".into());
            out.settle(rec, None)?;
            continue;
        }
        let rec = change_one(shared, op, t, index.lookup(&t.serial), dry_run, out).await?;
        out.settle(rec, None)?;
    }
    Ok(None)
}

pub fn op_label(op: ChangeOperation) -> &'static str {
    match op {
        ChangeOperation::Deactivate => "deactivate",
        ChangeOperation::Unassign => "unassign",
        ChangeOperation::Remove => "remove",
        ChangeOperation::Assign => "assign",
        ChangeOperation::Activate => "activate",
        ChangeOperation::Import => "import",
    }
}
