//! Entry points for `cargo fuzz` (fuzz/) and for replaying its corpus on stable
//! (tests/fuzz_corpus.rs): a journal's bytes read as `--resume` and `undo` read them, each
//! checking what must hold for any file, forged or torn.
//! They live here, above the journal and its readers (`activate`, `lifecycle`), so the
//! journal itself knows nothing of what reads it.

use super::undo;
use crate::journal::{context_mismatch, parse, Contents, TOOL};
use crate::record::JournalHeader;
use crate::record::{ActivationStatus, ChangeOperation, ChangeStatus, Record};
use std::path::{Path, PathBuf};

/// Read arbitrary bytes as a journal, in memory and from a file through every reader
/// (`activate --resume`, `import --resume`, `deactivate`/`unassign`/`remove --resume`,
/// `undo`): no panic; a refusal never quotes the file; every line is accounted for; a
/// change line without a device id never lets `undo` write.
pub fn read_journal(data: &[u8]) {
    let parsed = parse(data, Path::new("fuzz.jsonl"));
    check_contents(data, &parsed);
    let path = scratch_file(data);
    let read = crate::journal::read(&path);
    assert_eq!(read.as_ref().ok().map(shape), parsed.as_ref().ok().map(shape), "file and memory agree");
    as_resume_reads_it(&path, parsed.as_ref().ok());
    as_undo_reads_it(&path, parsed.as_ref().ok());
    let _ = std::fs::remove_file(&path);
}

fn shape(c: &Contents) -> (bool, Vec<u64>, Vec<u64>) {
    (c.header.is_some(), c.records.iter().map(|(n, _)| *n).collect(), c.torn.clone())
}

fn check_contents(data: &[u8], parsed: &anyhow::Result<Contents>) {
    let lines: Vec<&[u8]> = data.split_inclusive(|b| *b == b'\n').collect();
    let blank = |l: &[u8]| l.iter().all(u8::is_ascii_whitespace);
    match parsed {
        // The one refusal, word for word: nothing of the file is quoted.
        Err(e) => assert_eq!(e.to_string(), crate::journal::not_a_journal(Path::new("fuzz.jsonl")).to_string()),
        Ok(c) => {
            let numbers: Vec<u64> = c.records.iter().map(|(n, _)| *n).chain(c.torn.iter().copied()).collect::<Vec<_>>();
            let filled = lines.iter().filter(|l| !blank(l)).count();
            assert_eq!(filled, usize::from(c.header.is_some()) + numbers.len(), "every line accounted for");
            assert!(c.header.as_ref().is_none_or(|h| h.tool == TOOL));
            for n in numbers {
                let line = lines[n as usize - 1];
                assert!(n >= 2 && !blank(line), "line {n}");
            }
            assert!(c.records.windows(2).all(|w| w[0].0 < w[1].0) && c.torn.windows(2).all(|w| w[0] < w[1]));
        }
    }
}

/// A scratch file for this process, owner-only as a run creates its journal.
fn scratch_file(data: &[u8]) -> PathBuf {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("oathbulk-fuzz-journal-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(&path).and_then(|mut f| f.write_all(data)).expect("scratch journal");
    path
}

fn as_resume_reads_it(path: &Path, parsed: Option<&Contents>) {
    let settled = crate::activate::journal::read_settled(path);
    assert_eq!(settled.is_ok(), parsed.is_some());
    if let (Ok(s), Some(c)) = (settled, parsed) {
        assert_eq!(s.unreadable_lines, c.torn);
        for ((serial, upn), a) in &s.by_row {
            assert!(matches!(a.status, ActivationStatus::Activated | ActivationStatus::AlreadyActive));
            assert_eq!((serial, upn), (&crate::inventory::serial_key(&a.serial), &a.upn.to_lowercase()));
        }
    }
    for op in [ChangeOperation::Deactivate, ChangeOperation::Unassign, ChangeOperation::Remove] {
        if let (Ok(done), Some(c)) = (crate::lifecycle::change::read_done(path, op), parsed) {
            let journaled = |s: &String| {
                c.records.iter().any(|(_, r)| {
                    matches!(r, Record::Change(x)
                    if x.operation == op && x.status == ChangeStatus::Done && x.serial.to_lowercase() == *s)
                })
            };
            assert!(done.iter().all(journaled), "a serial done only by a done line");
        }
    }
    // `import --resume` checks the header first: only a journal of this very context.
    let now = JournalHeader::new("import", crate::backend::BackendKind::Graph, Some("tid".into()))
        .at("https://graph.microsoft.com:443", false);
    if let Ok(settled) = crate::lifecycle::import::read_settled(path, &now) {
        if let Some(h) = parsed.and_then(|c| c.header.as_ref()) {
            assert_eq!(context_mismatch(h, &now), None, "resumed a journal of another context");
        } else {
            assert!(settled.is_empty());
        }
    }
}

fn as_undo_reads_it(path: &Path, parsed: Option<&Contents>) {
    assert_eq!(undo::read_progress(path).is_ok(), parsed.is_some());
    let Some(c) = parsed else { return };
    for e in undo::effects(&c.records) {
        for (_, line) in e.steps() {
            if !e.identified(line) {
                continue;
            }
            // A step that may write reverts a line that names its device itself.
            let id = c.records.iter().find(|(n, _)| *n == line).and_then(|(_, r)| match r {
                Record::Activation(a) => a.device_id.clone(),
                Record::Import(i) => i.device_id.clone(),
                // Undo reverts lifecycle changes too (an unassign, a deactivate).
                Record::Change(c) => c.device_id.clone(),
                _ => None,
            });
            assert!(id.is_some_and(|id| !id.trim().is_empty()), "line {line} lets undo write without a device id");
        }
    }
}
