//! `oathbulk deactivate | unassign | remove`: one token (`--serial`) or every row of a CSV.

use super::connect::{self, AnyBackend};
use crate::cli::change::ChangeArgs;
use crate::diag::Diag;
use crate::human::NextStep;
use crate::inventory::{ReadOptions, SecretFormat};
use crate::lifecycle::{self, change, journal::Journal};
use crate::output::Output;
use crate::pipeline;
use crate::record::{ChangeOperation, Fatal};
use crate::sink::Sink;
use crate::stop::ExitCode;
use anyhow::Result;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

pub fn run(op: ChangeOperation, args: ChangeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let diag = Diag::new(args.run.progress);
    let format = args.run.output.format;
    let command = change::op_label(op);
    match prepare_and_run(op, args, &diag, started) {
        Ok(code) => Ok(code),
        Err(e) => Ok(super::fatal_summary(command, e, &diag, format, started)),
    }
}

fn prepare_and_run(op: ChangeOperation, args: ChangeArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    let options = args.run.options(args.connect.tenant.backend)?;
    let mut targets = Vec::new();
    let mut row_errors = Vec::new();
    match (&args.csv, &args.serial) {
        (Some(csv), _) => {
            let read = ReadOptions {
                secret_format: SecretFormat::Base32,
                require_secret: false,
                upn_column_optional: true,
                any_holder: args.any_holder,
                ..Default::default()
            };
            for r in pipeline::open(csv, read, &args.script.options(false))? {
                match r {
                    // A row without a user (the file has no upn column) is `--serial` alone.
                    Ok(row) => targets.push(change::Target {
                        serial: row.serial,
                        upn: Some(row.upn).filter(|u| !u.is_empty()),
                        line: Some(row.line),
                    }),
                    Err(e) => row_errors.push(e),
                }
            }
            // A user name under a column the tool does not know, past the lines judged at
            // open: the file is refused as a whole, before any token is touched.
            if let Some(e) = row_errors.iter().find(|e| e.code == crate::inventory::USER_IN_UNKNOWN_COLUMN) {
                anyhow::bail!("line {}: {}", e.line, e.message);
            }
        }
        (None, Some(serial)) => {
            if let Some(upn) = &args.upn {
                if crate::text::hidden_char(upn).is_some() || !crate::inventory::is_upn(upn) {
                    anyhow::bail!(
                        "--upn '{}' is not a user@domain address (or holds an invisible character)",
                        crate::text::escape_all_controls(upn)
                    );
                }
            }
            targets.push(change::Target { serial: serial.trim().to_string(), upn: args.upn.clone(), line: None })
        }
        (None, None) => anyhow::bail!("give a CSV or --serial"),
    }
    // Lock the journal before any request; its header is written once signed in.
    let mut journal = match (&args.run.journal, args.run.dry_run) {
        (Some(path), false) => Some(Journal::open_locked(path)?),
        _ => None,
    };
    let rt = connect::runtime()?;
    rt.block_on(async move {
        let engine = options.engine.start();
        let conn = connect::connect(&args.connect, diag, None, Some(&engine)).await?;
        let header = conn.journal_header(change::op_label(op), &args.connect).await;
        let done = match (&args.run.journal, args.run.resume) {
            (Some(path), true) => {
                crate::journal::check_resumable(path, &header)?;
                change::read_done(path, op)?
            }
            _ => HashSet::new(),
        };
        if let Some(j) = journal.as_mut() {
            j.begin(&header)?;
        }
        let journal_path = args.run.journal.as_deref().filter(|_| !args.run.dry_run);
        let stdout = Output::stdout(args.run.output.format, true).with_next_step(NextStep::writes(journal_path, None));
        let mut out = Sink::new(stdout, diag.clone(), change::op_label(op), started).with_journal(journal);
        for e in row_errors {
            out.row_error(e)?;
        }
        let plan = async |shared: &Arc<lifecycle::Ctx<AnyBackend>>, out: &mut Sink| {
            change::run(shared, op, targets, &done, options.dry_run, out).await
        };
        let code = lifecycle_run(&conn, engine, options.dry_run, out, plan).await?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok(code)
    })
}

/// A lifecycle command's run (`deactivate`, `unassign`, `remove`, `undo`): the planners'
/// context, Ctrl-C watched while `plan` runs, then the summary and its exit code.
pub(super) async fn lifecycle_run(
    conn: &connect::Connection,
    engine: Arc<crate::engine::Engine>,
    dry_run: bool,
    mut out: Sink,
    plan: impl AsyncFnOnce(&Arc<lifecycle::Ctx<AnyBackend>>, &mut Sink) -> Result<Option<Fatal>>,
) -> Result<ExitCode> {
    let shared = lifecycle::shared(conn.backend.clone(), engine, conn.clock.clone());
    let interrupt = lifecycle::on_interrupt(&shared);
    let fatal = plan(&shared, &mut out).await?;
    interrupt.abort();
    let summary = out.finish(&shared, dry_run, fatal)?;
    Ok(super::ended(&summary))
}
