//! The run journal: every final `activation` record, appended and flushed one by one, so a
//! run killed at any moment can be resumed. One writer at a time (an exclusive lock).
//!
//! Resuming never trusts the journal alone for writes: rows it does not mark settled are
//! resolved against the tenant again, which is what makes a re-run after a kill safe
//! (a write that landed just before the kill shows up as `activated` there).

use crate::record::{Activation, ActivationStatus, Record};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// `error_code` of an intent line: written just before a write is sent, so that a write
/// that lands and is then killed before its result is journaled is still known (`undo`
/// checks the tenant for such tokens). `--resume` ignores intents: the tenant decides.
pub const IN_FLIGHT: &str = "in_flight";

pub struct Journal {
    file: File,
    path: PathBuf,
}

/// What an earlier run settled: serial → its record.
#[derive(Debug, Default)]
pub struct Settled {
    pub by_serial: HashMap<String, Activation>,
    /// Lines that did not parse (a torn last line after a kill).
    pub unreadable_lines: Vec<usize>,
}

impl Settled {
    /// What an earlier run settled for this serial (the one serial rule: case-insensitive).
    pub fn get(&self, serial: &str) -> Option<&Activation> {
        self.by_serial.get(&crate::inventory::serial_key(serial))
    }
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
        let mut journal = Self { file, path: path.to_path_buf() };
        journal.heal_torn_tail()?;
        Ok(journal)
    }

    /// A kill mid-write can leave a last line without its newline; start the next record
    /// on a fresh line so both stay readable.
    fn heal_torn_tail(&mut self) -> Result<()> {
        let len = self.file.metadata()?.len();
        if len == 0 {
            return Ok(());
        }
        use std::io::{Read, Seek, SeekFrom};
        let mut last = [0u8; 1];
        let mut reader = &self.file;
        reader.seek(SeekFrom::Start(len - 1))?;
        reader.read_exact(&mut last)?;
        if last[0] != b'\n' {
            self.file.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and push it to the OS before anyone hears of it.
    pub fn append(&mut self, record: &Activation) -> Result<()> {
        let mut line = serde_json::to_vec(&Record::Activation(record.clone()))?;
        line.push(b'\n');
        self.file.write_all(&line).with_context(|| format!("cannot write journal {}", self.path.display()))?;
        self.file.flush()?;
        Ok(())
    }
}

/// Read what earlier runs settled (`activated`, `already_active`). A missing file is empty.
pub fn read_settled(path: &Path) -> Result<Settled> {
    let mut settled = Settled::default();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(settled),
        Err(e) => return Err(e).with_context(|| format!("cannot read journal {}", path.display())),
    };
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(Record::Activation(a)) => {
                if matches!(a.status, ActivationStatus::Activated | ActivationStatus::AlreadyActive) {
                    settled.by_serial.insert(crate::inventory::serial_key(&a.serial), a);
                }
            }
            Ok(_) => {}
            Err(_) => settled.unreadable_lines.push(i + 1),
        }
    }
    Ok(settled)
}
