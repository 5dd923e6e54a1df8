//! `oathbulk check`: is this CSV safe to run? Row errors, plus what only the whole
//! file shows: duplicate serials, users over Entra's five tokens, weak seeds.

use crate::cli::check::CheckArgs;
use crate::inventory::{excel, RECOMMENDED_MIN_BITS};
use crate::output::Output;
use crate::pipeline;
use crate::record::{Finding, Record, Severity, Summary};
use crate::stop::ExitCode;
use anyhow::Result;
use std::time::Instant;

pub use crate::inventory::MAX_TOKENS_PER_USER;

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // A file without users (Deepnet's) is checked too: `import` creates its tokens unassigned.
    let read = crate::inventory::ReadOptions { upn_column_optional: true, ..args.rows.input.read.options(true) };
    let rows = pipeline::open(&args.rows.input.csv, read, &args.rows.script.options(false))?;
    let filtered = rows.filtered();
    let mut out = Output::stdout(args.rows.output.format, false);
    let mut summary = Summary { command: "check".into(), ..Default::default() };
    // Serials and UPNs compared by the one rule every command uses (case-insensitive).
    let mut tally = crate::inventory::rules::Tally::default();
    let mut findings = Vec::new();
    let mut bad_lines = std::collections::BTreeSet::new();
    // Rows `import` could not create as they stand (Entra requires both).
    let mut without_make = Vec::new();
    // (line, serial) of every row, for the batch's serial pattern.
    let mut serials = Vec::new();
    for row in rows {
        summary.rows += 1;
        match row {
            Err(e) => {
                bad_lines.insert(e.line);
                *summary.counts.entry(e.code.clone()).or_default() += 1;
                out.emit(&Record::RowError(e))?;
            }
            Ok(row) => {
                tally.add(&row.serial, &row.upn, row.line);
                serials.push((row.line, row.serial.clone()));
                if row.manufacturer.trim().is_empty() || row.model.trim().is_empty() {
                    without_make.push(row.line);
                }
                if let Some(secret) = &row.secret {
                    if secret.bits() < RECOMMENDED_MIN_BITS {
                        findings.push(Finding {
                            severity: Severity::Warn,
                            code: "weak_secret".into(),
                            message: format!(
                                "seed is {} bits, under the {RECOMMENDED_MIN_BITS} RFC 4226 asks for (common on hardware tokens; Entra accepts it)",
                                secret.bits()
                            ),
                            lines: vec![row.line],
                            upn: Some(row.upn.clone()),
                            serial: Some(row.serial.clone()),
                        });
                    }
                }
            }
        }
    }
    for (serial, lines) in tally.duplicate_serials() {
        findings.push(Finding {
            severity: Severity::Error,
            code: "duplicate_serial".into(),
            message: format!("serial {serial} appears on {} lines", lines.len()),
            lines: lines.to_vec(),
            upn: None,
            serial: Some(serial.to_string()),
        });
    }
    for (upn, lines) in tally.crowded_users() {
        let (upn, lines) = (upn.to_string(), lines.to_vec());
        findings.push(Finding {
            severity: Severity::Error,
            code: "too_many_tokens".into(),
            message: format!("{upn} has {} tokens; Entra allows at most {MAX_TOKENS_PER_USER} per user", lines.len()),
            lines,
            upn: Some(upn),
            serial: None,
        });
    }
    if let Some((usual, lines)) = excel::short_serials(serials.iter().map(|(l, s)| (*l, s.as_str()))) {
        findings.push(Finding {
            severity: Severity::Warn,
            code: excel::SERIAL_LENGTH.into(),
            message: format!(
                "{} serial(s) are shorter than the {usual} digits most of the batch has: leading zeros dropped by \
                 Excel? Such a serial names no token in the tenant; re-export the column as Text",
                lines.len()
            ),
            lines,
            upn: None,
            serial: None,
        });
    }
    if !without_make.is_empty() {
        findings.push(Finding {
            severity: Severity::Warn,
            code: crate::lifecycle::import::MISSING_MAKE.into(),
            message: format!(
                "{} row(s) without a manufacturer or a model: Entra requires both to create a token, so `import` \
                 refuses such rows unless --manufacturer/--model fill them (activating tokens already imported \
                 needs neither)",
                without_make.len()
            ),
            lines: without_make,
            upn: None,
            serial: None,
        });
    }
    findings.sort_by_key(|f| f.lines.first().copied().unwrap_or(0));
    for f in findings {
        *summary.counts.entry(f.code.clone()).or_default() += 1;
        if f.severity == Severity::Error {
            bad_lines.extend(f.lines.iter().copied());
        }
        out.emit(&Record::Finding(f))?;
    }
    summary.errors = bad_lines.len() as u64;
    summary.ok = summary.rows - summary.errors;
    super::finish_rows(&mut out, summary, filtered.get(), started)
}
