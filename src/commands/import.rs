//! `oathbulk import`: create the vendor file's tokens in the tenant (optionally assigned, and
//! with `--activate` activated in the same run).
//!
//! Output: one `import` record per row, then (with `--activate`) one `activation` record per
//! row whose token is in the tenant, then ONE `summary` (command `import`): import counts are
//! under `import_<status>` keys (`import_created`, `import_exists`, …), activation counts
//! under their own statuses. One sink takes both phases: the journal (`--journal`) gets the
//! settled `import` records and then the `activation` records (`undo --journal` reverts
//! both), the error log (`--error-log`) the failures of both.

use super::activate::token_warnings;
use super::connect::{self};
use crate::activate;
use crate::backend::Backend;
use crate::cli::import::ImportArgs;
use crate::diag::Diag;
use crate::lifecycle::{self, import, journal::Journal, Options};
use crate::output::Output;
use crate::pipeline::{self, RowResult};
use crate::sink::Sink;
use crate::stop::ExitCode;
use anyhow::Result;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub fn run(args: ImportArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let diag = Diag::new(args.run.progress);
    let format = args.rows.output.format;
    match prepare_and_run(args, &diag, started) {
        Ok(code) => Ok(code),
        Err(e) => Ok(super::fatal_summary("import", e, &diag, format, started)),
    }
}

fn prepare_and_run(args: ImportArgs, diag: &Diag, started: Instant) -> Result<ExitCode> {
    let engine = args.run.pace.engine_config(args.connect.tenant.backend)?;
    let rows: Vec<RowResult> = pipeline::open(
        &args.rows.input.csv,
        // A file without users (PSKC, Deepnet's CSV) imports: its tokens are created unassigned.
        crate::inventory::ReadOptions {
            redact_seeds: true,
            upn_column_optional: true,
            ..args.rows.input.read.options(true)
        },
        &args.rows.script.options(false),
    )?
    .collect();
    refuse_assigning_nobody(&rows, &args)?;
    // Lock the journal before any request; its header is written once signed in.
    let mut journal = match (&args.run.journal, args.run.dry_run) {
        (Some(path), false) => Some(Journal::open_locked(path)?),
        _ => None,
    };
    let options = Options { dry_run: args.run.dry_run, engine };
    let rt = connect::runtime()?;
    rt.block_on(async move {
        // A rehearsal tenant knows the users but none of the tokens.
        let seed = args.connect.tenant.simulate.then(|| {
            rows.iter()
                .filter_map(|r| r.as_ref().ok().cloned())
                .map(|mut r| {
                    r.extra.push((Arc::from("sim_state"), "missing".to_string()));
                    r
                })
                .collect()
        });
        let engine = options.engine.start();
        let conn = connect::connect(&args.connect, diag, seed, Some(&engine)).await?;
        let header = conn.journal_header("import", &args.connect).await;
        let (settled_import, settled_activation) = match (&args.run.journal, args.run.resume) {
            (Some(path), true) => {
                (import::read_settled(path, &header)?, super::activate::read_settled(path, &header, diag)?)
            }
            _ => (HashMap::new(), activate::journal::Settled::default()),
        };
        if let Some(j) = journal.as_mut() {
            j.begin(&header)?;
        }
        let settled = (settled_import, settled_activation);
        let code =
            go(conn.backend.clone(), engine, &args, &conn, rows, settled, journal, options, diag, started).await?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok(code)
    })
}

/// `--assign`, `--activate` and the portal (which always assigns) need the user of every
/// token: a file without users is refused before anything is sent, saying so.
fn refuse_assigning_nobody(rows: &[RowResult], args: &ImportArgs) -> Result<()> {
    let nobody: Vec<u64> =
        rows.iter().filter_map(|r| r.as_ref().ok()).filter(|r| r.upn.is_empty()).map(|r| r.line).collect();
    let Some(first) = nobody.first() else { return Ok(()) };
    let why = if args.assign {
        "--assign"
    } else if args.activate {
        "--activate"
    } else if args.connect.tenant.backend == crate::backend::BackendKind::Portal {
        "the portal backend (it assigns every token)"
    } else {
        return Ok(());
    };
    anyhow::bail!(
        "{why} needs the user of each token, and {} row(s) have none (the first on line {first}): give the users \
         with a upn column, --assign-csv FILE (serial,upn) or a --script whose fn map(row) sets row.upn, or import without --assign/--activate to create the \
         tokens unassigned",
        nobody.len()
    )
}

#[allow(clippy::too_many_arguments)]
async fn go<B: Backend>(
    backend: Arc<B>,
    engine: Arc<crate::engine::Engine>,
    args: &ImportArgs,
    conn: &connect::Connection,
    rows: Vec<RowResult>,
    (settled_import, settled_activation): (HashMap<String, Option<String>>, activate::journal::Settled),
    journal: Option<Journal>,
    options: Options,
    diag: &Diag,
    started: Instant,
) -> Result<ExitCode> {
    let shared = lifecycle::shared(backend.clone(), engine.clone(), conn.clock.clone());
    let interrupt = lifecycle::on_interrupt(&shared);
    let journal_path = args.run.journal.as_deref().filter(|_| !args.run.dry_run);
    let next = crate::human::NextStep::writes(journal_path, args.run.error_log.as_deref());
    let out = Output::stdout(args.rows.output.format, true).with_next_step(next);
    let mut sink = Sink::new(out, diag.clone(), "import", started)
        .with_journal(journal)
        .with_error_log(args.run.error_log.as_deref())?;
    let est = rows.len() as f64 / args.connect.tenant.backend.planning_rate(args.run.pace.max_rate);
    for w in token_warnings(&conn.tokens, args.connect.tenant.backend, est).await {
        sink.warning(w)?;
    }
    if !backend.capabilities().assign && !args.assign {
        diag.info("the portal backend assigns every uploaded token to its row's user");
    }
    let opts = import::ImportOptions {
        dry_run: options.dry_run,
        assign: args.assign,
        manufacturer: args.manufacturer.clone(),
        model: args.model.clone(),
    };
    let imported = import::run(&shared, rows, &settled_import, &opts, &mut sink).await?;
    interrupt.abort();
    if !args.activate || imported.fatal.is_some() || shared.engine.stopped() {
        let summary = sink.finish(&shared, options.dry_run, imported.fatal)?;
        return Ok(super::ended(&summary));
    }
    // Hand the rows to the activation engine: its records follow, its summary (carrying the
    // import's counts) is the one summary of the run.
    sink.hand_on("import_", imported.rows.len() as u64);
    let run_options = args.run.run_options(None);
    let rows: Vec<RowResult> = imported.rows.into_iter().map(Ok).collect();
    let outcome =
        activate::run(backend, engine, conn.clock.clone(), rows, settled_activation, run_options, sink).await?;
    Ok(super::ended(&outcome.summary))
}
