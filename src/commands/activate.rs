//! `oathbulk activate`: the main job.

use super::connect::{self, AnyBackend, BackendKind};
use crate::activate::executor::TypedCode;
use crate::activate::{self, journal};
use crate::auth;
use crate::cli::activate::{ActivateArgs, RunArgs};
use crate::diag::Diag;
use crate::human::NextStep;
use crate::output::Output;
use crate::pipeline::{self, RowResult};
use crate::record::Warning;
use crate::sink::Sink;
use crate::stop::ExitCode;
use anyhow::{Context, Result};

/// The code from standard input (`--code-stdin`), after a prompt when a person types it.
/// A wrong line is refused without being repeated: it may be anything, a token included.
fn read_code() -> Result<String> {
    use std::io::{IsTerminal, Write};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // A failed prompt (closed stderr) loses the prompt, not the run.
        let _ = std::io::stderr().write_all(b"Type the six digits the token shows now: ");
    }
    let mut line = String::new();
    stdin.read_line(&mut line).context("cannot read the code from standard input")?;
    crate::cli::activate::parse_code(&line).map_err(|e| anyhow::anyhow!("--code-stdin: {e}"))
}

/// stdout, and where the closing line sends a person when rows fail (journal, error log).
fn output(format: crate::output::Format, run: &RunArgs) -> Output {
    let journal = run.journal.as_deref().filter(|_| !run.dry_run);
    Output::stdout(format, true).with_next_step(NextStep::writes(journal, run.error_log.as_deref()))
}

pub fn run(args: ActivateArgs) -> Result<ExitCode> {
    let (progress, format) = (args.run.progress, args.output.format);
    super::guarded("activate", args, progress, format, prepare_and_run)
}

fn prepare_and_run(mut args: ActivateArgs, diag: &Diag, started: std::time::Instant) -> Result<ExitCode> {
    if args.one.code_stdin {
        args.one.code = Some(read_code()?);
    }
    let engine_config = args.run.pace.engine_config(args.connect.tenant.backend)?;
    if let Some(upn) = &args.one.upn {
        if crate::text::hidden_char(upn).is_some() || !crate::inventory::is_upn(upn) {
            anyhow::bail!(
                "--upn '{}' is not a user@domain address (or holds an invisible character)",
                crate::text::escape_all_controls(upn)
            );
        }
    }
    let read = crate::inventory::ReadOptions { redact_seeds: true, ..args.input.read.options(args.one.code.is_none()) };
    let mut filtered = None;
    let mut rows: Vec<RowResult> = match &args.input.csv {
        Some(csv) => {
            let rows = pipeline::open(csv, read, &args.script.options(false))?;
            filtered = Some(rows.filtered());
            rows.collect()
        }
        None if args.one.code.is_some() => Vec::new(),
        None => anyhow::bail!("give the vendor CSV (or --serial S --code DIGITS for one token without a CSV)"),
    };
    if let Some(serial) = &args.one.serial {
        // One token: that row only (row errors elsewhere in the file are not this run's business).
        rows.retain(|r| r.as_ref().is_ok_and(|row| row.serial.eq_ignore_ascii_case(serial)));
        if rows.is_empty() && args.input.csv.is_some() && args.one.code.is_none() {
            anyhow::bail!("serial {serial} is not in {}", args.input.csv.as_deref().unwrap_or("the CSV"));
        }
        if let (Some(upn), Some(Ok(row))) = (&args.one.upn, rows.first_mut()) {
            row.upn = upn.clone();
        }
    }
    // Lock the journal before any request: two runs on one journal would both write. Its
    // header (which names the tenant) is written once signed in.
    let mut journal = match (&args.run.journal, args.run.dry_run) {
        (Some(path), false) => Some(journal::Journal::open_locked(path)?),
        _ => None,
    };
    let planning_rate = args.connect.tenant.backend.planning_rate(args.run.pace.max_rate);
    let typed = args.one.code.clone().map(|code| TypedCode { code, typed_at: std::time::SystemTime::now() });
    let options = args.run.run_options(typed);
    let writes_estimate = rows.iter().filter(|r| r.is_ok()).count() as f64;
    let rt = connect::runtime()?;
    rt.block_on(async move {
        let seed = args.connect.tenant.simulate.then(|| rows.iter().filter_map(|r| r.as_ref().ok().cloned()).collect());
        let engine = engine_config.start();
        let conn = connect::connect(&args.connect, diag, seed, Some(&engine)).await?;
        if args.one.code.is_some() && rows.is_empty() {
            // No CSV row: the tenant says what the token is and who holds it.
            let serial = args.one.serial.clone().unwrap_or_default();
            match typed_row(&conn.backend, &serial, args.one.upn.as_deref()).await {
                Ok(row) => rows.push(Ok(row)),
                Err(e) => return Err(e),
            }
        }
        let header = conn.journal_header("activate", &args.connect).await;
        let settled = match (&args.run.journal, args.run.resume) {
            (Some(path), true) => read_settled(path, &header, diag)?,
            _ => journal::Settled::default(),
        };
        if let Some(j) = journal.as_mut() {
            j.begin(&header)?;
        }
        let mut sink = Sink::new(output(args.output.format, &args.run), diag.clone(), "activate", started)
            .with_filtered(filtered.and_then(|f: pipeline::FilteredCount| f.get()))
            .with_journal(journal)
            .with_error_log(args.run.error_log.as_deref())?;
        let est_secs = writes_estimate / planning_rate;
        for w in token_warnings(&conn.tokens, args.connect.tenant.backend, est_secs).await {
            sink.warning(w)?;
        }
        let outcome = activate::run(conn.backend.clone(), engine, conn.clock, rows, settled, options, sink).await?;
        if let Some(sim) = conn.simulator {
            sim.shutdown().await;
        }
        Ok(super::ended(&outcome.summary))
    })
}

