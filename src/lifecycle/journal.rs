//! The lifecycle side of the journal (`import`, `change`, `undo` records). The file
//! discipline (header, lock, torn lines, no symlinks) is `crate::journal`'s.

use crate::record::Record;
use anyhow::Result;
use std::path::Path;

pub use crate::journal::Journal;

/// `reason` of the `not_attempted` change line journaled right before a write is sent.
pub const IN_FLIGHT: &str = "in_flight";

/// A journal record with its 1-based line.
pub type Numbered = (u64, Record);

/// Every readable record of a journal with its 1-based line; unreadable lines (a torn
/// write) are listed apart. A missing file is empty; a file that is not a journal is refused.
pub fn read(path: &Path) -> Result<(Vec<Numbered>, Vec<u64>)> {
    let contents = crate::journal::read(path)?;
    Ok((contents.records, contents.torn))
}
