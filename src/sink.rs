//! Where every result of a run goes, in this order: the journal (durable first), the error
//! log, stdout, progress — and last the summary. One sink for every command that writes
//! results (`activate`, `import`, `deactivate`/`unassign`/`remove`, `undo`), so no result can
//! reach one of them and miss another, and every summary is finished the same way.
//!
//! Planners hand the sink typed records. A record type says, through [`RowRecord`], how it
//! counts, whether the journal keeps it and what the error log says of it; the sink knows no
//! command, and the planners know no file, stream or counter.

use crate::api_error::{ApiError, RequestIds};
use crate::backend::Backend;
use crate::context::Ctx;
use crate::diag::Diag;
use crate::engine::{Engine, Stats};
use crate::journal::Journal;
use crate::output::Output;
use crate::record::{Fatal, Record, RowErrorRecord, Summary, Warning};
use crate::stop::{ExitCode, StopReason};
use anyhow::Result;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A row's final result, of any command.
pub trait RowRecord: Clone + Into<Record> {
    /// Its key in `summary.counts`: the status's wire name (`activated`, `created`, `done`, …).
    fn count_key(&self) -> String;
    /// It counts as an error (exit 1).
    fn is_error(&self) -> bool;
    /// The tenant decided it, so the journal keeps it: not a dry run's, not a row the run
    /// never sent.
    fn journaled(&self) -> bool;
    /// A failure worth a support case (the tenant refused or failed): the error log keeps it
    /// (not what was done, a dry run's, a row not reached, a serial not found).
    fn is_failure(&self) -> bool;
}

/// A row result whose write can be in flight: the journal gets an intent line before the
/// write is sent.
pub trait Intent: RowRecord {
    /// This row as its intent line: `not_attempted`, marked `in_flight`.
    fn in_flight(&self) -> Self;
}

/// A result an earlier run settled and journaled (`--resume`): printed and counted like any
/// other, not journaled again.
#[derive(Clone)]
pub struct Replayed<R>(pub R);

impl<R: RowRecord> From<Replayed<R>> for Record {
    fn from(r: Replayed<R>) -> Record {
        r.0.into()
    }
}

impl<R: RowRecord> RowRecord for Replayed<R> {
    fn count_key(&self) -> String {
        self.0.count_key()
    }
    fn is_error(&self) -> bool {
        self.0.is_error()
    }
    fn journaled(&self) -> bool {
        false
    }
    fn is_failure(&self) -> bool {
        self.0.is_failure()
    }
}

/// The wire name of a serde-renamed status (`ImportStatus::WouldCreate` → `would_create`).
pub fn wire_name<T: serde::Serialize>(status: &T) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "unknown".into())
}

/// What the error log keeps of a failure besides its record (bodies can be long): the
/// server's answer and the ids that find the request in the service's logs.
#[derive(Debug, Clone, Default)]
pub struct FailureDetail {
    /// The server's answer (or, without one, the error's text).
    pub body: String,
    pub ids: RequestIds,
}

impl FailureDetail {
    pub fn of(e: &ApiError) -> Self {
        let body = match e {
            ApiError::Rejected { body, .. } => body.clone(),
            other => other.message(),
        };
        Self { body, ids: e.request_ids() }
    }
}

/// The run's journal, shared by the sink (results) and the planners (intent lines). Empty
/// when no journal is kept (none asked for, or a dry run).
#[derive(Clone, Default)]
pub struct JournalHandle(Option<Arc<Mutex<Journal>>>);

impl JournalHandle {
    fn append(&self, record: &Record) -> Result<()> {
        match &self.0 {
            Some(j) => j.lock().unwrap_or_else(|p| p.into_inner()).append(record),
            None => Ok(()),
        }
    }

    /// Journal the throttled answers noted since the last call (`run_event`s, for `report`).
    /// Taken whether or not a journal is kept, so they never pile up.
    fn throttles(&self, stats: &Stats) -> Result<()> {
        for t in stats.take_throttles() {
            self.append(&Record::RunEvent(crate::record::RunEvent::throttled(t.at, t.status, t.retry_after)))?;
        }
        Ok(())
    }

