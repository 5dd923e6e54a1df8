//! `oathbulk undo --journal run.jsonl`: revert what a run did (see `lifecycle::undo`).

use super::connect::{self, AnyBackend};
use crate::cli::undo::UndoArgs;
use crate::diag::Diag;
use crate::human::NextStep;
use crate::inventory::{ReadOptions, SecretFormat};
use crate::lifecycle::{self, journal, undo};
use crate::output::Output;
use crate::pipeline;
use crate::script::ScriptOptions;
use crate::sink::Sink;
use crate::stop::ExitCode;
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub fn run(args: UndoArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let diag = Diag::new(args.progress);
    let format = args.output.format;
    match prepare_and_run(args, &diag, started) {
        Ok(code) => Ok(code),
        Err(e) => Ok(super::fatal_summary("undo", e, &diag, format, started)),
    }
}

fn prepare_and_run(args: UndoArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    if !args.journal.exists() {
        anyhow::bail!("journal {} does not exist", args.journal.display());
    }
    // Newest first, one at a time: an undo step may depend on the one before it.
    let pace = crate::cli::PaceArgs { parallel: 1, ..args.pace.clone() };
    let options =
        lifecycle::Options { dry_run: args.dry_run, engine: pace.engine_config(args.connect.tenant.backend)? };
    // The run must be over: hold its journal's lock for the whole undo.
    let run_lock = crate::journal::lock_existing(&args.journal)?;
    let contents = crate::journal::read(&args.journal)?;
    if let Some(w) = contents.torn_warning(&args.journal, "what they recorded is not undone") {
        diag.warn("journal_unreadable_lines", &w);
    }
    // Undoing an undo would redo the run, from a file that was never meant to be replayed
    // (`Get-ChildItem *.jsonl | Undo-OathBulkRun` picks undo journals up too).
    if contents.header.as_ref().is_some_and(|h| h.command == "undo") {
        anyhow::bail!(
            "journal {} is an undo's own journal (it records what an undo reverted); give the run's journal, not this one",
            args.journal.display()
        );
    }
    let records = contents.records.clone();
    let seeds = match &args.csv {
        Some(csv) => read_seeds(csv, diag)?,
        None => undo::Seeds::new(),
    };
    let undo_path = args.undo_journal.clone().unwrap_or_else(|| {
        let mut p = args.journal.clone().into_os_string();
        p.push(".undo.jsonl");
        PathBuf::from(p)
    });
    let progress = undo::read_progress(&undo_path)?;
    let mut own = if args.dry_run { None } else { Some(journal::Journal::open_locked(&undo_path)?) };
    let rt = connect::runtime()?;
    let code = rt.block_on(async move {
        let engine = options.engine.start();
        let conn = connect::connect(&args.connect, diag, None, Some(&engine)).await?;
        let header = conn.journal_header("undo", &args.connect).await;
        // Undo acts on the tenant the run acted on: a rehearsal's journal, or another
        // tenant's, names devices this tenant never saw (or another token's ids).
        if let Some(written) = contents.header.as_ref().filter(|h| h.origin.is_some()) {
            if let Some(why) = crate::journal::context_mismatch(written, &header) {
                anyhow::bail!("journal {} is not this tenant's to undo: {why}", args.journal.display());
            }
        }
        if let Some(j) = own.as_mut() {
            j.begin(&header)?;
        }
        // An undo resumes from its own journal (done steps are skipped): the same command again.
        let rerun = Some("re-run the same undo".into());
        let stdout = Output::stdout(args.output.format, true).with_next_step(NextStep { error_log: None, rerun });
        let out = Sink::new(stdout, diag.clone(), "undo", started).with_journal(own);
        let plan = async |shared: &Arc<lifecycle::Ctx<AnyBackend>>, out: &mut Sink| {
            undo::run(shared, &records, &progress, &seeds, options.dry_run, out).await
        };
        let code = super::change::lifecycle_run(&conn, engine, options.dry_run, out, plan).await?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        anyhow::Ok(code)
    })?;
    drop(run_lock);
    Ok(code)
}

/// `--csv`: the seeds, by lower-case serial. A row that cannot be read is one warning (its
/// line, never its cells); its token's re-activation is then refused (`needs_seed`).
fn read_seeds(csv: &str, diag: &Diag) -> Result<undo::Seeds> {
    let read = ReadOptions {
        secret_format: SecretFormat::Base32,
        require_secret: true,
        redact_seeds: true,
        upn_column_optional: true,
        any_holder: true,
        ..Default::default()
    };
    let mut seeds = undo::Seeds::new();
    for r in pipeline::open(csv, read, &ScriptOptions::default())? {
        match r {
            Ok(row) => {
                seeds.insert(row.serial.to_lowercase(), row);
            }
            Err(e) => diag.warn("seed_row_unreadable", &format!("--csv line {}: {}", e.line, e.message)),
        }
    }
    Ok(seeds)
}
