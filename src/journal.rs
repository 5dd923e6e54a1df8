//! The one journal format, for every command that keeps one (`activate`, `import`,
//! `deactivate`/`unassign`/`remove`, `undo`): JSON lines of [`Record`]s, a
//! `journal_header` first (tool, version, run id, command, backend, tenant).
//!
//! Writing: one writer at a time (an exclusive lock for the life of the run), each line
//! flushed before anyone hears of it, a torn last line (a kill mid-write) healed by starting
//! the next on a fresh line, and — where the platform allows — no symlink followed, so a
//! planted link cannot make a run append to another file.
//!
//! Reading (`--resume`, `undo`): a file that does not start with a header is not a journal
//! and is refused; a line that does not parse — torn, or cut inside a UTF-8 character — is
//! reported by number and skipped, and the rest is read.

use crate::record::{JournalHeader, Record, RunEvent, RunEventKind};
use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const TOOL: &str = "oathbulk";

impl JournalHeader {
    /// The header of a new run's journal.
    pub fn new(command: &str, backend: impl std::fmt::Debug, tenant: Option<String>) -> Self {
        Self {
            tool: TOOL.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            run_id: uuid::Uuid::new_v4().to_string(),
            command: command.into(),
            backend: format!("{backend:?}").to_lowercase(),
            tenant,
            origin: None,
            simulated: None,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }

    /// The same header, naming where the run's requests go (`scheme://host:port`) and
    /// whether that is a `--simulate` rehearsal.
    pub fn at(mut self, origin: &str, simulated: bool) -> Self {
        self.origin = Some(origin.to_string());
        self.simulated = Some(simulated);
        self
    }

    fn describe(&self) -> String {
        let kind = if self.simulated == Some(true) { "a --simulate rehearsal" } else { "a run" };
        format!(
            "{kind} on {} at {} (tenant {})",
            self.backend,
            self.origin.as_deref().unwrap_or("an unrecorded origin"),
            self.tenant.as_deref().unwrap_or("unknown")
        )
    }
}

fn now_rfc3339(at: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl RunEvent {
    /// A later run (`command`) appends to the journal.
    pub fn resumed(command: &str) -> Self {
        Self {
            event: RunEventKind::Resumed,
            time: now_rfc3339(std::time::SystemTime::now()),
            http_status: None,
            retry_after_ms: None,
            command: Some(command.into()),
        }
    }

    /// The tenant throttled a request (at `at`, with `status` and its `Retry-After`). Plain
    /// values, not the engine's record of it: the journal format knows nothing of the engine.
    pub fn throttled(at: std::time::SystemTime, status: u16, retry_after: Option<std::time::Duration>) -> Self {
        Self {
            event: RunEventKind::Throttled,
            time: now_rfc3339(at),
            http_status: Some(status),
            retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
            command: None,
        }
    }
}

/// How the journal `written` (its header) differs from the run `now` would write: `None`
/// when they agree. A rehearsal's in-process simulator listens on a new port every time, so
/// two rehearsals are not told apart by origin (the tenant read decides what is done).
pub fn context_mismatch(written: &JournalHeader, now: &JournalHeader) -> Option<String> {
    if written.origin.is_none() || written.simulated.is_none() {
        return Some(format!(
            "it was written by oathbulk {} without the backend, origin and tenant of its run, so it cannot be \
             told apart from a rehearsal or another tenant's journal",
            written.version
        ));
    }
    let mut diffs = Vec::new();
    if !written.backend.eq_ignore_ascii_case(&now.backend) {
        diffs.push(format!("backend {} there, {} here", written.backend, now.backend));
    }
    let both_rehearsals = written.simulated == Some(true) && now.simulated == Some(true);
    if written.simulated != now.simulated {
        let kind = |h: &JournalHeader| if h.simulated == Some(true) { "a --simulate rehearsal" } else { "a real run" };
        diffs.push(format!("{} there, {} here", kind(written), kind(now)));
    }
    if !both_rehearsals {
        if written.origin != now.origin {
            diffs.push(format!(
                "origin {} there, {} here",
                written.origin.as_deref().unwrap_or("?"),
                now.origin.as_deref().unwrap_or("?")
            ));
        }
        // Compared when both know it: a token that names no tenant (not a JWT) says nothing
        // either way; the origin and backend still match and the inventory read decides skips.
        let fold = |t: &Option<String>| t.as_deref().map(str::to_lowercase);
        let (a, b) = (fold(&written.tenant), fold(&now.tenant));
        if a.is_some() && b.is_some() && a != b {
            diffs.push(format!(
                "tenant {} there, {} here",
                written.tenant.as_deref().unwrap_or("unknown"),
                now.tenant.as_deref().unwrap_or("unknown")
            ));
        }
    }
    (!diffs.is_empty())
        .then(|| format!("it records {}, and this is {}: {}", written.describe(), now.describe(), diffs.join("; ")))
}

/// `--resume` trusts a journal only when it was written for the run it resumes: same
/// backend, origin, tenant, and rehearsal or not. A journal too old to say is refused.
pub fn check_resumable(path: &Path, now: &JournalHeader) -> Result<()> {
    let file = match open_file(path, Access::Read) {
        Ok(f) => f?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(open_error(path, e)),
    };
    if file.metadata()?.len() == 0 {
        return Ok(());
    }
    let written = read_header(&file, path)?;
    match context_mismatch(&written, now) {
        None => Ok(()),
        Some(why) => bail!(
            "journal {} cannot be resumed here: {why}. Its rows were not done by this run's tenant; start a new \
             journal (another --journal FILE, without --resume)",
            path.display()
        ),
    }
}

/// A journal open for appending.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// The header already in the file (`None`: the file was empty; `begin` writes one).
    existing: Option<JournalHeader>,
}

/// What a journal is opened for: to read it (beside a run that holds it, `--resume`), or to
/// hold it, one holder at a time: a run appending to it, or `undo` reading a finished one.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    Read,
    Hold,
    Append,
}

