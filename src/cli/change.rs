//! `oathbulk deactivate | unassign | remove`: one token (`--serial`) or every row of a CSV.

use super::connect::{self, AuthArgs, BackendKind, TenantArgs};
use super::ScriptArgs;
use crate::backend::Backend;
use crate::diag::{Diag, ProgressMode};
use crate::human::NextStep;
use crate::inventory::{ReadOptions, SecretFormat};
use crate::lifecycle::{self, change, journal::Journal, Options};
use crate::output::{Format, Output};
use crate::pipeline;
use crate::record::ChangeOperation;
use crate::sink::Sink;
use anyhow::Result;
use clap::Args;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// CSV naming the tokens (`serial number`; `upn`: the user each must belong to). A file
    /// without a `upn` column names each token by serial alone: whoever holds it, as --serial.
    #[arg(value_name = "CSV", required_unless_present = "serial", conflicts_with = "serial")]
    pub csv: Option<String>,
    /// One token by serial number instead of a CSV.
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// With --serial: the user the token must belong to (default: whoever holds it).
    #[arg(long, value_name = "UPN", requires = "serial")]
    pub upn: Option<String>,
    /// With a CSV without a `upn` column: act on each serial whoever holds it even though a
    /// column looks like it names users (`Assigned To`, `Email`, a cell holding a user name).
    /// Without it such a file is refused.
    #[arg(long, requires = "csv")]
    pub any_holder: bool,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub run: ChangeRunArgs,
}

/// Options of every lifecycle command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Run")]
pub struct ChangeRunArgs {
    /// Read the tenant and report what would be done (`would_do`); send no write.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub pace: super::PaceArgs,
    /// Append every final `change` record here (and an `in_flight` line before each write).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Skip tokens the journal already records as done.
    #[arg(long, requires = "journal")]
    pub resume: bool,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
    /// `auto` (default): a table when stdout is a terminal, JSON lines when it is a pipe or a
    /// file; `json` or `table` forces either.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    // No `--error-log` yet: the sink logs `failed`/`refused` changes the way it logs failed
    // activations (`Sink::with_error_log`), but the flag is more than this group (undo builds
    // its own, the PowerShell module maps each flag, the docs list them) and `change_one`
    // would hand the sink its `FailureDetail`. Add all of that together.
}

impl ChangeRunArgs {
    pub fn options(&self, backend: BackendKind) -> Result<Options> {
        Ok(Options { dry_run: self.dry_run, engine: self.pace.engine_config(backend)? })
    }
}

pub fn run(op: ChangeOperation, args: ChangeArgs) -> Result<i32> {
    let started = Instant::now();
    let diag = Diag::new(args.run.progress);
    let format = args.run.format;
    let command = change::op_label(op);
    match prepare_and_run(op, args, &diag, started) {
        Ok(code) => Ok(code),
        Err(e) => Ok(super::fatal_summary(command, e, &diag, format, started)),
    }
}

fn prepare_and_run(op: ChangeOperation, args: ChangeArgs, diag: &Diag, started: Instant) -> Result<i32> {
    let options = args.run.options(args.tenant.backend)?;
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
        let conn = connect::connect(&args.tenant, &args.auth, diag, None, Some(&engine)).await?;
        let header = conn.journal_header(change::op_label(op), args.tenant.backend, &args.auth).await;
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
        let stdout = Output::stdout(args.run.format, true).with_next_step(NextStep::writes(journal_path, None));
        let mut out = Sink::new(stdout, diag.clone(), change::op_label(op), started).with_journal(journal);
        for e in row_errors {
            out.row_error(e)?;
        }
        let code = go(conn.backend.clone(), engine, &conn, op, targets, &done, &options, out).await?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok(code)
    })
}

#[allow(clippy::too_many_arguments)]
async fn go<B: Backend>(
    backend: Arc<B>,
    engine: Arc<crate::engine::Engine>,
    conn: &connect::Connection,
    op: ChangeOperation,
    targets: Vec<change::Target>,
    done: &HashSet<String>,
    options: &Options,
    mut out: Sink,
) -> Result<i32> {
    let shared = lifecycle::shared(backend, engine, conn.clock.clone());
    let interrupt = lifecycle::on_interrupt(&shared);
    let fatal = change::run(&shared, op, targets, done, options.dry_run, &mut out).await?;
    interrupt.abort();
    let summary = out.finish(&shared, options.dry_run, fatal)?;
    Ok(summary.exit_code)
}