    /// Journal that `r`'s write is about to be sent, so that a write that lands in a run
    /// killed before its result is journaled is still known (`undo` checks the tenant for it).
    /// A line that cannot be written stops the run (`journal`): nothing goes out that the
    /// journal would not know of. `Err`: the row's explanation (its write was not sent).
    pub fn intent<R: Intent>(&self, r: &R, engine: &Engine) -> Result<(), String> {
        let written = self.throttles(engine.stats()).and_then(|()| self.append(&r.in_flight().into()));
        let Err(e) = written else { return Ok(()) };
        engine.abort(StopReason::Journal, format!("{e:#}"));
        Err(format!("not sent: the journal cannot be written ({e:#})"))
    }
}

/// Where a run's results go. See the module documentation.
pub struct Sink {
    out: Output,
    journal: JournalHandle,
    error_log: Option<File>,
    diag: Diag,
    summary: Summary,
    /// When the command started: `elapsed_ms` is the whole command's wall time.
    started: Instant,
}

impl Sink {
    pub fn new(out: Output, diag: Diag, command: &str, started: Instant) -> Self {
        Self {
            out,
            journal: JournalHandle::default(),
            error_log: None,
            diag,
            summary: Summary { command: command.into(), ..Default::default() },
            started,
        }
    }

    /// Rows the row source left out (`--where`, `--lines`, a script's `filter`).
    pub fn with_filtered(mut self, filtered: Option<u64>) -> Self {
        self.summary.filtered = filtered;
        self
    }

    pub fn with_journal(mut self, journal: Option<Journal>) -> Self {
        self.journal = JournalHandle(journal.map(|j| Arc::new(Mutex::new(j))));
        self
    }