/// Open without following a symlink in the last component (unix: `O_NOFOLLOW`), and
/// without waiting for a writer (`O_NONBLOCK`: a FIFO named as a journal is refused by
/// [`open_file`], never blocks; on a regular file the flag changes nothing). A new journal
/// is readable and writable by its owner only.
///
/// Windows: a holder shares the file for reading only, so a second holder's open fails with
/// a sharing violation ([`open_error`]), while readers — this run's own `--resume` read among
/// them — still open it. A byte-range lock ([`lock`] elsewhere) is mandatory there: it would
/// refuse this process's own second handle too, and `--resume` and `undo` read the journal
/// they hold through one.
fn open_options(access: Access) -> OpenOptions {
    let mut o = OpenOptions::new();
    o.read(true);
    if access == Access::Append {
        o.create(true).append(true);
    }
    #[cfg(windows)]
    if access != Access::Read {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_SHARE_READ: u32 = 0x1;
        o.share_mode(FILE_SHARE_READ);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        o.mode(0o600);
    }
    o
}

/// Open a journal and refuse what must not be trusted as one: anything but a regular file
/// (a FIFO would swallow every line, a device would never end), and, on unix, a file other
/// users may write (anyone could add lines that `undo` acts on; like ssh's key files) or
/// that belongs to another user.
fn open_file(path: &Path, access: Access) -> std::io::Result<Result<File>> {
    let file = open_options(access).open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Ok(Err(anyhow::anyhow!(
            "journal {} is not a regular file (a FIFO, a device or a directory); give a file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Ok(Err(anyhow::anyhow!(
                "journal {p} is writable by other users (permissions {mode:04o}): anyone could add lines that \
                 --resume would skip or undo would act on; like ssh, oathbulk refuses it: run `chmod go-w {p}`",
                p = path.display()
            )));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && meta.uid() != 0 {
            return Ok(Err(anyhow::anyhow!(
                "journal {} belongs to another user (uid {}); oathbulk trusts only its own user's journals",
                path.display(),
                meta.uid()
            )));
        }
    }
    Ok(Ok(file))
}

fn open_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    // ELOOP is what O_NOFOLLOW gives for a symlink.
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return anyhow::anyhow!("journal {} is a symbolic link; refusing to follow it", path.display());
    }
    // ERROR_SHARING_VIOLATION: another holder has it open ([`open_options`]).
    #[cfg(windows)]
    if e.raw_os_error() == Some(32) {
        return in_use(path);
    }
    anyhow::Error::new(e).context(format!("cannot open journal {}", path.display()))
}

fn in_use(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "journal {} is in use by another oathbulk run (or another program has it open); wait for it to finish",
        path.display()
    )
}

/// Windows: the share mode of [`open_options`] is the lock.
#[cfg(windows)]
fn lock(_file: &File, _path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(not(windows))]
fn lock(file: &File, path: &Path) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(in_use(path)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock journal {}", path.display()))
        }
    }
}

impl Journal {
    /// Open for appending under an exclusive lock. A new (or empty) file gets `header`; an
    /// existing one must already start with a header (a resumed run keeps its own).
    pub fn open(path: &Path, header: &JournalHeader) -> Result<Self> {
        let mut journal = Self::open_locked(path)?;
        journal.begin(header)?;
        Ok(journal)
    }

