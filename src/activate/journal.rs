//! The run journal's activation side: every final `activation` record, appended and flushed
//! one by one, so a run killed at any moment can be resumed. The file discipline (header,
//! lock, torn lines, no symlinks) is `crate::journal`'s; this module only knows what an
//! activation line means.
//!
//! Resuming never trusts the journal alone for writes: rows it does not mark settled are
//! resolved against the tenant again, which is what makes a re-run after a kill safe
//! (a write that landed just before the kill shows up as `activated` there).

use crate::record::{Activation, ActivationStatus, Record, IN_FLIGHT};
use crate::sink::{Intent, RowRecord};
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;

pub use crate::journal::Journal;

/// What an earlier run settled: (serial, user) → its record. A serial now given to another
/// user is another row: the journal's line is not about it.
#[derive(Debug, Default)]
pub struct Settled {
    pub by_row: HashMap<(String, String), Activation>,
    /// Lines that did not parse (a torn last line after a kill).
    pub unreadable_lines: Vec<u64>,
}

impl Settled {
    /// What an earlier run settled for this serial and user (the one serial rule:
    /// case-insensitive; UPNs compared case-insensitively).
    pub fn get(&self, serial: &str, upn: &str) -> Option<&Activation> {
        self.by_row.get(&(crate::inventory::serial_key(serial), upn.to_lowercase()))
    }
}

/// An activation as a journal line.
impl From<Activation> for Record {
    fn from(a: Activation) -> Self {
        Record::Activation(a)
    }
}

/// What an activation means to the sink.
impl RowRecord for Activation {
    fn count_key(&self) -> String {
        self.status.as_str().into()
    }
    fn is_error(&self) -> bool {
        self.status.is_error()
    }
    /// Only outcomes the tenant decided: `not_attempted` must be retried, `would_activate`
    /// (dry run) changed nothing, `skipped` is an earlier run's line.
    fn journaled(&self) -> bool {
        !matches!(
            self.status,
            ActivationStatus::NotAttempted | ActivationStatus::WouldActivate | ActivationStatus::Skipped
        )
    }
    fn is_failure(&self) -> bool {
        matches!(self.status, ActivationStatus::Failed | ActivationStatus::Conflict)
    }
}

/// An activation's intent line: `not_attempted` with `error_code: in_flight` (its `action`
/// says which write).
impl Intent for Activation {
    fn in_flight(&self) -> Self {
        Activation { status: ActivationStatus::NotAttempted, error_code: Some(IN_FLIGHT.into()), ..self.clone() }
    }
}

/// Read what earlier runs settled (`activated`, `already_active`). A missing file is empty;
/// a file that is not a journal is refused. The caller checks first that the journal is this
/// run's (`crate::journal::check_resumable`); the tenant's inventory still decides whether
/// a settled row is skipped (`activate::run`).
pub fn read_settled(path: &Path) -> Result<Settled> {
    let contents = crate::journal::read(path)?;
    let mut settled = Settled { unreadable_lines: contents.torn, ..Default::default() };
    for (_, record) in contents.records {
        if let Record::Activation(a) = record {
            if matches!(a.status, ActivationStatus::Activated | ActivationStatus::AlreadyActive) {
                settled.by_row.insert((crate::inventory::serial_key(&a.serial), a.upn.to_lowercase()), a);
            }
        }
    }
    Ok(settled)
}
