//! `oathbulk otp`: each row's code at an instant, streamed (memory stays flat).

use crate::cli::otp::OtpArgs;
use crate::otp;
use crate::output::Output;
use crate::pipeline::{self, RowResult};
use crate::record::{Otp, Record, Summary};
use crate::stop::ExitCode;
use anyhow::{Context, Result};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

pub fn now_unix(offset: i64) -> Result<u64> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).context("system clock before 1970")?;
    // Checked: a huge offset is out of range, not a wrap-around that says "before 1970".
    let shifted = i64::try_from(now.as_secs())
        .ok()
        .and_then(|n| n.checked_add(offset))
        .context("--clock-offset is out of range (it moves the clock past the year 292 billion)")?;
    u64::try_from(shifted).context("--clock-offset moves the clock before 1970")
}

/// Rows handed from the reading thread to the computing thread at a time.
const BATCH: usize = 1024;
/// Batches queued between the threads: bounds memory (a few MB at most) whatever the file size.
const BATCHES_QUEUED: usize = 4;

/// Two threads, so both cores work: this one reads and parses the CSV (and runs any
/// script), a second computes codes and writes records. Batches travel in file order
/// through a bounded channel, so the output order is the file's and memory stays flat.
pub fn run(args: OtpArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let reveal = args.rows.output.reveal_secrets;
    let fixed = args.at.map(|at| at.saturating_add_signed(args.clock_offset));
    let rows = pipeline::open(
        &args.rows.input.csv,
        // A file without users lists and computes as well.
        crate::inventory::ReadOptions { upn_column_optional: true, ..args.rows.input.read.options(true) },
        &args.rows.script.options(reveal),
    )?;
    let filtered = rows.filtered();
    let out = Output::stdout(args.rows.output.format, false);
    let clock_offset = args.clock_offset;

    let (to_worker, batches) = std::sync::mpsc::sync_channel::<Vec<RowResult>>(BATCHES_QUEUED);
    // Emptied batches come back for reuse: no allocation per batch in the steady state.
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<RowResult>>();
    let worker = std::thread::Builder::new()
        .name("otp".into())
        .spawn(move || compute(batches, recycle, out, fixed, clock_offset, reveal))
        .context("cannot start the compute thread")?;

    let mut batch = Vec::with_capacity(BATCH);
    for row in rows {
        batch.push(row);
        if batch.len() == BATCH {
            let next = recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
            if to_worker.send(std::mem::replace(&mut batch, next)).is_err() {
                break; // the worker stopped (broken pipe, …): its result says why
            }
        }
    }
    if !batch.is_empty() {
        let _ = to_worker.send(batch);
    }
    drop(to_worker);
    let (mut out, summary) = worker.join().map_err(|_| super::Internal("the compute thread panicked".into()))??;
    super::finish_rows(&mut out, summary, filtered.get(), started)
}

fn compute(
    batches: Receiver<Vec<RowResult>>,
    recycle: Sender<Vec<RowResult>>,
    mut out: Output,
    fixed: Option<u64>,
    clock_offset: i64,
    reveal: bool,
) -> Result<(Output, Summary)> {
    let mut summary = Summary { command: "otp".into(), ..Default::default() };
    for mut batch in batches {
        for row in batch.drain(..) {
            summary.rows += 1;
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    summary.errors += 1;
                    *summary.counts.entry(e.code.clone()).or_default() += 1;
                    out.emit(&Record::RowError(e))?;
                    continue;
                }
            };
            let secret = row.secret.as_ref().expect("require_secret guarantees a secret column");
            // Without --at, read the clock per row: a long stream must not print stale codes.
            let at = match fixed {
                Some(at) => at,
                None => now_unix(clock_offset)?,
            };
            let code = otp::code_at(secret.bytes(), row.hash, row.time_interval, at);
            summary.ok += 1;
            out.emit(&Record::Otp(Otp {
                line: row.line,
                secret: if reveal { Some(secret.to_base32()) } else { None },
                upn: row.upn,
                serial: row.serial,
                code: code.code,
                step: code.step,
                time_interval: row.time_interval,
                hash: row.hash,
                valid_for: code.valid_for,
                at,
            }))?;
        }
        let _ = recycle.send(batch);
    }
    Ok((out, summary))
}