    /// `--error-log FILE`: appended to, one entry per failure.
    pub fn with_error_log(mut self, path: Option<&Path>) -> Result<Self> {
        if let Some(path) = path {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            // As the journal: a planted symbolic link is not followed (unix `O_NOFOLLOW`),
            // and a FIFO or device is refused without blocking (`O_NONBLOCK`).
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).mode(0o600);
            }
            let file = options.open(path).map_err(|e| {
                #[cfg(unix)]
                if e.raw_os_error() == Some(libc::ELOOP) {
                    return anyhow::anyhow!("error log {} is a symbolic link; refusing to follow it", path.display());
                }
                anyhow::Error::new(e).context(format!("cannot open error log {}", path.display()))
            })?;
            if !file.metadata()?.file_type().is_file() {
                anyhow::bail!("error log {} is not a regular file; give a file", path.display());
            }
            self.error_log = Some(file);
        }
        Ok(self)
    }

    pub fn diag(&self) -> &Diag {
        &self.diag
    }

    /// The journal, for planners that write intent lines from their own tasks.
    pub fn journal(&self) -> JournalHandle {
        self.journal.clone()
    }

    /// See [`JournalHandle::intent`].
    pub fn intent<R: Intent>(&self, r: &R, engine: &Engine) -> Result<(), String> {
        self.journal.intent(r, engine)
    }

    /// A run-wide warning: on stderr for people, among the records on stdout.
    pub fn warning(&mut self, w: Warning) -> Result<()> {
        self.diag.warn(&w.code, &w.message);
        self.out.emit(&Record::Warning(w))
    }

    /// A row's final result: journaled (when the tenant decided it), logged (when it is a
    /// failure), counted, printed, and the progress advanced.
    pub fn settle<R: RowRecord>(&mut self, r: R, detail: Option<FailureDetail>) -> Result<()> {
        let (key, error, journaled, failure) = (r.count_key(), r.is_error(), r.journaled(), r.is_failure());
        let record: Record = r.into();
        if journaled {
            self.journal.append(&record)?;
        }
        if failure {
            self.log_failure(&key, &record, detail.as_ref())?;
        }
        self.count(key, error);
        self.out.emit(&record)?;
        self.diag.advance(1);
        Ok(())
    }

    /// A row that never reached the network (bad CSV line, script error).
    pub fn row_error(&mut self, e: RowErrorRecord) -> Result<()> {
        self.count(e.code.clone(), true);
        self.out.emit(&Record::RowError(e))
    }

    /// A step an earlier run already did (`--resume`) and that has no record of its own:
    /// counted (`skipped`), not printed again.
    pub fn skipped(&mut self) {
        self.count("skipped".into(), false);
        self.diag.advance(1);
    }

    /// The results so far are a first phase (`import`) whose last `rows` rows go on to a
    /// second (`--activate`) that settles them again: their counts move under `prefix`, and
    /// those rows leave `rows`/`ok`, so every row is counted once, by its last result.
    pub fn hand_on(&mut self, prefix: &str, rows: u64) {
        let s = &mut self.summary;
        s.counts = std::mem::take(&mut s.counts).into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect();
        s.rows = s.rows.saturating_sub(rows);
        s.ok = s.ok.saturating_sub(rows);
    }

    fn count(&mut self, key: String, error: bool) {
        let s = &mut self.summary;
        s.rows += 1;
        *s.counts.entry(key).or_default() += 1;
        if error {
            s.errors += 1;
        } else {
            s.ok += 1;
        }
    }

    /// One error-log entry, from the record's own wire fields (every row record names them
    /// alike) and the server's detail.
    fn log_failure(&mut self, status: &str, record: &Record, detail: Option<&FailureDetail>) -> Result<()> {
        let Some(file) = &mut self.error_log else { return Ok(()) };
        let wire = serde_json::to_value(record)?;
        // Every value escaped: a server's message or body (or a CSV cell) can carry terminal
        // escapes, line breaks that forge entries, or bidi characters.
        let esc = |s: &str| crate::text::escape_all_controls(s).into_owned();
        let field = |name: &str| match wire.get(name) {
            Some(serde_json::Value::String(s)) => Some(esc(s)),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        // A body's line breaks (pretty-printed JSON) become spaces: one entry, one line.
        let body = detail.map(|d| esc(&d.body.replace(['\r', '\n'], " "))).filter(|b| !b.is_empty());
        let entry = format!(
            "{time}\tupn={upn}\tserial={serial}\tstatus={status}\thttp={http}\tcode={code}\trequest-id={rid}\tclient-request-id={cid}\tmessage={msg}\n\tbody={body}\n",
            time = field("time").unwrap_or_default(),
            upn = field("upn").unwrap_or_else(|| "-".into()),
            serial = field("serial").unwrap_or_default(),
            http = field("http_status").unwrap_or_else(|| "-".into()),
            code = field("error_code").unwrap_or_else(|| "-".into()),
            rid = detail.and_then(|d| d.ids.server.as_deref()).map(esc).unwrap_or_else(|| "-".into()),
            cid = detail.and_then(|d| d.ids.client.as_deref()).map(esc).unwrap_or_else(|| "-".into()),
            msg = field("error_message").or_else(|| field("reason")).unwrap_or_default(),
            body = body.as_deref().unwrap_or("-"),
        );
        // The one redactor, like every other path that writes text.
        file.write_all(crate::redact::scrub(&entry).as_bytes())?;
        file.flush()?;
        Ok(())
    }

    /// Fill in the run-wide fields — the same for every command — and print the summary last.
    /// `fatal`: why the planner stopped the run, if it did (else the engine's reason, if any).
    pub fn finish<B: Backend, S>(mut self, ctx: &Ctx<B, S>, dry_run: bool, fatal: Option<Fatal>) -> Result<Summary> {
        self.diag.finish();
        let fatal = fatal.or_else(|| ctx.engine.fatal());
        if let Some(f) = &fatal {
            self.diag.error(f.code.as_str(), &f.message);
        }
        let stats = ctx.engine.stats();
        let s = &mut self.summary;
        s.requests = Some(Stats::get(&stats.requests));
        s.retries = Some(Stats::get(&stats.retries));
        s.throttled = Some(Stats::get(&stats.throttled));
        s.pace = ctx.engine.pace().rate.filter(|_| !dry_run);
        s.clock_offset_ms = ctx.clock.offset_ms();
        s.backend = Some(ctx.backend.name().to_string());
        s.dry_run = Some(dry_run);
        s.elapsed_ms = self.started.elapsed().as_millis() as u64;
        s.exit_code = match &fatal {
            Some(f) => f.code.exit_code(),
            None => ExitCode::for_rows(s.errors),
        }
        .code();
        s.fatal = fatal;
        // The journal ends a run with its summary too (`report` reads clock offset and pace there).
        // Every row is journaled already: a line that cannot be added now is said, not fatal.
        let journaled = self.journal.throttles(stats).and_then(|()| self.journal.append(&Record::Summary(s.clone())));
        if let Err(e) = journaled {
            self.diag.warn("journal", &format!("the run's summary could not be journaled: {e:#}"));
        }
        self.out.emit(&Record::Summary(self.summary.clone()))?;
        self.out.finish()?;
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{
        Activation, ActivationStatus, ChangeOperation, ChangeRecord, ChangeStatus, ImportRecord, ImportStatus,
        JournalHeader,
    };

    /// stdout as lines, each with whether the journal already held its serial when it was
    /// printed.
    type Printed = Arc<Mutex<Vec<(String, bool)>>>;

    struct Probe {
        journal: std::path::PathBuf,
        printed: Printed,
        pending: Vec<u8>,
    }

    impl Write for Probe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.pending.extend_from_slice(buf);
            while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8(self.pending.drain(..=end).collect()).unwrap();
                let serial = serde_json::from_str::<serde_json::Value>(&line).unwrap()["serial"].clone();
                let journal = std::fs::read_to_string(&self.journal).unwrap_or_default();
                let journaled = serial.as_str().is_some_and(|s| journal.contains(&format!("\"serial\":\"{s}\"")));
                self.printed.lock().unwrap().push((line.trim_end().to_string(), journaled));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct Fixture {
        dir: tempfile::TempDir,
        printed: Printed,
        sink: Sink,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let journal_path = dir.path().join("run.jsonl");
        let printed = Printed::default();
        let probe = Probe { journal: journal_path.clone(), printed: printed.clone(), pending: vec![] };
        let out = Output::new(Box::new(probe), crate::output::Format::Json, true);
        let header = JournalHeader::new("test", "graph", None);
        let sink = Sink::new(out, Diag::new(crate::diag::ProgressMode::None), "test", Instant::now())
            .with_journal(Some(Journal::open(&journal_path, &header).unwrap()))
            .with_error_log(Some(&dir.path().join("errors.log")))
            .unwrap();
        Fixture { dir, printed, sink }
    }

    fn activation(serial: &str, status: ActivationStatus) -> Activation {
        Activation { serial: serial.into(), status, time: "2026-01-01T00:00:00Z".into(), ..Activation::test_row() }
    }

    fn import(serial: &str, status: ImportStatus, error_code: Option<&str>) -> ImportRecord {
        ImportRecord {
            line: 3,
            upn: "b@contoso.com".into(),
            serial: serial.into(),
            status,
            device_id: None,
            assigned: false,
            http_status: None,
            error_code: error_code.map(str::to_string),
            error_message: None,
            time: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn change(serial: &str, status: ChangeStatus) -> ChangeRecord {
        ChangeRecord {
            operation: ChangeOperation::Deactivate,
            status,
            serial: serial.to_string(),
            upn: None,
            device_id: None,
            line: None,
            reason: Some("why".into()),
            http_status: None,
            error_code: None,
            error_message: None,
            time: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn journal_serials(f: &Fixture) -> Vec<String> {
        let text = std::fs::read_to_string(f.dir.path().join("run.jsonl")).unwrap();
        text.lines()
            .skip(1)
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| format!("{}:{}", v["serial"].as_str().unwrap(), v["status"].as_str().unwrap()))
            .collect()
    }

    #[test]
    fn every_kind_of_result_is_journaled_before_it_is_printed_or_not_at_all() {
        let mut f = fixture();
        f.sink.settle(activation("A1", ActivationStatus::Activated), None).unwrap();
        f.sink.settle(activation("A2", ActivationStatus::WouldActivate), None).unwrap();
        f.sink.settle(activation("A3", ActivationStatus::NotAttempted), None).unwrap();
        f.sink.settle(import("I1", ImportStatus::Created, None), None).unwrap();
        f.sink.settle(Replayed(import("I2", ImportStatus::Exists, None)), None).unwrap();
        f.sink.settle(import("I3", ImportStatus::Failed, None), None).unwrap();
        f.sink.settle(change("C1", ChangeStatus::Done), None).unwrap();
        f.sink.settle(change("C2", ChangeStatus::WouldDo), None).unwrap();
        assert_eq!(journal_serials(&f), ["A1:activated", "I1:created", "C1:done"]);
        let printed = f.printed.lock().unwrap().clone();
        assert_eq!(printed.len(), 8, "every result printed");
        let journaled_when_printed: Vec<bool> = printed.iter().map(|(_, j)| *j).collect();
        assert_eq!(journaled_when_printed, [true, false, false, true, false, false, true, false]);
    }

    #[test]
    fn the_error_log_takes_the_failures_of_every_command() {
        let mut f = fixture();
        let mut failed = activation("A1", ActivationStatus::Failed);
        failed.http_status = Some(400);
        failed.error_code = Some("badCode".into());
        let ids = RequestIds { server: Some("srv-1".into()), client: Some("cli-1".into()) };
        let detail = FailureDetail { body: "{\"error\":\n{}}".into(), ids };
        f.sink.settle(failed, Some(detail)).unwrap();
        f.sink.settle(activation("A2", ActivationStatus::Activated), None).unwrap();
        f.sink.settle(activation("A3", ActivationStatus::NotAttempted), None).unwrap();
        f.sink.settle(import("I1", ImportStatus::Failed, Some("Request_BadRequest")), None).unwrap();
        f.sink.settle(import("I2", ImportStatus::Exists, Some("assigned_to_other_user")), None).unwrap();
        f.sink.settle(import("I3", ImportStatus::Exists, Some("not_assigned")), None).unwrap();
        f.sink.settle(change("C1", ChangeStatus::Refused), None).unwrap();
        f.sink.settle(change("C2", ChangeStatus::NotFound), None).unwrap();
        let log = std::fs::read_to_string(f.dir.path().join("errors.log")).unwrap();
        let entries: Vec<&str> = log.lines().filter(|l| !l.starts_with('\t')).collect();
        let serials: Vec<&str> =
            entries.iter().map(|e| e.split("\tserial=").nth(1).unwrap().split('\t').next().unwrap()).collect();
        assert_eq!(serials, ["A1", "I1", "I2", "C1"], "{log}");
        assert!(
            entries[0].contains("status=failed\thttp=400\tcode=badCode\trequest-id=srv-1\tclient-request-id=cli-1\t"),
            "{log}"
        );
        assert!(entries[2].contains("\trequest-id=-\tclient-request-id=-\t"), "no request, no ids: {log}");
        assert!(log.contains("\tbody={\"error\": {}}\n"), "the body on one line: {log}");
        assert!(entries[3].contains("status=refused") && entries[3].contains("message=why"), "{log}");
    }

    #[test]
    fn every_row_is_counted_once_as_ok_or_error() {
        let mut f = fixture();
        f.sink.settle(activation("A1", ActivationStatus::Activated), None).unwrap();
        f.sink.settle(activation("A2", ActivationStatus::Conflict), None).unwrap();
        f.sink.settle(import("I1", ImportStatus::Exists, Some("assigned_to_other_user")), None).unwrap();
        f.sink.settle(change("C1", ChangeStatus::Done), None).unwrap();
        f.sink.skipped();
        f.sink
            .row_error(RowErrorRecord {
                line: 9,
                code: "invalid_secret".into(),
                message: "x".into(),
                ..Default::default()
            })
            .unwrap();
        let s = &f.sink.summary;
        assert_eq!((s.rows, s.ok, s.errors), (6, 3, 3));
        let counts: Vec<(&str, u64)> = s.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            counts,
            [("activated", 1), ("conflict", 1), ("done", 1), ("exists", 1), ("invalid_secret", 1), ("skipped", 1)]
        );
    }

    #[test]
    fn rows_handed_on_are_counted_by_their_last_result() {
        let mut f = fixture();
        f.sink.settle(import("I1", ImportStatus::Created, None), None).unwrap();
        f.sink.settle(import("I2", ImportStatus::Failed, None), None).unwrap();
        f.sink.hand_on("import_", 1);
        f.sink.settle(activation("I1", ActivationStatus::Activated), None).unwrap();
        let s = &f.sink.summary;
        assert_eq!((s.rows, s.ok, s.errors), (2, 1, 1));
        assert_eq!(s.counts.keys().collect::<Vec<_>>(), ["activated", "import_created", "import_failed"]);
    }
}