    /// Open and lock before any request, writing nothing yet: the header names the tenant,
    /// known only once signed in ([`Journal::begin`]).
    pub fn open_locked(path: &Path) -> Result<Self> {
        let file = open_file(path, Access::Append).map_err(|e| open_error(path, e))??;
        lock(&file, path)?;
        let mut journal = Self { file, path: path.to_path_buf(), existing: None };
        let len = journal.file.metadata()?.len();
        if len > 0 {
            journal.existing = Some(read_header(&journal.file, path)?);
            journal.heal_torn_tail(len)?;
        }
        Ok(journal)
    }

    /// Start writing: a new file gets `header`; an existing one keeps its own, and one that
    /// records another run's context (another tenant, origin, backend, or a rehearsal) is
    /// refused — one journal, one tenant, or `undo` would act on the wrong one's lines.
    pub fn begin(&mut self, header: &JournalHeader) -> Result<()> {
        let resumed = self.existing.is_some();
        self.check_context(header)?;
        // A later run marks where it starts: `report` tells a resumed run's parts apart.
        // Not fatal here: a journal that cannot take this line cannot take the run's first
        // intent either, which stops the run as `journal` before anything is sent.
        if resumed {
            let _ = self.append(&Record::RunEvent(RunEvent::resumed(&header.command)));
        }
        Ok(())
    }

    fn check_context(&mut self, header: &JournalHeader) -> Result<()> {
        match &self.existing {
            None => {
                self.append(&Record::JournalHeader(header.clone()))?;
                self.existing = Some(header.clone());
                Ok(())
            }
            // A journal from before the context was recorded is appended to as before
            // (`--resume` refuses to trust it: `check_resumable`).
            Some(old) if old.origin.is_none() => Ok(()),
            Some(old) => match context_mismatch(old, header) {
                None => Ok(()),
                Some(why) => bail!(
                    "journal {} belongs to another run: {why}; give this run its own --journal FILE",
                    self.path.display()
                ),
            },
        }
    }

    /// A kill mid-write can leave a last line without its newline; start the next record
    /// on a fresh line so both stay readable.
    fn heal_torn_tail(&mut self, len: u64) -> Result<()> {
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

    /// Append one record and push it to the OS before anyone hears of it. Redacted and
    /// escaped like every other line the tool writes.
    pub fn append<R: Clone + Into<Record>>(&mut self, record: &R) -> Result<()> {
        let mut line = crate::jsonl::json_line(&record.clone().into())?;
        line.push(b'\n');
        self.file.write_all(&line).with_context(|| format!("cannot write journal {}", self.path.display()))?;
        self.file.flush()?;
        Ok(())
    }
}

/// Hold an existing journal's lock without writing to it (`undo` reads a finished run's
/// journal, `--dry-run` or not: the run must be over, and the file stays as it was).
pub fn lock_existing(path: &Path) -> Result<File> {
    let file = open_file(path, Access::Hold).map_err(|e| open_error(path, e))??;
    lock(&file, path)?;
    read_header(&file, path)?;
    Ok(file)
}

pub(crate) fn not_a_journal(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} is not an oathbulk journal: it does not start with a journal_header line (journals written \
         by this version start with one)",
        path.display()
    )
}

/// The header on the first line, or the refusal.
fn read_header(file: &File, path: &Path) -> Result<JournalHeader> {
    let mut first = Vec::new();
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    // A header is short; a file whose first line is not is not a journal.
    reader.by_ref().take(64 * 1024).read_until(b'\n', &mut first)?;
    match serde_json::from_slice::<Record>(&first) {
        Ok(Record::JournalHeader(h)) if h.tool == TOOL => Ok(h),
        _ => Err(not_a_journal(path)),
    }
}

/// What a journal holds.
#[derive(Debug, Default)]
pub struct Contents {
    /// `None` only for a missing file (nothing was journaled yet).
    pub header: Option<JournalHeader>,
    /// Every readable record after the header, with its 1-based line.
    pub records: Vec<(u64, Record)>,
    /// Lines that did not parse (torn writes, lines cut inside a UTF-8 character).
    pub torn: Vec<u64>,
}

impl Contents {
    /// The warning for torn lines, naming the file and the lines.
    pub fn torn_warning(&self, path: &Path, consequence: &str) -> Option<String> {
        (!self.torn.is_empty()).then(|| {
            format!(
                "journal {} lines {:?} are unreadable (a torn write?) and were skipped; {consequence}",
                path.display(),
                self.torn
            )
        })
    }
}

