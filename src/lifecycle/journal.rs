//! The lifecycle journal: JSON lines of [`Record`]s (`import`, `change`), appended and
//! flushed one by one under an exclusive lock, so a killed run can resume and `undo` can
//! read what a run did. Same file discipline as `activate::journal`.

use crate::record::Record;
use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// `reason` of the `not_attempted` change line journaled right before a write is sent.
pub const IN_FLIGHT: &str = "in_flight";

/// A journal record with its 1-based line.
pub type Numbered = (u64, Record);

pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Open for appending, taking an exclusive lock for the life of the run.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .with_context(|| format!("cannot open journal {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                bail!("journal {} is in use by another oathbulk run; wait for it to finish", path.display())
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock journal {}", path.display()))
            }
        }
        let mut j = Self { file, path: path.to_path_buf() };
        // A kill mid-write can leave a torn last line: start the next one on a fresh line.
        let len = j.file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            let mut reader = &j.file;
            reader.seek(SeekFrom::Start(len - 1))?;
            reader.read_exact(&mut last)?;
            if last[0] != b'\n' {
                j.file.write_all(b"\n")?;
            }
        }
        Ok(j)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and push it to the OS before anyone hears of it.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.file.write_all(&line).with_context(|| format!("cannot write journal {}", self.path.display()))?;
        self.file.flush()?;
        Ok(())
    }
}

/// Every readable record of a journal with its 1-based line; unreadable lines (a torn
/// write) are listed apart. A missing file is empty.
pub fn read(path: &Path) -> Result<(Vec<Numbered>, Vec<u64>)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
        Err(e) => return Err(e).with_context(|| format!("cannot read journal {}", path.display())),
    };
    let (mut records, mut bad) = (Vec::new(), Vec::new());
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(r) => records.push((i as u64 + 1, r)),
            Err(_) => bad.push(i as u64 + 1),
        }
    }
    Ok((records, bad))
}