/// What the journal `--resume` names settled, once it is known to be this run's journal
/// (same backend, origin, tenant, rehearsal or not).
pub fn read_settled(
    path: &std::path::Path,
    header: &crate::record::JournalHeader,
    diag: &Diag,
) -> Result<journal::Settled> {
    crate::journal::check_resumable(path, header)?;
    let s = journal::read_settled(path)?;
    if !s.unreadable_lines.is_empty() {
        diag.warn(
            "journal_unreadable_lines",
            &format!(
                "journal lines {:?} are unreadable (a torn write?); those rows are re-checked",
                s.unreadable_lines
            ),
        );
    }
    Ok(s)
}

/// The row for `--serial S --code C` without a CSV, from the tenant's view of the token.
async fn typed_row(backend: &AnyBackend, serial: &str, upn: Option<&str>) -> Result<crate::inventory::Row> {
    use crate::backend::Backend;
    let wanted = [(serial.to_string(), upn.unwrap_or_default().to_string())];
    let found = backend.find(&wanted).await;
    let devices = found.map_err(|e| anyhow::anyhow!(crate::activate::auth_advice(&e, "tenant")))?;
    let device = devices.into_iter().find(|d| d.token.serial.eq_ignore_ascii_case(serial));
    // The record names the holder by UPN: Graph gives only an object id, so ask who it is.
    let holder = match device.as_ref() {
        Some(d) if d.owner_upn.is_some() => d.owner_upn.clone(),
        Some(d) => match d.token.assigned_to_id.as_deref() {
            Some(id) => {
                let user = backend.lookup_user(id).await;
                let user = user.map_err(|e| anyhow::anyhow!(crate::activate::auth_advice(&e, "tenant")))?;
                Some(user.map(|u| u.upn).filter(|u| !u.is_empty()).unwrap_or_else(|| id.to_string()))
            }
            None => None,
        },
        None => None,
    };
    let upn = match (upn, holder) {
        (Some(u), _) => u.to_string(),
        (None, Some(h)) => h,
        (None, None) if device.is_none() => "unknown@unknown.invalid".into(),
        (None, None) => anyhow::bail!("token {serial} is not assigned to anyone: give --upn to assign it"),
    };
    Ok(crate::inventory::Row {
        line: 0,
        upn,
        serial: device.as_ref().map(|d| d.token.serial.clone()).unwrap_or_else(|| serial.to_string()),
        secret: None,
        time_interval: device.as_ref().and_then(|d| d.token.time_interval).unwrap_or(30),
        hash: Default::default(),
        manufacturer: String::new(),
        model: String::new(),
        display_name: None,
        extra: vec![],
    })
}

/// Before starting: is the token expired, about to expire, or for the wrong API?
pub async fn token_warnings(tokens: &auth::TokenProvider, backend: BackendKind, est_secs: f64) -> Vec<Warning> {
    let mut out = Vec::new();
    let Some(claims) = tokens.claims().await else { return out };
    if let Some(left) = auth::seconds_left(&claims) {
        if left <= 0 {
            out.push(Warning {
                code: "token_expired".into(),
                message: format!(
                    "the bearer token from {} expired {} s ago; get a fresh one ({})",
                    tokens.source(),
                    -left,
                    fresh_token_hint(backend)
                ),
            });
        } else if !tokens.can_refresh() && (left as f64) < est_secs + 60.0 {
            out.push(Warning {
                code: "token_expiring".into(),
                message: format!(
                    "the bearer token expires in {left} s but the run may take about {:.0} s; rows left when it expires stop the run (re-run with --resume and a fresh token)",
                    est_secs
                ),
            });
        }
    }
    if let Some(aud) = &claims.aud {
        if !backend.accepts_audience(aud) {
            out.push(Warning {
                code: "token_audience".into(),
                message: format!("the token's audience is '{aud}', which is not the {backend:?} API's; expect 401"),
            });
        }
    }
    out
}

fn fresh_token_hint(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Graph => "`az account get-access-token --resource-type ms-graph`, or use --tenant/--client-id",
        BackendKind::Portal => "sign in to the Entra portal, open the browser's developer tools (F12) → Network, copy the Authorization header of a request to main.iam.ad.ext.azure.com into AuthKey.txt",
    }
}
