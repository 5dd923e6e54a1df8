//! The shared row source for every row command: seed file (CSV, PSKC, password ZIP:
//! `crate::vendor`) → rhai (filter, map, key) → order.
//! `list`, `otp`, `check` and `activate` all read rows through here, so a `--where`
//! means the same thing everywhere.

use crate::inventory::{ReadOptions, Row};
use crate::record::RowErrorRecord;
use crate::script::{RowScript, ScriptOptions, SortKey};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The rows of a CSV after selection. Counts the rows `--lines`, a script's `filter` or
/// `--where` left out, so the summary can say so (a filter that matches nothing is no
/// silent success).
pub struct Rows {
    inner: Box<dyn Iterator<Item = RowResult>>,
    filtered: Arc<AtomicU64>,
}

/// A handle on the number of rows left out; read it after the rows are consumed.
#[derive(Clone)]
pub struct FilteredCount(Arc<AtomicU64>);

impl FilteredCount {
    /// `None` when nothing was left out (the summary omits the field).
    pub fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|n| *n > 0)
    }
}

impl Rows {
    pub fn filtered(&self) -> FilteredCount {
        FilteredCount(self.filtered.clone())
    }
}

impl Iterator for Rows {
    type Item = RowResult;
    fn next(&mut self) -> Option<RowResult> {
        self.inner.next()
    }
}

/// `--lines FILE`: line numbers, one per line (blank lines ignored).
fn read_lines_file(file: &Path) -> Result<HashSet<u64>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read --lines file {}", file.display()))?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| {
            l.parse::<u64>()
                .with_context(|| format!("--lines file {} line {}: '{l}' is not a line number", file.display(), i + 1))
        })
        .collect()
}

/// A row, or the record saying why it cannot be used. The error is the wire record itself
/// (no conversion later), so it is large; rows are streamed one at a time, so that is fine.
#[allow(clippy::result_large_err)]
pub type RowResult = Result<Row, RowErrorRecord>;

/// Open the CSV and compile the scripts; fatal problems (missing file, bad header,
/// script syntax) come back as `Err` before any row is read.
///
/// A command that needs each token's user (`read.upn_column_optional` unset) still reads a
/// file without users (PSKC, Deepnet's CSV) when the script has `fn map(row)`, which may set
/// `row.upn`: a row that comes out of it with no user is then that row's `missing_upn` error.
#[allow(clippy::result_large_err)]
pub fn open(path: &str, read: ReadOptions, script: &ScriptOptions) -> Result<Rows> {
    let filtered = Arc::new(AtomicU64::new(0));
    let count = |c: &Arc<AtomicU64>| {
        let c = c.clone();
        move || {
            c.fetch_add(1, Ordering::Relaxed);
        }
    };
    let keep = match &script.lines_file {
        Some(file) => Some(read_lines_file(file)?),
        None => None,
    };
    let script = RowScript::compile(script)?;
    let users_by_script = !read.upn_column_optional && script.as_ref().is_some_and(RowScript::maps);
    let read = ReadOptions { upn_column_optional: read.upn_column_optional || users_by_script, ..read };
    let inventory: Box<dyn Iterator<Item = Result<Row, crate::inventory::RowError>>> = match keep {
        Some(keep) => {
            let left_out = count(&filtered);
            Box::new(crate::vendor::open(path, read)?.filter(move |r| {
                let line = match r {
                    Ok(row) => row.line,
                    Err(e) => e.line,
                };
                let kept = keep.contains(&line);
                if !kept {
                    left_out();
                }
                kept
            }))
        }
        None => crate::vendor::open(path, read)?,
    };
    let left_out = count(&filtered);
    let inner: Box<dyn Iterator<Item = RowResult>> = match script {
        None => Box::new(inventory.map(|r| r.map_err(RowErrorRecord::from))),
        Some(script) if !script.orders() => Box::new(inventory.filter_map(move |r| match r {
            Err(e) => Some(Err(e.into())),
            Ok(row) => match script.apply(row) {
                Ok(Some((row, _))) => Some(named(row, users_by_script)),
                Ok(None) => {
                    left_out();
                    None
                }
                Err(e) => Some(Err(e.into())),
            },
        })),
        Some(script) => {
            // --order-by needs every key before the first row can go out: this is the one
            // mode that holds the whole file in memory. Errors go out first, in file order.
            let mut errors = Vec::new();
            let mut keyed: Vec<(SortKey, Row)> = Vec::new();
            for r in inventory {
                let applied = r.map_err(RowErrorRecord::from).and_then(|row| script.apply(row).map_err(Into::into));
                if script.keys_over_budget() {
                    // Sort keys past their memory bound: that row's error, and no row at all
                    // (a sorted half of the file would pass for the whole).
                    errors.extend(applied.err().map(Err));
                    keyed.clear();
                    break;
                }
                match applied {
                    Err(e) => errors.push(Err(e)),
                    Ok(None) => left_out(),
                    Ok(Some((row, key))) => match named(row, users_by_script) {
                        Ok(row) => keyed.push((key.unwrap_or(SortKey::Unit), row)),
                        Err(e) => errors.push(Err(e)),
                    },
                }
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0)); // stable: ties keep file order
            Box::new(errors.into_iter().chain(keyed.into_iter().map(|(_, row)| Ok(row))))
        }
    };
    Ok(Rows { inner, filtered })
}

/// A row that needed its user from the script's `fn map`, and did not get one, is an error.
#[allow(clippy::result_large_err)]
fn named(row: Row, needed: bool) -> RowResult {
    if !needed || !row.upn.is_empty() {
        return Ok(row);
    }
    Err(RowErrorRecord {
        line: row.line,
        code: "missing_upn".into(),
        message: "the row names no user and the script's fn map(row) set no row.upn: this command needs the \
                  token's user"
            .into(),
        field: Some("upn".into()),
        upn: None,
        serial: Some(row.serial).filter(|s| !crate::inventory::looks_like_seed(s)),
    })
}
