//! The lifecycle side of the journal (`import`, `change`, `undo` records): what their lines
//! mean to the sink. The file discipline (header, lock, torn lines, no symlinks) is
//! `crate::journal`'s.

use crate::record::{ChangeRecord, ChangeStatus, ImportRecord, ImportStatus, Record, IN_FLIGHT};
use crate::sink::{wire_name, Intent, RowRecord};
use anyhow::Result;
use std::path::Path;

pub use crate::journal::Journal;

/// `error_code` of an existing token the run stopped before assigning (`import --assign`):
/// not reached, so not a failure for the error log.
pub const NOT_ASSIGNED: &str = "not_assigned";

/// A journal record with its 1-based line.
pub type Numbered = (u64, Record);

/// Every readable record of a journal with its 1-based line; unreadable lines (a torn
/// write) are listed apart. A missing file is empty; a file that is not a journal is refused.
pub fn read(path: &Path) -> Result<(Vec<Numbered>, Vec<u64>)> {
    let contents = crate::journal::read(path)?;
    Ok((contents.records, contents.torn))
}

impl From<ImportRecord> for Record {
    fn from(r: ImportRecord) -> Self {
        Record::Import(r)
    }
}

impl From<ChangeRecord> for Record {
    fn from(r: ChangeRecord) -> Self {
        Record::Change(r)
    }
}

/// What an `import` row means to the sink.
impl RowRecord for ImportRecord {
    fn count_key(&self) -> String {
        wire_name(&self.status)
    }
    /// A token that exists but is someone else's (or could not be assigned) is an error too.
    fn is_error(&self) -> bool {
        matches!(self.status, ImportStatus::Failed | ImportStatus::NotAttempted) || self.error_code.is_some()
    }
    /// The tokens in the tenant now (`--resume` skips them, `undo` removes what was created).
    fn journaled(&self) -> bool {
        matches!(self.status, ImportStatus::Created | ImportStatus::Exists)
    }
    /// Refused or failed; not one the run stopped before assigning.
    fn is_failure(&self) -> bool {
        match self.status {
            ImportStatus::Failed => true,
            ImportStatus::Exists => self.error_code.as_deref().is_some_and(|c| c != NOT_ASSIGNED),
            _ => false,
        }
    }
}

/// What a lifecycle change (`deactivate`, `unassign`, `remove`, `undo`) means to the sink.
impl RowRecord for ChangeRecord {
    fn count_key(&self) -> String {
        wire_name(&self.status)
    }
    fn is_error(&self) -> bool {
        matches!(
            self.status,
            ChangeStatus::Refused | ChangeStatus::NotFound | ChangeStatus::Failed | ChangeStatus::NotAttempted
        )
    }
    /// Everything but a dry run's and what was never sent.
    fn journaled(&self) -> bool {
        !matches!(self.status, ChangeStatus::WouldDo | ChangeStatus::NotAttempted)
    }
    fn is_failure(&self) -> bool {
        matches!(self.status, ChangeStatus::Failed | ChangeStatus::Refused)
    }
}

/// A change's intent line: `not_attempted` with `reason: in_flight`.
impl Intent for ChangeRecord {
    fn in_flight(&self) -> Self {
        ChangeRecord { status: ChangeStatus::NotAttempted, reason: Some(IN_FLIGHT.into()), ..self.clone() }
    }
}