/// Read a journal. A missing file is empty; a file without a header is refused.
pub fn read(path: &Path) -> Result<Contents> {
    let file = match open_file(path, Access::Read) {
        Ok(f) => f?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
        Err(e) => return Err(open_error(path, e)),
    };
    parse(BufReader::new(file), path)
}

/// Read a journal's lines from `reader` (`path` only names it in messages, which never
/// quote a line: a forged or foreign file may hold anything, a token included).
pub fn parse(mut reader: impl BufRead, path: &Path) -> Result<Contents> {
    let mut contents = Contents::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).with_context(|| format!("cannot read journal {}", path.display()))? == 0
        {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // Bytes, not `lines()`: a line cut inside a UTF-8 character is one torn line, not
        // an I/O error that ends the read.
        let parsed = serde_json::from_slice::<Record>(&line);
        match (parsed, &contents.header) {
            (Ok(Record::JournalHeader(h)), None) if h.tool == TOOL => contents.header = Some(h),
            (_, None) => return Err(not_a_journal(path)),
            (Ok(r), Some(_)) => contents.records.push((number, r)),
            (Err(_), Some(_)) => contents.torn.push(number),
        }
    }
    if number > 0 && contents.header.is_none() {
        return Err(not_a_journal(path));
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Warning;

    #[derive(Debug)]
    enum Backend {
        Graph,
    }

    fn header() -> JournalHeader {
        JournalHeader::new("activate", Backend::Graph, Some("contoso".into()))
    }

    #[test]
    fn a_new_journal_starts_with_its_header_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path, &header()).unwrap();
        j.append(&Record::Warning(Warning { code: "x".into(), message: "m".into() })).unwrap();
        drop(j);
        let c = read(&path).unwrap();
        let h = c.header.unwrap();
        assert_eq!((h.tool.as_str(), h.command.as_str(), h.backend.as_str()), ("oathbulk", "activate", "graph"));
        assert_eq!(c.records.len(), 1);
        assert_eq!(c.records[0].0, 2);
        // Reopening keeps the first header: one header per file.
        drop(Journal::open(&path, &header()).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap().matches("journal_header").count(), 1);
    }

    #[test]
    fn a_journal_is_trusted_only_in_its_own_context() {
        let at = |origin: &str, sim: bool, tenant: Option<&str>| {
            JournalHeader::new("activate", Backend::Graph, tenant.map(str::to_string)).at(origin, sim)
        };
        let real = at("https://graph.microsoft.com:443", false, Some("tid-a"));
        assert_eq!(context_mismatch(&real, &real.clone()), None);
        // Two rehearsals: each in-process simulator has its own port.
        assert_eq!(
            context_mismatch(&at("http://127.0.0.1:1", true, None), &at("http://127.0.0.1:2", true, None)),
            None
        );
        // A tenant named on one side only says nothing either way.
        assert_eq!(context_mismatch(&at("https://graph.microsoft.com:443", false, None), &real), None);
        let why = context_mismatch(&at("http://127.0.0.1:1", true, None), &real).unwrap();
        assert!(why.contains("rehearsal") && why.contains("origin"), "{why}");
        let why = context_mismatch(&at("https://graph.microsoft.com:443", false, Some("tid-b")), &real).unwrap();
        assert!(why.contains("tenant tid-b there, tid-a here"), "{why}");
        // Too old to say: refused.
        assert!(context_mismatch(&header(), &real).unwrap().contains("without the backend, origin and tenant"));
    }

    #[test]
    fn a_file_without_a_header_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passwd");
        std::fs::write(&path, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
        for err in [read(&path).err(), Journal::open(&path, &header()).err(), lock_existing(&path).err()] {
            assert!(err.unwrap().to_string().contains("not an oathbulk journal"));
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "root:x:0:0:root:/root:/bin/bash\n");
    }

    #[test]
    fn a_line_cut_inside_a_utf8_character_is_torn_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        drop(Journal::open(&path, &header()).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"type\":\"warning\",\"code\":\"x\",\"message\":\"caf\xC3");
        bytes.extend_from_slice(b"\n{\"type\":\"warning\",\"code\":\"y\",\"message\":\"ok\"}\n");
        std::fs::write(&path, bytes).unwrap();
        let c = read(&path).unwrap();
        assert_eq!(c.torn, vec![2]);
        assert_eq!(c.records.len(), 1);
        assert!(c.torn_warning(&path, "x").unwrap().contains("j.jsonl lines [2]"));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_journal_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep\n").unwrap();
        let link = dir.path().join("j.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = Journal::open(&link, &header()).err().unwrap();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
    }
}
