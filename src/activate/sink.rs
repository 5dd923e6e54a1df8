//! Where every final row result goes, in this order: journal (durable first), error log,
//! stdout, progress. One place, so no result can reach one of them and miss another.

use super::journal::Journal;
use crate::auth::Redactor;
use crate::diag::Diag;
use crate::output::Output;
use crate::record::{Activation, ActivationStatus, Record, Summary};
use anyhow::{Context, Result};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct Sink {
    out: Output,
    /// Shared with the executor, which writes an intent line before each write.
    journal: Option<Arc<Mutex<Journal>>>,
    error_log: Option<File>,
    redactor: Redactor,
    diag: Diag,
    pub summary: Summary,
}

/// Server detail for the error log (not in the record: bodies can be long).
#[derive(Debug, Clone, Default)]
pub struct FailureDetail {
    pub body: String,
    pub request_id: Option<String>,
}

impl Sink {
    pub fn new(out: Output, diag: Diag, summary: Summary) -> Self {
        Self { out, journal: None, error_log: None, redactor: Redactor::default(), diag, summary }
    }

    pub fn with_journal(mut self, journal: Journal) -> Self {
        self.journal = Some(Arc::new(Mutex::new(journal)));
        self
    }

    /// The journal, for the executor's intent lines.
    pub fn journal(&self) -> Option<Arc<Mutex<Journal>>> {
        self.journal.clone()
    }

    pub fn with_error_log(mut self, path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open error log {}", path.display()))?;
        self.error_log = Some(file);
        Ok(self)
    }

    pub fn set_redactor(&mut self, redactor: Redactor) {
        self.redactor = redactor;
    }

    pub fn diag(&self) -> &Diag {
        &self.diag
    }

    /// Any record that is not a row result (warnings).
    pub fn emit(&mut self, record: &Record) -> Result<()> {
        self.out.emit(record)
    }

    /// A row's final result.
    pub fn settle(&mut self, mut a: Activation, detail: Option<FailureDetail>) -> Result<()> {
        a.error_message = a.error_message.map(|m| self.redactor.redact(&m));
        // Only outcomes the tenant decided are journaled: `not_attempted` must be retried
        // and `would_activate` (dry run) changed nothing.
        let journaled = !matches!(
            a.status,
            ActivationStatus::NotAttempted | ActivationStatus::WouldActivate | ActivationStatus::Skipped
        );
        if journaled {
            if let Some(j) = &self.journal {
                j.lock().unwrap_or_else(|p| p.into_inner()).append(&a)?;
            }
        }
        if a.status == ActivationStatus::Failed || a.status == ActivationStatus::Conflict {
            self.log_failure(&a, detail.as_ref())?;
        }
        self.summary.rows += 1;
        *self.summary.counts.entry(a.status.as_str().to_string()).or_default() += 1;
        if a.status.is_error() {
            self.summary.errors += 1;
        } else {
            self.summary.ok += 1;
        }
        self.out.emit(&Record::Activation(a))?;
        self.diag.advance(1);
        Ok(())
    }

    /// A row that never reached the network (bad CSV line, script error).
    pub fn row_error(&mut self, e: crate::record::RowErrorRecord) -> Result<()> {
        self.summary.rows += 1;
        self.summary.errors += 1;
        *self.summary.counts.entry(e.code.clone()).or_default() += 1;
        self.out.emit(&Record::RowError(e))
    }

    fn log_failure(&mut self, a: &Activation, detail: Option<&FailureDetail>) -> Result<()> {
        let Some(file) = &mut self.error_log else { return Ok(()) };
        let body = detail.map(|d| self.redactor.redact(&d.body)).unwrap_or_default();
        let entry = format!(
            "{time}\tupn={upn}\tserial={serial}\tstatus={status}\thttp={http}\tcode={code}\trequest-id={rid}\tmessage={msg}\n\tbody={body}\n",
            time = a.time,
            upn = a.upn,
            serial = a.serial,
            status = a.status.as_str(),
            http = a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            code = a.error_code.as_deref().unwrap_or("-"),
            rid = detail.and_then(|d| d.request_id.as_deref()).unwrap_or("-"),
            msg = a.error_message.as_deref().unwrap_or(""),
            body = if body.is_empty() { "-".to_string() } else { body.replace('\n', " ") },
        );
        file.write_all(entry.as_bytes())?;
        file.flush()?;
        Ok(())
    }

    /// The summary, last on stdout.
    pub fn finish(mut self) -> Result<Summary> {
        self.diag.finish();
        let summary = self.summary.clone();
        self.out.emit(&Record::Summary(summary.clone()))?;
        self.out.finish()?;
        Ok(summary)
    }
}
